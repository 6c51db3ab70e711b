//! Virtual routes and rules (keepalived's `virtual_routes` / `virtual_rules`): installed while an
//! instance is master, marked as keepvip's so that crash leftovers can be found and removed.
//!
//! The marker: every route carries `rtm_protocol` = 112 and every rule `FRA_PROTOCOL` = 112, the same
//! number as the VIPs' IFA_PROTO (VRRP's IP protocol number). iproute2's rt_protos names 0..=18, 42,
//! 99 and 186..=192 (keepalived is 18, FRR uses up to 198); 112 is none of them. `ip route` shows it as
//! `proto 112`. Removal names the marker too, so the kernel never deletes a route or rule that someone
//! else installed with the same prefix (docs/linux.md §Routes and rules).

use std::net::IpAddr;

use futures::TryStreamExt;
use netlink_packet_route::AddressFamily;
use netlink_packet_route::route::{
    RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use rtnetlink::IpVersion;

use super::{Netlink, NetlinkError};

/// The route protocol and rule protocol marking what keepvip installed.
pub const KEEPVIP_ROUTE_PROTOCOL: u8 = 112;
/// RT_TABLE_COMPAT: what the header says when the table id needs the 32-bit attribute.
const TABLE_COMPAT: u8 = 252;

/// What a route does with matching packets (`ip route add TYPE ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteKind {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
}

/// A route to install, the output interface already resolved to its index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    pub destination: IpAddr,
    pub prefix_len: u8,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
    pub table: u32,
    pub metric: Option<u32>,
    pub src: Option<IpAddr>,
    pub kind: RouteKind,
}

/// A policy rule to install: packets matching `from` / `to` look up `table`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleSpec {
    pub ipv6: bool,
    pub from: Option<(IpAddr, u8)>,
    pub to: Option<(IpAddr, u8)>,
    pub table: u32,
    /// The rule's preference; the kernel picks one when absent.
    pub priority: Option<u32>,
}

/// How many marked routes and rules a cleanup removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub routes: usize,
    pub rules: usize,
}

