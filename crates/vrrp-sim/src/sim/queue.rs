//! The event queue's entries, ordered by (virtual time, sequence number): two runs of one seed pop
//! them in the same order.

use std::cmp::Ordering;
use std::net::IpAddr;
use std::rc::Rc;

use vrrp_core::Instant;
use vrrp_wire::Repr;

use crate::model::{Event, HostId};

/// What the queue holds.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    Deliver {
        from: HostId,
        to: HostId,
        source: IpAddr,
        sent: Instant,
        repr: Rc<Repr>,
    },
    /// The host node's merged deadline (`Node::next_deadline`) as it was when queued.
    Timer {
        host: HostId,
        incarnation: u32,
    },
    Event(Event),
    /// A router's preempt-delay window closes (it may now preempt: a disturbance).
    PreemptWindowEnds {
        host: HostId,
        slot: usize,
    },
    /// Nothing happens, but the checks run at this instant (a settle window or a takeover deadline).
    Check,
}

#[derive(Debug, Clone)]
pub(super) struct Queued {
    pub(super) at: Instant,
    pub(super) seq: u64,
    pub(super) what: Pending,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}
