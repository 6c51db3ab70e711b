//! The lab's wiring: a Linux bridge in a switch namespace, and veth pairs from other namespaces into it.

use crate::command::{ip, run};
use crate::error::{Error, Result};
use crate::namespace::set_link;

/// A bridge `bridge` inside namespace `namespace`; `create` makes it, `plug` wires namespaces into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub namespace: String,
    pub bridge: String,
}

impl Switch {
    /// Names only: nothing is created until `create`.
    pub fn new(namespace: impl Into<String>, bridge: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            bridge: bridge.into(),
        }
    }

    /// `ip link add BRIDGE type bridge OPTIONS...` in the switch namespace, then set it up. `options`
    /// are further `ip link` bridge words (e.g. `["ageing_time", "0"]`); a plain learning bridge needs
    /// none.
    pub fn create(&self, options: &[&str]) -> Result<()> {
        let mut args = vec![
            "-n",
            &self.namespace,
            "link",
            "add",
            &self.bridge,
            "type",
            "bridge",
        ];
        args.extend_from_slice(options);
        ip(&args)?;
        set_link(&self.namespace, &self.bridge, true)
    }

    /// Drop VRRP multicast (IPv4 to 224.0.0.18, IPv6 to ff02::12) between the bridge's ports, as a
    /// cloud subnet does; everything else, ARP and IPv6 neighbour discovery included, still crosses.
    /// An nftables `bridge` table in the switch namespace (`nft`, package nftables), whose forward
    /// hook covers ports plugged later too. (docs/linux.md: on this project's kernel tc has no flower
    /// classifier and no drop action, and a bridge port with `mcast_flood off` also drops IPv6
    /// neighbour solicitations.)
    pub fn drop_vrrp_multicast(&self) -> Result<()> {
        let rules = format!(
            "add table bridge {DROP_TABLE}; \
             add chain bridge {DROP_TABLE} forward {{ type filter hook forward priority 0; policy accept; }}; \
             add rule bridge {DROP_TABLE} forward ip daddr 224.0.0.18 counter drop; \
             add rule bridge {DROP_TABLE} forward ip6 daddr ff02::12 counter drop"
        );
        nft(&self.namespace, &[&rules]).map(drop)
    }

    /// How many VRRP multicast packets `drop_vrrp_multicast`'s rules dropped so far (both families).
    pub fn vrrp_multicast_dropped(&self) -> Result<u64> {
        let listing = nft(&self.namespace, &["list", "table", "bridge", DROP_TABLE])?;
        Ok(dropped_packets(&listing))
    }

    /// Partitions `port` from the rest of the switch without touching any link state (the hosts keep
    /// their carrier, as behind a failed switch uplink): an nftables `bridge` table drops every frame
    /// forwarded from or to it. [`Switch::heal_port`] removes it.
    pub fn isolate_port(&self, port: &str) -> Result<()> {
        let table = partition_table(port);
        let rules = format!(
            "add table bridge {table}; \
             add chain bridge {table} forward {{ type filter hook forward priority 0; policy accept; }}; \
             add rule bridge {table} forward iifname \"{port}\" counter drop; \
             add rule bridge {table} forward oifname \"{port}\" counter drop"
        );
        nft(&self.namespace, &[&rules]).map(drop)
    }

    /// Ends [`Switch::isolate_port`]'s partition of `port`.
    pub fn heal_port(&self, port: &str) -> Result<()> {
        nft(
            &self.namespace,
            &["delete", "table", "bridge", &partition_table(port)],
        )
        .map(drop)
    }

    /// Create the veth pair `link` describes: its port enslaved to the bridge and up, the other end
    /// renamed into its namespace, with the MAC and addresses given, then up.
    pub fn plug(&self, link: &Veth) -> Result<()> {
        let switch = self.namespace.as_str();
        ip(&[
            "-n",
            switch,
            "link",
            "add",
            &link.port,
            "type",
            "veth",
            "peer",
            "name",
            &link.interface,
            "netns",
            &link.namespace,
        ])?;
        ip(&[
            "-n",
            switch,
            "link",
            "set",
            &link.port,
            "master",
            &self.bridge,
            "up",
        ])?;
        if let Some(mac) = &link.mac {
            ip(&[
                "-n",
                &link.namespace,
                "link",
                "set",
                &link.interface,
                "address",
                &mac_to_string(mac),
            ])?;
        }
        for cidr in &link.addresses {
            ip(&[
                "-n",
                &link.namespace,
                "addr",
                "add",
                cidr,
                "dev",
                &link.interface,
            ])?;
        }
        set_link(&link.namespace, &link.interface, true)
    }
}

