//! The interop matrix's RFC 9568 cell: keepvip sending the message-only VRRPv3 checksum
//! (`checksum_mode = "message-only"`) next to keepalived 2.2.7 and FRR 8.4, VRRPv3 over IPv4 at
//! 100 ms. Neither peer can send or accept that form (keepalived logs "Invalid VRRPv3 checksum", FRR
//! "Bad VRRP checksum"); keepvip accepts both forms. So:
//! - keepvip the higher priority: the peer drops keepvip's adverts and becomes a second master; the
//!   split-brain detector on the keepvip master reports the episode, once, and names the checksum
//!   variant as the cause in its log and in `keepvip status --json` (`split_brain`).
//! - the peer the higher priority: the pair works through every matrix cell, because a backup never
//!   sends and the peer preempts on its own priority (keepvip hears it); the peer still logs every
//!   advert keepvip sends as master as invalid.
//!
//! Root, keepalived and FRR required (the tests fail, never skip, without them); run with
//! `--test-threads=1`.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use vrrp_wire::ChecksumMode;

use netns_tests::Lab;
use netns_tests::daemon::retry_on_machine_pause;
use netns_tests::daemon::scenario::MASTER;
use netns_tests::daemon::wire::{adverts, wall_clock};
use netns_tests::daemon::{Keepvip, keepvip_bin};
use netns_tests::matrix::run::{Pair, Resignation};
use netns_tests::matrix::side::{Impl, Side};
use netns_tests::matrix::wire::master_adverts_after;
use netns_tests::matrix::{HIGH, LOW, Mode, PeerKind};
use netns_tests::wait::wait_for_value;

const MESSAGE_ONLY: &str = "checksum_mode = \"message-only\"\n";
const MODE: Mode = Mode::V3Ipv4;
const DIFFERENCE: &str = "checksum: ours message-only, theirs pseudo-header";

/// What the peer logs for each advert of keepvip's it drops: keepalived one line per advert; FRR
/// nothing with `debug vrrp protocol` (the lab's FRR log level), so its drops show only on the wire
/// and in its own mastership.
fn drop_line(peer: PeerKind) -> Option<&'static str> {
    match peer {
        PeerKind::Keepalived => Some("Invalid VRRPv3 checksum"),
        PeerKind::Frr => None,
    }
}

/// How many master adverts of the peer's the test needs past its Master_Down_Interval: keepalived
/// 2.2.7 postpones its own advert on every one it receives (see the wire check), FRR does not.
fn peer_least(peer: PeerKind) -> usize {
    match peer {
        PeerKind::Keepalived => 1,
        PeerKind::Frr => 3,
    }
}

/// `keepvip status --json` as raw JSON, VI_1's object: the key names are the interface.
fn raw_instance(daemon: &Keepvip) -> Value {
    let output = Command::new(keepvip_bin())
        .arg("--control-socket")
        .arg(daemon.control_socket())
        .args(["status", "--json"])
        .output()
        .unwrap_or_else(|err| panic!("keepvip status: {err}"));
    let status: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("keepvip status --json: {err}"));
    status["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["name"] == "VI_1"))
        .cloned()
        .unwrap_or_else(|| panic!("no VI_1 in {status}"))
}

