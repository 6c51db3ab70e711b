//! keepalived statements into keepvip tables: `global` (global_defs), `instance` (vrrp_instance and
//! its addresses in `addresses`), `trackers` (vrrp_script, vrrp_track_file, vrrp_track_process, the
//! references to them, notify commands and vrrp_sync_group). Each keyword keepvip cannot carry draws a
//! warning with its file and line.

mod addresses;
mod global;
mod instance;
mod trackers;

use crate::model::{Config, Table, Value};
use crate::tree::Stmt;
use crate::{Loc, Warning};

/// What global_defs decide for every instance.
#[derive(Debug, Default)]
pub struct Defaults {
    /// `vrrp_version`; keepalived's default is 2.
    pub version: Option<u8>,
    /// `vrrp_strict`: accept mode off unless an instance says `accept` or owns its addresses.
    pub strict: bool,
    pub script_security: bool,
    /// `default_interface`, for instances without `interface` (keepalived's own default is eth0).
    pub interface: Option<String>,
}

/// The warnings being collected and the global defaults.
pub struct Ctx<'w> {
    warnings: &'w mut Vec<Warning>,
    pub defaults: Defaults,
}

impl Ctx<'_> {
    /// `keepvip_name(name)`, with a warning at a definition when it differs.
    pub fn name(&mut self, name: &str, loc: &Loc, definition: bool) -> String {
        let renamed = keepvip_name(name);
        if definition && renamed != name {
            self.warn(loc, format!("`{name}` is not a valid keepvip name: renamed `{renamed}` (and where it is used)"));
        }
        renamed
    }

    pub fn warn(&mut self, loc: &Loc, message: impl Into<String>) {
        self.warnings.push(Warning {
            loc: loc.clone(),
            message: message.into(),
        });
    }

    /// The standard warning for a keyword keepvip has no equivalent for.
    pub fn not_carried(&mut self, stmt: &Stmt, context: &str) {
        let keyword = stmt.keyword();
        self.warn(
            &stmt.loc,
            format!("`{keyword}` in {context} is not supported by keepvip: not carried"),
        );
    }

    /// The single argument of `stmt`, or a warning.
    pub fn one_arg<'s>(&mut self, stmt: &'s Stmt) -> Option<&'s str> {
        match stmt.args() {
            [arg] => Some(arg),
            [] => {
                self.warn(
                    &stmt.loc,
                    format!("`{}` needs a value: not carried", stmt.keyword()),
                );
                None
            }
            [arg, rest @ ..] => {
                let extra = rest.join(" ");
                self.warn(
                    &stmt.loc,
                    format!(
                        "`{}`: `{extra}` after the value is not carried",
                        stmt.keyword()
                    ),
                );
                Some(arg)
            }
        }
    }

    /// An integer argument in `range`, or a warning.
    pub fn int_arg(&mut self, stmt: &Stmt, range: std::ops::RangeInclusive<i64>) -> Option<i64> {
        let arg = self.one_arg(stmt)?;
        match arg.parse::<i64>() {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.warn(
                    &stmt.loc,
                    format!(
                        "`{} {arg}`: expected an integer {}..={}: not carried",
                        stmt.keyword(),
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// A duration in (fractional) seconds as keepvip writes it, or a warning.
    pub fn seconds_arg(&mut self, stmt: &Stmt) -> Option<Value> {
        let arg = self.one_arg(stmt)?;
        match seconds_to_millis(arg) {
            Some((millis, exact)) => {
                if !exact {
                    self.warn(
                        &stmt.loc,
                        format!(
                            "`{} {arg}`: keepvip counts whole milliseconds: rounded to {}",
                            stmt.keyword(),
                            duration_text(millis)
                        ),
                    );
                }
                Some(Value::Str(duration_text(millis)))
            }
            None => {
                self.warn(
                    &stmt.loc,
                    format!(
                        "`{} {arg}`: expected seconds, e.g. 1 or 0.5: not carried",
                        stmt.keyword()
                    ),
                );
                None
            }
        }
    }
}

/// A keepalived name as a keepvip name: whitespace, control characters, quotes and backslashes
/// (which keepvip names exclude) become `_`, and it is cut to 64 bytes.
pub fn keepvip_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = if c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\') {
            '_'
        } else {
            c
        };
        if out.len() + c.len_utf8() > 64 {
            break;
        }
        out.push(c);
    }
    out
}