/// The nftables table `Switch::drop_vrrp_multicast` adds.
const DROP_TABLE: &str = "netlab_vrrp_drop";

/// The nftables table `Switch::isolate_port` adds for `port`.
fn partition_table(port: &str) -> String {
    let safe: String = port.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("netlab_partition_{safe}")
}

/// `nft ARGS...` inside namespace `namespace`; a missing `nft` says which package brings it.
fn nft(namespace: &str, args: &[&str]) -> Result<String> {
    let mut argv = vec!["netns", "exec", namespace, "nft"];
    argv.extend_from_slice(args);
    run("ip", &argv).map_err(|err| {
        let text = err.to_string();
        if text.contains("No such file") {
            Error::new(format!("{text} (install the nftables package for `nft`)"))
        } else {
            err
        }
    })
}

/// The sum of every `counter packets N` in an `nft list` output.
fn dropped_packets(listing: &str) -> u64 {
    listing
        .split("counter packets ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// One veth pair into a `Switch`: `interface` inside `namespace`, `port` on the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Veth {
    pub namespace: String,
    pub interface: String,
    pub port: String,
    /// The kernel picks a random MAC when `None`.
    pub mac: Option<[u8; 6]>,
    /// `ADDRESS/LEN`, added in this order.
    pub addresses: Vec<String>,
}

impl Veth {
    pub fn new(
        namespace: impl Into<String>,
        interface: impl Into<String>,
        port: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            interface: interface.into(),
            port: port.into(),
            mac: None,
            addresses: Vec::new(),
        }
    }

    pub fn mac(mut self, mac: [u8; 6]) -> Self {
        self.mac = Some(mac);
        self
    }

    /// Add `cidr` (`192.0.2.1/24`, `2001:db8::1/64`) to the namespace's end.
    pub fn address(mut self, cidr: impl Into<String>) -> Self {
        self.addresses.push(cidr.into());
        self
    }
}

/// `02:6b:76:00:00:01`, as `ip link set address` takes it.
pub fn mac_to_string(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|byte| format!("{byte:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_packets_add_up_every_counter() {
        let listing = "table bridge netlab_vrrp_drop {\n\tchain forward {\n\t\tip daddr 224.0.0.18 counter packets 2 bytes 168 drop\n\t\tip6 daddr ff02::12 counter packets 5 bytes 520 drop\n\t}\n}\n";
        assert_eq!(dropped_packets(listing), 7);
        assert_eq!(dropped_packets("table bridge x {}"), 0);
    }

    #[test]
    fn mac_is_written_as_ip_takes_it() {
        assert_eq!(
            mac_to_string(&[0x02, 0x6b, 0x76, 0, 0, 0xfe]),
            "02:6b:76:00:00:fe"
        );
    }

    #[test]
    fn veth_builder_keeps_addresses_in_order() {
        let link = Veth::new("ns", "eth0", "p1")
            .mac([2, 0, 0, 0, 0, 1])
            .address("192.0.2.1/24")
            .address("2001:db8::1/64");
        assert_eq!(link.addresses, ["192.0.2.1/24", "2001:db8::1/64"]);
        assert_eq!(link.mac, Some([2, 0, 0, 0, 0, 1]));
    }
}
