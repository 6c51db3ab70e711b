//! The protocol loop: waits for the earliest core deadline, a received packet, a link or address event
//! or a signal; gives it to the core's `Node`; executes the actions; publishes status.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{error, info, warn};
use vrrp_core::{Input, LinkId, Node, NodeInput};

use super::RunOptions;
use super::accept_filter::AcceptFilter;
use super::clock::Clock;
use super::error::DaemonError;
use super::event::Event;
use super::groups;
use super::io::Io;
use super::lock;
use super::privileges::{self, Privileges};
use super::receive::Receiving;
use super::reload;
use super::service_manager::ServiceManager;
use super::setup;
use super::signals::Signals;
use super::state::{Daemon, Inbox, ReloadState, Rereads};
use super::tasks::{Feeders, spawn_monitor, spawn_periodic};
use super::timer::DeadlineTimer;
use super::tracker_setup::{self as trackers, TrackerTasks};
use super::watch::InterfaceWatch;
use crate::config::Config;
use crate::control::{self, Requests, Status};
use crate::metrics;
use crate::net::netlink::{AddressEvents, LinkEvent, LinkEvents, NetlinkError};
use crate::net::{FrameSender, Netlink};
use crate::notify::Notifier;
use crate::observe::{self, InstanceLabel, IoCounters, TrackerLabel};
use crate::track::Report;
use crate::track::registry::Registry;

/// How often link state and addresses are re-read, in case a netlink overrun lost an event.
const RESYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How long shutdown waits for queued VIP removals.
const VIP_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(config: Config, options: RunOptions) -> Result<(), DaemonError> {
    let (_lock, script_users) = preflight(&config, &options)?;
    let metrics_listener = bind_metrics(&config)?;
    let netlink = Arc::new(Netlink::connect().map_err(netlink_error)?);
    // Subscribe before reading link state and addresses, so no change falls in between.
    let link_events = LinkEvents::subscribe().map_err(netlink_error)?;
    let address_events = AddressEvents::subscribe().map_err(netlink_error)?;
    let mut node = Node::new();
    let built = setup::build(&config, &netlink, &mut node).await?;
    let groups = groups::add_groups(&config, &mut node, &built.table)?;
    let drops_vip_traffic = built.table.iter().any(|(id, _)| {
        node.router(id)
            .is_some_and(|r| !r.config().master_accepts_vip_traffic())
    });
    let accept_filter = AcceptFilter::prepare(drops_vip_traffic).await?;
    let frames = Arc::new(FrameSender::open().map_err(|e| DaemonError::Socket(e.to_string()))?);
    let mut signals = Signals::install()?;

    let (events, events_inbox) = mpsc::channel(1024);
    let mut feeders = Feeders::new();
    let io = Io::new(
        built.sockets,
        netlink.clone(),
        frames,
        events.clone(),
        accept_filter,
    );
    spawn_monitor(
        "link monitor",
        link_events,
        Event::Link,
        events.clone(),
        &mut feeders,
    );
    let wrap = Event::Address;
    spawn_monitor(
        "address monitor",
        address_events,
        wrap,
        events.clone(),
        &mut feeders,
    );
    let clock = Clock::start();
    let tracked_interfaces = Registry::build(&config).interface_names();
    let rereads = spawn_rereads(
        &netlink,
        built.table.interface_names(),
        tracked_interfaces,
        clock,
        &events,
        &mut feeders,
    );
    let (status_requests, status_inbox) = mpsc::channel(16);
    let metrics =
        metrics_listener.map(|l| tokio::spawn(metrics::serve(l, status_requests.clone())));
    let group = config.global.control_group.as_deref();
    let (reload_requests, reload_inbox) = mpsc::channel(4);
    let requests = Requests {
        status: status_requests,
        reload: reload_requests,
    };
    let control = spawn_control(&options, group, requests)?;

    let (mut inbox, channels) = Inbox::new(events_inbox, status_inbox, reload_inbox);
    let registry = Registry::build(&config);
    let started = registry.start(
        &config,
        script_users.default.as_ref(),
        &script_users.by_script,
        &channels,
    );
    inbox.trackers = TrackerTasks::watch(started);
    let mut daemon = Daemon {
        node,
        table: built.table,
        io,
        interfaces: InterfaceWatch::default(),
        counters: IoCounters::default(),
        trackers: registry,
        notifier: Notifier::start(&config, script_users.default),
        groups,
        clock,
        router_id: config.global.router_id.clone(),
        service: ServiceManager::from_env(),
        reload: ReloadState::new(&options.config_path, &config, channels, drops_vip_traffic),
    };
    daemon.reload.rereads = Some(rereads);
    // No instance starts before every tracker has reported once; a stop signal meanwhile ends it all.
    let limit = trackers::first_readings_limit(&config);
    let outcome = match daemon.first_readings(&mut inbox, &mut signals, limit).await {
        Some(first) => {
            daemon
                .start(&built.links_down, &built.sources_missing, &first)
                .await;
            info!(instances = daemon.table.iter().count(), "keepvip running");
            daemon.service.ready();
            daemon.serve(&mut inbox, &mut feeders, &mut signals).await
        }
        None => Ok(()),
    };
    daemon.service.stopping();
    feeders.abort_all();
    inbox.trackers.abort_all();
    daemon.shutdown(config.global.notify_timeout).await;
    control.abort();
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    let _ = std::fs::remove_file(&options.control_socket);
    outcome
}

