//! Carrying out the schedule on the fault lab, one step at a time (the driver calls `step` between
//! its checks, so nothing here waits for long): each fault is injected when due and undone when its
//! hold is over, its window opened just before and closed just after, in the checker's time.

use std::process::{Command, Stdio};
use std::time::Duration;

use netns_tests::daemon::keepvip_bin;
use netns_tests::faults::{FaultLab, Loss};
use netns_tests::{HarnessError, Result};
use nix::sys::signal::Signal;

use crate::config::{Settings, base_priority, soak_config, tracker_paths};
use crate::schedule::{Fault, FaultKind};

/// What the executor reports to the driver.
#[derive(Debug)]
pub enum Event {
    Started {
        number: usize,
        kind: FaultKind,
        node: usize,
        at: Duration,
    },
    Ended {
        number: usize,
        at: Duration,
    },
    /// A daemon the schedule did not take down has exited, or exited badly when asked to.
    Exited {
        node: usize,
        at: Duration,
        how: String,
    },
}

/// A fault under way: what undoes it, and when the next step is due.
struct Active {
    fault: Fault,
    due: Duration,
    /// Link flaps left to do (each is a down and an up step).
    flap_steps_left: u32,
    loss: Option<Loss>,
}

pub struct Executor {
    faults: std::vec::IntoIter<Fault>,
    next: Option<Fault>,
    active: Option<Active>,
    settings: Settings,
    pub events: Vec<Event>,
}

impl Executor {
    pub fn new(schedule: Vec<Fault>, settings: Settings) -> Self {
        let mut faults = schedule.into_iter();
        let next = faults.next();
        Self {
            faults,
            next,
            active: None,
            settings,
            events: Vec::new(),
        }
    }

    /// Whether a fault is in force (its undo is still to come).
    pub fn busy(&self) -> bool {
        self.active.is_some()
    }

    /// Do whatever is due at `now` (time since the soak started); `clock` reads that time.
    pub fn step(
        &mut self,
        lab: &mut FaultLab,
        now: Duration,
        clock: &impl Fn() -> Duration,
    ) -> Result<()> {
        if let Some(mut active) = self.active.take() {
            if now < active.due {
                self.active = Some(active);
                return Ok(());
            }
            if active.flap_steps_left > 0 {
                flap_step(lab, &mut active, now)?;
                if active.flap_steps_left > 0 {
                    self.active = Some(active);
                    return Ok(());
                }
            }
            return self.undo(lab, active, clock);
        }
        let Some(fault) = self.next.take_if(|fault| fault.at <= now) else {
            return Ok(());
        };
        self.next = self.faults.next();
        self.inject(lab, fault, now, clock)
    }

    fn inject(
        &mut self,
        lab: &mut FaultLab,
        fault: Fault,
        now: Duration,
        clock: &impl Fn() -> Duration,
    ) -> Result<()> {
        let node = fault.node;
        self.events.push(Event::Started {
            number: fault.number,
            kind: fault.kind,
            node,
            at: clock(),
        });
        let mut active = Active {
            due: now + fault.hold,
            flap_steps_left: 0,
            loss: None,
            fault,
        };
        match active.fault.kind {
            FaultKind::Kill => {
                lab.kill(node)?;
            }
            FaultKind::Term => {
                if let Err(err) = lab.terminate(node) {
                    // The daemon is gone either way; the restart follows as scheduled.
                    self.events.push(Event::Exited {
                        node,
                        at: clock(),
                        how: err.to_string(),
                    });
                }
            }
            FaultKind::Stop => {
                lab.signal(node, Signal::SIGSTOP)?;
            }
            FaultKind::LinkFlaps => {
                active.flap_steps_left = active.fault.value * 2;
                active.due = now;
                flap_step(lab, &mut active, now)?;
            }
            FaultKind::Loss => active.loss = Some(Loss::start(lab, active.fault.value)?),
            FaultKind::Delay => {
                return Err(HarnessError::new(
                    "netem delay is not available on this kernel",
                ));
            }
            FaultKind::Partition => lab.lab.isolate_host(node)?,
            FaultKind::Priority => {
                let priority = u8::try_from(active.fault.value).unwrap_or(1);
                apply_config(lab, node, priority, self.settings)?;
            }
            FaultKind::TrackerWeight | FaultKind::TrackerFault => {
                write_tracker(lab, node, active.fault.kind, "1")?;
            }
        }
        self.active = Some(active);
        Ok(())
    }

