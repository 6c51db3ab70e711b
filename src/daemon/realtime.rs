//! `[global] rt_priority`: the daemon's event loop under the SCHED_RR real-time policy, as
//! keepalived's `vrrp_rt_priority` puts its VRRP process. At 10 ms adverts a backup takes over 36 ms
//! after the master's last advert, so a master that waits tens of milliseconds for a CPU behind
//! ordinary work looks dead to its peers; a real-time thread runs as soon as its timer fires.
//!
//! Only the thread that runs the event loop (this one: the runtime is current-thread) gets it: the
//! policy is set with SCHED_RESET_ON_FORK, so threads and processes started afterwards (the tokio
//! blocking pool, track and notify scripts) run under the ordinary policy, as keepalived resets its
//! scripts' priority.

use tracing::{info, warn};

/// Put this thread under SCHED_RR at `priority` (1..=99). Without CAP_SYS_NICE (or over the
/// RLIMIT_RTPRIO of an unprivileged daemon) the kernel refuses: keepvip says so and runs on under
/// the ordinary policy, as keepalived does.
pub fn apply(priority: Option<u8>) {
    let Some(priority) = priority else { return };
    match set_round_robin(priority) {
        Ok(()) => info!(rt_priority = priority, "event loop under SCHED_RR"),
        Err(e) => warn!(
            rt_priority = priority,
            "cannot set SCHED_RR ({e}): it needs CAP_SYS_NICE or RLIMIT_RTPRIO >= rt_priority \
             (systemd LimitRTPRIO=); running under the ordinary scheduling policy"
        ),
    }
}

/// A reload changed `rt_priority` from `old` to `new`: this thread (the event loop's) follows,
/// back to the ordinary policy when the key is gone.
pub fn follow(old: Option<u8>, new: Option<u8>) {
    if old == new {
        return;
    }
    match new {
        Some(_) => apply(new),
        None => match set_policy(libc::SCHED_OTHER, 0) {
            Ok(()) => info!("event loop back under the ordinary scheduling policy"),
            Err(e) => warn!("cannot leave SCHED_RR ({e})"),
        },
    }
}

fn set_round_robin(priority: u8) -> std::io::Result<()> {
    set_policy(libc::SCHED_RR, priority)
}

#[allow(unsafe_code)]
fn set_policy(policy: libc::c_int, priority: u8) -> std::io::Result<()> {
    let param = libc::sched_param {
        sched_priority: libc::c_int::from(priority),
    };
    // SAFETY: sched_setscheduler(0 = this thread, policy, &param) reads one sched_param we own for
    // the duration of the call; nix has no wrapper for it.
    let rc = unsafe { libc::sched_setscheduler(0, policy | libc::SCHED_RESET_ON_FORK, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The policy of this thread as `/proc/thread-self/sched` names it (`policy : 2` is SCHED_RR).
#[cfg(test)]
fn policy_of_this_thread() -> Option<i32> {
    // SAFETY: sched_getscheduler(0) reads no memory.
    #[allow(unsafe_code)]
    let policy = unsafe { libc::sched_getscheduler(0) };
    (policy >= 0).then_some(policy & !libc::SCHED_RESET_ON_FORK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_priority_leaves_the_policy_alone_and_a_refusal_is_not_fatal() {
        let before = std::thread::spawn(|| {
            apply(None);
            policy_of_this_thread()
        })
        .join()
        .unwrap();
        assert_eq!(before, Some(libc::SCHED_OTHER));
        // As root this succeeds; otherwise it is refused and logged: either way no panic, and the
        // thread ends up under SCHED_RR exactly when the kernel agreed.
        let (outcome, after) = std::thread::spawn(|| (set_round_robin(1), policy_of_this_thread()))
            .join()
            .unwrap();
        let expected = if outcome.is_ok() {
            libc::SCHED_RR
        } else {
            libc::SCHED_OTHER
        };
        assert_eq!(after, Some(expected));
    }

    #[test]
    fn a_reload_that_drops_the_key_goes_back_to_the_ordinary_policy() {
        let policy = std::thread::spawn(|| {
            follow(None, Some(1));
            follow(Some(1), None);
            policy_of_this_thread()
        })
        .join()
        .unwrap();
        assert_eq!(policy, Some(libc::SCHED_OTHER));
    }
}
