//! The lab against the real kernel. Root only (namespaces), hence ignored by default; run as root with
//! `cargo test -p netlab -- --ignored --test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use netlab::{Lab, Switch, Veth, ip, list_namespaces};

fn left_with_prefix(prefix: &str) -> Vec<String> {
    list_namespaces()
        .unwrap()
        .into_iter()
        .filter(|name| name.starts_with(prefix))
        .collect()
}

#[test]
#[ignore = "needs root: cargo test -p netlab -- --ignored"]
fn two_namespaces_on_a_switch_reach_each_other_and_everything_goes_on_drop() {
    let prefix = format!("kvnl{}a", std::process::id());
    let mut lab = Lab::new(&prefix);
    let switch = Switch::new(lab.add_namespace("sw").unwrap(), "br0");
    switch.create(&[]).unwrap();
    let a = lab.add_namespace("a").unwrap();
    let b = lab.add_namespace("b").unwrap();
    switch
        .plug(
            &Veth::new(&a, "eth0", "pa")
                .mac([0x02, 0x6e, 0x6c, 0, 0, 1])
                .address("192.0.2.1/24"),
        )
        .unwrap();
    switch
        .plug(&Veth::new(&b, "eth0", "pb").address("192.0.2.2/24"))
        .unwrap();
    assert_eq!(
        lab.namespaces(),
        [format!("{prefix}-sw"), a.clone(), b.clone()]
    );
    let link = ip(&["-n", &a, "-o", "link", "show", "dev", "eth0"]).unwrap();
    assert!(link.contains("02:6e:6c:00:00:01"), "{link}");
    let port = ip(&["-n", &switch.namespace, "-o", "link", "show", "dev", "pb"]).unwrap();
    assert!(port.contains("master br0"), "{port}");

    let ping = lab
        .spawn(
            &a,
            "ping",
            &["ping", "-c", "1", "-W", "5", "192.0.2.2"],
            Stdio::null(),
            Stdio::null(),
        )
        .unwrap();
    assert!(ping.wait(Duration::from_secs(10)).unwrap().success());
    let sleeper = lab
        .spawn(
            &b,
            "sleeper",
            &["sleep", "30"],
            Stdio::null(),
            Stdio::null(),
        )
        .unwrap();
    let pid = sleeper.pid();
    assert_eq!(sleeper.try_status().unwrap(), None);

    drop(lab);
    assert_eq!(left_with_prefix(&prefix), Vec::<String>::new());
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "sleep {pid} survived"
    );
    // Reaped: signalling it again is a no-op, never a stray signal to a reused id.
    sleeper.kill().unwrap();
}

#[test]
#[ignore = "needs root: cargo test -p netlab -- --ignored"]
fn a_panic_while_the_lab_is_in_scope_still_removes_it() {
    let prefix = format!("kvnl{}p", std::process::id());
    let mut pid = None;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let mut lab = Lab::new(&prefix);
        let ns = lab.add_namespace("h").unwrap();
        let sleeper = lab
            .spawn(
                &ns,
                "sleeper",
                &["sleep", "30"],
                Stdio::null(),
                Stdio::null(),
            )
            .unwrap();
        pid = Some(sleeper.pid());
        panic!("test body fails");
    }));
    assert!(outcome.is_err());
    assert_eq!(left_with_prefix(&prefix), Vec::<String>::new());
    let pid = pid.unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "sleep {pid} survived"
    );
}

#[test]
#[ignore = "needs root: cargo test -p netlab -- --ignored"]
fn a_failed_step_names_the_command_and_cleanup_still_runs() {
    let prefix = format!("kvnl{}f", std::process::id());
    let mut lab = Lab::new(&prefix);
    let ns = lab.add_namespace("h").unwrap();
    let err = Switch::new(&ns, "br0")
        .plug(&Veth::new("no-such-namespace", "eth0", "p0"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("`ip -n {ns} link add p0 type veth")),
        "{err}"
    );
    assert!(lab.add_namespace("h").is_err(), "the name is taken");
    assert_eq!(lab.namespaces(), [ns]);
    assert_eq!(lab.cleanup(), Ok(()));
    assert_eq!(left_with_prefix(&prefix), Vec::<String>::new());
}

/// `ping` from `ns` with extra words; whether it got an answer.
fn ping(lab: &Lab, ns: &str, args: &[&str]) -> bool {
    let mut argv = vec!["ping", "-c", "2", "-W", "2"];
    argv.extend_from_slice(args);
    let ping = lab
        .spawn(ns, "ping", &argv, Stdio::null(), Stdio::null())
        .unwrap();
    ping.wait(Duration::from_secs(10)).unwrap().success()
}

#[test]
#[ignore = "needs root: cargo test -p netlab -- --ignored"]
fn a_switch_dropping_vrrp_multicast_drops_only_that() {
    let prefix = format!("kvnl{}d", std::process::id());
    let mut lab = Lab::new(&prefix);
    let switch = Switch::new(lab.add_namespace("sw").unwrap(), "br0");
    switch.create(&["mcast_snooping", "0"]).unwrap();
    switch.drop_vrrp_multicast().unwrap();
    let a = lab.add_namespace("a").unwrap();
    let b = lab.add_namespace("b").unwrap();
    for (ns, port, v4, v6) in [
        (&a, "pa", "192.0.2.1/24", "2001:db8::1/64"),
        (&b, "pb", "192.0.2.2/24", "2001:db8::2/64"),
    ] {
        switch
            .plug(&Veth::new(ns, "eth0", port).address(v4))
            .unwrap();
        ip(&["-n", ns, "addr", "add", v6, "dev", "eth0", "nodad"]).unwrap();
    }
    assert_eq!(switch.vrrp_multicast_dropped().unwrap(), 0);
    // Sent to the VRRP groups: nobody answers, and the switch counts them dropped.
    assert!(!ping(&lab, &a, &["-I", "eth0", "-t", "255", "224.0.0.18"]));
    assert!(!ping(&lab, &a, &["-6", "ff02::12%eth0"]));
    let dropped = switch.vrrp_multicast_dropped().unwrap();
    assert!(
        dropped >= 4,
        "{dropped} dropped, expected both pings' 2 + 2"
    );
    // Unicast crosses, and so does what it needs: ARP, and IPv6 neighbour solicitations (multicast
    // to the solicited-node group).
    assert!(ping(&lab, &a, &["192.0.2.2"]));
    assert!(ping(&lab, &a, &["-6", "2001:db8::2"]));
    lab.cleanup().unwrap();
    assert!(left_with_prefix(&prefix).is_empty());
}
