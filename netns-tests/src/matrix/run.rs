//! One run of a matrix pair, every cell from one lab and one capture:
//!
//! 1. election: the higher priority (200) starts first and becomes master; the lower (100) starts
//!    next and never advertises; past its Master_Down_Interval only the higher one does, and the VIP
//!    is on its host only.
//! 2. SIGSTOP of the master: the backup's first advert (or VIP announcement) one Master_Down_Interval
//!    after the master's last advert. SIGCONT two intervals later: the old master advertises again,
//!    the other stops within one interval (`settle_bound`), and the VIP ends on one host.
//! 3. SIGTERM of the master: its priority-0 advert, and the backup's takeover one Skew_Time later.
//! 4. the old master restarted: it preempts, the other yields within one interval, the VIP moves.
//! 5. SIGKILL of the master: the backup takes over one Master_Down_Interval after its last advert.
//! 6. throughout: never two masters on the wire for longer than `settle_bound` (so never once a
//!    Master_Down_Interval has passed).
//!
//! Every delay is read from the capture's kernel timestamps and printed as a `MATRIX` line.

use std::net::IpAddr;
use std::time::Duration;

use super::side::{Impl, Side};
use super::wire::{
    Handover, announcements_after, check_advert_form, double_master_spans,
    last_master_advert_before, master_adverts_after, resignation_after,
};
use super::{HIGH, LOW, Mode, PeerKind, handover_tolerance, settle_bound};
use crate::capture::Capture;
use crate::daemon::PauseWatch;
use crate::daemon::pause::Span;
use crate::daemon::scenario::{BACKUP, MASTER, election_timeout};
use crate::daemon::timing::error_micros;
use crate::daemon::wire::{Advert, adverts, wall_clock};
use crate::lab::{Ipv6Mode, Lab};
use crate::pcap::Frame;
use crate::wait::wait_for;
use vrrp_wire::ChecksumMode;

/// What a run expects of the side that resigns on SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resignation {
    /// A priority-0 advert; the backup takes over one Skew_Time later (RFC 5798 §6.4.3).
    PriorityZero,
    /// No priority-0 advert: the backup takes over one Master_Down_Interval after the last advert.
    Silent,
}

/// A running pair; see the module docs.
pub struct Pair {
    pub mode: Mode,
    pub lab: Lab,
    pub capture: Capture,
    pub high: Side,
    pub low: Side,
    /// Advert sources, learnt from the capture by priority.
    pub high_src: IpAddr,
    pub low_src: Option<IpAddr>,
    /// keepvip sends the message-only VRRPv3 checksum (RFC 9568) instead of the pseudo-header one.
    keepvip_message_only: bool,
    tag: String,
}

impl Pair {
    /// Start the pair and check the election (step 1).
    pub fn start(watch: &PauseWatch, mode: Mode, peer: PeerKind, keepvip_high: bool) -> Self {
        Self::start_with(watch, mode, peer, keepvip_high, "")
    }

