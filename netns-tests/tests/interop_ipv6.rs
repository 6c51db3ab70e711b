//! Mixed IPv6 VRRPv3 pairs: keepvip with Debian's keepalived 2.2.7 and with FRR 8.4's vrrpd, each side
//! configured for one VIP `2001:db8::254/64` the way its own documentation shows, both ways round.
//! The higher priority is master whichever side it is on; after the lower side's Master_Down_Interval
//! exactly one router advertises, every advert on the wire carries exactly [2001:db8::254] and parses
//! (checksum with the IPv6 pseudo-header); the VIP serves on the master's host only. SIGKILL of the
//! master: the backup's first advert comes one Master_Down_Interval after the master's last. Root,
//! keepalived and FRR required (the tests fail, never skip, without them); run with
//! `--test-threads=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use netns_tests::daemon::pause::Span;
use netns_tests::daemon::scenario::{
    BACKUP, MASTER, election_timeout, expect_adverts_received, expect_state, has_vip, start_keepvip,
};
use netns_tests::daemon::takeover::{Takeover, observe_takeover};
use netns_tests::daemon::timing::error_micros;
use netns_tests::daemon::wire::{Advert, adverts, unsolicited_nas, wall_clock};
use netns_tests::daemon::{
    InstanceSpec, Interval, Keepvip, PauseWatch, master_down_interval, retry_on_machine_pause,
};
use netns_tests::frr::{Frr, FrrSpec};
use netns_tests::keepalived::{Keepalived, KeepalivedSpec, entering};
use netns_tests::{Capture, Ipv6Mode, Lab, wait_for};
use vrrp_wire::{Addresses, ChecksumMode, VRRP_IPV6_GROUP, Version};

const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x254);
const VIP_CIDR: &str = "2001:db8::254/64";
/// keepalived's and FRR's default, 1 s.
const INTERVAL: Interval = Interval::from_millis(1000);
const HIGH: u8 = 200;
const LOW: u8 = 100;
/// How far a peer's takeover may fall from Master_Down_Interval. Early: FRR computes Skew_Time in
/// whole centiseconds (600 ms instead of 609.4 ms at priority 100). Late: the peers' timer threads
/// on a loaded 2-core machine. keepvip's own takeovers use `Tolerance::takeover`.
const PEER_EARLY: Duration = Duration::from_millis(20);
const PEER_LATE: Duration = Duration::from_millis(150);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Keepalived,
    Frr,
}

/// The other implementation, on one host.
enum Peer {
    Keepalived(Keepalived),
    Frr(Frr),
}

impl Peer {
    fn start(kind: Kind, lab: &Lab, index: usize, priority: u8) -> Self {
        match kind {
            Kind::Keepalived => {
                let spec = KeepalivedSpec::v3(priority, &[VIP_CIDR]);
                let label = format!("ka{index}");
                Self::Keepalived(
                    Keepalived::start(lab, index, &label, &spec)
                        .unwrap_or_else(|err| panic!("keepalived {label} did not start: {err}")),
                )
            }
            Kind::Frr => {
                let spec = FrrSpec::v3_ipv6(priority, &[VIP_CIDR]);
                let label = format!("frr{index}");
                Self::Frr(
                    Frr::start(lab, index, &label, &spec)
                        .unwrap_or_else(|err| panic!("FRR {label} did not start: {err}")),
                )
            }
        }
    }

    /// Where its adverts come from: keepalived uses the interface's link-local address, FRR the
    /// macvlan's.
    fn source(&self, lab: &Lab, index: usize) -> IpAddr {
        match self {
            Self::Keepalived(_) => IpAddr::V6(lab.host(index).link_local.unwrap()),
            Self::Frr(frr) => IpAddr::V6(frr.link_local().unwrap()),
        }
    }

    fn times_master(&self) -> usize {
        match self {
            Self::Keepalived(ka) => ka.log_count(&entering(MASTER)),
            Self::Frr(frr) => frr.times_entered("Master"),
        }
    }

