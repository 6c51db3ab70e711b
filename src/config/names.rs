//! Rules for the names in a config: interfaces, address labels, instance names, router ids.
//! Each returns the "expected ..." text on failure.

use std::path::Path;

/// Linux `IFNAMSIZ` minus the terminating NUL.
const MAX_INTERFACE_NAME: usize = 15;

/// The kernel's `dev_valid_name()` (net/core/dev.c): 1..=15 bytes, not "." or "..", and no '/', ':' or
/// whitespace (the kernel's `isspace`: space, \t, \n, \v, \f, \r).
pub fn check_interface_name(name: &str) -> Result<(), &'static str> {
    const EXPECTED: &str =
        "an interface name of 1..=15 bytes without '/', ':' or whitespace, not \".\" or \"..\"";
    let bad_byte = |b: u8| {
        matches!(
            b,
            b'/' | b':' | b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0
        )
    };
    if name.is_empty()
        || name.len() > MAX_INTERFACE_NAME
        || name == "."
        || name == ".."
        || name.bytes().any(bad_byte)
    {
        return Err(EXPECTED);
    }
    Ok(())
}

/// IPv4 address labels: iproute2 requires the label to equal the device name or start with
/// "<device>:"; the kernel stores at most 15 bytes (`IFNAMSIZ`).
pub fn check_label(label: &str, interface: &str) -> Result<(), String> {
    let prefixed = label
        .strip_prefix(interface)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'));
    if !prefixed || label.len() > MAX_INTERFACE_NAME || label.chars().any(char::is_whitespace) {
        return Err(format!(
            "a label of at most 15 bytes, \"{interface}\" or starting with \"{interface}:\""
        ));
    }
    Ok(())
}

/// Instance names appear in logs, notify arguments and the notify FIFO (as `"NAME"`): no whitespace,
/// control characters, quotes or backslashes, 1..=64 bytes.
pub fn check_instance_name(name: &str) -> Result<(), &'static str> {
    check_token(name).map_err(
        |()| "a name of 1..=64 bytes without whitespace, control characters, quotes or backslashes",
    )
}

/// Router ids follow the instance-name rule: they appear in the same places.
pub fn check_router_id(id: &str) -> Result<(), &'static str> {
    check_token(id).map_err(|()| {
        "a router id of 1..=64 bytes without whitespace, control characters, quotes or backslashes"
    })
}

fn check_token(text: &str) -> Result<(), ()> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\');
    if text.is_empty() || text.len() > 64 || text.chars().any(bad) {
        return Err(());
    }
    Ok(())
}

/// Whether `name` is an interface in this process's network namespace, per /sys/class/net.
pub fn interface_exists_in_sysfs(name: &str) -> bool {
    check_interface_name(name).is_ok() && Path::new("/sys/class/net").join(name).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_follow_dev_valid_name() {
        for good in [
            "eth0",
            "lo",
            "enp0s31f6",
            "br-lan.10",
            "a",
            "fifteen-bytes15",
            "vrrp@eth0",
        ] {
            assert_eq!(check_interface_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "eth0/1",
            "eth0:1",
            "eth 0",
            "eth\t0",
            "sixteen-bytes-16",
        ] {
            assert!(check_interface_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_must_be_the_interface_or_prefixed_by_it_and_a_colon() {
        assert_eq!(check_label("eth0", "eth0"), Ok(()));
        assert_eq!(check_label("eth0:vip", "eth0"), Ok(()));
        assert!(check_label("eth0vip", "eth0").is_err());
        assert!(check_label("eth1:vip", "eth0").is_err());
        assert!(check_label("eth0:0123456789a", "eth0").is_err()); // 16 bytes
        assert!(check_label("eth0:a b", "eth0").is_err());
    }

    #[test]
    fn instance_names_are_single_tokens() {
        assert_eq!(check_instance_name("VI_HAPROXY"), Ok(()));
        assert_eq!(check_instance_name("vi-1.lan"), Ok(()));
        for bad in ["", "VI 1", "VI\"1", "a\\b", &"x".repeat(65)] {
            assert!(check_instance_name(bad).is_err(), "{bad}");
        }
    }
}
