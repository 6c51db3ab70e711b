//! Virtual routes and rules in the kernel, read with `ip route` / `ip rule`: present only on the master,
//! moved on a crash (SIGKILL) and on a graceful stop (SIGTERM), removed by a stopping master, and a
//! crashed master's leftovers removed when it starts again. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use netns_tests::daemon::config::config_toml;
use netns_tests::daemon::scenario::{BACKUP, MASTER, election_timeout, expect_state};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::{Ipv6Mode, Lab, kernel, wait_for_value};

const VIP_CIDR: &str = "192.0.2.100/24";
/// A route the kernel refuses (its gateway is on no connected network), listed first: the others
/// must still go in.
const REFUSED: &str = r#"{ to = "203.0.113.0/24", via = "198.51.100.77" }"#;
/// Every route and rule the master installs. The first route's `src` is the VIP: the kernel takes it
/// only once the VIP is on the interface, so it going in shows the order.
const ROUTES_AND_RULES: &str = r#"
routes = [
  ROUTE_REFUSED,
  { to = "0.0.0.0/0", via = "192.0.2.254", table = 100, src = "192.0.2.100" },
  { to = "198.51.100.0/24", dev = "eth0", metric = 50 },
  { to = "2001:db8:99::/48", type = "blackhole", table = 100 },
  { to = "2001:db8:98::/48", via = "2001:db8::254", metric = 300 },
]
rules = [
  { from = "198.51.100.0/24", table = 100, priority = 100 },
  { from = "2001:db8:1::/48", to = "2001:db8:2::/48", table = 100, priority = 200 },
]
"#;
/// What `kernel::keepvip_routes_and_rules` reads on the master, sorted (iproute2 6.1's wording).
const INSTALLED: [&str; 6] = [
    "100: from 198.51.100.0/24 lookup 100 proto 112",
    "198.51.100.0/24 dev eth0 proto 112 scope link metric 50",
    "2001:db8:98::/48 via 2001:db8::254 dev eth0 proto 112 metric 300 pref medium",
    "200: from 2001:db8:1::/48 to 2001:db8:2::/48 lookup 100 proto 112",
    "blackhole 2001:db8:99::/48 dev lo table 100 proto 112 metric 1024 pref medium",
    "default via 192.0.2.254 dev eth0 table 100 proto 112 src 192.0.2.100",
];
const LEFTOVERS_LOG: &str = "removed routes and rules left by an earlier run";
const WAIT: Duration = Duration::from_secs(5);

fn config(label: &str, priority: u8, preempt: bool) -> String {
    let spec =
        InstanceSpec::new(priority, Interval::from_millis(100), &[VIP_CIDR]).preempt(preempt);
    let mut text = config_toml(label, &[spec]);
    text.push_str(&ROUTES_AND_RULES.replace("ROUTE_REFUSED", REFUSED));
    text
}

fn start(lab: &Lab, index: usize, label: &str, priority: u8, preempt: bool) -> Keepvip {
    let text = config(label, priority, preempt);
    Keepvip::start(lab, index, label, &text)
        .unwrap_or_else(|e| panic!("keepvip {label} did not start: {e}\n{text}"))
}

fn marked(lab: &Lab, index: usize) -> Vec<String> {
    kernel::keepvip_routes_and_rules(&lab.host(index).ns).unwrap()
}

/// Wait until host `index` holds exactly `INSTALLED` (`true`) or nothing marked (`false`).
fn expect_marked(lab: &Lab, index: usize, installed: bool, daemon: &Keepvip) {
    let want: Vec<String> = if installed {
        INSTALLED.iter().map(|s| (*s).to_owned()).collect()
    } else {
        Vec::new()
    };
    let outcome = wait_for_value(
        &format!("host {index}'s keepvip routes and rules to be {want:?}"),
        WAIT,
        Duration::from_millis(20),
        || Ok((marked(lab, index) == want).then_some(())),
    );
    if let Err(e) = outcome {
        panic!(
            "{e}\nhost {index} has {:?}\n{}",
            marked(lab, index),
            daemon.describe()
        );
    }
}

