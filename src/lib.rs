//! keepvip: the IO shell around vrrp-core. Config, sockets, netlink, trackers, notify and control live here;
//! every protocol decision lives in vrrp-core.
pub mod cli;
pub mod config;
pub mod control;
pub mod daemon;
pub mod demo;
pub mod logging;
pub mod net;
