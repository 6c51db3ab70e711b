//! Two real keepvip daemons on IPv6 (RFC 5798 §5.1.2): adverts from the link-local address to ff02::12
//! with hop limit 255, a listed link-local VIP first, failover with unsolicited Neighbor
//! Advertisements. The lab runs Duplicate Address Detection, so the daemons start while their own
//! link-local addresses may still be tentative and must wait for them. Root only; run with
//! `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip, has_vip,
    start_keepvip,
};
use netns_tests::daemon::takeover::observe_takeover;
use netns_tests::daemon::wire::{adverts, adverts_from, unsolicited_nas, wall_clock};
use netns_tests::daemon::{
    InstanceSpec, Interval, PauseWatch, master_down_interval, retry_on_machine_pause,
};
use netns_tests::frames::mac_to_string;
use netns_tests::{HOST_IF, Ipv6Mode, Lab, kernel};
use vrrp_wire::{Addresses, ChecksumMode, VRRP_IPV6_GROUP, Version};

const GLOBAL_VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
/// The link-local VIP conf/README.md suggests for VRID 1 (fe80::200:5eff:fe00:2XX): advertised only
/// because it is listed, and first although listed second (RFC 9568 §5.2.9).
const LINK_LOCAL_VIP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x200, 0x5eff, 0xfe00, 0x201);
const VIPS: [&str; 2] = ["2001:db8::100/64", "fe80::200:5eff:fe00:201/64"];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Both VIPs on host `index` are usable: present, not tentative, DAD not failed.
fn assert_vips_usable(lab: &Lab, index: usize) {
    let addresses = kernel::addresses(&lab.host(index).ns, HOST_IF).unwrap();
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        let found = addresses
            .iter()
            .find(|entry| entry.address == IpAddr::V6(vip))
            .unwrap_or_else(|| panic!("{vip} missing on host {index}: {addresses:?}"));
        assert!(!found.tentative && !found.dadfailed, "{found:?}");
    }
}

/// 200 and 100 with `vips = ["2001:db8::100/64", "fe80::200:5eff:fe00:201/64"]`: the 200's adverts
/// carry [fe80::200:5eff:fe00:201, 2001:db8::100] from its EUI-64 link-local address to ff02::12 (33:33:00:00:00:12) with hop limit
/// 255 and a checksum vrrp-wire accepts; both VIPs are on the master only. SIGKILL it: the backup
/// advertises one MDI after its last advert (takeover tolerance as in daemon_failover), holds both VIPs,
/// and sends an unsolicited NA for each (RFC 5798 §6.4.2 (395)-(400): to ff02::1 from its link-local
/// address, Override set, Solicited clear, its MAC as target link-layer address). `watch`: the master
/// must advertise until the kill; the takeover is measured (retry.rs).
fn ipv6_pair_elects_and_fails_over(watch: &PauseWatch, interval: Interval) {
    let lab = Lab::builder("ipv6")
        .hosts(2)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let capture = lab
        .capture("vrrp6", &["ip6", "proto", "112", "or", "icmp6"])
        .unwrap();
    watch.capture(&capture);
    let (a, b) = (lab.host(0).clone(), lab.host(1).clone());
    let (a_ll, b_ll) = (a.link_local.unwrap(), b.link_local.unwrap());
    let dad_running = kernel::addresses(&a.ns, HOST_IF)
        .unwrap()
        .iter()
        .any(|entry| entry.address == IpAddr::V6(a_ll) && entry.tentative);
    eprintln!("host 0's link-local address tentative when keepvip starts: {dad_running}");

    let vips = VIPS;
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval, &vips));
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &vips));
    expect_state(&backup, BACKUP, election_timeout(interval));
    watch.master(&master, IpAddr::V6(a_ll), interval, 100);
    expect_adverts_received(&backup, 2, election_timeout(interval));
    assert_vips_usable(&lab, 0);
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        assert!(!has_vip(&lab, 1, IpAddr::V6(vip)), "{vip} on the backup");
    }

    let frames = capture.frames().unwrap();
    let from_master = adverts_from(&adverts(&frames), IpAddr::V6(a_ll));
    assert!(from_master.len() >= 2, "{:?}", adverts(&frames));
    for advert in &from_master {
        assert_eq!(advert.dst, IpAddr::V6(VRRP_IPV6_GROUP), "{advert:?}");
        assert_eq!(advert.ttl, 255, "hop limit 255: {advert:?}");
        assert_eq!(advert.eth_src, a.mac);
        let (repr, mode) = advert
            .parsed
            .as_ref()
            .unwrap_or_else(|err| panic!("vrrp-wire rejects {advert:?}: {err}"));
        assert_eq!(*mode, ChecksumMode::PseudoHeader);
        assert_eq!(
            (repr.version, repr.vrid, repr.priority),
            (Version::V3, 1, 200)
        );
        assert_eq!(
            repr.addresses,
            Addresses::V6(vec![LINK_LOCAL_VIP, GLOBAL_VIP])
        );
    }
    let ipv6_vrrp = netns_tests::frames::ip_frames(&frames, 112);
    assert_eq!(
        mac_to_string(&ipv6_vrrp[0].eth_dst),
        "33:33:00:00:00:12",
        "{:?}",
        ipv6_vrrp[0]
    );
    // Every VRRP packet on the link is IPv6 from a link-local source (none went out early from `::`).
    assert!(
        adverts(&frames)
            .iter()
            .all(|advert| matches!(advert.src, IpAddr::V6(src) if src == a_ll || src == b_ll)),
        "{:?}",
        adverts(&frames)
    );

    watch.silencing(IpAddr::V6(a_ll));
    let killed_at = wall_clock();
    master.kill().unwrap();
    expect_state(&backup, MASTER, election_timeout(interval));
    let takeover = observe_takeover(
        &capture,
        IpAddr::V6(a_ll),
        IpAddr::V6(b_ll),
        killed_at,
        Duration::from_secs(5),
        |_| true,
        |frames| {
            [LINK_LOCAL_VIP, GLOBAL_VIP].iter().all(|vip| {
                unsolicited_nas(frames, *vip)
                    .iter()
                    .any(|na| na.timestamp > killed_at && na.eth_src == b.mac)
            })
        },
    );
    takeover.assert_within(
        watch,
        "ipv6_sigkill_mdi",
        interval,
        master_down_interval(interval, 100),
    );
    assert_eq!(takeover.first.repr().priority, 100);
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        let nas = unsolicited_nas(&takeover.frames, vip);
        let na = nas
            .iter()
            .find(|na| na.timestamp > killed_at && na.eth_src == b.mac)
            .unwrap_or_else(|| panic!("no unsolicited NA for {vip}: {nas:?}"));
        assert_eq!(
            (na.src, na.dst, na.hop_limit),
            (b_ll, ALL_NODES, 255),
            "{na:?}"
        );
        assert!(na.override_flag && !na.solicited, "{na:?}");
        assert_eq!(na.target_mac, Some(b.mac), "{na:?}");
        assert!(na.timestamp > takeover.trigger.timestamp, "{na:?}");
    }
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        expect_vip(&lab, 1, IpAddr::V6(vip), true, Duration::from_secs(2));
    }
    assert_vips_usable(&lab, 1);
    for daemon in [&master, &backup] {
        assert!(
            !daemon.logs().contains("advert not sent"),
            "no send failures (e.g. EADDRNOTAVAIL during DAD): {}",
            daemon.describe()
        );
    }
    capture.stop().unwrap();
}

