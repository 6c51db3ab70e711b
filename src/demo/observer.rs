//! Watches the lab's wire from the observer namespace: every VRRP advert, with the time it arrived.
//! Takeover times in the demo are measured on these sightings, not on the routers' own logs.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sched::{CloneFlags, setns};

use crate::net::{Netlink, VrrpSocket};

/// One advert seen on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Sighting {
    pub at: Instant,
    pub src: IpAddr,
    pub priority: u8,
}

pub struct Observer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    sightings: mpsc::Receiver<Sighting>,
    seen: Vec<Sighting>,
}

impl Observer {
    /// Starts listening on `eth0` in `namespace`, bound to `address`.
    pub fn start(namespace: &str, address: Ipv4Addr) -> Result<Observer, String> {
        let handle = File::open(Path::new(netlab::NETNS_DIR).join(namespace))
            .map_err(|e| format!("observer namespace {namespace}: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, sightings) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let stop_flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let result = setns(&handle, CloneFlags::CLONE_NEWNET)
                .map_err(|e| format!("setns: {e}"))
                .and_then(|()| {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| e.to_string())
                });
            let runtime = match result {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(listen(address, stop_flag, tx, ready_tx));
        });
        match ready.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => Ok(Observer {
                stop,
                thread: Some(thread),
                sightings,
                seen: Vec::new(),
            }),
            Ok(Err(e)) => Err(format!("observer: {e}")),
            Err(_) => Err("observer did not start".into()),
        }
    }

    /// Everything seen so far, oldest first.
    pub fn sightings(&mut self) -> &[Sighting] {
        self.seen.extend(self.sightings.try_iter());
        &self.seen
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn listen(
    address: Ipv4Addr,
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Sighting>,
    ready: mpsc::Sender<Result<(), String>>,
) {
    let socket = async {
        let netlink = Netlink::connect().map_err(|e| e.to_string())?;
        let link = netlink
            .link_by_name("eth0")
            .await
            .map_err(|e| e.to_string())?;
        VrrpSocket::open_v4("eth0", link.index, address).map_err(|e| e.to_string())
    }
    .await;
    let socket = match socket {
        Ok(socket) => {
            let _ = ready.send(Ok(()));
            socket
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut buf = vec![0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        let Ok(Ok(received)) =
            tokio::time::timeout(Duration::from_millis(100), socket.recv(&mut buf)).await
        else {
            continue;
        };
        let at = Instant::now();
        let priority = buf
            .get(received.payload.clone())
            .and_then(|p| p.get(2).copied())
            .unwrap_or(0);
        let _ = tx.send(Sighting {
            at,
            src: received.src,
            priority,
        });
    }
}
