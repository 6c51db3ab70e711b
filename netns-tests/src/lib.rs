//! Test harness for root tests: labs of network namespaces on a bridge, processes inside them, packet
//! captures, kernel queries, bounded waits, and cleanup that also runs when a test panics.
//!
//! Network rule: everything that sends packets runs inside namespaces a `Lab` creates, with
//! documentation addresses only (192.0.2.0/24, 2001:db8::/64, link-local fe80::/64).

pub mod capture;
pub mod cmd;
pub mod error;
pub mod faults;
pub mod frames;
pub mod frr;
pub mod haproxy;
pub mod haproxy_lab;
pub mod http;
pub mod keepalived;
pub mod kernel;
pub mod lab;
pub mod matrix;
pub mod netns;
pub mod pcap;
pub mod ping;
pub mod process;
pub mod root;
pub mod vrrp;
pub mod wait;

pub use capture::{Capture, tcpdump_text};
pub use error::{HarnessError, Result};
pub use lab::{HOST_IF, Host, Ipv6Mode, Lab, LabBuilder};
pub use netlab::Switch;
pub use netns::{block_on_in_netns, in_netns, netns_with_prefix};
pub use pcap::Frame;
pub use process::Proc;
pub use root::require_root;
pub use wait::{wait_for, wait_for_value};
pub mod daemon;
