//! The protocol loop: waits for the earliest core deadline, a received packet, a link or address event
//! or a signal; feeds the core; executes its actions; publishes status.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tracing::{debug, error, info, warn};
use vrrp_core::Input;

use super::RunOptions;
use super::clock::Clock;
use super::instance::Instance;
use super::links::DadWaits;
use super::lock;
use super::receive::{self, Verdict};
use super::setup;
use super::signals::Signals;
use super::sources::SourceWatch;
use super::tasks::{
    Feeders, spawn_address_resync, spawn_link_resync, spawn_monitor, spawn_receivers,
};
use super::vips::VipWorker;
use crate::config::Config;
use crate::control::{self, Status};
use crate::net::netlink::{AddressEvent, AddressEvents, InterfaceAddress, LinkEvent, LinkEvents};
use crate::net::{FrameSender, Netlink, VrrpSocket};

/// Why the daemon could not start or had to stop.
#[derive(Debug)]
pub enum DaemonError {
    Runtime(String),
    Netlink(String),
    Interface {
        instance: String,
        reason: String,
    },
    Instance {
        instance: String,
        reason: String,
    },
    Socket(String),
    Signal(String),
    Lock {
        path: std::path::PathBuf,
        reason: String,
    },
    /// A feeder task ended: the daemon shut down rather than run deaf.
    TaskEnded(String),
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaemonError::Runtime(e) => write!(f, "cannot start the runtime: {e}"),
            DaemonError::Netlink(e) => write!(f, "netlink: {e}"),
            DaemonError::Interface { instance, reason } => {
                write!(f, "instance {instance}: interface: {reason}")
            }
            DaemonError::Instance { instance, reason } => {
                write!(f, "instance {instance}: {reason}")
            }
            DaemonError::Socket(e) => write!(f, "socket: {e}"),
            DaemonError::Signal(e) => write!(f, "signal handler: {e}"),
            DaemonError::Lock { path, reason } => write!(f, "lock {}: {reason}", path.display()),
            DaemonError::TaskEnded(what) => {
                write!(
                    f,
                    "internal task ended ({what}); shut down and released the VIPs"
                )
            }
        }
    }
}

impl std::error::Error for DaemonError {}

/// What other tasks tell the loop.
pub enum Event {
    Packet {
        socket: usize,
        bytes: Vec<u8>,
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
        /// The socket's cumulative kernel drop counter (SO_RXQ_OVFL) as of this packet.
        kernel_drops: u32,
    },
    Link(LinkEvent),
    Address(AddressEvent),
    /// A periodic re-read of an interface's addresses, started at `read_at`.
    Addresses {
        ifindex: u32,
        read_at: std::time::Instant,
        addresses: Vec<InterfaceAddress>,
    },
    /// A packet dropped by a receiver before the loop saw it (counted globally).
    Dropped {
        reason: &'static str,
    },
    /// An interface's IPv6 link-local address left DAD after the link came back.
    Ipv6Ready {
        ifindex: u32,
        link_local: Ipv6Addr,
        /// Which link-up this answers (`DadWaits`).
        generation: u64,
    },
}

/// Everything the loop owns.
pub struct Daemon {
    pub instances: Vec<Instance>,
    pub sockets: Vec<Arc<VrrpSocket>>,
    pub netlink: Arc<Netlink>,
    pub frames: Arc<FrameSender>,
    pub clock: Clock,
    pub events: mpsc::Sender<Event>,
    pub vip_worker: VipWorker,
    /// Drops before an instance could be named (unknown VRID, too short to carry one).
    pub discards: BTreeMap<String, u64>,
    pub(super) links_up: HashMap<u32, bool>,
    /// Last kernel drop counter seen per socket, to count only what is new.
    kernel_drops: HashMap<usize, u32>,
    pub(super) dad_waits: DadWaits,
    pub(super) sources: SourceWatch,
    router_id: String,
}

/// Label for packets the kernel dropped before keepvip could read them: IPv6 adverts whose checksum
/// fails (the kernel verifies it, IPV6_CHECKSUM) and receive-queue overflows.
pub const KERNEL_DROPPED: &str = "kernel_dropped";

