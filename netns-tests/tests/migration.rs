//! A rolling migration from keepalived to keepvip, one node at a time, as an operator does it: a
//! keepalived pair (lb1 priority 110 master, lb2 priority 100 backup; an HAProxy-style keepalived.conf
//! with a track script, a labelled VIP and both comment styles) serves a VIP that a client on a third
//! host pings every 10 ms. Then:
//!
//! 1. lb2's keepalived is stopped (SIGTERM) and replaced by keepvip, started with the TOML that
//!    `keepvip import-keepalived` makes of lb2's keepalived.conf (checked by `keepvip check` first):
//!    it joins as backup under the keepalived master;
//! 2. lb1's keepalived is stopped (SIGTERM): keepvip on lb2 takes over through the priority-0 advert;
//! 3. lb1 is replaced by keepvip the same way: with the higher priority, it preempts lb2.
//!
//! At every step the VIP is on exactly one host once the step settles, and the captured adverts never
//! show two masters (non-zero priority adverts from both hosts) for longer than Master_Down_Interval.
//! The requests lost in each step are printed (`MEASURE` lines) and bounded. Root and keepalived
//! required; run with `--test-threads=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use netns_tests::daemon::scenario::{BACKUP, MASTER, has_vip};
use netns_tests::daemon::timing::{Interval, master_down_interval, skew_time};
use netns_tests::daemon::wire::{Advert, adverts, wall_clock};
use netns_tests::daemon::{Keepvip, keepvip_bin};
use netns_tests::keepalived::Keepalived;
use netns_tests::process::Proc;
use netns_tests::{Lab, wait_for};
use nix::sys::signal::Signal;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VRID: u8 = 51;
const INSTANCE: &str = "VI_HAPROXY";
const ADVERT: Interval = Interval::from_millis(1000);
const LB1_PRIORITY: u8 = 110;
const LB2_PRIORITY: u8 = 100;
/// The client's request interval, and its bound on requests (90 s at most).
const EVERY: Duration = Duration::from_millis(10);
const MAX_REQUESTS: u32 = 9000;
/// A quiet step loses nothing; a few requests of slack for a loaded 2-core machine.
const QUIET_LOSS: usize = 5;
/// After the client's neighbour entry is moved by the new master's gratuitous ARP, requests flow;
/// the announcement and the VIP's netlink add take a few ms, a loaded machine adds up to this.
const ANNOUNCE_SLACK: Duration = Duration::from_millis(400);

/// lb1's or lb2's keepalived.conf, the shape of an HAProxy pair's: lb2 changes the lines marked.
fn keepalived_conf(router_id: &str, priority: u8) -> String {
    format!(
        "! /etc/keepalived/keepalived.conf -- HAProxy pair, node {router_id}\n\
         global_defs {{\n\
         \x20   router_id {router_id}                 # lb2: router_id lb2\n\
         \x20   enable_script_security\n\
         \x20   script_user root                      # the check needs no other user\n\
         \x20   vrrp_version 3                        # default would be 2\n\
         \x20   vrrp_garp_master_refresh 60           # re-announce every 60 s while MASTER\n\
         }}\n\n\
         vrrp_script chk_service {{\n\
         \x20   script \"/bin/true\"                  # exit 0 = OK\n\
         \x20   interval 1\n\
         \x20   timeout 2\n\
         \x20   fall 2\n\
         \x20   rise 2\n\
         \x20   weight -20\n\
         }}\n\n\
         vrrp_instance {INSTANCE} {{\n\
         \x20   state BACKUP                          # both BACKUP: priority elects\n\
         \x20   interface eth0\n\
         \x20   virtual_router_id {VRID}\n\
         \x20   priority {priority}                   # lb2: priority 100\n\
         \x20   advert_int 1\n\
         \x20   ! unicast_src_ip 192.0.2.1\n\
         \x20   ! unicast_peer {{\n\
         \x20   !     192.0.2.2\n\
         \x20   ! }}\n\
         \x20   virtual_ipaddress {{\n\
         \x20       {VIP}/24 dev eth0 label eth0:vip\n\
         \x20   }}\n\
         \x20   track_script {{\n\
         \x20       chk_service\n\
         \x20   }}\n\
         }}\n"
    )
}

