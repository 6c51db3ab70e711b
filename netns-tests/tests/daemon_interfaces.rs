//! Interfaces that come and go under a running keepvip (100 ms adverts): an interface missing at
//! startup (FAULT, then up when it appears), deleted and re-created with a new ifindex (FAULT while
//! gone, then adverts again from the new interface and a correct election), a master's primary address
//! replaced (adverts leave from the new one, no restart), an address added after startup, and an IPv6
//! interface re-created with a new MAC (adverts from its new link-local address once DAD is done), and
//! an interface renamed away and back. Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use netns_tests::daemon::scenario::{
    BACKUP, FAULT, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip,
    has_vip, start_keepvip,
};
use netns_tests::daemon::wire::{adverts, adverts_from, wall_clock};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::lab::eui64_link_local;
use netns_tests::{HOST_IF, Ipv6Mode, Lab, cmd, kernel};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const GLOBAL_VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
/// The address the master is renumbered to (another subnet, so it is a primary address).
const RENUMBERED: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
/// Longer than the daemon's 5 s periodic re-read, so a wrong re-read would show.
const HOLD: Duration = Duration::from_millis(6_000);
/// A state change that follows a kernel event: the event, the loop, the status poll (loaded machine).
const REACT: Duration = Duration::from_secs(3);

fn interval() -> Interval {
    Interval::from_millis(100)
}

/// `ip -n <ns> addr <verb> <cidr> dev eth0` on host `index`.
fn change_address(lab: &Lab, index: usize, verb: &str, cidr: &str) {
    let ns = lab.host(index).ns.clone();
    cmd::ip(&["-n", &ns, "addr", verb, cidr, "dev", HOST_IF])
        .unwrap_or_else(|err| panic!("ip addr {verb} {cidr} on host {index}: {err}"));
}

fn ifindex(lab: &Lab, index: usize) -> u32 {
    kernel::link_index_and_mac(&lab.host(index).ns, HOST_IF)
        .unwrap()
        .0
}

/// Nothing the daemon did along the way was an error (a socket it could not open, a VIP it could not
/// remove...), and it did not warn about failed receives or sends.
fn assert_clean_log(daemon: &Keepvip) {
    let logs = daemon.logs();
    let noisy = logs
        .lines()
        .filter(|line| {
            line.contains("\"level\":\"ERROR\"")
                || line.contains("receive failed")
                || line.contains("advert not sent")
        })
        .collect::<Vec<_>>();
    assert!(noisy.is_empty(), "{noisy:#?}\n{}", daemon.describe());
}

/// The daemon is still running, its instance is in FAULT and `status` says why (`why`).
fn expect_fault(daemon: &Keepvip, why: &str) {
    expect_state(daemon, FAULT, REACT);
    netns_tests::wait_for_value(
        &format!("status to say FAULT for {why}"),
        REACT,
        Duration::from_millis(20),
        || Ok((daemon.instance("VI_1")?.fault.as_deref() == Some(why)).then_some(())),
    )
    .unwrap_or_else(|err| panic!("{err}\n{}", daemon.describe()));
}

