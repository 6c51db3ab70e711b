//! Helpers shared by the net-layer root tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use std::io::Read;
use std::net::SocketAddrV6;

use keepvip::net::{Received, RecvBatch, VrrpSocket};
use netns_tests::{HOST_IF, in_netns, kernel};
use socket2::{Domain, Protocol, Socket, Type};
use vrrp_wire::VRRP_IPV6_GROUP;

/// How long a root test waits for a packet or an event.
pub const WAIT: Duration = Duration::from_secs(5);

/// Drive `future` on a fresh current-thread tokio runtime (inside whatever namespace the thread is in).
pub fn run<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// The ifindex of `eth0` in namespace `ns`.
pub fn ifindex(ns: &str) -> u32 {
    kernel::link_index_and_mac(ns, HOST_IF).unwrap().0
}

/// What the receiving side of an `exchange` gets: say when it is listening, learn when the sender is done.
pub struct Cue {
    ready: mpsc::Sender<()>,
    sent: mpsc::Receiver<()>,
}

impl Cue {
    pub fn ready(&self) {
        self.ready.send(()).unwrap();
    }

    pub fn wait_sent(&self) {
        self.sent.recv_timeout(Duration::from_secs(10)).unwrap();
    }
}

/// Run `receive` in namespace `rx_ns`; once it called `cue.ready()`, run `send` in `tx_ns`, then tell
/// the receiver (`cue.wait_sent()`). Returns both results; a panic on either side is re-raised.
pub fn exchange<R: Send, S: Send>(
    rx_ns: &str,
    receive: impl FnOnce(Cue) -> R + Send,
    tx_ns: &str,
    send: impl FnOnce() -> S + Send,
) -> (R, S) {
    let (ready_tx, ready_rx) = mpsc::channel();
    let (sent_tx, sent_rx) = mpsc::channel();
    thread::scope(|scope| {
        let receiver = scope.spawn(move || {
            in_netns(rx_ns, || {
                receive(Cue {
                    ready: ready_tx,
                    sent: sent_rx,
                })
            })
            .unwrap()
        });
        if ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
            // The receiver failed before it was ready: show its panic.
            std::panic::resume_unwind(receiver.join().err().unwrap());
        }
        let sent = in_netns(tx_ns, send).unwrap();
        let _ = sent_tx.send(());
        let received = receiver
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (received, sent)
    })
}

/// One datagram from a plain (blocking, read timeout set) socket.
pub fn read_datagram(socket: &Socket) -> Vec<u8> {
    let mut buf = [0u8; 1500];
    let len = (&mut &*socket).read(&mut buf).unwrap();
    buf[..len].to_vec()
}

/// Receive one packet on `socket`: (metadata, payload bytes).
pub async fn recv_one(socket: &VrrpSocket) -> (Received, Vec<u8>) {
    let mut buf = [0u8; 1500];
    let got = tokio::time::timeout(WAIT, socket.recv(&mut buf))
        .await
        .expect("no VRRP packet within 5 s")
        .unwrap();
    let payload = buf[got.payload.clone()].to_vec();
    (got, payload)
}

/// One datagram of a batch, copied out: payload, source, destination, TTL / hop limit.
pub type Batched = (Vec<u8>, std::net::IpAddr, std::net::IpAddr, u8);

/// Receives batches on `socket` until `want` datagrams came (within `WAIT`): the sizes of the batches
/// and the datagrams.
pub async fn recv_batches(socket: &VrrpSocket, want: usize) -> (Vec<usize>, Vec<Batched>) {
    let mut batch = RecvBatch::new();
    let (mut sizes, mut got) = (Vec::new(), Vec::new());
    while got.len() < want {
        let next = std::future::poll_fn(|cx| socket.poll_recv_batch(cx, &mut batch));
        let count = tokio::time::timeout(WAIT, next)
            .await
            .expect("no batch within 5 s")
            .unwrap();
        sizes.push(count);
        for index in 0..count {
            let packet = batch.get(index).unwrap();
            got.push((packet.payload.to_vec(), packet.src, packet.dst, packet.ttl));
        }
    }
    (sizes, got)
}

/// A plain IPv6 raw socket for protocol 112 on `ifindex`, without keepvip's options: no
/// IPV6_CHECKSUM, so it sends payloads exactly as given.
pub fn plain_v6_socket(ifindex: u32) -> Socket {
    let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112))).unwrap();
    socket.bind_device(Some(HOST_IF.as_bytes())).unwrap();
    socket.set_multicast_if_v6(ifindex).unwrap();
    socket.set_multicast_hops_v6(255).unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

pub fn group_v6(ifindex: u32) -> socket2::SockAddr {
    SocketAddrV6::new(VRRP_IPV6_GROUP, 0, 0, ifindex).into()
}
