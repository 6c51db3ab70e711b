//! Root tests of `keepvip::net::netlink` against the kernel of a lab namespace, checked with `ip -j`.
//! Run with `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use common::{ifindex, run};
use keepvip::net::netlink::{LinkEvent, LinkEvents, Netlink, NetlinkError, Vip, VipScope};
use netns_tests::frames::mac_to_string;
use netns_tests::{HOST_IF, Ipv6Mode, Lab, in_netns, kernel};
use tokio::time::timeout;

fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn vip(address: IpAddr, prefix_len: u8) -> Vip {
    Vip {
        address,
        prefix_len,
        label: None,
        scope: None,
    }
}

#[test]
fn links_resolve_by_name_and_index_with_the_kernels_mac() {
    let lab = Lab::builder("nllink").hosts(1).build().unwrap();
    let host = lab.host(0);
    let (index, mac) = kernel::link_index_and_mac(&host.ns, HOST_IF).unwrap();
    let (by_name, by_index, missing) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let by_name = netlink.link_by_name(HOST_IF).await.unwrap();
            let by_index = netlink.link_by_index(by_name.index).await.unwrap();
            (by_name, by_index, netlink.link_by_name("nosuch0").await)
        })
    })
    .unwrap();
    assert_eq!(by_name.index, index);
    assert_eq!(by_name.mac.map(|m| mac_to_string(&m)), Some(mac));
    assert!(by_name.up && by_name.admin_up && by_name.lower_up);
    assert_eq!(by_index, by_name);
    assert!(
        matches!(missing, Err(NetlinkError::NoSuchLink(_))),
        "{missing:?}"
    );
}

#[test]
fn vip_add_is_marked_idempotent_and_removable() {
    let lab = Lab::builder("nlvip")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let global_v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100));
    let labelled = Vip {
        label: Some("eth0:vip".into()),
        ..vip(v4(100), 24)
    };

    in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            netlink.add_vip(index, &labelled).await.unwrap();
            netlink.add_vip(index, &labelled).await.unwrap(); // again: no error, still one copy
            netlink.add_vip(index, &vip(global_v6, 64)).await.unwrap();
            let ours = netlink.addresses(index).await.unwrap();
            let find = |address| ours.iter().find(|a| a.address == address).unwrap();
            assert!(find(v4(100)).is_keepvip(), "{ours:?}");
            assert_eq!(find(v4(100)).protocol, Some(112));
            assert!(find(global_v6).is_keepvip());
            // The lab's own addresses were added by `ip`: no marker.
            assert!(!find(v4(1)).is_keepvip());
            // The VIP does not become the primary address.
            assert_eq!(
                netlink.primary_ipv4(index).await.unwrap(),
                Some(Ipv4Addr::new(192, 0, 2, 1))
            );
        })
    })
    .unwrap();

    let seen = kernel::addresses(&host.ns, HOST_IF).unwrap();
    let copies: Vec<_> = seen.iter().filter(|a| a.address == v4(100)).collect();
    assert_eq!(copies.len(), 1, "{seen:?}");
    assert_eq!((copies[0].prefix_len, copies[0].secondary), (24, true));
    assert_eq!(copies[0].label.as_deref(), Some("eth0:vip"));
    let v6 = seen.iter().find(|a| a.address == global_v6).unwrap();
    assert!(v6.nodad && !v6.tentative, "IPv6 VIPs skip DAD: {v6:?}");

    let (removed, again) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let removed = netlink
                .remove_vips(index, &[v4(100), global_v6])
                .await
                .unwrap();
            (removed, netlink.remove_vip(index, v4(100)).await.unwrap())
        })
    })
    .unwrap();
    assert_eq!(removed, [v4(100), global_v6]);
    assert!(!again, "removing an absent VIP is not an error");
    let left = kernel::addresses(&host.ns, HOST_IF).unwrap();
    assert!(
        left.iter()
            .all(|a| a.address != v4(100) && a.address != global_v6),
        "{left:?}"
    );
    assert!(
        left.iter().any(|a| a.address == v4(1)),
        "the primary survives removing a secondary"
    );
}

