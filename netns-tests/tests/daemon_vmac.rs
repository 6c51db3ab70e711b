//! `vmac = true` (keepalived's use_vmac, RFC 5798 §7.3): a pair whose master answers for the VIP with
//! the virtual router MAC from a macvlan, watched by an observer that pings the VIP. The observer's
//! neighbour entry for the VIP is the virtual MAC before and after every failover (SIGKILL, restart and
//! preemption, SIGTERM), adverts and gratuitous ARPs carry the virtual MAC as their Ethernet source, the
//! backup's macvlan is down without VIPs, a SIGKILLed master's leftover macvlan is rebuilt at restart
//! and SIGTERM deletes it; IPv4 and IPv6. Also: the macvlan follows an interface deleted and
//! re-created, and a keepvip pair member interoperates with keepalived's `use_vmac` (the real
//! keepalived, which scripts/test.sh installs). Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use netns_tests::cmd::{ip, run};
use netns_tests::daemon::config::config_toml;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state,
};
use netns_tests::daemon::{InstanceSpec, Interval, Keepvip};
use netns_tests::frames::{Mac, arp_frames, ip_frames, neighbor_advertisements, vrrp_frames};
use netns_tests::keepalived::{Keepalived, KeepalivedSpec, entering};
use netns_tests::{HOST_IF, Ipv6Mode, Lab, in_netns, kernel, wait_for};

const VRID: u8 = 7;
const VIP_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const REBUILT_LOG: &str = "rebuilt the macvlan left by an earlier run";

/// One family's virtual router.
struct Case {
    vip: IpAddr,
    vip_cidr: &'static str,
    macvlan: &'static str,
    mac: Mac,
    observer_cidr: &'static str,
}

const V4: Case = Case {
    vip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100)),
    vip_cidr: "192.0.2.100/24",
    macvlan: "vrrp.7",
    mac: [0x00, 0x00, 0x5e, 0x00, 0x01, VRID],
    observer_cidr: "192.0.2.254/24",
};

const V6: Case = Case {
    vip: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)),
    vip_cidr: "2001:db8::100/64",
    macvlan: "vrrp6.7",
    mac: [0x00, 0x00, 0x5e, 0x00, 0x02, VRID],
    observer_cidr: "2001:db8::fe/64",
};

fn mac_text(mac: &Mac) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// Start keepvip with one vmac instance (VRID 7, 100 ms adverts: timing is not under test).
fn start(lab: &Lab, case: &Case, host: usize, run: usize, priority: u8) -> Keepvip {
    let label = format!("h{host}-{run}");
    let spec = InstanceSpec::new(priority, Interval::from_millis(100), &[case.vip_cidr]).vrid(VRID);
    // The instance is the file's last table: the key lands in it.
    let config = config_toml(&label, &[spec]) + "vmac = true\n";
    Keepvip::start(lab, host, &label, &config)
        .unwrap_or_else(|e| panic!("keepvip on host {host}: {e}\n{config}"))
}

fn timeout() -> Duration {
    election_timeout(Interval::from_millis(100))
}

/// The observer gets an address (and IPv6, which the lab leaves off there) to ping from.
fn prepare_observer(lab: &Lab, case: &Case) {
    let obs = lab.observer_ns();
    if case.vip.is_ipv6() {
        let key = "/proc/sys/net/ipv6/conf/eth0/disable_ipv6";
        in_netns(obs, || std::fs::write(key, "0")).unwrap().unwrap();
        kernel::add_address(obs, HOST_IF, case.observer_cidr, &["nodad"]).unwrap();
    } else {
        kernel::add_address(obs, HOST_IF, case.observer_cidr, &[]).unwrap();
    }
}

/// The macvlan on host `host`: (`UP` among its flags, its MAC), or `None` when it does not exist.
fn macvlan(lab: &Lab, case: &Case, host: usize) -> Option<(bool, String)> {
    let ns = &lab.host(host).ns;
    let (flags, _) = kernel::link_state(ns, case.macvlan).ok()?;
    let (_, mac) = kernel::link_index_and_mac(ns, case.macvlan).ok()?;
    Some((flags.iter().any(|f| f == "UP"), mac))
}