#[test]
fn an_interface_missing_at_startup_faults_then_the_instance_joins_the_election_when_it_appears() {
    let lab = Lab::builder("ifmissing").hosts(2).build().unwrap();
    let vip = IpAddr::V4(VIP);
    lab.unplug_host(0).unwrap();
    let peer = start_keepvip(&lab, 1, 0, &InstanceSpec::new(200, interval(), &[VIP_CIDR]));
    expect_state(&peer, MASTER, election_timeout(interval()));

    // Starts and stays up, in FAULT, saying why.
    let late = start_keepvip(&lab, 0, 0, &InstanceSpec::new(100, interval(), &[VIP_CIDR]));
    expect_fault(&late, "interface_missing");
    assert!(
        late.logs().contains("does not exist"),
        "the reason is logged\n{}",
        late.describe()
    );
    std::thread::sleep(HOLD);
    expect_state(&late, FAULT, Duration::ZERO);

    // The interface appears: the instance follows the peer's adverts as backup, without the VIP.
    lab.replug_host(0, true).unwrap();
    expect_state(&late, BACKUP, REACT);
    assert_eq!(late.instance("VI_1").unwrap().fault, None);
    expect_adverts_received(&late, 3, election_timeout(interval()));
    expect_state(&peer, MASTER, Duration::ZERO);
    assert!(!has_vip(&lab, 0, vip), "{}", late.describe());
    expect_vip(&lab, 1, vip, true, Duration::ZERO);

    // Alone, it takes over and holds the VIP.
    peer.terminate().unwrap();
    peer.wait_exit(Duration::from_secs(5)).unwrap();
    expect_state(&late, MASTER, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
}

#[test]
fn an_interface_deleted_and_recreated_faults_while_gone_and_wins_the_election_again() {
    let lab = Lab::builder("ifrecreate").hosts(2).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let (a_ip, b_ip, vip) = (
        IpAddr::V4(lab.host(0).ipv4),
        IpAddr::V4(lab.host(1).ipv4),
        IpAddr::V4(VIP),
    );
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval(), &[VIP_CIDR]));
    expect_state(&master, MASTER, election_timeout(interval()));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval(), &[VIP_CIDR]));
    expect_state(&backup, BACKUP, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    let old_index = ifindex(&lab, 0);

    // Deleted: FAULT (the master cannot resign from an interface it no longer has), the peer takes over.
    lab.unplug_host(0).unwrap();
    expect_fault(&master, "interface_missing");
    assert!(
        master
            .transitions()
            .iter()
            .any(|t| t.from == MASTER && t.to == FAULT && t.reason == "fault_link_down"),
        "{}",
        master.describe()
    );
    expect_state(&backup, MASTER, election_timeout(interval()));
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    std::thread::sleep(HOLD);
    expect_state(&master, FAULT, Duration::ZERO);

    // Re-created (same name, new ifindex), without the VIP: adverts leave from it again, and the
    // higher priority preempts back.
    lab.replug_host(0, true).unwrap();
    let recreated_at = wall_clock();
    let new_index = ifindex(&lab, 0);
    assert_ne!(
        old_index, new_index,
        "the kernel gave the new veth a new ifindex"
    );
    assert!(!has_vip(&lab, 0, vip), "a new interface has no VIP");
    expect_state(&master, MASTER, election_timeout(interval()));
    expect_state(&backup, BACKUP, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    expect_vip(&lab, 1, vip, false, Duration::from_secs(2));
    let transitions = master.transitions();
    assert!(
        transitions
            .iter()
            .any(|t| t.from == FAULT && t.to == BACKUP && t.reason == "fault_cleared"),
        "back through BACKUP\n{}",
        master.describe()
    );
    expect_adverts_received(&backup, 5, Duration::from_secs(3));
    assert_clean_log(&master);

    let frames = capture.stop().unwrap();
    let all = adverts(&frames);
    let after: Vec<_> = adverts_from(&all, a_ip)
        .into_iter()
        .filter(|a| a.timestamp > recreated_at)
        .collect();
    assert!(
        after.len() >= 5 && after.iter().all(|a| a.priority == Some(200)),
        "adverts from the re-created interface at priority 200: {after:?}"
    );
    assert!(
        !adverts_from(&all, b_ip).is_empty(),
        "the peer advertised while host 0 was gone"
    );
}

#[test]
fn a_masters_primary_address_replaced_moves_its_adverts_to_the_new_address_without_a_restart() {
    let lab = Lab::builder("ifrenumber").hosts(2).build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let (old_ip, new_ip, vip) = (
        IpAddr::V4(lab.host(0).ipv4),
        IpAddr::V4(RENUMBERED),
        IpAddr::V4(VIP),
    );
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval(), &[VIP_CIDR]));
    expect_state(&master, MASTER, election_timeout(interval()));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval(), &[VIP_CIDR]));
    expect_state(&backup, BACKUP, election_timeout(interval()));

    // The new address first, then the old one goes: the master follows at once, never in FAULT.
    change_address(&lab, 0, "add", &format!("{RENUMBERED}/24"));
    change_address(&lab, 0, "del", &format!("{old_ip}/24"));
    let renumbered_at = wall_clock();
    let followed =
        |d: &Keepvip| d.instance("VI_1").unwrap().master.as_deref() == Some("198.51.100.1");
    netns_tests::wait::wait_for_value(
        "the backup to follow 198.51.100.1",
        REACT,
        Duration::from_millis(20),
        || Ok(followed(&backup).then_some(())),
    )
    .unwrap_or_else(|err| panic!("{err}\n{}\n{}", master.describe(), backup.describe()));
    expect_adverts_received(&backup, 5, Duration::from_secs(3));
    expect_state(&master, MASTER, Duration::ZERO);
    expect_state(&backup, BACKUP, Duration::ZERO);
    assert!(
        !master.transitions().iter().any(|t| t.to == FAULT),
        "a replaced source is no fault\n{}",
        master.describe()
    );
    expect_vip(&lab, 0, vip, true, Duration::ZERO);
    assert!(!has_vip(&lab, 1, vip));
    assert_clean_log(&master);

    let frames = capture.stop().unwrap();
    let all = adverts(&frames);
    let from_new = adverts_from(&all, new_ip);
    assert!(
        from_new.len() >= 5 && from_new.iter().all(|a| a.parsed.is_ok()),
        "adverts from the new address, valid (checksum over the new source): {from_new:?}"
    );
    // At most the advert in flight at the change still leaves from the old address.
    let late_old = adverts_from(&all, old_ip)
        .into_iter()
        .filter(|a| a.timestamp > renumbered_at + Duration::from_millis(500))
        .count();
    assert_eq!(late_old, 0, "no advert from the removed address");
}

