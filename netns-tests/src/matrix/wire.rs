//! Reading a matrix pair's capture: who advertises as master when, handovers, announcements, and the
//! stretches where both sides advertised as master.

use std::net::IpAddr;
use std::time::Duration;

use vrrp_wire::{Addresses, Auth, ChecksumMode, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP, Version};

use super::Mode;

use crate::daemon::pause::Span;
use crate::daemon::wire::{Advert, gratuitous_arps, unsolicited_nas};
use crate::pcap::Frame;

/// A master's advert: multicast to the VRRP group with a priority above 0. (A keepvip master that
/// yields sends one unicast advert to the winner: not an advert of a master.)
pub fn is_master_advert(advert: &Advert) -> bool {
    let group =
        advert.dst == IpAddr::V4(VRRP_IPV4_GROUP) || advert.dst == IpAddr::V6(VRRP_IPV6_GROUP);
    group && advert.priority.is_some_and(|priority| priority > 0)
}

/// Every advert on the wire has the mode's form: it parses (a valid checksum, in `checksum(src)`'s
/// form), hop limit 255, the mode's version, VRID 1, interval and authentication, and exactly the
/// one VIP.
pub fn check_advert_form(
    all: &[Advert],
    mode: Mode,
    checksum: impl Fn(IpAddr) -> ChecksumMode,
) -> Result<(), String> {
    let version = if mode.version() == 2 {
        Version::V2
    } else {
        Version::V3
    };
    let auth = match mode.auth_pass() {
        Some(pass) => {
            let mut bytes = [0u8; 8];
            bytes[..pass.len()].copy_from_slice(pass.as_bytes());
            Auth::SimplePassword(bytes)
        }
        None => Auth::None,
    };
    let addresses = match mode.vip() {
        IpAddr::V4(v4) => Addresses::V4(vec![v4]),
        IpAddr::V6(v6) => Addresses::V6(vec![v6]),
    };
    let interval_us = u64::try_from(mode.interval().duration().as_micros()).unwrap_or(u64::MAX);
    for advert in all {
        let Ok((repr, form)) = &advert.parsed else {
            return Err(format!("vrrp-wire rejects {advert:?}"));
        };
        let expected = (
            255,
            version,
            1,
            interval_us,
            &auth,
            &addresses,
            checksum(advert.src),
        );
        let got = (
            advert.ttl,
            repr.version,
            repr.vrid,
            repr.max_adver_int.as_micros(),
            &repr.auth,
            &repr.addresses,
            *form,
        );
        if got != expected {
            return Err(format!("expected {expected:?}, got {got:?} in {advert:?}"));
        }
    }
    Ok(())
}

/// The source of the first advert carrying `priority`.
pub fn source_with_priority(all: &[Advert], priority: u8) -> Option<IpAddr> {
    all.iter()
        .find(|advert| advert.priority == Some(priority))
        .map(|advert| advert.src)
}

/// `src`'s master adverts stamped after `after`, in order.
pub fn master_adverts_after(all: &[Advert], src: IpAddr, after: Duration) -> Vec<&Advert> {
    all.iter()
        .filter(|a| a.src == src && a.timestamp > after && is_master_advert(a))
        .collect()
}

/// `src`'s last master advert stamped before `before`.
pub fn last_master_advert_before(all: &[Advert], src: IpAddr, before: Duration) -> Option<&Advert> {
    all.iter()
        .rev()
        .find(|a| a.src == src && a.timestamp < before && is_master_advert(a))
}

/// `src`'s first priority-0 advert (a resignation) stamped after `after`.
pub fn resignation_after(all: &[Advert], src: IpAddr, after: Duration) -> Option<&Advert> {
    all.iter()
        .find(|a| a.src == src && a.timestamp > after && a.priority == Some(0))
}

/// The times of the announcements for `vip` (gratuitous ARPs, unsolicited NAs) after `after`.
pub fn announcements_after(frames: &[Frame], vip: IpAddr, after: Duration) -> Vec<Duration> {
    let stamps: Vec<Duration> = match vip {
        IpAddr::V4(v4) => gratuitous_arps(frames, v4)
            .iter()
            .map(|arp| arp.timestamp)
            .collect(),
        IpAddr::V6(v6) => unsolicited_nas(frames, v6)
            .iter()
            .map(|na| na.timestamp)
            .collect(),
    };
    stamps.into_iter().filter(|at| *at > after).collect()
}