/// How often link state and addresses are re-read, in case a netlink overrun lost an event.
const LINK_RESYNC: std::time::Duration = std::time::Duration::from_secs(5);

/// How long shutdown waits for queued VIP removals.
const VIP_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn run(config: Config, options: RunOptions) -> Result<(), DaemonError> {
    // Before anything touches the interfaces: a second daemon must not clear the first's VIPs.
    let _lock = lock::acquire(&options.control_socket)?;
    let netlink = Arc::new(Netlink::connect().map_err(|e| DaemonError::Netlink(e.to_string()))?);
    // Subscribe before reading link state and addresses, so no change falls in between.
    let link_events = LinkEvents::subscribe().map_err(|e| DaemonError::Netlink(e.to_string()))?;
    let address_events =
        AddressEvents::subscribe().map_err(|e| DaemonError::Netlink(e.to_string()))?;
    let built = setup::build(&config, &netlink).await?;
    let frames = Arc::new(FrameSender::open().map_err(|e| DaemonError::Socket(e.to_string()))?);
    let mut signals = Signals::install()?;

    let (events, mut inbox) = mpsc::channel(1024);
    let mut feeders = Feeders::new();
    let sockets = spawn_receivers(built.sockets, &events, &mut feeders);
    spawn_monitor(
        "link monitor",
        link_events,
        Event::Link,
        events.clone(),
        &mut feeders,
    );
    spawn_monitor(
        "address monitor",
        address_events,
        Event::Address,
        events.clone(),
        &mut feeders,
    );
    let (status_tx, status_rx) = watch::channel(Status::default());
    let control_path = options.control_socket.clone();
    let control = tokio::spawn(async move {
        if let Err(e) = control::serve(control_path.clone(), status_rx).await {
            warn!(path = %control_path.display(), error = %e, "control socket unavailable");
        }
    });

    let mut daemon = Daemon {
        instances: built.instances,
        sockets,
        vip_worker: VipWorker::spawn(netlink.clone()),
        netlink,
        frames,
        clock: Clock::start(),
        events,
        discards: BTreeMap::new(),
        links_up: HashMap::new(),
        kernel_drops: HashMap::new(),
        dad_waits: DadWaits::default(),
        sources: SourceWatch::default(),
        router_id: config.global.router_id.clone(),
    };
    for instance in &daemon.instances {
        let up = !built.links_down.contains(&instance.link.index);
        daemon.links_up.insert(instance.link.index, up);
    }
    let indexes: Vec<u32> = daemon.links_up.keys().copied().collect();
    spawn_link_resync(
        daemon.netlink.clone(),
        indexes.clone(),
        LINK_RESYNC,
        daemon.events.clone(),
        &mut feeders,
    );
    spawn_address_resync(
        daemon.netlink.clone(),
        indexes,
        LINK_RESYNC,
        daemon.events.clone(),
        &mut feeders,
    );
    daemon.start().await;
    status_tx.send_replace(daemon.status());
    info!(instances = daemon.instances.len(), "keepvip running");

    let mut outcome = Ok(());
    loop {
        let deadline = daemon.next_deadline();
        tokio::select! {
            _ = sleep_until(&daemon.clock, deadline) => {
                // Adverts that queued up while the loop was busy count before any timer fires.
                while let Ok(event) = inbox.try_recv() {
                    daemon.handle_event(event).await;
                }
                daemon.fire_timers().await;
            }
            Some(event) = inbox.recv() => daemon.handle_event(event).await,
            Some(ended) = feeders.join_next() => {
                let what = match ended {
                    Ok(name) => format!("{name} stopped"),
                    Err(e) => format!("{e}"),
                };
                error!(task = %what, "internal task ended: shutting down to release the VIPs");
                outcome = Err(DaemonError::TaskEnded(what));
                break;
            }
            stop = signals.next() => { info!(signal = stop, "shutting down"); break; }
        }
        status_tx.send_replace(daemon.status());
    }
    feeders.abort_all();
    daemon.shutdown().await;
    control.abort();
    let _ = std::fs::remove_file(&options.control_socket);
    outcome
}