#[test]
fn stale_vip_cleanup_removes_only_marked_vips_of_this_config() {
    let lab = Lab::builder("nlstale").hosts(1).build().unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    // An operator's own addresses in the same subnet, one of them also listed in the config.
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.102/24", &[]).unwrap();
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.103/24", &[]).unwrap();
    let removed = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            // Left over by a crashed keepvip: .100 (in this config) and .101 (another config's).
            netlink.add_vip(index, &vip(v4(100), 24)).await.unwrap();
            netlink.add_vip(index, &vip(v4(101), 24)).await.unwrap();
            let config = [v4(100), v4(102), v4(104)];
            netlink.remove_stale_vips(index, &config).await.unwrap()
        })
    })
    .unwrap();
    assert_eq!(removed, [v4(100)]);
    let mut left: Vec<IpAddr> = kernel::addresses(&host.ns, HOST_IF)
        .unwrap()
        .iter()
        .map(|a| a.address)
        .collect();
    left.sort();
    assert_eq!(left, [v4(1), v4(101), v4(102), v4(103)]);
}

/// An owner's VIP is its real address: keepvip must neither mark, replace nor remove an address it
/// did not install, or shutdown / FAULT / a crash-restart would strip the host of its own address.
#[test]
fn an_address_keepvip_did_not_install_is_never_marked_or_removed() {
    let lab = Lab::builder("nlforeign").hosts(1).build().unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.100/24", &[]).unwrap();
    let (installed, removed, stale, marked) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let installed = netlink.add_vip(index, &vip(v4(100), 24)).await.unwrap();
            let removed = netlink.remove_vips(index, &[v4(100)]).await.unwrap();
            let stale = netlink.remove_stale_vips(index, &[v4(100)]).await.unwrap();
            let marked = netlink
                .addresses(index)
                .await
                .unwrap()
                .iter()
                .any(|a| a.address == v4(100) && a.is_keepvip());
            (installed, removed, stale, marked)
        })
    })
    .unwrap();
    assert!(
        !installed,
        "add_vip must report the foreign address as left alone"
    );
    assert!(removed.is_empty(), "removed {removed:?}");
    assert!(stale.is_empty(), "stale cleanup removed {stale:?}");
    assert!(!marked, "the operator's address was given keepvip's marker");
    assert!(kernel::has_address(&host.ns, HOST_IF, v4(100)).unwrap());
}

/// A non-owner's VIP copies that someone else configured go (an IPv4 secondary, a /32, a global IPv6
/// address); the host's own primary IPv4 address, a primary with secondaries, its link-local
/// address, keepvip's own VIPs and addresses that are no VIP stay, whatever the list says.
#[test]
fn only_unmanaged_copies_of_vips_are_removed() {
    let lab = Lab::builder("nlcopies")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let copy6: IpAddr = "2001:db8::100".parse().unwrap();
    let own_ll = IpAddr::V6(host.link_local.unwrap());
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.100/24", &[]).unwrap();
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.99/24", &[]).unwrap();
    kernel::add_address(&host.ns, HOST_IF, "2001:db8::100/64", &["nodad"]).unwrap();
    // A /32 copy is primary in a subnet of its own: deleting it takes nothing along.
    kernel::add_address(&host.ns, HOST_IF, "192.0.2.102/32", &[]).unwrap();
    // A primary with a secondary in its subnet stays (the secondary would go with it).
    kernel::add_address(&host.ns, HOST_IF, "198.51.100.1/24", &[]).unwrap();
    kernel::add_address(&host.ns, HOST_IF, "198.51.100.2/24", &[]).unwrap();
    let primary_with_secondary: IpAddr = "198.51.100.1".parse().unwrap();
    let listed = [
        v4(1),
        v4(100),
        v4(101),
        v4(102),
        copy6,
        own_ll,
        primary_with_secondary,
    ];
    let removed = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            netlink.add_vip(index, &vip(v4(101), 24)).await.unwrap();
            netlink
                .remove_unmanaged_copies(index, &listed)
                .await
                .unwrap()
        })
    })
    .unwrap();
    // In the kernel's order: primary addresses before secondaries.
    assert_eq!(removed, [v4(102), v4(100), copy6]);
    for kept in [v4(1), v4(99), v4(101), own_ll, primary_with_secondary] {
        assert!(
            kernel::has_address(&host.ns, HOST_IF, kept).unwrap(),
            "{kept} removed"
        );
    }
}

