//! `accept = false` (RFC 5798 §6.4.3 (650)): a master that is not the address owner drops packets
//! addressed to its VIPs (keepvip's nf_tables table `inet keepvip`), still answers ARP for them and
//! still advertises; traffic that only uses the VIP as its next hop passes. The drop follows the VIP on
//! failover, goes with SIGTERM, and a leftover after SIGKILL is replaced or deleted at restart. The
//! owner and `accept = true` accept. Host 2 is the client. Probes: one ping (1 s) and a TCP connect to
//! a closed port: "refused" means the SYN reached the master's stack (it answered RST), a timeout that
//! it was dropped. Kernel state is read with `nft -j` and `ip -j`. Root only; `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use netns_tests::cmd::run;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, expect_vip,
};
use netns_tests::daemon::{Interval, Keepvip};
use netns_tests::{HOST_IF, Lab, in_netns};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_CIDR: &str = "192.0.2.100/24";
const INTERVAL: Interval = Interval::from_millis(100);
const CLIENT: usize = 2;
/// An address of the master's other than on the lab link (on its loopback), reached with the VIP as the
/// next hop, as a router pair's clients reach the networks behind it.
const BEHIND: &str = "198.51.100.1";
/// A port nothing listens on: the master's kernel answers a SYN that reaches it with RST.
const CLOSED_PORT: u16 = 9;

#[derive(Debug, PartialEq, Eq)]
enum Tcp {
    /// RST: the SYN was delivered to the master's TCP stack.
    Refused,
    /// No answer: the SYN was dropped.
    TimedOut,
    Connected,
}

fn config(router_id: &str, priority: u8, accept: bool, vip_cidr: &str) -> String {
    format!(
        "[global]\nrouter_id = \"{router_id}\"\ngarp_repeat = 1\ngarp_delay = \"0s\"\n\n\
         [[instance]]\nname = \"VI_1\"\ninterface = \"{HOST_IF}\"\nvrid = 1\npriority = {priority}\n\
         advert_interval = \"{}ms\"\naccept = {accept}\nvips = [\"{vip_cidr}\"]\n",
        INTERVAL.as_millis()
    )
}

fn start(lab: &Lab, index: usize, label: &str, priority: u8, accept: bool, vip: &str) -> Keepvip {
    let text = config(label, priority, accept, vip);
    Keepvip::start(lab, index, label, &text)
        .unwrap_or_else(|e| panic!("keepvip on host {index}: {e}\n{text}"))
}

fn ping(lab: &Lab, from: usize, to: &str) -> bool {
    let ns = &lab.host(from).ns;
    run(
        "ip",
        &["netns", "exec", ns, "ping", "-n", "-c", "1", "-W", "1", to],
    )
    .is_ok()
}

fn tcp(lab: &Lab, from: usize, to: Ipv4Addr) -> Tcp {
    let target = SocketAddr::new(IpAddr::V4(to), CLOSED_PORT);
    in_netns(&lab.host(from).ns, || {
        match TcpStream::connect_timeout(&target, Duration::from_secs(1)) {
            Ok(_) => Tcp::Connected,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => Tcp::Refused,
            Err(e) if e.kind() == ErrorKind::TimedOut => Tcp::TimedOut,
            Err(e) => panic!("connect {target}: {e}"),
        }
    })
    .unwrap()
}

/// The client's neighbor entry for the VIP: (MAC, state), after flushing it and one ping.
fn resolve_vip(lab: &Lab) -> Option<(String, String)> {
    let ns = lab.host(CLIENT).ns.clone();
    let vip = VIP.to_string();
    run("ip", &["-n", &ns, "neigh", "flush", "dev", HOST_IF]).unwrap();
    let _ = ping(lab, CLIENT, &vip);
    let json = run(
        "ip",
        &["-n", &ns, "-j", "neigh", "show", "to", &vip, "dev", HOST_IF],
    )
    .unwrap();
    let entries: serde_json::Value = serde_json::from_str(&json).unwrap();
    let entry = entries.as_array()?.first()?;
    let mac = entry.get("lladdr")?.as_str()?.to_owned();
    let state = entry
        .get("state")?
        .as_array()?
        .first()?
        .as_str()?
        .to_owned();
    Some((mac, state))
}

