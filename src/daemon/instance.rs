//! One configured virtual router at run time: the core's `Router`, the interface it lives on, and the
//! counters `keepvip status` shows.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use tokio::task::JoinHandle;
use vrrp_core::{Router, StateKind};
use vrrp_wire::ChecksumMode;

use crate::config::{self, Family};
use crate::control::InstanceStatus;

/// What the daemon learned about an interface at startup.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub index: u32,
    pub mac: [u8; 6],
    /// Source of IPv4 adverts and the tie-break address.
    pub primary_v4: Option<std::net::Ipv4Addr>,
    /// Source of IPv6 adverts and unsolicited NAs.
    pub link_local: Option<Ipv6Addr>,
}

#[derive(Debug, Default, Clone)]
pub struct Counters {
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub transitions: u64,
    pub send_errors: u64,
    pub discards: BTreeMap<String, u64>,
}

impl Counters {
    pub fn discard(&mut self, reason: &str) {
        *self.discards.entry(reason.to_owned()).or_default() += 1;
    }
}

pub struct Instance {
    pub config: config::Instance,
    pub router: Router,
    pub link: LinkInfo,
    /// Index of the (interface, family) socket this instance sends and receives on.
    pub socket: usize,
    pub counters: Counters,
    /// The running GARP/NA schedule while master.
    pub announcer: Option<JoinHandle<()>>,
    /// The checksum variant the current master's adverts use (interop diagnostics).
    pub master_checksum: Option<ChecksumMode>,
    /// The primary address is not usable on the interface (the core was told: `SourceAddressLost`).
    pub source_lost: bool,
}

impl Instance {
    pub fn family(&self) -> Family {
        self.config.family()
    }

    /// The address adverts leave from, as the core was configured with it.
    pub fn primary_address(&self) -> IpAddr {
        self.router.config().primary_address
    }

    pub fn stop_announcing(&mut self) {
        if let Some(task) = self.announcer.take() {
            task.abort();
        }
    }

    pub fn status(&self) -> InstanceStatus {
        let state = self.router.state().kind();
        let master = match state {
            StateKind::Master => Some(self.primary_address().to_string()),
            _ => self.router.known_master().map(|m| m.address.to_string()),
        };
        InstanceStatus {
            name: self.config.name.clone(),
            interface: self.config.interface.clone(),
            vrid: self.config.vrid,
            family: match self.family() {
                Family::Ipv4 => "ipv4".into(),
                Family::Ipv6 => "ipv6".into(),
            },
            version: match self.config.version {
                vrrp_wire::Version::V2 => 2,
                vrrp_wire::Version::V3 => 3,
            },
            state: state_name(state).into(),
            base_priority: self.config.priority,
            effective_priority: self.router.effective_priority(),
            advert_interval_cs: self.config.advert_interval.get(),
            master_adver_interval_cs: self.router.master_adver_interval().get(),
            master,
            vips: self
                .config
                .vips
                .iter()
                .map(|v| format!("{}/{}", v.addr, v.prefix))
                .collect(),
            adverts_sent: self.counters.adverts_sent,
            adverts_received: self.counters.adverts_received,
            transitions: self.counters.transitions,
            discards: self.counters.discards.clone(),
            master_checksum: match state {
                StateKind::Master => None,
                _ => self.master_checksum.map(|mode| match mode {
                    ChecksumMode::PseudoHeader => "pseudo-header".to_owned(),
                    ChecksumMode::MessageOnly => "message-only".to_owned(),
                }),
            },
        }
    }
}

/// keepalived's state names, which operators grep for.
pub fn state_name(state: StateKind) -> &'static str {
    match state {
        StateKind::Initialize => "INIT",
        StateKind::Backup => "BACKUP",
        StateKind::Master => "MASTER",
        StateKind::Fault => "FAULT",
    }
}
