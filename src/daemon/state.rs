//! What the protocol loop owns and waits on, shared by the loop (event_loop.rs) and the reload
//! (reload/): the `Daemon`, its `Inbox`, the re-read lists and the state a reload needs.

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use vrrp_core::Node;

use super::clock::Clock;
use super::event::Event;
use super::groups::GroupStates;
use super::io::Io;
use super::service_manager::ServiceManager;
use super::table::InstanceTable;
use super::tracker_setup::TrackerTasks;
use super::watch::InterfaceWatch;
use crate::config::Config;
use crate::control::{ReloadRequest, StatusRequest};
use crate::notify::Notifier;
use crate::observe::IoCounters;
use crate::track::Report;
use crate::track::registry::{Channels, Registry};
use crate::track::script::ScriptRun;

/// Everything the loop owns: the protocol state (`node`), the shell's facts about each instance
/// (`table`), what talks to the kernel (`io`), and the counters only the shell sees.
pub struct Daemon {
    pub node: Node,
    pub table: InstanceTable,
    pub io: Io,
    pub interfaces: InterfaceWatch,
    pub counters: IoCounters,
    pub trackers: Registry,
    pub notifier: Notifier,
    pub groups: GroupStates,
    pub clock: Clock,
    pub router_id: String,
    pub service: ServiceManager,
    /// What a reload needs: the file, the config in force, the tracker channels.
    pub reload: ReloadState,
}

/// What the loop waits on besides timers and signals: the feeder tasks' events and the trackers'
/// readings and script runs.
pub struct Inbox {
    pub(super) events: mpsc::Receiver<Event>,
    pub(super) reports: mpsc::Receiver<Report>,
    pub(super) runs: mpsc::Receiver<ScriptRun>,
    pub(super) status: mpsc::Receiver<StatusRequest>,
    pub(super) reloads: mpsc::Receiver<ReloadRequest>,
    pub trackers: TrackerTasks,
}

impl Inbox {
    pub(super) fn new(
        events: mpsc::Receiver<Event>,
        status: mpsc::Receiver<StatusRequest>,
        reloads: mpsc::Receiver<ReloadRequest>,
    ) -> (Inbox, Channels) {
        let (reports_tx, reports) = mpsc::channel(256);
        let (runs_tx, runs) = mpsc::channel(256);
        let channels = Channels {
            reports: reports_tx,
            runs: runs_tx,
        };
        let inbox = Inbox {
            events,
            reports,
            runs,
            status,
            reloads,
            trackers: TrackerTasks::default(),
        };
        (inbox, channels)
    }
}

/// The interface names the periodic re-reads cover.
pub struct Rereads {
    pub(super) links: tokio::sync::watch::Sender<Vec<String>>,
    pub(super) addresses: tokio::sync::watch::Sender<Vec<String>>,
}

impl Rereads {
    /// Links of the instances' and the tracked interfaces; addresses of the instances' only.
    pub fn follow(&self, interfaces: Vec<String>, tracked_interfaces: Vec<String>) {
        let mut names = interfaces.clone();
        names.extend(tracked_interfaces);
        names.sort_unstable();
        names.dedup();
        self.links.send_replace(names);
        self.addresses.send_replace(interfaces);
    }
}

/// What the loop keeps for reloads.
pub struct ReloadState {
    pub(super) path: PathBuf,
    /// The config in force.
    pub running: Config,
    pub(super) channels: Channels,
    /// Whether the nf_tables table for `accept = false` exists (it is created at startup only).
    pub(super) filter_active: bool,
    /// Set while a master's VIPs are swapped in place: not a takeover, routes untouched.
    pub swapping: bool,
    /// The periodic re-reads' interface names.
    pub rereads: Option<Rereads>,
}

impl ReloadState {
    pub fn new(path: &Path, running: &Config, channels: Channels, filter_active: bool) -> Self {
        ReloadState {
            path: path.to_owned(),
            running: running.clone(),
            channels,
            filter_active,
            swapping: false,
            rereads: None,
        }
    }
}
