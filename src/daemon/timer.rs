//! The protocol loop's timer: one timerfd on CLOCK_MONOTONIC, armed at the core's next deadline with
//! TFD_TIMER_ABSTIME and waited on through tokio's `AsyncFd`. tokio's own timers tick in whole
//! milliseconds and round every deadline up, so a Master_Down_Interval or an advert would leave up to
//! 1 ms late; a timerfd is a kernel hrtimer and wakes within microseconds of the instant asked (it
//! takes no timer slack). Absolute, so a loop that arms late never shifts the deadline.

use std::io;
use std::os::fd::AsFd;

use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;

use crate::net::sys::{Timer, register_timer};

use super::clock::Clock;

pub struct DeadlineTimer {
    fd: AsyncFd<Timer>,
    clock: Clock,
    /// The deadline the timerfd is armed for, until it fires.
    armed: Option<vrrp_core::Instant>,
}

impl DeadlineTimer {
    pub fn new(clock: Clock) -> io::Result<DeadlineTimer> {
        let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
        let fd = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags).map_err(io::Error::from)?;
        Ok(DeadlineTimer {
            fd: register_timer(fd)?,
            clock,
            armed: None,
        })
    }

    /// Returns at `deadline` (never when `None`), or earlier: a deadline that moved later keeps the
    /// earlier one armed (one spurious wake-up, where the loop finds nothing due, instead of a
    /// timerfd_settime per received advert: a backup's earliest deadline moves with every advert).
    /// Cancel-safe: dropped before it fires, the timerfd stays armed.
    pub async fn sleep_until(&mut self, deadline: Option<vrrp_core::Instant>) {
        if let Some(at) = deadline
            && self.armed.is_none_or(|armed| at < armed)
            && !self.arm(at)
        {
            // The timerfd refused (it never should): tokio's coarser timer still fires.
            return tokio::time::sleep_until(self.clock.to_tokio(at)).await;
        }
        if self.armed.is_none() {
            return std::future::pending().await;
        }
        loop {
            let Ok(mut ready) = self.fd.readable().await else {
                self.armed = None;
                return;
            };
            // The expiration count (8 bytes); EAGAIN means the readiness was stale.
            let read = ready.try_io(|fd| {
                nix::unistd::read(fd.get_ref().0.as_fd(), &mut [0u8; 8]).map_err(io::Error::from)
            });
            if let Ok(result) = read {
                if let Err(e) = result {
                    tracing::warn!(error = %e, "timerfd read failed");
                }
                self.armed = None;
                return;
            }
        }
    }

    /// Arms the timerfd at `at`, in CLOCK_MONOTONIC's own time (a past instant fires at once).
    fn arm(&mut self, at: vrrp_core::Instant) -> bool {
        let absolute = TimeSpec::from_duration(self.clock.monotonic(at));
        let set = self.fd.get_ref().0.set(
            Expiration::OneShot(absolute),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME,
        );
        match set {
            Ok(()) => {
                self.armed = Some(at);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "timerfd not armed: falling back to tokio's timer");
                self.armed = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrrp_core::Micros;

    #[test]
    fn wakes_at_the_deadline_never_before_and_an_earlier_deadline_rearms() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let clock = Clock::start();
            let mut timer = DeadlineTimer::new(clock).unwrap();
            let at = clock.now() + Micros::from_micros(3_000);
            timer.sleep_until(Some(at)).await;
            assert!(clock.now() >= at);
            // Dropped before it fires (cancel-safe), then asked for an earlier deadline.
            let far = clock.now() + Micros::from_micros(10_000_000);
            let waited = tokio::time::timeout(
                std::time::Duration::from_millis(2),
                timer.sleep_until(Some(far)),
            )
            .await;
            assert!(waited.is_err(), "returned long before its deadline");
            let near = clock.now() + Micros::from_micros(2_000);
            timer.sleep_until(Some(near)).await;
            let woke = clock.now();
            assert!(woke >= near && woke < far, "{woke:?}");
        });
    }
}
