//! Root tests of `keepvip::net::vrrp_socket` on a real lab link. Run with `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::time::Duration;

use common::{exchange, ifindex, run};
use keepvip::net::VrrpSocket;
use keepvip::net::netlink::{Netlink, Vip};
use keepvip::net::vrrp_socket::{SendError, VRRP_GROUP_V4, VRRP_GROUP_V6};
use netns_tests::frames::{mac_to_string, vrrp_frames};
use netns_tests::vrrp::{advert_v4_bytes, advert_v6_bytes, hex};
use netns_tests::{HOST_IF, Ipv6Mode, Lab, kernel};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::time::timeout;
use vrrp_wire::{ChecksumMode, Repr, WireError};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const LL_VIP: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100);
const GLOBAL_VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const WAIT: Duration = Duration::from_secs(5);

/// One datagram from a plain (blocking, read timeout set) socket.
fn read_datagram(socket: &Socket) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let len = (&mut &*socket).read(&mut buf).unwrap();
    buf[..len].to_vec()
}

/// Receive one packet on `socket`: (metadata, payload bytes).
async fn recv_one(socket: &VrrpSocket) -> (keepvip::net::Received, Vec<u8>) {
    let mut buf = [0u8; 1500];
    let got = timeout(WAIT, socket.recv(&mut buf))
        .await
        .expect("no VRRP packet within 5 s")
        .unwrap();
    let payload = buf[got.payload.clone()].to_vec();
    (got, payload)
}

#[test]
fn ipv4_advert_arrives_with_ttl_255_from_the_source_to_224_0_0_18() {
    let lab = Lab::builder("v4advert").build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let payload = advert_v4_bytes(1, 100, &[VIP], a.ipv4, ChecksumMode::PseudoHeader).unwrap();
    // design.md's golden vector: v3, VRID 1, prio 100, 100 cs, 192.0.2.1 -> 224.0.0.18, pseudo-header.
    assert_eq!(hex(&payload), "31016401006405a4c0000264");

    let ((received, bytes), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                cue.ready();
                recv_one(&socket).await
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
                socket
                    .send(&payload, IpAddr::V4(VRRP_GROUP_V4))
                    .await
                    .unwrap();
            })
        },
    );
    assert_eq!(received.src, IpAddr::V4(a.ipv4));
    assert_eq!(received.dst, IpAddr::V4(VRRP_GROUP_V4));
    assert_eq!(received.ttl, 255);
    assert_eq!(received.ifindex, b_index);
    assert_eq!(received.kernel_drops, 0);
    assert_eq!(bytes, payload, "the payload excludes the IPv4 header");
    let (_, mode) = Repr::parse_bytes(&bytes, received.src, received.dst).unwrap();
    assert_eq!(mode, ChecksumMode::PseudoHeader);

    // Then the RFC 9568 message-only variant, to show that tcpdump's decoder does check v3 checksums.
    let message_only = advert_v4_bytes(1, 100, &[VIP], a.ipv4, ChecksumMode::MessageOnly).unwrap();
    assert_eq!(hex(&message_only), "310164010064a834c0000264");
    netns_tests::in_netns(&a.ns, || {
        run(async {
            let socket = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
            socket
                .send(&message_only, IpAddr::V4(VRRP_GROUP_V4))
                .await
                .unwrap();
        })
    })
    .unwrap();

    let frames = capture
        .wait_for_frames("two VRRP frames", WAIT, |frames| {
            vrrp_frames(frames).len() >= 2
        })
        .unwrap();
    let wire = vrrp_frames(&frames);
    assert_eq!(wire.len(), 2, "{wire:?}");
    assert_eq!(
        (wire[0].ttl, wire[0].dst, wire[0].src),
        (255, IpAddr::V4(VRRP_GROUP_V4), IpAddr::V4(a.ipv4))
    );
    assert_eq!(mac_to_string(&wire[0].eth_dst), "01:00:5e:00:00:12");
    assert_eq!(wire[0].eth_src, a.mac);
    assert_eq!(wire[0].payload, payload);
    capture.stop().unwrap();
    let text = capture.decode().unwrap();
    eprintln!("tcpdump -vv:\n{text}");
    let adverts: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("VRRPv3, Advertisement, vrid 1, prio 100"))
        .collect();
    assert_eq!(adverts.len(), 2, "{text}");
    // tcpdump 4.99 checks VRRPv3-over-IPv4 checksums with the pseudo-header (keepalived's and FRR's
    // default, and ours): it accepts the first and flags the message-only one.
    assert!(!adverts[0].contains("bad vrrp cksum"), "{text}");
    assert!(adverts[1].contains("(bad vrrp cksum a834)"), "{text}");
    assert!(text.contains("ttl 255"), "{text}");
}

