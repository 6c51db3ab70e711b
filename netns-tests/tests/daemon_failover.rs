//! Failover between two real keepvip daemons: the master is SIGKILLed (silent death) or SIGTERMed
//! (resigns with a priority-0 advert). Timing is measured on the wire from kernel capture timestamps
//! against RFC 5798 §6.1's Master_Down_Interval and Skew_Time, within `Tolerance::takeover`:
//! [-1 ms, +25 ms] at 10 ms, [-5 ms, +50 ms] at 1 s. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::Lab;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip, has_vip,
    start_keepvip,
};
use netns_tests::daemon::takeover::{observe_takeover, print_summary};
use netns_tests::daemon::wire::{adverts, adverts_from, wall_clock};
use netns_tests::daemon::{
    InstanceSpec, Interval, PauseWatch, master_down_interval, retry_on_machine_pause, skew_time,
};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const MASTER_PRIORITY: u8 = 200;
const BACKUP_PRIORITY: u8 = 100;

/// `cycles` times: SIGKILL the 200 master; the 100 backup's first advert comes one Master_Down_Interval
/// (its own priority, the master's interval) after the master's last advert, within the takeover
/// tolerance; the backup then holds the VIP (the dead master's copy stays: nobody removes it) and a
/// gratuitous ARP for the VIP (sender IP = target IP = VIP) leaves from the backup's MAC. Between cycles
/// the master restarts, clears its stale VIP and preempts back. `watch`: each master incarnation must
/// advertise until its kill, and each takeover is measured (retry.rs).
fn sigkill_master_backup_takes_over_after_mdi(
    watch: &PauseWatch,
    interval: Interval,
    cycles: usize,
) {
    let lab = Lab::builder("sigkill").hosts(2).build().unwrap();
    let capture = lab
        .capture("vrrp", &["ip", "proto", "112", "or", "arp"])
        .unwrap();
    watch.capture(&capture);
    let (a, b) = (lab.host(0).clone(), lab.host(1).clone());
    let vip = IpAddr::V4(VIP);
    let master_spec = InstanceSpec::new(MASTER_PRIORITY, interval, &[VIP_CIDR]);
    let mut master = start_keepvip(&lab, 0, 0, &master_spec);
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(
        &lab,
        1,
        0,
        &InstanceSpec::new(BACKUP_PRIORITY, interval, &[VIP_CIDR]),
    );
    expect_state(&backup, BACKUP, election_timeout(interval));
    let mdi = master_down_interval(interval, BACKUP_PRIORITY);
    watch.master(&master, IpAddr::V4(a.ipv4), interval, BACKUP_PRIORITY);
    let mut errors = Vec::new();
    let mut old_masters = Vec::new();
    for cycle in 0..cycles {
        expect_adverts_received(&backup, 2, election_timeout(interval));
        watch.silencing(IpAddr::V4(a.ipv4));
        let killed_at = wall_clock();
        master.kill().unwrap();
        expect_state(&backup, MASTER, election_timeout(interval));
        let takeover = observe_takeover(
            &capture,
            IpAddr::V4(a.ipv4),
            IpAddr::V4(b.ipv4),
            killed_at,
            Duration::from_secs(5),
            |_| true,
            |frames| {
                netns_tests::daemon::wire::gratuitous_arps(frames, VIP)
                    .iter()
                    .any(|arp| arp.timestamp > killed_at && arp.eth_src == b.mac)
            },
        );
        takeover.assert_within(watch, "sigkill_mdi", interval, mdi);
        errors.push(takeover.error_micros(mdi));
        assert!(
            takeover.trigger.timestamp < killed_at,
            "the dead master's last advert must precede the kill"
        );
        let garps = takeover.garps(VIP, b.mac);
        let garp = garps
            .first()
            .unwrap_or_else(|| panic!("no gratuitous ARP for {VIP} from {:02x?}", b.mac));
        assert_eq!(garp.eth_dst, [0xff; 6], "{garp:?}");
        assert!(
            garp.timestamp + Duration::from_millis(5) >= takeover.first.timestamp
                && garp.timestamp <= takeover.first.timestamp + Duration::from_secs(1),
            "the ARP announces the takeover (RFC 5798 §6.4.2 (375)): {garp:?} vs {:?}",
            takeover.first
        );
        expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
        assert!(
            has_vip(&lab, 0, vip),
            "after SIGKILL the VIP stays on the dead master's interface (cycle {cycle})"
        );
        assert!(
            backup
                .transitions()
                .iter()
                .any(|t| t.to == MASTER && t.reason == "master_down"),
            "{}",
            backup.describe()
        );
        if cycle + 1 < cycles {
            // Restart: the stale VIP goes at startup, then the 200 preempts the 100 back.
            old_masters.push(master);
            master = start_keepvip(&lab, 0, cycle + 1, &master_spec);
            expect_state(&master, MASTER, election_timeout(interval));
            expect_state(&backup, BACKUP, election_timeout(interval));
            watch.master(&master, IpAddr::V4(a.ipv4), interval, BACKUP_PRIORITY);
            expect_vip(&lab, 1, vip, false, Duration::from_secs(2));
            assert!(has_vip(&lab, 0, vip));
        }
    }
    print_summary("sigkill_mdi", interval, &errors);
    capture.stop().unwrap();
}