async fn sleep_until(clock: &Clock, deadline: Option<vrrp_core::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(clock.to_tokio(at)).await,
        None => std::future::pending().await,
    }
}

impl Daemon {
    async fn start(&mut self) {
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            let ifindex = self.instances[index].link.index;
            if self.links_up.get(&ifindex) == Some(&false) {
                self.feed(index, now, Input::InterfaceDown).await;
            }
            self.feed(index, now, Input::Startup).await;
        }
    }

    /// Every master resigns (priority-0 adverts go out at once, in instance order); the VIP removals
    /// they queue are then finished, within `VIP_DRAIN_LIMIT`.
    async fn shutdown(mut self) {
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            self.feed(index, now, Input::Shutdown).await;
            self.instances[index].stop_announcing();
        }
        self.vip_worker.drain(VIP_DRAIN_LIMIT).await;
    }

    fn next_deadline(&self) -> Option<vrrp_core::Instant> {
        self.instances
            .iter()
            .filter_map(|i| i.router.next_deadline())
            .min()
    }

    async fn fire_timers(&mut self) {
        let now = self.clock.now();
        for index in 0..self.instances.len() {
            if self.instances[index]
                .router
                .next_deadline()
                .is_some_and(|at| at <= now)
            {
                self.feed(index, now, Input::Timer).await;
            }
        }
    }

    /// Gives one input to one instance's router and executes what it returns.
    pub async fn feed(&mut self, index: usize, now: vrrp_core::Instant, input: Input) {
        let actions = self.instances[index].router.handle(now, input);
        self.execute(index, actions).await;
    }

    async fn handle_event(&mut self, event: Event) {
        match event {
            Event::Packet {
                socket,
                bytes,
                src,
                dst,
                ttl,
                kernel_drops,
            } => {
                self.count_kernel_drops(socket, kernel_drops);
                self.handle_packet(socket, &bytes, src, dst, ttl).await
            }
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
            Event::Dropped { reason } => *self.discards.entry(reason.to_owned()).or_default() += 1,
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

    async fn handle_packet(
        &mut self,
        socket: usize,
        bytes: &[u8],
        src: IpAddr,
        dst: IpAddr,
        ttl: u8,
    ) {
        let now = self.clock.now();
        let find = |instances: &[Instance], vrid: u8| {
            instances
                .iter()
                .position(|i| i.socket == socket && i.config.vrid == vrid)
        };
        match receive::judge(bytes, src, dst, ttl, |vrid| {
            find(&self.instances, vrid).is_some()
        }) {
            Verdict::Advert {
                vrid,
                repr,
                checksum,
            } => {
                if let Some(index) = find(&self.instances, vrid) {
                    self.instances[index].counters.adverts_received += 1;
                    self.feed(index, now, Input::Advert { source: src, repr })
                        .await;
                    let instance = &mut self.instances[index];
                    if instance
                        .router
                        .known_master()
                        .is_some_and(|m| m.address == src)
                    {
                        instance.master_checksum = Some(checksum);
                    }
                }
            }
            Verdict::Dropped { vrid, reason } => {
                debug!(%src, ?vrid, reason, "advert dropped");
                match vrid.and_then(|v| find(&self.instances, v)) {
                    Some(index) => self.instances[index].counters.discard(reason),
                    None => *self.discards.entry(reason.to_owned()).or_default() += 1,
                }
            }
        }
    }

    fn count_kernel_drops(&mut self, socket: usize, total: u32) {
        let seen = self.kernel_drops.insert(socket, total).unwrap_or(0);
        let new = total.wrapping_sub(seen);
        if new > 0 {
            *self.discards.entry(KERNEL_DROPPED.to_owned()).or_default() += u64::from(new);
        }
    }

    pub fn status(&self) -> Status {
        Status {
            pid: std::process::id(),
            router_id: self.router_id.clone(),
            instances: self.instances.iter().map(Instance::status).collect(),
            discards: self.discards.clone(),
        }
    }
}
