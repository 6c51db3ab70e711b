//! Unicast peers (keepalived's `unicast_peer`) on a switch that drops VRRP multicast, as a cloud
//! subnet does (netlab's `Switch::drop_vrrp_multicast`, an nftables bridge table). First the drop
//! itself: a multicast pair on that switch never hears each other and elects two masters. Then a
//! unicast pair, IPv4 and IPv6 (global addresses, explicit `unicast_source`): one master, adverts on
//! the wire to the peer's own address with TTL / hop limit 255 and a checksum valid for that
//! destination (not for the group), a steady cadence despite a second peer that never answers, an
//! advert from a stranger discarded and counted, and a real failover when the master is SIGKILLed
//! (takeover one Master_Down_Interval after its last advert, within `Tolerance::takeover`; the VIP
//! moves in the kernel). Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use netns_tests::daemon::inject::{send_vrrp_v4_to, send_vrrp_v6_to};
use netns_tests::daemon::scenario::{
    BACKUP, FAULT, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip,
    has_vip, start_keepvip,
};
use netns_tests::daemon::takeover::observe_takeover;
use netns_tests::daemon::timing::mean_spacing;
use netns_tests::daemon::wire::{
    Advert, adverts, adverts_from, gratuitous_arps, unsolicited_nas, wall_clock,
};
use netns_tests::daemon::{
    InstanceSpec, Interval, Keepvip, PauseWatch, config_toml, master_down_interval,
    retry_on_machine_pause,
};
use netns_tests::{Ipv6Mode, Lab, wait_for_value};
use vrrp_wire::{Auth, ChecksumMode, Repr, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP, Version};

const INTERVAL: Interval = Interval::from_millis(100);
const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
/// A peer listed by the master that no host answers for: its address never resolves on the link.
const SILENT_PEER4: &str = "192.0.2.77";
const SILENT_PEER6: &str = "2001:db8::77";

/// One family's addresses for the pair on hosts 0 (priority 200) and 1 (priority 100).
struct Family {
    name: &'static str,
    a: IpAddr,
    b: IpAddr,
    vip: IpAddr,
    vip_cidr: &'static str,
    silent_peer: &'static str,
    /// `unicast_source`: none for IPv4 (the primary address is the default), the global address
    /// for IPv6 (required with global peers).
    explicit_source: bool,
    group: IpAddr,
}

fn family_v4(lab: &Lab) -> Family {
    Family {
        name: "ipv4",
        a: IpAddr::V4(lab.host(0).ipv4),
        b: IpAddr::V4(lab.host(1).ipv4),
        vip: IpAddr::V4(VIP4),
        vip_cidr: "192.0.2.100/24",
        silent_peer: SILENT_PEER4,
        explicit_source: false,
        group: IpAddr::V4(VRRP_IPV4_GROUP),
    }
}

fn family_v6(lab: &Lab) -> Family {
    Family {
        name: "ipv6",
        a: IpAddr::V6(lab.host(0).ipv6.unwrap()),
        b: IpAddr::V6(lab.host(1).ipv6.unwrap()),
        vip: IpAddr::V6(VIP6),
        vip_cidr: "2001:db8::100/64",
        silent_peer: SILENT_PEER6,
        explicit_source: true,
        group: IpAddr::V6(VRRP_IPV6_GROUP),
    }
}

/// IPv6 with link-local peers and the default source, the interface's link-local address.
fn family_v6_link_local(lab: &Lab) -> Family {
    Family {
        name: "ipv6_link_local",
        a: IpAddr::V6(lab.host(0).link_local.unwrap()),
        b: IpAddr::V6(lab.host(1).link_local.unwrap()),
        silent_peer: "fe80::77",
        explicit_source: false,
        ..family_v6(lab)
    }
}

impl Family {
    fn spec(&self, priority: u8, own: IpAddr, peers: &[&str]) -> InstanceSpec {
        let own = own.to_string();
        let source = self.explicit_source.then_some(own.as_str());
        InstanceSpec::new(priority, INTERVAL, &[self.vip_cidr]).unicast(peers, source)
    }
}

