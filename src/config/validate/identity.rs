//! What cross-instance checks (duplicate names, VRIDs, addresses, routes, macvlan names) know of
//! each instance, filled in even when the instance has errors elsewhere.

use std::ops::Range;

use super::vmac;
use crate::config::types::{Family, VirtualRoute, VirtualRule};

/// What cross-instance checks need, known even when the instance has errors elsewhere, so that e.g. a
/// duplicate name is reported together with the other instance's bad priority.
pub(crate) struct Identity {
    pub name: Option<(String, Range<usize>)>,
    pub interface: Option<(String, Range<usize>)>,
    /// VRID, its span, and the family of the advertised VIPs.
    pub vrid: Option<(u8, Range<usize>, Family)>,
    /// Every address written in `vips` and `excluded_vips`, with its span.
    pub addresses: Vec<(std::net::IpAddr, Range<usize>)>,
    /// The good `routes` and `rules`, each with its span.
    pub routes: Vec<(VirtualRoute, Range<usize>)>,
    pub rules: Vec<(VirtualRule, Range<usize>)>,
    /// The macvlan name of a `vmac = true` instance, and where it was chosen.
    pub vmac_name: vmac::NameSpan,
}
