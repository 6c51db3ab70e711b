//! A split heals: the master is frozen (SIGSTOP, as a VM pause does) or cut off on the lab switch for
//! 2 s, the backup takes over and its gratuitous ARP moves a client's neighbour entry; when the old
//! master is back it wins again and the backup yields. The old master must announce the VIP again at
//! once, or the client keeps sending to the backup's MAC until its neighbour entry goes stale
//! (about 6.5 s measured before the fix). A client pings the VIP every 10 ms; the test measures its
//! longest time without a reply around the heal. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nix::sys::signal::Signal;

use netns_tests::Lab;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_state, start_keepvip,
};
use netns_tests::daemon::wire::wall_clock;
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::ping::{PingClient, outage_around};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const SPLIT: Duration = Duration::from_secs(2);
const PING_EVERY: Duration = Duration::from_millis(10);
/// Scheduling slack on a loaded 2-core machine, on top of one advert interval.
const SLACK: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, Copy)]
enum Split {
    /// SIGSTOP the master's process, SIGCONT it.
    Freeze,
    /// Drop the master's frames on the switch, then stop dropping them (its link stays up).
    Partition,
}

/// The client's neighbour entry for the VIP: its MAC, if it has one.
fn client_neighbour_mac(lab: &Lab, client: usize) -> Option<String> {
    let out = netns_tests::cmd::ip(&[
        "-n",
        &lab.host(client).ns,
        "neigh",
        "show",
        &VIP.to_string(),
    ])
    .ok()?;
    let mut words = out.split_whitespace();
    words.find(|w| *w == "lladdr")?;
    words.next().map(str::to_owned)
}

fn mac_text(mac: [u8; 6]) -> String {
    netlab::mac_to_string(&mac)
}

fn split_master(lab: &Lab, master: &Keepvip, split: Split, on: bool) {
    match (split, on) {
        (Split::Freeze, true) => master.proc().signal(Signal::SIGSTOP).unwrap(),
        (Split::Freeze, false) => master.proc().signal(Signal::SIGCONT).unwrap(),
        (Split::Partition, true) => lab.isolate_host(0).unwrap(),
        (Split::Partition, false) => lab.heal_host(0).unwrap(),
    }
}

/// Runs one split and heal; returns the client's outage around the heal.
fn outage_after_heal(split: Split, interval: Interval) -> Duration {
    let lab = Lab::builder("splitheal").hosts(3).build().unwrap();
    let spec = |priority| InstanceSpec::new(priority, interval, &[VIP_CIDR]);
    let master = start_keepvip(&lab, 0, 0, &spec(200));
    expect_state(&master, MASTER, election_timeout(interval));
    let backup = start_keepvip(&lab, 1, 0, &spec(100));
    expect_state(&backup, BACKUP, election_timeout(interval));
    // 9 s of pings: 1.5 s before the split, the 2 s split, 5.5 s after the heal.
    let client = PingClient::start(&lab, 2, IpAddr::V4(VIP), 900, PING_EVERY).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let owner_mac = mac_text(lab.host(0).mac);
    assert_eq!(client_neighbour_mac(&lab, 2), Some(owner_mac.clone()));

    split_master(&lab, &master, split, true);
    let split_at = std::time::Instant::now();
    expect_state(&backup, MASTER, election_timeout(interval));
    std::thread::sleep(SPLIT.saturating_sub(split_at.elapsed()));
    // The backup's gratuitous ARP moved the client: the heal has something to repair.
    assert_eq!(
        client_neighbour_mac(&lab, 2),
        Some(mac_text(lab.host(1).mac)),
        "the takeover's GARP did not move the client"
    );
    if let Split::Partition = split {
        assert_eq!(master.instance("VI_1").unwrap().state, MASTER);
    }
    let healed_at = wall_clock();
    split_master(&lab, &master, split, false);
    expect_state(&backup, BACKUP, Duration::from_secs(3));
    let stamps = client.finish().unwrap();
    let outage = outage_around(&stamps, healed_at, Duration::from_secs(1));
    assert_eq!(client_neighbour_mac(&lab, 2), Some(owner_mac));
    assert_eq!(master.instance("VI_1").unwrap().state, MASTER);
    println!(
        "{split:?} {} ms at {} ms: outage after the heal {} ms",
        SPLIT.as_millis(),
        interval.as_millis(),
        outage.as_millis()
    );
    outage
}

fn assert_short(split: Split) {
    let interval = Interval::from_millis(100);
    let outage = outage_after_heal(split, interval);
    assert!(
        outage <= interval.duration() + SLACK,
        "{split:?}: the client could not reach the VIP for {} ms after the heal (at most one advert \
         interval, {} ms, plus {} ms slack)",
        outage.as_millis(),
        interval.as_millis(),
        SLACK.as_millis()
    );
}

#[test]
fn a_master_unfrozen_after_a_takeover_announces_the_vip_again_at_once() {
    assert_short(Split::Freeze);
}

#[test]
fn a_master_whose_partition_heals_announces_the_vip_again_at_once() {
    assert_short(Split::Partition);
}
