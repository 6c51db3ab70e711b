//! The entry points of the fuzz targets (fuzz/, cargo-fuzz) and of the corpus replay test
//! (tests/fuzz_corpus.rs), so both run the same code: each takes arbitrary bytes and panics only when
//! a property below is broken. Not an API: hidden from the docs.
//!
//! | entry | input | properties |
//! |---|---|---|
//! | [`config_file`] | a keepvip.toml | no panic; a refusal has errors, each at a line:column inside the text; an accepted config builds every instance and sync group in a vrrp-core `Node` |
//! | [`keepalived_import`] | keepalived.conf files, split by NUL bytes | no panic, nothing outside the given files read; the TOML written is TOML, and keepvip's own checks of it hold as for [`config_file`] |
//! | [`control_request`] | one control-socket request line | no panic; every request's name parses back to it; only a request's name (or nothing, for status) parses |
//! | [`metrics_request`] | the bytes a scraper sends to `metrics_listen` | no panic; a request is accepted only with a path starting at `/` without control characters or query; a refusal is 400 or 405 |
//! | [`netlink_datagram`] | one netlink datagram | no panic decoding it as rtnetlink events (link, address, macvlan ownership) or as nf_tables answers |

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::packet_core::{NetlinkBuffer, NetlinkMessage, NetlinkPayload};
use vrrp_core::{LinkId, Node};

use crate::config::{self, ConfigErrors, Diagnostic, Severity};
use crate::control::{Access, Request};
use crate::net::netlink::{AddressEvent, Existing, LinkEvent, MacvlanSpec};

/// The file name config diagnostics carry.
const CONFIG_NAME: &str = "fuzz.toml";

/// Validates `data` as a keepvip config file (see the module table).
pub fn config_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    check_config(data.to_vec(), &text);
}

fn check_config(bytes: Vec<u8>, text: &str) {
    match config::check_bytes(bytes, CONFIG_NAME, &|name| name != "absent0") {
        Ok(checked) => {
            assert!(
                checked
                    .diagnostics
                    .iter()
                    .all(|d| d.severity != Severity::Error),
                "accepted with errors: {:?}",
                checked.diagnostics
            );
            for diagnostic in &checked.diagnostics {
                assert_positioned(diagnostic, text);
            }
            build_node(&checked.config);
        }
        Err(ConfigErrors { diagnostics }) => {
            assert!(
                diagnostics.iter().any(|d| d.severity == Severity::Error),
                "refused without an error: {diagnostics:?}"
            );
            for diagnostic in &diagnostics {
                assert_positioned(diagnostic, text);
            }
        }
    }
}

/// The diagnostic names the file and a line:column that exists in `text` (the column may be one past
/// the line's last character: "expected a value" at the end of a line).
fn assert_positioned(diagnostic: &Diagnostic, text: &str) {
    assert_eq!(diagnostic.file, CONFIG_NAME);
    assert!(!diagnostic.message.trim().is_empty(), "{diagnostic:?}");
    let lines: Vec<&str> = text.split('\n').collect();
    let line = lines
        .get(diagnostic.line.wrapping_sub(1))
        .unwrap_or_else(|| panic!("{diagnostic}: line outside the text's {}", lines.len()));
    let columns = line.chars().count() + 1;
    assert!(
        (1..=columns).contains(&diagnostic.column),
        "{diagnostic}: column outside line {} ({columns} columns)",
        diagnostic.line
    );
}

/// What the daemon does at startup with a valid config, minus the OS: every instance into one `Node`
/// (one link per interface name), then the sync groups. `check` accepting a config the core refuses
/// would be a validation gap.
fn build_node(config: &config::Config) {
    let mut node = Node::new();
    let mut links: Vec<&str> = Vec::new();
    let mut ids = Vec::new();
    for instance in &config.instances {
        let link = match links.iter().position(|name| *name == instance.interface) {
            Some(index) => index,
            None => {
                links.push(&instance.interface);
                links.len() - 1
            }
        };
        let link = LinkId(u32::try_from(link).unwrap_or(u32::MAX));
        let trackers = crate::track::registry::core_trackers(instance, config);
        let primary = crate::daemon::placeholder(instance.family());
        let mut core = crate::daemon::core_config(instance, primary, trackers);
        core.startup_delay = crate::daemon::micros(config.global.startup_delay);
        match node.add_instance(link, core) {
            Ok(id) => ids.push((instance.name.as_str(), id)),
            Err(e) => panic!(
                "check accepted instance {} but the core refused it: {e}",
                instance.name
            ),
        }
    }
    for group in &config.sync_groups {
        let members: Vec<_> = group
            .members
            .iter()
            .map(|member| match ids.iter().find(|(name, _)| name == member) {
                Some((_, id)) => *id,
                None => panic!("sync group {} names no instance {member}", group.name),
            })
            .collect();
        if let Err(e) = node.add_sync_group(&members) {
            panic!(
                "check accepted sync group {} but the core refused it: {e}",
                group.name
            );
        }
    }
}

