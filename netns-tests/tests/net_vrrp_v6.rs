//! Root tests of `keepvip::net::vrrp_socket` over IPv6 (and unicast) on a real lab link. Run with
//! `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::{
    WAIT, exchange, group_v6, ifindex, plain_v6_socket, read_datagram, recv_batches, recv_one, run,
};
use keepvip::net::VrrpSocket;
use keepvip::net::netlink::{Netlink, Vip};
use keepvip::net::vrrp_socket::SendError;
use netns_tests::frames::{mac_to_string, vrrp_frames};
use netns_tests::vrrp::{advert_v6_bytes, hex};
use netns_tests::{HOST_IF, Ipv6Mode, Lab, kernel};
use vrrp_wire::VRRP_IPV6_GROUP;
use vrrp_wire::{ChecksumMode, Repr, WireError};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const LL_VIP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100);
const GLOBAL_VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

#[test]
fn ipv6_advert_gets_the_kernel_checksum_hop_limit_255_and_link_local_source() {
    let lab = Lab::builder("v6advert")
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let capture = lab.capture("vrrp6", &["ip6", "proto", "112"]).unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let (a_ll, b_ll) = (a.link_local.unwrap(), b.link_local.unwrap());
    let correct = advert_v6_bytes(1, 100, &[LL_VIP, GLOBAL_VIP], a_ll).unwrap();
    // Hand the kernel a wrong checksum: with IPV6_CHECKSUM = 6 it must write the right one.
    let mut scribbled = correct.clone();
    scribbled[6..8].copy_from_slice(&[0xde, 0xad]);

    let ((received, bytes), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v6(HOST_IF, b_index, b_ll).unwrap();
                cue.ready();
                recv_one(&socket).await
            })
        },
        &a.ns,
        || {
            run(async {
                // A link-local VIP on the sender must not become the source: the source is pinned.
                let netlink = Netlink::connect().unwrap();
                let vip = Vip {
                    address: IpAddr::V6(LL_VIP),
                    prefix_len: 64,
                    label: None,
                    scope: None,
                };
                netlink.add_vip(a_index, &vip).await.unwrap();
                let socket = VrrpSocket::open_v6(HOST_IF, a_index, a_ll).unwrap();
                socket
                    .send(&scribbled, IpAddr::V6(VRRP_IPV6_GROUP))
                    .await
                    .unwrap();
            })
        },
    );
    assert_eq!(received.src, IpAddr::V6(a_ll));
    assert_eq!(
        received.dst,
        IpAddr::V6(VRRP_IPV6_GROUP),
        "destination from IPV6_PKTINFO"
    );
    assert_eq!(received.ttl, 255, "hop limit from IPV6_HOPLIMIT");
    assert_eq!(received.ifindex, b_index);
    assert_eq!(
        hex(&bytes),
        hex(&correct),
        "the kernel replaced the checksum with the right one"
    );

    let frames = capture
        .wait_for_frames("one VRRP frame", WAIT, |frames| {
            !vrrp_frames(frames).is_empty()
        })
        .unwrap();
    let wire = vrrp_frames(&frames);
    assert_eq!(wire.len(), 1, "{wire:?}");
    assert_eq!(wire[0].ttl, 255);
    assert_eq!(
        (wire[0].src, wire[0].dst),
        (IpAddr::V6(a_ll), IpAddr::V6(VRRP_IPV6_GROUP))
    );
    assert_eq!(mac_to_string(&wire[0].eth_dst), "33:33:00:00:00:12");
    assert_eq!(wire[0].payload, correct);
    // vrrp-wire verifies the pseudo-header checksum on the captured bytes.
    Repr::parse_bytes(&wire[0].payload, wire[0].src, wire[0].dst).unwrap();
    capture.stop().unwrap();
    let text = capture.decode().unwrap();
    eprintln!("tcpdump -vv:\n{text}");
    assert!(
        text.contains("VRRPv3, Advertisement, vrid 1, prio 100"),
        "{text}"
    );
    assert!(!text.contains("bad"), "{text}");
}

#[test]
fn ipv6_packets_with_a_bad_checksum_are_dropped_by_the_kernel() {
    let lab = Lab::builder("v6badsum")
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let capture = lab.capture("vrrp6", &["ip6", "proto", "112"]).unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let (a_ll, b_ll) = (a.link_local.unwrap(), b.link_local.unwrap());
    let mut bad = advert_v6_bytes(7, 100, &[LL_VIP], a_ll).unwrap();
    bad[7] ^= 0xff;
    let good = advert_v6_bytes(8, 100, &[LL_VIP], a_ll).unwrap();

    let ((first, control), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v6(HOST_IF, b_index, b_ll).unwrap();
                // Control: a plain socket on B, no IPV6_CHECKSUM, sees everything that arrives.
                let plain = plain_v6_socket(b_index);
                cue.ready();
                // Both packets are queued before the first recv: the bad one must not hide the good one.
                cue.wait_sent();
                std::thread::sleep(Duration::from_millis(200));
                let (received, first) = recv_one(&socket).await;
                assert_eq!(
                    received.kernel_drops, 1,
                    "the drop is counted (SO_RXQ_OVFL)"
                );
                (first, [read_datagram(&plain), read_datagram(&plain)])
            })
        },
        &a.ns,
        || {
            let plain = plain_v6_socket(a_index);
            plain.send_to(&bad, &group_v6(a_index)).unwrap();
            plain.send_to(&good, &group_v6(a_index)).unwrap();
        },
    );
    assert_eq!(
        control,
        [bad.clone(), good.clone()],
        "both packets reached B"
    );
    assert_eq!(
        first, good,
        "the VRRP socket's first packet is the good one: the kernel dropped the bad one"
    );
    let frames = capture
        .wait_for_frames("two VRRP frames", WAIT, |frames| {
            vrrp_frames(frames).len() >= 2
        })
        .unwrap();
    let wire = vrrp_frames(&frames);
    assert!(matches!(
        Repr::parse_bytes(&wire[0].payload, wire[0].src, wire[0].dst),
        Err(WireError::BadChecksum { .. })
    ));
}

