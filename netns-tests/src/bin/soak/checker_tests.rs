use super::*;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// 10 ms adverts, MDI 36 ms, 50 ms tolerance: two holders 60 ms, none 96 ms, recovery 96 ms.
fn checker() -> Checker {
    Checker::new(Bounds {
        interval: ms(10),
        mdi: ms(36),
        tolerance: ms(50),
        late_advert: ms(30),
    })
}

fn feed(checker: &mut Checker, from: u64, to: u64, holders: &[usize]) {
    for at in (from..to).step_by(5) {
        checker.holders(ms(at), holders);
    }
}

fn kinds(checker: &Checker) -> Vec<ViolationKind> {
    checker.violations().iter().map(|v| v.kind).collect()
}

#[test]
fn a_handover_within_the_bound_is_fine_and_a_long_one_is_reported_once() {
    let mut c = checker();
    feed(&mut c, 0, 100, &[0]);
    feed(&mut c, 100, 150, &[0, 1]);
    feed(&mut c, 150, 300, &[1]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    feed(&mut c, 300, 500, &[0, 1]);
    feed(&mut c, 500, 600, &[0]);
    assert_eq!(kinds(&c), [ViolationKind::TwoHolders]);
    assert_eq!(c.violations()[0].at, ms(300));
    assert!(
        c.violations()[0].detail.ends_with("for 200.0 ms"),
        "{}",
        c.violations()[0].detail
    );
}

#[test]
fn a_partition_excuses_two_holders_until_recovery_after_the_heal() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Partition, 0, ms(100));
    feed(&mut c, 100, 1000, &[0, 1]);
    c.fault_ended(1, ms(1000));
    // Healed at 1000: 96 ms of recovery, then 60 ms of bound.
    feed(&mut c, 1000, 1150, &[0, 1]);
    feed(&mut c, 1150, 1200, &[0]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    c.fault_started(2, FaultKind::Partition, 0, ms(2000));
    feed(&mut c, 2000, 2500, &[0, 1]);
    c.fault_ended(2, ms(2500));
    feed(&mut c, 2500, 2700, &[0, 1]);
    assert_eq!(kinds(&c), [ViolationKind::TwoHolders]);
}

#[test]
fn a_fault_on_one_router_does_not_excuse_two_others_holding_the_vip() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Kill, 0, ms(0));
    feed(&mut c, 0, 300, &[0, 1]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
    feed(&mut c, 300, 500, &[0, 1, 2]);
    assert_eq!(kinds(&c), [ViolationKind::TwoHolders]);
}

#[test]
fn segment_loss_excuses_two_holders_anywhere() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Loss, 0, ms(0));
    feed(&mut c, 0, 2000, &[1, 2]);
    c.fault_ended(1, ms(2000));
    feed(&mut c, 2000, 2100, &[1, 2]);
    feed(&mut c, 2100, 2200, &[1]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
}

#[test]
fn a_killed_router_leftover_vip_is_no_holder_until_it_restarts() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Kill, 0, ms(0));
    // Nobody took over: only the dead router's address is left.
    feed(&mut c, 0, 300, &[0]);
    assert_eq!(kinds(&c), [ViolationKind::NoHolder]);
}

#[test]
fn a_short_stall_of_the_master_leaves_it_the_holder() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Stop, 0, ms(0));
    feed(&mut c, 0, 20, &[0]);
    c.fault_ended(1, ms(20));
    feed(&mut c, 20, 400, &[0]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
}

#[test]
fn a_priority_reload_does_not_excuse_a_lasting_second_holder() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Priority, 0, ms(0));
    feed(&mut c, 0, 200, &[0, 2]);
    assert_eq!(kinds(&c), [ViolationKind::TwoHolders]);
}

#[test]
fn no_holder_is_reported_past_mdi_plus_an_interval_whatever_the_fault() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Kill, 0, ms(0));
    feed(&mut c, 0, 90, &[]);
    feed(&mut c, 90, 200, &[1]);
    assert!(c.violations().is_empty());
    feed(&mut c, 200, 400, &[]);
    assert_eq!(kinds(&c), [ViolationKind::NoHolder]);
    assert!(c.longest_no_holder >= ms(195));
}

#[test]
fn failed_requests_count_only_outside_fault_windows_and_group_into_one_violation() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Kill, 0, ms(0));
    c.request(ms(10), false);
    c.fault_ended(1, ms(500));
    c.request(ms(550), false);
    assert!(c.violations().is_empty());
    for at in [700, 710, 720] {
        c.request(ms(at), false);
    }
    c.request(ms(730), true);
    c.request(ms(740), false);
    assert_eq!(
        kinds(&c),
        [ViolationKind::RequestFailed, ViolationKind::RequestFailed]
    );
    assert_eq!(
        c.violations()[0].detail,
        "3 requests unanswered from 0.700 s to 0.730 s"
    );
    assert_eq!(c.failed_requests, 6);
}

#[test]
fn a_steady_master_advert_late_is_reported_but_not_a_takeover_or_a_fault() {
    let mut c = checker();
    for at in (0..100).step_by(10) {
        c.advert(ms(at), 0, 200);
    }
    // 45 ms later, nobody else spoke: late.
    c.advert(ms(135), 0, 200);
    assert_eq!(kinds(&c), [ViolationKind::LateAdvert]);
    // Another router advertised in between (a takeover): not a steady master's gap.
    c.advert(ms(145), 1, 150);
    c.advert(ms(200), 0, 200);
    // A fault window covers the gap.
    for at in (210..260).step_by(10) {
        c.advert(ms(at), 0, 200);
    }
    c.fault_started(1, FaultKind::Stop, 0, ms(260));
    c.fault_ended(1, ms(300));
    c.advert(ms(330), 0, 200);
    assert_eq!(kinds(&c), [ViolationKind::LateAdvert]);
}

#[test]
fn prune_keeps_open_windows_usable() {
    let mut c = checker();
    c.fault_started(1, FaultKind::Partition, 0, ms(0));
    c.fault_ended(1, ms(10));
    c.fault_started(2, FaultKind::Partition, 0, ms(100_000));
    c.prune(ms(100_000));
    c.fault_ended(2, ms(101_000));
    feed(&mut c, 100_000, 101_050, &[0, 1]);
    assert!(c.violations().is_empty(), "{:?}", c.violations());
}
