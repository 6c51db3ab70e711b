//! The metrics and health listener on real daemons: a 200/100 pair, each with `metrics_listen` on its
//! lab address, scraped over HTTP from a third host. `/metrics` parses and its state gauge and advert
//! counters move as the pair fails over (SIGKILL of the master); a checker polling `/health` on both
//! hosts every 20 ms sees exactly one 200 before the kill and after the takeover, and never two.
//! Root only; run with `--test-threads=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netns_tests::daemon::scenario::{BACKUP, MASTER, election_timeout, expect_state};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip, config_toml};
use netns_tests::{Lab, http, in_netns};

const PORT: u16 = 9650;
const VIP_CIDR: &str = "192.0.2.100/24";
/// How long the checker polls at most, whatever happens to the test.
const CHECKER_LIMIT: Duration = Duration::from_secs(60);

/// Host `index` with `metrics_listen` on its lab address; `instance_keys` go at the end of `VI_1`.
fn start(lab: &Lab, index: usize, priority: u8, instance_keys: &str) -> Keepvip {
    let label = format!("h{index}");
    let spec = InstanceSpec::new(priority, Interval::from_millis(100), &[VIP_CIDR]);
    let listen = SocketAddr::from((lab.host(index).ipv4, PORT));
    let config = config_toml(&label, &[spec]).replacen(
        "[global]\n",
        &format!("[global]\nmetrics_listen = \"{listen}\"\n"),
        1,
    ) + instance_keys;
    Keepvip::start(lab, index, &label, &config).unwrap_or_else(|e| panic!("{e}\n{config}"))
}

fn target(lab: &Lab, index: usize) -> SocketAddr {
    SocketAddr::from((lab.host(index).ipv4, PORT))
}

/// `GET path` on host `index`'s listener, from the checker host.
fn get(lab: &Lab, checker: &str, index: usize, path: &str) -> (u16, String) {
    let to = target(lab, index);
    in_netns(checker, || http::get(to, path, Duration::from_secs(2)))
        .unwrap()
        .unwrap_or_else(|e| panic!("GET {path} on host {index}: {e}"))
}

/// Every sample of an exposition by `name{labels}`; panics on a line that is not a sample.
fn scrape(lab: &Lab, checker: &str, index: usize) -> BTreeMap<String, f64> {
    let (code, body) = get(lab, checker, index, "/metrics");
    assert_eq!(code, 200, "{body}");
    assert!(body.ends_with("# EOF\n"), "{body}");
    body.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect(line);
            (series.to_owned(), value.parse::<f64>().expect(line))
        })
        .collect()
}

const LABELS: &str = r#"iname="VI_1",intf="eth0",vrid="1",family="ipv4""#;

fn sample(metrics: &BTreeMap<String, f64>, name: &str, extra: &str) -> Option<f64> {
    metrics.get(&format!("{name}{{{LABELS}{extra}}}")).copied()
}

/// One round of the checker: host 0's and host 1's `/health` codes (0: no answer).
type Round = (Instant, [u16; 2]);