    fn wait_state(&self, master: bool, timeout: Duration) {
        let waited = match (self, master) {
            (Self::Keepalived(ka), true) => ka.wait_log(&entering(MASTER), 1, timeout),
            (Self::Keepalived(ka), false) => ka.wait_log(&entering(BACKUP), 1, timeout),
            (Self::Frr(frr), true) => frr.wait_entered("Master", 1, timeout),
            (Self::Frr(frr), false) => frr.wait_log("[IPv6] Initialize -> Backup", 1, timeout),
        };
        waited.unwrap_or_else(|err| panic!("{err}"));
    }

    /// Whether its host serves the VIP: on `eth0` (keepalived), on the macvlan out of protodown (FRR).
    fn serves_vip(&self, lab: &Lab, index: usize) -> bool {
        match self {
            Self::Keepalived(_) => has_vip(lab, index, IpAddr::V6(VIP)),
            Self::Frr(frr) => frr.serves(IpAddr::V6(VIP)).unwrap(),
        }
    }

    fn kill(&self) {
        match self {
            Self::Keepalived(ka) => ka.kill().unwrap(),
            Self::Frr(frr) => frr.kill().unwrap(),
        }
    }

    fn logs(&self) -> String {
        match self {
            Self::Keepalived(ka) => ka.logs(),
            Self::Frr(frr) => frr.logs(),
        }
    }
}

/// Every advert in `all` parses as VRRPv3 over IPv6 to ff02::12 with hop limit 255, VRID 1, the
/// pseudo-header checksum and exactly the one configured VIP.
fn assert_one_address_adverts(all: &[Advert]) {
    for advert in all {
        assert_eq!(
            (advert.dst, advert.ttl),
            (IpAddr::V6(VRRP_IPV6_GROUP), 255),
            "{advert:?}"
        );
        let (repr, mode) = advert
            .parsed
            .as_ref()
            .unwrap_or_else(|err| panic!("vrrp-wire rejects {advert:?}: {err}"));
        assert_eq!(*mode, ChecksumMode::PseudoHeader, "{advert:?}");
        assert_eq!((repr.version, repr.vrid), (Version::V3, 1), "{advert:?}");
        assert_eq!(repr.addresses, Addresses::V6(vec![VIP]), "{advert:?}");
    }
}

/// keepvip taking over: its first advert one Master_Down_Interval after the master's last, within
/// `Tolerance::takeover`.
fn assert_keepvip_takeover(watch: &PauseWatch, takeover: &Takeover, kind: Kind) {
    let what = format!("ipv6_{kind:?}_sigkill_keepvip_takes_over").to_lowercase();
    takeover.assert_within(watch, &what, INTERVAL, master_down_interval(INTERVAL, LOW));
}

/// A peer taking over: its unsolicited NA for the VIP (the VIP moving) one Master_Down_Interval after
/// the master's last advert, within [-PEER_EARLY, +PEER_LATE]. Its first advert: keepalived's leaves
/// with the NA; FRR 8.4's first one is lost (vrrpd logs "Failed to find address to bind": protodown
/// had taken the macvlan's link-local address away and it is not back yet), so it comes one
/// Advertisement_Interval later.
fn assert_peer_takeover(watch: &PauseWatch, takeover: &Takeover, kind: Kind) {
    let expected = master_down_interval(INTERVAL, LOW);
    let what = format!("ipv6_{kind:?}_sigkill_peer_takes_over").to_lowercase();
    let trigger = takeover.trigger.timestamp;
    let na = unsolicited_nas(&takeover.frames, VIP)
        .into_iter()
        .find(|na| na.timestamp > trigger)
        .unwrap_or_else(|| panic!("no unsolicited NA for {VIP} after {trigger:?}"));
    let na_delay = na.timestamp - trigger;
    watch.measured(
        &what,
        Span::new(trigger, na.timestamp),
        expected + PEER_LATE,
    );
    let advert_expected = match kind {
        Kind::Keepalived => expected,
        Kind::Frr => expected + INTERVAL.duration(),
    };
    eprintln!(
        "MEASURE takeover kind={what} expected_us={} na_us={} na_error_us={} first_advert_us={} \
         first_advert_error_us={}",
        expected.as_micros(),
        na_delay.as_micros(),
        error_micros(expected, na_delay),
        takeover.delay.as_micros(),
        error_micros(advert_expected, takeover.delay)
    );
    let within = |measured: Duration, expected: Duration| {
        measured + PEER_EARLY >= expected && measured <= expected + PEER_LATE
    };
    assert!(
        within(na_delay, expected),
        "{kind:?}'s NA for the VIP came {na_delay:?} after the master's last advert, expected \
         {expected:?} within [-{PEER_EARLY:?}, +{PEER_LATE:?}]\nNA: {na:?}"
    );
    assert!(
        within(takeover.delay, advert_expected),
        "{kind:?}'s first advert came {:?} after the master's last, expected {advert_expected:?} \
         within [-{PEER_EARLY:?}, +{PEER_LATE:?}]\ntrigger: {:?}\nfirst: {:?}",
        takeover.delay,
        takeover.trigger,
        takeover.first
    );
}

