//! `[[track_script]]`, `[[track_file]]`, `[[track_process]]`, and the lists by which an instance uses
//! them (`track_script`, `track_file`, `track_process`, `track_interface`).

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::values::{int_in, millis_in};
use crate::config::diagnostic::Sink;
use crate::config::names::{check_instance_name, check_interface_name};
use crate::config::raw::{
    Int, RawCommand, RawFile, RawTrackFile, RawTrackProcess, RawTrackRef, RawTrackScript, TextOr,
};
use crate::config::types::{
    CommandLine, ParamMatch, ScriptUser, TrackFile, TrackProcess, TrackScript, TrackerKind,
    TrackerRef, Trackers,
};

/// keepalived takes -254..=254 for most trackers (±254 acts as ±253 for OK/KO trackers, and the
/// effective priority is clamped to 1..=254 either way); a file's -254 is FAULT.
const WEIGHT_RANGE: std::ops::RangeInclusive<i64> = -254..=254;

/// Every tracker definition of the file; a bad one is reported and left out.
pub(crate) fn trackers(sink: &mut Sink<'_>, raw: &RawFile) -> Trackers {
    let trackers = Trackers {
        scripts: raw
            .track_script
            .iter()
            .filter_map(|t| script(sink, t))
            .collect(),
        files: raw
            .track_file
            .iter()
            .filter_map(|t| file(sink, t))
            .collect(),
        processes: raw
            .track_process
            .iter()
            .filter_map(|t| process(sink, t))
            .collect(),
    };
    unique_names(sink, raw);
    trackers
}

/// Every tracker name written in the file, valid definition or not.
pub(crate) struct Declared {
    scripts: Vec<String>,
    files: Vec<String>,
    processes: Vec<String>,
}

impl Declared {
    pub(crate) fn of(raw: &RawFile) -> Declared {
        fn names<'a>(list: impl Iterator<Item = &'a Option<Spanned<String>>>) -> Vec<String> {
            list.flatten().map(|n| n.get_ref().clone()).collect()
        }
        Declared {
            scripts: names(raw.track_script.iter().map(|t| &t.get_ref().name)),
            files: names(raw.track_file.iter().map(|t| &t.get_ref().name)),
            processes: names(raw.track_process.iter().map(|t| &t.get_ref().name)),
        }
    }

    fn has(&self, kind: TrackerKind, name: &str) -> bool {
        let list = match kind {
            TrackerKind::Script => &self.scripts,
            TrackerKind::File => &self.files,
            TrackerKind::Process => &self.processes,
            TrackerKind::Interface => return false,
        };
        list.iter().any(|n| n == name)
    }
}

/// A tracker name is unique within its kind.
fn unique_names(sink: &mut Sink<'_>, raw: &RawFile) {
    let kinds: [(&str, Vec<&Option<Spanned<String>>>); 3] = [
        (
            "track_script",
            raw.track_script.iter().map(|t| &t.get_ref().name).collect(),
        ),
        (
            "track_file",
            raw.track_file.iter().map(|t| &t.get_ref().name).collect(),
        ),
        (
            "track_process",
            raw.track_process
                .iter()
                .map(|t| &t.get_ref().name)
                .collect(),
        ),
    ];
    for (kind, names) in kinds {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for name in names.into_iter().flatten() {
            if let Some(first) = seen.insert(name.get_ref(), name.span().start) {
                let line = sink.line_of(first);
                let what = format!("a unique [[{kind}]] name (also used on line {line})");
                sink.expected("name", &name.span(), what);
            }
        }
    }
}

/// The `name` of a tracker table, reported at the header when missing.
fn tracker_name(
    sink: &mut Sink<'_>,
    kind: &str,
    header: &Range<usize>,
    name: &Option<Spanned<String>>,
) -> Option<String> {
    let Some(name) = name else {
        sink.error(
            header,
            format!("[[{kind}]] without `name`: expected a name such as \"chk_haproxy\""),
        );
        return None;
    };
    check_instance_name(name.get_ref())
        .map_err(|e| sink.expected("name", &name.span(), e))
        .ok()
        .map(|()| name.get_ref().clone())
}