fn mac_text(lab: &Lab, index: usize) -> String {
    let mac = lab.host(index).mac;
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The elements of set `vips4` of table `inet keepvip` on host `index`; None without the table.
fn dropped(lab: &Lab, index: usize) -> Option<Vec<String>> {
    let ns = &lab.host(index).ns;
    let argv = [
        "netns", "exec", ns, "nft", "-j", "list", "set", "inet", "keepvip", "vips4",
    ];
    let json = run("ip", &argv).ok()?;
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let set = value["nftables"]
        .as_array()?
        .iter()
        .find_map(|item| item.get("set"))?;
    let elements = set
        .get("elem")
        .and_then(|e| e.as_array())
        .map_or_else(Vec::new, |e| {
            e.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        });
    Some(elements)
}

fn has_table(lab: &Lab, index: usize) -> bool {
    let ns = &lab.host(index).ns;
    let out = run("ip", &["netns", "exec", ns, "nft", "list", "tables"]).unwrap();
    out.lines().any(|line| line.trim() == "table inet keepvip")
}

/// Traffic to the VIP is dropped at host `master` (ping and TCP), ARP still resolves the VIP to it,
/// and the client still reaches `master`'s own address and, through the VIP as next hop, `BEHIND`.
fn expect_dropped_at(lab: &Lab, master: usize) {
    let vip = VIP.to_string();
    assert!(!ping(lab, CLIENT, &vip), "ping to the VIP must fail");
    assert_eq!(
        tcp(lab, CLIENT, VIP),
        Tcp::TimedOut,
        "TCP to the VIP is dropped"
    );
    let own = lab.host(master).ipv4;
    assert_eq!(
        tcp(lab, CLIENT, own),
        Tcp::Refused,
        "the master's own address accepts"
    );
    let (mac, state) = resolve_vip(lab).expect("no neighbor entry for the VIP");
    assert_eq!(
        mac,
        mac_text(lab, master),
        "ARP for the VIP answered by the master"
    );
    assert_ne!(state, "FAILED");
    assert_eq!(dropped(lab, master), Some(vec![vip]));
}

/// The client routes `BEHIND` via the VIP; host `index` holds `BEHIND` on its loopback.
fn route_behind_the_vip(lab: &Lab, index: usize) {
    let ns = &lab.host(index).ns;
    run(
        "ip",
        &[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{BEHIND}/32"),
            "dev",
            "lo",
        ],
    )
    .unwrap();
    let client = &lab.host(CLIENT).ns;
    let net = "198.51.100.0/24";
    run(
        "ip",
        &["-n", client, "route", "add", net, "via", &VIP.to_string()],
    )
    .unwrap();
}

/// Priorities 200 and 100, both `accept = false`: the 200 master drops traffic to the VIP (ping,
/// TCP) while ARP resolves the VIP to it, adverts reach the backup, and a packet routed via the VIP
/// passes; the backup's set is empty. SIGTERM the master: the drop follows the VIP to the 100, the old
/// master's table is gone. `accept = false` is no warning for `check` any more.
#[test]
fn accept_false_drops_traffic_to_the_vip_and_the_drop_follows_it() {
    let lab = Lab::builder("acceptoff").hosts(3).build().unwrap();
    let vip = IpAddr::V4(VIP);
    let high = start(&lab, 0, "h0", 200, false, VIP_CIDR);
    expect_state(&high, MASTER, election_timeout(INTERVAL));
    let low = start(&lab, 1, "h1", 100, false, VIP_CIDR);
    expect_state(&low, BACKUP, election_timeout(INTERVAL));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    route_behind_the_vip(&lab, 0);

    expect_dropped_at(&lab, 0);
    assert!(
        ping(&lab, CLIENT, BEHIND),
        "traffic with the VIP as next hop passes"
    );
    expect_adverts_received(&low, 3, Duration::from_secs(2));
    assert_eq!(dropped(&lab, 1), Some(vec![]), "a backup drops nothing");
    assert!(!high.logs().contains("not dropped"), "{}", high.logs());

    high.terminate().unwrap();
    let status = high.wait_exit(Duration::from_secs(5)).unwrap();
    assert_eq!(status.code(), Some(0), "{}", high.describe());
    assert!(!has_table(&lab, 0), "SIGTERM removes keepvip's table");
    expect_state(&low, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 1, vip, true, Duration::from_secs(2));
    expect_dropped_at(&lab, 1);
}

/// The same pair with `accept = true`: ping and TCP reach the master through the VIP, and keepvip
/// creates no table.
#[test]
fn accept_true_accepts_traffic_to_the_vip() {
    let lab = Lab::builder("accepton").hosts(3).build().unwrap();
    let high = start(&lab, 0, "h0", 200, true, VIP_CIDR);
    expect_state(&high, MASTER, election_timeout(INTERVAL));
    let low = start(&lab, 1, "h1", 100, true, VIP_CIDR);
    expect_state(&low, BACKUP, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP), true, Duration::from_secs(2));
    assert!(ping(&lab, CLIENT, &VIP.to_string()));
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::Refused);
    assert!(!has_table(&lab, 0) && !has_table(&lab, 1));
}