fn vip_on(lab: &Lab, case: &Case, host: usize, ifname: &str) -> usize {
    kernel::addresses(&lab.host(host).ns, ifname)
        .map(|list| list.iter().filter(|a| a.address == case.vip).count())
        .unwrap_or(0)
}

/// The master's side: the macvlan up with the virtual MAC, holding the VIP once; none on `eth0`.
fn expect_master_side(lab: &Lab, case: &Case, host: usize) {
    wait_for(
        &format!("the VIP on host {host}'s macvlan"),
        Duration::from_secs(3),
        Duration::from_millis(10),
        || vip_on(lab, case, host, case.macvlan) == 1,
    )
    .unwrap();
    assert_eq!(
        macvlan(lab, case, host),
        Some((true, mac_text(&case.mac))),
        "host {host}"
    );
    assert_eq!(
        vip_on(lab, case, host, HOST_IF),
        0,
        "host {host}: no VIP on eth0"
    );
}

/// The backup's side: the macvlan there but down, no VIP anywhere.
fn expect_backup_side(lab: &Lab, case: &Case, host: usize) {
    wait_for(
        &format!("host {host}'s macvlan down"),
        Duration::from_secs(3),
        Duration::from_millis(10),
        || macvlan(lab, case, host).is_some_and(|(up, _)| !up),
    )
    .unwrap();
    let held = vip_on(lab, case, host, case.macvlan) + vip_on(lab, case, host, HOST_IF);
    assert_eq!(held, 0, "host {host}: a backup holds no VIP");
}

/// The observer pings the VIP (bounded: 3 pings 100 ms apart) and must be answered; returns the MAC
/// its neighbour entry for the VIP holds afterwards.
fn ping_and_read_neighbour(lab: &Lab, case: &Case) -> String {
    let obs = lab.observer_ns();
    let vip = case.vip.to_string();
    let args = [
        "netns", "exec", obs, "ping", "-c", "3", "-i", "0.1", "-W", "1", &vip,
    ];
    let out = run("ip", &args).unwrap_or_else(|e| panic!("ping the VIP: {e}"));
    assert!(out.contains(" 0% packet loss"), "{out}");
    let json = ip(&["-j", "-n", obs, "neigh", "show", "to", &vip]).unwrap();
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    entries[0]["lladdr"].as_str().unwrap_or_default().to_owned()
}

/// Both hosts started, host 0 master: the backup's macvlan is down and the observer reaches the VIP
/// through the virtual MAC.
fn start_pair(lab: &Lab, case: &Case) -> (Keepvip, Keepvip) {
    let master = start(lab, case, 0, 0, 200);
    expect_state(&master, MASTER, timeout());
    let backup = start(lab, case, 1, 0, 100);
    expect_state(&backup, BACKUP, timeout());
    // The master's adverts leave its macvlan and arrive on the backup's interface.
    expect_adverts_received(&backup, 5, timeout());
    expect_state(&backup, BACKUP, Duration::ZERO);
    expect_master_side(lab, case, 0);
    expect_backup_side(lab, case, 1);
    let mac = mac_text(&case.mac);
    assert_eq!(
        ping_and_read_neighbour(lab, case),
        mac,
        "before any failover"
    );
    (master, backup)
}

/// SIGTERM: priority 0, `to` takes over, the macvlan of `from` is deleted; the VIP still answers
/// from the virtual MAC.
fn graceful_handover(lab: &Lab, case: &Case, from: (usize, &Keepvip), to: (usize, &Keepvip)) {
    from.1.terminate().unwrap();
    from.1.wait_exit(Duration::from_secs(10)).unwrap();
    expect_state(to.1, MASTER, timeout());
    assert_eq!(
        macvlan(lab, case, from.0),
        None,
        "SIGTERM deletes the macvlan"
    );
    expect_master_side(lab, case, to.0);
    let mac = mac_text(&case.mac);
    assert_eq!(ping_and_read_neighbour(lab, case), mac, "after SIGTERM");
}

