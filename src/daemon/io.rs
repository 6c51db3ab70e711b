//! What the daemon owns that talks to the kernel: the raw sockets, netlink, the frame sender, the VIP
//! worker, the running GARP/NA schedules, and the channel the feeder tasks report on. No protocol
//! state lives here (that is the core's `Node`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vrrp_core::{InstanceId, LinkId};

use super::accept_filter::AcceptFilter;
use super::event::{Event, SocketId};
use super::vips::VipWorker;
use crate::config::Family;
use crate::net::{FrameSender, Netlink, RecvBatch, VrrpSocket};

/// The raw socket of one (interface, family), replaced when the interface is re-created or
/// renumbered. The protocol loop reads it itself (`Io::poll_receive`).
pub struct SocketSlot {
    pub link: LinkId,
    pub family: Family,
    /// `None` while the interface does not exist.
    pub current: Option<Arc<VrrpSocket>>,
}

impl SocketSlot {
    pub fn new(link: LinkId, family: Family, socket: Option<VrrpSocket>) -> SocketSlot {
        SocketSlot {
            link,
            family,
            current: socket.map(Arc::new),
        }
    }
}

pub struct Io {
    sockets: Vec<SocketSlot>,
    pub netlink: Arc<Netlink>,
    pub frames: Arc<FrameSender>,
    pub vip_worker: VipWorker,
    pub events: mpsc::Sender<Event>,
    /// The GARP/NA schedule of each instance that is master.
    announcers: HashMap<InstanceId, JoinHandle<()>>,
    /// Last kernel drop counter seen per socket, to count only what is new.
    kernel_drops_seen: HashMap<SocketId, u32>,
    /// Where `poll_receive` starts looking next: after the socket it served last.
    next_socket: usize,
}

impl Io {
    pub fn new(
        sockets: Vec<SocketSlot>,
        netlink: Arc<Netlink>,
        frames: Arc<FrameSender>,
        events: mpsc::Sender<Event>,
        accept_filter: AcceptFilter,
    ) -> Io {
        Io {
            sockets,
            vip_worker: VipWorker::spawn(netlink.clone(), accept_filter, events.clone()),
            netlink,
            frames,
            events,
            announcers: HashMap::new(),
            kernel_drops_seen: HashMap::new(),
            next_socket: 0,
        }
    }

    /// The socket as it is now; `None` while its interface does not exist.
    pub fn socket(&self, id: SocketId) -> Option<Arc<VrrpSocket>> {
        self.sockets.get(id.0)?.current.clone()
    }

    /// The link a socket serves.
    pub fn socket_link(&self, id: SocketId) -> Option<LinkId> {
        self.sockets.get(id.0).map(|slot| slot.link)
    }

    /// The sockets of `link`, with their family.
    pub fn sockets_of(&self, link: LinkId) -> Vec<(SocketId, Family)> {
        self.sockets
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.link == link)
            .map(|(index, slot)| (SocketId(index), slot.family))
            .collect()
    }

    /// Replaces a socket (`None`: its interface is gone); the loop reads the new one from then on. A
    /// new socket starts a new kernel drop counter.
    pub fn replace_socket(&mut self, id: SocketId, socket: Option<VrrpSocket>) {
        if let Some(slot) = self.sockets.get_mut(id.0) {
            slot.current = socket.map(Arc::new);
        }
        self.kernel_drops_seen.remove(&id);
    }

    /// The socket slots, for building instances on reload (new slots go at the end).
    pub fn sockets_mut(&mut self) -> &mut Vec<SocketSlot> {
        &mut self.sockets
    }

    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// The first socket with datagrams queued, with one batch of them received into `batch`; the
    /// sockets are tried from the one after the last served, so a busy one cannot starve the others.
    /// `Pending` once every socket waits for its next datagram (`cx` is woken by the first).
    pub fn poll_receive(
        &mut self,
        cx: &mut Context<'_>,
        batch: &mut RecvBatch,
    ) -> Poll<(SocketId, std::io::Result<usize>)> {
        let count = self.sockets.len();
        for step in 0..count {
            let index = (self.next_socket + step) % count;
            let Some(Some(socket)) = self.sockets.get(index).map(|slot| &slot.current) else {
                continue;
            };
            if let Poll::Ready(received) = socket.poll_recv_batch(cx, batch) {
                self.next_socket = index + 1;
                return Poll::Ready((SocketId(index), received));
            }
        }
        Poll::Pending
    }

    /// Replaces the instance's GARP/NA schedule.
    pub fn start_announcing(&mut self, id: InstanceId, schedule: JoinHandle<()>) {
        if let Some(old) = self.announcers.insert(id, schedule) {
            old.abort();
        }
    }

    pub fn stop_announcing(&mut self, id: InstanceId) {
        if let Some(task) = self.announcers.remove(&id) {
            task.abort();
        }
    }

    /// The socket's cumulative drop counter is `total`: how many drops are new since the last look.
    pub fn new_kernel_drops(&mut self, socket: SocketId, total: u32) -> u64 {
        let seen = self.kernel_drops_seen.insert(socket, total).unwrap_or(0);
        u64::from(total.wrapping_sub(seen))
    }

    /// Stops every schedule and finishes the queued VIP changes (at most `limit`), for shutdown.
    pub async fn finish(mut self, limit: Duration) {
        for (_, task) in self.announcers.drain() {
            task.abort();
        }
        self.vip_worker.drain(limit).await;
    }
}
