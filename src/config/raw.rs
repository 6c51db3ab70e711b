//! The file as serde reads it: the shape of the schema, every value still spanned so validation can point
//! at it. Unknown keys are rejected here (`deny_unknown_fields`), with the key's position. Every field is
//! optional so that missing keys are reported by validation, all at once, instead of one per run.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a config file")]
pub(crate) struct RawFile {
    pub global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    pub instance: Vec<Spanned<RawInstance>>,
    #[serde(default)]
    pub track_script: Vec<Spanned<RawTrackScript>>,
    #[serde(default)]
    pub track_file: Vec<Spanned<RawTrackFile>>,
    #[serde(default)]
    pub track_process: Vec<Spanned<RawTrackProcess>>,
    #[serde(default)]
    pub sync_group: Vec<Spanned<RawSyncGroup>>,
}

/// `[[sync_group]]`: instances that move together (keepalived's `vrrp_sync_group`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[sync_group]] table")]
pub(crate) struct RawSyncGroup {
    pub name: Option<Spanned<String>>,
    pub members: Option<Spanned<Vec<Spanned<String>>>>,
    pub track_script: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_file: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_process: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_interface: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub notify: Option<Spanned<RawCommand>>,
    pub notify_master: Option<Spanned<RawCommand>>,
    pub notify_backup: Option<Spanned<RawCommand>>,
    pub notify_fault: Option<Spanned<RawCommand>>,
    pub notify_stop: Option<Spanned<RawCommand>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [global] table")]
pub(crate) struct RawGlobal {
    pub router_id: Option<Spanned<String>>,
    pub checksum_mode: Option<Spanned<String>>,
    pub garp_repeat: Option<Spanned<Int>>,
    pub garp_interval: Option<Spanned<DurationText>>,
    pub garp_delay: Option<Spanned<DurationText>>,
    pub garp_refresh: Option<Spanned<DurationText>>,
    pub log_format: Option<Spanned<String>>,
    pub notify_fifo: Option<Spanned<String>>,
    pub notify_timeout: Option<Spanned<DurationText>>,
    pub script_user: Option<Spanned<String>>,
    pub script_group: Option<Spanned<String>>,
    pub allow_insecure_scripts: Option<Spanned<bool>>,
    pub metrics_listen: Option<Spanned<String>>,
    pub control_group: Option<Spanned<String>>,
    pub startup_delay: Option<Spanned<DurationText>>,
    pub rt_priority: Option<Spanned<Int>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an [[instance]] table")]
pub(crate) struct RawInstance {
    pub name: Option<Spanned<String>>,
    pub interface: Option<Spanned<String>>,
    pub vrid: Option<Spanned<Int>>,
    pub version: Option<Spanned<Int>>,
    pub priority: Option<Spanned<Int>>,
    pub advert_interval: Option<Spanned<DurationText>>,
    pub preempt: Option<Spanned<bool>>,
    pub preempt_delay: Option<Spanned<DurationText>>,
    pub accept: Option<Spanned<bool>>,
    pub checksum_mode: Option<Spanned<String>>,
    pub auth_pass: Option<Spanned<String>>,
    pub v2_interop: Option<Spanned<bool>>,
    pub vips: Option<Spanned<Vec<Spanned<RawVip>>>>,
    pub excluded_vips: Option<Spanned<Vec<Spanned<RawVip>>>>,
    pub routes: Option<Spanned<Vec<Spanned<RawRoute>>>>,
    pub rules: Option<Spanned<Vec<Spanned<RawRule>>>>,
    pub unicast_peers: Option<Spanned<Vec<Spanned<String>>>>,
    pub unicast_source: Option<Spanned<String>>,
    pub garp_repeat: Option<Spanned<Int>>,
    pub garp_interval: Option<Spanned<DurationText>>,
    pub garp_delay: Option<Spanned<DurationText>>,
    pub garp_refresh: Option<Spanned<DurationText>>,
    pub track_script: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_file: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_process: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub track_interface: Option<Spanned<Vec<Spanned<RawTrackRef>>>>,
    pub notify: Option<Spanned<RawCommand>>,
    pub notify_master: Option<Spanned<RawCommand>>,
    pub notify_backup: Option<Spanned<RawCommand>>,
    pub notify_fault: Option<Spanned<RawCommand>>,
    pub notify_stop: Option<Spanned<RawCommand>>,
    pub vmac: Option<Spanned<bool>>,
    pub vmac_name: Option<Spanned<String>>,
}

/// `[[track_script]]`: a command run every interval (keepalived's `vrrp_script`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[track_script]] table")]
pub(crate) struct RawTrackScript {
    pub name: Option<Spanned<String>>,
    pub command: Option<Spanned<RawCommand>>,
    pub shell: Option<Spanned<bool>>,
    pub interval: Option<Spanned<DurationText>>,
    pub timeout: Option<Spanned<DurationText>>,
    pub rise: Option<Spanned<Int>>,
    pub fall: Option<Spanned<Int>>,
    pub weight: Option<Spanned<Int>>,
    pub reverse: Option<Spanned<bool>>,
    pub init_fail: Option<Spanned<bool>>,
    pub user: Option<Spanned<String>>,
    pub group: Option<Spanned<String>>,
}

/// `[[track_file]]`: an integer in a file, times a weight (keepalived's `vrrp_track_file`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[track_file]] table")]
pub(crate) struct RawTrackFile {
    pub name: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    pub weight: Option<Spanned<Int>>,
    pub reverse: Option<Spanned<bool>>,
    pub init_value: Option<Spanned<Int>>,
    pub init_overwrite: Option<Spanned<bool>>,
}

/// `[[track_process]]`: how many processes match (keepalived's `vrrp_track_process`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [[track_process]] table")]
pub(crate) struct RawTrackProcess {
    pub name: Option<Spanned<String>>,
    pub process: Option<Spanned<String>>,
    pub args: Option<Spanned<String>>,
    pub param_match: Option<Spanned<String>>,
    pub quorum: Option<Spanned<Int>>,
    pub quorum_max: Option<Spanned<Int>>,
    pub delay: Option<Spanned<DurationText>>,
    pub fork_delay: Option<Spanned<DurationText>>,
    pub terminate_delay: Option<Spanned<DurationText>>,
    pub weight: Option<Spanned<Int>>,
    pub reverse: Option<Spanned<bool>>,
    pub same_netns: Option<Spanned<bool>>,
}

/// A tracker as an instance lists it: `"name"` or `{ name = "name", weight = -20, reverse = true }`
/// (`track_interface` says `interface` for the name).
pub(crate) type RawTrackRef = TextOr<RawTrackRefTable>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a tracker reference table")]
pub(crate) struct RawTrackRefTable {
    pub name: Option<Spanned<String>>,
    pub interface: Option<Spanned<String>>,
    pub weight: Option<Spanned<Int>>,
    pub reverse: Option<Spanned<bool>>,
}

/// A command: `"/usr/bin/killall -0 haproxy"` (split into words, quotes honoured) or
/// `["/usr/bin/killall", "-0", "haproxy"]`.
#[derive(Debug)]
pub(crate) enum RawCommand {
    Text(String),
    Words(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for RawCommand {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CommandVisitor;
        impl<'de> Visitor<'de> for CommandVisitor {
            type Value = RawCommand;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a command: a string such as \"/usr/bin/killall -0 haproxy\" or a list of words")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawCommand, E> {
                Ok(RawCommand::Text(text.to_owned()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RawCommand, A::Error> {
                Vec::<Spanned<String>>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(RawCommand::Words)
            }
        }
        deserializer.deserialize_any(CommandVisitor)
    }
}

/// A string, or a table of `T`, keeping the spans of both (`#[serde(untagged)]` would lose them).
#[derive(Debug)]
pub(crate) enum TextOr<T> {
    Text(String),
    Table(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOr<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for TextOrVisitor<T> {
            type Value = TextOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name, or a table with `name` and optional `weight` and `reverse`")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<TextOr<T>, E> {
                Ok(TextOr::Text(text.to_owned()))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<TextOr<T>, M::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(TextOr::Table)
            }
        }
        deserializer.deserialize_any(TextOrVisitor(std::marker::PhantomData))
    }
}

/// One of an instance's `routes` (keepalived's `virtual_routes`).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a route table such as { to = \"0.0.0.0/0\", via = \"203.0.113.1\", table = 100 }"
)]
pub(crate) struct RawRoute {
    pub to: Option<Spanned<String>>,
    pub via: Option<Spanned<String>>,
    pub dev: Option<Spanned<String>>,
    pub table: Option<Spanned<Int>>,
    pub metric: Option<Spanned<Int>>,
    pub src: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
}

/// One of an instance's `rules` (keepalived's `virtual_rules`).
#[derive(Debug, Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a rule table such as { from = \"198.51.100.0/24\", table = 100 }"
)]
pub(crate) struct RawRule {
    pub from: Option<Spanned<String>>,
    pub to: Option<Spanned<String>>,
    pub table: Option<Spanned<Int>>,
    pub priority: Option<Spanned<Int>>,
}

