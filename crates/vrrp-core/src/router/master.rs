//! RFC 5798 §6.4.3 Master, and the way into it (§6.4.1 (110)-(145), §6.4.2 (365)-(410)).

use std::net::IpAddr;

use vrrp_wire::{Repr, Version};

use crate::input::{Action, Discard, Reason};
use crate::time::{Instant, Micros};

use super::split_brain::{self, Heard};
use super::{KnownMaster, Router, State};

impl Router {
    /// The Master_Down_Timer fired (6.4.2 (365)), or an owner started (6.4.1 (105)). A sync-group member
    /// waits for its siblings instead (see `State::BackupAwaitingGroup`).
    pub(super) fn become_master(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        if self.sync_gated {
            self.pending_master_reason = reason;
            self.transition(State::BackupAwaitingGroup, reason, out);
        } else {
            self.promote(now, reason, out);
        }
    }

    /// 6.4.1 (110)-(145) and 6.4.2 (370)-(410): advertise, take and announce the VIPs, start the
    /// Adver_Timer, become master.
    pub(crate) fn promote(&mut self, now: Instant, reason: Reason, out: &mut Vec<Action>) {
        // (110) / (370): send an ADVERTISEMENT.
        self.send_advert(self.effective_priority(), out);
        out.push(Action::AddVips(self.config.vip_set()));
        // (115)-(135) / (375)-(400): gratuitous ARP or unsolicited NA for each VIP.
        out.push(Action::AnnounceVips(self.config.vip_set()));
        // A new master advertises at its own configured interval.
        self.master_adver_interval = self.config.advert_interval;
        self.known_master = Some(KnownMaster {
            address: self.config.primary_address,
            priority: self.effective_priority(),
        });
        // (140) / (405): Adver_Timer = Advertisement_Interval, shortened by the instance's phase
        // (`first_advert_after`); (145) / (410): -> Master.
        let advert_at = now + self.first_advert_after();
        self.transition(State::Master { advert_at }, reason, out);
    }