fn family_of(ip: &IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

fn marker() -> RouteProtocol {
    RouteProtocol::from(KEEPVIP_ROUTE_PROTOCOL)
}

/// The table: in the header when it fits in 8 bits, and always in RTA_TABLE / FRA_TABLE.
fn header_table(table: u32) -> u8 {
    u8::try_from(table).unwrap_or(TABLE_COMPAT)
}

/// The message `ip route add` would send. `for_delete` widens the scope to "any", as `ip route del`
/// does, so the kernel matches the route whatever scope it was given.
pub(crate) fn route_message(route: &RouteSpec, for_delete: bool) -> RouteMessage {
    let mut message = RouteMessage::default();
    let header = &mut message.header;
    header.address_family = family_of(&route.destination);
    header.destination_prefix_length = route.prefix_len;
    header.table = header_table(route.table);
    header.protocol = marker();
    header.kind = match route.kind {
        RouteKind::Unicast => RouteType::Unicast,
        RouteKind::Blackhole => RouteType::BlackHole,
        RouteKind::Unreachable => RouteType::Unreachable,
        RouteKind::Prohibit => RouteType::Prohibit,
    };
    // iproute2's choice: a unicast route without a gateway reaches its destination on the link.
    header.scope = if for_delete {
        RouteScope::NoWhere
    } else if route.kind == RouteKind::Unicast && route.via.is_none() {
        RouteScope::Link
    } else {
        RouteScope::Universe
    };
    let attributes = &mut message.attributes;
    attributes.push(RouteAttribute::Table(route.table));
    if route.prefix_len > 0 {
        attributes.push(RouteAttribute::Destination(route.destination.into()));
    }
    if let Some(via) = route.via {
        attributes.push(RouteAttribute::Gateway(via.into()));
    }
    if let Some(oif) = route.oif {
        attributes.push(RouteAttribute::Oif(oif));
    }
    if let Some(metric) = route.metric {
        attributes.push(RouteAttribute::Priority(metric));
    }
    if let Some(src) = route.src {
        attributes.push(RouteAttribute::PrefSource(src.into()));
    }
    message
}

/// The message `ip rule add ... table N protocol 112` would send.
pub(crate) fn rule_message(rule: &RuleSpec) -> RuleMessage {
    let mut message = RuleMessage::default();
    let header = &mut message.header;
    header.family = if rule.ipv6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    header.table = header_table(rule.table);
    header.action = RuleAction::ToTable;
    let attributes = &mut message.attributes;
    if let Some((address, len)) = rule.from {
        message.header.src_len = len;
        if len > 0 {
            attributes.push(RuleAttribute::Source(address));
        }
    }
    if let Some((address, len)) = rule.to {
        message.header.dst_len = len;
        if len > 0 {
            attributes.push(RuleAttribute::Destination(address));
        }
    }
    attributes.push(RuleAttribute::Table(rule.table));
    if let Some(priority) = rule.priority {
        attributes.push(RuleAttribute::Priority(priority));
    }
    attributes.push(RuleAttribute::Protocol(marker()));
    message
}

/// ESRCH (a route) or ENOENT (a rule): nothing to delete.
fn already_gone(error: &NetlinkError) -> bool {
    matches!(error.errno(), Some(libc::ESRCH | libc::ENOENT))
}

impl Netlink {
    /// Adds a route marked as keepvip's. An equal route already there (same table, destination and
    /// metric) is not replaced: the kernel's EEXIST comes back as the error.
    pub async fn add_route(&self, route: &RouteSpec) -> Result<(), NetlinkError> {
        self.handle
            .route()
            .add(route_message(route, false))
            .execute()
            .await
            .map_err(|e| NetlinkError::request("add route", e))
    }

    /// Removes the keepvip-marked route `route`; `Ok(false)` when it was not there.
    pub async fn remove_route(&self, route: &RouteSpec) -> Result<bool, NetlinkError> {
        let result = self
            .handle
            .route()
            .del(route_message(route, true))
            .execute()
            .await
            .map_err(|e| NetlinkError::request("remove route", e));
        match result {
            Ok(()) => Ok(true),
            Err(e) if already_gone(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Adds a rule marked as keepvip's (EEXIST when an equal one is there).
    pub async fn add_rule(&self, rule: &RuleSpec) -> Result<(), NetlinkError> {
        let mut request = self.handle.rule().add();
        *request.message_mut() = rule_message(rule);
        request
            .execute()
            .await
            .map_err(|e| NetlinkError::request("add rule", e))
    }

    /// Removes the keepvip-marked rule `rule`; `Ok(false)` when it was not there.
    pub async fn remove_rule(&self, rule: &RuleSpec) -> Result<bool, NetlinkError> {
        let result = self
            .handle
            .rule()
            .del(rule_message(rule))
            .execute()
            .await
            .map_err(|e| NetlinkError::request("remove rule", e));
        match result {
            Ok(()) => Ok(true),
            Err(e) if already_gone(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every keepvip-marked route, of both families and every table, as the kernel lists them.
    pub async fn marked_routes(&self) -> Result<Vec<RouteMessage>, NetlinkError> {
        let mut found = Vec::new();
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut query = RouteMessage::default();
            query.header.address_family = family;
            // Without NETLINK_GET_STRICT_CHK the kernel dumps every table.
            let mut routes = self.handle.route().get(query).execute();
            while let Some(route) = routes
                .try_next()
                .await
                .map_err(|e| NetlinkError::request("list routes", e))?
            {
                if route.header.protocol == marker() {
                    found.push(route);
                }
            }
        }
        Ok(found)
    }

    /// Every keepvip-marked rule, of both families.
    pub async fn marked_rules(&self) -> Result<Vec<RuleMessage>, NetlinkError> {
        let mut found = Vec::new();
        for version in [IpVersion::V4, IpVersion::V6] {
            let mut rules = self.handle.rule().get(version).execute();
            while let Some(rule) = rules
                .try_next()
                .await
                .map_err(|e| NetlinkError::request("list rules", e))?
            {
                let marked = rule
                    .attributes
                    .iter()
                    .any(|a| matches!(a, RuleAttribute::Protocol(p) if *p == marker()));
                if marked {
                    found.push(rule);
                }
            }
        }
        Ok(found)
    }

    /// Removes every keepvip-marked rule and route in this network namespace (rules first, so no
    /// rule points at a table being emptied): what a keepvip that died as master left behind.
    /// Returns what was removed; the first failure stops it.
    pub async fn remove_marked_routes_and_rules(&self) -> Result<Removed, NetlinkError> {
        let mut removed = Removed::default();
        for rule in self.marked_rules().await? {
            match self.handle.rule().del(rule).execute().await {
                Ok(()) => removed.rules += 1,
                Err(e) => {
                    let error = NetlinkError::request("remove a marked rule", e);
                    if !already_gone(&error) {
                        return Err(error);
                    }
                }
            }
        }
        for route in self.marked_routes().await? {
            match self.handle.route().del(route).execute().await {
                Ok(()) => removed.routes += 1,
                Err(e) => {
                    let error = NetlinkError::request("remove a marked route", e);
                    if !already_gone(&error) {
                        return Err(error);
                    }
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(to: &str, len: u8) -> RouteSpec {
        RouteSpec {
            destination: to.parse().unwrap(),
            prefix_len: len,
            via: None,
            oif: None,
            table: 254,
            metric: None,
            src: None,
            kind: RouteKind::Unicast,
        }
    }

    #[test]
    fn a_route_carries_the_marker_its_table_and_its_scope() {
        let mut spec = route("0.0.0.0", 0);
        spec.via = Some("203.0.113.1".parse().unwrap());
        spec.table = 100;
        let message = route_message(&spec, false);
        assert_eq!(message.header.protocol, RouteProtocol::Other(112));
        assert_eq!(message.header.table, 100);
        assert_eq!(message.header.scope, RouteScope::Universe);
        assert!(message.attributes.contains(&RouteAttribute::Table(100)));
        // A default route has no RTA_DST, as `ip route` sends it.
        assert!(
            !message
                .attributes
                .iter()
                .any(|a| matches!(a, RouteAttribute::Destination(_)))
        );
        assert_eq!(route_message(&spec, true).header.scope, RouteScope::NoWhere);
    }

    #[test]
    fn a_device_route_has_link_scope_and_a_big_table_goes_in_the_attribute() {
        let mut spec = route("2001:db8:5::", 48);
        spec.oif = Some(3);
        spec.table = 1000;
        let message = route_message(&spec, false);
        assert_eq!(message.header.address_family, AddressFamily::Inet6);
        assert_eq!(message.header.scope, RouteScope::Link);
        assert_eq!(message.header.table, TABLE_COMPAT);
        assert!(message.attributes.contains(&RouteAttribute::Table(1000)));
        spec.kind = RouteKind::Blackhole;
        spec.oif = None;
        let blackhole = route_message(&spec, false);
        assert_eq!(blackhole.header.kind, RouteType::BlackHole);
        assert_eq!(blackhole.header.scope, RouteScope::Universe);
    }

    #[test]
    fn a_rule_looks_up_its_table_and_carries_the_marker() {
        let rule = RuleSpec {
            ipv6: false,
            from: Some(("198.51.100.0".parse().unwrap(), 24)),
            to: None,
            table: 100,
            priority: Some(100),
        };
        let message = rule_message(&rule);
        assert_eq!(message.header.action, RuleAction::ToTable);
        assert_eq!(message.header.src_len, 24);
        assert_eq!(message.header.table, 100);
        assert!(
            message
                .attributes
                .contains(&RuleAttribute::Protocol(RouteProtocol::Other(112)))
        );
        assert!(message.attributes.contains(&RuleAttribute::Priority(100)));
    }
}