#[test]
fn an_interface_without_an_address_at_startup_comes_up_when_one_is_added() {
    let lab = Lab::builder("ifnoaddr").hosts(2).build().unwrap();
    let vip = IpAddr::V4(VIP);
    let cidr = format!("{}/24", lab.host(0).ipv4);
    change_address(&lab, 0, "del", &cidr);
    let daemon = start_keepvip(&lab, 0, 0, &InstanceSpec::new(100, interval(), &[VIP_CIDR]));
    expect_fault(&daemon, "source_lost");
    assert!(
        daemon.logs().contains("has no IPv4 address"),
        "the reason is logged\n{}",
        daemon.describe()
    );
    std::thread::sleep(HOLD);
    expect_state(&daemon, FAULT, Duration::ZERO);
    assert!(!has_vip(&lab, 0, vip));

    change_address(&lab, 0, "add", &cidr);
    expect_state(&daemon, MASTER, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    let status = daemon.instance("VI_1").unwrap();
    assert_eq!(
        status.master.as_deref(),
        Some("192.0.2.1"),
        "adverts leave from the added address"
    );
}

#[test]
fn an_ipv6_interface_recreated_with_a_new_mac_advertises_from_its_new_link_local_address() {
    let lab = Lab::builder("ifrecreate6")
        .hosts(2)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let capture = lab.capture("vrrp6", &["ip6", "proto", "112"]).unwrap();
    let vips = ["2001:db8::100/64"];
    let master = start_keepvip(&lab, 0, 0, &InstanceSpec::new(200, interval(), &vips));
    expect_state(&master, MASTER, election_timeout(interval()));
    let backup = start_keepvip(&lab, 1, 0, &InstanceSpec::new(100, interval(), &vips));
    expect_state(&backup, BACKUP, election_timeout(interval()));

    lab.unplug_host(0).unwrap();
    expect_fault(&master, "interface_missing");
    expect_state(&backup, MASTER, election_timeout(interval()));

    // A new MAC: a new EUI-64 link-local address, which must leave DAD before adverts use it.
    let new_mac = [0x02, 0x6b, 0x76, 0, 1, 1];
    let new_ll = eui64_link_local(&new_mac);
    lab.replug_host_with_mac(0, new_mac).unwrap();
    let recreated_at = wall_clock();
    expect_state(
        &master,
        MASTER,
        election_timeout(interval()) + Duration::from_secs(3),
    );
    expect_state(&backup, BACKUP, election_timeout(interval()));
    expect_adverts_received(&backup, 3, Duration::from_secs(3));
    assert_eq!(
        backup.instance("VI_1").unwrap().master,
        Some(new_ll.to_string()),
        "the backup follows the new link-local address\n{}",
        master.describe()
    );
    expect_vip(
        &lab,
        0,
        IpAddr::V6(GLOBAL_VIP6),
        true,
        Duration::from_secs(2),
    );
    expect_vip(
        &lab,
        1,
        IpAddr::V6(GLOBAL_VIP6),
        false,
        Duration::from_secs(2),
    );
    assert_clean_log(&master);

    let frames = capture.stop().unwrap();
    let all = adverts(&frames);
    let from_new: Vec<_> = adverts_from(&all, IpAddr::V6(new_ll))
        .into_iter()
        .filter(|a| a.timestamp > recreated_at)
        .collect();
    assert!(
        from_new.len() >= 3 && from_new.iter().all(|a| a.parsed.is_ok()),
        "valid adverts from the new link-local address: {from_new:?}"
    );
    let old_ll = IpAddr::V6(lab.host(0).link_local.unwrap());
    let late_old = adverts_from(&all, old_ll)
        .into_iter()
        .filter(|a| a.timestamp > recreated_at)
        .count();
    assert_eq!(late_old, 0, "no advert from the old link-local address");
}

/// `ip -n <ns> link set <from> down`, renamed to `to`, up again (a veth cannot be renamed while up).
fn rename(lab: &Lab, index: usize, from: &str, to: &str) {
    let ns = lab.host(index).ns.clone();
    for args in [
        vec!["-n", &ns, "link", "set", from, "down"],
        vec!["-n", &ns, "link", "set", from, "name", to],
        vec!["-n", &ns, "link", "set", to, "up"],
    ] {
        cmd::ip(&args).unwrap_or_else(|err| panic!("ip {args:?}: {err}"));
    }
}

#[test]
fn an_interface_renamed_away_is_gone_and_renamed_back_is_followed_again() {
    let lab = Lab::builder("ifrename").hosts(1).build().unwrap();
    let vip = IpAddr::V4(VIP);
    let daemon = start_keepvip(&lab, 0, 0, &InstanceSpec::new(100, interval(), &[VIP_CIDR]));
    expect_state(&daemon, MASTER, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));

    // The interface lives on as eth9: no VIP may stay on it, and the instance has no interface.
    rename(&lab, 0, HOST_IF, "eth9");
    expect_fault(&daemon, "interface_missing");
    let ns = lab.host(0).ns.clone();
    assert!(
        !kernel::has_address(&ns, "eth9", vip).unwrap(),
        "no VIP left on the renamed interface\n{}",
        daemon.describe()
    );
    std::thread::sleep(HOLD);
    expect_state(&daemon, FAULT, Duration::ZERO);

    rename(&lab, 0, "eth9", HOST_IF);
    expect_state(&daemon, MASTER, election_timeout(interval()));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    assert_clean_log(&daemon);
}