/// The last daemon stops: its macvlan goes, and no advert of ours ever came back to us.
fn stop_last(lab: &Lab, case: &Case, host: usize, daemon: &Keepvip) {
    let instance = daemon.instance("VI_1").unwrap();
    assert_eq!(
        instance.vmac.as_deref(),
        Some(case.macvlan),
        "status names the macvlan"
    );
    let log = daemon.logs();
    let ups: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("vmac macvlan up"))
        .collect();
    assert!(
        !ups.is_empty(),
        "the last master brought its macvlan up:\n{log}"
    );
    for line in ups {
        let took = line
            .split("\"took_us\":")
            .nth(1)
            .and_then(|t| t.split([',', '}']).next());
        println!("MEASURE vmac macvlan up took {} us", took.unwrap_or("?"));
    }
    let status = daemon.status().unwrap();
    assert_eq!(
        status.discards.get("own_advert").copied().unwrap_or(0),
        0,
        "our own adverts from the macvlan must not come back: {status:?}"
    );
    daemon.terminate().unwrap();
    daemon.wait_exit(Duration::from_secs(10)).unwrap();
    assert_eq!(macvlan(lab, case, host), None);
}

/// IPv4: the observer's neighbour entry for the VIP is 00:00:5e:00:01:07 before and after a SIGKILL
/// failover, a restart (the leftover macvlan rebuilt) with preemption, and a SIGTERM handover.
#[test]
fn the_vip_keeps_the_virtual_mac_through_failovers() {
    let case = &V4;
    let lab = Lab::builder("vmac").hosts(2).build().unwrap();
    prepare_observer(&lab, case);
    let capture = lab.capture("wire", &["vrrp", "or", "arp"]).unwrap();
    let virtual_mac = mac_text(&case.mac);
    let (first, backup) = start_pair(&lab, case);

    // A crash: the backup takes over, the observer's entry does not change.
    first.kill().unwrap();
    expect_state(&backup, MASTER, timeout());
    expect_master_side(&lab, case, 1);
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "after SIGKILL"
    );
    assert!(
        macvlan(&lab, case, 0).is_some(),
        "a SIGKILLed keepvip cannot delete its macvlan"
    );

    // Restart: the leftover is rebuilt before the election, then host 0 preempts.
    let restarted = start(&lab, case, 0, 1, 200);
    assert!(
        restarted.logs().contains(REBUILT_LOG),
        "{}",
        restarted.logs()
    );
    expect_state(&restarted, MASTER, timeout());
    expect_state(&backup, BACKUP, timeout());
    expect_master_side(&lab, case, 0);
    expect_backup_side(&lab, case, 1);
    let links = ip(&[
        "-n",
        &lab.host(0).ns,
        "-o",
        "link",
        "show",
        "type",
        "macvlan",
    ])
    .unwrap();
    assert_eq!(links.lines().count(), 1, "one macvlan on host 0:\n{links}");
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "after preemption"
    );

    graceful_handover(&lab, case, (0, &restarted), (1, &backup));
    stop_last(&lab, case, 1, &backup);
    check_the_wire(&capture.stop().unwrap());
}

/// The master's interface deleted (its macvlan goes with it) and re-created: the peer answers from the
/// virtual MAC meanwhile; back, host 0 preempts with a macvlan built on the new interface, whose
/// sysctls are set again (a new interface starts from the defaults, and `arp_ignore = 0` there would
/// answer for the VIP with the interface's MAC).
#[test]
fn the_macvlan_follows_an_interface_deleted_and_recreated() {
    let case = &V4;
    let lab = Lab::builder("vmacrecreate").hosts(2).build().unwrap();
    prepare_observer(&lab, case);
    let virtual_mac = mac_text(&case.mac);
    let (master, backup) = start_pair(&lab, case);

    lab.unplug_host(0).unwrap();
    assert_eq!(macvlan(&lab, case, 0), None, "gone with its interface");
    expect_state(&backup, MASTER, timeout());
    expect_master_side(&lab, case, 1);
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "host 0 gone"
    );

    lab.replug_host(0, true).unwrap();
    expect_state(&master, MASTER, timeout());
    expect_state(&backup, BACKUP, timeout());
    expect_master_side(&lab, case, 0);
    expect_backup_side(&lab, case, 1);
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "host 0 back"
    );
    let arp_ignore = "/proc/sys/net/ipv4/conf/eth0/arp_ignore";
    let read = || std::fs::read_to_string(arp_ignore);
    let value = in_netns(&lab.host(0).ns, read).unwrap().unwrap();
    assert_eq!(value.trim(), "1", "the new interface's arp_ignore");
    let log = master.logs();
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    graceful_handover(&lab, case, (0, &master), (1, &backup));
    stop_last(&lab, case, 1, &backup);
}