/// The owner (priority 255, the VIP is its own address) with `accept = false` accepts: RFC 5798
/// §6.4.3 (650) binds only a master that is not the owner. No table is created.
#[test]
fn the_owner_accepts_even_with_accept_false() {
    let lab = Lab::builder("acceptown").hosts(3).build().unwrap();
    let own = lab.host(0).ipv4;
    let owner = start(&lab, 0, "h0", 255, false, &format!("{own}/24"));
    expect_state(&owner, MASTER, election_timeout(INTERVAL));
    assert!(ping(&lab, CLIENT, &own.to_string()));
    assert_eq!(tcp(&lab, CLIENT, own), Tcp::Refused);
    assert!(!has_table(&lab, 0));
}

/// SIGKILL a master with `accept = false`: its table stays, VIP element included. Restarted with
/// `accept = false` the table is replaced (an element added by hand meanwhile is gone) and the VIP is
/// dropped again; SIGKILLed again and restarted with `accept = true`, the leftover table is deleted and
/// the VIP accepts.
#[test]
fn a_table_left_by_sigkill_is_replaced_or_deleted_at_restart() {
    let lab = Lab::builder("acceptkill").hosts(3).build().unwrap();
    let vip = VIP.to_string();
    let first = start(&lab, 0, "h0", 100, false, VIP_CIDR);
    expect_state(&first, MASTER, election_timeout(INTERVAL));
    first.kill().unwrap();
    assert_eq!(dropped(&lab, 0), Some(vec![vip.clone()]), "left by SIGKILL");
    let ns = lab.host(0).ns.clone();
    let add = [
        "netns", "exec", &ns, "nft", "add", "element", "inet", "keepvip", "vips4",
    ];
    run("ip", &[&add[..], &["{ 192.0.2.99 }"]].concat()).unwrap();

    let second = start(&lab, 0, "h0-1", 100, false, VIP_CIDR);
    // The control socket answers once the table is replaced.
    let after_start = dropped(&lab, 0).expect("the table is there");
    assert!(
        !after_start.contains(&"192.0.2.99".to_owned()),
        "{after_start:?}"
    );
    expect_state(&second, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP), true, Duration::from_secs(2));
    assert_eq!(
        dropped(&lab, 0),
        Some(vec![vip.clone()]),
        "the hand-made element went"
    );
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::TimedOut);

    second.kill().unwrap();
    let third = start(&lab, 0, "h0-2", 100, true, VIP_CIDR);
    assert!(
        !has_table(&lab, 0),
        "a leftover table is deleted when no instance needs it"
    );
    expect_state(&third, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP), true, Duration::from_secs(2));
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::Refused);
}