/// keepalived's seconds (`3`, `0.25`, `2.71828`) in milliseconds, and whether that is exact.
pub fn seconds_to_millis(text: &str) -> Option<(u64, bool)> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut millis = whole.checked_mul(1000)?;
    let mut scale = 100;
    for c in fraction.chars().take(3) {
        millis += u64::from(c.to_digit(10)?) * scale;
        scale /= 10;
    }
    let rest = fraction.get(3..).unwrap_or("");
    let exact = rest.chars().all(|c| c == '0');
    if rest.starts_with(['5', '6', '7', '8', '9']) {
        millis += 1;
    }
    Some((millis, exact))
}

/// Milliseconds as a keepvip duration: `"1s"`, `"250ms"`.
pub fn duration_text(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

/// Blocks of other keepalived subsystems: one warning for the whole block.
const OTHER_BLOCKS: &[&str] = &[
    "virtual_server",
    "virtual_server_group",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "linkbeat_interfaces",
    "bfd_instance",
    "garp_group",
    "track_group",
    "net_namespace",
];

/// Converts a whole keepalived.conf.
pub fn convert(stmts: &[Stmt], warnings: &mut Vec<Warning>) -> Config {
    let mut ctx = Ctx {
        warnings,
        defaults: Defaults::default(),
    };
    let mut config = Config::default();
    let mut global = Table::new("global", false);
    for stmt in stmts.iter().filter(|s| s.keyword() == "global_defs") {
        global::global_defs(stmt, &mut global, &mut ctx);
    }
    for stmt in stmts {
        match stmt.keyword() {
            "global_defs" => {}
            "vrrp_script" => config
                .track_scripts
                .extend(trackers::vrrp_script(stmt, &mut ctx)),
            "vrrp_track_file" => config
                .track_files
                .extend(trackers::track_file(stmt, &mut ctx)),
            "vrrp_track_process" => config
                .track_processes
                .extend(trackers::track_process(stmt, &mut ctx)),
            "vrrp_instance" => config.instances.extend(instance::instance(stmt, &mut ctx)),
            "vrrp_sync_group" => config
                .sync_groups
                .extend(trackers::sync_group(stmt, &mut ctx)),
            keyword if OTHER_BLOCKS.contains(&keyword) => ctx.warn(
                &stmt.loc,
                format!(
                    "`{keyword}` is not VRRP: keepvip has no equivalent, the block is not carried"
                ),
            ),
            keyword => ctx.warn(
                &stmt.loc,
                format!("unknown top-level keyword `{keyword}`: not carried"),
            ),
        }
    }
    if !ctx.defaults.script_security && has_scripts(&config) {
        let loc = stmts.first().map(|s| s.loc.clone());
        if let Some(loc) = loc {
            ctx.warn(&loc, "keepalived runs scripts without security checks unless `enable_script_security` is set; keepvip refuses a root script that a non-root user could change (set allow_insecure_scripts = true in [global] to run such scripts anyway)");
        }
    }
    trackers::drop_missing_references(&mut config, &mut ctx);
    if !global.entries.is_empty() {
        config.global = Some(global);
    }
    config
}

fn has_scripts(config: &Config) -> bool {
    let notify = |t: &Table| {
        [
            "notify",
            "notify_master",
            "notify_backup",
            "notify_fault",
            "notify_stop",
        ]
        .iter()
        .any(|k| t.get(k).is_some())
    };
    !config.track_scripts.is_empty()
        || config.instances.iter().any(notify)
        || config.sync_groups.iter().any(notify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_with_fractions() {
        assert_eq!(seconds_to_millis("1"), Some((1000, true)));
        assert_eq!(seconds_to_millis("0.5"), Some((500, true)));
        assert_eq!(seconds_to_millis(".25"), Some((250, true)));
        assert_eq!(seconds_to_millis("2.71828"), Some((2718, false)));
        assert_eq!(seconds_to_millis("0.0015"), Some((2, false)));
        assert_eq!(seconds_to_millis("1.000"), Some((1000, true)));
        assert_eq!(seconds_to_millis("x"), None);
        assert_eq!(seconds_to_millis("-1"), None);
        assert_eq!(seconds_to_millis("."), None);
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration_text(5000), "5s");
        assert_eq!(duration_text(250), "250ms");
        assert_eq!(duration_text(0), "0s");
    }
}
