//! The same virtual routers written for keepvip (TOML) and for keepalived (keepalived.conf): VRRPv3,
//! one instance per (interface, family, VRID), documentation addresses only.

use std::fmt::Write as _;
use std::time::Duration;

/// What one daemon runs: every VRID of `vrids` on every interface, in each family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `eth0`, `eth1`: interface 0 carries 203.0.113.<VRID>/32 VIPs, interface 1 198.51.100.<VRID>/32
    /// ones (the lab gives its hosts .251 and .252 there), and 2001:db8:<n + 10>::/64 ones.
    pub interfaces: usize,
    /// VRIDs 1..=vrids (at most 250).
    pub vrids: u8,
    pub ipv6: bool,
    pub interval: Duration,
    /// Extra VIPs of the first instance, installed and announced but not advertised (keepvip's
    /// `excluded_vips`, keepalived's `virtual_ipaddress_excluded`): 2001:db8:ffff::/64 addresses, as
    /// IPv4 documentation space has too few.
    pub excluded: u16,
    /// keepvip's `rt_priority` and keepalived's `vrrp_rt_priority` (SCHED_RR); none: normal.
    pub rt_priority: Option<u8>,
}

/// One instance of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub vip: String,
}

impl Layout {
    pub fn single(interval: Duration) -> Layout {
        Layout {
            interfaces: 1,
            vrids: 1,
            ipv6: false,
            interval,
            excluded: 0,
            rt_priority: None,
        }
    }

    pub fn instances(&self) -> Vec<Instance> {
        let mut out = Vec::new();
        for link in 0..self.interfaces {
            for vrid in 1..=self.vrids {
                let v4_net = if link == 0 { "203.0.113" } else { "198.51.100" };
                out.push(Instance {
                    name: format!("e{link}v4r{vrid}"),
                    interface: format!("eth{link}"),
                    vrid,
                    vip: format!("{v4_net}.{vrid}/32"),
                });
                if self.ipv6 {
                    out.push(Instance {
                        name: format!("e{link}v6r{vrid}"),
                        interface: format!("eth{link}"),
                        vrid,
                        vip: format!("2001:db8:{}::{vrid:x}/64", link + 10),
                    });
                }
            }
        }
        out
    }

    /// The first instance's excluded VIPs, as `ADDRESS/PREFIX`.
    fn excluded_vips(&self) -> Vec<String> {
        (1..=self.excluded)
            .map(|n| format!("2001:db8:ffff::{n:x}/64"))
            .collect()
    }

    fn interval_ms(&self) -> u128 {
        self.interval.as_millis()
    }

    /// keepvip's config: one GARP/NA burst right at the takeover, like keepalived's below.
    pub fn keepvip(&self, router_id: &str, priority: u8) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "[global]\nrouter_id = \"{router_id}\"");
        let _ = writeln!(out, "garp_repeat = 1\ngarp_delay = \"0s\"");
        if let Some(priority) = self.rt_priority {
            let _ = writeln!(out, "rt_priority = {priority}");
        }
        for (index, instance) in self.instances().iter().enumerate() {
            let _ = writeln!(
                out,
                "\n[[instance]]\nname = \"{}\"\ninterface = \"{}\"\nvrid = {}\npriority = {priority}\n\
                 advert_interval = \"{}ms\"\nvips = [\"{}\"]",
                instance.name,
                instance.interface,
                instance.vrid,
                self.interval_ms(),
                instance.vip
            );
            if index == 0 && self.excluded > 0 {
                let quoted: Vec<String> = self
                    .excluded_vips()
                    .iter()
                    .map(|vip| format!("\"{vip}\""))
                    .collect();
                let _ = writeln!(out, "excluded_vips = [{}]", quoted.join(", "));
            }
        }
        out
    }

    /// keepalived's config: VRRPv3, `advert_int` in seconds with decimals, one GARP burst, no delay.
    pub fn keepalived(&self, router_id: &str, priority: u8) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "global_defs {{\n    router_id {router_id}\n    vrrp_version 3\n    \
             vrrp_garp_master_repeat 1\n    vrrp_garp_master_delay 0"
        );
        if let Some(priority) = self.rt_priority {
            let _ = writeln!(out, "    vrrp_rt_priority {priority}");
        }
        out.push_str("}\n");
        let seconds = self.interval.as_secs_f64();
        for (index, instance) in self.instances().iter().enumerate() {
            let _ = writeln!(
                out,
                "\nvrrp_instance {} {{\n    state BACKUP\n    interface {}\n    \
                 virtual_router_id {}\n    priority {priority}\n    advert_int {seconds}\n    \
                 virtual_ipaddress {{\n        {}\n    }}",
                instance.name, instance.interface, instance.vrid, instance.vip
            );
            if index == 0 && self.excluded > 0 {
                out.push_str("    virtual_ipaddress_excluded {\n");
                for vip in self.excluded_vips() {
                    let _ = writeln!(out, "        {vip}");
                }
                out.push_str("    }\n");
            }
            out.push_str("}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_daemons_get_every_interface_family_and_vrid() {
        let layout = Layout {
            interfaces: 2,
            vrids: 3,
            ipv6: true,
            interval: Duration::from_millis(100),
            excluded: 2,
            rt_priority: None,
        };
        assert_eq!(layout.instances().len(), 12);
        let keepvip = layout.keepvip("a", 200);
        assert_eq!(keepvip.matches("[[instance]]").count(), 12);
        assert!(keepvip.contains("advert_interval = \"100ms\""), "{keepvip}");
        assert!(
            keepvip.contains("vips = [\"2001:db8:11::3/64\"]"),
            "{keepvip}"
        );
        assert!(
            keepvip.contains("excluded_vips = [\"2001:db8:ffff::1/64\", \"2001:db8:ffff::2/64\"]"),
            "{keepvip}"
        );
        let keepalived = layout.keepalived("a", 100);
        assert_eq!(keepalived.matches("vrrp_instance").count(), 12);
        assert!(keepalived.contains("advert_int 0.1\n"), "{keepalived}");
        assert!(keepalived.contains("interface eth1\n"), "{keepalived}");
        assert_eq!(keepalived.matches("virtual_ipaddress_excluded").count(), 1);
    }
}