#[test]
fn ipv6_send_from_a_tentative_link_local_is_source_not_ready() {
    let lab = Lab::builder("v6tent")
        .ipv6(Ipv6Mode::Dad)
        .hosts(1)
        .build()
        .unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let ll = host.link_local.unwrap();
    let payload = advert_v6_bytes(1, 100, &[LL_VIP], ll).unwrap();
    let (ours, plain_errno, after_dad) = netns_tests::in_netns(&host.ns, || {
        run(async {
            let tentative = kernel::addresses(&host.ns, HOST_IF).unwrap();
            assert!(
                tentative
                    .iter()
                    .any(|a| a.address == IpAddr::V6(ll) && a.tentative),
                "{tentative:?}"
            );
            let socket = VrrpSocket::open_v6(HOST_IF, index, ll).unwrap();
            let ours = socket.send(&payload, IpAddr::V6(VRRP_IPV6_GROUP)).await;
            // The kernel's own source selection, for the record.
            let plain = plain_v6_socket(index);
            let plain_errno = plain
                .send_to(&payload, &group_v6(index))
                .err()
                .and_then(|e| e.raw_os_error());
            let netlink = Netlink::connect().unwrap();
            netlink
                .wait_ipv6_link_local_ready(index, Duration::from_secs(10))
                .await
                .unwrap();
            let after_dad = socket.send(&payload, IpAddr::V6(VRRP_IPV6_GROUP)).await;
            (ours, plain_errno, after_dad)
        })
    })
    .unwrap();
    eprintln!("send while tentative: ours = {ours:?}, plain socket errno = {plain_errno:?}");
    let Err(SendError::SourceNotReady(err)) = ours else {
        panic!("expected SourceNotReady, got {ours:?}");
    };
    assert!(
        matches!(err.raw_os_error(), Some(libc::EINVAL | libc::EADDRNOTAVAIL)),
        "{err}"
    );
    after_dad.unwrap();
}

#[test]
fn unicast_adverts_carry_ttl_255_too() {
    let lab = Lab::builder("unicast")
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let (a_ll, b_ll) = (a.link_local.unwrap(), b.link_local.unwrap());
    let to_b = IpAddr::V4(b.ipv4);
    let v4_payload = vrrp_wire::Repr::to_bytes(
        &netns_tests::vrrp::advert(3, 100, vrrp_wire::Addresses::V4(vec![VIP])),
        IpAddr::V4(a.ipv4),
        to_b,
        ChecksumMode::PseudoHeader,
    )
    .unwrap();
    let v6_payload = advert_v6_bytes(3, 100, &[LL_VIP], a_ll).unwrap();

    let ((v4, v6), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket4 = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                let socket6 = VrrpSocket::open_v6(HOST_IF, b_index, b_ll).unwrap();
                cue.ready();
                (recv_one(&socket4).await, recv_one(&socket6).await)
            })
        },
        &a.ns,
        || {
            run(async {
                let socket4 = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
                socket4.send(&v4_payload, to_b).await.unwrap();
                let socket6 = VrrpSocket::open_v6(HOST_IF, a_index, a_ll).unwrap();
                socket6.send(&v6_payload, IpAddr::V6(b_ll)).await.unwrap();
            })
        },
    );
    let ((v4_meta, v4_bytes), (v6_meta, v6_bytes)) = (v4, v6);
    assert_eq!(
        (v4_meta.src, v4_meta.dst, v4_meta.ttl),
        (IpAddr::V4(a.ipv4), to_b, 255)
    );
    Repr::parse_bytes(&v4_bytes, v4_meta.src, v4_meta.dst).unwrap();
    assert_eq!(
        (v6_meta.src, v6_meta.dst, v6_meta.ttl),
        (IpAddr::V6(a_ll), IpAddr::V6(b_ll), 255)
    );
    // The kernel computed the IPv6 checksum over the unicast destination.
    Repr::parse_bytes(&v6_bytes, v6_meta.src, v6_meta.dst).unwrap();
}

#[test]
fn ipv6_adverts_in_one_batch_carry_source_destination_and_hop_limit_each() {
    let lab = Lab::builder("v6batch")
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let (a_ll, b_ll) = (a.link_local.unwrap(), b.link_local.unwrap());
    let adverts: Vec<Vec<u8>> = (1..=5u8)
        .map(|vrid| advert_v6_bytes(vrid, 100, &[GLOBAL_VIP], a_ll).unwrap())
        .collect();
    let ((sizes, got), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v6(HOST_IF, b_index, b_ll).unwrap();
                cue.ready();
                cue.wait_sent();
                std::thread::sleep(Duration::from_millis(200));
                recv_batches(&socket, adverts.len()).await
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v6(HOST_IF, a_index, a_ll).unwrap();
                for advert in &adverts {
                    socket
                        .send(advert, IpAddr::V6(VRRP_IPV6_GROUP))
                        .await
                        .unwrap();
                }
            })
        },
    );
    assert_eq!(sizes, [adverts.len()], "all queued adverts in one recvmmsg");
    for (advert, (payload, src, dst, hops)) in adverts.iter().zip(&got) {
        assert_eq!(payload, advert);
        let expected = (IpAddr::V6(a_ll), IpAddr::V6(VRRP_IPV6_GROUP), 255);
        assert_eq!((*src, *dst, *hops), expected);
    }
}