/// A handover seen on the wire: from `trigger` (the old master's last advert, or its priority-0
/// one) to the new master's first advert and first announcement of the VIP.
#[derive(Debug, Clone)]
pub struct Handover {
    pub trigger: Advert,
    pub first: Advert,
    pub announce: Option<Duration>,
}

impl Handover {
    /// Trigger to the new master's first advert.
    pub fn advert_delay(&self) -> Duration {
        self.first.timestamp.saturating_sub(self.trigger.timestamp)
    }

    /// Trigger to the new master's first sign of life as master: its first advert or its first
    /// announcement of the VIP, whichever came first.
    pub fn delay(&self) -> Duration {
        let first = self
            .announce
            .map_or(self.first.timestamp, |at| at.min(self.first.timestamp));
        first.saturating_sub(self.trigger.timestamp)
    }

    pub fn span(&self) -> Span {
        Span::new(
            self.trigger.timestamp,
            self.trigger.timestamp + self.delay(),
        )
    }
}

/// The stretches during which `src` advertised as master: runs of master adverts no further apart
/// than `gap` (a master silent longer than a backup's Master_Down_Interval is no master).
pub fn master_spans(all: &[Advert], src: IpAddr, gap: Duration) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for advert in all.iter().filter(|a| a.src == src && is_master_advert(a)) {
        match spans.last_mut() {
            Some(span) if advert.timestamp.saturating_sub(span.end) <= gap => {
                span.end = advert.timestamp;
            }
            _ => spans.push(Span::new(advert.timestamp, advert.timestamp)),
        }
    }
    spans
}

/// Where `a` and `b` both advertised as master: the overlaps of their master spans.
pub fn double_master_spans(all: &[Advert], a: IpAddr, b: IpAddr, gap: Duration) -> Vec<Span> {
    let (ours, theirs) = (master_spans(all, a, gap), master_spans(all, b, gap));
    let mut both = Vec::new();
    for x in &ours {
        for y in &theirs {
            let (start, end) = (x.start.max(y.start), x.end.min(y.end));
            if start <= end {
                both.push(Span::new(start, end));
            }
        }
    }
    both
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use vrrp_wire::WireError;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn advert(src: IpAddr, ms: u64, priority: u8) -> Advert {
        Advert {
            timestamp: Duration::from_millis(ms),
            eth_src: [0; 6],
            src,
            dst: IpAddr::V4(VRRP_IPV4_GROUP),
            ttl: 255,
            vrid: Some(1),
            priority: Some(priority),
            parsed: Err(WireError::Truncated { len: 0 }),
            payload: Vec::new(),
        }
    }

    #[test]
    fn spans_break_at_a_silence_and_overlaps_are_found() {
        // A every 100 ms to 500, silent, again from 1200; B from 900 to 1300.
        let mut all: Vec<Advert> = (0..=5).map(|i| advert(A, i * 100, 200)).collect();
        all.extend((9..=13).map(|i| advert(B, i * 100, 100)));
        all.extend((12..=15).map(|i| advert(A, i * 100, 200)));
        all.push(advert(A, 1600, 0));
        all.sort_by_key(|a| a.timestamp);
        let gap = Duration::from_millis(360);
        let spans = master_spans(&all, A, gap);
        let ms = Duration::from_millis;
        assert_eq!(
            spans,
            [Span::new(ms(0), ms(500)), Span::new(ms(1200), ms(1500))]
        );
        assert_eq!(
            double_master_spans(&all, A, B, gap),
            [Span::new(ms(1200), ms(1300))]
        );
        assert_eq!(
            resignation_after(&all, A, ms(0)).map(|a| a.timestamp),
            Some(ms(1600))
        );
        assert_eq!(source_with_priority(&all, 100), Some(B));
        assert_eq!(
            last_master_advert_before(&all, A, ms(1000)).map(|a| a.timestamp),
            Some(ms(500))
        );
    }
}
