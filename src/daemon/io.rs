//! What the daemon owns that talks to the kernel: the raw sockets, netlink, the frame sender, the VIP
//! worker, the running GARP/NA schedules, and the channel the feeder tasks report on. No protocol
//! state lives here (that is the core's `Node`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use vrrp_core::InstanceId;

use super::event::{Event, SocketId};
use super::vips::VipWorker;
use crate::net::{FrameSender, Netlink, VrrpSocket};

pub struct Io {
    sockets: Vec<Arc<VrrpSocket>>,
    pub netlink: Arc<Netlink>,
    pub frames: Arc<FrameSender>,
    pub vip_worker: VipWorker,
    pub events: mpsc::Sender<Event>,
    /// The GARP/NA schedule of each instance that is master.
    announcers: HashMap<InstanceId, JoinHandle<()>>,
    /// Last kernel drop counter seen per socket, to count only what is new.
    kernel_drops_seen: HashMap<SocketId, u32>,
}

impl Io {
    pub fn new(
        sockets: Vec<Arc<VrrpSocket>>,
        netlink: Arc<Netlink>,
        frames: Arc<FrameSender>,
        events: mpsc::Sender<Event>,
    ) -> Io {
        Io {
            sockets,
            vip_worker: VipWorker::spawn(netlink.clone()),
            netlink,
            frames,
            events,
            announcers: HashMap::new(),
            kernel_drops_seen: HashMap::new(),
        }
    }

    pub fn socket(&self, id: SocketId) -> Option<&Arc<VrrpSocket>> {
        self.sockets.get(id.0)
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
