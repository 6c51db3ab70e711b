//! The protocol loop reads the raw VRRP sockets itself: each readable socket is read a batch at a
//! time (`recvmmsg` into preallocated slots) and every datagram goes to the core straight from its
//! slot, with no task, channel or allocation in between.

use std::io;
use std::task::{Context, Poll, Waker};

use tracing::warn;
use vrrp_core::{Datagram, NodeInput};

use super::event::SocketId;
use super::state::Daemon;
use crate::net::RecvBatch;

/// The receive buffers and the failure count (for rate-limited warnings).
#[derive(Default)]
pub struct Receiving {
    pub batch: RecvBatch,
    failures: u64,
}

impl Receiving {
    fn failed(&mut self, what: &dyn std::fmt::Display, interface: &str) {
        self.failures += 1;
        if self.failures.is_power_of_two() {
            warn!(interface, error = %what, failures = self.failures, "receive failed");
        }
    }
}

impl Daemon {
    /// Feeds the core the batch `received` on `socket` (held in `receiving`).
    pub async fn take_batch(
        &mut self,
        socket: SocketId,
        received: io::Result<usize>,
        receiving: &mut Receiving,
    ) {
        let interface = self.io.socket(socket);
        let interface = interface.as_ref().map_or("", |s| s.ifname());
        let count = match received {
            Ok(count) => count,
            Err(e) => return receiving.failed(&e, interface),
        };
        let Some(link) = self.io.socket_link(socket) else {
            return;
        };
        for index in 0..count {
            let packet = match receiving.batch.get(index) {
                Ok(packet) => packet,
                Err(e) => {
                    receiving.failed(&e, interface);
                    continue;
                }
            };
            let new_drops = self.io.new_kernel_drops(socket, packet.kernel_drops);
            self.counters.kernel_dropped(new_drops);
            let datagram = Datagram {
                link,
                source: packet.src,
                destination: packet.dst,
                hop_limit: packet.ttl,
                payload: packet.payload,
            };
            self.feed(self.clock.now(), NodeInput::Datagram(datagram))
                .await;
        }
    }

    /// Before the timers fire: what the sockets already signalled goes to the core first, so an
    /// advert that arrived while the loop was busy counts before a Master_Down timer. Bounded (two
    /// batches per socket), so a flood cannot hold the timers back.
    pub async fn take_queued(&mut self, receiving: &mut Receiving) {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..self.io.socket_count() * 2 {
            match self.io.poll_receive(&mut cx, &mut receiving.batch) {
                Poll::Ready((socket, received)) => {
                    self.take_batch(socket, received, receiving).await
                }
                Poll::Pending => break,
            }
        }
    }
}
