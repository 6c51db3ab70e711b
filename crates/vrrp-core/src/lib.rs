//! The VRRP protocol machine (RFC 5798 as updated by RFC 9568; VRRPv2 per RFC 3768), sans-IO.
//!
//! A [`Router`] is one virtual router. It never reads a clock, opens a socket or draws a random number:
//! the caller passes the time into every call, feeds it [`Input`]s (startup, parsed adverts, tracker and
//! link changes, timer expiry) and executes the [`Action`]s it returns (send this advert, add/remove
//! VIPs, announce them, report a state change, count a discard). [`Router::next_deadline`] says when to
//! come back. [`SyncGroup`] moves several routers together. [`Node`] owns every router and sync group of
//! one host (dispatch of received datagrams through the RFC 5798 §7.1 checklist, one merged deadline,
//! add / remove / reconfigure, counters): the daemon and the simulator both drive it.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use vrrp_core::{Action, Config, Input, Instant, Micros, Router};
//! use vrrp_wire::Addresses;
//!
//! let config = Config::new(1, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
//!     Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 100)]));
//! let mut router = Router::new(config).unwrap();
//! let mut now = Instant::ZERO;
//! router.handle(now, Input::Startup); // -> Backup, Master_Down_Timer running
//! while let Some(deadline) = router.next_deadline() {
//!     now = deadline;
//!     let actions = router.handle(now, Input::Timer);
//!     if actions.iter().any(|a| matches!(a, Action::AddVips(_))) { break; }
//! }
//! assert_eq!(now, Instant::ZERO + Micros::from_micros(3_609_375));
//! ```

pub mod config;
pub mod health;
pub mod input;
pub mod node;
pub mod router;
pub mod split_brain_report;
pub mod sync_group;
pub mod time;
pub mod timers;
pub mod vips;

pub use config::{
    Config, ConfigError, DEFAULT_ADVERT_INTERVAL, OWNER_PRIORITY, TrackerConfig, TrackerId,
};
pub use health::TrackerStatus;
pub use input::{Action, Discard, FaultCause, Input, Reason, Report, StateKind};
pub use node::{
    Counters, Datagram, GroupId, InstanceId, InstanceView, LinkId, Node, NodeAction, NodeError,
    NodeInput, Reconfigure, Transition, UNKNOWN_VRID,
};
pub use router::{KnownMaster, Router, State};
pub use split_brain_report::{Difference, LikelyCause, SplitBrain};
pub use sync_group::{GroupInput, MemberId, SyncGroup};
pub use time::{Instant, Micros};
pub use vips::VipSet;