/// Where [`keepalived_import`] puts its files: the first part of the input is the main file, the
/// next ones what it may include (by these names, or a glob matching them).
pub const KEEPALIVED_FILES: [&str; 4] = [
    "/etc/keepalived/keepalived.conf",
    "/etc/keepalived/scripts.conf",
    "/etc/keepalived/conf.d/10-instance.conf",
    "/etc/keepalived/conf.d/20-instance.conf",
];

/// Imports `data` as keepalived.conf and the files it includes, split at NUL bytes (see the module
/// table).
pub fn keepalived_import(data: &[u8]) {
    let mut files = keepalived_conf::MemoryFiles::default();
    for (name, part) in KEEPALIVED_FILES.iter().zip(data.split(|&b| b == 0)) {
        files.files.insert(PathBuf::from(name), part.to_vec());
    }
    // The config id only matters to `@ID` lines: a second import only when there may be one.
    let ids = if data.contains(&b'@') { 2 } else { 1 };
    for config_id in [None, Some("lb1".to_owned())].into_iter().take(ids) {
        let options = keepalived_conf::Options { config_id };
        let Ok(import) =
            keepalived_conf::import_from(&files, Path::new(KEEPALIVED_FILES[0]), &options)
        else {
            continue;
        };
        for warning in &import.warnings {
            assert!(warning.loc.line >= 1, "{warning}");
        }
        if let Err(e) = import.toml.parse::<toml::Table>() {
            panic!(
                "the importer wrote TOML that is not TOML: {e}\n{}",
                import.toml
            );
        }
        check_config(import.toml.clone().into_bytes(), &import.toml);
    }
}

/// Parses `data` as a control-socket request (see the module table), as the server reads it: at
/// most 256 bytes, up to and including the first newline, UTF-8 or nothing.
pub fn control_request(data: &[u8]) {
    for (name, request) in [("status", Request::Status), ("reload", Request::Reload)] {
        assert_eq!(Request::parse(name), Some(request));
        assert_eq!(Request::parse(&format!("{name}\n")), Some(request));
    }
    let read = &data[..data.len().min(256)];
    let end = read
        .iter()
        .position(|&b| b == b'\n')
        .map_or(read.len(), |at| at + 1);
    let Ok(line) = std::str::from_utf8(&read[..end]) else {
        return;
    };
    if let Some(request) = Request::parse(line) {
        let named = match request {
            Request::Status => ["", "status"].contains(&line.trim()),
            Request::Reload => line.trim() == "reload",
        };
        assert!(named, "{line:?} parsed as {request:?}");
        let _ = (
            request.permitted(Access::Admin),
            request.permitted(Access::ReadOnly),
        );
    }
}

/// Reads `data` as what an HTTP client sent the metrics listener (see the module table).
pub fn metrics_request(data: &[u8]) {
    let Some(end) = crate::metrics::head_end(data) else {
        return;
    };
    assert!(end <= data.len());
    match crate::metrics::parse(&data[..end]) {
        Ok(request) => {
            assert!(request.path.starts_with('/'), "{request:?}");
            assert!(!request.path.contains('?'), "{request:?}");
            assert!(!request.path.chars().any(char::is_control), "{request:?}");
        }
        Err(refusal) => assert!(matches!(refusal.status, 400 | 405), "{refusal:?}"),
    }
}

/// Reads `data` as a netlink datagram (see the module table).
pub fn netlink_datagram(data: &[u8]) {
    for message in route_messages(data) {
        let payload = message.payload;
        if let Some(event) = AddressEvent::from_payload(payload.clone()) {
            let address = event.address();
            let _ = (
                address.is_keepvip(),
                address.is_usable(),
                address.is_secondary(),
            );
            let _ = crate::net::netlink::primary_ipv4_of(std::slice::from_ref(address));
            assert!(matches!(address.address, IpAddr::V4(_) | IpAddr::V6(_)));
        }
        if let Some(event) = LinkEvent::from_payload(payload.clone()) {
            let _ = event.index();
        }
        if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) = &payload {
            let spec = MacvlanSpec {
                name: "vrrp.4.51".to_owned(),
                parent: 4,
                mac: [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33],
            };
            let _: Existing = Existing::judge(link, &spec);
        }
    }
    for (seq, error) in crate::net::nftables::answers(data) {
        let _ = (seq, error.checked_neg());
    }
}

/// The messages of a datagram, split as netlink-proto's codec splits what the kernel sends (a bad
/// length ends the datagram; a message that does not decode is skipped).
fn route_messages(data: &[u8]) -> Vec<NetlinkMessage<RouteNetlinkMessage>> {
    let mut messages = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Ok(buffer) = NetlinkBuffer::new_checked(rest) else {
            break;
        };
        let len = (buffer.length() as usize).min(rest.len());
        if len == 0 {
            break;
        }
        if let Ok(message) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&rest[..len]) {
            messages.push(message);
        }
        rest = &rest[len..];
    }
    messages
}
