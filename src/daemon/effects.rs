//! Executes the core's actions, in order, from their payloads: adverts onto the socket, VIPs through
//! the netlink worker (an instance's routes and rules after its VIPs, removed before them),
//! announcements through the AF_PACKET sender, transitions and reports into the log. Nothing here
//! decides anything.

use std::net::IpAddr;

use tokio::sync::oneshot;
use tracing::{error, warn};
use vrrp_core::{Action, InstanceId, NodeAction, Report, StateKind, VipSet};
use vrrp_wire::{Repr, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP};

use super::announce;
use super::setup::OWNER_PRIORITY;
use super::state::Daemon;
use super::vips::VipCommand;
use crate::logging::events;
use crate::notify::{Subject, Transition};
use crate::observe::state_name;

impl Daemon {
    pub async fn execute(&mut self, actions: Vec<NodeAction>) {
        // The core asks to add VIPs and then announce them; the announcer waits for the add.
        let mut installed = None;
        let mut moved = Vec::new();
        // Right after the node decided: where a takeover's duration starts.
        let decided = std::time::Instant::now();
        for (id, action) in actions {
            match action {
                Action::SendAdvert(repr) => {
                    self.vmac_up(id).await;
                    self.send_advert(id, &repr, None).await
                }
                Action::SendAdvertTo { advert, to } => {
                    self.send_advert(id, &advert, Some(to)).await
                }
                Action::AddVips(vips) => {
                    self.vmac_up(id).await;
                    installed = Some(self.add_vips(id, &vips, decided))
                }
                Action::RemoveVips(vips) => {
                    self.vmac_down(id).await;
                    self.remove_vips(id, &vips)
                }
                Action::AnnounceVips(vips) => self.announce(id, &vips, installed.take()),
                Action::StateChanged {
                    from,
                    to,
                    reason,
                    accept_vip_traffic,
                } => {
                    if to != StateKind::Master {
                        self.io.stop_announcing(id);
                    }
                    moved.push(id);
                    self.counters.transition(id, from, to);
                    self.notify(id, from, to, reason.label());
                    events::transition(
                        self.name(id),
                        state_name(from),
                        state_name(to),
                        reason.label(),
                        self.node.router(id).map_or(0, |r| r.effective_priority()),
                        accept_vip_traffic,
                    );
                }
                // Counted by the node.
                Action::Discard(_) => {}
                Action::Report(report) => log_report(self.name(id), &report),
            }
        }
        if !moved.is_empty() {
            self.groups
                .notify_changes(&moved, &self.node, &self.notifier);
        }
    }

    /// Queues the notify scripts and the FIFO line of a transition (never waits).
    fn notify(&self, id: InstanceId, from: StateKind, to: StateKind, reason: &'static str) {
        let (Some(info), Some(router)) = (self.table.get(id), self.node.router(id)) else {
            return;
        };
        self.notifier.transition(Transition {
            subject: Subject::Instance,
            instance: info.config.name.clone(),
            state: to.notify_name(),
            from: state_name(from),
            priority: router.effective_priority(),
            reason,
            interface: info.config.interface.clone(),
            vrid: info.config.vrid,
            vips: info.config.vips.iter().map(ToString::to_string).collect(),
        });
    }

    fn name(&self, id: InstanceId) -> &str {
        self.table.get(id).map_or("?", |info| info.name())
    }

    /// One advert to the group, or to each unicast peer, or (`only`) to that one address: the
    /// checksum is computed per destination (the IPv4 pseudo-header covers it; the kernel fills
    /// IPv6's), and one peer's failure does not stop the sends to the others.
    async fn send_advert(&mut self, id: InstanceId, repr: &Repr, only: Option<IpAddr>) {
        let (Some(info), Some(router)) = (self.table.get(id), self.node.router(id)) else {
            return;
        };
        let src = router.config().primary_address;
        let destinations = match (router.config().unicast_peers.as_slice(), src) {
            _ if only.is_some() => only.into_iter().collect(),
            ([], IpAddr::V4(_)) => vec![IpAddr::V4(VRRP_IPV4_GROUP)],
            ([], IpAddr::V6(_)) => vec![IpAddr::V6(VRRP_IPV6_GROUP)],
            (peers, _) => peers.to_vec(),
        };
        let mode = repr.checksum_mode(info.config.checksum_mode);
        // A vmac instance multicasts from its macvlan, so the frame carries the virtual MAC. Unicast
        // adverts (to peers, or a yielding master's last advert to the winner) leave from the
        // interface (keepalived's vmac_xmit_base): through the macvlan the kernel would ARP for the
        // destination naming the interface's address with the virtual MAC.
        let multicast = only.is_none() && router.config().unicast_peers.is_empty();
        let vmac_sender = info
            .vmac
            .as_ref()
            .filter(|_| multicast)
            .map(|v| v.sender.clone());
        let Some(socket) = vmac_sender.or_else(|| self.io.socket(info.socket)) else {
            return;
        };
        for dst in destinations {
            let bytes = match repr.to_bytes(src, dst, mode) {
                Ok(bytes) => bytes,
                Err(e) => {
                    error!(instance = %self.name(id), error = %e, "advert cannot be encoded");
                    return;
                }
            };
            match socket.send_from(&bytes, src, dst).await {
                Ok(()) => self.counters.advert_sent(id, dst),
                Err(e) => {
                    let failing = self.counters.advert_failed(id, dst);
                    // Rate-limited per destination: the 1st, 2nd, 4th, 8th... failure in a row.
                    if failing.is_power_of_two() {
                        warn!(instance = %self.name(id), %dst, error = %e, failures = failing, "advert not sent");
                    }
                }
            }
        }
    }

