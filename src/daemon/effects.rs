//! Executes the core's actions, in order: adverts onto the socket, VIPs through netlink, announcements
//! through the AF_PACKET sender, transitions into the log.

use std::net::IpAddr;

use tokio::sync::oneshot;
use tracing::{error, info, warn};
use vrrp_core::{Action, Report, StateKind};
use vrrp_wire::{Repr, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP};

use super::announce;
use super::event_loop::Daemon;
use super::instance::state_name;
use super::setup::all_vips;
use super::vips::VipCommand;
use crate::config::{self, Scope};
use crate::net::netlink::{Vip as NetVip, VipScope};

impl Daemon {
    pub async fn execute(&mut self, index: usize, actions: Vec<Action>) {
        // The core asks to add VIPs and then announce them; the announcer waits for the add.
        let mut installed = None;
        for action in actions {
            match action {
                Action::SendAdvert(repr) => self.send_advert(index, &repr).await,
                Action::AddVips(_) => installed = Some(self.add_vips(index)),
                Action::RemoveVips(_) => self.remove_vips(index),
                Action::AnnounceVips(_) => self.announce(index, installed.take()),
                Action::StateChanged {
                    from,
                    to,
                    reason,
                    accept_vip_traffic,
                } => {
                    let instance = &mut self.instances[index];
                    instance.counters.transitions += 1;
                    if to != StateKind::Master {
                        instance.stop_announcing();
                    }
                    info!(
                        instance = %instance.config.name,
                        from = state_name(from),
                        to = state_name(to),
                        reason = reason.label(),
                        priority = instance.router.effective_priority(),
                        accept = accept_vip_traffic,
                        "transition"
                    );
                }
                Action::Discard(discard) => {
                    self.instances[index].counters.discard(discard.label());
                }
                Action::Report(report) => log_report(&self.instances[index].config.name, &report),
            }
        }
    }

    async fn send_advert(&mut self, index: usize, repr: &Repr) {
        let instance = &mut self.instances[index];
        let src = instance.primary_address();
        let dst = match src {
            IpAddr::V4(_) => IpAddr::V4(VRRP_IPV4_GROUP),
            IpAddr::V6(_) => IpAddr::V6(VRRP_IPV6_GROUP),
        };
        let mode = repr.checksum_mode(instance.config.checksum_mode);
        let bytes = match repr.to_bytes(src, dst, mode) {
            Ok(bytes) => bytes,
            Err(e) => {
                error!(instance = %instance.config.name, error = %e, "advert cannot be encoded");
                return;
            }
        };
        match self.sockets[instance.socket].send(&bytes, dst).await {
            Ok(()) => instance.counters.adverts_sent += 1,
            Err(e) => {
                instance.counters.send_errors += 1;
                // Rate-limited: the 1st, 2nd, 4th, 8th... failure in a row of this instance.
                if instance.counters.send_errors.is_power_of_two() {
                    warn!(
                        instance = %instance.config.name,
                        error = %e,
                        failures = instance.counters.send_errors,
                        "advert not sent"
                    );
                }
            }
        }
    }

    fn add_vips(&mut self, index: usize) -> oneshot::Receiver<()> {
        let instance = &self.instances[index];
        let (done, installed) = oneshot::channel();
        self.vip_worker.send(VipCommand::Add {
            instance: instance.config.name.clone(),
            ifindex: instance.link.index,
            vips: instance
                .config
                .vips
                .iter()
                .chain(&instance.config.excluded_vips)
                .map(net_vip)
                .collect(),
            installed: done,
        });
        installed
    }

    fn remove_vips(&mut self, index: usize) {
        let instance = &self.instances[index];
        self.vip_worker.send(VipCommand::Remove {
            instance: instance.config.name.clone(),
            ifindex: instance.link.index,
            addresses: all_vips(&instance.config).collect(),
        });
    }

    fn announce(&mut self, index: usize, installed: Option<oneshot::Receiver<()>>) {
        let instance = &mut self.instances[index];
        instance.stop_announcing();
        let frames = announce::frames_for(&instance.link, all_vips(&instance.config));
        instance.announcer = Some(tokio::spawn(announce::run(
            self.frames.clone(),
            instance.link.index,
            frames,
            instance.config.garp,
            installed,
        )));
    }
}

fn net_vip(vip: &config::Vip) -> NetVip {
    NetVip {
        address: vip.addr,
        prefix_len: vip.prefix,
        label: vip.label.clone(),
        scope: Some(match vip.scope {
            Scope::Global => VipScope::Global,
            Scope::Site => VipScope::Site,
            Scope::Link => VipScope::Link,
            Scope::Host => VipScope::Host,
        }),
    }
}

fn log_report(instance: &str, report: &Report) {
    match report {
        Report::IntervalMismatch { from, ours, theirs } => warn!(
            instance,
            %from,
            ours_cs = ours.get(),
            theirs_cs = theirs.get(),
            "advert interval differs from ours (kept, RFC 5798 §6.4.2)"
        ),
        Report::AddressListMismatch { from, theirs } => warn!(
            instance,
            %from,
            theirs = ?theirs,
            "advertised address list differs from ours"
        ),
    }
}