    /// `start`, with `keepvip_extra` added to keepvip's `[[instance]]` (say a `checksum_mode`).
    pub fn start_with(
        watch: &PauseWatch,
        mode: Mode,
        peer: PeerKind,
        keepvip_high: bool,
        keepvip_extra: &str,
    ) -> Self {
        let direction = if keepvip_high { "kvhigh" } else { "kvlow" };
        let extra = keepvip_extra.trim().replace(['"', ' '], "");
        let tag = format!(
            "mode={}{}{extra} peer={} keepvip={direction}",
            mode.name(),
            if extra.is_empty() { "" } else { "+" },
            peer.name()
        );
        let lab_name = format!("mx{}{}{}", mode.name(), peer.name(), direction);
        let ipv6 = if mode.ipv6() {
            Ipv6Mode::NoDad
        } else {
            Ipv6Mode::Off
        };
        let lab = Lab::builder(&lab_name)
            .hosts(2)
            .ipv6(ipv6)
            .build()
            .unwrap_or_else(|err| panic!("{err}"));
        let filter: &[&str] = if mode.ipv6() {
            &["ip6", "proto", "112", "or", "icmp6"]
        } else {
            &["ip", "proto", "112", "or", "arp"]
        };
        let capture = lab
            .capture("matrix", filter)
            .unwrap_or_else(|err| panic!("{err}"));
        watch.capture(&capture);
        let (high_imp, low_imp) = if keepvip_high {
            (Impl::Keepvip, Impl::Peer(peer))
        } else {
            (Impl::Peer(peer), Impl::Keepvip)
        };
        let side = |imp, index, priority| {
            Side::new(imp, index, priority, mode).keepvip_extra(keepvip_extra)
        };
        let mut pair = Self {
            mode,
            capture,
            high: side(high_imp, 0, HIGH),
            low: side(low_imp, 1, LOW),
            lab,
            high_src: IpAddr::from([0, 0, 0, 0]),
            low_src: None,
            keepvip_message_only: keepvip_extra.contains("message-only"),
            tag,
        };
        pair.high.start(&pair.lab);
        let first =
            pair.wait_master_advert(HIGH, Duration::ZERO, election_timeout(mode.interval()));
        pair.high_src = first.src;
        pair.watch_keepvip_master(watch);
        pair.low.start(&pair.lab);
        let low_started = wall_clock();
        std::thread::sleep(mode.mdi(LOW));
        pair.check_election(low_started);
        pair
    }

    /// The whole run after `start`: steps 2 to 6. Returns the pair (its processes and logs) for
    /// checks of the caller's own.
    pub fn run_all_cells(mut self, watch: &PauseWatch, resignation: Resignation) -> Self {
        self.sigstop_then_sigcont(watch);
        self.sigterm(watch, resignation);
        self.restart_high(watch);
        self.sigkill(watch);
        self.check_never_two_masters();
        self
    }

    /// Election (in `start`) and SIGTERM only, for a peer that cannot win mastership back from a
    /// keepvip master whose checksum form it drops: keepalived 2.2.7 restarts its advert timer on
    /// every advert it receives, even one it drops, so a keepalived master back from SIGSTOP or a
    /// restart advertises only when one of keepvip's punctual adverts comes late (seen: none in 5 s).
    pub fn run_election_and_sigterm(
        mut self,
        watch: &PauseWatch,
        resignation: Resignation,
    ) -> Self {
        self.sigterm(watch, resignation);
        self.check_never_two_masters();
        self
    }

    fn frames(&self) -> Vec<Frame> {
        self.capture.frames().unwrap_or_else(|err| panic!("{err}"))
    }

    /// Wait until some source sends a master advert with `priority` after `after`; that advert.
    fn wait_master_advert(&self, priority: u8, after: Duration, timeout: Duration) -> Advert {
        let found = |frames: &[Frame]| {
            adverts(frames).into_iter().find(|a| {
                a.timestamp > after
                    && a.priority == Some(priority)
                    && super::wire::is_master_advert(a)
            })
        };
        let what = format!("a master advert at priority {priority}");
        match self
            .capture
            .wait_for_frames(&what, timeout, |frames| found(frames).is_some())
        {
            Ok(frames) => found(&frames).unwrap_or_else(|| panic!("{what}: vanished")),
            Err(err) => panic!(
                "{} {err}\n--- high ({}) log:\n{}\n--- low ({}) log:\n{}",
                self.tag,
                self.high.name(),
                self.high.logs(),
                self.low.name(),
                self.low.logs()
            ),
        }
    }

    fn watch_keepvip_master(&self, watch: &PauseWatch) {
        if let Some(daemon) = self.high.keepvip() {
            watch.master(daemon, self.high_src, self.mode.interval(), LOW);
        }
    }

