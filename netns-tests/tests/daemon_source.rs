//! The master's source address removed under a running pair of keepvip daemons (100 ms adverts): the
//! master goes to FAULT (`fault_source_lost`) and drops its VIP, the backup takes over, so the VIP is on
//! exactly one host; it stays so past a periodic address re-read. With the address back the old master
//! leaves FAULT and preempts back. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::daemon::scenario::{
    BACKUP, FAULT, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip,
    has_vip, start_keepvip,
};
use netns_tests::daemon::{InstanceSpec, Interval};
use netns_tests::{HOST_IF, Lab, cmd};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
/// Longer than the daemon's 5 s address re-read, so a wrong periodic snapshot would show.
const HOLD: Duration = Duration::from_millis(6_500);

/// `ip -n <ns> addr <verb> <address>/24 dev eth0` on host `index`.
fn change_address(lab: &Lab, index: usize, verb: &str) {
    let host = lab.host(index);
    let cidr = format!("{}/24", host.ipv4);
    cmd::ip(&["-n", &host.ns, "addr", verb, &cidr, "dev", HOST_IF])
        .unwrap_or_else(|err| panic!("ip addr {verb} {cidr} on host {index}: {err}"));
}

#[test]
fn source_address_removed_on_master_faults_it_and_it_preempts_back_when_restored() {
    let interval = Interval::from_millis(100);
    let lab = Lab::builder("srcloss").hosts(2).build().unwrap();
    let vip = IpAddr::V4(VIP);
    assert_eq!(lab.host(0).ipv4, Ipv4Addr::new(192, 0, 2, 1));
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval, &[VIP_CIDR]));
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval, &[VIP_CIDR]));
    expect_state(&backup, BACKUP, election_timeout(interval));
    expect_adverts_received(&backup, 2, election_timeout(interval));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));

    change_address(&lab, 0, "del");
    expect_state(&master, FAULT, Duration::from_secs(2));
    expect_vip(&lab, 0, vip, false, Duration::from_secs(2));
    expect_state(&backup, MASTER, election_timeout(interval));
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    assert!(
        master
            .transitions()
            .iter()
            .any(|t| t.from == MASTER && t.to == FAULT && t.reason == "fault_source_lost"),
        "{}",
        master.describe()
    );

    // Nothing brings it back while the address is gone, not even the periodic re-read.
    std::thread::sleep(HOLD);
    expect_state(&master, FAULT, Duration::ZERO);
    expect_state(&backup, MASTER, Duration::ZERO);
    assert!(
        has_vip(&lab, 1, vip) && !has_vip(&lab, 0, vip),
        "the VIP must be on the backup only\n{}\n{}",
        master.describe(),
        backup.describe()
    );
    let faults = master
        .transitions()
        .iter()
        .filter(|t| t.to == FAULT)
        .count();
    assert_eq!(
        faults,
        1,
        "no flapping in and out of FAULT\n{}",
        master.describe()
    );

    change_address(&lab, 0, "add");
    expect_state(&master, MASTER, election_timeout(interval));
    expect_state(&backup, BACKUP, election_timeout(interval));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    expect_vip(&lab, 1, vip, false, Duration::from_secs(2));
    let transitions = master.transitions();
    assert!(
        transitions
            .iter()
            .any(|t| t.from == FAULT && t.to == BACKUP && t.reason == "fault_cleared"),
        "{}",
        master.describe()
    );
}
