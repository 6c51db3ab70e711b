//! Root tests of `keepvip::net::garp`: frames built by vrrp-wire, sent through the AF_PACKET socket,
//! seen by the observer. Run with `--test-threads=1`.
// Test code: a failed unwrap is a failed test (clippy.toml only covers #[test] fns, not helpers).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::{ifindex, run};
use keepvip::net::FrameSender;
use keepvip::net::garp::FrameError;
use keepvip::net::netlink::Netlink;
use netns_tests::frames::{arp_frames, mac_to_string, neighbor_advertisements};
use netns_tests::{HOST_IF, Ipv6Mode, Lab, in_netns};
use vrrp_wire::{GratuitousArp, UnsolicitedNa};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

/// /proc/thread-self/net/packet lines (inside the calling thread's namespace), header skipped.
fn packet_sockets() -> Vec<Vec<String>> {
    let table = std::fs::read_to_string("/proc/thread-self/net/packet").unwrap();
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[test]
fn gratuitous_arp_and_unsolicited_na_reach_the_wire() {
    let lab = Lab::builder("garp")
        .hosts(1)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let capture = lab.capture("garp", &["arp", "or", "icmp6"]).unwrap();
    let host = lab.host(0);
    let index = ifindex(&host.ns);
    let ll = host.link_local.unwrap();
    let (mac, sockets, too_short) = in_netns(&host.ns, || {
        run(async {
            let netlink = Netlink::connect().unwrap();
            let mac = netlink.link_by_name(HOST_IF).await.unwrap().mac.unwrap();
            let sender = FrameSender::open().unwrap();
            let sockets = packet_sockets();
            let arp = GratuitousArp {
                sender_mac: mac,
                vip: VIP,
            }
            .to_frame();
            sender.send_frame(index, &arp).await.unwrap();
            let na = UnsolicitedNa::for_virtual_router(mac, ll, VIP6).to_frame();
            sender.send_frame(index, &na).await.unwrap();
            let too_short = sender.send_frame(index, &arp[..10]).await;
            (mac, sockets, too_short)
        })
    })
    .unwrap();
    assert_eq!(mac, host.mac, "netlink reports the interface MAC");
    assert!(
        matches!(too_short, Err(FrameError::TooShort { len: 10 })),
        "{too_short:?}"
    );
    // The sender's packet socket: protocol 0000 and not running (R = 0), so nothing is queued to it.
    // Columns: sk RefCnt Type Proto Iface R Rmem User Inode.
    assert!(
        sockets
            .iter()
            .any(|s| s[2] == "3" && s[3] == "0000" && s[5] == "0"),
        "no send-only SOCK_RAW packet socket in {sockets:?}"
    );

    let frames = capture
        .wait_for_frames("the ARP and the NA", Duration::from_secs(5), |frames| {
            !arp_frames(frames).is_empty() && !neighbor_advertisements(frames).is_empty()
        })
        .unwrap();
    let arps = arp_frames(&frames);
    assert_eq!(arps.len(), 1, "{arps:?}");
    let arp = &arps[0];
    assert_eq!(mac_to_string(&arp.eth_dst), "ff:ff:ff:ff:ff:ff");
    assert_eq!((arp.eth_src, arp.sender_mac), (host.mac, host.mac));
    assert_eq!((arp.operation, arp.sender_ip, arp.target_ip), (1, VIP, VIP));

    let nas: Vec<_> = neighbor_advertisements(&frames)
        .into_iter()
        .filter(|na| na.target == VIP6)
        .collect();
    assert_eq!(nas.len(), 1, "{nas:?}");
    let na = &nas[0];
    assert_eq!(
        (na.src, na.dst, na.hop_limit),
        (ll, "ff02::1".parse().unwrap(), 255)
    );
    assert!(na.router && na.override_flag && !na.solicited);
    assert_eq!(na.target_mac, Some(host.mac));
    assert_eq!(mac_to_string(&na.eth_dst), "33:33:00:00:00:01");
    capture.stop().unwrap();
    let text = capture.decode().unwrap();
    eprintln!("tcpdump -vv:\n{text}");
    assert!(
        text.contains("Request who-has 192.0.2.100 tell 192.0.2.100"),
        "{text}"
    );
    assert!(
        text.contains("neighbor advertisement") && text.contains("tgt is 2001:db8::100"),
        "{text}"
    );
    assert!(text.contains("[icmp6 sum ok]"), "{text}");
    assert!(!text.contains("bad"), "{text}");
}
