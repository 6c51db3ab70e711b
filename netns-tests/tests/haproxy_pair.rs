//! The HAProxy pair of conf/haproxy-pair, for real (netns_tests::haproxy_lab: two routers running
//! keepvip and Debian's HAProxy on the VIP, three backends, a client sending `GET /` through the VIP
//! every 10 ms). The lab uses the shipped files with 100 ms timers instead of 1 s (keepvip's adverts,
//! the track script, HAProxy's health checks; the fall and rise counts as shipped) so that a scenario
//! takes seconds. Handover times are measured from the trigger (HAProxy killed, or restarted) to the
//! new master's first gratuitous ARP on the lab's observer capture (kernel timestamps), and printed as
//! `MEASURE` lines with the client's failed requests. Root only; HAProxy required (the tests fail,
//! never skip, without it); run with `--test-threads=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use netns_tests::daemon::Interval;
use netns_tests::daemon::timing::{master_down_interval, skew_time};
use netns_tests::daemon::wire::{adverts, first_advert_after, gratuitous_arps, wall_clock};
use netns_tests::frames::Mac;
use netns_tests::haproxy_lab::{BACKENDS, INSTANCE, Pair, PairPlan, Tracking, VIP};
use netns_tests::http::{RequestLoop, RequestOutcome, SwitchReport};
use netns_tests::{Capture, Frame, wait_for};

const MASTER: &str = "MASTER";
const BACKUP: &str = "BACKUP";
const FAULT: &str = "FAULT";
/// The lab's timers (`haproxy_lab::LAB_INTERVAL`; the shipped files say 1 s for all three).
const ADVERT: Interval = Interval::from_millis(100);
const CHECK_INTERVAL: Duration = Duration::from_millis(100);
const HAPROXY_INTER: Duration = Duration::from_millis(100);
/// The shipped counts: the track script's fall and rise, HAProxy's fall and rise.
const FALL: u32 = 2;
const RISE: u32 = 2;
const HAPROXY_FALL: u32 = 3;
const HAPROXY_RISE: u32 = 2;
/// The shipped priorities.
const LB1_PRIORITY: u8 = 101;
const LB2_PRIORITY: u8 = 100;
/// What a loaded 2-core machine adds to a bound made of timers: each check forks `/bin/sh`, `pidof`
/// and two `readlink`s from a debug-build daemon (a few ms idle, tens of ms loaded), plus scheduling of
/// keepvip, HAProxy, tokio's timer wheel and the capture.
const TOLERANCE: Duration = Duration::from_millis(250);
/// A request sent this long after the new master's GARP must succeed: the client applies the GARP at
/// once; this covers a request already in flight and the client thread's scheduling.
const CLIENT_SETTLE: Duration = Duration::from_millis(150);
/// One request every 10 ms, each with a short connect (and whole-exchange) timeout, for at most 10 s.
const REQUEST_EVERY: Duration = Duration::from_millis(10);
const REQUEST_TIMEOUT: Duration = Duration::from_millis(200);
const REQUESTS_AT_MOST: Duration = Duration::from_secs(10);

fn start(test_name: &str, plan: PairPlan) -> Pair {
    let responder = Path::new(env!("CARGO_BIN_EXE_http-responder"));
    Pair::start(test_name, plan, responder).unwrap_or_else(|err| panic!("{test_name}: {err}"))
}

fn requests(pair: &Pair) -> RequestLoop {
    pair.requests(REQUEST_EVERY, REQUEST_TIMEOUT, REQUESTS_AT_MOST)
        .unwrap()
}

fn capture(pair: &Pair) -> Capture {
    pair.lab
        .capture("wire", &["arp", "or", "ip", "proto", "112"])
        .unwrap()
}

/// The first gratuitous ARP for the VIP from `mac` stamped after `after`.
fn first_garp_from(frames: &[Frame], mac: Mac, after: Duration) -> Option<Duration> {
    gratuitous_arps(frames, VIP)
        .into_iter()
        .find(|arp| arp.sender_mac == mac && arp.timestamp > after)
        .map(|arp| arp.timestamp)
}