/// A VIP as written: `"192.0.2.10/24"` or `{ address = "192.0.2.10/24", label = "eth0:vip" }`.
#[derive(Debug)]
pub(crate) enum RawVip {
    Text(String),
    Table(RawVipTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a VIP table")]
pub(crate) struct RawVipTable {
    pub address: Option<Spanned<String>>,
    pub label: Option<Spanned<String>>,
    pub scope: Option<Spanned<String>>,
}

impl<'de> Deserialize<'de> for RawVip {
    // Hand-written rather than `#[serde(untagged)]`: untagged buffers the value and loses the spans.
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VipVisitor;
        impl<'de> Visitor<'de> for VipVisitor {
            type Value = RawVip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an address string such as \"192.0.2.10/24\" or a table with `address`")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawVip, E> {
                Ok(RawVip::Text(text.to_owned()))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<RawVip, M::Error> {
                RawVipTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawVip::Table)
            }
        }
        deserializer.deserialize_any(VipVisitor)
    }
}

/// Any TOML integer, saturated to i64, so that range checks (with their better messages) see huge values
/// too instead of serde's "expected i64".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = Int;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int, E> {
                Ok(Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).unwrap_or(if v < 0 {
                    i64::MIN
                } else {
                    i64::MAX
                })))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Int, E> {
                Ok(Int(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        deserializer.deserialize_any(IntVisitor)
    }
}

/// A duration string, parsed later (see `duration.rs`); this type only gives a wrong-type error a useful
/// "expected", e.g. for `advert_interval = 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurationText(pub String);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = DurationText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string with a unit, such as \"1s\" or \"100ms\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationText, E> {
                Ok(DurationText(v.to_owned()))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}
