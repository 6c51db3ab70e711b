//! Link loss on the master of two real keepvip daemons: it goes to FAULT (keepalived semantics) and
//! drops its VIP, the backup takes over one Master_Down_Interval after the master's last advert, and on
//! link up the old master preempts back after its own Master_Down_Interval, or, with preempt = false,
//! stays backup. Takeover tolerance as in daemon_failover: [-1 ms, +25 ms] at 10 ms, [-5 ms, +50 ms]
//! at 1 s. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::Lab;
use netns_tests::daemon::pause::Span;
use netns_tests::daemon::scenario::{
    BACKUP, FAULT, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip,
    has_vip, start_keepvip,
};
use netns_tests::daemon::takeover::observe_takeover;
use netns_tests::daemon::timing::Tolerance;
use netns_tests::daemon::wire::{adverts, first_advert_after, gratuitous_arps, wall_clock};
use netns_tests::daemon::{
    InstanceSpec, Interval, PauseWatch, master_down_interval, retry_on_machine_pause,
};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
/// The link-up path adds to the preempt-back delay what the takeover tolerance does not cover: `ip`
/// starting and the kernel's link notification reaching the daemon.
const LINK_UP_ALLOWANCE: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// `ip link set eth0 down` inside the master's namespace.
    AdminDown,
    /// The master's switch port down: the master sees carrier loss.
    Carrier,
}

fn set_master_link(lab: &Lab, cut: Cut, up: bool) {
    match cut {
        Cut::AdminDown => lab.set_host_link(0, up),
        Cut::Carrier => lab.set_switch_port(0, up),
    }
    .unwrap_or_else(|err| panic!("link {cut:?} up={up}: {err}"));
}

/// `watch`: the master must advertise until its link is cut, the backup (master then) from link up
/// on, when the old master listens again; the takeover and the preempt-back delay are measured.
fn link_loss_on_master(watch: &PauseWatch, interval: Interval, cut: Cut, preempt: bool) {
    let lab = Lab::builder("linkdown").hosts(2).build().unwrap();
    let capture = lab
        .capture("vrrp", &["ip", "proto", "112", "or", "arp"])
        .unwrap();
    watch.capture(&capture);
    let (a, b) = (lab.host(0).clone(), lab.host(1).clone());
    let (a_ip, b_ip, vip) = (IpAddr::V4(a.ipv4), IpAddr::V4(b.ipv4), IpAddr::V4(VIP));
    // The master starts alone so that it wins even with preempt = false.
    let master = start_keepvip(
        &lab,
        0,
        0,
        &InstanceSpec::new(200, interval, &[VIP_CIDR]).preempt(preempt),
    );
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &[VIP_CIDR]));
    expect_state(&backup, BACKUP, election_timeout(interval));
    watch.master(&master, a_ip, interval, 100);
    expect_adverts_received(&backup, 2, election_timeout(interval));

    watch.silencing(a_ip);
    let down_at = wall_clock();
    set_master_link(&lab, cut, false);
    expect_state(&master, FAULT, Duration::from_secs(5));
    expect_vip(&lab, 0, vip, false, Duration::from_secs(2));
    expect_state(&backup, MASTER, election_timeout(interval));
    let takeover = observe_takeover(
        &capture,
        a_ip,
        b_ip,
        down_at,
        Duration::from_secs(5),
        |_| true,
        |frames| {
            gratuitous_arps(frames, VIP)
                .iter()
                .any(|arp| arp.timestamp > down_at && arp.eth_src == b.mac)
        },
    );
    takeover.assert_within(
        watch,
        &format!("link_{cut:?}_mdi"),
        interval,
        master_down_interval(interval, 100),
    );
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    let fault = master.transitions();
    assert!(
        fault
            .iter()
            .any(|t| t.from == MASTER && t.to == FAULT && t.reason == "fault_link_down"),
        "{}",
        master.describe()
    );
    let received_before_up = master.instance("VI_1").unwrap().adverts_received;

    watch.master(&backup, b_ip, interval, 200);
    let up_at = wall_clock();
    set_master_link(&lab, cut, true);
    if preempt {
        expect_state(&master, MASTER, election_timeout(interval));
        expect_state(&backup, BACKUP, election_timeout(interval));
        expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
        expect_vip(&lab, 1, vip, false, Duration::from_secs(2));
        let frames = capture.frames().unwrap();
        let back = first_advert_after(&adverts(&frames), a_ip, up_at)
            .unwrap_or_else(|| panic!("no advert from the old master after link up"))
            .clone();
        assert_eq!(back.priority, Some(200), "{back:?}");
        // FAULT -> BACKUP on link up starts Master_Down_Timer (its own priority); the backup's lower
        // adverts are discarded (preempt), so it fires.
        let expected = master_down_interval(interval, 200);
        let delay = back.timestamp.saturating_sub(up_at);
        let tolerance = Tolerance::takeover(interval);
        watch.measured(
            "preempting back",
            Span::new(up_at, back.timestamp),
            expected + tolerance.late + LINK_UP_ALLOWANCE,
        );
        eprintln!(
            "MEASURE preempt_back kind=link_{cut:?} interval_ms={} expected_us={} measured_us={} \
             error_us={}",
            interval.as_millis(),
            expected.as_micros(),
            delay.as_micros(),
            netns_tests::daemon::timing::error_micros(expected, delay)
        );
        assert!(
            delay + tolerance.early >= expected
                && delay <= expected + tolerance.late + LINK_UP_ALLOWANCE,
            "preempting back took {delay:?} after link up, expected {expected:?} within \
             [-{:?}, +{:?}]",
            tolerance.early,
            tolerance.late + LINK_UP_ALLOWANCE
        );
        assert!(
            master
                .transitions()
                .iter()
                .any(|t| t.from == FAULT && t.to == BACKUP),
            "{}",
            master.describe()
        );
    } else {
        expect_state(&master, BACKUP, Duration::from_secs(5));
        // Many Master_Down_Intervals of the old master: it keeps accepting the lower-priority adverts.
        let hold = (master_down_interval(interval, 200) * 5).max(Duration::from_millis(500));
        std::thread::sleep(hold);
        expect_state(&master, BACKUP, Duration::ZERO);
        expect_state(&backup, MASTER, Duration::ZERO);
        assert!(has_vip(&lab, 1, vip) && !has_vip(&lab, 0, vip));
        let frames = capture.frames().unwrap();
        let all = adverts(&frames);
        let resumed = first_advert_after(&all, a_ip, up_at);
        assert!(
            resumed.is_none(),
            "preempt = false: no advert from it: {resumed:?}"
        );
    }
    // Its receive path works again after the link flap.
    let received_after = master.instance("VI_1").unwrap().adverts_received;
    assert!(
        received_after > received_before_up,
        "adverts received after link up: {received_before_up} -> {received_after}"
    );
    capture.stop().unwrap();
}