/// A multicast pair (IPv4 VRID 1 and IPv6 VRID 2 on each host) on the dropping switch: neither host
/// hears the other, so both become master of both and stay so, with nothing received; the switch
/// counted the adverts it dropped and the observer saw none of them.
#[test]
fn multicast_adverts_do_not_cross_the_dropping_switch() {
    let lab = Lab::builder("mcastdrop")
        .hosts(2)
        .ipv6(Ipv6Mode::NoDad)
        .drop_vrrp_multicast()
        .build()
        .unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112", "or", "ip6", "proto", "112"]);
    let capture = capture.unwrap();
    let daemons: Vec<Keepvip> = [200, 100]
        .into_iter()
        .enumerate()
        .map(|(index, priority)| {
            let v4 = InstanceSpec::new(priority, INTERVAL, &["192.0.2.100/24"]);
            let mut v6 = InstanceSpec::new(priority, INTERVAL, &["2001:db8::100/64"]).vrid(2);
            v6.name = "VI_6".into();
            let label = format!("h{index}");
            Keepvip::start(&lab, index, &label, &config_toml(&label, &[v4, v6])).unwrap()
        })
        .collect();
    for daemon in &daemons {
        for name in ["VI_1", "VI_6"] {
            daemon
                .wait_state(name, MASTER, election_timeout(INTERVAL))
                .unwrap();
        }
    }
    // Long enough for a heard 200 to have preempted the 100 several times over.
    std::thread::sleep(master_down_interval(INTERVAL, 100) * 3);
    for daemon in &daemons {
        for name in ["VI_1", "VI_6"] {
            let instance = daemon.instance(name).unwrap();
            assert_eq!(instance.state, MASTER, "{}", daemon.describe());
            assert_eq!(instance.adverts_received, 0, "{}", daemon.describe());
        }
    }
    let dropped = lab.vrrp_multicast_dropped().unwrap();
    let seen = adverts(&capture.stop().unwrap());
    eprintln!(
        "MEASURE switch dropped {dropped} VRRP multicast packets; observer saw {}",
        seen.len()
    );
    assert!(dropped >= 20, "the switch dropped only {dropped} adverts");
    assert!(seen.is_empty(), "multicast crossed the switch: {seen:?}");
}

/// The master's adverts on the wire: each to the peer's own address (never the group), hop limit
/// 255, priority 200, a checksum vrrp-wire verifies with that destination in the pseudo-header and
/// rejects with the group there; at the advert interval although the silent peer never answers.
fn check_master_adverts(family: &Family, all: &[Advert]) {
    let from_master = adverts_from(all, family.a);
    assert!(from_master.len() >= 5, "{all:?}");
    for advert in &from_master {
        assert_eq!(advert.dst, family.b, "unicast to the peer only: {advert:?}");
        assert_eq!(advert.ttl, 255, "{advert:?}");
        let (repr, mode) = advert
            .parsed
            .as_ref()
            .unwrap_or_else(|err| panic!("vrrp-wire rejects {advert:?}: {err}"));
        assert_eq!(*mode, ChecksumMode::PseudoHeader);
        assert_eq!(
            (repr.version, repr.vrid, repr.priority),
            (Version::V3, 1, 200)
        );
        let as_if_multicast = Repr::parse_bytes(&advert.payload, advert.src, family.group);
        assert!(
            as_if_multicast.is_err(),
            "the checksum must cover the real destination, not the group: {advert:?}"
        );
    }
    assert!(
        all.iter().all(|advert| !advert.dst.is_multicast()),
        "{all:?}"
    );
    let stamps: Vec<Duration> = from_master.iter().map(|a| a.timestamp).collect();
    let spacing = mean_spacing(&stamps).unwrap();
    eprintln!(
        "MEASURE unicast family={} adverts_to_peer={} mean_spacing_us={}",
        family.name,
        stamps.len(),
        spacing.as_micros()
    );
    assert!(
        spacing >= Duration::from_millis(80) && spacing <= Duration::from_millis(200),
        "adverts to the live peer every {spacing:?}, expected the 100 ms interval (a send held up \
         by the silent peer would stretch it)"
    );
}