    /// Step 1's checks, from the lower side's start to two intervals past its MDI.
    fn check_election(&self, low_started: Duration) {
        // Past the lower side's Master_Down_Interval: wait for three more adverts of the master, so
        // the capture covers at least two intervals beyond it.
        let settled = low_started + self.mode.mdi(LOW);
        let timeout = self.mode.interval().duration() * 5 + Duration::from_secs(1);
        let frames =
            self.capture
                .wait_for_frames("three master adverts past MDI", timeout, |frames| {
                    master_adverts_after(&adverts(frames), self.high_src, settled).len() >= 3
                });
        let all = match frames {
            Ok(frames) => adverts(&frames),
            Err(err) => panic!("{} election: the master went quiet: {err}", self.tag),
        };
        let low_adverts: Vec<&Advert> = all.iter().filter(|a| a.priority == Some(LOW)).collect();
        assert!(
            low_adverts.is_empty(),
            "{} election: the lower priority ({}) advertised: {low_adverts:?}\n{}",
            self.tag,
            self.low.name(),
            self.low.logs()
        );
        let late = master_adverts_after(&all, self.high_src, settled);
        assert!(
            late.len() >= 3,
            "{} election: the master went quiet: {late:?}",
            self.tag
        );
        if let Some(keepvip) = self.low.keepvip() {
            let state = keepvip
                .instance("VI_1")
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(state.state, BACKUP, "{} {state:?}", self.tag);
            assert_eq!(
                state.master,
                Some(self.high_src.to_string()),
                "{} {state:?}",
                self.tag
            );
        }
        if let Some(keepvip) = self.high.keepvip() {
            let state = keepvip
                .instance("VI_1")
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(state.state, MASTER, "{} {state:?}", self.tag);
        }
        self.expect_vip_on_high_only("election");
        self.report(
            "elect",
            "higher priority master, lower silent, VIP on one host",
        );
    }

    /// The VIP on the higher side's host and, within one second, no longer on the lower's.
    fn expect_vip_on_high_only(&self, step: &str) {
        let poll = Duration::from_millis(10);
        let gone = wait_for(
            "the VIP to leave the lower side",
            Duration::from_secs(1),
            poll,
            || !self.low.serves_vip(&self.lab),
        );
        if let Err(err) = gone {
            panic!("{} {step}: {err}: the VIP is on both hosts", self.tag);
        }
        assert!(
            self.high.serves_vip(&self.lab),
            "{} {step}: the master's host does not serve the VIP",
            self.tag
        );
    }

    /// The lower side's takeover after `since`: its first master advert, the higher side's advert
    /// that started its timer (`trigger`, or its last master advert before), its first announcement.
    fn observe_low_takeover(&mut self, since: Duration, trigger: Option<Advert>) -> Handover {
        let timeout = self.mode.mdi(LOW) + Duration::from_secs(3);
        let first = self.wait_master_advert(LOW, since, timeout);
        self.low_src = Some(first.src);
        let all = adverts(&self.frames());
        let trigger = trigger.unwrap_or_else(|| {
            last_master_advert_before(&all, self.high_src, first.timestamp)
                .cloned()
                .unwrap_or_else(|| panic!("{} no advert of the master before {first:?}", self.tag))
        });
        let frames = self.frames();
        let announce = announcements_after(&frames, self.mode.vip(), trigger.timestamp)
            .first()
            .copied();
        Handover {
            trigger,
            first,
            announce,
        }
    }

    /// A handover `expected` after its trigger, within `handover_tolerance`.
    fn check_handover(
        &self,
        watch: &PauseWatch,
        cell: &str,
        handover: &Handover,
        expected: Duration,
    ) {
        let keepvip_takes_over = self.low.imp == Impl::Keepvip;
        let tolerance = handover_tolerance(keepvip_takes_over, self.mode.interval());
        let what = format!("{} {cell}", self.tag);
        watch.measured(&what, handover.span(), expected + tolerance.late);
        let delay = handover.delay();
        eprintln!(
            "MATRIX {} cell={cell} expected_us={} measured_us={} error_us={} first_advert_us={}",
            self.tag,
            expected.as_micros(),
            delay.as_micros(),
            error_micros(expected, delay),
            handover.advert_delay().as_micros()
        );
        // FRR over IPv6 loses its first advert as master (its macvlan's link-local address, the
        // source, comes back only after protodown is lifted: docs/linux.md), so its NA is its first
        // sign of life and its first advert follows one interval later. Pinned, as measured.
        let frr_v6 = self.low.imp == Impl::Peer(PeerKind::Frr) && self.mode.ipv6();
        let advert_expected = if frr_v6 {
            expected + self.mode.interval().duration()
        } else {
            expected
        };
        assert!(
            tolerance.admits(advert_expected, handover.advert_delay()),
            "{what}: the {}'s first advert came {:?} after the trigger, expected {advert_expected:?}",
            self.low.name(),
            handover.advert_delay()
        );
        assert!(
            tolerance.admits(expected, delay),
            "{what}: the {} took over {delay:?} after {:?}, expected {expected:?} within \
             [-{:?}, +{:?}]\ntrigger: {:?}\nfirst: {:?}\nannounce: {:?}\n--- {} log:\n{}",
            self.low.name(),
            handover.trigger.timestamp,
            tolerance.early,
            tolerance.late,
            handover.trigger,
            handover.first,
            handover.announce,
            self.low.name(),
            self.low.logs()
        );
    }

