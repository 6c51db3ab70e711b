//! The file as serde reads it: the shape of the schema, every value still spanned so validation can point
//! at it. Unknown keys are rejected here (`deny_unknown_fields`), with the key's position. Every field is
//! optional so that missing keys are reported by validation, all at once, instead of one per run.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use toml::Spanned;

/// A reserved key: accepted by the parser so validation can say "not supported yet" instead of
/// "unknown field", and so adding the feature later does not change how old files parse.
pub(crate) type Reserved = Option<Spanned<IgnoredAny>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a config file")]
pub(crate) struct RawFile {
    pub global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    pub instance: Vec<Spanned<RawInstance>>,
    // Reserved for the tracker and sync-group issues.
    pub track_script: Reserved,
    pub sync_group: Reserved,
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
    // Reserved for the notify issue.
    pub notify_fifo: Reserved,
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
    pub vips: Option<Spanned<Vec<Spanned<RawVip>>>>,
    pub excluded_vips: Option<Spanned<Vec<Spanned<RawVip>>>>,
    pub garp_repeat: Option<Spanned<Int>>,
    pub garp_interval: Option<Spanned<DurationText>>,
    pub garp_delay: Option<Spanned<DurationText>>,
    pub garp_refresh: Option<Spanned<DurationText>>,
    // Reserved for the tracker and notify issues.
    pub track_script: Reserved,
    pub track_interface: Reserved,
    pub notify: Reserved,
    pub notify_master: Reserved,
    pub notify_backup: Reserved,
    pub notify_fault: Reserved,
    pub notify_stop: Reserved,
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