/// keepvip (200, message-only) master, the peer (100) started next to it: see the module docs.
fn keepvip_master_split_brain_is_named(peer: PeerKind) {
    let lab = Lab::builder(&format!("mxcsum{}", peer.name()))
        .hosts(2)
        .build()
        .unwrap_or_else(|err| panic!("{err}"));
    let capture = lab
        .capture("vrrp", &["ip", "proto", "112"])
        .unwrap_or_else(|err| panic!("{err}"));
    let mut ours = Side::new(Impl::Keepvip, 0, HIGH, MODE).keepvip_extra(MESSAGE_ONLY);
    ours.start(&lab);
    let daemon = ours.keepvip().unwrap_or_else(|| panic!("keepvip side"));
    daemon
        .wait_state("VI_1", MASTER, Duration::from_secs(5))
        .unwrap_or_else(|err| panic!("{err}"));
    let mut theirs = Side::new(Impl::Peer(peer), 1, LOW, MODE);
    theirs.start(&lab);
    let peer_started = wall_clock();
    // The peer drops every advert of ours and takes over after its Master_Down_Interval; the
    // detector needs three of our intervals of its adverts.
    let (split, took) = wait_for_value(
        "a split brain in keepvip status --json",
        Duration::from_secs(10),
        Duration::from_millis(50),
        || {
            let instance = raw_instance(daemon);
            Ok((!instance["split_brain"].is_null()).then_some(instance))
        },
    )
    .unwrap_or_else(|err| panic!("{err}\n{}\n--- peer:\n{}", daemon.describe(), theirs.logs()));
    eprintln!(
        "MATRIX mode=v3ipv4-message-only peer={} keepvip=kvhigh cell=split_brain reported_after_peer_start_ms={}",
        peer.name(),
        took.as_millis()
    );
    assert_eq!(split["state"], MASTER, "{split}");
    let report = &split["split_brain"];
    assert_eq!(report["peer"], "192.0.2.2", "{report}");
    assert_eq!(report["peer_priority"], LOW, "{report}");
    assert_eq!(report["cause"], "checksum_variant", "{report}");
    let differences = report["differences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        differences.iter().any(|d| d == DIFFERENCE),
        "{DIFFERENCE:?} not in {report}"
    );
    assert_eq!(split["split_brain_episodes"], 1, "{split}");
    // Once per episode: more intervals of it add no second warning and no second episode.
    std::thread::sleep(MODE.interval().duration() * 10);
    let log = daemon.logs();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("split brain")).collect();
    assert_eq!(warnings.len(), 1, "{log}");
    for needle in ["192.0.2.2", "checksum_variant", DIFFERENCE] {
        assert!(
            warnings[0].contains(needle),
            "{needle:?} not in {}",
            warnings[0]
        );
    }
    assert_eq!(raw_instance(daemon)["split_brain_episodes"], 1);
    if let Some(line) = drop_line(peer) {
        assert!(theirs.log_count(line) >= 3, "{}", theirs.logs());
    }
    // Two VIP holders: the split is in the kernels, not only in the adverts (FRR puts the VIP on its
    // macvlan, keepvip and keepalived on eth0: any interface counts).
    for index in [0, 1] {
        let ns = &lab.host(index).ns;
        let output = Command::new("ip")
            .args(["-n", ns, "-o", "-4", "addr", "show"])
            .output()
            .unwrap_or_else(|err| panic!("ip addr in {ns}: {err}"));
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(" 192.0.2.100/"),
            "host {index} does not hold 192.0.2.100 during the split:\n{text}"
        );
    }
    // On the wire: two masters past the peer's Master_Down_Interval, each with its own checksum form.
    // keepvip advertises every interval. keepalived 2.2.7 as master restarts its advert timer on
    // every advert it receives, even one it drops as invalid, so next to keepvip's punctual adverts
    // it advertises only when one of ours comes late: at least one, not one per interval.
    let all = adverts(&capture.stop().unwrap_or_else(|err| panic!("{err}")));
    let settled = peer_started + MODE.mdi(LOW) + MODE.interval().duration();
    for (src, form, least) in [
        ("192.0.2.1", ChecksumMode::MessageOnly, 3),
        ("192.0.2.2", ChecksumMode::PseudoHeader, peer_least(peer)),
    ] {
        let src = src.parse().unwrap_or_else(|err| panic!("{err}"));
        let late = master_adverts_after(&all, src, settled);
        assert!(late.len() >= least, "{src} as master past MDI: {late:?}");
        assert!(
            late.iter()
                .all(|a| matches!(&a.parsed, Ok((_, mode)) if *mode == form)),
            "{src} sends {form:?}: {late:?}"
        );
    }
    theirs.kill();
}

// keepalived's side of this cell runs at 1 s adverts in daemon_split_brain.rs
// (`message_only_checksum_against_keepalived_is_named_as_the_cause`): at 100 ms a keepalived master
// next to keepvip's punctual adverts advertises only when one of ours is late (it restarts its advert
// timer on every advert it receives), often more than ten intervals apart, so the episode keeps
// ending before it is confirmed. At 1 s its adverts come 2 to 5 s apart, within the episode.

#[test]
fn message_only_keepvip_master_and_frr_split_named_checksum_variant() {
    keepvip_master_split_brain_is_named(PeerKind::Frr);
}

/// The peer the higher priority. FRR: every matrix cell passes; it logs nothing of the adverts it
/// drops. keepalived: election and SIGTERM only (see `Pair::run_election_and_sigterm`: a keepalived
/// master back from SIGSTOP or a restart cannot win against keepvip's message-only adverts).
fn peer_master_pair_works(name: &str, peer: PeerKind) {
    retry_on_machine_pause(name, |watch| {
        let pair = Pair::start_with(watch, MODE, peer, false, MESSAGE_ONLY);
        match peer {
            PeerKind::Frr => {
                pair.run_all_cells(watch, Resignation::PriorityZero);
            }
            PeerKind::Keepalived => {
                pair.run_election_and_sigterm(watch, Resignation::PriorityZero);
            }
        }
    });
}

#[test]
fn message_only_keepvip_backup_under_keepalived_elects_and_hands_over_on_sigterm() {
    peer_master_pair_works(
        "message_only_keepvip_backup_under_keepalived_elects_and_hands_over_on_sigterm",
        PeerKind::Keepalived,
    );
}

#[test]
fn message_only_keepvip_backup_under_frr_passes_every_cell() {
    peer_master_pair_works(
        "message_only_keepvip_backup_under_frr_passes_every_cell",
        PeerKind::Frr,
    );
}
