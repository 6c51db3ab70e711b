//! Instructions per received advert on the backup, for both daemons: the backup runs under valgrind's
//! callgrind, which counts the instructions it executes (a count the machine's load does not change,
//! unlike CPU time; this VM has no hardware counters for `perf stat`). The count is zeroed once the
//! election settled and dumped after the window, then divided by the master's adverts on the wire in
//! that window. The zero and the dump each take effect within some milliseconds of the stamps taken
//! around them: a small error over a window of seconds.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use netns_tests::daemon::wire::{adverts, wall_clock};
use netns_tests::{HarnessError, Result};

use crate::configs::Layout;
use crate::load::lab_for;
use crate::peers::{Kind, Peer};

const MASTER: u8 = 200;
const BACKUP: u8 = 100;

/// `callgrind_control ACTION PID`, failing loudly.
fn callgrind_control(action: &str, pid: u32) -> Result<()> {
    let out = Command::new("callgrind_control")
        .args([action, &pid.to_string()])
        .output()
        .map_err(|e| HarnessError::new(format!("callgrind_control: {e}")))?;
    if !out.status.success() {
        return Err(HarnessError::new(format!(
            "callgrind_control {action} {pid}: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(())
}

/// The `totals:` (or `summary:`) instruction count of a callgrind dump.
fn total_instructions(dump: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(dump)
        .map_err(|e| HarnessError::new(format!("{}: {e}", dump.display())))?;
    text.lines()
        .find_map(|line| {
            let value = line
                .strip_prefix("totals:")
                .or(line.strip_prefix("summary:"))?;
            value.split_whitespace().next()?.parse().ok()
        })
        .ok_or_else(|| HarnessError::new(format!("{}: no totals line", dump.display())))
}

/// Runs `layout` with the backup under callgrind for `window`; instructions per received advert.
pub fn measure(kind: Kind, bin: &Path, layout: &Layout, window: Duration) -> Result<f64> {
    let (lab, captures) = lab_for(layout)?;
    let master = Peer::start(&lab, kind, bin, 0, "m", MASTER, layout)?;
    std::thread::sleep(layout.interval * 4 + Duration::from_millis(500));
    let out_file = lab.dir().join("b.callgrind.%p");
    let out_option = format!("--callgrind-out-file={}", out_file.display());
    let wrapper = ["valgrind", "--tool=callgrind", &out_option];
    let backup = Peer::start_under(&lab, kind, bin, (1, "b", BACKUP), layout, &wrapper)
        .map_err(|e| HarnessError::new(format!("backup under valgrind: {e}")))?;
    // Under callgrind the backup runs tens of times slower: more time to settle.
    std::thread::sleep(layout.interval * 10 + Duration::from_secs(5));
    callgrind_control("--zero", backup.protocol_pid)?;
    let from = wall_clock();
    std::thread::sleep(window);
    let until = wall_clock();
    callgrind_control("--dump", backup.protocol_pid)?;
    let mut received = 0usize;
    let mut from_backup = 0usize;
    for capture in &captures {
        for advert in adverts(&capture.stop()?) {
            if advert.timestamp < from || advert.timestamp > until {
                continue;
            }
            match advert.priority {
                Some(MASTER) => received += 1,
                Some(BACKUP) => from_backup += 1,
                _ => {}
            }
        }
    }
    if from_backup > 0 {
        eprintln!(
            "{}: the backup under callgrind sent {from_backup} adverts",
            kind.name()
        );
    }
    let dump = lab
        .dir()
        .join(format!("b.callgrind.{}.1", backup.protocol_pid));
    // callgrind_control returns once the command is delivered; the dump is written after.
    let (instructions, _) = netns_tests::wait_for_value(
        "the callgrind dump",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || Ok(total_instructions(&dump).ok()),
    )?;
    drop(master);
    if received == 0 {
        return Err(HarnessError::new(
            "no master advert on the wire in the window",
        ));
    }
    Ok(instructions as f64 / received as f64)
}
