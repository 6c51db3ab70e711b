//! Per-interface sysctls, `/proc/sys/net/{ipv4,ipv6}/conf/IFNAME/KEY`. `/proc/sys/net` shows the network
//! namespace of the process that opens the file, so these read and write the namespace keepvip runs
//! in, never another (unlike `/sys/class/net`, which shows the namespace sysfs was mounted in).

use std::io;

/// Which tree: `ipv4` or `ipv6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Ipv4,
    Ipv6,
}

fn path(tree: Tree, ifname: &str, key: &str) -> String {
    let tree = match tree {
        Tree::Ipv4 => "ipv4",
        Tree::Ipv6 => "ipv6",
    };
    // Interface names contain no '/' (the kernel refuses them), so the path stays in the tree.
    format!("/proc/sys/net/{tree}/conf/{ifname}/{key}")
}

/// The value of `key` for interface `ifname` (`all` and `default` are names too).
pub fn read(tree: Tree, ifname: &str, key: &str) -> io::Result<i64> {
    let text = std::fs::read_to_string(path(tree, ifname, key))?;
    text.trim()
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{key}: {e}")))
}

/// Sets `key` for interface `ifname`; the error names the file.
pub fn write(tree: Tree, ifname: &str, key: &str, value: i64) -> io::Result<()> {
    let path = path(tree, ifname, key);
    std::fs::write(&path, value.to_string())
        .map_err(|e| io::Error::new(e.kind(), format!("write {value} to {path}: {e}")))
}
