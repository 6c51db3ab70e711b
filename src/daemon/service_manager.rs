//! systemd's notify protocol (`Type=notify`): READY=1 once the instances are built and the loop
//! runs, STOPPING=1 when shutdown begins, and WATCHDOG=1 from the protocol loop itself at half of
//! `WatchdogSec`, so a loop that stalls stops pinging and systemd restarts the service. Outside
//! systemd (no `$NOTIFY_SOCKET`, no `$WATCHDOG_USEC`) every call does nothing.
//! A reload says RELOADING=1 with MONOTONIC_USEC (what `Type=notify-reload` requires, harmless for
//! `Type=notify`) and READY=1 when the new config is in force or refused.

use std::time::Duration;

use sd_notify::NotifyState;
use tracing::{debug, warn};

#[derive(Debug, Clone, Copy, Default)]
pub struct ServiceManager {
    /// How often the loop pings: half the watchdog timeout systemd gave us, if it gave one.
    ping_every: Option<Duration>,
}

impl ServiceManager {
    /// Reads `$WATCHDOG_USEC` / `$WATCHDOG_PID` (the environment stays, so the calls below keep
    /// working; scripts never inherit it: they run with a minimal environment).
    pub fn from_env() -> ServiceManager {
        let mut usec = 0;
        let ping_every = sd_notify::watchdog_enabled(false, &mut usec)
            .then(|| watchdog_ping_interval(usec))
            .flatten();
        if let Some(every) = ping_every {
            debug!(every_ms = every.as_millis(), "systemd watchdog: pinging");
        }
        ServiceManager { ping_every }
    }

    pub fn ready(&self) {
        send(&[NotifyState::Ready, NotifyState::Status("running")]);
    }

    /// A reload begins: RELOADING=1 with the CLOCK_MONOTONIC time, which systemd compares with the
    /// time it sent SIGHUP.
    pub fn reloading(&self) {
        let mut states = vec![NotifyState::Reloading, NotifyState::Status("reloading")];
        match NotifyState::monotonic_usec_now() {
            Ok(now) => states.push(now),
            Err(e) => warn!(error = %e, "cannot read CLOCK_MONOTONIC for systemd"),
        }
        send(&states);
    }

    /// The reload is over (applied or refused): READY=1 again.
    pub fn reloaded(&self) {
        self.ready();
    }

    pub fn stopping(&self) {
        send(&[NotifyState::Stopping]);
    }

    pub fn ping(&self) {
        if self.ping_every.is_some() {
            send(&[NotifyState::Watchdog]);
        }
    }

    /// Resolves at the next ping time; never when there is no watchdog.
    pub async fn next_ping(&self, ticker: &mut Option<tokio::time::Interval>) {
        match ticker {
            Some(ticker) => {
                ticker.tick().await;
            }
            None => std::future::pending().await,
        }
    }

    /// The loop's ticker: the first tick at once, then every `ping_every`; a late tick is not
    /// caught up in a burst (one ping proves the loop runs).
    pub fn ticker(&self) -> Option<tokio::time::Interval> {
        let mut ticker = tokio::time::interval(self.ping_every?);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Some(ticker)
    }
}

/// Half the watchdog timeout (systemd's own advice), never zero.
fn watchdog_ping_interval(usec: u64) -> Option<Duration> {
    (usec > 0).then(|| Duration::from_micros((usec / 2).max(1)))
}

fn send(states: &[NotifyState]) {
    // No $NOTIFY_SOCKET is Ok(()); a failure to reach systemd is worth a line, never fatal.
    if let Err(e) = sd_notify::notify(false, states) {
        warn!(error = %e, "cannot notify systemd");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_at_half_the_watchdog_timeout() {
        assert_eq!(
            watchdog_ping_interval(10_000_000),
            Some(Duration::from_secs(5))
        );
        assert_eq!(watchdog_ping_interval(1), Some(Duration::from_micros(1)));
        assert_eq!(watchdog_ping_interval(0), None);
    }
}
