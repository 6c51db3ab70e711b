//! IPv6 virtual routers: same machine, link-local primary addresses, 128-bit tie-break.

mod common;

use common::*;
use vrrp_core::{Action, Input, Reason, StateKind};

#[test]
fn ipv6_backup_takes_over_and_announces_all_vips() {
    let config = config_v6(100);
    let mut router = started(config.clone());
    let actions = router.handle(us(3_609_375), Input::Timer);
    assert_eq!(actions, takeover(&config, 100, Reason::MasterDown));
    assert_eq!(actions[2], Action::AnnounceVips(vips_v6().into()));
}

#[test]
fn ipv6_equal_priority_higher_link_local_wins() {
    let (mut router, became) = master(config_v6(100));
    router.handle(
        became + dur(1),
        Input::Advert {
            source: ll(0x8000),
            repr: advert_v6(100, 100),
        },
    );
    assert_eq!(router.state().kind(), StateKind::Backup);
}

#[test]
fn ipv6_equal_priority_lower_link_local_loses() {
    let mut config = config_v6(100);
    config.primary_address = ll(0x8000);
    let (mut router, became) = master(config);
    router.handle(
        became + dur(1),
        Input::Advert {
            source: ll(2),
            repr: advert_v6(100, 100),
        },
    );
    assert_eq!(router.state().kind(), StateKind::Master);
}
