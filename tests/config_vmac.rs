//! `vmac` / `vmac_name` (keepalived's `use_vmac`): the macvlan name each instance ends up with, and the
//! errors, each at file:line:column.

use keepvip::config::{self, Severity};

fn errors(text: &str) -> Vec<String> {
    let errors = config::check_str(text, "v.toml", &|_| true)
        .err()
        .unwrap_or_else(|| panic!("accepted:\n{text}"));
    errors
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(ToString::to_string)
        .collect()
}

fn macvlan_names(text: &str) -> Vec<Option<String>> {
    let config = config::parse_str(text, "v.toml").unwrap_or_else(|e| panic!("{e}"));
    config
        .instances
        .iter()
        .map(|i| i.vmac.as_ref().map(|v| v.name.clone()))
        .collect()
}

const DUAL_STACK: &str = r#"
[[instance]]
name = "V4"
interface = "eth0"
vrid = 51
vmac = true
vips = ["192.0.2.10/24"]

[[instance]]
name = "V6"
interface = "eth0"
vrid = 51
vmac = true
vips = ["2001:db8::10/64"]

[[instance]]
name = "NAMED"
interface = "eth0"
vrid = 52
vmac = true
vmac_name = "vip-web"
vips = ["192.0.2.11/24"]

[[instance]]
name = "PLAIN"
interface = "eth0"
vrid = 53
vips = ["192.0.2.12/24"]
"#;

#[test]
fn default_names_differ_by_family_and_vmac_name_overrides_them() {
    assert_eq!(
        macvlan_names(DUAL_STACK),
        [
            Some("vrrp.51".to_owned()),
            Some("vrrp6.51".to_owned()),
            Some("vip-web".to_owned()),
            None
        ]
    );
    let config = config::parse_str(DUAL_STACK, "v.toml").unwrap();
    assert_eq!(config.instances[0].virtual_mac(), [0, 0, 0x5e, 0, 1, 51]);
    assert_eq!(config.instances[1].virtual_mac(), [0, 0, 0x5e, 0, 2, 51]);
}

#[test]
fn two_instances_cannot_end_up_with_one_macvlan_name() {
    let text = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
vmac = true
vips = ["192.0.2.10/24"]

[[instance]]
name = "B"
interface = "eth1"
vrid = 51
vmac = true
vips = ["198.51.100.10/24"]

[[instance]]
name = "C"
interface = "eth1"
vrid = 52
vmac = true
vmac_name = "vrrp.51"
vips = ["198.51.100.11/24"]
"#;
    assert_eq!(
        errors(text),
        [
            "v.toml:13:8: the macvlan vrrp.51 is already instance \"A\"'s (line 6): expected a vmac_name no other instance uses",
            "v.toml:21:13: the macvlan vrrp.51 is already instance \"A\"'s (line 6): expected a vmac_name no other instance uses",
        ]
    );
}

#[test]
fn vmac_name_needs_vmac_and_a_valid_interface_name() {
    let text = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
vmac_name = "vip-a"
vips = ["192.0.2.10/24"]

[[instance]]
name = "B"
interface = "eth0"
vrid = 52
vmac = true
vmac_name = "a-name-too-long-"
vips = ["192.0.2.11/24"]
"#;
    assert_eq!(
        errors(text),
        [
            "v.toml:6:13: vmac_name = \"vip-a\": expected vmac = true beside it (vmac_name names the macvlan vmac creates)",
            "v.toml:14:13: vmac_name = \"a-name-too-long-\": expected an interface name of 1..=15 bytes without '/', ':' or whitespace, not \".\" or \"..\"",
        ]
    );
}

#[test]
fn vmac_refuses_labels_an_owner_and_an_instance_interface() {
    let text = r#"
[[instance]]
name = "A"
interface = "eth0"
vrid = 51
vmac = true
vips = [{ address = "192.0.2.10/24", label = "eth0:vip" }]

[[instance]]
name = "B"
interface = "eth0"
vrid = 52
priority = 255
vmac = true
vips = ["192.0.2.11/24"]

[[instance]]
name = "C"
interface = "eth1"
vrid = 53
vmac = true
vmac_name = "eth0"
vips = ["192.0.2.12/24"]
"#;
    assert_eq!(
        errors(text),
        [
            "v.toml:7:9: 192.0.2.10: no label with vmac = true (the VIPs go on the macvlan, whose name the label would have to start with)",
            "v.toml:14:8: vmac = true: expected vmac = false with priority 255: the address owner answers with its own interface address, which stays on that interface (vmac is not supported for an owner)",
            "v.toml:22:13: the macvlan eth0 is instance \"A\"'s interface (line 4): expected a vmac_name that names no instance's interface (keepvip creates and deletes the macvlan)",
        ]
    );
}

#[test]
fn keepalived_use_vmac_gets_a_hint() {
    let text = "[[instance]]\nname = \"A\"\ninterface = \"eth0\"\nvrid = 1\nuse_vmac = true\nvips = [\"192.0.2.10\"]\n";
    let got = errors(text);
    assert!(
        got.len() == 1
            && got[0].ends_with(
                "(keepalived's use_vmac is `vmac = true` here (and `vmac_name` for its name))"
            ),
        "{got:?}"
    );
}
