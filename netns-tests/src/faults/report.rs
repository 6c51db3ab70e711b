//! What happened in a cell's window, for a failure message or a soak's violation report: the holder
//! changes and the runs of failed requests, in milliseconds from the window's start.

use std::fmt::Write as _;

use super::probe::Request;
use super::timeline::Timeline;
use crate::daemon::pause::Span;

fn offset(window: Span, at: std::time::Duration) -> f64 {
    at.as_secs_f64() * 1000.0 - window.start.as_secs_f64() * 1000.0
}

/// The holder changes and failed-request runs inside `window`.
pub fn explain(window: Span, timeline: &Timeline, requests: &[Request]) -> String {
    let mut out = format!(
        "window of {:.1} ms; sampler: {} samples, longest gap {:.1} ms\nholders (ms from the start):",
        window.length().as_secs_f64() * 1000.0,
        timeline.samples,
        timeline.longest_sample_gap.as_secs_f64() * 1000.0
    );
    let before = timeline.holders_at(window.start);
    let _ = write!(out, " start {:?}", before.routers());
    for (at, holders) in timeline.changes() {
        if *at > window.start && *at < window.end {
            let _ = write!(out, ", +{:.1} {:?}", offset(window, *at), holders.routers());
        }
    }
    out.push_str("\nfailed requests:");
    let mut run: Option<(std::time::Duration, usize)> = None;
    let in_window = requests
        .iter()
        .filter(|request| window.start <= request.sent_at && request.sent_at < window.end);
    for request in in_window {
        match (request.succeeded(), run) {
            (false, None) => run = Some((request.sent_at, 1)),
            (false, Some((since, count))) => run = Some((since, count + 1)),
            (true, Some((since, count))) => {
                let _ = write!(out, " +{:.1} x{count};", offset(window, since));
                run = None;
            }
            (true, None) => {}
        }
    }
    if let Some((since, count)) = run {
        let _ = write!(out, " +{:.1} x{count} (to the end);", offset(window, since));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::faults::timeline::Holders;

    #[test]
    fn changes_and_failure_runs_are_listed_from_the_window_start() {
        let ms = Duration::from_millis;
        let mut timeline = Timeline::new(2, ms(0), Holders::NONE.with(0));
        timeline.record(ms(1010), Holders::NONE.with(1));
        let requests: Vec<Request> = [1000, 1010, 1020, 1030]
            .iter()
            .map(|&sent| Request {
                sent_at: ms(sent),
                answer: (sent != 1010 && sent != 1020).then_some((0, ms(sent + 1))),
            })
            .collect();
        let text = explain(Span::new(ms(1000), ms(2000)), &timeline, &requests);
        assert!(text.contains("start [0], +10.0 [1]"), "{text}");
        assert!(text.contains("failed requests: +10.0 x2;"), "{text}");
    }
}
