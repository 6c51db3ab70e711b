//! The lab's wiring: a Linux bridge in a switch namespace, and veth pairs from other namespaces into it.

use crate::command::ip;
use crate::error::Result;
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
