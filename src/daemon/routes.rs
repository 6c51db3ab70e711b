//! Virtual routes and rules, executed by the VIP worker so that they follow the VIPs in order: a
//! master's routes go in after its VIPs (a route may use a VIP as `src` or reach its gateway through
//! the VIP's subnet) and come out before them. One the kernel refuses is logged with the kernel's
//! error; the others still go in.

use tracing::{error, info, warn};

use crate::config::{RouteKind as ConfigRouteKind, VirtualRoute, VirtualRule};
use crate::net::Netlink;
use crate::net::netlink::{RouteKind, RouteSpec, RuleSpec};

/// An instance's routes and rules, as the worker gets them.
#[derive(Debug, Clone, Default)]
pub struct RouteSet {
    pub routes: Vec<VirtualRoute>,
    pub rules: Vec<VirtualRule>,
}

impl RouteSet {
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty() && self.rules.is_empty()
    }
}

/// Routes first, then the rules that send traffic to them.
pub async fn install(netlink: &Netlink, instance: &str, set: &RouteSet) {
    for route in &set.routes {
        let outcome = match spec(netlink, route).await {
            Ok(spec) => netlink.add_route(&spec).await.map_err(|e| e.to_string()),
            Err(why) => Err(why),
        };
        match outcome {
            Ok(()) => info!(%instance, %route, "route added"),
            Err(e) => error!(%instance, %route, error = %e, "route not added"),
        }
    }
    for rule in &set.rules {
        match netlink.add_rule(&rule_spec(rule)).await {
            Ok(()) => info!(%instance, %rule, "rule added"),
            Err(e) => error!(%instance, %rule, error = %e, "rule not added"),
        }
    }
}

/// Rules first, so no rule points at a table being emptied, then the routes. Only what carries
/// keepvip's marker is removed; what is gone already is not an error.
pub async fn remove(netlink: &Netlink, instance: &str, set: &RouteSet) {
    for rule in &set.rules {
        match netlink.remove_rule(&rule_spec(rule)).await {
            Ok(true) => info!(%instance, %rule, "rule removed"),
            Ok(false) => {}
            Err(e) => error!(%instance, %rule, error = %e, "rule not removed"),
        }
    }
    for route in &set.routes {
        // The interface is not needed to find the route again: the kernel matches any when unnamed.
        let mut spec = unresolved(route);
        if route.dev.is_some() {
            spec.oif = resolve(netlink, route).await.ok().flatten();
        }
        match netlink.remove_route(&spec).await {
            Ok(true) => info!(%instance, %route, "route removed"),
            Ok(false) => {}
            Err(e) => error!(%instance, %route, error = %e, "route not removed"),
        }
    }
}

/// Startup, and the last resort after a panic: every keepvip-marked route and rule goes, whichever
/// config installed it (a crash's leftovers).
pub async fn remove_leftovers(netlink: &Netlink) {
    match netlink.remove_marked_routes_and_rules().await {
        Ok(removed) if removed.routes + removed.rules > 0 => warn!(
            routes = removed.routes,
            rules = removed.rules,
            "removed routes and rules left by an earlier run"
        ),
        Ok(_) => {}
        Err(e) => warn!(error = %e, "could not remove routes and rules left by an earlier run"),
    }
}

async fn spec(netlink: &Netlink, route: &VirtualRoute) -> Result<RouteSpec, String> {
    let mut spec = unresolved(route);
    spec.oif = resolve(netlink, route).await?;
    Ok(spec)
}

/// The interface index of `dev`, looked up now: the interface may have come since startup.
async fn resolve(netlink: &Netlink, route: &VirtualRoute) -> Result<Option<u32>, String> {
    let Some(dev) = &route.dev else {
        return Ok(None);
    };
    match netlink.link_by_name(dev).await {
        Ok(link) => Ok(Some(link.index)),
        Err(e) => Err(e.to_string()),
    }
}

fn unresolved(route: &VirtualRoute) -> RouteSpec {
    RouteSpec {
        destination: route.to.addr,
        prefix_len: route.to.len,
        via: route.via,
        oif: None,
        table: route.table,
        metric: route.metric,
        src: route.src,
        kind: match route.kind {
            ConfigRouteKind::Unicast => RouteKind::Unicast,
            ConfigRouteKind::Blackhole => RouteKind::Blackhole,
            ConfigRouteKind::Unreachable => RouteKind::Unreachable,
            ConfigRouteKind::Prohibit => RouteKind::Prohibit,
        },
    }
}

fn rule_spec(rule: &VirtualRule) -> RuleSpec {
    RuleSpec {
        ipv6: rule.family() == crate::config::Family::Ipv6,
        from: rule.from.map(|p| (p.addr, p.len)),
        to: rule.to.map(|p| (p.addr, p.len)),
        table: rule.table,
        priority: rule.priority,
    }
}