#[test]
fn ipv6_pair_elects_and_fails_over_at_10ms() {
    retry_on_machine_pause("ipv6_pair_elects_and_fails_over_at_10ms", |watch| {
        ipv6_pair_elects_and_fails_over(watch, Interval::from_millis(10));
    });
}

/// The IPv6 master's link goes down and up again. Down: FAULT, its VIPs go, the backup takes over.
/// Up: the kernel makes a new, tentative link-local address; the daemon waits out DAD before it
/// rejoins (no advert fails with EADDRNOTAVAIL meanwhile), then preempts back: the VIPs return to it
/// and its adverts resume from the same link-local source.
#[test]
fn ipv6_master_link_flap_waits_for_dad_then_preempts_back_at_10ms() {
    let interval = Interval::from_millis(10);
    let lab = Lab::builder("ipv6flap")
        .hosts(2)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let capture = lab.capture("vrrp6", &["ip6", "proto", "112"]).unwrap();
    let a_ll = lab.host(0).link_local.unwrap();
    let vips = VIPS;
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval, &vips));
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &vips));
    expect_state(&backup, BACKUP, election_timeout(interval));
    expect_adverts_received(&backup, 2, election_timeout(interval));

    lab.set_host_link(0, false).unwrap();
    expect_state(&master, "FAULT", Duration::from_secs(5));
    expect_state(&backup, MASTER, election_timeout(interval));
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        expect_vip(&lab, 0, IpAddr::V6(vip), false, Duration::from_secs(2));
        expect_vip(&lab, 1, IpAddr::V6(vip), true, Duration::from_secs(2));
    }

    let up_at = wall_clock();
    lab.set_host_link(0, true).unwrap();
    // DAD takes one to two seconds on these links before the daemon may send.
    expect_state(&master, MASTER, Duration::from_secs(15));
    expect_state(&backup, BACKUP, election_timeout(interval));
    for vip in [LINK_LOCAL_VIP, GLOBAL_VIP] {
        expect_vip(&lab, 0, IpAddr::V6(vip), true, Duration::from_secs(2));
        expect_vip(&lab, 1, IpAddr::V6(vip), false, Duration::from_secs(2));
    }
    assert_vips_usable(&lab, 0);
    let frames = capture.frames().unwrap();
    let resumed: Vec<_> = adverts_from(&adverts(&frames), IpAddr::V6(a_ll))
        .into_iter()
        .filter(|advert| advert.timestamp > up_at)
        .collect();
    assert!(!resumed.is_empty(), "adverts from {a_ll} after link up");
    assert_eq!(resumed[0].repr().priority, 200);
    eprintln!(
        "MEASURE ipv6_rejoin first_advert_after_link_up_ms={}",
        resumed[0].timestamp.saturating_sub(up_at).as_millis()
    );
    // An advert the timer sends between the kernel flushing the address on link down and the daemon
    // reading the link event may fail (a benign race, logged once); after link up none may.
    let log = master.logs();
    let after_up = log
        .lines()
        .skip_while(|line| !(line.contains("link state changed") && line.contains("\"up\":true")))
        .collect::<Vec<_>>();
    assert!(!after_up.is_empty(), "no link-up line in the log:\n{log}");
    let failures: Vec<_> = after_up
        .iter()
        .filter(|line| line.contains("advert not sent"))
        .collect();
    assert!(
        failures.is_empty(),
        "send failures while the new link-local was tentative: {failures:?}\n{}",
        master.describe()
    );
    capture.stop().unwrap();
}
