//! keepvip config files for lab hosts (the schema is conf/README.md).

use std::fmt::Write as _;

use super::timing::Interval;

/// One `[[instance]]` on the lab interface `eth0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    pub name: String,
    pub vrid: u8,
    pub priority: u8,
    pub interval: Interval,
    pub preempt: bool,
    /// `"ADDRESS/PREFIX"` strings, as in `vips = [...]`.
    pub vips: Vec<String>,
    /// `unicast_peers = [...]`; empty: the key is left out (multicast).
    pub unicast_peers: Vec<String>,
    pub unicast_source: Option<String>,
}

impl InstanceSpec {
    /// VRID 1 named `VI_1`, preempting, with the given priority, interval and VIPs.
    pub fn new(priority: u8, interval: Interval, vips: &[&str]) -> Self {
        Self {
            name: "VI_1".into(),
            vrid: 1,
            priority,
            interval,
            preempt: true,
            vips: vips.iter().map(|vip| (*vip).to_owned()).collect(),
            unicast_peers: Vec::new(),
            unicast_source: None,
        }
    }

    /// Unicast to `peers` (keepalived's `unicast_peer`), from `source` when given.
    pub fn unicast(mut self, peers: &[&str], source: Option<&str>) -> Self {
        self.unicast_peers = peers.iter().map(|peer| (*peer).to_owned()).collect();
        self.unicast_source = source.map(str::to_owned);
        self
    }

    pub fn preempt(mut self, preempt: bool) -> Self {
        self.preempt = preempt;
        self
    }

    pub fn vrid(mut self, vrid: u8) -> Self {
        self.vrid = vrid;
        self
    }
}

/// A whole config file: `[global]` with `router_id` and one GARP/NA burst (no second burst, so a
/// capture shows exactly the takeover's announcements), then the instances.
pub fn config_toml(router_id: &str, instances: &[InstanceSpec]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "[global]\nrouter_id = \"{router_id}\"");
    let _ = writeln!(out, "garp_repeat = 1\ngarp_delay = \"0s\"");
    for instance in instances {
        let vips: Vec<String> = instance
            .vips
            .iter()
            .map(|vip| format!("\"{vip}\""))
            .collect();
        let _ = writeln!(
            out,
            "\n[[instance]]\nname = \"{}\"\ninterface = \"eth0\"\nvrid = {}\npriority = {}\n\
             advert_interval = \"{}ms\"\npreempt = {}\nvips = [{}]",
            instance.name,
            instance.vrid,
            instance.priority,
            instance.interval.as_millis(),
            instance.preempt,
            vips.join(", ")
        );
        if !instance.unicast_peers.is_empty() {
            let peers: Vec<String> = instance
                .unicast_peers
                .iter()
                .map(|peer| format!("\"{peer}\""))
                .collect();
            let _ = writeln!(out, "unicast_peers = [{}]", peers.join(", "));
        }
        if let Some(source) = &instance.unicast_source {
            let _ = writeln!(out, "unicast_source = \"{source}\"");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_config_keepvip_can_read() {
        let spec = InstanceSpec::new(200, Interval::from_millis(10), &["192.0.2.100/24"]);
        let text = config_toml("r1", &[spec.preempt(false)]);
        assert_eq!(
            text,
            "[global]\nrouter_id = \"r1\"\ngarp_repeat = 1\ngarp_delay = \"0s\"\n\n[[instance]]\n\
             name = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\npriority = 200\n\
             advert_interval = \"10ms\"\npreempt = false\nvips = [\"192.0.2.100/24\"]\n"
        );
    }

    #[test]
    fn unicast_peers_and_source_are_written_when_set() {
        let spec = InstanceSpec::new(100, Interval::from_millis(100), &["2001:db8::100/64"])
            .unicast(&["2001:db8::2"], Some("2001:db8::1"));
        let text = config_toml("r1", &[spec]);
        assert!(
            text.ends_with("unicast_peers = [\"2001:db8::2\"]\nunicast_source = \"2001:db8::1\"\n"),
            "{text}"
        );
    }
}