    /// 6.4.3 (680)-(690): the Adver_Timer fired. The timer restarts from when it was due, not from
    /// when the caller got round to it: a wake-up that is always a little late (a 1 ms timer wheel
    /// at a 10 ms interval) must not stretch every interval. More than a whole interval late, it
    /// skips to the first point of its cadence after `now`, so a stalled daemon never sends a burst
    /// to catch up, and its instances keep their phases (`first_advert_after`) instead of all
    /// restarting from the same `now`.
    pub(super) fn advert_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        let State::Master { advert_at: due } = self.state else {
            return;
        };
        self.send_advert(self.effective_priority(), out);
        if self.other_master.as_ref().is_some_and(|e| e.is_over(now)) {
            split_brain::end(&mut self.other_master, out);
        }
        let interval = self.advert_interval().as_micros().max(1);
        let missed = now.saturating_since(due).as_micros() / interval;
        let advert_at = due + Micros::from_micros(interval * (missed + 1));
        self.state = State::Master { advert_at };
    }

    /// Sends an advert and restarts the Adver_Timer (6.4.3 (685)-(690), (710)-(715)).
    pub(super) fn advertise_now(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.send_advert(self.effective_priority(), out);
        self.state = State::Master {
            advert_at: now + self.advert_interval(),
        };
    }

    /// 6.4.3 (700)-(775): an advert that passed the receive checks, while master.
    pub(super) fn master_receives(
        &mut self,
        now: Instant,
        source: IpAddr,
        repr: &Repr,
        out: &mut Vec<Action>,
    ) {
        // (705)-(715): a resigning master elsewhere: assert ourselves at once.
        if repr.priority == 0 {
            self.advertise_now(now, out);
            return;
        }
        let ours = self.effective_priority();
        // (725)-(735): higher priority, or equal priority and a higher primary address compared as
        // unsigned integers in network byte order.
        let wins = repr.priority > ours
            || (repr.priority == ours && address_greater(source, self.config.primary_address));
        if wins {
            // keepvip (`advertise_on_yield`): one last advert as we leave, to the winner alone, so a
            // winner that never heard us (its advert reached us first after a partition healed)
            // learns that clients may be on our MAC and announces the VIPs again
            // (`hear_other_master`). Unicast: backups following the winner must not follow us.
            if self.config.advertise_on_yield {
                out.push(Action::SendAdvertTo {
                    advert: self.advert(ours),
                    to: source,
                });
            }
            // (740) cancel the Adver_Timer (by leaving the state); (745) learn the interval;
            // (750)-(760) recompute Skew_Time and Master_Down_Interval and start the timer.
            self.master_adver_interval = repr.max_adver_int;
            self.known_master = Some(KnownMaster {
                address: source,
                priority: repr.priority,
            });
            out.push(Action::RemoveVips(self.config.vip_set()));
            let master_down_at = now + self.master_down_interval();
            self.master_down_reason = Reason::MasterDown;
            // (765): -> Backup.
            let reason = Reason::Preempted {
                by: source,
                priority: repr.priority,
            };
            self.transition(State::Backup { master_down_at }, reason, out);
        } else {
            // (775): discard.
            out.push(Action::Discard(Discard::LowerPriority));
            // RFC 9568 §6.4.3: send an advert at once to assert ourselves to the sender and refresh
            // learning bridges. The Adver_Timer keeps its cadence (9568 does not reset it).
            // VRRPv2 (RFC 3768 §6.4.3) only discards.
            if self.config.readvertise_on_lower_priority && self.config.version == Version::V3 {
                self.send_advert(ours, out);
            }
            self.hear_other_master(now, source, repr, out);
        }
    }

    /// Another master's advert (one we discarded included) while we stay master: a stall ended, a
    /// partition healed, or a split brain (router/split_brain.rs). keepvip, beyond the RFCs (as
    /// keepalived 2.2 does): the first advert of an episode (or the first after a silence) re-sends
    /// the GARP / NA burst at once, as the other master's announcements may have moved the VIPs'
    /// neighbour entries to its MAC; never per advert, so a persistent second master does not make
    /// us announce every interval.
    pub(super) fn hear_other_master(
        &mut self,
        now: Instant,
        source: IpAddr,
        repr: &Repr,
        out: &mut Vec<Action>,
    ) {
        if repr.priority == 0 {
            return;
        }
        let ours = self.effective_priority();
        let heard = split_brain::hear(
            &mut self.other_master,
            &self.config,
            ours,
            now,
            (source, repr),
            self.received_checksum,
            out,
        );
        if heard == Heard::Contact {
            out.push(Action::AnnounceVips(self.config.vip_set()));
        }
    }

    /// Leaves Master for Backup because a sync-group sibling did: resign with priority 0 so the peer's
    /// members take over after Skew_Time, and drop the VIPs. `yield_to_peer`: this host lost the group's
    /// tie-break, so it may not become master again for MDI + one interval (`sync_hold_until`).
    pub(crate) fn resign_to_backup(
        &mut self,
        now: Instant,
        yield_to_peer: bool,
        out: &mut Vec<Action>,
    ) {
        if !matches!(self.state, State::Master { .. }) {
            return;
        }
        self.send_advert(0, out);
        out.push(Action::RemoveVips(self.config.vip_set()));
        self.enter_backup(now, Reason::SyncGroup, out);
        if yield_to_peer {
            self.sync_hold_until = now
                + self.master_down_interval()
                + Micros::from_centisecs(self.master_adver_interval);
        }
    }

    /// Advertisement_Interval as a duration.
    fn advert_interval(&self) -> Micros {
        Micros::from_centisecs(self.config.advert_interval)
    }

    /// The first Adver_Timer of a new master: Advertisement_Interval (6.4.1 (140), 6.4.2 (405)) less
    /// the instance's phase, up to half an interval. Instances that became master together (a host
    /// starting, a failover of every instance) would otherwise advertise in the same microsecond at
    /// every interval for as long as they stay master (the timer restarts from when it was due,
    /// `advert_timer`), and each backup would receive them as one burst. Only ever earlier, never
    /// later: no advert comes more than Advertisement_Interval after the previous one, so a backup's
    /// Master_Down_Interval (3 x Master_Adver_Interval + Skew_Time, 6.1) still measures silence
    /// alone, and after this first one the interval is exact (6.4.3 (690)).
    fn first_advert_after(&self) -> Micros {
        let interval = self.advert_interval().as_micros();
        let earlier = interval / 2 * u64::from(self.advert_phase) / 65_536;
        Micros::from_micros(interval - earlier)
    }
}

/// RFC 5798 §6.4.3 (735) as clarified by RFC 9568: an unsigned integer comparison of the addresses in
/// network byte order. Addresses of different families never compare greater (the receive checks drop
/// those adverts before).
pub(crate) fn address_greater(theirs: IpAddr, ours: IpAddr) -> bool {
    match (theirs, ours) {
        (IpAddr::V4(a), IpAddr::V4(b)) => u32::from(a) > u32::from(b),
        (IpAddr::V6(a), IpAddr::V6(b)) => u128::from(a) > u128::from(b),
        _ => false,
    }
}