/// Polls `/health` on both hosts from `checker` every 20 ms until `stop` (or `CHECKER_LIMIT`).
fn start_checker(
    checker: String,
    targets: [SocketAddr; 2],
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Round>> {
    std::thread::spawn(move || {
        in_netns(&checker, || {
            let started = Instant::now();
            let mut rounds = Vec::new();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < CHECKER_LIMIT {
                let code = |to| {
                    http::get(to, "/health", Duration::from_millis(500)).map_or(0, |(code, _)| code)
                };
                rounds.push((Instant::now(), [code(targets[0]), code(targets[1])]));
                std::thread::sleep(Duration::from_millis(20));
            }
            rounds
        })
        .unwrap()
    })
}

/// Sends `raw` and returns the response's status code.
fn send_raw(lab: &Lab, checker: &str, index: usize, raw: Vec<u8>) -> u16 {
    let to = target(lab, index);
    let text = in_netns(checker, move || {
        let mut stream = TcpStream::connect_timeout(&to, Duration::from_secs(2)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        stream.write_all(&raw).unwrap();
        let mut response = String::new();
        let _ = stream.read_to_string(&mut response);
        response
    })
    .unwrap();
    http::parse_response(&text).unwrap().0
}

#[test]
fn metrics_and_health_follow_a_failover() {
    let lab = Lab::builder("metrics").hosts(3).build().unwrap();
    let checker = lab.host(2).ns.clone();
    let interval = Interval::from_millis(100);
    let master = start(&lab, 0, 200, "");
    expect_state(&master, MASTER, election_timeout(interval));
    // One notify script that succeeds (MASTER) and one that fails (BACKUP), to count.
    let notify = "notify_master = \"/bin/true\"\nnotify_backup = \"/bin/false\"\n";
    let backup = start(&lab, 1, 100, notify);
    expect_state(&backup, BACKUP, election_timeout(interval));
    std::thread::sleep(Duration::from_millis(500));

    let (a, b) = (scrape(&lab, &checker, 0), scrape(&lab, &checker, 1));
    assert_eq!(sample(&a, "keepvip_vrrp_state", ""), Some(2.0), "{a:#?}");
    assert_eq!(sample(&b, "keepvip_vrrp_state", ""), Some(1.0), "{b:#?}");
    assert_eq!(sample(&a, "keepvip_vrrp_priority", ""), Some(200.0));
    assert_eq!(
        sample(&b, "keepvip_vrrp_effective_priority", ""),
        Some(100.0)
    );
    assert!(sample(&a, "keepvip_advertisements_sent_total", "").unwrap() >= 3.0);
    assert_eq!(
        sample(&b, "keepvip_advertisements_sent_total", ""),
        Some(0.0)
    );
    let received_before = sample(&b, "keepvip_advertisements_received_total", "").unwrap();
    assert!(received_before >= 3.0, "{b:#?}");
    assert!(
        sample(&a, "keepvip_last_takeover_seconds", "").is_some(),
        "{a:#?}"
    );
    assert_eq!(sample(&b, "keepvip_last_takeover_seconds", ""), None);
    assert_eq!(
        sample(&b, "keepvip_notify_runs_total", ""),
        Some(1.0),
        "{b:#?}"
    );
    assert_eq!(sample(&b, "keepvip_notify_failures_total", ""), Some(1.0));
    assert_eq!(sample(&a, "keepvip_notify_runs_total", ""), Some(0.0));

    let (code, body) = get(&lab, &checker, 0, "/health/VI_1");
    assert_eq!(code, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["state"].as_str(), json["priority"].as_u64()),
        (Some(MASTER), Some(200))
    );
    assert_eq!(get(&lab, &checker, 1, "/health/VI_1").0, 503);
    assert_eq!(get(&lab, &checker, 1, "/health/nope").0, 404);
    assert_eq!(
        send_raw(&lab, &checker, 1, b"GARBAGE\r\n\r\n".to_vec()),
        400
    );
    assert_eq!(
        send_raw(
            &lab,
            &checker,
            1,
            b"DELETE /metrics HTTP/1.1\r\n\r\n".to_vec()
        ),
        405
    );
    let b = scrape(&lab, &checker, 1);
    assert_eq!(
        b.get("keepvip_http_bad_requests_total"),
        Some(&2.0),
        "{b:#?}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let targets = [target(&lab, 0), target(&lab, 1)];
    let polling = start_checker(checker.clone(), targets, stop.clone());
    std::thread::sleep(Duration::from_secs(1));
    let killed_at = Instant::now();
    master.kill().unwrap();
    expect_state(&backup, MASTER, election_timeout(interval));
    let mastered_at = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let rounds = polling.join().unwrap();

    let before: Vec<_> = rounds.iter().filter(|(at, _)| *at < killed_at).collect();
    let after: Vec<_> = rounds.iter().filter(|(at, _)| *at > mastered_at).collect();
    assert!(
        before.len() >= 10 && after.len() >= 10,
        "{} / {} rounds",
        before.len(),
        after.len()
    );
    for (_, codes) in &before {
        assert_eq!(*codes, [200, 503], "before the kill: {rounds:?}");
    }
    for (_, codes) in &after {
        // The killed host's listener is gone with it: no answer.
        assert_eq!(*codes, [0, 200], "after the takeover: {rounds:?}");
    }
    assert!(
        rounds
            .iter()
            .all(|(_, codes)| codes.iter().filter(|c| **c == 200).count() <= 1),
        "never two hosts healthy: {rounds:?}"
    );

    let b = scrape(&lab, &checker, 1);
    assert_eq!(sample(&b, "keepvip_vrrp_state", ""), Some(2.0), "{b:#?}");
    assert_eq!(
        sample(
            &b,
            "keepvip_transitions_total",
            r#",from="BACKUP",to="MASTER""#
        ),
        Some(1.0)
    );
    let sent = sample(&b, "keepvip_advertisements_sent_total", "").unwrap();
    assert!(sent >= 5.0, "the new master advertises: {b:#?}");
    assert_eq!(
        sample(&b, "keepvip_notify_runs_total", ""),
        Some(2.0),
        "{b:#?}"
    );
    assert_eq!(sample(&b, "keepvip_notify_failures_total", ""), Some(1.0));
    let received = sample(&b, "keepvip_advertisements_received_total", "").unwrap();
    assert!(received >= received_before, "{b:#?}");
    let takeover =
        sample(&b, "keepvip_last_takeover_seconds", "").expect("a takeover was measured");
    assert!(takeover > 0.0 && takeover < 0.5, "takeover {takeover} s");
    println!(
        "metrics: backup's takeover (decision to VIP acknowledged) took {:.3} ms",
        takeover * 1e3
    );
    std::thread::sleep(Duration::from_millis(300));
    let later = scrape(&lab, &checker, 1);
    assert_eq!(
        sample(&later, "keepvip_advertisements_received_total", ""),
        Some(received),
        "the dead master sends nothing more"
    );
    assert!(sample(&later, "keepvip_advertisements_sent_total", "").unwrap() > sent);
}
