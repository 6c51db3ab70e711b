//! A keepvip that was SIGKILLed as master leaves its VIP on the interface (nothing removes it); started
//! again, it removes that stale VIP (marked IFA_PROTO 112, of its own config) before the election, so the
//! address is not on two hosts once a peer holds it, and it leaves alone an address an operator added
//! by hand in the same subnet. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip, has_vip,
    start_keepvip,
};
use netns_tests::daemon::{InstanceSpec, Interval};
use netns_tests::{HOST_IF, Lab, kernel};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
/// An operator's own address in the VIP's subnet, not installed by keepvip.
const MANUAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 50);
const STALE_LOG: &str = "removed VIPs left on the interface by an earlier run";

/// At 100 ms (timing is not under test; a 10 ms pair on a loaded machine could flap and blur "ends
/// BACKUP"): host 0 (priority 100) alone becomes master; an address is added by hand; SIGKILL; the VIP
/// is still there. Host 1 (priority 200) starts and becomes master: the VIP is now on both. Host 0's
/// keepvip starts again: by the time its control socket answers the stale VIP is gone (startup removes
/// it before any election), the log says so before its first transition, it ends BACKUP under the 200
/// without the VIP, and the hand-made address is still there.
#[test]
fn restart_after_sigkill_removes_the_stale_vip_before_the_election() {
    let interval = Interval::from_millis(100);
    let lab = Lab::builder("restart").hosts(2).build().unwrap();
    let vip = IpAddr::V4(VIP);
    let low = InstanceSpec::new(100, interval, &[VIP_CIDR]);
    let crashed = start_keepvip(&lab, 0, 0, &low);
    expect_state(&crashed, MASTER, election_timeout(interval));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    kernel::add_address(&lab.host(0).ns, HOST_IF, &format!("{MANUAL}/24"), &[]).unwrap();
    assert!(
        !crashed.logs().contains(STALE_LOG),
        "nothing stale on a fresh lab"
    );

    crashed.kill().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        has_vip(&lab, 0, vip),
        "a SIGKILLed master cannot remove its VIP: {:?}",
        kernel::addresses(&lab.host(0).ns, HOST_IF)
    );

    let peer = start_keepvip(&lab, 1, 0, &InstanceSpec::new(200, interval, &[VIP_CIDR]));
    expect_state(&peer, MASTER, election_timeout(interval));
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    assert!(
        has_vip(&lab, 0, vip),
        "still stale on host 0 (the split to end)"
    );

    let restarted = start_keepvip(&lab, 0, 1, &low);
    assert!(
        !has_vip(&lab, 0, vip),
        "the stale VIP must be gone before the restarted daemon answers: {:?}\n{}",
        kernel::addresses(&lab.host(0).ns, HOST_IF),
        restarted.describe()
    );
    let log = restarted.logs();
    let removed_at = log
        .find(STALE_LOG)
        .unwrap_or_else(|| panic!("no stale-VIP line in the log:\n{log}"));
    assert!(
        log.lines()
            .find(|line| line.contains(STALE_LOG))
            .is_some_and(|line| line.contains("192.0.2.100")),
        "{log}"
    );
    if let Some(first_transition) = log.find("\"message\":\"transition\"") {
        assert!(
            removed_at < first_transition,
            "cleanup before the election:\n{log}"
        );
    }
    expect_state(&restarted, BACKUP, election_timeout(interval));
    expect_adverts_received(&restarted, 3, election_timeout(interval));
    expect_state(&restarted, BACKUP, Duration::ZERO);
    expect_state(&peer, MASTER, Duration::ZERO);
    assert!(!has_vip(&lab, 0, vip), "the backup holds no VIP");
    assert!(has_vip(&lab, 1, vip), "the master keeps it");
    assert!(
        has_vip(&lab, 0, IpAddr::V4(MANUAL)),
        "the operator's {MANUAL} must survive: {:?}",
        kernel::addresses(&lab.host(0).ns, HOST_IF)
    );
    let status = restarted.instance("VI_1").unwrap();
    assert_eq!(status.master.as_deref(), Some("192.0.2.2"), "{status:?}");
    assert!(
        restarted.transitions().iter().all(|t| t.to != MASTER),
        "{}",
        restarted.describe()
    );
}
