//! The router pair of conf/router-pair, for real: two routers (`rtr1`, `rtr2`) between a LAN and a
//! WAN segment, an upstream gateway on the WAN with nothing but its addresses (203.0.113.1, and
//! 203.0.113.200 standing for the internet behind it, with a route back to the LAN via the WAN VIP),
//! and a LAN host whose default gateway is the LAN VIP. The routers have no default route of their
//! own: the LAN reaches the upstream address only through the master's virtual route (table 100) and
//! rule (`from 198.51.100.0/24`). The LAN VIP is on the macvlan `vrrp.10` (`vmac = true`): the LAN
//! host's neighbour entry for its gateway is the virtual MAC before and after the failover.
//!
//! The shipped files are used with only these lab changes (`lab_config`): the LAN interface is the
//! lab's `eth0`, adverts every 100 ms and the uplink check every 300 ms instead of 1 s and 2 s (its
//! fall and rise counts and the `ping` command as shipped). Root only; run with `--test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::IpAddr;
use std::time::{Duration, Instant};

use netns_tests::cmd::run;
use netns_tests::daemon::Keepvip;
use netns_tests::haproxy_lab::set_line;
use netns_tests::{HOST_IF, Lab, kernel, wait_for};

const ROUTERS: [&str; 2] = ["rtr1", "rtr2"];
const INSTANCES: [&str; 2] = ["VI_LAN", "VI_WAN"];
const LAN_HOST: usize = 2;
const LAN_ADDRESSES: [&str; 3] = ["198.51.100.2/24", "198.51.100.3/24", "198.51.100.10/24"];
const WAN_IF: &str = "wan0";
const WAN_ADDRESSES: [&str; 2] = ["203.0.113.3/29", "203.0.113.4/29"];
const GATEWAY: &str = "203.0.113.1";
/// Behind the gateway: reachable from the LAN only through table 100.
const UPSTREAM: &str = "203.0.113.200";
const LAN_VIP: &str = "198.51.100.1";
/// VI_LAN has `vmac = true`: its VIP lives on this macvlan, with the RFC virtual MAC of VRID 10.
const LAN_MACVLAN: &str = "vrrp.10";
const LAN_VIRTUAL_MAC: &str = "00:00:5e:00:01:0a";
const WAN_VIP: &str = "203.0.113.2";
/// What the master holds in the kernel (`kernel::keepvip_routes_and_rules`, sorted).
const INSTALLED: [&str; 2] = [
    "100: from 198.51.100.0/24 lookup 100 proto 112",
    "default via 203.0.113.1 dev wan0 table 100 proto 112",
];
/// Startup (the first uplink check) and an election at 100 ms adverts, with room for a loaded machine.
const ELECTION: Duration = Duration::from_secs(10);
/// The uplink check's detection (fall 3 x 300 ms, each `ping -W1` up to 1 s) plus Skew_Time, loaded.
const FAILOVER: Duration = Duration::from_secs(10);

/// conf/router-pair/<router>.toml with the lab changes of the module docs.
fn lab_config(router: &str) -> String {
    let path = format!(
        "{}/../conf/router-pair/{router}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let shipped = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(
        shipped.matches("advert_interval = \"1s\"").count(),
        2,
        "{path} changed: update the lab"
    );
    let text = shipped.replace("advert_interval = \"1s\"", "advert_interval = \"100ms\"");
    let text = set_line(&text, "interface = \"lan0\"", "interface = \"eth0\"").unwrap();
    set_line(&text, "interval = \"2s\"", "interval = \"300ms\"").unwrap()
}

/// The two segments: LAN (the lab's own: rtr1, rtr2 and the LAN host on `eth0`) and WAN (rtr1 and
/// rtr2 on `wan0`, the gateway on its `eth0`). Returns the lab and the gateway's namespace.
fn build_lab() -> (Lab, String) {
    let mut lab = Lab::builder("rtrpair").hosts(3).build().unwrap();
    let wan = lab.add_segment("wan").unwrap();
    let gateway = lab.add_namespace("gw").unwrap();
    for (index, cidr) in LAN_ADDRESSES.iter().enumerate() {
        kernel::add_address(&lab.host(index).ns, HOST_IF, cidr, &[]).unwrap();
    }
    for (index, cidr) in WAN_ADDRESSES.iter().enumerate() {
        let ns = lab.host(index).ns.clone();
        lab.plug(&wan, &ns, WAN_IF, &format!("r{index}"), &[cidr])
            .unwrap();
        lab.sysctl(&ns, "ipv4/ip_forward", "1").unwrap();
    }
    lab.plug(&wan, &gateway, HOST_IF, "gw", &[&format!("{GATEWAY}/29")])
        .unwrap();
    kernel::add_address(&gateway, "lo", &format!("{UPSTREAM}/32"), &[]).unwrap();
    ip(&[
        "-n",
        &gateway,
        "route",
        "add",
        "198.51.100.0/24",
        "via",
        WAN_VIP,
    ]);
    let lan_host = lab.host(LAN_HOST).ns.clone();
    ip(&[
        "-n",
        &lan_host,
        "route",
        "add",
        "default",
        "via",
        LAN_VIP,
        "src",
        "198.51.100.10",
    ]);
    (lab, gateway)
}