    /// After the higher side advertised again at `back` (its first master advert), the lower side
    /// stops advertising as master within `settle_bound`, and the VIP ends on the higher side only.
    fn check_settles(&self, cell: &str, back: &Advert) {
        std::thread::sleep(settle_bound(self.mode.interval()) + self.mode.interval().duration());
        let all = adverts(&self.frames());
        let low_src = self
            .low_src
            .unwrap_or_else(|| panic!("{} lower source unknown", self.tag));
        let low_after = master_adverts_after(&all, low_src, back.timestamp);
        let overlap = low_after
            .last()
            .map_or(Duration::ZERO, |last| last.timestamp - back.timestamp);
        eprintln!(
            "MATRIX {} cell={cell} lower_master_adverts_after={} overlap_us={}",
            self.tag,
            low_after.len(),
            overlap.as_micros()
        );
        assert!(
            overlap <= settle_bound(self.mode.interval()),
            "{} {cell}: the {} still advertised as master {overlap:?} after the {} came back: \
             {low_after:?}\n--- {} log:\n{}",
            self.tag,
            self.low.name(),
            self.high.name(),
            self.low.name(),
            self.low.logs()
        );
        self.expect_vip_on_high_only(cell);
    }

    /// Step 2.
    fn sigstop_then_sigcont(&mut self, watch: &PauseWatch) {
        watch.silencing(self.high_src);
        let stopped_at = wall_clock();
        self.high.freeze(true);
        let handover = self.observe_low_takeover(stopped_at, None);
        self.check_handover(watch, "sigstop", &handover, self.mode.mdi(LOW));
        std::thread::sleep(self.mode.interval().duration() * 2);
        let continued_at = wall_clock();
        self.high.freeze(false);
        let back = self.wait_master_advert(HIGH, continued_at, Duration::from_secs(5));
        self.watch_keepvip_master(watch);
        self.check_settles("sigcont", &back);
        self.report(
            "sigstop",
            "handover within MDI; after SIGCONT one master, VIP on one host",
        );
    }

    /// Step 3.
    fn sigterm(&mut self, watch: &PauseWatch, resignation: Resignation) {
        watch.silencing(self.high_src);
        let terminated_at = wall_clock();
        self.high.terminate();
        let all = adverts(&self.frames());
        let resigned = resignation_after(&all, self.high_src, terminated_at).cloned();
        match (resignation, &resigned) {
            (Resignation::PriorityZero, None) => panic!(
                "{} sigterm: no priority-0 advert from the {} ({})\n{}",
                self.tag,
                self.high.name(),
                self.high_src,
                self.high.logs()
            ),
            (Resignation::Silent, Some(advert)) => panic!(
                "{} sigterm: the {} now sends priority 0 ({advert:?}): update the matrix",
                self.tag,
                self.high.name()
            ),
            _ => {}
        }
        let expected = match resignation {
            Resignation::PriorityZero => self.mode.skew(LOW),
            Resignation::Silent => self.mode.mdi(LOW),
        };
        let handover = self.observe_low_takeover(terminated_at, resigned);
        self.check_handover(watch, "sigterm", &handover, expected);
        let what = match resignation {
            Resignation::PriorityZero => "priority-0 advert, handover within Skew_Time",
            Resignation::Silent => "no priority-0 advert, handover after MDI",
        };
        self.report("sigterm", what);
    }