/// Host 2 (no daemon, not a peer) sends the master three valid priority-254 adverts to its own
/// address, hop limit 255: all three are discarded as `source_not_a_unicast_peer` and the master
/// stays master.
fn stranger_is_discarded(lab: &Lab, master: &Keepvip, family: &Family) {
    let stranger = match family.a {
        IpAddr::V4(_) => IpAddr::V4(lab.host(2).ipv4),
        IpAddr::V6(a) if a.is_unicast_link_local() => IpAddr::V6(lab.host(2).link_local.unwrap()),
        IpAddr::V6(_) => IpAddr::V6(lab.host(2).ipv6.unwrap()),
    };
    let addresses = match family.vip {
        IpAddr::V4(vip) => vrrp_wire::Addresses::V4(vec![vip]),
        // The listed VIP only, as keepvip advertises it (no link-local VIP is listed).
        IpAddr::V6(vip) => vrrp_wire::Addresses::V6(vec![vip]),
    };
    let repr = Repr {
        version: Version::V3,
        vrid: 1,
        priority: 254,
        max_adver_int: vrrp_wire::Centisecs::new(10).unwrap(),
        addresses,
        auth: Auth::None,
    };
    let bytes = repr
        .to_bytes(stranger, family.a, ChecksumMode::PseudoHeader)
        .unwrap();
    let ns = &lab.host(2).ns;
    match (stranger, family.a) {
        (IpAddr::V4(from), IpAddr::V4(to)) => send_vrrp_v4_to(ns, from, to, 255, &vec![bytes; 3]),
        (IpAddr::V6(from), IpAddr::V6(to)) => send_vrrp_v6_to(ns, from, to, 255, &vec![bytes; 3]),
        _ => unreachable!("one family"),
    }
    .unwrap();
    let counted = wait_for_value(
        "the master to count the stranger's adverts",
        Duration::from_secs(5),
        Duration::from_millis(20),
        || {
            let instance = master.instance("VI_1")?;
            let n = instance.discards.get("source_not_a_unicast_peer").copied();
            Ok(n.filter(|n| *n >= 3))
        },
    );
    let (n, _) = counted.unwrap_or_else(|err| panic!("{err}\n{}", master.describe()));
    assert_eq!(n, 3, "{}", master.describe());
    assert_eq!(master.instance("VI_1").unwrap().state, MASTER);
    assert!(
        master.transitions().iter().all(|t| t.reason != "preempted"),
        "{}",
        master.describe()
    );
}