/// Priorities 200 (host 0) and 100 (host 1), adverts every 100 ms:
/// 1. host 0 is master and holds every route and rule but the refused one, which its log names with
///    the kernel's error; host 1 holds none;
/// 2. SIGKILL host 0: host 1 takes them over; host 0 still has its own (nothing removed them);
/// 3. host 0 starts again (preempt = false, so it stays backup under host 1): by the time it answers
///    its leftovers are gone, and its log says how many;
/// 4. SIGTERM host 1: host 0 takes over and installs them; host 1 removed its own before exiting;
/// 5. SIGTERM host 0: it removes them; nothing marked is left anywhere.
#[test]
fn routes_and_rules_follow_the_master_and_crash_leftovers_are_removed_at_startup() {
    let interval = Interval::from_millis(100);
    let lab = Lab::builder("routes")
        .hosts(2)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let first = start(&lab, 0, "h0", 200, true);
    let peer = start(&lab, 1, "h1", 100, true);
    expect_state(&first, MASTER, election_timeout(interval));
    expect_state(&peer, BACKUP, election_timeout(interval));
    expect_marked(&lab, 0, true, &first);
    expect_marked(&lab, 1, false, &peer);
    let log = first.logs();
    let refused = log
        .lines()
        .find(|line| line.contains("route not added"))
        .unwrap_or_else(|| panic!("the refused route is not logged:\n{log}"));
    assert!(
        refused.contains("203.0.113.0/24 via 198.51.100.77")
            && refused.contains("Network is unreachable"),
        "the log names the route and the kernel's error: {refused}"
    );
    assert_eq!(log.matches("route not added").count(), 1, "{log}");

    first.kill().unwrap();
    expect_state(&peer, MASTER, election_timeout(interval));
    expect_marked(&lab, 1, true, &peer);
    assert_eq!(
        marked(&lab, 0),
        INSTALLED,
        "a SIGKILLed master cannot remove its routes and rules"
    );

    let restarted = start(&lab, 0, "h0-1", 200, false);
    assert_eq!(
        marked(&lab, 0),
        Vec::<String>::new(),
        "leftovers must be gone by the time the restarted daemon answers\n{}",
        restarted.describe()
    );
    let log = restarted.logs();
    let removed = log
        .lines()
        .find(|line| line.contains(LEFTOVERS_LOG))
        .unwrap_or_else(|| panic!("no leftovers line in the log:\n{log}"));
    assert!(
        removed.contains("\"routes\":4") && removed.contains("\"rules\":2"),
        "{removed}"
    );
    expect_state(&restarted, BACKUP, election_timeout(interval));
    assert_eq!(marked(&lab, 0), Vec::<String>::new(), "a backup holds none");

    peer.terminate().unwrap();
    expect_state(&restarted, MASTER, election_timeout(interval));
    expect_marked(&lab, 0, true, &restarted);
    assert!(
        peer.wait_exit(WAIT).unwrap().success(),
        "{}",
        peer.describe()
    );
    assert_eq!(
        marked(&lab, 1),
        Vec::<String>::new(),
        "a master stopped by SIGTERM removes its routes and rules"
    );

    restarted.terminate().unwrap();
    assert!(
        restarted.wait_exit(WAIT).unwrap().success(),
        "{}",
        restarted.describe()
    );
    assert_eq!(marked(&lab, 0), Vec::<String>::new());
}

/// An operator's own routes and rules are never replaced or removed: one route with the destination,
/// table and metric of a keepvip route (the kernel refuses keepvip's: logged, the rest go in), a rule
/// equal to keepvip's but for the marker (both coexist), and an unrelated route in table 100. They
/// survive keepvip's startup cleanup, its time as master and its SIGTERM. (The operator's route also
/// puts the gateway of the route the first test sees refused on a link, so that one goes in here.)
#[test]
fn an_operators_routes_and_rules_are_left_alone() {
    let interval = Interval::from_millis(100);
    let lab = Lab::builder("routesown")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let ns = lab.host(0).ns.clone();
    let ip = |args: &[&str]| {
        let mut full = vec!["-n", ns.as_str()];
        full.extend_from_slice(args);
        netns_tests::cmd::ip(&full).unwrap_or_else(|e| panic!("ip {full:?}: {e}"));
    };
    ip(&[
        "route",
        "add",
        "198.51.100.0/24",
        "dev",
        "eth0",
        "metric",
        "50",
    ]);
    ip(&[
        "route",
        "add",
        "192.0.2.128/25",
        "via",
        "192.0.2.254",
        "table",
        "100",
    ]);
    ip(&[
        "rule",
        "add",
        "from",
        "198.51.100.0/24",
        "table",
        "100",
        "priority",
        "100",
    ]);
    let operators = || {
        let main = kernel::routes(&ns, false, "main").unwrap();
        let table = kernel::routes(&ns, false, "100").unwrap();
        let rules = kernel::rules(&ns, false).unwrap();
        [
            main.contains(&"198.51.100.0/24 dev eth0 scope link metric 50".to_owned()),
            table.contains(&"192.0.2.128/25 via 192.0.2.254 dev eth0".to_owned()),
            rules.contains(&"100: from 198.51.100.0/24 lookup 100".to_owned()),
        ]
    };
    assert_eq!(
        operators(),
        [true; 3],
        "the operator's routes and rule are in place"
    );

    let daemon = start(&lab, 0, "h0", 200, true);
    expect_state(&daemon, MASTER, election_timeout(interval));
    // The operator's route to 198.51.100.0/24 puts the otherwise refused route's gateway on a link.
    let mut without_collision: Vec<&str> = INSTALLED.to_vec();
    without_collision.retain(|line| !line.starts_with("198.51.100.0/24"));
    without_collision.push("203.0.113.0/24 via 198.51.100.77 dev eth0 proto 112");
    without_collision.sort_unstable();
    let held = wait_for_value(
        "keepvip's routes and rules but the colliding one",
        WAIT,
        Duration::from_millis(20),
        || Ok((marked(&lab, 0) == without_collision).then_some(())),
    );
    assert!(held.is_ok(), "{:?}\n{}", marked(&lab, 0), daemon.describe());
    assert_eq!(operators(), [true; 3], "left alone by startup and install");
    let log = daemon.logs();
    let collided = log
        .lines()
        .find(|line| line.contains("route not added") && line.contains("198.51.100.0/24 dev eth0"))
        .unwrap_or_else(|| panic!("the colliding route is not logged:\n{log}"));
    assert!(collided.contains("File exists"), "{collided}");

    daemon.terminate().unwrap();
    assert!(
        daemon.wait_exit(WAIT).unwrap().success(),
        "{}",
        daemon.describe()
    );
    assert_eq!(marked(&lab, 0), Vec::<String>::new());
    assert_eq!(
        operators(),
        [true; 3],
        "left alone by the removal at SIGTERM"
    );
}