fn weight(sink: &mut Sink<'_>, value: Option<&Spanned<Int>>, default: i16) -> Option<i16> {
    match value {
        None => Some(default),
        Some(v) => int_in(sink, "weight", v, WEIGHT_RANGE).and_then(|n| i16::try_from(n).ok()),
    }
}

fn flag(value: &Option<Spanned<bool>>, default: bool) -> bool {
    value.as_ref().map_or(default, |v| *v.get_ref())
}

fn count(
    sink: &mut Sink<'_>,
    key: &str,
    value: Option<&Spanned<Int>>,
    default: u32,
) -> Option<u32> {
    match value {
        None => Some(default),
        Some(v) => int_in(sink, key, v, 1..=1000).and_then(|n| u32::try_from(n).ok()),
    }
}

fn script(sink: &mut Sink<'_>, raw: &Spanned<RawTrackScript>) -> Option<TrackScript> {
    let header = raw.span();
    let raw = raw.get_ref();
    let name = tracker_name(sink, "track_script", &header, &raw.name);
    let shell = flag(&raw.shell, false);
    let command = match &raw.command {
        Some(c) => command(sink, "command", c, shell),
        None => {
            let what =
                "[[track_script]] without `command`: expected e.g. \"/usr/bin/killall -0 haproxy\"";
            sink.error(&header, what);
            None
        }
    };
    let interval = match &raw.interval {
        None => Some(Duration::from_secs(1)),
        Some(v) => millis_in(sink, "interval", v, 10, 3_600_000).map(Duration::from_millis),
    };
    let timeout = match (&raw.timeout, interval) {
        (None, interval) => interval,
        (Some(v), _) => millis_in(sink, "timeout", v, 10, 3_600_000).map(Duration::from_millis),
    };
    let user = script_user(sink, ("user", &raw.user), ("group", &raw.group));
    let rise = count(sink, "rise", raw.rise.as_ref(), 1);
    let fall = count(sink, "fall", raw.fall.as_ref(), 1);
    let weight = weight(sink, raw.weight.as_ref(), 0);
    Some(TrackScript {
        name: name?,
        command: command?,
        interval: interval?,
        timeout: timeout?,
        rise: rise?,
        fall: fall?,
        weight: weight?,
        reverse: flag(&raw.reverse, false),
        init_fail: flag(&raw.init_fail, false),
        user: user?,
    })
}

/// `user` and `group` of a script (or of `[global]`); a group needs a user.
pub(crate) fn script_user(
    sink: &mut Sink<'_>,
    (user_key, user): (&str, &Option<Spanned<String>>),
    (group_key, group): (&str, &Option<Spanned<String>>),
) -> Option<Option<ScriptUser>> {
    let valid = |sink: &mut Sink<'_>, key: &str, v: &Spanned<String>| {
        let ok =
            !v.get_ref().is_empty() && !v.get_ref().chars().any(|c| c.is_whitespace() || c == ':');
        if !ok {
            sink.expected(key, &v.span(), "a user or group name");
        }
        ok
    };
    match (user, group) {
        (None, None) => Some(None),
        (None, Some(g)) => {
            sink.expected(
                group_key,
                &g.span(),
                "a group together with a user (set the user too)",
            );
            None
        }
        (Some(u), g) => {
            let user_ok = valid(sink, user_key, u);
            let group_ok = g.as_ref().is_none_or(|g| valid(sink, group_key, g));
            (user_ok && group_ok).then(|| {
                Some(ScriptUser {
                    user: u.get_ref().clone(),
                    group: g.as_ref().map(|g| g.get_ref().clone()),
                })
            })
        }
    }
}

