//! Valid configs: the fixtures in tests/data/good and every example in conf/ load, with the values and
//! defaults the reference (conf/README.md) promises.

use std::net::IpAddr;
use std::time::Duration;

use keepvip::config::{
    self, Checked, Config, Family, GarpTiming, Instance, LogFormat, Prefix, RouteKind, Scope,
    Severity, Vip, VirtualRoute, VirtualRule,
};
use vrrp_wire::{Auth, Centisecs, ChecksumMode, Version};

fn check(relative: &str) -> Checked {
    let path = format!("{}/{relative}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    config::check_str(&text, relative, &|_| true).unwrap_or_else(|e| panic!("{e}"))
}

fn load(relative: &str) -> Config {
    check(relative).config
}

fn vip(text: &str, prefix: u8) -> Vip {
    let addr: IpAddr = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    let link_local = matches!(addr, IpAddr::V6(a) if a.segments()[0] == 0xfe80);
    Vip {
        addr,
        prefix,
        label: None,
        scope: if link_local {
            Scope::Link
        } else {
            Scope::Global
        },
    }
}

fn cs(n: u16) -> Centisecs {
    Centisecs::new(n).unwrap_or_else(|| panic!("zero interval"))
}

#[test]
fn defaults_follow_the_reference() {
    let config = load("tests/data/good/minimal.toml");
    assert_eq!(config.global.router_id, "keepvip");
    assert_eq!(config.global.checksum_mode, ChecksumMode::PseudoHeader);
    assert_eq!(config.global.log_format, LogFormat::Text);
    let garp = GarpTiming {
        repeat: 5,
        interval: Duration::ZERO,
        delay: Some(Duration::from_secs(5)),
        refresh: None,
    };
    assert_eq!(config.global.garp, garp);
    let expected = Instance {
        name: "VI_1".into(),
        interface: "eth0".into(),
        vrid: 51,
        version: Version::V3,
        priority: 100,
        advert_interval: cs(100),
        preempt: true,
        preempt_delay: Duration::ZERO,
        accept: true,
        checksum_mode: ChecksumMode::PseudoHeader,
        auth: Auth::None,
        v2_interop: false,
        vips: vec![vip("192.0.2.10", 32)],
        excluded_vips: vec![],
        routes: vec![],
        rules: vec![],
        unicast_peers: vec![],
        unicast_source: None,
        garp,
        trackers: vec![],
        notify: Default::default(),
        vmac: None,
    };
    assert_eq!(config.instances, vec![expected]);
    assert_eq!(config.instances[0].family(), Family::Ipv4);
}

#[test]
fn every_key_is_read_and_instances_inherit_global_garp() {
    let config = load("tests/data/good/every_key.toml");
    let g = &config.global;
    assert_eq!(g.router_id, "lb1");
    assert_eq!(g.checksum_mode, ChecksumMode::MessageOnly);
    assert_eq!(g.log_format, LogFormat::Json);
    assert_eq!(
        g.metrics_listen,
        Some("[2001:db8::1]:9650".parse().unwrap())
    );
    let global_garp = GarpTiming {
        repeat: 3,
        interval: Duration::from_millis(10),
        delay: Some(Duration::from_secs(1)),
        refresh: Some(Duration::from_secs(60)),
    };
    assert_eq!(g.garp, global_garp);

    let i = &config.instances[0];
    assert_eq!((i.vrid, i.version, i.priority), (51, Version::V3, 110));
    assert_eq!(i.advert_interval, cs(25));
    assert!(!i.preempt && !i.accept);
    assert_eq!(i.preempt_delay, Duration::from_millis(1500));
    assert_eq!(i.checksum_mode, ChecksumMode::PseudoHeader);
    let labelled = Vip {
        label: Some("eth0:vip".into()),
        ..vip("192.0.2.11", 32)
    };
    let host = Vip {
        scope: Scope::Host,
        ..vip("192.0.2.12", 32)
    };
    assert_eq!(i.vips, vec![vip("192.0.2.10", 24), labelled, host]);
    // Excluded VIPs may be of the other family: they are never advertised.
    assert_eq!(
        i.excluded_vips,
        vec![vip("203.0.113.5", 24), vip("2001:db8:5::5", 64)]
    );
    // Per-instance overrides; the rest from [global]; "0s" turns the second burst off.
    let own = GarpTiming {
        repeat: 2,
        delay: None,
        ..global_garp
    };
    assert_eq!(i.garp, own);

    let inherits = &config.instances[1];
    assert_eq!(inherits.garp, global_garp);
    assert_eq!(inherits.checksum_mode, ChecksumMode::MessageOnly);
}

#[test]
fn ipv6_link_local_vip_is_advertised_first_whatever_its_position() {
    let checked = check("tests/data/good/ipv6_link_local_later.toml");
    let i = &checked.config.instances[0];
    assert_eq!(i.family(), Family::Ipv6);
    assert_eq!(
        i.vips,
        vec![
            vip("fe80::61", 64),
            vip("2001:db8::10", 64),
            vip("2001:db8::11", 64)
        ]
    );
    let notes: Vec<String> = checked.diagnostics.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        notes,
        vec![
            "tests/data/good/ipv6_link_local_later.toml:6:8: note: fe80::61 goes first in advertisements: RFC 5798 wants the link-local VIP first"
        ]
    );
}

