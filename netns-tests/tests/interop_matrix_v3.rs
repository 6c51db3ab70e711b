//! The interop matrix, VRRPv3 rows: keepvip with keepalived 2.2.7 and with FRR 8.4 (Debian), over
//! IPv4 (checksum with the IPv4 pseudo-header, every side's default) and over IPv6, at 100 ms
//! adverts, both ways round. Each test runs one pair through every cell (netns-tests/src/matrix/run.rs:
//! election, SIGSTOP/SIGCONT, SIGTERM, restart, SIGKILL, never two masters past MDI), measured on the
//! lab switch's capture. Root, keepalived and FRR required (the tests fail, never skip, without
//! them); run with `--test-threads=1`.

use netns_tests::daemon::retry_on_machine_pause;
use netns_tests::matrix::run::{Pair, Resignation};
use netns_tests::matrix::{Mode, PeerKind};

fn cell(name: &str, mode: Mode, peer: PeerKind, keepvip_high: bool, resignation: Resignation) {
    retry_on_machine_pause(name, |watch| {
        Pair::start(watch, mode, peer, keepvip_high).run_all_cells(watch, resignation);
    });
}

#[test]
fn v3_ipv4_keepvip_high_keepalived_low() {
    cell(
        "v3_ipv4_keepvip_high_keepalived_low",
        Mode::V3Ipv4,
        PeerKind::Keepalived,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv4_keepalived_high_keepvip_low() {
    cell(
        "v3_ipv4_keepalived_high_keepvip_low",
        Mode::V3Ipv4,
        PeerKind::Keepalived,
        false,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv4_keepvip_high_frr_low() {
    cell(
        "v3_ipv4_keepvip_high_frr_low",
        Mode::V3Ipv4,
        PeerKind::Frr,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv4_frr_high_keepvip_low() {
    cell(
        "v3_ipv4_frr_high_keepvip_low",
        Mode::V3Ipv4,
        PeerKind::Frr,
        false,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv6_keepvip_high_keepalived_low() {
    cell(
        "v3_ipv6_keepvip_high_keepalived_low",
        Mode::V3Ipv6,
        PeerKind::Keepalived,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv6_keepalived_high_keepvip_low() {
    cell(
        "v3_ipv6_keepalived_high_keepvip_low",
        Mode::V3Ipv6,
        PeerKind::Keepalived,
        false,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv6_keepvip_high_frr_low() {
    cell(
        "v3_ipv6_keepvip_high_frr_low",
        Mode::V3Ipv6,
        PeerKind::Frr,
        true,
        Resignation::PriorityZero,
    );
}

#[test]
fn v3_ipv6_frr_high_keepvip_low() {
    cell(
        "v3_ipv6_frr_high_keepvip_low",
        Mode::V3Ipv6,
        PeerKind::Frr,
        false,
        Resignation::PriorityZero,
    );
}