#[test]
fn ipv4_source_is_the_configured_address_not_the_kernels_choice() {
    let lab = Lab::builder("v4source").build().unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    // A second primary address, added after 192.0.2.1: the kernel would pick 192.0.2.1.
    kernel::add_address(&a.ns, HOST_IF, "198.51.100.1/24", &[]).unwrap();
    let src = Ipv4Addr::new(198, 51, 100, 1);
    let payload = advert_v4_bytes(2, 100, &[VIP], src, ChecksumMode::PseudoHeader).unwrap();
    let ((received, bytes), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                cue.ready();
                recv_one(&socket).await
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, a_index, src).unwrap();
                socket
                    .send(&payload, IpAddr::V4(VRRP_GROUP_V4))
                    .await
                    .unwrap();
            })
        },
    );
    assert_eq!(received.src, IpAddr::V4(src));
    // The pseudo-header checksum was computed over this source, so it verifies.
    Repr::parse_bytes(&bytes, received.src, received.dst).unwrap();
}

#[test]
fn ipv4_multicast_all_off_keeps_other_groups_out() {
    let lab = Lab::builder("mcastall").build().unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    // MCAST-TEST-NET (RFC 5771): a group for documentation.
    let other_group = Ipv4Addr::new(233, 252, 0, 1);
    let other = advert_v4_bytes(9, 100, &[VIP], a.ipv4, ChecksumMode::MessageOnly).unwrap();
    let vrrp = advert_v4_bytes(1, 100, &[VIP], a.ipv4, ChecksumMode::MessageOnly).unwrap();

    let ((ours, bystander_first), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                // Another program on B joins the other group...
                let joiner =
                    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
                joiner.join_multicast_v4(&other_group, &b.ipv4).unwrap();
                // ...and a socket with the default IP_MULTICAST_ALL on receives it without joining.
                let bystander =
                    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112))).unwrap();
                bystander.set_read_timeout(Some(WAIT)).unwrap();
                cue.ready();
                cue.wait_sent();
                let (_, ours) = recv_one(&socket).await;
                (ours, read_datagram(&bystander))
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
                socket.send(&other, IpAddr::V4(other_group)).await.unwrap();
                socket.send(&vrrp, IpAddr::V4(VRRP_GROUP_V4)).await.unwrap();
            })
        },
    );
    // The bystander got the other group's packet first (IPv4 header of 20 bytes, then VRID 9)...
    assert_eq!(bystander_first[16..20], other_group.octets());
    assert_eq!(bystander_first[21], 9);
    // ...our socket skipped it: its first packet is the VRRP one.
    assert_eq!(ours, vrrp);
}

/// A plain IPv6 raw socket for protocol 112 on `ifindex`, without keepvip's options: no
/// IPV6_CHECKSUM, so it sends payloads exactly as given.
fn plain_v6_socket(ifindex: u32) -> Socket {
    let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112))).unwrap();
    socket.bind_device(Some(HOST_IF.as_bytes())).unwrap();
    socket.set_multicast_if_v6(ifindex).unwrap();
    socket.set_multicast_hops_v6(255).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

fn group_v6(ifindex: u32) -> socket2::SockAddr {
    SocketAddrV6::new(VRRP_GROUP_V6, 0, 0, ifindex).into()
}

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
                    .send(&scribbled, IpAddr::V6(VRRP_GROUP_V6))
                    .await
                    .unwrap();
            })
        },
    );
    assert_eq!(received.src, IpAddr::V6(a_ll));
    assert_eq!(
        received.dst,
        IpAddr::V6(VRRP_GROUP_V6),
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
        (IpAddr::V6(a_ll), IpAddr::V6(VRRP_GROUP_V6))
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
            let ours = socket.send(&payload, IpAddr::V6(VRRP_GROUP_V6)).await;
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
            let after_dad = socket.send(&payload, IpAddr::V6(VRRP_GROUP_V6)).await;
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
