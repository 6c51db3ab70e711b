//! `vmac = true` (keepalived's use_vmac, RFC 5798 §7.3): a pair whose master answers for the VIP with
//! the virtual router MAC from a macvlan, watched by an observer that pings the VIP. The observer's
//! neighbour entry for the VIP is the virtual MAC before and after every failover (SIGKILL, restart and
//! preemption, SIGTERM), adverts and gratuitous ARPs carry the virtual MAC as their Ethernet source, the
//! backup's macvlan is down without VIPs, a SIGKILLed master's leftover macvlan is rebuilt at restart
//! and SIGTERM deletes it. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use netns_tests::cmd::{ip, run};
use netns_tests::daemon::config::config_toml;
use netns_tests::daemon::scenario::{BACKUP, MASTER, election_timeout, expect_state};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::frames::{Mac, arp_frames, vrrp_frames};
use netns_tests::{HOST_IF, Lab, kernel, wait_for};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const VRID: u8 = 7;
const MACVLAN: &str = "vrrp.7";
const VIRTUAL_MAC: Mac = [0x00, 0x00, 0x5e, 0x00, 0x01, VRID];
const OBSERVER_CIDR: &str = "192.0.2.254/24";
const REBUILT_LOG: &str = "rebuilt the macvlan left by an earlier run";

fn mac_text(mac: &Mac) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// Start keepvip with one vmac instance (VRID 7, 100 ms adverts: timing is not under test).
fn start(lab: &Lab, host: usize, run: usize, priority: u8) -> Keepvip {
    let label = format!("h{host}-{run}");
    let spec = InstanceSpec::new(priority, Interval::from_millis(100), &[VIP_CIDR]).vrid(VRID);
    // The instance is the file's last table: the key lands in it.
    let config = config_toml(&label, &[spec]) + "vmac = true\n";
    Keepvip::start(lab, host, &label, &config)
        .unwrap_or_else(|e| panic!("keepvip on host {host}: {e}\n{config}"))
}

fn timeout() -> Duration {
    election_timeout(Interval::from_millis(100))
}

/// The macvlan on host `host`: (`UP` among its flags, its MAC), or `None` when it does not exist.
fn macvlan(lab: &Lab, host: usize) -> Option<(bool, String)> {
    let ns = &lab.host(host).ns;
    let (flags, _) = kernel::link_state(ns, MACVLAN).ok()?;
    let (_, mac) = kernel::link_index_and_mac(ns, MACVLAN).ok()?;
    Some((flags.iter().any(|f| f == "UP"), mac))
}

fn vip_on(lab: &Lab, host: usize, ifname: &str) -> usize {
    kernel::addresses(&lab.host(host).ns, ifname)
        .map(|list| {
            list.iter()
                .filter(|a| a.address == IpAddr::V4(VIP))
                .count()
        })
        .unwrap_or(0)
}

/// The master's side: the macvlan up with the virtual MAC, holding the VIP once; none on `eth0`.
fn expect_master_side(lab: &Lab, host: usize) {
    wait_for(
        &format!("the VIP on host {host}'s macvlan"),
        Duration::from_secs(3),
        Duration::from_millis(10),
        || vip_on(lab, host, MACVLAN) == 1,
    )
    .unwrap();
    assert_eq!(
        macvlan(lab, host),
        Some((true, mac_text(&VIRTUAL_MAC))),
        "host {host}"
    );
    assert_eq!(vip_on(lab, host, HOST_IF), 0, "host {host}: no VIP on eth0");
}

/// The backup's side: the macvlan there but down, no VIP anywhere.
fn expect_backup_side(lab: &Lab, host: usize) {
    wait_for(
        &format!("host {host}'s macvlan down"),
        Duration::from_secs(3),
        Duration::from_millis(10),
        || macvlan(lab, host).is_some_and(|(up, _)| !up),
    )
    .unwrap();
    assert_eq!(vip_on(lab, host, MACVLAN) + vip_on(lab, host, HOST_IF), 0);
}