/// One link scenario, rerun only when a machine pause broke it (retry.rs).
fn link_loss_test(test: &str, interval: Interval, cut: Cut, preempt: bool) {
    retry_on_machine_pause(test, |watch| {
        link_loss_on_master(watch, interval, cut, preempt);
    });
}

#[test]
fn link_down_on_master_faults_and_it_preempts_back_at_10ms() {
    link_loss_test(
        "link_down_on_master_faults_and_it_preempts_back_at_10ms",
        Interval::from_millis(10),
        Cut::AdminDown,
        true,
    );
}

#[test]
fn link_down_on_master_faults_and_it_preempts_back_at_1s() {
    link_loss_test(
        "link_down_on_master_faults_and_it_preempts_back_at_1s",
        Interval::from_millis(1000),
        Cut::AdminDown,
        true,
    );
}

#[test]
fn carrier_loss_on_master_faults_and_it_preempts_back_at_10ms() {
    link_loss_test(
        "carrier_loss_on_master_faults_and_it_preempts_back_at_10ms",
        Interval::from_millis(10),
        Cut::Carrier,
        true,
    );
}

/// At 10 ms one stall of the machine longer than the old master's 32 ms MDI while it listens is a
/// legitimate takeover, not a preempt: the watch on the new master shows it, and the scenario reruns.
#[test]
fn link_down_on_master_without_preempt_it_stays_backup_at_10ms() {
    link_loss_test(
        "link_down_on_master_without_preempt_it_stays_backup_at_10ms",
        Interval::from_millis(10),
        Cut::AdminDown,
        false,
    );
}

/// At 100 ms the hold is 1.6 s (five MDIs) of nothing happening.
#[test]
fn link_down_on_master_without_preempt_it_stays_backup_at_100ms() {
    link_loss_test(
        "link_down_on_master_without_preempt_it_stays_backup_at_100ms",
        Interval::from_millis(100),
        Cut::AdminDown,
        false,
    );
}
