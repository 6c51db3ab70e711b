//! keepvip's configuration: a TOML file (default `/etc/keepvip/keepvip.toml`) with a `[global]` table and
//! one `[[instance]]` table per virtual router. conf/README.md documents every key.
//!
//! Reading happens in two steps. serde reads the file into spanned raw structs (`raw`), rejecting syntax
//! errors, wrong types and unknown keys; serde stops at the first of those. Validation (`validate`) then
//! checks every value and the rules between them and reports all errors at once. Every message is
//! `file:line:column: ...` (1-based, column in characters), usually `key = value: expected ...`.

mod diagnostic;
mod duration;
mod names;
mod raw;
mod types;
mod validate;

use std::path::Path;

pub use diagnostic::{ConfigErrors, Diagnostic, LoadError, Severity};
pub use duration::{DurationError, format_millis, parse as parse_duration};
pub use names::{check_interface_name, interface_exists_in_sysfs};
pub use types::{
    CommandLine, Config, DEFAULT_CONFIG_PATH, Family, GarpTiming, Global, Instance, LogFormat,
    MAIN_TABLE, Notify, ParamMatch, Prefix, RouteKind, Scope, ScriptUser, SyncGroup, TrackFile,
    TrackProcess, TrackScript, TrackerKind, TrackerRef, Trackers, Vip, VirtualRoute, VirtualRule,
    Vmac, default_vmac_name, virtual_link_local, virtual_mac,
};

use diagnostic::Sink;

/// A valid config and what was noticed on the way (warnings, notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads and validates a config file. Warnings are dropped: use `check_file` to see them.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    check_file(path, &|_| true).map(|checked| checked.config)
}

/// Validates config text. `file_name` only appears in messages.
pub fn parse_str(text: &str, file_name: &str) -> Result<Config, ConfigErrors> {
    check_str(text, file_name, &|_| true).map(|checked| checked.config)
}

/// Reads and validates a config file, keeping warnings and notes. `interface_exists` decides which
/// interface names draw a "no such interface" warning (see `interface_exists_in_sysfs`).
pub fn check_file(
    path: &Path,
    interface_exists: &dyn Fn(&str) -> bool,
) -> Result<Checked, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Unreadable {
        path: path.to_owned(),
        source,
    })?;
    let file_name = path.display().to_string();
    check_bytes(bytes, &file_name, interface_exists).map_err(LoadError::Invalid)
}

/// Validates the bytes of a config file, which must be UTF-8. `file_name` only appears in messages.
pub fn check_bytes(
    bytes: Vec<u8>,
    file_name: &str,
    interface_exists: &dyn Fn(&str) -> bool,
) -> Result<Checked, ConfigErrors> {
    match String::from_utf8(bytes) {
        Ok(text) => check_str(&text, file_name, interface_exists),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes());
            let mut sink = Sink::new(file_name, &text);
            sink.error(&(valid_up_to..valid_up_to), "the file is not valid UTF-8");
            Err(ConfigErrors {
                diagnostics: sink.finish(),
            })
        }
    }
}

/// Validates config text, keeping warnings and notes. `file_name` only appears in messages.
pub fn check_str(
    text: &str,
    file_name: &str,
    interface_exists: &dyn Fn(&str) -> bool,
) -> Result<Checked, ConfigErrors> {
    let mut sink = Sink::new(file_name, text);
    let raw = match toml::from_str::<raw::RawFile>(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = serde_message(text, &e, &span);
            sink.error(&span, message);
            return Err(ConfigErrors {
                diagnostics: sink.finish(),
            });
        }
    };
    let config = validate::validate(&mut sink, &raw, interface_exists);
    let diagnostics = sink.finish();
    match config {
        Some(config) => Ok(Checked {
            config,
            diagnostics,
        }),
        None => Err(ConfigErrors { diagnostics }),
    }
}

/// toml's message, with the key added where toml leaves it out.
fn serde_message(text: &str, error: &toml::de::Error, span: &std::ops::Range<usize>) -> String {
    let message = error.message().trim_end();
    let at = text.get(span.clone()).unwrap_or("");
    if message == "duplicate key" {
        return format!("duplicate key `{at}`: expected each key once per table");
    }
    if let Some(hint) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .and_then(|(field, _)| keepalived_hint(field))
    {
        return format!("{message} ({hint})");
    }
    if message.starts_with("invalid type: map, expected a sequence") && at.starts_with('[') {
        return format!("{at}: expected an array of tables: write [[...]] with double brackets");
    }
    if (message.starts_with("invalid type") || message.starts_with("invalid value"))
        && let Some(key) = key_before(text, span.start)
    {
        return format!("{key} = {at}: {message}");
    }
    message.to_owned()
}

/// The bare key of a `key = value` pair (also inside an inline table), if `offset` is where its value
/// starts.
fn key_before(text: &str, offset: usize) -> Option<&str> {
    let before = text.get(..offset)?.trim_end().strip_suffix('=')?.trim_end();
    let start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | '['))
        .map_or(0, |i| i + 1);
    let key = &before[start..];
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    (!key.is_empty() && key.chars().all(bare)).then_some(key)
}

/// keepalived.conf habits, translated: operators come from there (conf/keepalived.md has the full table).
fn keepalived_hint(field: &str) -> Option<&'static str> {
    Some(match field {
        "virtual_router_id" => "keepalived's virtual_router_id is `vrid` here",
        "advert_int" => "keepalived's advert_int is `advert_interval` here, e.g. \"1s\"",
        "virtual_ipaddress" => "keepalived's virtual_ipaddress is `vips` here",
        "virtual_ipaddress_excluded" => {
            "keepalived's virtual_ipaddress_excluded is `excluded_vips` here"
        }
        "nopreempt" => "keepalived's nopreempt is `preempt = false` here",
        "vrrp_version" => "keepalived's vrrp_version is `version` here, per instance",
        "authentication" | "auth_type" => "VRRPv2 PASS authentication is just `auth_pass` here",
        "state" => "there is no initial state: the highest priority becomes master",
        "vrrp_garp_master_repeat" => "keepalived's vrrp_garp_master_repeat is `garp_repeat` here",
        "vrrp_garp_master_delay" => "keepalived's vrrp_garp_master_delay is `garp_delay` here",
        "vrrp_garp_master_refresh" => {
            "keepalived's vrrp_garp_master_refresh is `garp_refresh` here"
        }
        "vrrp_garp_interval" => "keepalived's vrrp_garp_interval is `garp_interval` here",
        "virtual_routes" => "keepalived's virtual_routes is `routes` here",
        "virtual_rules" => "keepalived's virtual_rules is `rules` here",
        "gw" => "keepalived's gw is `via` here",
        "preference" | "prio" | "pref" => "a rule's preference is `priority` here",
        "blackhole" | "unreachable" | "prohibit" => {
            "a route's kind is `type` here, e.g. type = \"blackhole\""
        }
        "lookup" => "a rule's `lookup` is `table` here",
        "use_vmac" => "keepalived's use_vmac is `vmac = true` here (and `vmac_name` for its name)",
        "unicast_peer" => "keepalived's unicast_peer { ... } is `unicast_peers = [...]` here",
        "unicast_src_ip" => "keepalived's unicast_src_ip is `unicast_source` here",
        _ => return None,
    })
}