/// keepvip on one host, `kind` on the other; the higher priority (200) on host 0, started first,
/// keepvip there when `keepvip_high`. See the module docs for what is checked.
fn mixed_pair(watch: &PauseWatch, kind: Kind, keepvip_high: bool) {
    let pair = Pair::start(watch, kind, keepvip_high);
    pair.assert_one_master();
    pair.kill_master_and_check_takeover(watch);
}

/// A running mixed pair and what the checks need to know about it.
struct Pair {
    kind: Kind,
    keepvip_high: bool,
    lab: Lab,
    capture: Capture,
    keepvip: Keepvip,
    peer: Peer,
    keepvip_index: usize,
    peer_index: usize,
    /// The advert sources: keepvip's and the peer's, as high and low.
    high_src: IpAddr,
    low_src: IpAddr,
    peer_src: IpAddr,
    /// When the lower-priority side was started.
    low_started: Duration,
}

impl Pair {
    /// Start the higher priority on host 0 and wait for it to be master, then the lower on host 1 and
    /// wait for it to be backup (keepvip as backup must have accepted three of the peer's adverts).
    fn start(watch: &PauseWatch, kind: Kind, keepvip_high: bool) -> Self {
        let name = format!("v6{kind:?}{}", if keepvip_high { "kvhi" } else { "kvlo" });
        let lab = Lab::builder(&name)
            .hosts(2)
            .ipv6(Ipv6Mode::NoDad)
            .build()
            .unwrap();
        let capture = lab.capture("vrrp6", &["ip6", "proto", "112", "or", "icmp6"]);
        let capture = capture.unwrap();
        watch.capture(&capture);
        let spec = |priority| InstanceSpec::new(priority, INTERVAL, &[VIP_CIDR]);
        let timeout = election_timeout(INTERVAL);
        let (keepvip_index, peer_index) = if keepvip_high { (0, 1) } else { (1, 0) };
        let (keepvip, peer, low_started);
        if keepvip_high {
            keepvip = start_keepvip(&lab, 0, 0, &spec(HIGH));
            expect_state(&keepvip, MASTER, timeout);
            low_started = wall_clock();
            peer = Peer::start(kind, &lab, 1, LOW);
            peer.wait_state(false, timeout);
        } else {
            peer = Peer::start(kind, &lab, 0, HIGH);
            peer.wait_state(true, timeout);
            low_started = wall_clock();
            keepvip = start_keepvip(&lab, 1, 0, &spec(LOW));
            expect_state(&keepvip, BACKUP, timeout);
            // keepvip accepts the peer's global-only adverts (no link-local address first).
            expect_adverts_received(&keepvip, 3, timeout);
        }
        let keepvip_src = IpAddr::V6(lab.host(keepvip_index).link_local.unwrap());
        let peer_src = peer.source(&lab, peer_index);
        let (high_src, low_src) = if keepvip_high {
            watch.master(&keepvip, keepvip_src, INTERVAL, LOW);
            (keepvip_src, peer_src)
        } else {
            (peer_src, keepvip_src)
        };
        Self {
            kind,
            keepvip_high,
            lab,
            capture,
            keepvip,
            peer,
            keepvip_index,
            peer_index,
            high_src,
            low_src,
            peer_src,
            low_started,
        }
    }