/// Mid-migration: keepalived 2.2.7 with `use_vmac` and keepvip with `vmac = true` on one virtual router
/// (VRRPv3, 1 s adverts). keepalived is master first; keepvip (priority 200) preempts it and, stopped,
/// hands back. Each side accepts the other's adverts sent from its macvlan, every advert on the wire
/// carries the virtual MAC, the VIP answers throughout, and while keepvip is master the observer's
/// neighbour entry for the VIP is the virtual MAC (keepalived's own master time can leave it at its
/// interface's MAC: see below).
#[test]
fn keepalived_use_vmac_and_keepvip_vmac_share_the_virtual_mac() {
    let case = &V4;
    let lab = Lab::builder("vmacka").hosts(2).build().unwrap();
    prepare_observer(&lab, case);
    let capture = lab.capture("wire", &["vrrp", "or", "arp"]).unwrap();
    let virtual_mac = mac_text(&case.mac);
    let spec = KeepalivedSpec {
        version: 3,
        vrid: VRID,
        use_vmac: true,
        ..KeepalivedSpec::v2(100, &[case.vip_cidr])
    };
    let keepalived = Keepalived::start(&lab, 0, "ka0", &spec).unwrap();
    let slow = Duration::from_secs(15);
    keepalived.wait_log(&entering("MASTER"), 1, slow).unwrap();
    // keepalived answers ARP for the VIP with the virtual MAC, but leaves `arp_announce` at 0 on its
    // interface: replying through it, it asks for the observer naming the VIP with the interface's
    // MAC, which then becomes the observer's entry (docs/linux.md, keepalived and FRR on the wire).
    let seen = ping_and_read_neighbour(&lab, case);
    println!("MEASURE observer's entry for the VIP under keepalived: {seen}");
    let answered = arp_frames(&capture.frames().unwrap())
        .into_iter()
        .any(|a| a.operation == 2 && a.sender_ip == VIP_V4 && a.sender_mac == case.mac);
    assert!(
        answered,
        "keepalived answers ARP for the VIP with the virtual MAC"
    );

    let label = "h1-0";
    let spec = InstanceSpec::new(200, Interval::from_millis(1000), &[case.vip_cidr]).vrid(VRID);
    let config = config_toml(label, &[spec]) + "vmac = true\n";
    let keepvip = Keepvip::start(&lab, 1, label, &config).unwrap();
    expect_adverts_received(&keepvip, 1, slow);
    expect_state(&keepvip, MASTER, slow);
    keepalived.wait_log(&entering("BACKUP"), 1, slow).unwrap();
    expect_master_side(&lab, case, 1);
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "keepvip master"
    );

    keepvip.terminate().unwrap();
    keepvip.wait_exit(Duration::from_secs(10)).unwrap();
    keepalived.wait_log(&entering("MASTER"), 2, slow).unwrap();
    assert_eq!(macvlan(&lab, case, 1), None, "SIGTERM deletes the macvlan");
    let seen = ping_and_read_neighbour(&lab, case);
    println!("MEASURE observer's entry for the VIP under keepalived again: {seen}");
    let adverts = vrrp_frames(&capture.stop().unwrap());
    let from = |n: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
    for host in [1, 2] {
        assert!(
            adverts.iter().any(|a| a.src == from(host)),
            "adverts from host {host}"
        );
    }
    for advert in &adverts {
        assert_eq!(advert.eth_src, case.mac, "advert from {}", advert.src);
    }
}