/// The whole scenario for one family (`family_v4`, `family_v6`, `family_v6_link_local`); see the
/// module docs.
fn unicast_pair_elects_and_fails_over(watch: &PauseWatch, ipv6: bool, family: fn(&Lab) -> Family) {
    let builder = Lab::builder("unicast").hosts(3).drop_vrrp_multicast();
    let builder = if ipv6 {
        builder.ipv6(Ipv6Mode::NoDad)
    } else {
        builder
    };
    let lab = builder.build().unwrap();
    let family = family(&lab);
    let filter: &[&str] = if ipv6 {
        &["ip6", "proto", "112", "or", "icmp6"]
    } else {
        &["ip", "proto", "112", "or", "arp"]
    };
    let capture = lab.capture("vrrp", filter).unwrap();
    watch.capture(&capture);
    let (b_text, a_text) = (family.b.to_string(), family.a.to_string());
    let master_spec = family.spec(200, family.a, &[&b_text, family.silent_peer]);
    let master = start_keepvip(&lab, 0, 0, &master_spec);
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    let backup = start_keepvip(&lab, 1, 0, &family.spec(100, family.b, &[&a_text]));
    expect_state(&backup, BACKUP, election_timeout(INTERVAL));
    watch.master(&master, family.a, INTERVAL, 100);
    expect_adverts_received(&backup, 5, election_timeout(INTERVAL));
    assert!(has_vip(&lab, 0, family.vip) && !has_vip(&lab, 1, family.vip));
    let status = master.instance("VI_1").unwrap();
    assert_eq!(status.unicast_peers, [b_text.as_str(), family.silent_peer]);
    assert_eq!(status.source, a_text);
    eprintln!(
        "MEASURE unicast family={} master sent={} send_failed={}",
        family.name, status.adverts_sent, status.adverts_send_failed
    );
    let frames = capture
        .wait_for_frames(
            "5 adverts from the master",
            Duration::from_secs(5),
            |frames| adverts_from(&adverts(frames), family.a).len() >= 5,
        )
        .unwrap();
    check_master_adverts(&family, &adverts(&frames));
    stranger_is_discarded(&lab, &master, &family);

    watch.silencing(family.a);
    let killed_at = wall_clock();
    master.kill().unwrap();
    expect_state(&backup, MASTER, election_timeout(INTERVAL));
    let b_mac = lab.host(1).mac;
    let takeover = observe_takeover(
        &capture,
        family.a,
        family.b,
        killed_at,
        Duration::from_secs(5),
        |_| true,
        |frames| match family.vip {
            IpAddr::V4(vip) => gratuitous_arps(frames, vip)
                .iter()
                .any(|arp| arp.timestamp > killed_at && arp.eth_src == b_mac),
            IpAddr::V6(vip) => unsolicited_nas(frames, vip)
                .iter()
                .any(|na| na.timestamp > killed_at && na.eth_src == b_mac),
        },
    );
    let mdi = master_down_interval(INTERVAL, 100);
    takeover.assert_within(
        watch,
        &format!("unicast_{}_sigkill_mdi", family.name),
        INTERVAL,
        mdi,
    );
    let first = &takeover.first;
    assert_eq!((first.dst, first.ttl), (family.a, 255), "{first:?}");
    assert!(first.parsed.is_ok(), "{first:?}");
    expect_vip(&lab, 1, family.vip, true, Duration::from_secs(2));
    assert!(
        backup
            .transitions()
            .iter()
            .any(|t| t.to == MASTER && t.reason == "master_down"),
        "{}",
        backup.describe()
    );
    capture.stop().unwrap();
}

#[test]
fn ipv4_unicast_pair_elects_one_master_and_fails_over() {
    retry_on_machine_pause(
        "ipv4_unicast_pair_elects_one_master_and_fails_over",
        |watch| {
            unicast_pair_elects_and_fails_over(watch, false, family_v4);
        },
    );
}

#[test]
fn ipv6_unicast_pair_elects_one_master_and_fails_over() {
    retry_on_machine_pause(
        "ipv6_unicast_pair_elects_one_master_and_fails_over",
        |watch| {
            unicast_pair_elects_and_fails_over(watch, true, family_v6);
        },
    );
}

#[test]
fn ipv6_link_local_unicast_pair_elects_one_master_and_fails_over() {
    retry_on_machine_pause(
        "ipv6_link_local_unicast_pair_elects_one_master_and_fails_over",
        |watch| unicast_pair_elects_and_fails_over(watch, true, family_v6_link_local),
    );
}

