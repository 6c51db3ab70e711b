//! What the shell knows about each instance beyond the core's view: its name and config, the interface
//! it lives on and the socket it uses. No protocol state lives here.
//!
//! Interfaces are followed by name: each name gets a `LinkId` for good (the core dispatches by it), and
//! the table is the one place that maps the kernel's current ifindex to it. A deleted and re-created
//! interface has a new ifindex but keeps its `LinkId`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use vrrp_core::{InstanceId, LinkId};

use super::event::SocketId;
use super::routes::RouteSet;
use crate::config::{self, Scope};
use crate::net::VrrpSocket;
use crate::net::netlink::{MacvlanSpec, Vip as NetVip, VipScope};

/// What the daemon knows about an instance's interface, re-read when it is re-created or renumbered.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    /// The interface's id for the core, stable across re-creation.
    pub id: LinkId,
    /// The kernel's current ifindex; [`ABSENT`] while the interface does not exist.
    pub index: u32,
    pub mac: [u8; 6],
    /// Source of IPv4 adverts and the tie-break address.
    pub primary_v4: Option<std::net::Ipv4Addr>,
    /// Source of unsolicited NAs (updated when it leaves DAD again after a link flap).
    pub link_local: Option<Ipv6Addr>,
}

/// The ifindex of an interface that does not exist (Linux never gives out 0).
pub const ABSENT: u32 = 0;

#[derive(Debug, Clone)]
pub struct InstanceInfo {
    pub config: config::Instance,
    pub link: LinkInfo,
    pub socket: SocketId,
    /// The macvlan of a `vmac` instance.
    pub vmac: Option<VmacLink>,
}

impl InstanceInfo {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The virtual routes and rules the instance installs while master.
    pub fn route_set(&self) -> RouteSet {
        RouteSet {
            routes: self.config.routes.clone(),
            rules: self.config.rules.clone(),
        }
    }

    /// How to install `address` (prefix, label, scope as configured); an address the config does not
    /// list gets a host prefix and global scope.
    pub fn install_spec(&self, address: IpAddr) -> NetVip {
        let configured = self
            .config
            .vips
            .iter()
            .chain(&self.config.excluded_vips)
            .find(|vip| vip.addr == address);
        match configured {
            Some(vip) => NetVip {
                address,
                prefix_len: vip.prefix,
                label: vip.label.clone(),
                scope: Some(net_scope(vip.scope)),
            },
            None => NetVip {
                address,
                prefix_len: if address.is_ipv4() { 32 } else { 128 },
                label: None,
                scope: Some(VipScope::Global),
            },
        }
    }
}

fn net_scope(scope: Scope) -> VipScope {
    match scope {
        Scope::Global => VipScope::Global,
        Scope::Site => VipScope::Site,
        Scope::Link => VipScope::Link,
        Scope::Host => VipScope::Host,
    }
}

/// Every instance's shell-side facts, by the id the core's `Node` gave it.
#[derive(Debug, Default)]
pub struct InstanceTable {
    by_id: BTreeMap<InstanceId, InstanceInfo>,
}

impl InstanceTable {
    pub fn insert(&mut self, id: InstanceId, info: InstanceInfo) {
        self.by_id.insert(id, info);
    }

    /// Forgets an instance (reload removed it).
    pub fn remove(&mut self, id: InstanceId) -> Option<InstanceInfo> {
        self.by_id.remove(&id)
    }

    /// An instance's config, replaced by a reload.
    pub fn set_config(&mut self, id: InstanceId, config: config::Instance) {
        if let Some(info) = self.by_id.get_mut(&id) {
            info.config = config;
        }
    }

