//! The interop matrix, VRRPv2 rows (RFC 3768, IPv4, 1 s adverts: VRRPv2 carries whole seconds):
//! keepvip with keepalived 2.2.7 and with FRR 8.4 (Debian) without authentication, and with
//! keepalived's `auth_type PASS` (keepvip's `auth_pass`; FRR has no VRRPv2 authentication, so that
//! row is keepalived only), both ways round. Each test runs one pair through every cell
//! (netns-tests/src/matrix/run.rs: election, SIGSTOP/SIGCONT, SIGTERM, restart, SIGKILL, never two
//! masters past MDI), measured on the lab switch's capture. Root, keepalived and FRR required (the
//! tests fail, never skip, without them); run with `--test-threads=1`.

use netns_tests::daemon::retry_on_machine_pause;
use netns_tests::matrix::run::{Pair, Resignation};
use netns_tests::matrix::{Mode, PeerKind};

fn cell(name: &str, mode: Mode, peer: PeerKind, keepvip_high: bool, resignation: Resignation) {
    retry_on_machine_pause(name, |watch| {
        Pair::start(watch, mode, peer, keepvip_high).run_all_cells(watch, resignation);
    });
}

#[test]
fn v2_keepvip_high_keepalived_low() {
    cell(
        "v2_keepvip_high_keepalived_low",
        Mode::V2,
        PeerKind::Keepalived,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v2_keepalived_high_keepvip_low() {
    cell(
        "v2_keepalived_high_keepvip_low",
        Mode::V2,
        PeerKind::Keepalived,
        false,
        Resignation::PriorityZero,
    );
}

#[test]
fn v2_keepvip_high_frr_low() {
    cell(
        "v2_keepvip_high_frr_low",
        Mode::V2,
        PeerKind::Frr,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v2_frr_high_keepvip_low() {
    cell(
        "v2_frr_high_keepvip_low",
        Mode::V2,
        PeerKind::Frr,
        false,
        Resignation::PriorityZero,
    );
}

#[test]
fn v2_auth_keepvip_high_keepalived_low() {
    cell(
        "v2_auth_keepvip_high_keepalived_low",
        Mode::V2Auth,
        PeerKind::Keepalived,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v2_auth_keepalived_high_keepvip_low() {
    cell(
        "v2_auth_keepalived_high_keepvip_low",
        Mode::V2Auth,
        PeerKind::Keepalived,
        false,
        Resignation::PriorityZero,
    );
}
