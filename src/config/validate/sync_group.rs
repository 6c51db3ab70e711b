//! `[[sync_group]]`: instances that move together (keepalived's `vrrp_sync_group`), with the group's
//! own trackers (added to every member's) and notify scripts (which see the group as `GROUP`).

use std::collections::HashMap;

use toml::Spanned;

use super::notify::group_notify;
use super::track::{Declared, instance_refs};
use crate::config::diagnostic::Sink;
use crate::config::names::check_instance_name;
use crate::config::raw::RawSyncGroup;
use crate::config::types::{Instance, SyncGroup, TrackerKind, TrackerRef, Trackers};

/// Every group of the file, checked against the instances; each member gets the group's trackers.
/// `None` if any group is bad.
pub(crate) fn sync_groups(
    sink: &mut Sink<'_>,
    raw: &[Spanned<RawSyncGroup>],
    instances: &mut [Instance],
    written: &[String],
    (trackers, declared): &(Trackers, Declared),
) -> Option<Vec<SyncGroup>> {
    let mut groups = Vec::new();
    let mut ok = true;
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut grouped: HashMap<String, String> = HashMap::new();
    for raw in raw {
        let header = raw.span();
        let raw = raw.get_ref();
        let name = group_name(sink, &header, raw, &mut names);
        let known = Known { instances, written };
        let members = members(sink, &header, raw, &known, &mut grouped, name.as_deref());
        let lists = [
            (TrackerKind::Script, raw.track_script.as_ref()),
            (TrackerKind::File, raw.track_file.as_ref()),
            (TrackerKind::Process, raw.track_process.as_ref()),
            (TrackerKind::Interface, raw.track_interface.as_ref()),
        ];
        let refs = instance_refs(sink, lists, trackers, declared);
        let notify = group_notify(sink, raw);
        match (name, members, refs, notify) {
            (Some(name), Some(members), Some(refs), Some(notify)) => {
                add_group_trackers(sink, &header, instances, &members, &refs);
                groups.push(SyncGroup {
                    name,
                    members,
                    notify,
                });
            }
            _ => ok = false,
        }
    }
    ok.then_some(groups)
}

fn group_name(
    sink: &mut Sink<'_>,
    header: &std::ops::Range<usize>,
    raw: &RawSyncGroup,
    names: &mut HashMap<String, usize>,
) -> Option<String> {
    let Some(name) = &raw.name else {
        sink.error(
            header,
            "[[sync_group]] without `name`: expected a name such as \"VG_1\"",
        );
        return None;
    };
    if let Err(e) = check_instance_name(name.get_ref()) {
        sink.expected("name", &name.span(), e);
        return None;
    }
    if let Some(first) = names.insert(name.get_ref().clone(), name.span().start) {
        let line = sink.line_of(first);
        sink.expected(
            "name",
            &name.span(),
            format!("a unique [[sync_group]] name (also used on line {line})"),
        );
        return None;
    }
    Some(name.get_ref().clone())
}

/// The instances a group can name: the valid ones, and every name written (an instance with errors
/// of its own draws no second error as a member).
struct Known<'a> {
    instances: &'a [Instance],
    written: &'a [String],
}

/// The member instances: defined in this file, each in one group only, at least one.
fn members(
    sink: &mut Sink<'_>,
    header: &std::ops::Range<usize>,
    raw: &RawSyncGroup,
    known: &Known<'_>,
    grouped: &mut HashMap<String, String>,
    group: Option<&str>,
) -> Option<Vec<String>> {
    let Some(list) = &raw.members else {
        sink.error(header, "[[sync_group]] without `members`: expected instance names such as [\"VI_LAN\", \"VI_WAN\"]");
        return None;
    };
    let mut members = Vec::new();
    let mut ok = true;
    for member in list.get_ref() {
        let name = member.get_ref();
        if members.contains(name) {
            let what = format!("each member once (\"{name}\" is listed twice)");
            sink.expected("members", &member.span(), what);
            ok = false;
        } else if !known.instances.iter().any(|i| &i.name == name) {
            if !known.written.contains(name) {
                let what =
                    format!("the name of an [[instance]] of this file (there is no \"{name}\")");
                sink.expected("members", &member.span(), what);
            }
            ok = false;
        } else if let Some(other) = grouped.insert(name.clone(), group.unwrap_or("?").to_owned()) {
            sink.expected(
                "members",
                &member.span(),
                format!("an instance in no other group (\"{name}\" is in \"{other}\")"),
            );
            ok = false;
        } else {
            members.push(name.clone());
        }
    }
    if ok && members.is_empty() {
        sink.expected("members", &list.span(), "at least one instance");
        return None;
    }
    if ok && members.len() == 1 {
        sink.warning(&list.span(), "a sync group of one instance groups nothing");
    }
    ok.then_some(members)
}

/// keepalived applies a group's trackers to every member; an instance that already tracks the same
/// thing keeps its own entry. A weight moves a group only if it moves every member: warn.
fn add_group_trackers(
    sink: &mut Sink<'_>,
    header: &std::ops::Range<usize>,
    instances: &mut [Instance],
    members: &[String],
    refs: &[TrackerRef],
) {
    if refs.iter().any(|r| r.weight != 0) {
        sink.warning(
            header,
            "a weighted group tracker moves the group only if it moves every member past its peer: \
             use weight 0 (FAULT) for conditions that must move the whole group",
        );
    }
    for instance in instances.iter_mut().filter(|i| members.contains(&i.name)) {
        for tracker in refs {
            let known = instance
                .trackers
                .iter()
                .any(|t| t.kind == tracker.kind && t.name == tracker.name);
            if !known {
                instance.trackers.push(tracker.clone());
            }
        }
    }
}