    /// Step 4.
    fn restart_high(&mut self, watch: &PauseWatch) {
        let restarted_at = wall_clock();
        self.high.start(&self.lab);
        let timeout = election_timeout(self.mode.interval());
        let back = self.wait_master_advert(HIGH, restarted_at, timeout);
        self.high_src = back.src;
        self.watch_keepvip_master(watch);
        self.check_settles("restart", &back);
        self.report(
            "restart",
            "the restarted higher priority preempts, one master",
        );
    }

    /// Step 5.
    fn sigkill(&mut self, watch: &PauseWatch) {
        watch.silencing(self.high_src);
        let killed_at = wall_clock();
        self.high.kill();
        let handover = self.observe_low_takeover(killed_at, None);
        self.check_handover(watch, "sigkill", &handover, self.mode.mdi(LOW));
        let poll = Duration::from_millis(10);
        let served = wait_for(
            "the VIP on the new master",
            Duration::from_secs(2),
            poll,
            || self.low.serves_vip(&self.lab),
        );
        if let Err(err) = served {
            panic!("{} sigkill: {err}", self.tag);
        }
        self.report("sigkill", "handover within MDI");
    }

    /// Step 6, over the whole capture.
    fn check_never_two_masters(&self) {
        let frames = self.capture.stop().unwrap_or_else(|err| panic!("{err}"));
        let all = adverts(&frames);
        let low_src = self
            .low_src
            .unwrap_or_else(|| panic!("{} lower source unknown", self.tag));
        // A master advertises every interval; quiet for longer than `settle_bound` it is not
        // advertising as master (a machine stall only splits a stretch, which never fails the check).
        let bound = settle_bound(self.mode.interval());
        let both = double_master_spans(&all, self.high_src, low_src, bound);
        let longest = both.iter().map(Span::length).max().unwrap_or_default();
        eprintln!(
            "MATRIX {} cell=two_masters stretches={} longest_us={}",
            self.tag,
            both.len(),
            longest.as_micros()
        );
        if longest > bound {
            let around = |span: &Span| {
                let margin = self.mode.interval().duration() * 3;
                all.iter()
                    .filter(|a| {
                        a.timestamp + margin >= span.start && a.timestamp <= span.end + margin
                    })
                    .map(|a| {
                        format!(
                            "{:?} {} > {} prio {:?}",
                            a.timestamp, a.src, a.dst, a.priority
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let adverts: Vec<String> = both.iter().map(around).collect();
            panic!(
                "{}: two masters on the wire for {longest:?} (bound {bound:?}): {both:?}\n{}\n\
                 --- high log:\n{}\n--- low log:\n{}",
                self.tag,
                adverts.join("\n--\n"),
                self.high.logs(),
                self.low.logs()
            );
        }
        self.report("one_master", "never two masters past MDI");
        let form = check_advert_form(&all, self.mode, |src| self.checksum_of(src));
        if let Err(err) = form {
            panic!("{} advert form: {err}", self.tag);
        }
        self.report("wire", "every advert in the mode's form, checksums valid");
    }

    /// The checksum form `src` sends: VRRPv2's covers the message only (RFC 3768 §5.3.8); VRRPv3
    /// over IPv4 includes the pseudo-header (keepalived, FRR, keepvip's default) unless keepvip
    /// was told otherwise; over IPv6 the pseudo-header is always in.
    fn checksum_of(&self, src: IpAddr) -> ChecksumMode {
        let keepvip_src = if self.high.imp == Impl::Keepvip {
            Some(self.high_src)
        } else {
            self.low_src
        };
        match self.mode {
            Mode::V2 | Mode::V2Auth => ChecksumMode::MessageOnly,
            Mode::V3Ipv4 if self.keepvip_message_only && Some(src) == keepvip_src => {
                ChecksumMode::MessageOnly
            }
            Mode::V3Ipv4 | Mode::V3Ipv6 => ChecksumMode::PseudoHeader,
        }
    }

    fn report(&self, cell: &str, what: &str) {
        eprintln!("MATRIX {} cell={cell} result=pass ({what})", self.tag);
    }
}