/// Before anything touches the interfaces: the capabilities, the single-instance lock (a second
/// daemon must not clear the first's VIPs) and the scripts; then the ambient capabilities go, so no
/// script inherits them, and the event loop's thread takes `rt_priority`.
fn preflight(
    config: &Config,
    options: &RunOptions,
) -> Result<(lock::InstanceLock, trackers::ScriptUsers), DaemonError> {
    // Without root, both network capabilities or nothing: a master must be able to install its VIPs.
    let privileges = Privileges::of_this_process()?;
    privileges.require_network()?;
    let lock = lock::acquire(&options.control_socket)?;
    let script_users = trackers::prepare_scripts(config, &privileges)?;
    privileges::clear_ambient_capabilities()?;
    super::realtime::apply(config.global.rt_priority);
    Ok((lock, script_users))
}

fn netlink_error(e: NetlinkError) -> DaemonError {
    DaemonError::Netlink(e.to_string())
}

/// The periodic link and address re-reads, one generic task each, by interface name: the instances'
/// interfaces and the tracked ones may be missing, deleted or re-created meanwhile. The names go
/// through the returned senders (a reload changes them).
fn spawn_rereads(
    netlink: &Arc<Netlink>,
    interfaces: Vec<String>,
    tracked_interfaces: Vec<String>,
    clock: Clock,
    events: &mpsc::Sender<Event>,
    feeders: &mut Feeders,
) -> Rereads {
    let links = netlink.clone();
    let read_link = move |name: String| {
        let netlink = links.clone();
        async move {
            let event = match netlink.link_by_name(&name).await {
                Ok(info) => LinkEvent::Changed(info),
                // No index: the daemon checks which interface, if any, the name has now.
                Err(NetlinkError::NoSuchLink(_)) => LinkEvent::Removed { index: 0, name },
                Err(e) => {
                    tracing::debug!(%name, error = %e, "link re-read failed");
                    return None;
                }
            };
            Some(Event::Link(event))
        }
    };
    let addresses = netlink.clone();
    let read_addresses = move |name: String| {
        let netlink = addresses.clone();
        async move {
            let read_at = clock.now();
            let ifindex = netlink.link_by_name(&name).await.ok()?.index;
            match netlink.addresses(ifindex).await {
                Ok(addresses) => Some(Event::Addresses {
                    ifindex,
                    read_at,
                    addresses,
                }),
                Err(e) => {
                    tracing::debug!(ifindex, error = %e, "address re-read failed");
                    None
                }
            }
        }
    };
    let (links, link_names) = tokio::sync::watch::channel(Vec::new());
    let (addresses, address_names) = tokio::sync::watch::channel(Vec::new());
    let rereads = Rereads { links, addresses };
    rereads.follow(interfaces, tracked_interfaces);
    let (every, sender) = (RESYNC_EVERY, events.clone());
    spawn_periodic(
        "link re-read",
        link_names,
        every,
        read_link,
        sender,
        feeders,
    );
    let sender = events.clone();
    spawn_periodic(
        "address re-read",
        address_names,
        every,
        read_addresses,
        sender,
        feeders,
    );
    rereads
}

/// The `metrics_listen` listener, bound before anything else starts so a bad address stops the start.
fn bind_metrics(config: &Config) -> Result<Option<tokio::net::TcpListener>, DaemonError> {
    let Some(address) = config.global.metrics_listen else {
        return Ok(None);
    };
    let listener = metrics::bind(address)
        .map_err(|e| DaemonError::Socket(format!("metrics_listen {address}: {e}")))?;
    info!(%address, "metrics and health listener bound");
    Ok(Some(listener))
}