    pub fn get(&self, id: InstanceId) -> Option<&InstanceInfo> {
        self.by_id.get(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (InstanceId, &InstanceInfo)> + '_ {
        self.by_id.iter().map(|(&id, info)| (id, info))
    }

    /// The macvlan slot of a vmac instance (kept by `vmac`).
    pub fn vmac_mut(&mut self, id: InstanceId) -> Option<&mut Option<VmacLink>> {
        self.by_id.get_mut(&id).map(|info| &mut info.vmac)
    }

    /// The instance called `name`.
    pub fn find(&self, name: &str) -> Option<InstanceId> {
        self.iter()
            .find(|(_, info)| info.config.name == name)
            .map(|(id, _)| id)
    }

    /// The instances on interface `ifindex` (an interface that exists now).
    pub fn on_link(&self, ifindex: u32) -> Vec<InstanceId> {
        if ifindex == ABSENT {
            return Vec::new();
        }
        self.iter()
            .filter(|(_, info)| info.link.index == ifindex)
            .map(|(id, _)| id)
            .collect()
    }

    /// The instances on `link`, whether its interface exists or not.
    pub fn on_link_id(&self, link: LinkId) -> Vec<InstanceId> {
        self.iter()
            .filter(|(_, info)| info.link.id == link)
            .map(|(id, _)| id)
            .collect()
    }

    /// The link whose interface has index `ifindex` now.
    pub fn link_of(&self, ifindex: u32) -> Option<LinkId> {
        self.by_id
            .values()
            .find(|info| ifindex != ABSENT && info.link.index == ifindex)
            .map(|info| info.link.id)
    }

    /// The link followed under `name`.
    pub fn link_named(&self, name: &str) -> Option<LinkId> {
        self.by_id
            .values()
            .find(|info| info.config.interface == name)
            .map(|info| info.link.id)
    }

    /// What is known about `link`'s interface (every instance on it holds the same).
    pub fn link(&self, link: LinkId) -> Option<&LinkInfo> {
        self.by_id
            .values()
            .map(|info| &info.link)
            .find(|info| info.id == link)
    }

    /// The interface name `link` follows (the first instance's, for names that were one interface).
    pub fn link_name(&self, link: LinkId) -> Option<&str> {
        self.by_id
            .values()
            .find(|info| info.link.id == link)
            .map(|info| info.config.interface.as_str())
    }

    /// Updates what is known about `link`'s interface, for every instance on it.
    pub fn update_link(&mut self, link: LinkId, update: impl Fn(&mut LinkInfo)) {
        for info in self.by_id.values_mut().filter(|info| info.link.id == link) {
            update(&mut info.link);
        }
    }

    /// The interface names instances live on, each once.
    pub fn interface_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_id
            .values()
            .map(|i| i.config.interface.clone())
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_installed_as_configured_and_an_unlisted_one_as_a_host_address() {
        let text = r#"
[[instance]]
name = "VI_1"
interface = "eth0"
vrid = 51
priority = 100
vips = [{ address = "192.0.2.10/24", label = "eth0:vip", scope = "link" }]
excluded_vips = ["2001:db8::10/64"]
"#;
        let config = crate::config::parse_str(text, "t.toml").unwrap();
        let info = InstanceInfo {
            config: config.instances[0].clone(),
            link: LinkInfo {
                id: LinkId(0),
                index: 2,
                mac: [0; 6],
                primary_v4: None,
                link_local: None,
            },
            socket: SocketId(0),
            vmac: None,
        };
        let vip = info.install_spec("192.0.2.10".parse().unwrap());
        assert_eq!(vip.prefix_len, 24);
        assert_eq!(vip.label.as_deref(), Some("eth0:vip"));
        assert_eq!(vip.scope, Some(VipScope::Link));
        assert_eq!(
            info.install_spec("2001:db8::10".parse().unwrap())
                .prefix_len,
            64
        );
        let unlisted = info.install_spec("192.0.2.99".parse().unwrap());
        assert_eq!(
            (unlisted.prefix_len, unlisted.scope),
            (32, Some(VipScope::Global))
        );
    }

    fn instance_on(name: &str, interface: &str, link: u32, index: u32) -> InstanceInfo {
        let text = format!(
            "[[instance]]\nname = \"{name}\"\ninterface = \"{interface}\"\nvrid = 51\nvips = [\"192.0.2.10/24\"]\n"
        );
        let config = crate::config::parse_str(&text, "t.toml").unwrap();
        InstanceInfo {
            config: config.instances[0].clone(),
            link: LinkInfo {
                id: LinkId(link),
                index,
                mac: [0; 6],
                primary_v4: None,
                link_local: None,
            },
            socket: SocketId(0),
            vmac: None,
        }
    }

    #[test]
    fn links_are_found_by_name_always_and_by_ifindex_only_while_the_interface_exists() {
        let mut table = InstanceTable::default();
        table.insert(InstanceId(0), instance_on("VI_1", "eth0", 0, 7));
        table.insert(InstanceId(1), instance_on("VI_2", "eth1", 1, ABSENT));
        assert_eq!(table.link_named("eth0"), Some(LinkId(0)));
        assert_eq!(table.link_named("eth1"), Some(LinkId(1)));
        assert_eq!(table.link_of(7), Some(LinkId(0)));
        assert_eq!(
            table.link_of(ABSENT),
            None,
            "a missing interface has no ifindex"
        );
        assert!(table.on_link(ABSENT).is_empty());
        assert_eq!(table.on_link_id(LinkId(1)), vec![InstanceId(1)]);

        // Re-created with a new ifindex: same LinkId, the old ifindex no longer maps to it.
        table.update_link(LinkId(0), |l| l.index = 9);
        assert_eq!(table.link_of(9), Some(LinkId(0)));
        assert_eq!(table.link_of(7), None);
        assert_eq!(table.interface_names(), vec!["eth0", "eth1"]);
    }
}

/// An instance's macvlan as the shell knows it.
#[derive(Debug, Clone)]
pub struct VmacLink {
    pub spec: MacvlanSpec,
    pub index: u32,
    /// Adverts leave through it (receiving stays on the interface's socket).
    pub sender: Arc<VrrpSocket>,
    /// Whether keepvip set it up (it does so only while master).
    pub up: bool,
}

impl VmacLink {
    /// `link` as announcements from the macvlan see it: its index and the virtual MAC.
    pub fn announcing(&self, link: &LinkInfo) -> LinkInfo {
        LinkInfo {
            index: self.index,
            mac: self.spec.mac,
            ..link.clone()
        }
    }
}

impl InstanceInfo {
    /// Where the VIPs go: the interface, or a vmac instance's macvlan ([`ABSENT`] while it has none:
    /// VIPs on the interface would answer with its MAC).
    pub fn vip_ifindex(&self) -> u32 {
        match (&self.config.vmac, &self.vmac) {
            (None, _) => self.link.index,
            (Some(_), Some(vmac)) => vmac.index,
            (Some(_), None) => ABSENT,
        }
    }
}