    /// Past the low side's Master_Down_Interval (plus three intervals): only the higher priority
    /// advertises, every advert carries the one VIP, each side is in the state it should be, and the
    /// VIP serves on the master's host only.
    fn assert_one_master(&self) {
        let settled = self.low_started + master_down_interval(INTERVAL, LOW);
        std::thread::sleep(master_down_interval(INTERVAL, LOW) + INTERVAL.duration() * 3);
        let all = adverts(&self.capture.frames().unwrap());
        assert_one_address_adverts(&all);
        let late: Vec<&Advert> = all.iter().filter(|a| a.timestamp > settled).collect();
        assert!(late.len() >= 3, "adverts after MDI: {late:?}");
        assert!(
            late.iter().all(|advert| advert.src == self.high_src),
            "one master on the wire after MDI ({}): {late:?}\npeer log:\n{}\n{}",
            self.high_src,
            self.peer.logs(),
            self.keepvip.describe()
        );
        let state = self.keepvip.instance("VI_1").unwrap();
        let peer_log = self.peer.logs();
        if self.keepvip_high {
            assert_eq!(self.peer.times_master(), 0, "peer log:\n{peer_log}");
            assert_eq!(state.state, MASTER, "{state:?}");
        } else {
            assert_eq!(state.state, BACKUP, "{state:?}");
            let master = self.peer_src.to_string();
            assert_eq!(state.master.as_deref(), Some(master.as_str()), "{state:?}");
            assert_eq!(self.peer.times_master(), 1, "peer log:\n{peer_log}");
        }
        let keepvip_serves = has_vip(&self.lab, self.keepvip_index, IpAddr::V6(VIP));
        let peer_serves = self.peer.serves_vip(&self.lab, self.peer_index);
        assert_eq!(
            (keepvip_serves, peer_serves),
            (self.keepvip_high, !self.keepvip_high),
            "the VIP on the master's host only (keepvip, peer)"
        );
    }

    /// SIGKILL the master; the backup takes over (see `assert_keepvip_takeover` and
    /// `assert_peer_takeover`) and serves the VIP; every advert still carries the one VIP.
    fn kill_master_and_check_takeover(self, watch: &PauseWatch) {
        let timeout = election_timeout(INTERVAL);
        watch.silencing(self.high_src);
        let killed_at = wall_clock();
        if self.keepvip_high {
            self.keepvip.kill().unwrap();
            self.peer.wait_state(true, timeout);
        } else {
            self.peer.kill();
            expect_state(&self.keepvip, MASTER, timeout);
        }
        let takeover = observe_takeover(
            &self.capture,
            self.high_src,
            self.low_src,
            killed_at,
            Duration::from_secs(8),
            |_| true,
            |frames| {
                let nas = unsolicited_nas(frames, VIP);
                nas.iter().any(|na| na.timestamp > killed_at)
            },
        );
        if self.keepvip_high {
            assert_peer_takeover(watch, &takeover, self.kind);
        } else {
            assert_keepvip_takeover(watch, &takeover, self.kind);
        }
        assert_eq!(takeover.first.priority, Some(LOW), "{:?}", takeover.first);
        let serves = || {
            if self.keepvip_high {
                self.peer.serves_vip(&self.lab, self.peer_index)
            } else {
                has_vip(&self.lab, self.keepvip_index, IpAddr::V6(VIP))
            }
        };
        let poll = Duration::from_millis(10);
        wait_for(
            "the VIP on the new master",
            Duration::from_secs(2),
            poll,
            serves,
        )
        .unwrap();
        let frames = self.capture.stop().unwrap();
        assert_one_address_adverts(&adverts(&frames));
    }
}

#[test]
fn ipv6_keepalived_master_keepvip_backup_one_master_and_sigkill_handover() {
    retry_on_machine_pause(
        "ipv6_keepalived_master_keepvip_backup_one_master_and_sigkill_handover",
        |watch| mixed_pair(watch, Kind::Keepalived, false),
    );
}