#[test]
fn vip_scope_and_link_local_lookup() {
    let lab = Lab::builder("nlscope")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let ll_vip = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100));
    let own_ll = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            netlink.add_vip(index, &vip(ll_vip, 64)).await.unwrap();
            let host_scoped = Vip {
                scope: Some(VipScope::Host),
                ..vip(v4(110), 32)
            };
            netlink.add_vip(index, &host_scoped).await.unwrap();
            netlink.ipv6_link_local(index).await.unwrap().unwrap()
        })
    })
    .unwrap();
    // The interface's own link-local, not the link-local VIP.
    assert_eq!(own_ll.address, IpAddr::V6(host.link_local.unwrap()));
    assert!(!own_ll.is_tentative());
    let seen = kernel::addresses(&host.ns, HOST_IF).unwrap();
    let scope_of = |address| {
        seen.iter()
            .find(|a| a.address == address)
            .unwrap()
            .scope
            .clone()
    };
    assert_eq!(scope_of(ll_vip), "link");
    assert_eq!(scope_of(v4(110)), "host");
}

/// Collect link events for `index` until `done` holds for one, at most 5 s.
async fn wait_event(
    events: &mut LinkEvents,
    index: u32,
    done: impl Fn(&LinkEvent) -> bool,
) -> (LinkEvent, Duration) {
    let start = Instant::now();
    let event = timeout(Duration::from_secs(5), async {
        loop {
            let event = events.next().await.unwrap();
            if event.index() == index && done(&event) {
                return event;
            }
        }
    })
    .await
    .expect("no matching link event within 5 s");
    (event, start.elapsed())
}

fn up_state(event: &LinkEvent) -> Option<(bool, bool, bool)> {
    match event {
        LinkEvent::Changed(info) => Some((info.up, info.admin_up, info.lower_up)),
        LinkEvent::Removed { .. } => None,
    }
}

#[test]
fn link_events_report_carrier_loss_admin_down_and_recovery() {
    let lab = Lab::builder("nlevents").hosts(1).build().unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let timings = in_netns(&host.ns, || {
        run(async {
            let mut events = LinkEvents::subscribe().unwrap();
            let mut timings = Vec::new();
            // The switch port goes down: carrier lost, the link is still admin up.
            lab.set_switch_port(0, false).unwrap();
            let (event, took) =
                wait_event(&mut events, index, |e| up_state(e).is_some_and(|s| !s.0)).await;
            assert_eq!(up_state(&event), Some((false, true, false)), "{event:?}");
            timings.push(("carrier lost", took));
            lab.set_switch_port(0, true).unwrap();
            let (event, took) =
                wait_event(&mut events, index, |e| up_state(e).is_some_and(|s| s.0)).await;
            assert_eq!(up_state(&event), Some((true, true, true)), "{event:?}");
            timings.push(("carrier back", took));
            // Administratively down on the host itself.
            lab.set_host_link(0, false).unwrap();
            let (event, took) =
                wait_event(&mut events, index, |e| up_state(e).is_some_and(|s| !s.0)).await;
            assert_eq!(
                up_state(&event).map(|s| (s.0, s.1)),
                Some((false, false)),
                "{event:?}"
            );
            timings.push(("admin down", took));
            lab.set_host_link(0, true).unwrap();
            let (_, took) =
                wait_event(&mut events, index, |e| up_state(e).is_some_and(|s| s.0)).await;
            timings.push(("admin up", took));
            timings
        })
    })
    .unwrap();
    eprintln!("link event latency after the `ip` command returned: {timings:?}");
}

