//! Real-time scheduling for the soak's own measuring threads (the holder sampler, the probe's client
//! and responders, the advert watcher): on a loaded machine a measuring thread that waits for a CPU
//! would report a stall of its own as a keepvip fault. They run above the daemons' `rt_priority`, so
//! a busy daemon never delays the measurement either. The main thread, which reads their timelines
//! under their locks (an ordinary thread preempted there would stall them), runs at the same
//! priority with SCHED_RESET_ON_FORK: the daemons and the `ip`/`nft` commands it starts run under
//! the ordinary policy (a daemon then takes its own `rt_priority`).

#![allow(unsafe_code)]

use netns_tests::{HarnessError, Result};

/// SCHED_RR at `priority` for every thread of this process, the calling one with
/// SCHED_RESET_ON_FORK; how many.
pub fn measuring_threads(priority: u8) -> Result<usize> {
    let own = thread_id();
    set_policy(own, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, priority)?;
    let mut set = 1;
    for entry in std::fs::read_dir("/proc/self/task")? {
        let Some(tid) = entry?
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        if tid == own {
            continue;
        }
        match set_policy(tid, libc::SCHED_RR, priority) {
            Ok(()) => set += 1,
            // A thread that ended meanwhile is fine.
            Err(err) if err.raw_os_error() == Some(libc::ESRCH) => {}
            Err(err) => {
                return Err(HarnessError::new(format!(
                    "SCHED_RR for thread {tid}: {err}"
                )));
            }
        }
    }
    Ok(set)
}

fn set_policy(tid: i32, policy: libc::c_int, priority: u8) -> std::io::Result<()> {
    let param = libc::sched_param {
        sched_priority: libc::c_int::from(priority),
    };
    // SAFETY: reads one sched_param we own for the duration of the call.
    let rc = unsafe { libc::sched_setscheduler(tid, policy, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn thread_id() -> i32 {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::gettid() }
}

/// The scheduling policy of process `pid`'s main thread, from `/proc/PID/sched` (`policy : 2` is
/// SCHED_RR); `None` if it cannot be read.
pub fn policy_of(pid: u32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/sched")).ok()?;
    parse_policy(&text)
}

fn parse_policy(sched: &str) -> Option<i32> {
    sched.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "policy").then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_line_of_proc_sched_is_read() {
        let text = "keepvip (123, #threads: 1)\n----\nse.exec_start : 1.0\npolicy                                       :                    2\nprio : 89\n";
        assert_eq!(parse_policy(text), Some(libc::SCHED_RR));
        assert_eq!(parse_policy("nothing"), None);
    }
}