#[test]
fn ipv6_keepvip_master_keepalived_backup_one_master_and_sigkill_handover() {
    retry_on_machine_pause(
        "ipv6_keepvip_master_keepalived_backup_one_master_and_sigkill_handover",
        |watch| mixed_pair(watch, Kind::Keepalived, true),
    );
}

#[test]
fn ipv6_frr_master_keepvip_backup_one_master_and_sigkill_handover() {
    retry_on_machine_pause(
        "ipv6_frr_master_keepvip_backup_one_master_and_sigkill_handover",
        |watch| mixed_pair(watch, Kind::Frr, false),
    );
}

#[test]
fn ipv6_keepvip_master_frr_backup_one_master_and_sigkill_handover() {
    retry_on_machine_pause(
        "ipv6_keepvip_master_frr_backup_one_master_and_sigkill_handover",
        |watch| mixed_pair(watch, Kind::Frr, true),
    );
}

/// keepvip at 200 lists a link-local VIP (advertised first), the peer at 100 only the global VIP, for
/// one MDI and three intervals: the adverts carry two addresses, the peer expects one. Returns the
/// pair once measured.
fn link_local_on_keepvip_only(kind: Kind) -> (Lab, Keepvip, Peer) {
    let name = format!("v6ll{kind:?}");
    let lab = Lab::builder(&name)
        .hosts(2)
        .ipv6(Ipv6Mode::NoDad)
        .build()
        .unwrap();
    let vips = ["fe80::200:5eff:fe00:201/64", VIP_CIDR];
    let keepvip = start_keepvip(&lab, 0, 0, &InstanceSpec::new(HIGH, INTERVAL, &vips));
    expect_state(&keepvip, MASTER, election_timeout(INTERVAL));
    let peer = Peer::start(kind, &lab, 1, LOW);
    std::thread::sleep(master_down_interval(INTERVAL, LOW) + INTERVAL.duration() * 3);
    (lab, keepvip, peer)
}

/// Why keepvip adds no link-local VIP of its own: keepalived 2.2.7 discards every advert whose address
/// count differs from its own list ("received an unexpected ip number count 2, expected 1") and so
/// takes over after its Master_Down_Interval although keepvip's priority is higher: two masters.
/// (keepalived itself only warns about a list without a link-local address first.)
#[test]
fn ipv6_keepalived_discards_an_address_count_unlike_its_own_and_becomes_a_second_master() {
    let (_lab, keepvip, peer) = link_local_on_keepvip_only(Kind::Keepalived);
    let logs = peer.logs();
    assert!(
        peer_log_count(
            &peer,
            "received an unexpected ip number count 2, expected 1"
        ) >= 3,
        "{logs}"
    );
    assert!(
        peer_log_count(&peer, "the first IPv6 VIP address should be link local") == 1,
        "{logs}"
    );
    assert_eq!(peer.times_master(), 1, "{logs}");
    assert_eq!(keepvip.instance("VI_1").unwrap().state, MASTER);
}

/// FRR 8.4 logs a count unlike its own ("Datagram has 2 addresses, but this VRRP instance has 1")
/// and still accepts the advert: it stays backup.
#[test]
fn ipv6_frr_logs_an_address_count_unlike_its_own_and_stays_backup() {
    let (_lab, keepvip, peer) = link_local_on_keepvip_only(Kind::Frr);
    let logs = peer.logs();
    assert!(
        peer_log_count(
            &peer,
            "Datagram has 2 addresses, but this VRRP instance has 1"
        ) >= 3,
        "{logs}"
    );
    assert_eq!(peer.times_master(), 0, "{logs}");
    assert_eq!(keepvip.instance("VI_1").unwrap().state, MASTER);
}

fn peer_log_count(peer: &Peer, text: &str) -> usize {
    match peer {
        Peer::Keepalived(ka) => ka.log_count(text),
        Peer::Frr(frr) => frr.log_count(text),
    }
}
