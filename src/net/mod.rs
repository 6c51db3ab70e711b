//! The Linux-facing layer: raw VRRP sockets, the AF_PACKET sender for gratuitous ARP / unsolicited NA,
//! rtnetlink (interfaces, VIPs, link state, IPv6 DAD, vmac macvlans), nf_tables (the drop of
//! `accept = false`) and per-interface sysctls. No protocol decisions: the daemon feeds what arrives
//! here into vrrp-core and executes the actions it returns through these calls.
//!
//! Everything but nf_tables (blocking calls, run on tokio's blocking pool) is async on tokio (`AsyncFd` for the sockets, rtnetlink's tokio connection); call from
//! inside a runtime with IO enabled. Sockets and netlink connections belong to the network namespace of
//! the thread that opens them.

pub mod garp;
pub mod netlink;
pub mod nftables;
pub(crate) mod sys;
pub mod sysctl;
pub mod vrrp_socket;

pub use garp::FrameSender;
pub use netlink::Netlink;
pub use vrrp_socket::{Received, RecvBatch, VrrpSocket};