/// When router `index`, the new master, announced itself after `after`: its first advert and its first
/// gratuitous ARP for the VIP (waits for the GARP, bounded).
fn announced(
    capture: &Capture,
    pair: &Pair,
    index: usize,
    after: Duration,
) -> (Duration, Duration) {
    let mac = pair.mac(index);
    let frames = capture
        .wait_for_frames(
            "the new master's first GARP",
            Duration::from_secs(2),
            |frames| first_garp_from(frames, mac, after).is_some(),
        )
        .unwrap();
    let garp_at = first_garp_from(&frames, mac, after).unwrap();
    let source = IpAddr::V4(pair.lab.host(index).ipv4);
    let all = adverts(&frames);
    let advert = first_advert_after(&all, source, after).expect("the new master's first advert");
    (advert.timestamp, garp_at)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `SwitchReport::of`, panicking with the requests that failed outside the switch.
fn check_requests(outcomes: &[RequestOutcome], before: Duration, after: Duration) -> SwitchReport {
    SwitchReport::of(outcomes, before, after).unwrap_or_else(|err| panic!("{err}"))
}

/// When a switch may come after its trigger: not before `at_least` (the checks and Skew_Time it must wait
/// out, less `EARLY_SLACK`) and not after `at_most` (the worst case of the timers; `TOLERANCE` is added).
#[derive(Debug, Clone, Copy)]
struct Expected {
    at_least: Duration,
    at_most: Duration,
}

impl Expected {
    /// `count` consecutive check results (fall or rise) of a check every `CHECK_INTERVAL`: the first
    /// one can come right after the trigger, the others one interval apart each.
    fn checks(count: u32) -> Expected {
        Expected {
            at_least: CHECK_INTERVAL * (count - 1),
            at_most: CHECK_INTERVAL * count,
        }
    }

    /// Then the old master advertises its new priority (at once, or at worst one advert interval later)
    /// and the new master waits out its Skew_Time before it takes over.
    fn then_takeover(self, new_master_priority: u8) -> Expected {
        let skew = skew_time(ADVERT, new_master_priority);
        Expected {
            at_least: self.at_least + skew,
            at_most: self.at_most + ADVERT.duration() + skew,
        }
    }
}

/// How much earlier than the timers allow a switch may be measured: a check run that started just
/// before the kill may already miss HAProxy (it counts as the first failure, up to one run's duration,
/// tens of ms under load, before the trigger), tokio runs a tick up to ~5 ms early after a late one, and
/// the capture clock is not keepvip's.
const EARLY_SLACK: Duration = Duration::from_millis(50);

/// Print the MEASURE line of a switch and check it against `expected` (+ `TOLERANCE`). `on_wire`: from
/// the trigger to the new master's first GARP, and from its first advert to that GARP (the old master
/// drops the VIP on that advert, so requests in this gap can fail).
fn report_switch(
    what: &str,
    on_wire: (Duration, Duration),
    expected: Expected,
    requests: &SwitchReport,
) {
    let (took, advert_to_garp) = on_wire;
    eprintln!(
        "MEASURE haproxy_handover_ms={:.1} failed_requests={} requests={} failure_window_ms={:.1} \
         bound_ms={:.1}..{:.1} tolerance_ms={} advert_to_garp_ms={:.1} kind={what}",
        millis(took),
        requests.failed,
        requests.total,
        millis(requests.failure_window),
        millis(expected.at_least),
        millis(expected.at_most),
        TOLERANCE.as_millis(),
        millis(advert_to_garp)
    );
    assert!(
        took + EARLY_SLACK >= expected.at_least && took <= expected.at_most + TOLERANCE,
        "{what}: the new master's first GARP came {took:?} after the trigger; expected {expected:?} \
         (-{EARLY_SLACK:?}, +{TOLERANCE:?})"
    );
    let names: Vec<&str> = BACKENDS.iter().map(|(_, name, _)| *name).collect();
    assert_eq!(
        requests.served_after, names,
        "roundrobin over every backend after {what}"
    );
}

/// With the client sending and a capture running: SIGKILL HAProxy on lb1 (the master). lb1 goes to
/// `old_master_state`, lb2 becomes master and takes the VIP, and its first GARP comes after `detection`
/// and lb2's takeover (`Expected::then_takeover`).
fn kill_haproxy_on_the_master(
    pair: &Pair,
    what: &str,
    detection: Expected,
    old_master_state: &str,
) {
    let capture = capture(pair);
    let requests = requests(pair);
    std::thread::sleep(Duration::from_millis(300));
    let killed_at = wall_clock();
    pair.router(0).haproxy.kill().unwrap();
    let expected = detection.then_takeover(LB2_PRIORITY);
    pair.router(1)
        .expect_state(MASTER, expected.at_most + Duration::from_secs(3));
    pair.router(0)
        .expect_state(old_master_state, Duration::from_secs(1));
    pair.wait_vip_on(1).unwrap();
    let (advert_at, garp_at) = announced(&capture, pair, 1, killed_at);
    std::thread::sleep(Duration::from_millis(500));
    let outcomes = requests.stop().unwrap();
    capture.stop().unwrap();
    let report = check_requests(&outcomes, killed_at, garp_at + CLIENT_SETTLE);
    let on_wire = (
        garp_at.saturating_sub(killed_at),
        garp_at.saturating_sub(advert_at),
    );
    report_switch(what, on_wire, expected, &report);
}

/// Run `argv` in router `index`'s namespace; whether it exited 0.
fn succeeds_in(pair: &Pair, index: usize, argv: &[&str]) -> bool {
    Command::new("ip")
        .args(["netns", "exec", &pair.lab.host(index).ns])
        .args(argv)
        .status()
        .unwrap_or_else(|err| panic!("ip netns exec {argv:?}: {err}"))
        .success()
}

/// The (state, priority) pairs of a notify.sh log: `TIMESTAMP INSTANCE VI_HAPROXY STATE PRIORITY ...`.
fn notified(pair: &Pair, lb: &str, count: usize) -> Vec<(String, u8)> {
    let path = pair.lab.dir().join(format!("{lb}.notify.log"));
    let read = || -> Vec<(String, u8)> {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        text.lines()
            .map(|line| {
                let words: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(words.get(1..3), Some(&["INSTANCE", INSTANCE][..]), "{line}");
                (words[3].to_owned(), words[4].parse().unwrap())
            })
            .collect()
    };
    // Notify scripts run after the transition, in order, one at a time: wait for the last one.
    let waited = wait_for(
        &format!("{count} lines in {}", path.display()),
        Duration::from_secs(3),
        Duration::from_millis(20),
        || read().len() >= count,
    );
    waited.unwrap_or_else(|err| panic!("{err}: {:?}", read()));
    read()
}

fn pairs(expected: &[(&str, u8)]) -> Vec<(String, u8)> {
    expected
        .iter()
        .map(|(s, p)| ((*s).to_owned(), *p))
        .collect()
}

/// a. + b. The shipped check (check_haproxy.sh every interval, fall 2, weight -20; priorities 101/100):
/// HAProxy dies on lb1, 101 - 20 = 81 < 100 and lb2 takes the VIP within fall x interval + one advert
/// interval + Skew_Time; lb2's own HAProxy keeps lb2's check OK, which an unfiltered `killall -0 haproxy`
/// would also do for lb1. HAProxy back on lb1: rise x interval later lb1 is 101 again and preempts within
/// one advert interval + its Skew_Time. The client's requests fail only around each switch, notify.sh
/// logs every transition with its priority.
#[test]
fn haproxy_dies_on_the_master_the_vip_moves_and_comes_back_with_it() {
    let mut pair = start("hapkill", PairPlan::SHIPPED);
    assert_eq!(
        (
            pair.router(0).effective_priority(),
            pair.router(1).effective_priority()
        ),
        (101, 100)
    );
    let detection = Expected::checks(FALL);
    kill_haproxy_on_the_master(&pair, "check_haproxy.sh_weight_-20", detection, BACKUP);
    let (lb1, lb2) = (pair.router(0), pair.router(1));
    assert_eq!(
        (lb1.effective_priority(), lb1.tracker_state().as_str()),
        (81, "KO")
    );
    assert_eq!(
        (lb2.effective_priority(), lb2.tracker_state().as_str()),
        (100, "OK")
    );
    // Why the script filters by namespace: lb2's HAProxy is visible from lb1's namespace too.
    assert!(
        Command::new("killall").arg("-V").output().is_ok(),
        "killall missing: apt-get install psmisc"
    );
    assert!(
        succeeds_in(&pair, 0, &["killall", "-0", "haproxy"]),
        "killall -0 sees lb2's haproxy"
    );
    let script = pair.lab.dir().join("check_haproxy.sh");
    assert!(
        !succeeds_in(&pair, 0, &[script.to_str().unwrap()]),
        "check_haproxy.sh on lb1"
    );
    assert!(
        succeeds_in(&pair, 1, &[script.to_str().unwrap()]),
        "check_haproxy.sh on lb2"
    );

    // b. HAProxy back on lb1: lb1 preempts.
    let capture = capture(&pair);
    let requests = requests(&pair);
    std::thread::sleep(Duration::from_millis(300));
    pair.restart_haproxy(0).unwrap();
    let restarted_at = pair.router(0).haproxy.started_at();
    // keepvip's fast handover: the backup that now outranks the master it follows takes over Skew_Time
    // after the master's next advert (crates/vrrp-core/src/router/backup.rs), not after a whole
    // Master_Down_Interval.
    let expected = Expected::checks(RISE).then_takeover(LB1_PRIORITY);
    pair.router(0)
        .expect_state(MASTER, expected.at_most + Duration::from_secs(3));
    pair.router(1).expect_state(BACKUP, Duration::from_secs(1));
    pair.wait_vip_on(0).unwrap();
    assert_eq!(pair.router(0).effective_priority(), 101);
    let (advert_at, garp_at) = announced(&capture, &pair, 0, restarted_at);
    std::thread::sleep(Duration::from_millis(500));
    let outcomes = requests.stop().unwrap();
    capture.stop().unwrap();
    let report = check_requests(&outcomes, restarted_at, garp_at + CLIENT_SETTLE);
    let on_wire = (garp_at - restarted_at, garp_at.saturating_sub(advert_at));
    report_switch(
        "preempt_back_after_haproxy_restart",
        on_wire,
        expected,
        &report,
    );

    assert_eq!(
        notified(&pair, "lb1", 4),
        pairs(&[(BACKUP, 101), (MASTER, 101), (BACKUP, 81), (MASTER, 101)])
    );
    assert_eq!(
        notified(&pair, "lb2", 3),
        pairs(&[(BACKUP, 100), (MASTER, 100), (BACKUP, 100)])
    );
}

/// a. keepalived's classic `killall -0 haproxy` with weight +2 (priorities 101/100, so 103/102 while both
/// run), filtered by namespace: the same check_haproxy.sh with the instance's weight set to +2. HAProxy
/// dies on lb1: 101 < 102 and lb2 takes over within the same bounds.
#[test]
fn a_plus_2_check_moves_the_vip_when_haproxy_dies() {
    let plan = PairPlan {
        tracking: Tracking::Script { weight: 2 },
        preempt: true,
    };
    let pair = start("happlus2", plan);
    assert_eq!(
        (
            pair.router(0).effective_priority(),
            pair.router(1).effective_priority()
        ),
        (103, 102)
    );
    kill_haproxy_on_the_master(
        &pair,
        "check_haproxy.sh_weight_+2",
        Expected::checks(FALL),
        BACKUP,
    );
    assert_eq!(pair.router(0).effective_priority(), 101);
    assert_eq!(pair.router(1).effective_priority(), 102);
}

/// a. keepvip's own process tracker (`track_process`, `same_netns = true`, weight +2) in place of the
/// script. Detection (src/track/process.rs): with the kernel's process connector, the exit event plus
/// its 10 ms settle time; where the connector cannot be opened, within one /proc scan (every 1 s). The
/// daemon's log says which mode runs, and the bound follows it.
#[test]
fn track_process_with_same_netns_moves_the_vip_when_haproxy_dies() {
    let plan = PairPlan {
        tracking: Tracking::Process { weight: 2 },
        preempt: true,
    };
    let pair = start("happroc", plan);
    assert_eq!(
        (
            pair.router(0).effective_priority(),
            pair.router(1).effective_priority()
        ),
        (103, 102)
    );
    let logs = pair.router(0).keepvip.logs();
    // The exit is seen at once (plus 10 ms) by the connector; at worst one scan later without it.
    let (mode, latest) = if logs.contains("process events from the proc connector") {
        ("connector", Duration::from_millis(10))
    } else {
        assert!(logs.contains("polling /proc"), "{logs}");
        ("poll", Duration::from_millis(1010))
    };
    let detection = Expected {
        at_least: Duration::ZERO,
        at_most: latest,
    };
    let what = format!("track_process_same_netns_weight_+2_{mode}");
    kill_haproxy_on_the_master(&pair, &what, detection, BACKUP);
    assert_eq!(pair.router(0).effective_priority(), 101);
    assert_eq!(pair.router(1).tracker_state(), "OK");
}

/// b. With `preempt = false` a lower-priority master keeps the VIP (RFC 5798 and keepalived's
/// `nopreempt`), so a failing check must take the node out with weight 0 (FAULT while KO). HAProxy dies
/// on lb1: lb1 goes to FAULT, resigns, lb2 takes over; HAProxy back: lb1 returns as BACKUP and stays
/// there, lb2 keeps the VIP and the client sees no failure from it.
#[test]
fn without_preempt_the_old_master_does_not_take_the_vip_back() {
    let plan = PairPlan {
        tracking: Tracking::Script { weight: 0 },
        preempt: false,
    };
    let mut pair = start("hapnopre", plan);
    kill_haproxy_on_the_master(
        &pair,
        "check_haproxy.sh_weight_0_fault",
        Expected::checks(FALL),
        FAULT,
    );
    let requests = requests(&pair);
    let restarted_at = wall_clock();
    pair.restart_haproxy(0).unwrap();
    pair.router(0).expect_state(
        BACKUP,
        CHECK_INTERVAL * RISE + TOLERANCE + Duration::from_secs(1),
    );
    // Hold for several Master_Down_Intervals: nobody moves.
    let hold = master_down_interval(ADVERT, LB1_PRIORITY) * 4;
    let held = wait_for("anyone to move", hold, Duration::from_millis(20), || {
        pair.router(0).state() != BACKUP || pair.router(1).state() != MASTER
    });
    assert!(
        held.is_err(),
        "lb1 {} lb2 {}",
        pair.router(0).state(),
        pair.router(1).state()
    );
    pair.wait_vip_on(1).unwrap();
    let outcomes = requests.stop().unwrap();
    let report = check_requests(&outcomes, restarted_at, restarted_at);
    assert_eq!(
        report.failed, 0,
        "no failed request while HAProxy came back on the backup"
    );
    assert_eq!(
        notified(&pair, "lb1", 4)[2..],
        pairs(&[(FAULT, 101), (BACKUP, 101)])[..]
    );
}

/// c. A backend dies (its responder is killed): HAProxy's health check takes it out within fall x inter
/// on both routers, the VIP does not move, and the client's requests succeed throughout (HAProxy retries
/// a refused connection on another server, `option redispatch`); once it is back, rise x inter later it
/// serves again.
#[test]
fn a_dead_backend_is_taken_out_by_haproxy_and_the_vip_stays() {
    let mut pair = start("hapbackend", PairPlan::SHIPPED);
    let transitions_before = pair.router(0).keepvip.transitions().len();
    let requests = requests(&pair);
    std::thread::sleep(Duration::from_millis(300));
    let killed_at = wall_clock();
    pair.responders[1].kill_and_wait().unwrap();
    let fall_window = HAPROXY_INTER * HAPROXY_FALL;
    let down = [("web1", "UP"), ("web2", "DOWN"), ("web3", "UP")];
    for router in &pair.routers {
        let timeout = fall_window + Duration::from_secs(2);
        router.haproxy.wait_statuses("web", &down, timeout).unwrap();
        // An upper bound: when this poll saw it (the stats socket is polled every 10 ms).
        let seen_after = wall_clock().saturating_sub(killed_at);
        eprintln!(
            "MEASURE haproxy_backend_down_ms={:.1} bound_ms={:.1} router={}",
            millis(seen_after),
            millis(fall_window),
            router.name
        );
        let late = seen_after > fall_window + TOLERANCE;
        assert!(
            !late,
            "{}: web2 seen DOWN only {seen_after:?} after the kill",
            router.name
        );
    }
    std::thread::sleep(Duration::from_millis(500));
    // web2 back: HAProxy puts it back after rise x inter.
    pair.restart_responder(1, 1).unwrap();
    let all_up = [("web1", "UP"), ("web2", "UP"), ("web3", "UP")];
    let rise_window = HAPROXY_INTER * HAPROXY_RISE + TOLERANCE + Duration::from_secs(1);
    for router in &pair.routers {
        router
            .haproxy
            .wait_statuses("web", &all_up, rise_window)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let outcomes = requests.stop().unwrap();
    let report = check_requests(&outcomes, killed_at, killed_at + fall_window + TOLERANCE);
    let failures: Vec<&RequestOutcome> = outcomes.iter().filter(|o| !o.succeeded()).collect();
    eprintln!(
        "MEASURE haproxy_backend_loss failed_requests={} requests={} failures={failures:?}",
        report.failed, report.total
    );
    assert_eq!(
        report.served_after,
        ["web1", "web2", "web3"],
        "web2 serves again"
    );
    let while_down: Vec<&RequestOutcome> = outcomes
        .iter()
        .filter(|o| o.sent_at > killed_at + fall_window + TOLERANCE)
        .take_while(|o| o.result.as_deref() != Ok("web2"))
        .collect();
    assert!(
        while_down.len() >= 20,
        "requests while web2 was out: {}",
        while_down.len()
    );
    assert_eq!(pair.router(0).state(), MASTER);
    assert_eq!(pair.router(1).state(), BACKUP);
    assert_eq!(
        pair.router(0).keepvip.transitions().len(),
        transitions_before,
        "lb1 never moved"
    );
    pair.wait_vip_on(0).unwrap();
}

/// The shipped keepvip configs load (keepvip's own validation, as `keepvip check` runs it, without the
/// script audit: /etc/keepvip is not on this machine) with the values README.md describes, no
/// warnings, and lb1 and lb2 differ only in router_id and priority. No root needed.
#[test]
fn the_shipped_configs_load_with_the_values_the_readme_describes() {
    use keepvip::config::{Severity, TrackerKind, check_str, format_millis};
    let texts = [shipped_file("lb1.toml"), shipped_file("lb2.toml")];
    for (text, (router_id, priority)) in texts.iter().zip([("lb1", 101), ("lb2", 100)]) {
        let checked = check_str(text, router_id, &|_| true).unwrap_or_else(|err| panic!("{err}"));
        let warnings: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .collect();
        assert!(warnings.is_empty(), "{router_id}: {warnings:?}");
        let config = checked.config;
        assert_eq!(config.global.router_id, router_id);
        let [instance] = &config.instances[..] else {
            panic!("{:?}", config.instances)
        };
        assert_eq!(
            (instance.name.as_str(), instance.interface.as_str()),
            (INSTANCE, "eth0")
        );
        assert_eq!((instance.vrid, instance.priority), (51, priority));
        assert_eq!(instance.advert_interval.get(), 100, "1 s in centiseconds");
        assert!(instance.preempt);
        let vips: Vec<String> = instance
            .vips
            .iter()
            .map(|v| format!("{}/{}", v.addr, v.prefix))
            .collect();
        assert_eq!(vips, [format!("{VIP}/24")]);
        let [script] = &config.trackers.scripts[..] else {
            panic!("{:?}", config.trackers.scripts)
        };
        assert_eq!(script.command.words, ["/etc/keepvip/check_haproxy.sh"]);
        let millis = |d: Duration| format_millis(u64::try_from(d.as_millis()).unwrap());
        assert_eq!(
            (millis(script.interval), millis(script.timeout)),
            ("1s".into(), "2s".into())
        );
        assert_eq!((script.fall, script.rise, script.weight), (FALL, RISE, -20));
        let refs: Vec<_> = instance
            .trackers
            .iter()
            .map(|r| (r.kind, r.name.as_str(), r.weight))
            .collect();
        assert_eq!(refs, [(TrackerKind::Script, "chk_haproxy", -20)]);
        let notify = instance.notify.any.as_ref().map(|c| c.words.clone());
        assert_eq!(notify, Some(vec!["/etc/keepvip/notify.sh".to_owned()]));
    }
    let differing: Vec<(&str, &str)> = texts[0]
        .lines()
        .zip(texts[1].lines())
        .filter(|(a, b)| a != b && !a.starts_with('#'))
        .collect();
    assert_eq!(
        differing,
        [
            ("router_id = \"lb1\"", "router_id = \"lb2\""),
            (
                "priority = 101              # lb2: 100",
                "priority = 100              # lb1: 101"
            )
        ]
    );
}

fn shipped_file(name: &str) -> String {
    netns_tests::haproxy_lab::shipped(name).unwrap()
}