#[test]
fn ipv6_without_link_local_vip_advertises_the_list_as_written() {
    let checked = check("tests/data/good/ipv6_no_link_local.toml");
    let i = &checked.config.instances[0];
    // Exactly the listed VIP, as keepalived and FRR advertise theirs (README, Interop).
    assert_eq!(i.vips, vec![vip("2001:db8::10", 64)]);
    assert_eq!(checked.diagnostics.len(), 1);
    assert!(
        checked.diagnostics[0]
            .to_string()
            .contains("list fe80::200:5eff:fe00:23d/64 (derived from VRID 61)"),
        "{}",
        checked.diagnostics[0]
    );
    assert_eq!(checked.diagnostics[0].severity, Severity::Note);
    assert_eq!(
        (checked.diagnostics[0].line, checked.diagnostics[0].column),
        (7, 8)
    );
}

#[test]
fn one_vrid_may_serve_each_family_on_an_interface() {
    let config = load("tests/data/good/dual_stack_same_vrid.toml");
    let families: Vec<_> = config
        .instances
        .iter()
        .map(|i| (i.vrid, i.family()))
        .collect();
    assert_eq!(families, vec![(51, Family::Ipv4), (51, Family::Ipv6)]);
}

#[test]
fn v2_password_is_zero_padded_and_interval_in_whole_seconds() {
    let i = &load("tests/data/good/v2_auth.toml").instances[0];
    assert_eq!(i.version, Version::V2);
    assert_eq!(i.advert_interval, cs(200));
    assert_eq!(i.auth, Auth::SimplePassword(*b"s3cr3tpw"));
}

#[test]
fn v2_interop_is_a_vrrpv3_instance_with_a_whole_second_interval() {
    let i = &load("tests/data/good/v2_interop.toml").instances[0];
    assert_eq!((i.version, i.v2_interop), (Version::V3, true));
    assert_eq!(i.advert_interval, cs(200));
    assert_eq!(i.auth, Auth::None);
    assert!(!load("tests/data/good/minimal.toml").instances[0].v2_interop);
}

#[test]
fn every_good_fixture_and_example_config_passes_without_warnings() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut count = 0;
    for dir in [
        "tests/data/good",
        "conf",
        "conf/haproxy-pair",
        "conf/router-pair",
        "conf/unicast",
    ] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if !name.ends_with(".toml") {
                continue;
            }
            let checked = check(&format!("{dir}/{name}"));
            assert!(!checked.config.instances.is_empty(), "{dir}/{name}");
            // every_key.toml sets accept = false on purpose; that warning has its own test.
            let warnings: Vec<_> = checked
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .filter(|d| !(name == "every_key.toml" && d.message.starts_with("accept = false")))
                .collect();
            assert!(warnings.is_empty(), "{dir}/{name}: {warnings:?}");
            count += 1;
        }
    }
    assert!(count >= 6 + 8 + 2, "only {count} files checked");
}