const VIP6: &str = "2001:db8::100";

/// The client's neighbor state for `address` (`REACHABLE`, `STALE`, `FAILED`...), if it has an entry.
fn neighbor_state(lab: &Lab, address: &str) -> Option<String> {
    let ns = &lab.host(CLIENT).ns;
    let json = run(
        "ip",
        &[
            "-n", ns, "-j", "neigh", "show", "to", address, "dev", HOST_IF,
        ],
    )
    .ok()?;
    let entries: serde_json::Value = serde_json::from_str(&json).ok()?;
    let state = entries
        .as_array()?
        .first()?
        .get("state")?
        .as_array()?
        .first()?
        .as_str()?;
    Some(state.to_owned())
}

/// IPv6, `accept = false`: ping and TCP to the VIP are dropped, yet neighbor discovery for it works,
/// including unicast neighbor solicitations addressed to the VIP (NUD): the client's entry, set STALE
/// and used, is probed with a unicast NS to the VIP and becomes REACHABLE again (without the exemption
/// it would end FAILED after three unanswered probes).
#[test]
fn ipv6_accept_false_drops_traffic_but_answers_neighbor_discovery() {
    let lab = Lab::builder("accept6")
        .hosts(3)
        .ipv6(netns_tests::Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let vip: IpAddr = VIP6.parse().unwrap();
    let master = start(&lab, 0, "h0", 200, false, &format!("{VIP6}/64"));
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, vip, true, Duration::from_secs(2));
    let client = lab.host(CLIENT).ns.clone();
    let ping6 = || {
        run(
            "ip",
            &[
                "netns", "exec", &client, "ping", "-6", "-n", "-c", "1", "-W", "1", VIP6,
            ],
        )
    };
    assert!(ping6().is_err(), "ping to the IPv6 VIP must fail");
    let target = SocketAddr::new(vip, CLOSED_PORT);
    let tcp6 = in_netns(&client, || {
        TcpStream::connect_timeout(&target, Duration::from_secs(1))
    })
    .unwrap()
    .map_err(|e| e.kind());
    assert_eq!(
        tcp6.err(),
        Some(ErrorKind::TimedOut),
        "TCP to the IPv6 VIP is dropped"
    );
    let json = run("ip", &["-n", &client, "-j", "neigh", "show", "to", VIP6]).unwrap();
    assert!(
        json.contains(&mac_text(&lab, 0)),
        "the VIP resolves to the master: {json}"
    );

    let sysctl = format!("net.ipv6.neigh.{HOST_IF}.delay_first_probe_time=1");
    run("ip", &["netns", "exec", &client, "sysctl", "-qw", &sysctl]).unwrap();
    let mac = mac_text(&lab, 0);
    let stale = [
        "-n", &client, "neigh", "replace", VIP6, "lladdr", &mac, "nud", "stale", "dev", HOST_IF,
    ];
    run("ip", &stale).unwrap();
    assert!(ping6().is_err());
    let reached = netns_tests::wait_for_value(
        "the VIP's neighbor entry to be confirmed by a unicast NS",
        Duration::from_secs(5),
        Duration::from_millis(100),
        || {
            let state = neighbor_state(&lab, VIP6);
            if state.as_deref() == Some("FAILED") {
                return Err(netns_tests::HarnessError::new(
                    "FAILED: the unicast NS was dropped",
                ));
            }
            Ok((state.as_deref() == Some("REACHABLE")).then_some(()))
        },
    );
    if let Err(e) = reached {
        panic!("{e}\n{}", master.describe());
    }
}

