//! The stall witness: a thread of the test process that sleeps 1 ms at a time and writes down every
//! wake-up that came much later than asked, as a span of wall-clock time. It shares nothing with
//! keepvip but the machine, so when it and a keepvip daemon fall silent at the same time, the machine
//! stopped (pause.rs).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::pause::Span;
use super::wire::wall_clock;

const NAP: Duration = Duration::from_millis(1);
/// Wake-ups later than this are recorded. Far below any stall that matters (tens of ms), far above
/// the normal oversleep of a 1 ms nap (~0.1 ms).
const RECORD_OVER: Duration = Duration::from_millis(5);
/// Memory bound: beyond this many stalls the oldest are kept and the rest dropped.
const MAX_RECORDED: usize = 100_000;

/// A running witness; stops (joins its thread) when dropped.
pub struct StallWitness {
    stop: Arc<AtomicBool>,
    stalls: Arc<Mutex<Vec<Span>>>,
    thread: Option<JoinHandle<()>>,
}

impl StallWitness {
    /// Start the thread. If it cannot be started, the witness records nothing, so no stall is ever
    /// claimed (the conservative side); a line on stderr says so.
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stalls = Arc::new(Mutex::new(Vec::new()));
        let thread = std::thread::Builder::new()
            .name("stall-witness".into())
            .spawn({
                let stop = Arc::clone(&stop);
                let stalls = Arc::clone(&stalls);
                move || watch(&stop, &stalls)
            })
            .map_err(|err| eprintln!("stall witness not started ({err}): no pause can be shown"))
            .ok();
        Self {
            stop,
            stalls,
            thread,
        }
    }

    /// Every stall recorded so far, oldest first.
    pub fn stalls(&self) -> Vec<Span> {
        self.stalls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

fn watch(stop: &AtomicBool, stalls: &Mutex<Vec<Span>>) {
    let mut last = wall_clock();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(NAP);
        let now = wall_clock();
        if now.saturating_sub(last) > RECORD_OVER {
            note(
                &mut stalls
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                last,
                now,
            );
        }
        last = now;
    }
}

/// Record the wake-up at `now` after the one at `last` if it came too late, within the memory bound.
fn note(stalls: &mut Vec<Span>, last: Duration, now: Duration) {
    if now.saturating_sub(last) > RECORD_OVER && stalls.len() < MAX_RECORDED {
        stalls.push(Span::new(last, now));
    }
}

impl Drop for StallWitness {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_late_wake_ups_are_recorded_and_memory_is_bounded() {
        let ms = Duration::from_millis;
        let mut stalls = Vec::new();
        note(&mut stalls, ms(100), ms(101));
        note(&mut stalls, ms(101), ms(106));
        assert!(stalls.is_empty(), "{stalls:?}");
        note(&mut stalls, ms(106), ms(150));
        assert_eq!(stalls, vec![Span::new(ms(106), ms(150))]);
        stalls.resize(MAX_RECORDED, Span::new(ms(0), ms(10)));
        note(&mut stalls, ms(200), ms(300));
        assert_eq!(stalls.len(), MAX_RECORDED);
    }

    #[test]
    fn the_thread_runs_and_stops_when_dropped() {
        let witness = StallWitness::start();
        assert!(witness.thread.is_some());
        std::thread::sleep(Duration::from_millis(20));
        assert!(witness.stalls().iter().all(|stall| stall.end > stall.start));
        drop(witness);
    }
}
