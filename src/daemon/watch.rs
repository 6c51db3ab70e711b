//! The kernel-side bookkeeping of the interfaces the instances live on: the running DAD waits, and when
//! each interface's last address event was handled (so an older periodic re-read cannot undo it). No
//! protocol state: that is the core's.

use std::collections::HashMap;

use super::link_local::DadWaits;

#[derive(Default)]
pub struct InterfaceWatch {
    pub dad_waits: DadWaits,
    last_address_event: HashMap<u32, vrrp_core::Instant>,
}

impl InterfaceWatch {
    pub fn saw_address_event(&mut self, ifindex: u32, at: vrrp_core::Instant) {
        self.last_address_event.insert(ifindex, at);
    }

    /// Whether a re-read of `ifindex`'s addresses started at `read_at` is newer than its last event.
    pub fn snapshot_is_current(&self, ifindex: u32, read_at: vrrp_core::Instant) -> bool {
        self.last_address_event
            .get(&ifindex)
            .is_none_or(|&at| at < read_at)
    }
}

#[cfg(test)]
mod tests {
    use super::InterfaceWatch;
    use vrrp_core::Instant;

    #[test]
    fn a_snapshot_read_before_the_last_event_is_not_current() {
        let mut watch = InterfaceWatch::default();
        let read_at = Instant::from_micros(1_000);
        assert!(watch.snapshot_is_current(3, read_at), "no event yet");
        watch.saw_address_event(3, Instant::from_micros(2_000));
        assert!(!watch.snapshot_is_current(3, read_at));
        assert!(watch.snapshot_is_current(4, read_at), "per interface");
        assert!(watch.snapshot_is_current(3, Instant::from_micros(3_000)));
    }
}
