//! Named network namespaces (`ip netns`): creating, listing and deleting them, and setting links up or
//! down inside one.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::command::ip;
use crate::error::Result;

/// Where `ip netns add` keeps its namespace handles (open one to `setns` into the namespace).
pub const NETNS_DIR: &str = "/run/netns";

/// `ip netns add NAME`. Prefer `Lab::add_namespace`, which also deletes it again.
pub fn create_namespace(name: &str) -> Result<()> {
    ip(&["netns", "add", name]).map(|_| ())
}

/// SIGKILL every process still inside namespace `name`, then delete it: a process left inside would
/// keep the namespace, and its veth ends, alive after the name is gone.
pub fn delete_namespace(name: &str) -> Result<()> {
    if let Ok(pids) = ip(&["netns", "pids", name]) {
        for pid in pids
            .lines()
            .filter_map(|line| line.trim().parse::<i32>().ok())
        {
            // Already gone is fine: we only want it not to hold the namespace.
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    ip(&["netns", "delete", name]).map(|_| ())
}

/// The names `ip netns list` shows.
pub fn list_namespaces() -> Result<Vec<String>> {
    Ok(parse_namespace_list(&ip(&["netns", "list"])?))
}

/// Lines look like `name` or `name (id: 3)`.
fn parse_namespace_list(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// `ip -n NAMESPACE link set dev IFNAME up|down`.
pub fn set_link(namespace: &str, ifname: &str, up: bool) -> Result<()> {
    let state = if up { "up" } else { "down" };
    ip(&["-n", namespace, "link", "set", "dev", ifname, state]).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_list_keeps_only_the_names() {
        let listing = "kvdemo1-obs (id: 3)\nkvdemo1-r1 (id: 1)\nplain\n\n";
        assert_eq!(
            parse_namespace_list(listing),
            ["kvdemo1-obs", "kvdemo1-r1", "plain"]
        );
    }
}