/// `systemctl stop keepalived`: SIGTERM (a master sends its priority-0 advert and removes its VIPs),
/// then both processes gone (bounded).
fn stop(keepalived: &Keepalived) {
    keepalived.signal(Signal::SIGTERM).unwrap();
    keepalived.wait_exit(Duration::from_secs(10)).unwrap();
}

/// keepalived's log line for the instance entering `state`.
fn entering(state: &str) -> String {
    format!("({INSTANCE}) Entering {state} STATE")
}

/// `keepvip import-keepalived FILE`: the TOML, with its warnings printed; then `keepvip check` on it in
/// host `index`'s namespace (where eth0 exists), which must pass.
fn import(lab: &Lab, index: usize, conf: &Path, label: &str) -> String {
    let out = Command::new(keepvip_bin())
        .args(["import-keepalived", &conf.to_string_lossy()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "import failed: {stderr}");
    println!("import-keepalived {}:\n{stderr}", conf.display());
    let toml = String::from_utf8(out.stdout).unwrap();
    let path = lab.dir().join(format!("{label}.imported.toml"));
    std::fs::write(&path, &toml).unwrap();
    let bin = keepvip_bin();
    let argv = [bin.to_str().unwrap(), "check", "-c", path.to_str().unwrap()];
    let check = lab
        .spawn_on(index, &format!("{label}-check"), &argv)
        .unwrap();
    let status = check.wait(Duration::from_secs(20)).unwrap();
    assert!(
        status.success(),
        "keepvip check refuses the imported config:\n{}{}\n{toml}",
        check.stdout(),
        check.stderr()
    );
    toml
}

/// Asserts the VIP is on exactly host `owner` of the pair (hosts 0 and 1), waiting for it (bounded).
fn expect_vip_only_on(lab: &Lab, owner: usize, step: &str) {
    let address = IpAddr::V4(VIP);
    let settled = wait_for(
        &format!("{step}: the VIP on host {owner} only"),
        Duration::from_secs(10),
        Duration::from_millis(20),
        || has_vip(lab, owner, address) && !has_vip(lab, 1 - owner, address),
    );
    if let Err(err) = settled {
        panic!("{err}");
    }
}

/// One part of the run, from `start` to the next part's start (wall clock).
struct Step {
    name: &'static str,
    start: Duration,
    /// The requests this step may lose.
    bound: usize,
}

/// A client pinging the VIP from host 2 every 10 ms (bounded in count); stopped with SIGINT.
fn start_client(lab: &Lab) -> Proc {
    let interval = format!("{:.3}", EVERY.as_secs_f64());
    let count = MAX_REQUESTS.to_string();
    let vip = VIP.to_string();
    let argv = [
        "ping", "-n", "-D", "-i", &interval, "-c", &count, "-W", "1", &vip,
    ];
    lab.spawn_on(2, "client", &argv).unwrap()
}

/// `(wall-clock stamp, icmp_seq)` of each reply line of `ping -D`.
fn replies(output: &str) -> Vec<(Duration, u32)> {
    output
        .lines()
        .filter(|line| line.contains(" bytes from "))
        .filter_map(|line| {
            let stamp = line.strip_prefix('[')?.split(']').next()?.parse().ok()?;
            let seq = line
                .split("icmp_seq=")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()?;
            Some((Duration::from_secs_f64(stamp), seq))
        })
        .collect()
}

/// The send time of every request that got no reply, between the first and the last reply: the
/// previous reply's stamp plus the schedule (ping sends one every `EVERY`).
fn lost_requests(replies: &[(Duration, u32)]) -> Vec<Duration> {
    let mut lost = Vec::new();
    for pair in replies.windows(2) {
        let ((stamp, seq), (_, next)) = (pair[0], pair[1]);
        for missing in seq + 1..next {
            lost.push(stamp + EVERY * (missing - seq));
        }
    }
    lost
}

/// Per source host: the spans during which it sent non-zero priority adverts for our VRID, adverts
/// closer than 1.5 intervals counting as one span.
fn master_spans(all: &[Advert], source: IpAddr) -> Vec<(Duration, Duration)> {
    let gap = ADVERT.duration() * 3 / 2;
    let mut spans: Vec<(Duration, Duration)> = Vec::new();
    let stamps = all
        .iter()
        .filter(|a| a.src == source && a.vrid == Some(VRID) && a.priority.is_some_and(|p| p > 0))
        .map(|a| a.timestamp);
    for stamp in stamps {
        match spans.last_mut() {
            Some(span) if stamp - span.1 <= gap => span.1 = stamp,
            _ => spans.push((stamp, stamp)),
        }
    }
    spans
}

/// The longest time both hosts advertised as master at once.
fn longest_dual_master(all: &[Advert], lab: &Lab) -> Duration {
    let host = |i: usize| IpAddr::V4(lab.host(i).ipv4);
    let (a, b) = (master_spans(all, host(0)), master_spans(all, host(1)));
    let mut longest = Duration::ZERO;
    for x in &a {
        for y in &b {
            let (start, end) = (x.0.max(y.0), x.1.min(y.1));
            longest = longest.max(end.saturating_sub(start));
        }
    }
    longest
}

fn requests_for(window: Duration) -> usize {
    (window.as_millis() / EVERY.as_millis()) as usize + 1
}

#[test]
fn keepalived_pair_migrates_to_keepvip_one_node_at_a_time() {
    let lab = Lab::builder("migrate").hosts(3).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let conf = |name: &str, priority| {
        let path = lab.dir().join(format!("{name}.keepalived.conf"));
        std::fs::write(&path, keepalived_conf(name, priority)).unwrap();
        path
    };
    let (lb1_conf, lb2_conf) = (conf("lb1", LB1_PRIORITY), conf("lb2", LB2_PRIORITY));
    let ka1 = Keepalived::start_file(&lab, 0, "ka-lb1", &lb1_conf).unwrap();
    let ka2 = Keepalived::start_file(&lab, 1, "ka-lb2", &lb2_conf).unwrap();
    let election = master_down_interval(ADVERT, LB2_PRIORITY) * 2 + Duration::from_secs(5);
    ka1.wait_log(&entering(MASTER), 1, election).unwrap();
    ka2.wait_log(&entering(BACKUP), 1, election).unwrap();
    expect_vip_only_on(&lab, 0, "keepalived pair");

    let client = start_client(&lab);
    wait_for(
        "the client's first reply",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || !replies(&client.stdout()).is_empty(),
    )
    .unwrap_or_else(|err| panic!("{err}\n{}{}", client.stdout(), client.stderr()));
    let mut steps = vec![Step {
        name: "keepalived pair, lb1 master",
        start: wall_clock(),
        bound: QUIET_LOSS,
    }];
    std::thread::sleep(Duration::from_secs(2));

    // 1. lb2: keepalived out, keepvip in, as backup under the keepalived master.
    steps.push(Step {
        name: "lb2 keepalived -> keepvip (backup)",
        start: wall_clock(),
        bound: QUIET_LOSS,
    });
    stop(&ka2);
    let lb2_toml = import(&lab, 1, &lb2_conf, "lb2");
    let kv2 = Keepvip::start(&lab, 1, "kv-lb2", &lb2_toml).unwrap();
    kv2.wait_state(INSTANCE, BACKUP, Duration::from_secs(15))
        .unwrap();
    // A few intervals: keepvip stays backup, hearing the keepalived master.
    std::thread::sleep(master_down_interval(ADVERT, LB2_PRIORITY));
    let status = kv2.instance(INSTANCE).unwrap();
    assert_eq!(status.state, BACKUP, "{status:?}\n{}", kv2.logs());
    // What the walkthrough says to watch: keepvip follows the keepalived master and drops nothing.
    let lb1 = lab.host(0).ipv4.to_string();
    assert_eq!(status.master.as_deref(), Some(lb1.as_str()), "{status:?}");
    assert!(status.discards.is_empty(), "{status:?}");
    assert!(status.split_brain.is_none(), "{status:?}");
    // The track script came along and reads OK.
    let trackers: Vec<(&str, &str)> = status
        .trackers
        .iter()
        .map(|t| (t.name.as_str(), t.state.as_str()))
        .collect();
    assert_eq!(trackers, [("chk_service", "OK")], "{status:?}");
    println!(
        "keepvip status on lb2, backup under keepalived:\n{}",
        kv2.status_text().unwrap()
    );
    assert_eq!(ka1.log_count(&entering(MASTER)), 1, "{}", ka1.logs());
    expect_vip_only_on(&lab, 0, "step 1");

    // 2. Fail over to keepvip: lb1's keepalived stopped, its priority-0 advert hands over.
    let skew = skew_time(ADVERT, LB2_PRIORITY);
    steps.push(Step {
        name: "lb1 keepalived stopped, keepvip lb2 takes over",
        start: wall_clock(),
        bound: requests_for(skew + ANNOUNCE_SLACK),
    });
    let sigterm = std::time::Instant::now();
    stop(&ka1);
    kv2.wait_state(INSTANCE, MASTER, Duration::from_secs(10))
        .unwrap();
    let took = sigterm.elapsed();
    println!(
        "MEASURE migration: keepvip lb2 master at most {took:?} after lb1's SIGTERM (Skew_Time {skew:?})"
    );
    expect_vip_only_on(&lab, 1, "step 2");
    std::thread::sleep(Duration::from_secs(1));

    // 3. lb1: keepvip from lb1's keepalived.conf; the higher priority preempts lb2.
    steps.push(Step {
        name: "lb1 keepvip started, preempts lb2",
        start: wall_clock(),
        bound: requests_for(ANNOUNCE_SLACK),
    });
    let lb1_toml = import(&lab, 0, &lb1_conf, "lb1");
    let kv1 = Keepvip::start(&lab, 0, "kv-lb1", &lb1_toml).unwrap();
    let preempt = master_down_interval(ADVERT, LB1_PRIORITY) * 2 + Duration::from_secs(5);
    kv1.wait_state(INSTANCE, MASTER, preempt).unwrap();
    kv2.wait_state(INSTANCE, BACKUP, Duration::from_secs(5))
        .unwrap();
    expect_vip_only_on(&lab, 0, "step 3");
    std::thread::sleep(Duration::from_secs(1));
    let end = wall_clock();
    let status = kv1.instance(INSTANCE).unwrap();
    assert_eq!(status.effective_priority, LB1_PRIORITY, "{status:?}");
    println!(
        "keepvip status on lb1 after the migration:\n{}",
        kv1.status_text().unwrap()
    );

    client.signal(Signal::SIGINT).unwrap();
    client.wait(Duration::from_secs(5)).unwrap();
    let frames = capture.stop().unwrap();
    let all = adverts(&frames);

    // Never two masters past Master_Down_Interval.
    let dual = longest_dual_master(&all, &lab);
    let mdi = master_down_interval(ADVERT, LB2_PRIORITY);
    println!(
        "MEASURE migration: longest time both hosts advertised as master: {dual:?} (MDI {mdi:?})"
    );
    assert!(dual < mdi, "two masters for {dual:?} (MDI {mdi:?})");
    // keepvip's adverts are VRRPv3 as keepalived's were (vrrp_version 3 carried over).
    let kv_adverts: Vec<&Advert> = all
        .iter()
        .filter(|a| a.timestamp > steps[2].start && a.priority.is_some_and(|p| p > 0))
        .collect();
    assert!(!kv_adverts.is_empty());
    assert!(
        kv_adverts
            .iter()
            .all(|a| a.repr().version == vrrp_wire::Version::V3 && a.repr().vrid == VRID)
    );

    // Requests lost per step.
    let replies = replies(&client.stdout());
    let lost = lost_requests(&replies);
    let mut over = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let until = steps.get(i + 1).map_or(end, |next| next.start);
        let count = lost
            .iter()
            .filter(|t| **t >= step.start && **t < until)
            .count();
        let total = requests_for(until - step.start);
        println!(
            "MEASURE migration step {i} ({}): {count} of ~{total} requests lost (bound {})",
            step.name, step.bound
        );
        if count > step.bound {
            over.push(format!("{}: {count} > {}", step.name, step.bound));
        }
    }
    assert!(over.is_empty(), "requests lost beyond the bounds: {over:?}");
    assert!(replies.len() > 500, "only {} replies", replies.len());
}
