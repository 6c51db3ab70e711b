//! Invalid configs: each fixture in tests/data/bad must be rejected with exactly these diagnostics
//! (file:line:column, the value as written, what was expected). Interfaces are treated as existing so
//! the output does not depend on the machine.

use keepvip::config::{self, Severity};

fn diagnostics(fixture: &str) -> Vec<String> {
    let path = format!("tests/data/bad/{fixture}");
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let errors = config::check_str(&text, &path, &|_| true)
        .err()
        .unwrap_or_else(|| panic!("{path} was accepted"));
    assert!(errors.errors().count() >= 1);
    errors.diagnostics.iter().map(ToString::to_string).collect()
}

fn assert_rejected(fixture: &str, expected: &[&str]) {
    let got = diagnostics(fixture);
    let expected: Vec<String> = expected
        .iter()
        .map(|line| format!("tests/data/bad/{fixture}:{line}"))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn vrid_above_255_is_rejected_at_the_value() {
    assert_rejected(
        "vrid_out_of_range.toml",
        &["4:8: vrid = 300: expected an integer 1..=255"],
    );
}

#[test]
fn metrics_listen_needs_an_address_and_a_port() {
    assert_rejected(
        "metrics_listen.toml",
        &[
            r#"2:18: metrics_listen = "192.0.2.1": expected an address and a port other than 0, e.g. "192.0.2.1:9650" or "[2001:db8::1]:9650""#,
        ],
    );
}

#[test]
fn v3_interval_must_be_whole_centiseconds() {
    assert_rejected(
        "interval_not_centiseconds.toml",
        &[
            "5:19: advert_interval = \"15ms\": expected a duration 10ms..=40.95s in steps of 10ms (VRRPv3 carries centiseconds)",
        ],
    );
}

#[test]
fn v2_interval_must_be_whole_seconds() {
    assert_rejected(
        "v2_interval_not_whole_seconds.toml",
        &[
            "6:19: advert_interval = \"1.5s\": expected whole seconds 1s..=255s (VRRPv2 carries whole seconds)",
        ],
    );
}

#[test]
fn unknown_key_is_rejected_at_the_key_with_a_keepalived_hint() {
    let got = diagnostics("keepalived_key_name.toml");
    assert_eq!(got.len(), 1);
    let line = &got[0];
    assert!(
        line.starts_with(
            "tests/data/bad/keepalived_key_name.toml:5:1: unknown field `virtual_router_id`, expected one of `name`, `interface`, `vrid`,"
        ),
        "{line}"
    );
    assert!(
        line.ends_with("(keepalived's virtual_router_id is `vrid` here)"),
        "{line}"
    );
}

#[test]
fn unknown_key_inside_a_vip_table_is_rejected_at_the_key() {
    assert_rejected(
        "unknown_vip_key.toml",
        &["5:38: unknown field `dev`, expected one of `address`, `label`, `scope`"],
    );
}

#[test]
fn mixed_families_name_the_offending_vip() {
    assert_rejected(
        "mixed_families.toml",
        &[
            "5:26: vips = \"2001:db8::10/64\": expected an IPv4 address like the first VIP \"192.0.2.10/24\": one family per instance (put the other family in its own [[instance]], or in excluded_vips)",
        ],
    );
}

#[test]
fn a_vrid_is_used_once_per_interface_and_family() {
    assert_rejected(
        "duplicate_vrid.toml",
        &[
            "10:8: vrid = 51: expected a VRID unused on eth0 for IPv4 (instance \"VI_WEB\" on line 4 has 51)",
        ],
    );
}

#[test]
fn instance_names_are_unique() {
    assert_rejected(
        "duplicate_name.toml",
        &["8:8: name = \"VI_1\": expected a unique instance name (also used on line 2)"],
    );
}

#[test]
fn interface_names_follow_the_kernel_rules() {
    assert_rejected(
        "bad_interface_name.toml",
        &[
            "3:13: interface = \"eth0:1\": expected an interface name of 1..=15 bytes without '/', ':' or whitespace, not \".\" or \"..\"",
        ],
    );
}

#[test]
fn labels_must_start_with_the_interface_name() {
    assert_rejected(
        "bad_label.toml",
        &[
            "6:42: label = \"eth1:vip\": expected a label of at most 15 bytes, \"eth0\" or starting with \"eth0:\"",
        ],
    );
}

#[test]
fn auth_pass_is_refused_on_v3() {
    assert_rejected(
        "auth_on_v3.toml",
        &[
            "5:13: auth_pass = \"s3cr3tpw\": expected no auth_pass with version = 3 (VRRPv3 has no authentication, RFC 5798 §9)",
        ],
    );
}

#[test]
fn auth_pass_longer_than_8_bytes_is_refused() {
    assert_rejected(
        "auth_too_long.toml",
        &["6:13: auth_pass = \"s3cr3tpw9\": expected 1..=8 printable ASCII characters"],
    );
}

#[test]
fn ipv6_requires_v3() {
    assert_rejected(
        "ipv6_on_v2.toml",
        &["5:11: version = 2: expected 3 for IPv6 VIPs (VRRPv2 is IPv4 only, RFC 3768)"],
    );
}

#[test]
fn durations_follow_the_grammar_and_ranges() {
    assert_rejected(
        "bad_durations.toml",
        &[
            "2:14: garp_delay = \"5\": expected a duration: a number and a unit (ms, s, m or h), such as \"100ms\", \"1s\" or \"1.5s\"",
            "3:17: garp_interval = \"2s\": expected a duration 0s..=1s",
            "9:17: preempt_delay = \"2000s\": expected a duration 0s..=1000s",
        ],
    );
}

#[test]
fn missing_required_keys_point_at_the_instance_header() {
    assert_rejected(
        "missing_keys.toml",
        &[
            "1:1: [[instance]] without `vrid`: expected an integer 1..=255",
            "1:1: [[instance]] without `vips`: expected a list of virtual addresses such as [\"192.0.2.10/24\"]",
        ],
    );
}

#[test]
fn wrong_types_name_the_key() {
    assert_rejected(
        "wrong_type.toml",
        &["5:12: priority = \"high\": invalid type: string \"high\", expected an integer"],
    );
}

#[test]
fn sync_group_errors_name_the_member_the_tracker_and_the_missing_key() {
    assert_rejected(
        "sync_groups.toml",
        &[
            "9:20: members = \"VI_9\": expected the name of an [[instance]] of this file (there is no \"VI_9\")",
            "13:12: members = \"VI_1\": expected an instance in no other group (\"VI_1\" is in \"G1\")",
            "14:17: track_script = \"chk_nosuch\": expected the name of a [[track_script]] defined in this file (there is no \"chk_nosuch\")",
            "16:1: [[sync_group]] without `name`: expected a name such as \"VG_1\"",
            "17:11: members = []: expected at least one instance",
        ],
    );
}

#[test]
fn a_member_with_errors_of_its_own_draws_no_second_error_and_a_repeated_member_does() {
    assert_rejected(
        "sync_group_members.toml",
        &[
            "4:8: vrid = 999: expected an integer 1..=255",
            "15:28: members = \"VI_2\": expected each member once (\"VI_2\" is listed twice)",
        ],
    );
}

#[test]
fn tracker_and_notify_errors_name_the_key_and_what_was_expected() {
    let got = diagnostics("trackers.toml");
    for expected in [
        "2:16: script_group = \"nogroup\": expected a group together with a user (set the user too)",
        "4:1: [[track_script]] without `command`",
        "6:12: interval = \"5ms\": expected a duration 10ms..=1h",
        "7:10: weight = 300: expected an integer -254..=254",
        "11:11: command = \"/usr/bin/test 'unbalanced\": expected a command whose quotes are balanced",
        "15:8: path = \"relative/path\": expected an absolute path",
        "20:15: param_match = \"fuzzy\": expected \"exact\", \"partial\" or \"initial\"",
        "22:14: quorum_max = 2: expected an integer 3..=65535",
        "29:17: track_script = \"chk_nosuch\": expected the name of a [[track_script]] defined in this file (there is no \"chk_nosuch\")",
        "29:63: weight = -255: expected an integer -254..=254",
        "30:28: track_interface = { interface = \"eth1\" }: expected each tracker once",
        "30:52: track_interface = \"bad/name\": expected",
        "31:17: notify_master = \"\": expected a command",
    ] {
        let line = format!("tests/data/bad/trackers.toml:{expected}");
        assert!(
            got.iter().any(|g| g.starts_with(&line)),
            "missing {line:?} in:\n{}",
            got.join("\n")
        );
    }
}

#[test]
fn toml_syntax_errors_have_a_position() {
    assert_rejected(
        "syntax_error.toml",
        &["2:13: invalid basic string, expected `\"`"],
    );
}

#[test]
fn prefix_length_is_bounded_by_the_family() {
    assert_rejected(
        "bad_prefix.toml",
        &["5:9: vips = \"192.0.2.10/33\": expected a prefix length 1..=32 after the '/'"],
    );
}

#[test]
fn single_bracket_instance_gets_a_hint() {
    assert_rejected(
        "single_brackets.toml",
        &["1:1: [instance]: expected an array of tables: write [[...]] with double brackets"],
    );
}

#[test]
fn every_validation_error_in_a_file_is_reported_in_file_order() {
    assert_rejected(
        "many_errors.toml",
        &[
            "2:13: router_id = \"lb 1\": expected a router id of 1..=64 bytes without whitespace, control characters, quotes or backslashes",
            "3:17: checksum_mode = \"rfc\": expected \"pseudo-header\" or \"message-only\"",
            "8:8: vrid = 0: expected an integer 1..=255",
            "9:12: priority = 256: expected an integer 1..=255",
            "10:19: advert_interval = \"50s\": expected a duration 10ms..=40.95s",
            "11:9: vips = \"192.0.2.300/24\": expected an IP address with an optional prefix length, such as \"192.0.2.10/24\" or \"2001:db8::10/64\"",
            "11:61: scope = \"universe\": expected \"global\", \"site\", \"link\" or \"host\"",
            "12:36: excluded_vips = \"203.0.113.5\": expected each address once per instance (203.0.113.5 is already listed on line 12)",
            "13:15: garp_repeat = 0: expected an integer 1..=255",
            "14:16: garp_refresh = \"100ms\": expected \"0s\" (off) or a duration 1s..=24h",
        ],
    );
}

#[test]
fn routes_and_rules_are_checked_entry_by_entry_and_never_shared_by_two_instances() {
    assert_rejected(
        "routes.toml",
        &[
            "7:10: to = \"192.0.2.1/24\": expected a network address: 192.0.2.1 has bits set past /24 (write 192.0.2.0/24)",
            "8:3: route without `via` or `dev`: expected a gateway (via = \"203.0.113.1\"), an interface (dev = \"eth1\"), or a type = \"blackhole\", \"unreachable\" or \"prohibit\"",
            "9:55: via = \"192.0.2.1\": expected no `via` on a blackhole route: it forwards nothing",
            "10:51: table = 0: expected a routing table number 1..=4294967295 (254 is main; names from /etc/iproute2/rt_tables are not read)",
            "10:63: metric = -1: expected an integer 0..=4294967295",
            "11:34: via = \"2001:db8::1\": expected an IPv4 address like `to`: a route is of one family",
            "11:56: type = \"anycast\": expected \"unicast\" (the default), \"blackhole\", \"unreachable\" or \"prohibit\"",
            "12:3: route without `to`: expected the destination, e.g. { to = \"0.0.0.0/0\", via = \"203.0.113.1\" }",
            "13:35: via = \"fe80::1\": expected a `dev` beside a link-local gateway: fe80::/10 is on every link",
            "16:33: to = \"2001:db8::/32\": expected an IPv4 prefix like `from`: a rule is of one family",
            "17:3: rule without `from` or `to`: expected what it matches, e.g. { from = \"198.51.100.0/24\", table = 100 }",
            "18:12: from = \"192.0.2.0/33\": expected a prefix length 0..=32 after the '/'",
            "19:3: rule without `table`: expected the table it sends matching packets to, e.g. table = 100",
            "29:3: route 0.0.0.0/0 via 192.0.2.2 table 100: expected each destination once per table and metric (the kernel holds one; line 28 has it already)",
            "45:11: route 0.0.0.0/0 via 203.0.113.254 table 200: expected a route of this instance only (instance \"VI_3\" on line 38 has this destination, table and metric; the kernel holds one)",
            "46:10: rule priority 100 from 198.51.100.0/24 table 100: expected a rule of this instance only (instance \"VI_2\" on line 31 has it; the kernel holds one)",
        ],
    );
}

#[test]
fn unicast_peers_and_source_are_checked_against_the_family_the_vips_and_each_other() {
    assert_rejected(
        "unicast.toml",
        &[
            "8:31: unicast_peers = \"192.0.2.2\": expected each peer once (192.0.2.2 is already listed on line 8)",
            "8:44: unicast_peers = \"2001:db8::2\": expected an IPv4 address, the family of the instance's vips",
            "8:59: unicast_peers = \"192.0.2.10\": expected a node's own address, not a VIP of this instance (192.0.2.10 is listed on line 6)",
            "8:73: unicast_peers = \"192.0.2.3/24\": expected an IP address without a prefix length, such as \"192.0.2.2\" or \"fe80::2\"",
            "8:89: unicast_peers = \"224.0.0.18\": expected a unicast address (not unspecified, multicast or broadcast)",
            "9:18: unicast_source = \"192.0.2.11\": expected a node's own address, not a VIP of this instance (192.0.2.11 is listed on line 7)",
            "16:18: unicast_source = \"192.0.2.1\": expected unicast_peers beside it (the source is only for unicast adverts)",
            "23:33: unicast_peers = \"fe80::200:5eff:fe00:235\": expected a node's own address, not a VIP of this instance (fe80::200:5eff:fe00:235 is listed on line 22)",
            "30:17: unicast_peers = []: expected at least one peer address (leave unicast_peers out for multicast)",
            "37:17: unicast_peers lists a global IPv6 address: set unicast_source to this node's global address on the interface too (IPv6 adverts leave from the link-local address by default, which such a peer does not list)",
            "45:18: unicast_source = \"192.0.2.2\": expected an address of this node, not one of its unicast_peers",
        ],
    );
}

#[test]
fn keepalived_unicast_keys_get_a_hint() {
    let text = "[[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\nvips = [\"192.0.2.10\"]\nunicast_src_ip = \"192.0.2.1\"\n";
    let errors = config::check_str(text, "k.toml", &|_| true).err().unwrap();
    let message = errors.diagnostics[0].to_string();
    assert!(
        message.contains("keepalived's unicast_src_ip is `unicast_source` here"),
        "{message}"
    );
}

#[test]
fn every_bad_fixture_is_covered_by_a_test() {
    // Keeps fixtures and assertions in step: a new bad file needs a test above.
    let dir = format!("{}/tests/data/bad", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let here = include_str!("config_bad.rs");
        assert!(here.contains(&format!("\"{name}\"")), "{name} has no test");
        let got = diagnostics(&name);
        assert!(
            got.iter()
                .all(|l| l.starts_with(&format!("tests/data/bad/{name}:")))
        );
        count += 1;
    }
    assert!(count >= 10);
}

#[test]
fn warnings_do_not_make_a_config_invalid_but_errors_keep_them() {
    let text = "[[instance]]\nname = \"VI_1\"\ninterface = \"nosuch0\"\nvrid = 300\nvips = [\"192.0.2.10\"]\n";
    let errors = config::check_str(text, "x.toml", &|name| name != "nosuch0").unwrap_err();
    let severities: Vec<_> = errors.diagnostics.iter().map(|d| d.severity).collect();
    assert_eq!(severities, vec![Severity::Warning, Severity::Error]);
    assert_eq!(
        errors.to_string(),
        "x.toml:3:13: warning: interface = \"nosuch0\": no such interface in this network namespace (yet)\n\
         x.toml:4:8: vrid = 300: expected an integer 1..=255"
    );
}

#[test]
fn v2_interop_needs_vrrpv3_ipv4_a_whole_second_interval_and_no_password() {
    assert_rejected(
        "v2_interop.toml",
        &[
            "6:14: v2_interop = true: expected only with version = 3 (mixed mode is a VRRPv3 instance that also speaks VRRPv2, RFC 5798 §8.4)",
            "13:14: v2_interop = true: expected only with IPv4 VIPs (VRRPv2 is IPv4 only, RFC 3768)",
            "20:19: advert_interval = \"250ms\": expected whole seconds 1s..=40s with v2_interop = true (the VRRPv2 copy carries whole seconds, RFC 3768 §5.3.7)",
            "29:13: auth_pass = \"secret\": expected no auth_pass with version = 3 (VRRPv3 has no authentication, RFC 5798 §9)",
        ],
    );
}

#[test]
fn rt_priority_is_a_sched_rr_priority() {
    assert_rejected(
        "rt_priority.toml",
        &["2:15: rt_priority = 100: expected an integer 1..=99"],
    );
}
