//! Watches the lab's wire from the observer namespace: every VRRP advert and every gratuitous ARP
//! for the VIP, with the time it arrived. Takeover and handover times in the demo are measured on
//! these, not on the routers' own logs.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::lab;
use crate::net::{Netlink, VrrpSocket};

/// How long a capture thread blocks before it looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// One advert seen on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Sighting {
    pub at: Instant,
    pub src: IpAddr,
    pub priority: u8,
}

/// A gratuitous ARP for the VIP seen on the wire: who sent it (its Ethernet address), and when.
#[derive(Debug, Clone, Copy)]
pub struct Garp {
    pub at: Instant,
    pub mac: [u8; 6],
}

pub struct Observer {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    sightings: mpsc::Receiver<Sighting>,
    seen: Vec<Sighting>,
    garps: mpsc::Receiver<Garp>,
    garps_seen: Vec<Garp>,
}

impl Observer {
    /// Starts listening on `eth0` in `namespace`, bound to `address`, for adverts, and for
    /// gratuitous ARPs announcing `vip`.
    pub fn start(namespace: &str, address: Ipv4Addr, vip: Ipv4Addr) -> Result<Observer, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, sightings) = mpsc::channel();
        let (garp_tx, garps) = mpsc::channel();
        let mut observer = Observer {
            stop,
            threads: Vec::new(),
            sightings,
            seen: Vec::new(),
            garps,
            garps_seen: Vec::new(),
        };
        // Pushed as they start, so that a failure of the second still stops the first (Drop).
        let adverts = start_adverts(namespace, address, Arc::clone(&observer.stop), tx)?;
        observer.threads.push(adverts);
        let garps = start_garps(namespace, vip, Arc::clone(&observer.stop), garp_tx)?;
        observer.threads.push(garps);
        Ok(observer)
    }

    /// Every advert seen so far, oldest first.
    pub fn sightings(&mut self) -> &[Sighting] {
        self.seen.extend(self.sightings.try_iter());
        &self.seen
    }

    /// Every gratuitous ARP for the VIP seen so far, oldest first.
    pub fn garps(&mut self) -> &[Garp] {
        self.garps_seen.extend(self.garps.try_iter());
        &self.garps_seen
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Waits (bounded) for a capture thread to say it listens.
fn await_ready(
    what: &str,
    thread: std::thread::JoinHandle<()>,
    ready: &mpsc::Receiver<Result<(), String>>,
) -> Result<std::thread::JoinHandle<()>, String> {
    match ready.recv_timeout(Duration::from_secs(5)) {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(e)) => Err(format!("observer ({what}): {e}")),
        Err(_) => Err(format!("observer ({what}) did not start")),
    }
}

fn start_adverts(
    namespace: &str,
    address: Ipv4Addr,
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Sighting>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let handle = lab::netns_handle(namespace)?;
    let (ready_tx, ready) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = lab::enter_netns(&handle).and_then(|()| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        });
        match runtime {
            Ok(runtime) => runtime.block_on(listen(address, stop, tx, ready_tx)),
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        }
    });
    await_ready("adverts", thread, &ready)
}

fn start_garps(
    namespace: &str,
    vip: Ipv4Addr,
    stop: Arc<AtomicBool>,
    tx: mpsc::Sender<Garp>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let handle = lab::netns_handle(namespace)?;
    let (ready_tx, ready) = mpsc::channel();
    let thread =
        std::thread::spawn(
            move || match lab::enter_netns(&handle).and_then(|()| arp_socket()) {
                Ok(socket) => {
                    let _ = ready_tx.send(Ok(()));
                    capture_garps(&socket, vip, &stop, &tx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            },
        );
    await_ready("gratuitous ARP", thread, &ready)
}

/// A packet socket that receives every ARP packet of the namespace, without the Ethernet header
/// (the sender's address is in the ARP payload). The observer namespace has only `lo` and `eth0`,
/// and ARP never runs on `lo`, so no bind to `eth0` is needed.
fn arp_socket() -> Result<Socket, String> {
    let protocol = u16::try_from(libc::ETH_P_ARP).map_err(|e| e.to_string())?;
    let socket = Socket::new(
        Domain::PACKET,
        Type::DGRAM,
        Some(Protocol::from(i32::from(protocol.to_be()))),
    )
    .map_err(|e| format!("ARP capture socket: {e}"))?;
    socket
        .set_read_timeout(Some(POLL))
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

fn capture_garps(mut socket: &Socket, vip: Ipv4Addr, stop: &AtomicBool, tx: &mpsc::Sender<Garp>) {
    let mut buf = [0u8; 128];
    while !stop.load(Ordering::Relaxed) {
        let Ok(n) = socket.read(&mut buf) else {
            continue;
        };
        let at = Instant::now();
        if let Some(mac) = garp_sender(&buf[..n.min(buf.len())], vip) {
            let _ = tx.send(Garp { at, mac });
        }
    }
}

/// The sender's Ethernet address if `arp` (an IPv4-over-Ethernet ARP packet) is gratuitous for
/// `vip`: sender and target protocol addresses both the VIP, request or reply.
fn garp_sender(arp: &[u8], vip: Ipv4Addr) -> Option<[u8; 6]> {
    let header_ok = arp.get(0..6)? == [0, 1, 8, 0, 6, 4];
    let sender_ip = arp.get(14..18)?;
    let target_ip = arp.get(24..28)?;
    let gratuitous = sender_ip == vip.octets() && target_ip == vip.octets();
    (header_ok && gratuitous).then(|| arp.get(8..14)?.try_into().ok())?
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
        let Ok(Ok(received)) = tokio::time::timeout(POLL, socket.recv(&mut buf)).await else {
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

#[cfg(test)]
mod tests {
    use super::*;

    const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

    fn arp(sender_ip: [u8; 4], target_ip: [u8; 4]) -> Vec<u8> {
        let mut packet = vec![0, 1, 8, 0, 6, 4, 0, 1];
        packet.extend([2, 0x6b, 0x76, 0, 0, 2]);
        packet.extend(sender_ip);
        packet.extend([0; 6]);
        packet.extend(target_ip);
        packet
    }

    #[test]
    fn only_an_arp_for_the_vip_from_the_vip_is_gratuitous() {
        let vip = VIP.octets();
        assert_eq!(
            garp_sender(&arp(vip, vip), VIP),
            Some([2, 0x6b, 0x76, 0, 0, 2])
        );
        assert_eq!(garp_sender(&arp([192, 0, 2, 250], vip), VIP), None);
        assert_eq!(garp_sender(&arp(vip, vip)[..20], VIP), None);
        let other = Ipv4Addr::new(192, 0, 2, 7);
        assert_eq!(garp_sender(&arp(vip, vip), other), None);
    }
}
