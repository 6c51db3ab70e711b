//! Bounded polling: every wait in a root test has a deadline and says what it waited for.

use std::time::{Duration, Instant};

use crate::error::{HarnessError, Result};

/// Poll `condition` every `poll` until it returns true; the time it took, or an error naming `what`
/// once `timeout` has passed.
pub fn wait_for(
    what: &str,
    timeout: Duration,
    poll: Duration,
    mut condition: impl FnMut() -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    loop {
        if condition() {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return Err(HarnessError::new(format!(
                "timed out after {timeout:?} waiting for {what}"
            )));
        }
        std::thread::sleep(poll);
    }
}

/// Like `wait_for`, for conditions that can fail: the first `Some` value, or the timeout error with the
/// last error seen, if any.
pub fn wait_for_value<T>(
    what: &str,
    timeout: Duration,
    poll: Duration,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<(T, Duration)> {
    let start = Instant::now();
    let mut last_error = None;
    loop {
        match probe() {
            Ok(Some(value)) => return Ok((value, start.elapsed())),
            Ok(None) => {}
            Err(err) => last_error = Some(err),
        }
        if start.elapsed() >= timeout {
            let cause = last_error
                .map(|err| format!(" (last error: {err})"))
                .unwrap_or_default();
            return Err(HarnessError::new(format!(
                "timed out after {timeout:?} waiting for {what}{cause}"
            )));
        }
        std::thread::sleep(poll);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_for_returns_elapsed_time_once_true() {
        let mut calls = 0;
        let took = wait_for(
            "third call",
            Duration::from_secs(1),
            Duration::from_millis(1),
            || {
                calls += 1;
                calls == 3
            },
        )
        .unwrap();
        assert_eq!(calls, 3);
        assert!(took < Duration::from_secs(1));
    }

    #[test]
    fn wait_for_times_out_with_context() {
        let err = wait_for(
            "never",
            Duration::from_millis(20),
            Duration::from_millis(5),
            || false,
        )
        .unwrap_err();
        assert!(err.to_string().contains("waiting for never"), "{err}");
    }

    #[test]
    fn wait_for_value_reports_last_error() {
        let err = wait_for_value::<()>(
            "value",
            Duration::from_millis(20),
            Duration::from_millis(5),
            || Err(HarnessError::new("boom")),
        )
        .unwrap_err();
        assert!(err.to_string().contains("last error: boom"), "{err}");
    }
}
