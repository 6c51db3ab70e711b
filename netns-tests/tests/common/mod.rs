//! Helpers shared by the net-layer root tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use netns_tests::{HOST_IF, in_netns, kernel};

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