#[test]
fn ipv6_link_local_wait_returns_only_once_dad_is_done() {
    let lab = Lab::builder("nldad")
        .hosts(1)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let built = Instant::now();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let ll = host.link_local.unwrap();
    let tentative_at_start = kernel::addresses(&host.ns, HOST_IF).unwrap();
    assert!(
        tentative_at_start
            .iter()
            .any(|a| a.address == IpAddr::V6(ll) && a.tentative)
    );
    let (ready, waited) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let start = Instant::now();
            let ready = netlink
                .wait_ipv6_link_local_ready(index, Duration::from_secs(10))
                .await
                .unwrap();
            (ready, start.elapsed())
        })
    })
    .unwrap();
    let after = kernel::addresses(&host.ns, HOST_IF).unwrap();
    assert_eq!(ready, ll);
    assert!(
        after
            .iter()
            .any(|a| a.address == IpAddr::V6(ll) && !a.tentative),
        "{after:?}"
    );
    eprintln!(
        "DAD after lab link up: wait took {waited:?}, {:?} since the lab was built",
        built.elapsed()
    );
    assert!(
        waited > Duration::from_millis(100),
        "the wait cannot have returned while tentative"
    );

    // Link down and up again: the link-local goes through DAD again.
    lab.set_host_link(0, false).unwrap();
    lab.set_host_link(0, true).unwrap();
    let relinked = Instant::now();
    let waited = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            netlink
                .wait_ipv6_link_local_ready(index, Duration::from_secs(10))
                .await
                .unwrap();
        })
    });
    waited.unwrap();
    eprintln!("DAD after link down/up: {:?}", relinked.elapsed());
    assert!(relinked.elapsed() > Duration::from_millis(100));
}

#[test]
fn ipv6_link_local_wait_reports_a_duplicate() {
    let lab = Lab::builder("nldupll")
        .hosts(2)
        .ipv6(Ipv6Mode::Dad)
        .build()
        .unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let index = ifindex(&a.ns);
    let ll = a.link_local.unwrap();
    // B claims A's link-local (no DAD on B's side), then A's link comes up again and runs DAD.
    lab.set_host_link(0, false).unwrap();
    kernel::add_address(&b.ns, HOST_IF, &format!("{ll}/64"), &["nodad"]).unwrap();
    lab.set_host_link(0, true).unwrap();
    let outcome = in_netns(&a.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            netlink
                .wait_ipv6_link_local_ready(index, Duration::from_secs(10))
                .await
        })
    })
    .unwrap();
    assert!(
        matches!(outcome, Err(NetlinkError::DadFailed(address)) if address == ll),
        "{outcome:?}"
    );
}

/// A batch of VIPs (pipelined requests after one address dump): each outcome in order, the foreign
/// address among them left alone, every one of ours in the kernel with the marker, all removed again.
#[test]
fn a_batch_of_vips_is_installed_in_order_and_leaves_a_foreign_address_alone() {
    let lab = Lab::builder("nlbatch")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    kernel::add_address(&host.ns, HOST_IF, "2001:db8:5::7/64", &["nodad"]).unwrap();
    let wanted: Vec<IpAddr> = (1..=300u16)
        .map(|n| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 5, 0, 0, 0, 0, n)))
        .collect();
    let (outcomes, marked, removed) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let vips: Vec<Vip> = wanted.iter().map(|&address| vip(address, 64)).collect();
            let outcomes: Vec<bool> = netlink
                .add_vips(index, &vips)
                .await
                .unwrap()
                .into_iter()
                .map(Result::unwrap)
                .collect();
            let marked = netlink
                .addresses(index)
                .await
                .unwrap()
                .iter()
                .filter(|a| a.is_keepvip())
                .count();
            let removed = netlink.remove_vips(index, &wanted).await.unwrap();
            (outcomes, marked, removed)
        })
    })
    .unwrap();
    let foreign = wanted
        .iter()
        .position(|a| *a == "2001:db8:5::7".parse::<IpAddr>().unwrap())
        .unwrap();
    for (at, installed) in outcomes.iter().enumerate() {
        assert_eq!(*installed, at != foreign, "VIP #{at}");
    }
    assert_eq!(marked, 299);
    assert_eq!(removed.len(), 299);
    assert!(!removed.contains(&wanted[foreign]));
    let left: Vec<IpAddr> = kernel::addresses(&host.ns, HOST_IF)
        .unwrap()
        .iter()
        .map(|a| a.address)
        .filter(|a| wanted.contains(a))
        .collect();
    assert_eq!(left, [wanted[foreign]], "only the foreign address stays");
}
