//! What the kernel says, asked through `ip -j` (an observer independent of keepvip's own netlink code).

use std::net::IpAddr;

use serde_json::Value;

use crate::cmd::ip;
use crate::error::{HarnessError, Result};

/// One address as `ip -j addr show` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelAddress {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// `global`, `link`, `host`, ...
    pub scope: String,
    pub label: Option<String>,
    pub tentative: bool,
    pub dadfailed: bool,
    pub secondary: bool,
    pub nodad: bool,
}

fn flag(entry: &Value, name: &str) -> bool {
    entry.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// Parse the JSON of `ip -j addr show dev IF`.
pub fn parse_addresses(json: &str) -> Result<Vec<KernelAddress>> {
    let links: Value = serde_json::from_str(json)
        .map_err(|err| HarnessError::new(format!("ip -j addr: bad JSON: {err}")))?;
    let mut out = Vec::new();
    for link in links.as_array().into_iter().flatten() {
        for entry in link
            .get("addr_info")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(local) = entry.get("local").and_then(Value::as_str) else {
                continue;
            };
            let address = local
                .parse()
                .map_err(|err| HarnessError::new(format!("ip -j addr: address {local}: {err}")))?;
            let prefix_len = entry
                .get("prefixlen")
                .and_then(Value::as_u64)
                .and_then(|len| u8::try_from(len).ok())
                .ok_or_else(|| {
                    HarnessError::new(format!("ip -j addr: no prefixlen for {local}"))
                })?;
            out.push(KernelAddress {
                address,
                prefix_len,
                scope: entry
                    .get("scope")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                label: entry
                    .get("label")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                tentative: flag(entry, "tentative"),
                dadfailed: flag(entry, "dadfailed"),
                secondary: flag(entry, "secondary"),
                nodad: flag(entry, "nodad"),
            });
        }
    }
    Ok(out)
}

/// The addresses on `ifname` in namespace `ns`.
pub fn addresses(ns: &str, ifname: &str) -> Result<Vec<KernelAddress>> {
    let json = ip(&["-j", "-n", ns, "addr", "show", "dev", ifname])?;
    parse_addresses(&json).map_err(|err| err.context(format!("{ns}/{ifname}")))
}

/// Whether `address` is on `ifname` in `ns`.
pub fn has_address(ns: &str, ifname: &str, address: IpAddr) -> Result<bool> {
    Ok(addresses(ns, ifname)?
        .iter()
        .any(|entry| entry.address == address))
}

/// keepvip's route and rule protocol, as `ip route` / `ip rule` print it (docs/linux.md).
pub const KEEPVIP_PROTO: &str = "proto 112";

/// `ip [-6] -n NS route show table TABLE` (`TABLE` a number, `main` or `all`), one route a line,
/// whitespace collapsed.
pub fn routes(ns: &str, ipv6: bool, table: &str) -> Result<Vec<String>> {
    let family = if ipv6 { "-6" } else { "-4" };
    let text = ip(&[family, "-n", ns, "route", "show", "table", table])?;
    Ok(lines(&text))
}

/// `ip [-6] -n NS rule show`, one rule a line, whitespace collapsed (`100: from ... lookup 100 proto 112`).
pub fn rules(ns: &str, ipv6: bool) -> Result<Vec<String>> {
    let family = if ipv6 { "-6" } else { "-4" };
    let text = ip(&[family, "-n", ns, "rule", "show"])?;
    Ok(lines(&text))
}

/// Every route and rule in `ns`, of both families and every table, that carries keepvip's protocol,
/// sorted: routes as `ip route show table all` prints them, then rules as `ip rule show` does.
pub fn keepvip_routes_and_rules(ns: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for ipv6 in [false, true] {
        found.extend(routes(ns, ipv6, "all")?);
    }
    for ipv6 in [false, true] {
        found.extend(rules(ns, ipv6)?);
    }
    found.retain(|line| line.contains(KEEPVIP_PROTO));
    found.sort();
    Ok(found)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect()
}

/// `ip -n NS link set dev IF up|down`.
pub fn set_link(ns: &str, ifname: &str, up: bool) -> Result<()> {
    Ok(netlab::set_link(ns, ifname, up)?)
}

/// `ip -n NS addr add ADDR/LEN dev IF` plus extra words (e.g. `nodad`, `label`).
pub fn add_address(ns: &str, ifname: &str, cidr: &str, extra: &[&str]) -> Result<()> {
    let mut args = vec!["-n", ns, "addr", "add", cidr, "dev", ifname];
    args.extend_from_slice(extra);
    ip(&args).map(|_| ())
}

/// The link's flags (e.g. `UP`, `LOWER_UP`) and operstate (e.g. `UP`, `DOWN`, `LOWERLAYERDOWN`).
pub fn link_state(ns: &str, ifname: &str) -> Result<(Vec<String>, String)> {
    let json = ip(&["-j", "-n", ns, "link", "show", "dev", ifname])?;
    let links: Value = serde_json::from_str(&json)
        .map_err(|err| HarnessError::new(format!("ip -j link: bad JSON: {err}")))?;
    let link = links
        .get(0)
        .ok_or_else(|| HarnessError::new(format!("ip -j link: no link {ns}/{ifname}")))?;
    let flags = link
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let operstate = link
        .get("operstate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok((flags, operstate))
}

/// The link's ifindex and MAC address in its namespace.
pub fn link_index_and_mac(ns: &str, ifname: &str) -> Result<(u32, String)> {
    let json = ip(&["-j", "-n", ns, "link", "show", "dev", ifname])?;
    let links: Value = serde_json::from_str(&json)
        .map_err(|err| HarnessError::new(format!("ip -j link: bad JSON: {err}")))?;
    let link = links.get(0);
    let index = link
        .and_then(|link| link.get("ifindex"))
        .and_then(Value::as_u64)
        .and_then(|index| u32::try_from(index).ok());
    let mac = link
        .and_then(|link| link.get("address"))
        .and_then(Value::as_str);
    match (index, mac) {
        (Some(index), Some(mac)) => Ok((index, mac.to_owned())),
        _ => Err(HarnessError::new(format!(
            "ip -j link: no ifindex/address for {ns}/{ifname}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_json_addresses_with_flags() {
        let json = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[
            {"family":"inet","local":"192.0.2.1","prefixlen":24,"scope":"global","label":"eth0"},
            {"family":"inet","local":"192.0.2.100","prefixlen":24,"scope":"global","secondary":true,"label":"eth0:vip"},
            {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","tentative":true}]}]"#;
        let addresses = parse_addresses(json).unwrap();
        assert_eq!(addresses.len(), 3);
        assert_eq!(
            addresses[1].address,
            "192.0.2.100".parse::<IpAddr>().unwrap()
        );
        assert!(addresses[1].secondary);
        assert_eq!(addresses[1].label.as_deref(), Some("eth0:vip"));
        assert!(addresses[2].tentative);
        assert_eq!(addresses[2].scope, "link");
    }
}
