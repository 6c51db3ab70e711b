//! The address owner (priority 255) and RFC 9568 erratum 8298.

mod common;

use common::*;
use vrrp_core::{Action, Discard, Input, Reason, StateKind};

#[test]
fn owner_processes_adverts_and_yields_to_an_owner_with_a_higher_address() {
    let mut router = started(config_at(1, 255));
    let actions = router.handle(
        ms(10),
        Input::Advert {
            source: v4(2),
            repr: advert(255, 100),
        },
    );
    assert_eq!(
        actions,
        vec![
            Action::SendAdvertTo {
                advert: own_advert(&config_at(1, 255), 255),
                to: v4(2)
            },
            Action::RemoveVips(vips_v4().into()),
            changed(
                StateKind::Master,
                StateKind::Backup,
                Reason::Preempted {
                    by: v4(2),
                    priority: 255
                },
                false
            ),
        ]
    );
}

#[test]
fn owner_answers_priority_zero_with_an_advert() {
    let config = config(255);
    let mut router = started(config.clone());
    assert_eq!(
        router.handle(
            ms(10),
            Input::Advert {
                source: v4(2),
                repr: advert(0, 100)
            }
        ),
        vec![Action::SendAdvert(own_advert(&config, 255))]
    );
}

#[test]
fn owner_ignores_adverts_when_erratum_behaviour_is_off() {
    let mut config = config_at(1, 255);
    config.owner_processes_adverts = false;
    let mut router = started(config);
    assert_eq!(
        router.handle(
            ms(10),
            Input::Advert {
                source: v4(2),
                repr: advert(255, 100)
            }
        ),
        vec![Action::Discard(Discard::OwnerIgnoresAdverts)]
    );
    assert_eq!(router.state().kind(), StateKind::Master);
}

#[test]
fn owner_preempts_even_with_preempt_off() {
    let mut config = config_at(1, 255);
    config.preempt = false;
    let mut router = started(config.clone());
    router.handle(
        ms(10),
        Input::Advert {
            source: v4(2),
            repr: advert(255, 100),
        },
    );
    assert_eq!(router.state().kind(), StateKind::Backup);
    // The other owner goes away and a priority-200 router takes over; we preempt it.
    assert_eq!(
        router.handle(
            ms(5_000),
            Input::Advert {
                source: v4(3),
                repr: advert(200, 100)
            }
        ),
        vec![Action::Discard(Discard::LowerPriority)]
    );
}