/// A command as written: words split like a shell would (quotes honoured), or with `shell` the whole
/// text for `/bin/sh -c`.
pub(crate) fn command(
    sink: &mut Sink<'_>,
    key: &str,
    value: &Spanned<RawCommand>,
    shell: bool,
) -> Option<CommandLine> {
    let span = value.span();
    let words = match value.get_ref() {
        RawCommand::Text(text) if shell => vec![text.clone()],
        RawCommand::Text(text) => match shell_words::split(text) {
            Ok(words) => words,
            Err(e) => {
                sink.expected(
                    key,
                    &span,
                    format!("a command whose quotes are balanced ({e})"),
                );
                return None;
            }
        },
        RawCommand::Words(words) if shell => {
            vec![
                words
                    .iter()
                    .map(|w| w.get_ref().as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        }
        RawCommand::Words(words) => words.iter().map(|w| w.get_ref().clone()).collect(),
    };
    if words.first().is_none_or(|w| w.trim().is_empty()) {
        sink.expected(
            key,
            &span,
            "a command such as \"/usr/bin/killall -0 haproxy\"",
        );
        return None;
    }
    Some(CommandLine { words, shell })
}

fn file(sink: &mut Sink<'_>, raw: &Spanned<RawTrackFile>) -> Option<TrackFile> {
    let header = raw.span();
    let raw = raw.get_ref();
    let name = tracker_name(sink, "track_file", &header, &raw.name);
    let path = match &raw.path {
        Some(p) if p.get_ref().starts_with('/') => Some(PathBuf::from(p.get_ref())),
        Some(p) => {
            sink.expected(
                "path",
                &p.span(),
                "an absolute path such as \"/run/keepvip/weight\"",
            );
            None
        }
        None => {
            sink.error(
                &header,
                "[[track_file]] without `path`: expected an absolute path",
            );
            None
        }
    };
    let init_value = match &raw.init_value {
        None => Some(None),
        Some(v) => int_in(sink, "init_value", v, -1_000_000..=1_000_000).map(Some),
    };
    let weight = weight(sink, raw.weight.as_ref(), 1);
    Some(TrackFile {
        name: name?,
        path: path?,
        weight: weight?,
        reverse: flag(&raw.reverse, false),
        init_value: init_value?,
        init_overwrite: flag(&raw.init_overwrite, false),
    })
}

fn process(sink: &mut Sink<'_>, raw: &Spanned<RawTrackProcess>) -> Option<TrackProcess> {
    let header = raw.span();
    let raw = raw.get_ref();
    let name = tracker_name(sink, "track_process", &header, &raw.name);
    let process = match &raw.process {
        Some(p) if !p.get_ref().trim().is_empty() => Some(p.get_ref().clone()),
        Some(p) => {
            sink.expected("process", &p.span(), "a process name such as \"haproxy\"");
            None
        }
        None => {
            sink.error(
                &header,
                "[[track_process]] without `process`: expected e.g. \"haproxy\"",
            );
            None
        }
    };
    let param_match = match &raw.param_match {
        None => Some(ParamMatch::Exact),
        Some(m) => match m.get_ref().as_str() {
            "exact" => Some(ParamMatch::Exact),
            "partial" => Some(ParamMatch::Partial),
            "initial" => Some(ParamMatch::Initial),
            _ => {
                sink.expected(
                    "param_match",
                    &m.span(),
                    "\"exact\", \"partial\" or \"initial\"",
                );
                None
            }
        },
    };
    let delay = |sink: &mut Sink<'_>,
                 key: &str,
                 v: &Option<Spanned<crate::config::raw::DurationText>>,
                 default: Duration| match v {
        None => Some(default),
        Some(v) => millis_in(sink, key, v, 0, 3_600_000).map(Duration::from_millis),
    };
    let base_delay = delay(sink, "delay", &raw.delay, Duration::ZERO);
    let fork_delay = delay(
        sink,
        "fork_delay",
        &raw.fork_delay,
        base_delay.unwrap_or_default(),
    );
    let terminate_delay = delay(
        sink,
        "terminate_delay",
        &raw.terminate_delay,
        base_delay.unwrap_or_default(),
    );
    // quorum = 0 with quorum_max = 0 means OK only while no such process runs.
    let quorum = match &raw.quorum {
        None if raw.quorum_max.as_ref().is_some_and(|m| m.get_ref().0 == 0) => Some(0),
        None => Some(1),
        Some(v) => int_in(sink, "quorum", v, 0..=65_535).and_then(|n| u32::try_from(n).ok()),
    };
    let quorum_max = quorum_max(sink, raw.quorum_max.as_ref(), quorum);
    let weight = weight(sink, raw.weight.as_ref(), 0);
    base_delay?;
    Some(TrackProcess {
        name: name?,
        process: process?,
        args: raw.args.as_ref().map(|a| a.get_ref().clone()),
        param_match: param_match?,
        quorum: quorum?,
        quorum_max: quorum_max?,
        fork_delay: fork_delay?,
        terminate_delay: terminate_delay?,
        weight: weight?,
        reverse: flag(&raw.reverse, false),
        same_netns: flag(&raw.same_netns, false),
    })
}

fn quorum_max(
    sink: &mut Sink<'_>,
    value: Option<&Spanned<Int>>,
    quorum: Option<u32>,
) -> Option<Option<u32>> {
    let Some(v) = value else {
        return Some(None);
    };
    let min = i64::from(quorum.unwrap_or(0));
    int_in(sink, "quorum_max", v, min..=65_535)
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
}

/// One `track_*` list of an instance as written.
pub(crate) type RefList = Spanned<Vec<Spanned<RawTrackRef>>>;

/// The trackers an instance lists, each checked against the definitions; `None` if any is bad.
pub(crate) fn instance_refs(
    sink: &mut Sink<'_>,
    lists: [(TrackerKind, Option<&RefList>); 4],
    trackers: &Trackers,
    declared: &Declared,
) -> Option<Vec<TrackerRef>> {
    let mut refs = Vec::new();
    let mut ok = true;
    for (kind, list) in lists {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for item in list.map(|l| l.get_ref().as_slice()).unwrap_or_default() {
            match tracker_ref(sink, kind, item, trackers, declared) {
                Some(r) => {
                    if let Some(first) = seen.insert(r.name.clone(), item.span().start) {
                        let line = sink.line_of(first);
                        let what = format!(
                            "each tracker once (\"{}\" is also listed on line {line})",
                            r.name
                        );
                        sink.expected(key_of(kind), &item.span(), what);
                        ok = false;
                    }
                    refs.push(r);
                }
                None => ok = false,
            }
        }
    }
    ok.then_some(refs)
}

fn key_of(kind: TrackerKind) -> &'static str {
    match kind {
        TrackerKind::Script => "track_script",
        TrackerKind::File => "track_file",
        TrackerKind::Process => "track_process",
        TrackerKind::Interface => "track_interface",
    }
}

/// One entry of a `track_*` list: its name resolved, its weight that of the definition unless given.
fn tracker_ref(
    sink: &mut Sink<'_>,
    kind: TrackerKind,
    item: &Spanned<RawTrackRef>,
    trackers: &Trackers,
    declared: &Declared,
) -> Option<TrackerRef> {
    let key = key_of(kind);
    let (name, name_span, weight_value, reverse_value) = match item.get_ref() {
        TextOr::Text(name) => (name.clone(), item.span(), None, None),
        TextOr::Table(table) => {
            let name = match kind {
                TrackerKind::Interface => table.interface.as_ref().or(table.name.as_ref()),
                _ => table.name.as_ref(),
            };
            let Some(name) = name else {
                let field = if kind == TrackerKind::Interface {
                    "interface"
                } else {
                    "name"
                };
                sink.expected(key, &item.span(), format!("a table with `{field}`"));
                return None;
            };
            (
                name.get_ref().clone(),
                name.span(),
                table.weight.as_ref(),
                table.reverse.as_ref(),
            )
        }
    };
    let defined = match kind {
        TrackerKind::Script => trackers
            .scripts
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.weight, t.reverse)),
        TrackerKind::File => trackers
            .files
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.weight, t.reverse)),
        TrackerKind::Process => trackers
            .processes
            .iter()
            .find(|t| t.name == name)
            .map(|t| (t.weight, t.reverse)),
        TrackerKind::Interface => match check_interface_name(&name) {
            Ok(()) => Some((0, false)),
            Err(e) => {
                sink.expected(key, &name_span, e);
                return None;
            }
        },
    };
    let Some((default_weight, default_reverse)) = defined else {
        if declared.has(kind, &name) {
            // Defined with errors, reported there; this reference just goes with it.
            weight(sink, weight_value, 0);
            return None;
        }
        let what = format!("the name of a [[{key}]] defined in this file (there is no \"{name}\")");
        sink.expected(key, &name_span, what);
        return None;
    };
    Some(TrackerRef {
        kind,
        name,
        weight: weight(sink, weight_value, default_weight)?,
        reverse: reverse_value.map_or(default_reverse, |r| *r.get_ref()),
    })
}
