//! The tasks that feed the protocol loop: one receiver per raw socket and the link monitor. They only
//! read and forward; every decision is the loop's.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::warn;

use super::event_loop::Event;
use super::setup::SocketSlot;
use crate::net::VrrpSocket;
use crate::net::netlink::LinkEvents;

/// One task per socket: read, copy out, hand to the loop. Errors are logged and reading goes on.
pub fn spawn_receivers(
    slots: Vec<SocketSlot>,
    events: &mpsc::Sender<Event>,
) -> Vec<Arc<VrrpSocket>> {
    let mut sockets = Vec::with_capacity(slots.len());
    for (index, slot) in slots.into_iter().enumerate() {
        let socket = Arc::new(slot.socket);
        sockets.push(socket.clone());
        let events = events.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                match socket.recv(&mut buf).await {
                    Ok(received) => {
                        let Some(bytes) = buf.get(received.payload.clone()) else {
                            continue;
                        };
                        let event = Event::Packet {
                            socket: index,
                            bytes: bytes.to_vec(),
                            src: received.src,
                            dst: received.dst,
                            ttl: received.ttl,
                            kernel_drops: received.kernel_drops,
                        };
                        if events.send(event).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        warn!(interface = socket.ifname(), error = %e, "receive failed");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }
    sockets
}

pub fn spawn_link_monitor(mut link_events: LinkEvents, events: mpsc::Sender<Event>) {
    tokio::spawn(async move {
        loop {
            match link_events.next().await {
                Ok(event) => {
                    if events.send(Event::Link(event)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    warn!(error = %e, "link monitor stopped");
                    return;
                }
            }
        }
    });
}
