//! Root tests of `keepvip::net::vrrp_socket` over IPv4 on a real lab link. Run with `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::{WAIT, exchange, ifindex, read_datagram, recv_batches, recv_one, run};
use keepvip::net::VrrpSocket;
use keepvip::net::vrrp_socket::BATCH;
use netns_tests::frames::{mac_to_string, vrrp_frames};
use netns_tests::vrrp::{advert_v4_bytes, hex};
use netns_tests::{HOST_IF, Lab, kernel};
use socket2::{Domain, Protocol, Socket, Type};
use vrrp_wire::VRRP_IPV4_GROUP;
use vrrp_wire::{ChecksumMode, Repr};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

#[test]
fn ipv4_advert_arrives_with_ttl_255_from_the_source_to_224_0_0_18() {
    let lab = Lab::builder("v4advert").build().unwrap();
    let capture = lab.capture("vrrp", &["ip", "proto", "112"]).unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let payload = advert_v4_bytes(1, 100, &[VIP], a.ipv4, ChecksumMode::PseudoHeader).unwrap();
    // docs/protocol.md §Golden vectors: v3, VRID 1, prio 100, 100 cs, 192.0.2.1 -> 224.0.0.18,
    // pseudo-header.
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
                    .send(&payload, IpAddr::V4(VRRP_IPV4_GROUP))
                    .await
                    .unwrap();
            })
        },
    );
    assert_eq!(received.src, IpAddr::V4(a.ipv4));
    assert_eq!(received.dst, IpAddr::V4(VRRP_IPV4_GROUP));
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
                .send(&message_only, IpAddr::V4(VRRP_IPV4_GROUP))
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
        (255, IpAddr::V4(VRRP_IPV4_GROUP), IpAddr::V4(a.ipv4))
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
                    .send(&payload, IpAddr::V4(VRRP_IPV4_GROUP))
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
                socket
                    .send(&vrrp, IpAddr::V4(VRRP_IPV4_GROUP))
                    .await
                    .unwrap();
            })
        },
    );
    // The bystander got the other group's packet first (IPv4 header of 20 bytes, then VRID 9)...
    assert_eq!(bystander_first[16..20], other_group.octets());
    assert_eq!(bystander_first[21], 9);
    // ...our socket skipped it: its first packet is the VRRP one.
    assert_eq!(ours, vrrp);
}

#[test]
fn queued_adverts_come_a_batch_at_a_time_in_order_and_an_oversized_one_is_cut() {
    let lab = Lab::builder("v4batch").build().unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let adverts: Vec<Vec<u8>> = (1..=40u8)
        .map(|vrid| advert_v4_bytes(vrid, 100, &[VIP], a.ipv4, ChecksumMode::PseudoHeader).unwrap())
        .collect();
    // Longer than any advert (and than the MTU: the kernel reassembles it before delivery).
    let mut oversized = adverts[0].clone();
    oversized.resize(5000, 0);
    let ((sizes, got), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                cue.ready();
                // Everything is queued before the first receive.
                cue.wait_sent();
                std::thread::sleep(std::time::Duration::from_millis(200));
                recv_batches(&socket, adverts.len() + 1).await
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
                for advert in adverts.iter().chain([&oversized]) {
                    socket
                        .send(advert, IpAddr::V4(VRRP_IPV4_GROUP))
                        .await
                        .unwrap();
                }
            })
        },
    );
    assert_eq!(sizes, [BATCH, adverts.len() + 1 - BATCH]);
    for (advert, (payload, src, dst, ttl)) in adverts.iter().zip(&got) {
        assert_eq!(payload, advert);
        assert_eq!(
            (*src, *dst, *ttl),
            (IpAddr::V4(a.ipv4), IpAddr::V4(VRRP_IPV4_GROUP), 255)
        );
    }
    let (cut, ..) = &got[adverts.len()];
    assert_eq!(
        cut.len(),
        vrrp_wire::MAX_MESSAGE_LEN + 1,
        "cut one byte past the longest advert"
    );
    assert_eq!(cut[..adverts[0].len()], adverts[0][..]);
}

/// Once the kernel dropped datagrams on a full socket, every later one carries SO_RXQ_OVFL: a batch
/// after batches without that control message must still read it (a receive path that reused the
/// kernel-shortened control lengths of earlier calls lost whole batches to MSG_CTRUNC here).
#[test]
fn after_an_overflow_the_next_batch_carries_the_drop_count() {
    let lab = Lab::builder("v4ovfl").build().unwrap();
    let (a, b) = (lab.host(0), lab.host(1));
    let (a_index, b_index) = (ifindex(&a.ns), ifindex(&b.ns));
    let advert = advert_v4_bytes(1, 100, &[VIP], a.ipv4, ChecksumMode::PseudoHeader).unwrap();
    let pause = std::time::Duration::from_millis(1500);
    let ((drained, (sizes, got)), ()) = exchange(
        &b.ns,
        |cue| {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, b_index, b.ipv4).unwrap();
                let mut batch = keepvip::net::RecvBatch::new();
                cue.ready();
                // The flood (more than the receive buffer holds) arrives meanwhile; then drain it.
                tokio::time::sleep(pause / 2).await;
                let mut drained = 0;
                loop {
                    let next = std::future::poll_fn(|cx| socket.poll_recv_batch(cx, &mut batch));
                    match tokio::time::timeout(pause / 4, next).await {
                        Ok(count) => drained += count.unwrap(),
                        Err(_) => break,
                    }
                }
                cue.wait_sent();
                (drained, recv_batches(&socket, 3).await)
            })
        },
        &a.ns,
        || {
            run(async {
                let socket = VrrpSocket::open_v4(HOST_IF, a_index, a.ipv4).unwrap();
                let group = IpAddr::V4(VRRP_IPV4_GROUP);
                for _ in 0..2000 {
                    socket.send(&advert, group).await.unwrap();
                }
                tokio::time::sleep(pause * 2).await;
                for _ in 0..3 {
                    socket.send(&advert, group).await.unwrap();
                }
            })
        },
    );
    assert!(
        (1..2000).contains(&drained),
        "{drained} of 2000 queued: no overflow"
    );
    assert_eq!(sizes, [3]);
    assert!(got.iter().all(|(payload, ..)| *payload == advert));
}