#[test]
fn unicast_example_reads_peers_and_sources_and_defaults_to_multicast() {
    let config = load("conf/unicast/lb-a.toml");
    let (v4, v6) = (&config.instances[0], &config.instances[1]);
    assert_eq!(
        v4.unicast_peers,
        vec!["192.0.2.2".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(
        v4.unicast_source, None,
        "the default: the interface's primary address"
    );
    assert_eq!(
        v6.unicast_peers,
        vec!["2001:db8::2".parse::<std::net::IpAddr>().unwrap()]
    );
    assert_eq!(v6.unicast_source, Some("2001:db8::1".parse().unwrap()));
    let multicast = &load("tests/data/good/every_key.toml").instances[0];
    assert!(multicast.unicast_peers.is_empty() && multicast.unicast_source.is_none());
}

#[test]
fn accept_false_is_enforced_silently_and_draws_a_warning_only_on_an_owner() {
    let checked = check("tests/data/good/every_key.toml");
    assert!(
        !checked
            .diagnostics
            .iter()
            .any(|d| d.message.starts_with("accept = false")),
        "{:?}",
        checked.diagnostics
    );
    let owner = "[global]\nrouter_id = \"r\"\n[[instance]]\nname = \"o\"\ninterface = \"eth0\"\n\
                 vrid = 1\npriority = 255\naccept = false\nvips = [\"192.0.2.1/24\"]\n";
    let checked = config::check_str(owner, "owner.toml", &|_| true).unwrap();
    let warnings: Vec<String> = checked
        .diagnostics
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        warnings,
        vec![
            "owner.toml:8:10: warning: accept = false has no effect on the address owner (priority \
             255): it always accepts traffic to its own addresses (RFC 5798 §6.4.3)"
        ]
    );
}

#[test]
fn load_reads_a_file_and_distinguishes_unreadable_from_invalid() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/good/minimal.toml");
    assert_eq!(config::load(&path).unwrap().instances.len(), 1);
    let missing = config::load(std::path::Path::new("/nonexistent/keepvip.toml")).unwrap_err();
    assert!(
        matches!(missing, config::LoadError::Unreadable { .. }),
        "{missing}"
    );
    let bad = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bad/vrid_out_of_range.toml");
    assert!(matches!(
        config::load(&bad),
        Err(config::LoadError::Invalid(_))
    ));
}