    fn add_vips(
        &mut self,
        id: InstanceId,
        vips: &VipSet,
        decided: std::time::Instant,
    ) -> oneshot::Receiver<()> {
        let (done, installed) = oneshot::channel();
        // A reload swapping a master's VIPs in place: no takeover, and its routes stay as they are.
        let swapping = self.reload.swapping;
        let drop_traffic = self
            .node
            .router(id)
            .is_some_and(|r| !r.config().master_accepts_vip_traffic());
        if let Some(info) = self.table.get(id) {
            // An owner's VIPs are its own addresses: never replaced.
            let adopt = info.config.priority != OWNER_PRIORITY;
            self.io.vip_worker.send(VipCommand::Add {
                instance: info.name().to_owned(),
                ifindex: info.vip_ifindex(),
                vips: vips
                    .iter()
                    .map(|address| info.install_spec(address))
                    .collect(),
                drop_traffic,
                installed: done,
                takeover: (!swapping).then_some((id, decided)),
                adopt,
            });
            // Otherwise the core adds VIPs only on becoming master.
            let set = info.route_set();
            if !set.is_empty() && !swapping {
                self.io.vip_worker.send(VipCommand::AddRoutes {
                    instance: info.name().to_owned(),
                    set,
                });
            }
        }
        installed
    }

    fn remove_vips(&mut self, id: InstanceId, vips: &VipSet) {
        if let Some(info) = self.table.get(id) {
            let set = info.route_set();
            if !set.is_empty() && !self.reload.swapping {
                self.io.vip_worker.send(VipCommand::RemoveRoutes {
                    instance: info.name().to_owned(),
                    set,
                });
            }
            self.io.vip_worker.send(VipCommand::Remove {
                instance: info.name().to_owned(),
                ifindex: info.vip_ifindex(),
                addresses: vips.iter().collect(),
            });
        }
    }

    pub(super) fn announce(
        &mut self,
        id: InstanceId,
        vips: &VipSet,
        installed: Option<oneshot::Receiver<()>>,
    ) {
        let Some(info) = self.table.get(id) else {
            return;
        };
        // A vmac instance announces from its macvlan, with the virtual MAC (without one it installs
        // no VIPs, so it announces none).
        let link = match (&info.config.vmac, &info.vmac) {
            (_, Some(vmac)) => vmac.announcing(&info.link),
            (None, None) => info.link.clone(),
            (Some(_), None) => return,
        };
        let frames = announce::frames_for(&link, vips.iter());
        // No install to wait for: the VIPs are in place and another router's advert made the core
        // announce them again.
        let start = match installed {
            Some(installed) => announce::Start::Installed(installed),
            None => announce::Start::Again(std::time::Duration::from_micros(
                info.config.advert_interval.as_micros(),
            )),
        };
        let schedule = tokio::spawn(announce::run(
            self.io.frames.clone(),
            link.index,
            frames,
            info.config.garp,
            start,
        ));
        self.io.start_announcing(id, schedule);
    }
}

fn log_report(instance: &str, report: &Report) {
    match report {
        Report::IntervalMismatch { from, ours, theirs } => warn!(
            event = "interval_mismatch",
            instance,
            peer = %from,
            ours_cs = ours.get(),
            theirs_cs = theirs.get(),
            "advert interval differs from ours (kept, RFC 5798 §6.4.2)"
        ),
        Report::AddressListMismatch { from, theirs } => warn!(
            event = "address_list_mismatch",
            instance,
            peer = %from,
            theirs = ?theirs,
            "advertised address list differs from ours"
        ),
        Report::V2IntervalMismatch { from, ours, theirs } => error!(
            event = "v2_interval_mismatch",
            instance,
            peer = %from,
            ours_cs = ours.get(),
            theirs_cs = theirs.get(),
            "v2_interop: a VRRPv2 router advertises another interval and drops ours (RFC 3768 \
             §7.1), so it cannot see this router: set advert_interval to its advert_int"
        ),
        Report::MasterSendsNoV2 { from } => warn!(
            event = "master_sends_no_v2",
            instance,
            peer = %from,
            "v2_interop: the master sends VRRPv3 without VRRPv2 copies, so VRRPv2 routers cannot \
             see it (RFC 5798 §8.4.2): is v2_interop on there too?"
        ),
        Report::SplitBrain(split) => {
            let differences: Vec<String> = split
                .differences
                .iter()
                .map(crate::observe::difference_text)
                .collect();
            events::split_brain(&events::SplitBrain {
                instance,
                peer: split.peer,
                peer_priority: split.peer_priority,
                our_priority: split.our_priority,
                differences: &differences.join("; "),
                cause: split.cause.label(),
                explanation: split.cause.explanation(),
            });
        }
        Report::SplitBrainEnded { from } => events::split_brain_end(instance, *from),
    }
}
