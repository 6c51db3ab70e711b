//! The macvlan of a `vmac` instance: on the instance's interface (the parent), bridge mode, the virtual
//! router MAC (RFC 5798 §7.3), created down.
//!
//! Ownership: keepvip keeps no state file, so a macvlan is recognised as its own by what it is: a
//! `macvlan` named as the config names it, whose parent is the instance's interface and whose MAC is
//! the instance's virtual router MAC. Only such a link is ever deleted; a link of that name that differs
//! in any of the three is someone else's and stops startup instead (docs/linux.md §Virtual MAC).

use futures::TryStreamExt;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage, MacVlanMode};
use rtnetlink::{LinkMacVlan, LinkUnspec};

use super::{Netlink, NetlinkError};

/// The macvlan an instance wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanSpec {
    pub name: String,
    /// The ifindex of the instance's interface.
    pub parent: u32,
    pub mac: [u8; 6],
}

/// What a link of the wanted name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    Absent,
    /// keepvip's (see the module docs): its ifindex.
    Ours(u32),
    /// Someone else's: what differs.
    Foreign(String),
}

/// The parts of a link that decide ownership.
struct Identity {
    index: u32,
    is_macvlan: bool,
    parent: Option<u32>,
    mac: Option<[u8; 6]>,
}

impl Identity {
    fn of(message: &LinkMessage) -> Self {
        let mut identity = Identity {
            index: message.header.index,
            is_macvlan: false,
            parent: None,
            mac: None,
        };
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::Link(parent) => identity.parent = Some(*parent),
                LinkAttribute::Address(bytes) => {
                    identity.mac = <[u8; 6]>::try_from(bytes.as_slice()).ok();
                }
                LinkAttribute::LinkInfo(infos) => identity.read_info(infos),
                _ => {}
            }
        }
        identity
    }

    fn read_info(&mut self, infos: &[LinkInfo]) {
        self.is_macvlan |= infos
            .iter()
            .any(|info| matches!(info, LinkInfo::Kind(InfoKind::MacVlan)));
    }

    /// `Ours` or `Foreign` against `spec` (a leftover is rebuilt anyway, so its mode does not matter).
    fn judge(&self, spec: &MacvlanSpec) -> Existing {
        let mut differs = Vec::new();
        if !self.is_macvlan {
            differs.push("it is not a macvlan".to_owned());
        }
        if self.parent != Some(spec.parent) {
            differs.push(format!("its parent is not ifindex {}", spec.parent));
        }
        if self.mac != Some(spec.mac) {
            differs.push(format!("its MAC is not {}", format_mac(&spec.mac)));
        }
        if differs.is_empty() {
            Existing::Ours(self.index)
        } else {
            Existing::Foreign(differs.join(", "))
        }
    }
}

/// `00:00:5e:00:01:33`.
pub fn format_mac(mac: &[u8; 6]) -> String {
    let parts: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

impl Existing {
    /// What `link` (the kernel's answer for `spec.name`) is to keepvip.
    pub fn judge(link: &LinkMessage, spec: &MacvlanSpec) -> Existing {
        Identity::of(link).judge(spec)
    }
}

impl Netlink {
    /// What the link called `spec.name` is, if there is one.
    pub async fn macvlan_status(&self, spec: &MacvlanSpec) -> Result<Existing, NetlinkError> {
        let mut replies = self
            .handle
            .link()
            .get()
            .match_name(spec.name.clone())
            .execute();
        match replies.try_next().await {
            Ok(Some(message)) => Ok(Existing::judge(&message, spec)),
            Ok(None) => Ok(Existing::Absent),
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code().abs() == libc::ENODEV => {
                Ok(Existing::Absent)
            }
            Err(e) => Err(NetlinkError::request(format!("get link {}", spec.name), e)),
        }
    }

    /// Creates the macvlan, down. `EEXIST`: a link of that name appeared; `EADDRINUSE`: another link
    /// on the parent (or the parent itself) has the MAC.
    pub async fn create_macvlan(&self, spec: &MacvlanSpec) -> Result<u32, NetlinkError> {
        let message = LinkMacVlan::new(&spec.name, spec.parent, MacVlanMode::Bridge)
            .address(spec.mac.to_vec())
            .down()
            .build();
        let what = || format!("create macvlan {} on ifindex {}", spec.name, spec.parent);
        self.handle
            .link()
            .add(message)
            .execute()
            .await
            .map_err(|e| NetlinkError::request(what(), e))?;
        match self.macvlan_status(spec).await? {
            Existing::Ours(index) => Ok(index),
            Existing::Absent => Err(NetlinkError::NoSuchLink(spec.name.clone())),
            Existing::Foreign(why) => Err(NetlinkError::ForeignLink {
                name: spec.name.clone(),
                why,
            }),
        }
    }

    /// Deletes the macvlan if it is ours; `Ok(false)` if there is none. A foreign link is left alone.
    pub async fn delete_macvlan(&self, spec: &MacvlanSpec) -> Result<bool, NetlinkError> {
        let Existing::Ours(index) = self.macvlan_status(spec).await? else {
            return Ok(false);
        };
        match self.handle.link().del(index).execute().await {
            Ok(()) => Ok(true),
            // Gone in between (its parent deleted, say).
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code().abs() == libc::ENODEV => {
                Ok(false)
            }
            Err(e) => Err(NetlinkError::request(
                format!("delete macvlan {}", spec.name),
                e,
            )),
        }
    }

    /// `ip link set dev #index up|down`.
    pub async fn set_link_up(&self, index: u32, up: bool) -> Result<(), NetlinkError> {
        let builder = LinkUnspec::new_with_index(index);
        let message = if up { builder.up() } else { builder.down() }.build();
        let state = if up { "up" } else { "down" };
        self.handle
            .link()
            .change(message)
            .execute()
            .await
            .map_err(|e| NetlinkError::request(format!("set link #{index} {state}"), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: InfoKind, parent: u32, mac: [u8; 6]) -> LinkMessage {
        let mut message = LinkMessage::default();
        message.header.index = 9;
        message.attributes = vec![
            LinkAttribute::Link(parent),
            LinkAttribute::Address(mac.to_vec()),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(kind)]),
        ];
        message
    }

    #[test]
    fn a_link_is_ours_only_when_kind_parent_and_mac_all_match() {
        let spec = MacvlanSpec {
            name: "vrrp.51".into(),
            parent: 2,
            mac: [0, 0, 0x5e, 0, 1, 51],
        };
        let judge = |m: LinkMessage| Identity::of(&m).judge(&spec);
        assert_eq!(
            judge(message(InfoKind::MacVlan, 2, spec.mac)),
            Existing::Ours(9)
        );
        let Existing::Foreign(why) = judge(message(InfoKind::Dummy, 3, [2, 0, 0, 0, 0, 1])) else {
            panic!("a dummy is not ours");
        };
        assert_eq!(
            why,
            "it is not a macvlan, its parent is not ifindex 2, its MAC is not 00:00:5e:00:01:33"
        );
        assert!(matches!(
            judge(message(InfoKind::MacVlan, 2, [0, 0, 0x5e, 0, 1, 52])),
            Existing::Foreign(_)
        ));
    }
}