/// Moving a pair to unicast one node at a time, on an ordinary switch: host 0 still multicast,
/// host 1 already unicast to host 0. VRID 1 has the multicast node at 200: the unicast node hears
/// its multicast adverts (a listed source, any destination) and stays backup. VRID 2 has the unicast
/// node at 200: the multicast node hears the adverts sent to its own address and stays backup. One
/// master per VRID throughout.
#[test]
fn a_pair_half_moved_to_unicast_still_elects_one_master_per_vrid() {
    let lab = Lab::builder("unicastmix").hosts(2).build().unwrap();
    let (a, b) = (lab.host(0).ipv4.to_string(), lab.host(1).ipv4.to_string());
    let vrid = |spec: InstanceSpec, vrid: u8, name: &str| {
        let mut spec = spec.vrid(vrid);
        spec.name = name.into();
        spec
    };
    let multicast = [
        vrid(
            InstanceSpec::new(200, INTERVAL, &["192.0.2.100/24"]),
            1,
            "VI_1",
        ),
        vrid(
            InstanceSpec::new(100, INTERVAL, &["192.0.2.200/24"]),
            2,
            "VI_2",
        ),
    ];
    let unicast = [
        vrid(
            InstanceSpec::new(100, INTERVAL, &["192.0.2.100/24"]),
            1,
            "VI_1",
        )
        .unicast(&[&a], None),
        vrid(
            InstanceSpec::new(200, INTERVAL, &["192.0.2.200/24"]),
            2,
            "VI_2",
        )
        .unicast(&[&a], None),
    ];
    let h0 = Keepvip::start(&lab, 0, "h0", &config_toml("h0", &multicast)).unwrap();
    let h1 = Keepvip::start(&lab, 1, "h1", &config_toml("h1", &unicast)).unwrap();
    let timeout = election_timeout(INTERVAL);
    h0.wait_state("VI_1", MASTER, timeout).unwrap();
    h1.wait_state("VI_2", MASTER, timeout).unwrap();
    h1.wait_state("VI_1", BACKUP, timeout).unwrap();
    h0.wait_state("VI_2", BACKUP, timeout).unwrap();
    std::thread::sleep(master_down_interval(INTERVAL, 100) * 3);
    for (daemon, master, backup) in [(&h0, "VI_1", "VI_2"), (&h1, "VI_2", "VI_1")] {
        assert_eq!(
            daemon.instance(master).unwrap().state,
            MASTER,
            "{}",
            daemon.describe()
        );
        let backup = daemon.instance(backup).unwrap();
        assert_eq!(backup.state, BACKUP, "{}", daemon.describe());
        assert!(backup.adverts_received >= 5, "{}", daemon.describe());
        assert!(backup.discards.is_empty(), "{}", daemon.describe());
    }
    assert_eq!(
        h1.instance("VI_1").unwrap().master.as_deref(),
        Some(a.as_str())
    );
    assert_eq!(
        h0.instance("VI_2").unwrap().master.as_deref(),
        Some(b.as_str())
    );
}

/// A `unicast_source` that is not on the interface at startup: the instance starts in FAULT
/// (`source_lost`), as for an interface without a source address, and does not take the interface's
/// primary address instead; once the address is added it comes up and advertises from it.
#[test]
fn a_missing_unicast_source_waits_in_fault_until_it_appears() {
    // Host 1 (no daemon) is the peer's address, so the adverts to it resolve and reach the wire.
    let lab = Lab::builder("unicastsrc")
        .hosts(2)
        .drop_vrrp_multicast()
        .build()
        .unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let spec = InstanceSpec::new(200, INTERVAL, &["192.0.2.100/24"])
        .unicast(&["192.0.2.2"], Some("192.0.2.9"));
    let daemon = Keepvip::start(&lab, 0, "h0", &config_toml("h0", &[spec])).unwrap();
    daemon
        .wait_state("VI_1", FAULT, election_timeout(INTERVAL))
        .unwrap();
    std::thread::sleep(master_down_interval(INTERVAL, 200) * 2);
    let status = daemon.instance("VI_1").unwrap();
    assert_eq!(
        (
            status.state.as_str(),
            status.fault.as_deref(),
            status.source.as_str()
        ),
        (FAULT, Some("source_lost"), "192.0.2.9"),
        "{}",
        daemon.describe()
    );
    assert!(!has_vip(&lab, 0, IpAddr::V4(VIP4)));
    let ns = lab.host(0).ns.clone();
    netns_tests::cmd::ip(&["-n", &ns, "addr", "add", "192.0.2.9/24", "dev", "eth0"]).unwrap();
    expect_state(&daemon, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP4), true, Duration::from_secs(2));
    let frames = capture
        .wait_for_frames(
            "an advert from 192.0.2.9",
            Duration::from_secs(5),
            |frames| !adverts(frames).is_empty(),
        )
        .unwrap();
    let all = adverts(&frames);
    let source: IpAddr = "192.0.2.9".parse().unwrap();
    let peer: IpAddr = "192.0.2.2".parse().unwrap();
    assert!(
        all.iter()
            .all(|a| a.src == source && a.dst == peer && a.parsed.is_ok()),
        "{all:?}"
    );
    capture.stop().unwrap();
}
