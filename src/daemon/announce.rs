//! Gratuitous ARP / unsolicited NA after becoming master: a burst, an optional second burst after a
//! delay, and optional periodic refreshes while master (keepalived's vrrp_garp_master_repeat, _delay and
//! _refresh). The core says when to announce; how often is operator policy and lives here.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use tracing::warn;
use vrrp_wire::{GratuitousArp, UnsolicitedNa};

use super::table::LinkInfo;
use crate::config::GarpTiming;
use crate::net::FrameSender;

/// The frames announcing `vips` from `link`: a gratuitous ARP per IPv4 VIP, an unsolicited NA per IPv6
/// VIP (sent from the interface's link-local address; skipped when it has none yet).
pub fn frames_for(link: &LinkInfo, vips: impl Iterator<Item = IpAddr>) -> Vec<Vec<u8>> {
    vips.filter_map(|vip| match vip {
        IpAddr::V4(vip) => Some(
            GratuitousArp {
                sender_mac: link.mac,
                vip,
            }
            .to_frame()
            .to_vec(),
        ),
        IpAddr::V6(vip) => link.link_local.map(|src| {
            UnsolicitedNa::for_virtual_router(link.mac, src, vip)
                .to_frame()
                .to_vec()
        }),
    })
    .collect()
}

/// How long the first burst waits for the VIPs to be installed before announcing anyway.
const INSTALL_WAIT: Duration = Duration::from_secs(1);

/// Runs the schedule until aborted (the daemon aborts it when the instance leaves MASTER). The first
/// burst waits until `installed` fires (the VIPs are on the interface), at most `INSTALL_WAIT`.
pub async fn run(
    sender: Arc<FrameSender>,
    ifindex: u32,
    frames: Vec<Vec<u8>>,
    timing: GarpTiming,
    installed: Option<oneshot::Receiver<()>>,
) {
    if let Some(installed) = installed {
        let _ = tokio::time::timeout(INSTALL_WAIT, installed).await;
    }
    burst(&sender, ifindex, &frames, timing).await;
    if let Some(delay) = timing.delay {
        tokio::time::sleep(delay).await;
        burst(&sender, ifindex, &frames, timing).await;
    }
    if let Some(every) = timing.refresh {
        loop {
            tokio::time::sleep(every).await;
            burst(&sender, ifindex, &frames, timing).await;
        }
    }
}

async fn burst(sender: &FrameSender, ifindex: u32, frames: &[Vec<u8>], timing: GarpTiming) {
    for round in 0..timing.repeat {
        if round > 0 && !timing.interval.is_zero() {
            tokio::time::sleep(timing.interval).await;
        }
        for frame in frames {
            if let Err(e) = sender.send_frame(ifindex, frame).await {
                warn!(ifindex, error = %e, "gratuitous ARP / NA not sent");
            }
        }
    }
}
