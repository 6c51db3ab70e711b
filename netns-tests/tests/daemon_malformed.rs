//! Malformed adverts injected from a third host into a running pair of real keepvip daemons: each is
//! dropped and counted in `keepvip status --json` under the exact label the daemon reports (per
//! instance when its VRID is configured, top level otherwise), and nothing changes: the master stays
//! master with the VIP, no transition happens. Every bad advert claims priority 250, so accepting any
//! of them would make the 200 master step down. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use keepvip::control::Status;
use netns_tests::Lab;
use netns_tests::daemon::inject::{seal_message_only, send_vrrp_v4};
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, has_vip, start_keepvip,
};
use netns_tests::daemon::wire::adverts;
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::wait_for_value;
use vrrp_wire::{
    Addresses, Auth, Centisecs, ChecksumMode, Repr, VRRP_IPV4_GROUP, Version, WireError,
};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const ROGUE_PRIORITY: u8 = 250;
/// Each bad packet is sent this many times; the counters must show exactly this.
const REPEAT: u64 = 3;

fn rogue(version: Version, vrid: u8, interval_cs: u16) -> Repr {
    Repr {
        version,
        vrid,
        priority: ROGUE_PRIORITY,
        max_adver_int: Centisecs::new(interval_cs).unwrap(),
        addresses: Addresses::V4(vec![VIP]),
        auth: Auth::None,
    }
}

fn bytes(repr: &Repr, src: Ipv4Addr) -> Vec<u8> {
    let mode = repr.checksum_mode(ChecksumMode::PseudoHeader);
    repr.to_bytes(IpAddr::V4(src), IpAddr::V4(VRRP_IPV4_GROUP), mode)
        .unwrap()
}

/// The per-instance and top-level discard maps of a daemon.
fn discards(status: &Status) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    (
        status.instances[0].discards.clone(),
        status.discards.clone(),
    )
}

fn expected(labels: &[&str]) -> BTreeMap<String, u64> {
    labels
        .iter()
        .map(|label| ((*label).to_owned(), REPEAT))
        .collect()
}

/// Wait until `daemon` counted every injected packet, then return its status.
fn counted(
    daemon: &Keepvip,
    per_instance: &BTreeMap<String, u64>,
    top: &BTreeMap<String, u64>,
) -> Status {
    let waited = wait_for_value(
        &format!("{} to count the injected packets", daemon.label()),
        Duration::from_secs(5),
        Duration::from_millis(20),
        || {
            let status = daemon.status()?;
            let (mine, global) = discards(&status);
            Ok((&mine == per_instance && &global == top).then_some(status))
        },
    );
    match waited {
        Ok((status, _)) => status,
        Err(err) => panic!("{err}\n{}", daemon.describe()),
    }
}

