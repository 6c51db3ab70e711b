//! Root tests must fail loudly when they cannot run, never pass by skipping.

use crate::cmd::on_path;

/// Panic with a clear message unless this process runs as root and `ip` and `tcpdump` are installed.
/// Every root test calls this first (the `Lab` builder does it for you).
pub fn require_root() {
    if !nix::unistd::geteuid().is_root() {
        panic!(
            "netns-tests need root (network namespaces, raw sockets): run them as root, e.g. \
             `sudo -E cargo test -p netns-tests -- --test-threads=1`. Refusing to skip silently."
        );
    }
    for tool in ["ip", "tcpdump"] {
        if !on_path(tool) {
            panic!(
                "netns-tests need `{tool}` on PATH (Debian: apt-get install iproute2 tcpdump); \
                 refusing to skip silently"
            );
        }
    }
}
