//! Measuring a takeover on the wire: the delay between the advert a backup's timer started from and the
//! backup's first advert as master, against the RFC 5798 figure, from kernel capture timestamps.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use super::pause::Span;
use super::retry::PauseWatch;
use super::timing::{Interval, Tolerance, error_micros, min_median_max};
use super::wire::{Advert, adverts, first_advert_after, gratuitous_arps};
use crate::capture::Capture;
use crate::frames::{ArpFrame, Mac};
use crate::pcap::Frame;

/// One takeover as the observer saw it.
#[derive(Debug, Clone)]
pub struct Takeover {
    /// The advert the backup's timer was (re)started by: the old master's last, or its priority-0 one.
    pub trigger: Advert,
    /// The new master's first advert.
    pub first: Advert,
    /// `first - trigger`.
    pub delay: Duration,
    pub frames: Vec<Frame>,
}

impl Takeover {
    /// `delay - expected`, in microseconds.
    pub fn error_micros(&self, expected: Duration) -> i64 {
        error_micros(expected, self.delay)
    }

    /// The span from the trigger to the new master's first advert.
    pub fn span(&self) -> Span {
        Span::new(self.trigger.timestamp, self.first.timestamp)
    }

    /// Panics unless `delay` lies within `tolerance` of `expected`; prints a `MEASURE` line either way.
    /// `watch` learns the measurement, so a late one that a machine pause explains can be rerun.
    pub fn assert_within(
        &self,
        watch: &PauseWatch,
        what: &str,
        interval: Interval,
        expected: Duration,
    ) {
        let tolerance = Tolerance::takeover(interval);
        watch.measured(what, self.span(), expected + tolerance.late);
        eprintln!(
            "MEASURE takeover kind={what} interval_ms={} expected_us={} measured_us={} error_us={}",
            interval.as_millis(),
            expected.as_micros(),
            self.delay.as_micros(),
            self.error_micros(expected)
        );
        assert!(
            tolerance.admits(expected, self.delay),
            "{what}: the new master's first advert came {:?} after {:?}, expected {expected:?} \
             within [-{:?}, +{:?}]\ntrigger: {:?}\nfirst: {:?}",
            self.delay,
            self.trigger.timestamp,
            tolerance.early,
            tolerance.late,
            self.trigger,
            self.first
        );
    }

    /// The gratuitous ARPs for `vip` from `mac` sent after the trigger.
    pub fn garps(&self, vip: Ipv4Addr, mac: Mac) -> Vec<ArpFrame> {
        gratuitous_arps(&self.frames, vip)
            .into_iter()
            .filter(|arp| {
                arp.timestamp > self.trigger.timestamp
                    && arp.eth_src == mac
                    && arp.sender_mac == mac
            })
            .collect()
    }
}

/// Wait (bounded by `timeout`) until `new_master` has advertised after `since` and `extra(frames)`
/// holds; then the takeover from the last of `old_master`'s adverts before that first one that
/// `trigger` accepts (any advert for a silent master; the priority-0 one for a resigning master).
pub fn observe_takeover(
    capture: &Capture,
    old_master: IpAddr,
    new_master: IpAddr,
    since: Duration,
    timeout: Duration,
    trigger: impl Fn(&Advert) -> bool,
    extra: impl Fn(&[Frame]) -> bool,
) -> Takeover {
    let frames = capture
        .wait_for_frames("the new master's first advert", timeout, |frames| {
            first_advert_after(&adverts(frames), new_master, since).is_some() && extra(frames)
        })
        .unwrap_or_else(|err| panic!("{err}"));
    let all = adverts(&frames);
    let first = first_advert_after(&all, new_master, since)
        .cloned()
        .unwrap_or_else(|| panic!("no advert from {new_master} after {since:?}"));
    let trigger = all
        .iter()
        .rev()
        .filter(|advert| advert.src == old_master && advert.timestamp < first.timestamp)
        .find(|advert| trigger(advert))
        .cloned()
        .unwrap_or_else(|| panic!("no matching advert from {old_master} before {first:?}"));
    Takeover {
        delay: first.timestamp.saturating_sub(trigger.timestamp),
        trigger,
        first,
        frames,
    }
}

/// Print `MEASURE summary` for a list of errors (µs).
pub fn print_summary(what: &str, interval: Interval, errors: &[i64]) {
    if let Some((min, median, max)) = min_median_max(errors) {
        eprintln!(
            "MEASURE summary kind={what} interval_ms={} n={} min_us={min} median_us={median} max_us={max}",
            interval.as_millis(),
            errors.len()
        );
    }
}