#[test]
fn sigkill_master_backup_takes_over_after_mdi_at_10ms() {
    retry_on_machine_pause(
        "sigkill_master_backup_takes_over_after_mdi_at_10ms",
        |watch| {
            sigkill_master_backup_takes_over_after_mdi(watch, Interval::from_millis(10), 5);
        },
    );
}

#[test]
fn sigkill_master_backup_takes_over_after_mdi_at_1s() {
    retry_on_machine_pause(
        "sigkill_master_backup_takes_over_after_mdi_at_1s",
        |watch| {
            sigkill_master_backup_takes_over_after_mdi(watch, Interval::from_millis(1000), 2);
        },
    );
}

/// SIGTERM the 200 master: it sends one priority-0 advert (RFC 5798 §6.4.3 (760)-(770)) and nothing
/// after it, removes its VIP and exits 0; the 100 backup's first advert comes its Skew_Time after the
/// priority-0 advert (§6.4.2 (440)-(445)), within the takeover tolerance, and it takes the VIP.
/// `watch`: the master must advertise until the SIGTERM; the takeover is measured (retry.rs).
fn sigterm_master_resigns_and_backup_takes_over_after_skew(watch: &PauseWatch, interval: Interval) {
    let lab = Lab::builder("sigterm").hosts(2).build().unwrap();
    let capture = lab
        .capture("vrrp", &["ip", "proto", "112", "or", "arp"])
        .unwrap();
    watch.capture(&capture);
    let (a, b) = (lab.host(0).clone(), lab.host(1).clone());
    let vip = IpAddr::V4(VIP);
    let master = start_keepvip(
        &lab,
        0,
        0,
        &InstanceSpec::new(MASTER_PRIORITY, interval, &[VIP_CIDR]),
    );
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(
        &lab,
        1,
        0,
        &InstanceSpec::new(BACKUP_PRIORITY, interval, &[VIP_CIDR]),
    );
    expect_state(&backup, BACKUP, election_timeout(interval));
    watch.master(&master, IpAddr::V4(a.ipv4), interval, BACKUP_PRIORITY);
    expect_adverts_received(&backup, 2, election_timeout(interval));

    watch.silencing(IpAddr::V4(a.ipv4));
    let terminated_at = wall_clock();
    master.terminate().unwrap();
    let status = master.wait_exit(Duration::from_secs(5)).unwrap();
    assert_eq!(status.code(), Some(0), "{}", master.describe());
    assert!(
        !has_vip(&lab, 0, vip),
        "a resigning master removes its VIP before it exits"
    );
    expect_state(&backup, MASTER, election_timeout(interval));
    let takeover = observe_takeover(
        &capture,
        IpAddr::V4(a.ipv4),
        IpAddr::V4(b.ipv4),
        terminated_at,
        Duration::from_secs(5),
        |advert| advert.priority == Some(0),
        |frames| {
            netns_tests::daemon::wire::gratuitous_arps(frames, VIP)
                .iter()
                .any(|arp| arp.timestamp > terminated_at && arp.eth_src == b.mac)
        },
    );
    let resign = &takeover.trigger;
    assert!(resign.timestamp > terminated_at, "{resign:?}");
    assert_eq!(resign.ttl, 255);
    let repr = resign.repr();
    assert_eq!((repr.vrid, repr.priority), (1, 0), "{repr:?}");
    let skew = skew_time(interval, BACKUP_PRIORITY);
    takeover.assert_within(watch, "sigterm_skew", interval, skew);
    print_summary("sigterm_skew", interval, &[takeover.error_micros(skew)]);

    let from_old = adverts_from(&adverts(&takeover.frames), IpAddr::V4(a.ipv4));
    let after_resign: Vec<_> = from_old
        .iter()
        .filter(|advert| advert.timestamp > resign.timestamp)
        .collect();
    assert!(
        after_resign.is_empty(),
        "nothing after resigning: {after_resign:?}"
    );
    assert_eq!(
        from_old
            .iter()
            .filter(|advert| advert.priority == Some(0))
            .count(),
        1,
        "exactly one priority-0 advert"
    );
    assert!(
        !takeover.garps(VIP, b.mac).is_empty(),
        "GARP from the new master"
    );
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    assert!(
        master.transitions().iter().any(|t| t.reason == "shutdown"),
        "{}",
        master.describe()
    );
    capture.stop().unwrap();
}

#[test]
fn sigterm_master_resigns_and_backup_takes_over_after_skew_at_10ms() {
    retry_on_machine_pause(
        "sigterm_master_resigns_and_backup_takes_over_after_skew_at_10ms",
        |watch| {
            sigterm_master_resigns_and_backup_takes_over_after_skew(
                watch,
                Interval::from_millis(10),
            );
        },
    );
}

#[test]
fn sigterm_master_resigns_and_backup_takes_over_after_skew_at_1s() {
    retry_on_machine_pause(
        "sigterm_master_resigns_and_backup_takes_over_after_skew_at_1s",
        |watch| {
            sigterm_master_resigns_and_backup_takes_over_after_skew(
                watch,
                Interval::from_millis(1000),
            );
        },
    );
}
