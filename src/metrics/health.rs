//! `/health` and `/health/<instance>`: whether this host is master, for a DNS or load-balancer health
//! check that follows mastership where a VIP cannot float. 200 when master, 503 otherwise, and a
//! small JSON body saying why.
//!
//! `/health` is 200 only when every instance is MASTER: a checker that picks one healthy origin must
//! never see two hosts healthy while instances are split between them; with one instance (the usual
//! setup for this pattern) it is that instance's answer. No instance: 503.

use serde::Serialize;

use crate::control::{InstanceStatus, Status};

#[derive(Debug, Serialize)]
struct InstanceHealth<'a> {
    instance: &'a str,
    state: &'a str,
    priority: u8,
}

impl<'a> InstanceHealth<'a> {
    fn of(i: &'a InstanceStatus) -> Self {
        InstanceHealth {
            instance: &i.name,
            state: &i.state,
            priority: i.effective_priority,
        }
    }
}

#[derive(Debug, Serialize)]
struct HostHealth<'a> {
    master: bool,
    instances: Vec<InstanceHealth<'a>>,
}

/// The status code and JSON body for `name`, or every instance when `None`; `None` when there is no
/// instance by that name.
pub fn answer(status: &Status, name: Option<&str>) -> Option<(u16, String)> {
    let (master, body) = match name {
        Some(name) => {
            let instance = status.instances.iter().find(|i| i.name == name)?;
            let body = serde_json::to_string(&InstanceHealth::of(instance));
            (instance.state == "MASTER", body)
        }
        None => {
            let master = !status.instances.is_empty()
                && status.instances.iter().all(|i| i.state == "MASTER");
            let instances = status.instances.iter().map(InstanceHealth::of).collect();
            (
                master,
                serde_json::to_string(&HostHealth { master, instances }),
            )
        }
    };
    let code = if master { 200 } else { 503 };
    Some((code, body.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(states: &[(&str, &str)]) -> Status {
        Status {
            instances: states
                .iter()
                .map(|(name, state)| InstanceStatus {
                    name: (*name).into(),
                    state: (*state).into(),
                    effective_priority: 150,
                    ..InstanceStatus::default()
                })
                .collect(),
            ..Status::default()
        }
    }

    #[test]
    fn an_instance_is_healthy_only_as_master() {
        let s = status(&[("VI_1", "MASTER"), ("VI_2", "BACKUP")]);
        let (code, body) = answer(&s, Some("VI_1")).unwrap();
        assert_eq!(code, 200);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["instance"], "VI_1");
        assert_eq!(json["state"], "MASTER");
        assert_eq!(json["priority"], 150);
        assert_eq!(answer(&s, Some("VI_2")).unwrap().0, 503);
        assert!(answer(&s, Some("VI_3")).is_none());
    }

    #[test]
    fn the_host_is_healthy_only_when_every_instance_is_master() {
        let (code, body) =
            answer(&status(&[("VI_1", "MASTER"), ("VI_2", "BACKUP")]), None).unwrap();
        assert_eq!(code, 503);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["master"], false);
        assert_eq!(json["instances"][1]["state"], "BACKUP");
        assert_eq!(answer(&status(&[("VI_1", "MASTER")]), None).unwrap().0, 200);
        assert_eq!(answer(&status(&[]), None).unwrap().0, 503);
    }
}