/// Binds the control socket now (a bad group or an unwritable directory stops startup with the
/// reason) and serves it on a task of its own.
fn spawn_control(
    options: &RunOptions,
    group: Option<&str>,
    requests: Requests,
) -> Result<tokio::task::JoinHandle<()>, DaemonError> {
    let path = &options.control_socket;
    let failed = |reason: String| DaemonError::Control {
        path: path.clone(),
        reason,
    };
    let gid = match group {
        None => None,
        Some(name) => match nix::unistd::Group::from_name(name) {
            Ok(Some(group)) => Some(group.gid.as_raw()),
            Ok(None) => return Err(failed(format!("control_group \"{name}\" does not exist"))),
            Err(e) => return Err(failed(format!("control_group \"{name}\": {e}"))),
        },
    };
    let listener = control::bind(path, gid).map_err(|e| failed(e.to_string()))?;
    Ok(tokio::spawn(control::serve(listener, requests)))
}

async fn sleep_until(clock: &Clock, deadline: Option<vrrp_core::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(clock.to_tokio(at)).await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    /// Every tracker's first reading (the tracked interfaces read now, the others as they report),
    /// within `limit`, answering `status` meanwhile; `None` if a stop signal came first.
    async fn first_readings(
        &mut self,
        inbox: &mut Inbox,
        signals: &mut Signals,
        limit: std::time::Duration,
    ) -> Option<Vec<Report>> {
        let mut first = trackers::interface_readings(&self.trackers, &self.io.netlink).await;
        let micros = u64::try_from(limit.as_micros()).unwrap_or(u64::MAX);
        let deadline = self.clock.now() + vrrp_core::Micros::from_micros(micros);
        let mut watchdog = self.service.ticker();
        while !self.trackers.all_reported() {
            tokio::select! {
                Some(report) = inbox.reports.recv() => {
                    self.trackers.record(report);
                    first.push(report);
                }
                Some(reply) = inbox.status.recv() => {
                    let _ = reply.send(self.status());
                }
                tracker = inbox.trackers.ended() => {
                    error!(tracker = tracker.0, "tracker task ended before its first reading: KO");
                    let report = Report { tracker, reading: crate::track::Reading::Ko };
                    self.trackers.record(report);
                    first.push(report);
                }
                () = self.service.next_ping(&mut watchdog) => self.service.ping(),
                () = sleep_until(&self.clock, Some(deadline)) => {
                    warn!("not every tracker reported in time; starting with what is known");
                    break;
                }
                Some(reply) = inbox.reloads.recv() => {
                    let _ = reply.send(reload::refused("keepvip is still starting: reload once it runs"));
                }
                signal = signals.next() => match signal {
                    Some(stop) => {
                        info!(signal = stop, "shutting down before the instances started");
                        return None;
                    }
                    None => warn!("SIGHUP while starting: ignored; send it again once keepvip runs"),
                }
            }
        }
        Some(first)
    }

    /// Tells the core which links are down or missing, which instances have no source address yet
    /// and what the trackers read first, then starts every instance.
    async fn start(
        &mut self,
        links_down: &[LinkId],
        sources_missing: &[vrrp_core::InstanceId],
        first_readings: &[Report],
    ) {
        let now = self.clock.now();
        for &link in links_down {
            let input = NodeInput::Link {
                link,
                family: None,
                input: Input::InterfaceDown,
            };
            self.feed(now, input).await;
        }
        for &id in sources_missing {
            self.feed(now, NodeInput::Instance(id, Input::SourceAddressLost))
                .await;
        }
        for &report in first_readings {
            self.trackers.record(report);
            self.feed_reading(report).await;
        }
        self.feed(now, NodeInput::Startup).await;
    }

    /// Runs until a stopping signal (Ok) or a feeder task ends (the error says which).
    async fn serve(
        &mut self,
        inbox: &mut Inbox,
        feeders: &mut Feeders,
        signals: &mut Signals,
    ) -> Result<(), DaemonError> {
        // Pinged from this very loop: a handler that stalls it starves the watchdog.
        let mut watchdog = self.service.ticker();
        let mut timer = DeadlineTimer::new(self.clock)
            .map_err(|e| DaemonError::Runtime(format!("timerfd: {e}")))?;
        let mut receiving = Receiving::default();
        loop {
            let deadline = self.node.next_deadline();
            let datagrams =
                std::future::poll_fn(|cx| self.io.poll_receive(cx, &mut receiving.batch));
            tokio::select! {
                (socket, received) = datagrams => {
                    self.take_batch(socket, received, &mut receiving).await
                }
                () = timer.sleep_until(deadline) => {
                    // Adverts that queued up while the loop was busy count before any timer fires.
                    self.take_queued(&mut receiving).await;
                    while let Ok(event) = inbox.events.try_recv() {
                        self.handle_event(event).await;
                    }
                    self.feed(self.clock.now(), NodeInput::Timer).await;
                }
                Some(event) = inbox.events.recv() => self.handle_event(event).await,
                Some(report) = inbox.reports.recv() => self.handle_report(report).await,
                Some(run) = inbox.runs.recv() => self.trackers.record_run(run),
                () = self.service.next_ping(&mut watchdog) => self.service.ping(),
                Some(reply) = inbox.status.recv() => {
                    let _ = reply.send(self.status());
                }
                tracker = inbox.trackers.ended() => self.tracker_ended(tracker).await,
                Some(ended) = feeders.join_next() => {
                    let what = match ended {
                        Ok(name) => format!("{name} stopped"),
                        Err(e) => format!("{e}"),
                    };
                    error!(task = %what, "internal task ended: shutting down to release the VIPs");
                    return Err(DaemonError::TaskEnded(what));
                }
                Some(reply) = inbox.reloads.recv() => {
                    let outcome = self.reload(inbox).await;
                    let _ = reply.send(outcome);
                }
                signal = signals.next() => match signal {
                    Some(stop) => {
                        info!(signal = stop, "shutting down");
                        return Ok(());
                    }
                    None => {
                        info!("SIGHUP: reloading");
                        self.reload(inbox).await;
                    }
                }
            }
        }
    }

    /// Every master resigns (priority-0 adverts go out at once, in instance order); the VIP removals
    /// they queue are then finished, within `VIP_DRAIN_LIMIT`, and then the STOP notifications, within
    /// the notify timeout.
    async fn shutdown(mut self, notify_timeout: std::time::Duration) {
        self.feed(self.clock.now(), NodeInput::Shutdown).await;
        self.io.finish(VIP_DRAIN_LIMIT).await;
        // Room for one script that hangs ahead of the STOP ones, and the STOP ones themselves.
        let margin = std::time::Duration::from_secs(1);
        self.notifier.finish(notify_timeout * 2 + margin).await;
    }

    /// Gives one input to the node and executes what it returns.
    pub async fn feed(&mut self, now: vrrp_core::Instant, input: NodeInput<'_>) {
        let actions = self.node.handle(now, input);
        self.execute(actions).await;
    }

    async fn handle_event(&mut self, event: Event) {
        match event {
            Event::Link(event) => self.handle_link(event).await,
            Event::Address(event) => self.handle_address(event).await,
            Event::Addresses {
                ifindex,
                read_at,
                addresses,
            } => {
                self.handle_address_snapshot(ifindex, read_at, addresses)
                    .await
            }
            Event::TakeoverDone { id, took } => self.counters.takeover_done(id, took),
            Event::VipsRestored { id, addresses } => self.vips_restored(id, &addresses),
            Event::Ipv6Ready {
                ifindex,
                link_local,
                generation,
            } => {
                self.handle_ipv6_ready(ifindex, link_local, generation)
                    .await
            }
        }
    }

    fn tracker_label(&self, tracker: &crate::config::TrackerRef) -> TrackerLabel {
        let last_run = self
            .trackers
            .iter()
            .find(|(_, t)| t.kind == tracker.kind && t.name == tracker.name)
            .and_then(|(_, t)| t.last_run.as_ref().map(|run| run.outcome.clone()));
        TrackerLabel {
            name: tracker.name.clone(),
            kind: trackers::kind_name(tracker.kind),
            last_run,
        }
    }

    pub fn status(&self) -> Status {
        let now = self.clock.now();
        observe::status(&self.router_id, &self.node, &self.counters, now, |id| {
            let info = self.table.get(id)?;
            Some(InstanceLabel {
                name: info.config.name.clone(),
                interface: info.config.interface.clone(),
                vips: info.config.vips.iter().map(ToString::to_string).collect(),
                trackers: info
                    .config
                    .trackers
                    .iter()
                    .map(|t| self.tracker_label(t))
                    .collect(),
                interface_missing: info.link.index == super::table::ABSENT,
                vmac: info.config.vmac.as_ref().map(|v| v.name.clone()),
                notify: self.notifier.runs(info.name()),
            })
        })
    }
}
