//! Three real keepvip daemons on one VRID: the best remaining backup takes over when the master dies,
//! and between equal priorities the higher primary address wins (RFC 5798 §6.4.3 (730)). Root only; run
//! with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::Lab;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, attach_to_bridge, election_timeout, expect_adverts_received, expect_state,
    expect_vip, has_vip, start_keepvip,
};
use netns_tests::daemon::takeover::observe_takeover;
use netns_tests::daemon::timing::Tolerance;
use netns_tests::daemon::wire::{adverts, wall_clock};
use netns_tests::daemon::{
    InstanceSpec, Interval, PauseWatch, master_down_interval, retry_on_machine_pause, skew_time,
};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";

/// 200, 150 and 100; SIGKILL the 200. The 150's timer (shorter Skew_Time) fires first: it becomes
/// master with the VIP and the 100 stays backup. When the two skews differ by more than the takeover
/// tolerance (at 1 s: 195 ms apart against +50 ms; at 10 ms: 1.95 ms against +25 ms), the test also
/// demands the order on the wire: the first advert after the silence is the 150's, one MDI after the
/// dead master's last, and the 100 never became master. At smaller gaps a loaded machine may let the
/// 100 fire too; RFC 5798 then settles it (§6.4.3 (725)), and only the end state is asserted.
/// `watch`: the 200 must advertise until the kill (the 150 listens), the 150 from its takeover on
/// (the 100 listens); the strict takeover is measured (retry.rs).
fn best_backup_takes_over(watch: &PauseWatch, interval: Interval) {
    let lab = Lab::builder("three").hosts(3).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    watch.capture(&capture);
    let vip = IpAddr::V4(VIP);
    let priorities = [200, 150, 100];
    let specs = priorities.map(|priority| InstanceSpec::new(priority, interval, &[VIP_CIDR]));
    let master = start_keepvip(&lab, 0, 0, &specs[0]);
    expect_state(&master, MASTER, election_timeout(interval));
    let second = start_keepvip(&lab, 1, 0, &specs[1]);
    let third = start_keepvip(&lab, 2, 0, &specs[2]);
    for backup in [&second, &third] {
        expect_state(backup, BACKUP, election_timeout(interval));
        expect_adverts_received(backup, 2, election_timeout(interval));
    }
    let addr = |index: usize| IpAddr::V4(lab.host(index).ipv4);
    // Registered once both backups have heard it: the 150's MDI is the shorter one.
    watch.master(&master, addr(0), interval, 150);

    watch.silencing(addr(0));
    let killed_at = wall_clock();
    master.kill().unwrap();
    expect_state(&second, MASTER, election_timeout(interval));
    watch.master(&second, addr(1), interval, 100);
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    // Past the moment the 100's own timer would have fired, and two adverts more, the order holds.
    let settle = master_down_interval(interval, 100) - master_down_interval(interval, 150)
        + interval.duration() * 2;
    std::thread::sleep(settle.max(Duration::from_millis(100)));
    expect_state(&second, MASTER, Duration::ZERO);
    expect_state(&third, BACKUP, Duration::ZERO);
    assert!(!has_vip(&lab, 2, vip), "the 100 must not hold the VIP");

    let strict =
        skew_time(interval, 100) - skew_time(interval, 150) > Tolerance::takeover(interval).late;
    assert_eq!(strict, interval == Interval::from_millis(1000));
    if strict {
        let (a, b, c) = (lab.host(0).ipv4, lab.host(1).ipv4, lab.host(2).ipv4);
        let takeover = observe_takeover(
            &capture,
            IpAddr::V4(a),
            IpAddr::V4(b),
            killed_at,
            Duration::from_secs(5),
            |_| true,
            |_| true,
        );
        takeover.assert_within(
            watch,
            "three_best_mdi",
            interval,
            master_down_interval(interval, 150),
        );
        let from_third: Vec<_> = adverts(&takeover.frames)
            .into_iter()
            .filter(|advert| advert.src == IpAddr::V4(c))
            .collect();
        assert!(from_third.is_empty(), "the 100 advertised: {from_third:?}");
        assert!(
            third.transitions().iter().all(|t| t.to != MASTER),
            "{}",
            third.describe()
        );
    }
    capture.stop().unwrap();
}