/// The observer pings the VIP (bounded: 3 pings 100 ms apart) and must be answered; returns the MAC
/// its neighbour entry for the VIP holds afterwards.
fn ping_and_read_neighbour(lab: &Lab) -> String {
    let obs = lab.observer_ns();
    let vip = VIP.to_string();
    let args = ["netns", "exec", obs, "ping", "-c", "3", "-i", "0.1", "-W", "1", &vip];
    let out = run("ip", &args).unwrap_or_else(|e| panic!("ping the VIP: {e}"));
    assert!(out.contains(" 0% packet loss"), "{out}");
    let json = ip(&["-j", "-n", obs, "neigh", "show", "to", &vip]).unwrap();
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    entries[0]["lladdr"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_vip_keeps_the_virtual_mac_through_failovers() {
    let lab = Lab::builder("vmac").hosts(2).build().unwrap();
    kernel::add_address(lab.observer_ns(), HOST_IF, OBSERVER_CIDR, &[]).unwrap();
    let capture = lab.capture("wire", &["vrrp", "or", "arp"]).unwrap();
    let virtual_mac = mac_text(&VIRTUAL_MAC);

    let first = start(&lab, 0, 0, 200);
    expect_state(&first, MASTER, timeout());
    let backup = start(&lab, 1, 0, 100);
    expect_state(&backup, BACKUP, timeout());
    expect_master_side(&lab, 0);
    expect_backup_side(&lab, 1);
    assert_eq!(ping_and_read_neighbour(&lab), virtual_mac, "before any failover");

    // A crash: the backup takes over, the observer's entry does not change.
    first.kill().unwrap();
    expect_state(&backup, MASTER, timeout());
    expect_master_side(&lab, 1);
    assert_eq!(ping_and_read_neighbour(&lab), virtual_mac, "after SIGKILL");
    assert!(
        macvlan(&lab, 0).is_some(),
        "a SIGKILLed keepvip cannot delete its macvlan"
    );

    // Restart: the leftover is rebuilt before the election, then host 0 preempts.
    let restarted = start(&lab, 0, 1, 200);
    assert!(restarted.logs().contains(REBUILT_LOG), "{}", restarted.logs());
    expect_state(&restarted, MASTER, timeout());
    expect_state(&backup, BACKUP, timeout());
    expect_master_side(&lab, 0);
    expect_backup_side(&lab, 1);
    let links = ip(&["-n", &lab.host(0).ns, "-o", "link", "show", "type", "macvlan"]).unwrap();
    assert_eq!(links.lines().count(), 1, "one macvlan on host 0:\n{links}");
    assert_eq!(ping_and_read_neighbour(&lab), virtual_mac, "after preemption");

    // A graceful stop: priority 0, the backup takes over, the macvlan is deleted.
    restarted.terminate().unwrap();
    restarted.wait_exit(Duration::from_secs(10)).unwrap();
    expect_state(&backup, MASTER, timeout());
    assert_eq!(macvlan(&lab, 0), None, "SIGTERM deletes the macvlan");
    expect_master_side(&lab, 1);
    assert_eq!(ping_and_read_neighbour(&lab), virtual_mac, "after SIGTERM");

    let status = backup.status().unwrap();
    assert_eq!(
        status.discards.get("own_advert").copied().unwrap_or(0),
        0,
        "our own adverts from the macvlan must not come back: {status:?}"
    );
    backup.terminate().unwrap();
    backup.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(macvlan(&lab, 1), None);
    check_the_wire(&capture.stop().unwrap());
}

/// Every advert and every ARP frame naming the VIP as its sender comes from the virtual MAC; the
/// gratuitous ARPs of the four takeovers are there; no ARP names a host's own address with the
/// virtual MAC (the macvlan must not answer for the interface).
fn check_the_wire(frames: &[netns_tests::Frame]) {
    let adverts = vrrp_frames(frames);
    assert!(adverts.len() > 10, "{} adverts", adverts.len());
    for advert in &adverts {
        assert_eq!(advert.eth_src, VIRTUAL_MAC, "advert from {}", advert.src);
    }
    let arps = arp_frames(frames);
    let from_vip: Vec<_> = arps.iter().filter(|a| a.sender_ip == VIP).collect();
    for arp in &from_vip {
        assert_eq!((arp.eth_src, arp.sender_mac), (VIRTUAL_MAC, VIRTUAL_MAC), "{arp:?}");
    }
    let gratuitous = from_vip
        .iter()
        .filter(|a| a.target_ip == VIP && a.operation == 1)
        .count();
    assert!(gratuitous >= 4, "{gratuitous} gratuitous ARPs for 4 takeovers");
    let hosts = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
    for arp in arps.iter().filter(|a| hosts.contains(&a.sender_ip)) {
        assert_ne!(arp.sender_mac, VIRTUAL_MAC, "{arp:?}");
    }
}