#[test]
fn non_utf8_files_are_invalid_with_a_position() {
    let dir = std::env::temp_dir().join(format!("keepvip-config-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("latin1.toml");
    std::fs::write(&path, b"[global]\nrouter_id = \"caf\xe9\"\n").unwrap();
    let result = config::load(&path);
    std::fs::remove_dir_all(&dir).unwrap();
    let Err(config::LoadError::Invalid(errors)) = result else {
        panic!("accepted or unreadable: {result:?}");
    };
    let d = &errors.diagnostics[0];
    assert_eq!((d.line, d.column), (2, 17));
    assert_eq!(d.message, "the file is not valid UTF-8");
}

#[test]
fn trackers_and_notify_scripts_are_read_with_their_defaults_and_overrides() {
    use keepvip::config::{CommandLine, ParamMatch, ScriptUser, TrackerKind};
    let config = load("tests/data/good/trackers.toml");
    let g = &config.global;
    assert_eq!(
        g.notify_fifo.as_deref(),
        Some(std::path::Path::new("/run/keepvip/notify.fifo"))
    );
    assert_eq!(g.notify_timeout, Duration::from_secs(5));
    assert_eq!(
        g.script_user,
        Some(ScriptUser {
            user: "keepvip-script".into(),
            group: Some("keepvip-script".into())
        })
    );
    assert!(!g.allow_insecure_scripts);
    let [haproxy, http, shell] = &config.trackers.scripts[..] else {
        panic!("{:?}", config.trackers.scripts)
    };
    assert_eq!(haproxy.command.words, ["/usr/bin/killall", "-0", "haproxy"]);
    assert!(!haproxy.command.shell);
    assert_eq!((haproxy.fall, haproxy.rise, haproxy.weight), (2, 3, -20));
    assert_eq!(
        haproxy.timeout,
        Duration::from_secs(1),
        "timeout defaults to the interval"
    );
    assert!(!haproxy.init_fail);
    assert_eq!(http.timeout, Duration::from_secs(2));
    assert_eq!((http.weight, http.rise, http.fall), (0, 1, 1));
    assert!(http.init_fail);
    assert_eq!(http.user.as_ref().map(|u| u.user.as_str()), Some("nobody"));
    assert_eq!(
        shell.command,
        CommandLine {
            words: vec!["test -e /run/app.pid && kill -0 $(cat /run/app.pid)".into()],
            shell: true
        }
    );
    let file = &config.trackers.files[0];
    assert_eq!((file.weight, file.init_value), (-10, Some(0)));
    let process = &config.trackers.processes[0];
    assert_eq!(process.param_match, ParamMatch::Initial);
    assert_eq!((process.quorum, process.quorum_max), (1, Some(4)));
    assert_eq!(process.fork_delay, Duration::from_millis(500));
    assert_eq!(process.terminate_delay, Duration::from_millis(500));
    assert!(process.same_netns);

    let instance = &config.instances[0];
    let refs: Vec<(TrackerKind, &str, i16, bool)> = instance
        .trackers
        .iter()
        .map(|r| (r.kind, r.name.as_str(), r.weight, r.reverse))
        .collect();
    assert_eq!(
        refs,
        [
            (TrackerKind::Script, "chk_haproxy", -20, false),
            (TrackerKind::Script, "chk_http", 2, false),
            (TrackerKind::Script, "chk_shell", 0, false),
            (TrackerKind::File, "maintenance", -10, false),
            (TrackerKind::Process, "haproxy", -30, true),
            (TrackerKind::Interface, "eth1", 0, false),
            (TrackerKind::Interface, "eth2", -10, false),
        ]
    );
    let notify = &instance.notify;
    assert_eq!(notify.any.as_ref().map(|c| c.words.len()), Some(1));
    assert_eq!(
        notify.master.as_ref().map(|c| c.words.clone()),
        Some(vec![
            "/etc/keepvip/notify.sh".into(),
            "master".into(),
            "VI 1".into()
        ])
    );
    assert_eq!(
        notify.backup.as_ref().map(|c| c.words.clone()),
        Some(vec!["/etc/keepvip/notify.sh".into(), "backup state".into()])
    );
    assert_eq!(notify.fault, None);
}

#[test]
fn a_sync_group_lists_its_members_and_gives_each_its_trackers() {
    use keepvip::config::TrackerKind;
    let config = load("tests/data/good/sync_group.toml");
    let group = &config.sync_groups[0];
    assert_eq!(group.name, "VG_ROUTER");
    assert_eq!(group.members, ["VI_LAN", "VI_WAN"]);
    assert!(group.notify.any.is_some() && group.notify.master.is_some());
    let tracked = |name: &str| -> Vec<(TrackerKind, String)> {
        let instance = config.instances.iter().find(|i| i.name == name).unwrap();
        instance
            .trackers
            .iter()
            .map(|t| (t.kind, t.name.clone()))
            .collect()
    };
    // VI_LAN tracks lan1 itself: the group's lan1 is not added twice.
    assert_eq!(
        tracked("VI_LAN"),
        [
            (TrackerKind::Interface, "lan1".to_owned()),
            (TrackerKind::Script, "chk_uplink".to_owned())
        ]
    );
    assert_eq!(
        tracked("VI_WAN"),
        [
            (TrackerKind::Script, "chk_uplink".to_owned()),
            (TrackerKind::Interface, "lan1".to_owned())
        ]
    );
}

fn prefix(text: &str) -> Prefix {
    let (addr, len) = text.split_once('/').unwrap_or_else(|| panic!("{text}"));
    Prefix {
        addr: addr.parse().unwrap_or_else(|e| panic!("{text}: {e}")),
        len: len.parse().unwrap_or_else(|e| panic!("{text}: {e}")),
    }
}

#[test]
fn routes_and_rules_are_read_with_their_defaults() {
    let config = load("tests/data/good/routes.toml");
    let i = &config.instances[0];
    let ip = |text: &str| Some(text.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}")));
    let unicast = VirtualRoute {
        to: prefix("0.0.0.0/0"),
        via: ip("203.0.113.1"),
        dev: None,
        table: 100,
        metric: None,
        src: None,
        kind: RouteKind::Unicast,
    };
    let main_table = VirtualRoute {
        to: prefix("198.51.100.0/24"),
        via: None,
        dev: Some("lan0".into()),
        table: 254,
        metric: Some(10),
        src: ip("203.0.113.2"),
        kind: RouteKind::Unicast,
    };
    assert_eq!(i.routes[..2], [unicast, main_table]);
    assert_eq!(i.routes[2].table, 70000);
    assert_eq!(i.routes[3].kind, RouteKind::Blackhole);
    // A bare address is a host route.
    assert_eq!(i.routes[4].to, prefix("2001:db8:6::1/128"));
    assert_eq!(i.routes[4].kind, RouteKind::Unreachable);
    assert_eq!(
        i.routes[1].to_string(),
        "198.51.100.0/24 dev lan0 src 203.0.113.2 metric 10"
    );
    let from_lan = VirtualRule {
        from: Some(prefix("198.51.100.0/24")),
        to: None,
        table: 100,
        priority: None,
    };
    assert_eq!(i.rules[0], from_lan);
    assert_eq!(i.rules[1].priority, Some(1000));
    assert_eq!(i.rules[1].family(), Family::Ipv6);
    assert_eq!(i.rules[2].to_string(), "from all to 192.0.2.0/24 table 254");
}