/// vmac with unicast peers: the VIP still answers from the virtual MAC, but the unicast adverts leave
/// from the interface with its own MAC (keepalived's `vmac_xmit_base`), so the peer's neighbour entry
/// for the master's address stays that interface's MAC, never the virtual one.
#[test]
fn with_unicast_peers_adverts_leave_from_the_interface() {
    let case = &V4;
    let lab = Lab::builder("vmacuni").hosts(2).build().unwrap();
    prepare_observer(&lab, case);
    let capture = lab.capture("wire", &["vrrp"]).unwrap();
    let start_unicast = |host: usize, priority: u8, peer: &str| {
        let label = format!("h{host}-0");
        let spec = InstanceSpec::new(priority, Interval::from_millis(100), &[case.vip_cidr]);
        let extra = format!("vmac = true\nunicast_peers = [\"{peer}\"]\n");
        let config = config_toml(&label, &[spec.vrid(VRID)]) + &extra;
        Keepvip::start(&lab, host, &label, &config).unwrap()
    };
    let master = start_unicast(0, 200, "192.0.2.2");
    expect_state(&master, MASTER, timeout());
    let backup = start_unicast(1, 100, "192.0.2.1");
    expect_adverts_received(&backup, 5, timeout());
    expect_state(&backup, BACKUP, Duration::ZERO);
    expect_master_side(&lab, case, 0);
    assert_eq!(ping_and_read_neighbour(&lab, case), mac_text(&case.mac));

    let json = ip(&[
        "-j",
        "-n",
        &lab.host(1).ns,
        "neigh",
        "show",
        "to",
        "192.0.2.1",
    ])
    .unwrap();
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entry = entries[0]["lladdr"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        entry,
        mac_text(&lab.host(0).mac),
        "the peer's entry for the master"
    );
    let adverts = vrrp_frames(&capture.stop().unwrap());
    let master_ip = IpAddr::V4(lab.host(0).ipv4);
    let from_master: Vec<_> = adverts.iter().filter(|a| a.src == master_ip).collect();
    assert!(from_master.len() >= 5, "{} adverts", from_master.len());
    for advert in from_master {
        assert_eq!(advert.dst, IpAddr::V4(lab.host(1).ipv4), "unicast");
        assert_eq!(advert.eth_src, lab.host(0).mac, "from the interface");
    }
    stop_last(&lab, case, 0, &master);
    expect_state(&backup, MASTER, timeout());
    stop_last(&lab, case, 1, &backup);
}

/// IPv6: the observer's neighbour entry for the VIP is 00:00:5e:00:02:07 before and after a SIGKILL
/// and a SIGTERM failover; adverts and unsolicited NAs carry that MAC; no frame from the virtual MAC
/// is a router solicitation or a DAD probe, and none comes from the backup's link-local address.
#[test]
fn ipv6_the_vip_keeps_the_virtual_mac_through_failovers() {
    let case = &V6;
    let lab = Lab::builder("vmac6")
        .hosts(3)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    prepare_observer(&lab, case);
    let capture = lab.capture("wire6", &["ip6"]).unwrap();
    let virtual_mac = mac_text(&case.mac);
    let (first, second) = start_pair(&lab, case);
    let third = start(&lab, case, 2, 0, 50);
    expect_state(&third, BACKUP, timeout());
    expect_backup_side(&lab, case, 2);

    first.kill().unwrap();
    expect_state(&second, MASTER, timeout());
    expect_master_side(&lab, case, 1);
    assert_eq!(
        ping_and_read_neighbour(&lab, case),
        virtual_mac,
        "after SIGKILL"
    );

    graceful_handover(&lab, case, (1, &second), (2, &third));
    stop_last(&lab, case, 2, &third);
    check_the_wire_v6(&lab, &capture.stop().unwrap());
}