/// `nft flush ruleset` (a firewall reload) removes keepvip's table under a running master: the VIPs
/// are accepted until the next addition, which finds the table gone, rebuilds it and drops again
/// (here after a link flap: FAULT removes the VIP, the return to MASTER adds it).
#[test]
fn a_table_flushed_by_someone_else_is_rebuilt_at_the_next_takeover() {
    let lab = Lab::builder("acceptflush").hosts(3).build().unwrap();
    let master = start(&lab, 0, "h0", 100, false, VIP_CIDR);
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::TimedOut);
    let ns = lab.host(0).ns.clone();
    run("ip", &["netns", "exec", &ns, "nft", "flush", "ruleset"]).unwrap();
    assert!(!has_table(&lab, 0));
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::Refused, "no table, no drop");

    lab.set_host_link(0, false).unwrap();
    expect_state(
        &master,
        netns_tests::daemon::scenario::FAULT,
        Duration::from_secs(5),
    );
    lab.set_host_link(0, true).unwrap();
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP), true, Duration::from_secs(2));
    assert_eq!(dropped(&lab, 0), Some(vec![VIP.to_string()]));
    assert_eq!(tcp(&lab, CLIENT, VIP), Tcp::TimedOut);
    assert!(master.logs().contains("recreated"), "{}", master.logs());
}

/// A router masquerading its LAN to its VIP (`snat to` the VIP) with `accept = false`: the replies come
/// back addressed to the VIP and must pass, since NAT gives them back their LAN destination before the
/// drop looks (keepalived's input-hook drop lets them pass too). Host 0 is the master and router, host
/// 1 the upstream (`BEHIND` on its loopback, not running keepvip), host 2 the LAN client routed via
/// host 0's own address. New traffic to the VIP is still dropped.
#[test]
fn replies_to_connections_masqueraded_to_the_vip_pass() {
    let lab = Lab::builder("acceptnat").hosts(3).build().unwrap();
    let master = start(&lab, 0, "h0", 100, false, VIP_CIDR);
    expect_state(&master, MASTER, election_timeout(INTERVAL));
    expect_vip(&lab, 0, IpAddr::V4(VIP), true, Duration::from_secs(2));
    let (router, upstream, client) = (&lab.host(0), &lab.host(1), &lab.host(CLIENT));
    run(
        "ip",
        &[
            "-n",
            &upstream.ns,
            "addr",
            "add",
            &format!("{BEHIND}/32"),
            "dev",
            "lo",
        ],
    )
    .unwrap();
    let via_upstream = upstream.ipv4.to_string();
    run(
        "ip",
        &[
            "-n",
            &router.ns,
            "route",
            "add",
            BEHIND,
            "via",
            &via_upstream,
        ],
    )
    .unwrap();
    let via_router = router.ipv4.to_string();
    run(
        "ip",
        &["-n", &client.ns, "route", "add", BEHIND, "via", &via_router],
    )
    .unwrap();
    let forward = [
        "netns",
        "exec",
        &router.ns,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
    ];
    run("ip", &forward).unwrap();
    let nft = |args: &[&str]| {
        let mut argv = vec!["netns", "exec", router.ns.as_str(), "nft"];
        argv.extend_from_slice(args);
        run("ip", &argv).unwrap();
    };
    nft(&["add", "table", "ip", "lan"]);
    let chain = "{ type nat hook postrouting priority srcnat; }";
    nft(&["add", "chain", "ip", "lan", "post", chain]);
    let client_ip = client.ipv4.to_string();
    let vip = VIP.to_string();
    nft(&[
        "add", "rule", "ip", "lan", "post", "ip", "saddr", &client_ip, "snat", "to", &vip,
    ]);

    assert!(
        ping(&lab, CLIENT, BEHIND),
        "the masqueraded ping's reply (to the VIP) passes"
    );
    assert!(
        !ping(&lab, CLIENT, &vip),
        "a ping to the VIP itself is still dropped"
    );
    assert_eq!(dropped(&lab, 0), Some(vec![vip]));
}