    fn undo(
        &mut self,
        lab: &mut FaultLab,
        active: Active,
        clock: &impl Fn() -> Duration,
    ) -> Result<()> {
        let node = active.fault.node;
        match active.fault.kind {
            // The daemon starts with the soak's config (`FaultLab::set_config`).
            FaultKind::Kill | FaultKind::Term => {
                lab.restart(node)?;
            }
            FaultKind::Stop => {
                lab.signal(node, Signal::SIGCONT)?;
            }
            FaultKind::LinkFlaps | FaultKind::Delay => {}
            FaultKind::Loss => {
                if let Some(loss) = active.loss {
                    loss.stop()?;
                }
            }
            FaultKind::Partition => lab.lab.heal_host(node)?,
            FaultKind::Priority => apply_config(lab, node, base_priority(node), self.settings)?,
            FaultKind::TrackerWeight | FaultKind::TrackerFault => {
                write_tracker(lab, node, active.fault.kind, "0")?;
            }
        }
        self.events.push(Event::Ended {
            number: active.fault.number,
            at: clock(),
        });
        Ok(())
    }

    /// Undo the fault in force, if any (the run is stopping).
    pub fn finish(&mut self, lab: &mut FaultLab, clock: &impl Fn() -> Duration) -> Result<()> {
        match self.active.take() {
            Some(mut active) => {
                if active.fault.kind == FaultKind::LinkFlaps
                    && !active.flap_steps_left.is_multiple_of(2)
                {
                    // Down now: bring it up.
                    active.flap_steps_left = 1;
                    flap_step(lab, &mut active, Duration::ZERO)?;
                }
                self.undo(lab, active, clock)
            }
            None => Ok(()),
        }
    }

    /// Check every daemon the schedule has not taken down; restart one that exited on its own.
    pub fn check_daemons(
        &mut self,
        lab: &mut FaultLab,
        clock: &impl Fn() -> Duration,
    ) -> Result<()> {
        let down = self
            .active
            .as_ref()
            .filter(|active| matches!(active.fault.kind, FaultKind::Kill | FaultKind::Term))
            .map(|active| active.fault.node);
        for node in 0..lab.router_count() {
            if Some(node) == down {
                continue;
            }
            let Ok(daemon) = lab.daemon(node) else {
                continue;
            };
            if let Some(status) = daemon.proc().try_status()? {
                let tail: String = daemon
                    .logs()
                    .lines()
                    .rev()
                    .take(5)
                    .collect::<Vec<_>>()
                    .join(" | ");
                self.events.push(Event::Exited {
                    node,
                    at: clock(),
                    how: format!("{status}; last log lines: {tail}"),
                });
                lab.restart(node)?;
            }
        }
        Ok(())
    }
}

/// One half of a flap: the port goes down on odd steps left, up on even ones.
fn flap_step(lab: &FaultLab, active: &mut Active, now: Duration) -> Result<()> {
    let going_down = active.flap_steps_left.is_multiple_of(2);
    lab.lab.set_switch_port(active.fault.node, !going_down)?;
    active.flap_steps_left -= 1;
    active.due = now + active.fault.hold;
    Ok(())
}

/// Write router `node`'s soak config with `priority` and reload its daemon.
pub fn apply_config(lab: &FaultLab, node: usize, priority: u8, settings: Settings) -> Result<()> {
    let daemon = lab.daemon(node)?;
    let path = lab.lab.dir().join(format!("{}.toml", daemon.label()));
    let text = soak_config(daemon.label(), node, priority, settings, lab.lab.dir());
    std::fs::write(&path, text)
        .map_err(|err| HarnessError::new(format!("write {}: {err}", path.display())))?;
    let output = Command::new(keepvip_bin())
        .arg("--control-socket")
        .arg(daemon.control_socket())
        .arg("reload")
        .stdin(Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(HarnessError::new(format!(
            "keepvip reload of r{node} exited {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Write `value` to router `node`'s tracker file for `kind` (replaced by a rename: read whole).
pub fn write_tracker(lab: &FaultLab, node: usize, kind: FaultKind, value: &str) -> Result<()> {
    let (drop, fault) = tracker_paths(lab.lab.dir(), node);
    let path = if kind == FaultKind::TrackerFault {
        fault
    } else {
        drop
    };
    let staging = path.with_extension("new");
    std::fs::write(&staging, format!("{value}\n"))?;
    std::fs::rename(&staging, &path)?;
    Ok(())
}
