//! Builders shared by the tests: documentation addresses only (192.0.2.0/24, 2001:db8::/32, fe80::/64).
// Test helpers are not #[test] functions, so clippy.toml's allow-unwrap-in-tests does not cover them.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp_core::{Action, Config, Instant, Micros, Reason, Router, StateKind};
use vrrp_wire::{Addresses, Auth, Centisecs, Repr, Version};

/// 192.0.2.`last`.
pub fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// fe80::`last`.
pub fn ll(last: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last))
}

pub fn vips_v4() -> Addresses {
    Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 100)])
}

pub fn vips_v6() -> Addresses {
    Addresses::V6(vec![
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    ])
}

pub fn cs(centiseconds: u16) -> Centisecs {
    Centisecs::new(centiseconds).unwrap()
}

pub fn us(micros: u64) -> Instant {
    Instant::from_micros(micros)
}

pub fn ms(millis: u64) -> Instant {
    Instant::from_micros(millis * 1_000)
}

pub fn dur(micros: u64) -> Micros {
    Micros::from_micros(micros)
}

/// VRID 1 on 192.0.2.1 (or 192.0.2.`last`), VIP 192.0.2.100, 100 cs, the given priority.
pub fn config(priority: u8) -> Config {
    config_at(1, priority)
}

pub fn config_at(last: u8, priority: u8) -> Config {
    let mut config = Config::new(1, v4(last), vips_v4());
    config.priority = priority;
    config
}

/// VRID 1 on fe80::1, VIPs fe80::100 and 2001:db8::100.
pub fn config_v6(priority: u8) -> Config {
    let mut config = Config::new(1, ll(1), vips_v6());
    config.priority = priority;
    config
}

/// VRRPv2, 1 s, password "secret".
pub fn config_v2(priority: u8) -> Config {
    let mut config = config(priority);
    config.version = Version::V2;
    config.auth = password("secret");
    config
}

pub fn password(text: &str) -> Auth {
    let mut bytes = [0u8; 8];
    bytes[..text.len()].copy_from_slice(text.as_bytes());
    Auth::SimplePassword(bytes)
}

/// A v3 advert for VRID 1 with our VIP.
pub fn advert(priority: u8, interval: u16) -> Repr {
    Repr {
        version: Version::V3,
        vrid: 1,
        priority,
        max_adver_int: cs(interval),
        addresses: vips_v4(),
        auth: Auth::None,
    }
}

pub fn advert_v6(priority: u8, interval: u16) -> Repr {
    Repr {
        addresses: vips_v6(),
        ..advert(priority, interval)
    }
}

pub fn advert_v2(priority: u8) -> Repr {
    Repr {
        version: Version::V2,
        auth: password("secret"),
        ..advert(priority, 100)
    }
}

/// What the config's router sends with `priority`.
pub fn own_advert(config: &Config, priority: u8) -> Repr {
    Repr {
        version: config.version,
        vrid: config.vrid,
        priority,
        max_adver_int: config.advert_interval,
        addresses: config.addresses.clone(),
        auth: config.auth,
    }
}

pub fn router(config: Config) -> Router {
    Router::new(config).unwrap()
}

/// A router started at t = 0.
pub fn started(config: Config) -> Router {
    let mut router = router(config);
    router.handle(Instant::ZERO, vrrp_core::Input::Startup);
    router
}

pub fn changed(from: StateKind, to: StateKind, reason: Reason, accept: bool) -> Action {
    Action::StateChanged {
        from,
        to,
        reason,
        accept_vip_traffic: accept,
    }
}

/// The exact actions of a backup that becomes master.
pub fn takeover(config: &Config, priority: u8, reason: Reason) -> Vec<Action> {
    vec![
        Action::SendAdvert(own_advert(config, priority)),
        Action::AddVips(config.vip_set()),
        Action::AnnounceVips(config.vip_set()),
        changed(
            StateKind::Backup,
            StateKind::Master,
            reason,
            config.accept_mode || config.priority == 255,
        ),
    ]
}

/// A router started at t = 0 whose Master_Down_Timer has fired: master since its MDI.
pub fn master(config: Config) -> (Router, Instant) {
    let mut router = started(config);
    let at = router.next_deadline().unwrap();
    router.handle(at, vrrp_core::Input::Timer);
    assert_eq!(router.state().kind(), StateKind::Master);
    (router, at)
}

pub fn sync_group(configs: Vec<Config>) -> vrrp_core::SyncGroup {
    vrrp_core::SyncGroup::new(configs).unwrap()
}
