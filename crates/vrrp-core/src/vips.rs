//! The addresses a master installs and announces: the one type the VIP actions carry.

use std::net::IpAddr;

use vrrp_wire::Addresses;

/// The addresses a master holds: the advertised virtual addresses, then the excluded ones (installed and
/// announced with them, never advertised: keepalived's `virtual_ipaddress_excluded`, any family).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSet {
    pub advertised: Addresses,
    pub excluded: Vec<IpAddr>,
}

impl VipSet {
    /// Every address, advertised ones first.
    pub fn iter(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let (v4, v6) = match &self.advertised {
            Addresses::V4(list) => (list.as_slice(), &[][..]),
            Addresses::V6(list) => (&[][..], list.as_slice()),
        };
        let v4 = v4.iter().map(|&a| IpAddr::V4(a));
        let v6 = v6.iter().map(|&a| IpAddr::V6(a));
        v4.chain(v6).chain(self.excluded.iter().copied())
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The addresses of `self` that `other` does not hold.
    pub fn without(&self, other: &VipSet) -> VipSet {
        let held: Vec<IpAddr> = other.iter().collect();
        let advertised = match &self.advertised {
            Addresses::V4(list) => Addresses::V4(
                list.iter()
                    .copied()
                    .filter(|a| !held.contains(&(*a).into()))
                    .collect(),
            ),
            Addresses::V6(list) => Addresses::V6(
                list.iter()
                    .copied()
                    .filter(|a| !held.contains(&(*a).into()))
                    .collect(),
            ),
        };
        let excluded = self
            .excluded
            .iter()
            .copied()
            .filter(|a| !held.contains(a))
            .collect();
        VipSet {
            advertised,
            excluded,
        }
    }
}

/// Advertised addresses only, nothing excluded.
impl From<Addresses> for VipSet {
    fn from(advertised: Addresses) -> VipSet {
        VipSet {
            advertised,
            excluded: Vec::new(),
        }
    }
}
