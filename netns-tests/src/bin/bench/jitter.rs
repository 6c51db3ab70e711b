//! Advert interval jitter under CPU load: one master at 10 ms while the bench keeps every core busy
//! with spinning threads (bounded: they stop at the end of the window). Each gap between two
//! consecutive adverts on the wire, minus the interval, in absolute value.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netns_tests::daemon::wire::{adverts, wall_clock};
use netns_tests::{Lab, Result};

use crate::configs::Layout;
use crate::peers::{Kind, Peer};

const VRRP_ONLY: [&str; 3] = ["ip", "proto", "112"];

/// Busy threads, one per core, until `until` or until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(until: Instant) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let threads = (0..cores)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) && Instant::now() < until {
                        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005) + 1);
                    }
                })
            })
            .collect();
        Load { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The jitter of every advert gap of one master at `interval` over `window`, cores busy, in ms;
/// the daemon's protocol thread SCHED_RR at `rt_priority` when given.
pub fn measure(
    kind: Kind,
    bin: &Path,
    interval: Duration,
    window: Duration,
    rt_priority: Option<u8>,
) -> Result<Vec<f64>> {
    let lab = Lab::builder("benchjit").hosts(1).build()?;
    let capture = lab.capture("jitter", &VRRP_ONLY)?;
    let layout = Layout {
        rt_priority,
        ..Layout::single(interval)
    };
    let master = Peer::start(&lab, kind, bin, 0, "m", 200, &layout)?;
    // Master_Down_Interval, then it advertises.
    std::thread::sleep(interval * 4 + Duration::from_millis(500));
    let load = Load::start(Instant::now() + window + Duration::from_secs(1));
    let from = wall_clock();
    std::thread::sleep(window);
    let until = wall_clock();
    drop(load);
    drop(master);
    let mut stamps: Vec<Duration> = adverts(&capture.stop()?)
        .into_iter()
        .filter(|a| a.timestamp >= from && a.timestamp <= until && a.priority == Some(200))
        .map(|a| a.timestamp)
        .collect();
    stamps.sort_unstable();
    let interval_ms = interval.as_secs_f64() * 1000.0;
    Ok(stamps
        .windows(2)
        .map(|pair| (pair[1].saturating_sub(pair[0]).as_secs_f64() * 1000.0 - interval_ms).abs())
        .collect())
}