fn ip(args: &[&str]) {
    run("ip", args).unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
}

fn start(lab: &Lab, index: usize) -> Keepvip {
    let router = ROUTERS[index];
    Keepvip::start(lab, index, router, &lab_config(router))
        .unwrap_or_else(|e| panic!("{router} did not start: {e}"))
}

fn expect_states(router: &Keepvip, state: &str, timeout: Duration) {
    for instance in INSTANCES {
        if let Err(e) = router.wait_state(instance, state, timeout) {
            panic!("{e}");
        }
    }
}

fn has(lab: &Lab, index: usize, ifname: &str, address: &str) -> bool {
    let address: IpAddr = address.parse().unwrap();
    kernel::has_address(&lab.host(index).ns, ifname, address).unwrap()
}

/// Whether router `index` holds both VIPs, the route and the rule (`true`) or none of them.
fn expect_holds(lab: &Lab, index: usize, holds: bool, router: &Keepvip) {
    let want: Vec<String> = if holds {
        INSTALLED.iter().map(|s| (*s).to_owned()).collect()
    } else {
        Vec::new()
    };
    let ns = lab.host(index).ns.clone();
    let held = || {
        has(lab, index, LAN_MACVLAN, LAN_VIP) == holds
            && !has(lab, index, HOST_IF, LAN_VIP)
            && has(lab, index, WAN_IF, WAN_VIP) == holds
            && kernel::keepvip_routes_and_rules(&ns).unwrap() == want
    };
    if let Err(e) = wait_for(
        &format!(
            "{} to hold the VIPs, route and rule: {holds}",
            ROUTERS[index]
        ),
        Duration::from_secs(5),
        Duration::from_millis(20),
        held,
    ) {
        panic!(
            "{e}\nkernel: {:?}\n{}",
            kernel::keepvip_routes_and_rules(&ns).unwrap(),
            router.describe()
        );
    }
}

/// `ping -c1 -W1 UPSTREAM` from the LAN host, until one succeeds (at most `attempts`); the attempts
/// it took.
fn lan_reaches_upstream(lab: &Lab, attempts: u32) -> u32 {
    let ns = lab.host(LAN_HOST).ns.clone();
    let mut last = String::new();
    for attempt in 1..=attempts {
        match run(
            "ip",
            &["netns", "exec", &ns, "ping", "-c1", "-W1", UPSTREAM],
        ) {
            Ok(_) => return attempt,
            Err(e) => last = e.to_string(),
        }
    }
    panic!("the LAN host cannot reach {UPSTREAM} in {attempts} attempts: {last}");
}

/// The MAC the LAN host's neighbour entry for its gateway (the LAN VIP) holds.
fn lan_gateway_mac(lab: &Lab) -> String {
    let ns = lab.host(LAN_HOST).ns.clone();
    let out = run("ip", &["-j", "-n", &ns, "neigh", "show", "to", LAN_VIP])
        .unwrap_or_else(|e| panic!("ip neigh: {e}"));
    let entries: serde_json::Value = serde_json::from_str(&out).unwrap();
    entries[0]["lladdr"].as_str().unwrap_or_default().to_owned()
}

/// rtr1 (priority 200) becomes master of both instances with the route and the rule, and the LAN host
/// reaches the upstream address through it. The gateway then stops answering rtr1 (a blackhole route
/// to rtr1's WAN address on the gateway: the uplink check's pings get no reply): the check fails on
/// rtr1, the group goes to FAULT there, and rtr2 takes both VIPs, the route and the rule; the LAN host
/// reaches the upstream address again, now through rtr2.
#[test]
fn uplink_failure_moves_both_vips_the_route_and_the_rule_and_the_lan_still_gets_out() {
    let (lab, gateway) = build_lab();
    let rtr1 = start(&lab, 0);
    expect_states(&rtr1, "MASTER", ELECTION);
    let rtr2 = start(&lab, 1);
    expect_states(&rtr2, "BACKUP", ELECTION);
    expect_holds(&lab, 0, true, &rtr1);
    expect_holds(&lab, 1, false, &rtr2);
    lan_reaches_upstream(&lab, 3);
    assert_eq!(lan_gateway_mac(&lab), LAN_VIRTUAL_MAC);

    let rtr1_wan = WAN_ADDRESSES[0].split('/').next().unwrap();
    let cut = Instant::now();
    ip(&[
        "-n",
        &gateway,
        "route",
        "add",
        "blackhole",
        &format!("{rtr1_wan}/32"),
    ]);
    expect_states(&rtr2, "MASTER", FAILOVER);
    let took = cut.elapsed();
    expect_states(&rtr1, "FAULT", Duration::from_secs(2));
    expect_holds(&lab, 1, true, &rtr2);
    expect_holds(&lab, 0, false, &rtr1);
    let attempts = lan_reaches_upstream(&lab, 5);
    assert_eq!(
        lan_gateway_mac(&lab),
        LAN_VIRTUAL_MAC,
        "the LAN host's entry for its gateway changed across the failover"
    );
    println!(
        "MEASURE router pair: uplink cut -> rtr2 MASTER of both in {} ms; LAN -> upstream after {attempts} ping(s)",
        took.as_millis()
    );
}