/// Every advert and every ARP frame naming the VIP as its sender comes from the virtual MAC; the
/// gratuitous ARPs of the four takeovers are there; no ARP names a host's own address with the
/// virtual MAC (the macvlan must not answer for the interface).
fn check_the_wire(frames: &[netns_tests::Frame]) {
    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
    const VIRTUAL_MAC: Mac = V4.mac;
    let all = vrrp_frames(frames);
    // A preempted master's last advert goes unicast to the winner, from the interface (like unicast
    // peers: through the macvlan the kernel would ARP naming the host's address with the virtual MAC).
    let (adverts, unicast): (Vec<_>, Vec<_>) = all.into_iter().partition(|a| a.dst.is_multicast());
    assert!(adverts.len() > 10, "{} adverts", adverts.len());
    for advert in &adverts {
        assert_eq!(advert.eth_src, VIRTUAL_MAC, "advert from {}", advert.src);
    }
    for advert in &unicast {
        assert_ne!(
            advert.eth_src, VIRTUAL_MAC,
            "unicast advert from {}",
            advert.src
        );
    }
    // The SIGKILL takeover: host 1's first advert after host 0's first run. The macvlan going up
    // comes before that advert, so it shows here (bound: Master_Down_Interval at priority 100,
    // 360.9 ms, plus room for a loaded machine).
    let from = |n: u8| IpAddr::V4(Ipv4Addr::new(192, 0, 2, n));
    if let Some(taken) = adverts.iter().position(|a| a.src == from(2))
        && let Some(last) = adverts[..taken].iter().rev().find(|a| a.src == from(1))
    {
        let gap = adverts[taken].timestamp - last.timestamp;
        println!(
            "MEASURE vmac SIGKILL takeover: {:.1} ms (MDI 360.9 ms)",
            gap.as_secs_f64() * 1e3
        );
        assert!(gap < Duration::from_millis(700), "takeover took {gap:?}");
    }
    let arps = arp_frames(frames);
    let from_vip: Vec<_> = arps.iter().filter(|a| a.sender_ip == VIP).collect();
    for arp in &from_vip {
        assert_eq!(
            (arp.eth_src, arp.sender_mac),
            (VIRTUAL_MAC, VIRTUAL_MAC),
            "{arp:?}"
        );
    }
    let gratuitous = from_vip
        .iter()
        .filter(|a| a.target_ip == VIP && a.operation == 1)
        .count();
    assert!(
        gratuitous >= 4,
        "{gratuitous} gratuitous ARPs for 4 takeovers"
    );
    let hosts = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
    for arp in arps.iter().filter(|a| hosts.contains(&a.sender_ip)) {
        assert_ne!(arp.sender_mac, VIRTUAL_MAC, "{arp:?}");
    }
}

/// IPv6 on the wire: adverts from the hosts' own link-local addresses with the virtual MAC as Ethernet
/// source; unsolicited NAs for the VIP with the virtual MAC (source and target link-layer address);
/// from the virtual MAC never a router solicitation (ICMPv6 133) nor a DAD probe (source ::).
fn check_the_wire_v6(lab: &Lab, frames: &[netns_tests::Frame]) {
    const VIRTUAL_MAC: Mac = V6.mac;
    let link_locals: Vec<IpAddr> = lab
        .hosts()
        .iter()
        .filter_map(|h| h.link_local.map(IpAddr::V6))
        .collect();
    // A preempted master's last advert to the winner is unicast, from the interface (see above).
    let (adverts, unicast): (Vec<_>, Vec<_>) = vrrp_frames(frames)
        .into_iter()
        .partition(|a| a.dst.is_multicast());
    assert!(adverts.len() > 10, "{} adverts", adverts.len());
    for advert in &unicast {
        assert_ne!(
            advert.eth_src, VIRTUAL_MAC,
            "unicast advert from {}",
            advert.src
        );
    }
    for advert in &adverts {
        assert_eq!(advert.eth_src, VIRTUAL_MAC, "advert from {}", advert.src);
        assert!(
            link_locals.contains(&advert.src),
            "advert from {}",
            advert.src
        );
    }
    let IpAddr::V6(vip) = V6.vip else {
        unreachable!("V6 holds an IPv6 VIP")
    };
    let nas: Vec<_> = neighbor_advertisements(frames)
        .into_iter()
        .filter(|na| na.target == vip && !na.solicited)
        .collect();
    assert!(
        nas.len() >= 3,
        "{} unsolicited NAs for 3 takeovers",
        nas.len()
    );
    for na in &nas {
        assert_eq!(
            (na.eth_src, na.target_mac),
            (VIRTUAL_MAC, Some(VIRTUAL_MAC)),
            "{na:?}"
        );
    }
    let icmp = ip_frames(frames, netns_tests::frames::IPPROTO_ICMPV6);
    for frame in icmp.iter().filter(|f| f.eth_src == VIRTUAL_MAC) {
        let kind = frame.payload.first().copied();
        assert_ne!(
            kind,
            Some(133),
            "router solicitation from the virtual MAC: {frame:?}"
        );
        assert!(
            !frame.src.is_unspecified() || kind == Some(143),
            "DAD from the virtual MAC: {frame:?}"
        );
    }
}
