//! Many VIPs on one instance: the master SIGSTOPped, the backup takes over; measured from the new
//! master's first advert to the last of its announcements on the wire (a gratuitous ARP for the VIP
//! and an unsolicited NA for each excluded IPv6 VIP). Both daemons announce a VIP only once it is
//! installed, so the last announcement bounds the installation too.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use netns_tests::daemon::wire::{adverts, wall_clock};
use netns_tests::frames::{arp_frames, neighbor_advertisements};
use netns_tests::{HarnessError, Ipv6Mode, Lab, Result};

use crate::configs::Layout;
use crate::peers::{Kind, Peer};

const MASTER: u8 = 200;
const BACKUP: u8 = 100;

/// Per run: milliseconds from the first advert to the last announcement seen, and the announcements
/// that never showed on the wire.
#[derive(Debug, Clone, Default)]
pub struct Announced {
    pub took: Vec<f64>,
    pub missing: Vec<f64>,
}

/// `runs` takeovers of an instance with 1 + `excluded` VIPs.
pub fn measure(
    kind: Kind,
    bin: &Path,
    excluded: u16,
    runs: usize,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Announced> {
    let lab = Lab::builder("benchvips")
        .hosts(2)
        .ipv6(Ipv6Mode::NoDad)
        .build()?;
    let capture = lab.capture(
        "announce",
        &["ip", "proto", "112", "or", "arp", "or", "icmp6"],
    )?;
    let layout = Layout {
        excluded,
        ..Layout::single(Duration::from_millis(100))
    };
    let master = Peer::start(&lab, kind, bin, 0, "m", MASTER, &layout)?;
    std::thread::sleep(Duration::from_secs(1));
    let _backup = Peer::start(&lab, kind, bin, 1, "b", BACKUP, &layout)?;
    let backup_ip = IpAddr::V4(lab.host(1).ipv4);
    let backup_mac = lab.host(1).mac;
    let wanted = usize::from(excluded) + 1;
    let mut out = Announced::default();
    for _ in 0..runs {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        // The master back in charge, the backup's VIPs removed.
        std::thread::sleep(Duration::from_secs(2));
        let since = wall_clock();
        master.freeze()?;
        // Every announcement, or none new for half a second (frames lost on the way are counted).
        let mut seen = (0, wall_clock());
        let announced = capture.wait_for_frames(
            "the new master's announcements",
            Duration::from_secs(15),
            |frames| {
                let count = announcements(frames, backup_mac, since).len();
                if count != seen.0 {
                    seen = (count, wall_clock());
                }
                count >= wanted || (count > 0 && seen.1 + Duration::from_millis(500) < wall_clock())
            },
        );
        master.thaw()?;
        let frames = announced?;
        let first = adverts(&frames)
            .into_iter()
            .find(|a| a.src == backup_ip && a.timestamp > since)
            .ok_or_else(|| HarnessError::new("no advert from the new master"))?;
        let announced = announcements(&frames, backup_mac, since);
        let last = announced
            .iter()
            .max()
            .copied()
            .ok_or_else(|| HarnessError::new("no announcement"))?;
        out.missing
            .push(wanted.saturating_sub(announced.len()) as f64);
        out.took
            .push((last.as_secs_f64() - first.timestamp.as_secs_f64()) * 1000.0);
    }
    capture.stop()?;
    Ok(out)
}

/// Timestamps of the gratuitous ARPs and unsolicited NAs `mac` sent after `since`.
fn announcements(
    frames: &[netns_tests::Frame],
    mac: netns_tests::frames::Mac,
    since: Duration,
) -> Vec<Duration> {
    let arps = arp_frames(frames)
        .into_iter()
        .filter(|arp| arp.eth_src == mac && arp.sender_ip == arp.target_ip)
        .map(|arp| arp.timestamp);
    let nas = neighbor_advertisements(frames)
        .into_iter()
        .filter(|na| na.eth_src == mac && !na.solicited)
        .map(|na| na.timestamp);
    arps.chain(nas).filter(|&at| at > since).collect()
}