#[test]
fn best_backup_takes_over_when_the_master_dies_at_1s() {
    retry_on_machine_pause(
        "best_backup_takes_over_when_the_master_dies_at_1s",
        |watch| {
            best_backup_takes_over(watch, Interval::from_millis(1000));
        },
    );
}

#[test]
fn best_backup_takes_over_when_the_master_dies_at_10ms() {
    retry_on_machine_pause(
        "best_backup_takes_over_when_the_master_dies_at_10ms",
        |watch| {
            best_backup_takes_over(watch, Interval::from_millis(10));
        },
    );
}

/// 192.0.2.1, .2 and .3, all priority 100. Each starts cut off from the others (its switch port out of
/// the bridge, carrier kept) and becomes master with the VIP; joined again, the three masters hear each
/// other's equal-priority adverts and the lower addresses step down (§6.4.3 (730)-(735)): .3 is the
/// only master and the only holder of the VIP. (Started together on one link instead, whichever timer
/// fires first wins, because a backup accepts an equal priority: §6.4.2 (420).) `watch`: .3 must keep
/// advertising once the others stepped down (retry.rs).
fn equal_priorities_highest_address_wins(watch: &PauseWatch, interval: Interval) {
    let lab = Lab::builder("tiebreak").hosts(3).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    watch.capture(&capture);
    let vip = IpAddr::V4(VIP);
    for index in 0..3 {
        attach_to_bridge(&lab, index, false);
    }
    let spec = InstanceSpec::new(100, interval, &[VIP_CIDR]);
    let daemons: Vec<_> = (0..3)
        .map(|index| start_keepvip(&lab, index, 0, &spec))
        .collect();
    for (index, daemon) in daemons.iter().enumerate() {
        expect_state(daemon, MASTER, election_timeout(interval));
        expect_vip(&lab, index, vip, true, Duration::from_secs(2));
    }

    let joined_at = wall_clock();
    for index in 0..3 {
        attach_to_bridge(&lab, index, true);
    }
    expect_state(&daemons[0], BACKUP, election_timeout(interval));
    expect_state(&daemons[1], BACKUP, election_timeout(interval));
    watch.master(&daemons[2], IpAddr::V4(lab.host(2).ipv4), interval, 100);
    std::thread::sleep(master_down_interval(interval, 100) * 3);
    expect_state(&daemons[2], MASTER, Duration::ZERO);
    for (index, daemon) in daemons.iter().enumerate().take(2) {
        expect_state(daemon, BACKUP, Duration::ZERO);
        expect_vip(&lab, index, vip, false, Duration::from_secs(2));
        let status = daemon.instance("VI_1").unwrap();
        assert_eq!(status.master.as_deref(), Some("192.0.2.3"), "{status:?}");
    }
    assert!(has_vip(&lab, 2, vip));
    // On the wire: after the join, the last adverts are .3's only.
    let frames = capture.frames().unwrap();
    let after: Vec<_> = adverts(&frames)
        .into_iter()
        .filter(|advert| advert.timestamp > joined_at)
        .collect();
    let tail = &after[after.len().saturating_sub(5)..];
    assert!(
        !tail.is_empty()
            && tail
                .iter()
                .all(|advert| advert.src == IpAddr::V4(lab.host(2).ipv4)),
        "{tail:?}"
    );
    capture.stop().unwrap();
}

#[test]
fn equal_priorities_highest_address_wins_at_10ms() {
    retry_on_machine_pause("equal_priorities_highest_address_wins_at_10ms", |watch| {
        equal_priorities_highest_address_wins(watch, Interval::from_millis(10));
    });
}
