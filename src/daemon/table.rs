//! What the shell knows about each instance beyond the core's view: its name and config, the interface
//! it lives on and the socket it uses. Static between reloads; no protocol state lives here.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use vrrp_core::InstanceId;

use super::event::SocketId;
use crate::config::{self, Scope};
use crate::net::netlink::{Vip as NetVip, VipScope};

/// What the daemon learned about an interface at startup.
#[derive(Debug, Clone)]
pub struct LinkInfo {
    pub index: u32,
    pub mac: [u8; 6],
    /// Source of IPv4 adverts and the tie-break address.
    pub primary_v4: Option<std::net::Ipv4Addr>,
    /// Source of unsolicited NAs (updated when it leaves DAD again after a link flap).
    pub link_local: Option<Ipv6Addr>,
}

#[derive(Debug, Clone)]
pub struct InstanceInfo {
    pub config: config::Instance,
    pub link: LinkInfo,
    pub socket: SocketId,
}

impl InstanceInfo {
    pub fn name(&self) -> &str {
        &self.config.name
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

    pub fn get(&self, id: InstanceId) -> Option<&InstanceInfo> {
        self.by_id.get(&id)
    }

    pub fn get_mut(&mut self, id: InstanceId) -> Option<&mut InstanceInfo> {
        self.by_id.get_mut(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (InstanceId, &InstanceInfo)> + '_ {
        self.by_id.iter().map(|(&id, info)| (id, info))
    }

    /// The instance called `name`.
    pub fn find(&self, name: &str) -> Option<InstanceId> {
        self.iter()
            .find(|(_, info)| info.config.name == name)
            .map(|(id, _)| id)
    }

    /// The instances on interface `ifindex`.
    pub fn on_link(&self, ifindex: u32) -> Vec<InstanceId> {
        self.iter()
            .filter(|(_, info)| info.link.index == ifindex)
            .map(|(id, _)| id)
            .collect()
    }

    /// The interfaces instances live on, each once.
    pub fn ifindexes(&self) -> Vec<u32> {
        let mut indexes: Vec<u32> = self.by_id.values().map(|i| i.link.index).collect();
        indexes.sort_unstable();
        indexes.dedup();
        indexes
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
                index: 2,
                mac: [0; 6],
                primary_v4: None,
                link_local: None,
            },
            socket: SocketId(0),
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
}
