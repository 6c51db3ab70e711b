//! RFC 5798 timer arithmetic for the expectations, the tolerances the end-to-end tests allow, and small
//! statistics for the figures they print.

use std::time::Duration;

/// An advertisement interval: VRRPv3 carries centiseconds, so configs use 10 ms steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Interval(Duration);

impl Interval {
    /// Panics (a test bug) unless `millis` is a whole number of centiseconds in 10..=40950.
    pub const fn from_millis(millis: u64) -> Self {
        assert!(millis.is_multiple_of(10) && millis >= 10 && millis <= 40_950);
        Self(Duration::from_millis(millis))
    }

    pub fn as_millis(self) -> u128 {
        self.0.as_millis()
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

/// RFC 5798 §6.1: Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256, to the nanosecond
/// (docs/protocol.md §Timers: never truncated to centiseconds).
pub fn skew_time(interval: Interval, priority: u8) -> Duration {
    let nanos = interval.0.as_nanos() * (256 - u128::from(priority)) / 256;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// RFC 5798 §6.1: Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time.
pub fn master_down_interval(interval: Interval, priority: u8) -> Duration {
    interval.0 * 3 + skew_time(interval, priority)
}

/// How far a measured delay may fall from the RFC's figure: `early` before it, `late` after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tolerance {
    pub early: Duration,
    pub late: Duration,
}

impl Tolerance {
    /// The takeover tolerance for a backup whose timer runs `interval`-scaled (MDI or Skew_Time),
    /// measured from kernel capture timestamps. Early: the timer starts when the backup *receives* the
    /// master's last advert, a few microseconds after the observer stamps it, so a real daemon is never
    /// early; the allowance covers the capture clock (CLOCK_REALTIME, which NTP may slew by up to
    /// 0.05%: 1.8 ms over a 3.6 s MDI). Late: tokio's millisecond timer wheel (up to ~1.5 ms), a debug
    /// build, and scheduling on a loaded 2-core machine; none of it grows with the interval, so the
    /// 1 s allowance is only twice the 10 ms one. 10 ms: [-1 ms, +25 ms]; 1 s: [-5 ms, +50 ms]; other
    /// intervals interpolate linearly. Measured (5 runs, 2 of them with both cores kept busy): errors
    /// of +0.5..+9.0 ms at 10 ms and +1.0..+6.0 ms at 1 s.
    pub fn takeover(interval: Interval) -> Self {
        let interval = interval.0;
        let beyond_10ms = interval.saturating_sub(Duration::from_millis(10));
        Self {
            early: Duration::from_millis(1).max(interval / 200),
            late: Duration::from_millis(25) + beyond_10ms * 25 / 990,
        }
    }

    /// Whether `measured` lies in [expected - early, expected + late].
    pub fn admits(&self, expected: Duration, measured: Duration) -> bool {
        measured + self.early >= expected && measured <= expected + self.late
    }
}

/// `measured - expected` in signed microseconds (the figures the tests print).
pub fn error_micros(expected: Duration, measured: Duration) -> i64 {
    let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    micros(measured) - micros(expected)
}

/// (min, median, max) of `values`; `None` when empty.
pub fn min_median_max(values: &[i64]) -> Option<(i64, i64, i64)> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    Some((
        *sorted.first()?,
        *sorted.get(sorted.len() / 2)?,
        *sorted.last()?,
    ))
}

/// The mean gap between consecutive `timestamps` (sorted); `None` for fewer than two.
pub fn mean_spacing(timestamps: &[Duration]) -> Option<Duration> {
    let (first, last) = (timestamps.first()?, timestamps.last()?);
    let gaps = u32::try_from(timestamps.len().checked_sub(1)?).ok()?;
    if gaps == 0 {
        return None;
    }
    Some(last.saturating_sub(*first) / gaps)
}

/// The gaps between consecutive `timestamps` (sorted).
pub fn gaps(timestamps: &[Duration]) -> Vec<Duration> {
    timestamps
        .windows(2)
        .map(|pair| pair[1].saturating_sub(pair[0]))
        .collect()
}

/// The mean gap between consecutive `timestamps` once the largest `1/trim_divisor` of the gaps (rounded
/// down) are left out: a machine that stalls a process for tens of milliseconds now and then (page
/// faults, hypervisor steal) must not decide a test of the steady rate; a systematic drift still shows
/// in every remaining gap. `None` when no gap remains.
pub fn trimmed_mean_spacing(timestamps: &[Duration], trim_divisor: usize) -> Option<Duration> {
    let mut sorted = gaps(timestamps);
    sorted.sort_unstable();
    let keep = sorted.len() - sorted.len() / trim_divisor.max(1);
    let kept = sorted.get(..keep)?;
    let count = u32::try_from(kept.len()).ok().filter(|n| *n > 0)?;
    Some(kept.iter().sum::<Duration>() / count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_timers_match_protocol_md() {
        // docs/protocol.md §Timers: defaults 100 cs and priority 100 give MDI = 3.609375 s; at 10 ms,
        // 36.09 ms.
        let second = Interval::from_millis(1000);
        assert_eq!(
            master_down_interval(second, 100),
            Duration::from_micros(3_609_375)
        );
        assert_eq!(
            master_down_interval(Interval::from_millis(10), 100),
            Duration::from_nanos(36_093_750)
        );
        assert_eq!(skew_time(second, 200), Duration::from_micros(218_750));
    }

    #[test]
    fn takeover_tolerance_is_the_stated_one_at_10ms_and_1s() {
        let fast = Tolerance::takeover(Interval::from_millis(10));
        assert_eq!(
            (fast.early, fast.late),
            (Duration::from_millis(1), Duration::from_millis(25))
        );
        let slow = Tolerance::takeover(Interval::from_millis(1000));
        assert_eq!(
            (slow.early, slow.late),
            (Duration::from_millis(5), Duration::from_millis(50))
        );
        let expected = Duration::from_millis(36);
        assert!(fast.admits(expected, Duration::from_millis(35)));
        assert!(!fast.admits(expected, Duration::from_micros(34_900)));
        assert!(fast.admits(expected, Duration::from_millis(61)));
        assert!(!fast.admits(expected, Duration::from_micros(61_100)));
    }

    #[test]
    fn statistics() {
        assert_eq!(min_median_max(&[5, -1, 3]), Some((-1, 3, 5)));
        assert_eq!(min_median_max(&[]), None);
        let stamps = [0, 10, 21, 30].map(Duration::from_millis);
        assert_eq!(mean_spacing(&stamps), Some(Duration::from_millis(10)));
        assert_eq!(mean_spacing(&stamps[..1]), None);
        // 21 gaps of 10 ms and one stall of 80 ms: trimming 1/20 drops the stall.
        let mut train: Vec<Duration> = (0..22).map(|i| Duration::from_millis(10 * i)).collect();
        train.push(Duration::from_millis(290));
        assert_eq!(
            trimmed_mean_spacing(&train, 20),
            Some(Duration::from_millis(10))
        );
        assert_eq!(trimmed_mean_spacing(&stamps[..1], 20), None);
    }
}