#[test]
fn malformed_adverts_are_dropped_counted_by_reason_and_change_nothing() {
    let interval = Interval::from_millis(100);
    let lab = Lab::builder("malformed").hosts(3).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let vip = IpAddr::V4(VIP);
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval, &[VIP_CIDR]));
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &[VIP_CIDR]));
    expect_state(&backup, BACKUP, election_timeout(interval));
    expect_adverts_received(&backup, 2, election_timeout(interval));
    let before = [master.status().unwrap(), backup.status().unwrap()];
    for status in &before {
        let (mine, global) = discards(status);
        assert!(mine.is_empty() && global.is_empty(), "{status:?}");
    }

    let rogue_host = lab.host(2).clone();
    let src = rogue_host.ipv4;
    let valid = bytes(&rogue(Version::V3, 1, 10), src);
    let mut bad_checksum = valid.clone();
    bad_checksum[6] ^= 0x5a;
    // Count 0 with a correct (message-only) checksum: only the count rule is broken.
    let mut count_zero = vec![0x31, 1, ROGUE_PRIORITY, 0, 0, 10, 0, 0];
    seal_message_only(&mut count_zero);
    // Shorter than the 8-byte header, and a header whose count promises an address that is missing.
    let truncated = valid[..6].to_vec();
    let mut too_short = valid[..8].to_vec();
    seal_message_only(&mut too_short);
    let unknown_vrid = bytes(&rogue(Version::V3, 99, 10), src);
    let too_short_for_a_vrid = vec![0x31];
    let v2 = bytes(&rogue(Version::V2, 1, 100), src);
    // The rule each breaks, as vrrp-wire names it (the daemon counts these labels).
    let wire_reason = |payload: &[u8]| {
        Repr::parse_bytes(payload, IpAddr::V4(src), IpAddr::V4(VRRP_IPV4_GROUP))
            .err()
            .map(|err: WireError| err.reason())
    };
    assert_eq!(wire_reason(&bad_checksum), Some("bad_checksum"));
    assert_eq!(wire_reason(&count_zero), Some("address_count_zero"));
    assert_eq!(wire_reason(&truncated), Some("truncated"));
    assert_eq!(wire_reason(&too_short), Some("too_short"));
    assert_eq!(wire_reason(&unknown_vrid), None);
    assert_eq!(wire_reason(&v2), None);

    let good_ttl: Vec<Vec<u8>> = [
        &bad_checksum,
        &count_zero,
        &truncated,
        &too_short,
        &unknown_vrid,
        &too_short_for_a_vrid,
        &v2,
    ]
    .iter()
    .map(|payload| (*payload).clone())
    .collect();
    for _ in 0..REPEAT {
        // RFC 5798 §7.1: TTL must be 255 — a valid advert with TTL 64.
        send_vrrp_v4(&rogue_host.ns, src, 64, std::slice::from_ref(&valid)).unwrap();
        send_vrrp_v4(&rogue_host.ns, src, 255, &good_ttl).unwrap();
    }

    // Labels from vrrp-wire's `WireError::reason`, the daemon's `receive::UNKNOWN_VRID`, and
    // vrrp-core's `Discard::label` (VRRPv2 to a VRRPv3 router).
    let per_instance = expected(&[
        "bad_hop_limit",
        "bad_checksum",
        "address_count_zero",
        "truncated",
        "too_short",
        "version_mismatch",
    ]);
    let top = expected(&["vrid_not_configured", "truncated"]);
    let after = [
        counted(&master, &per_instance, &top),
        counted(&backup, &per_instance, &top),
    ];
    // A few intervals later: still master / backup, no transition, nothing else counted.
    std::thread::sleep(interval.duration() * 5);
    expect_state(&master, MASTER, Duration::ZERO);
    expect_state(&backup, BACKUP, Duration::ZERO);
    for ((daemon, was), now) in [&master, &backup].iter().zip(&before).zip(&after) {
        let latest = daemon.status().unwrap();
        assert_eq!(discards(&latest), discards(now), "{}", daemon.describe());
        let (was, latest) = (&was.instances[0], &latest.instances[0]);
        assert_eq!(latest.transitions, was.transitions, "{}", daemon.describe());
        assert_eq!(latest.effective_priority, was.effective_priority);
        assert_eq!(latest.master, was.master, "{}", daemon.describe());
    }
    assert!(has_vip(&lab, 0, vip) && !has_vip(&lab, 1, vip));

    // The injected packets really were on the wire as built (TTL 64 once per round, the rest 255).
    let frames = capture.stop().unwrap();
    let injected: Vec<_> = adverts(&frames)
        .into_iter()
        .filter(|advert| advert.src == IpAddr::V4(src))
        .collect();
    assert_eq!(injected.len(), (REPEAT as usize) * 8, "{injected:?}");
    assert_eq!(
        injected.iter().filter(|a| a.ttl == 64).count(),
        REPEAT as usize
    );
    // And tcpdump's decoder flags the corrupted checksum: the token daemon_election relies on.
    let text = capture.decode().unwrap();
    let flagged = text
        .lines()
        .filter(|line| line.contains("bad vrrp cksum"))
        .count();
    assert!(flagged >= REPEAT as usize, "{text}");
}
