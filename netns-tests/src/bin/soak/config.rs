//! The routers' config in the soak: the fault lab's instance (its priority, or another while a
//! priority fault lasts) with two file trackers the tracker faults write to, applied by a reload.
//! Gratuitous ARP as keepvip ships it (a burst of 5, again 5 s later), as an operator runs it: the
//! lab's single GARP suits a capture that counts them, not a client behind random loss.

use std::path::{Path, PathBuf};

use netns_tests::daemon::{InstanceSpec, Interval, config_toml};
use netns_tests::faults::{INSTANCE, PRIORITIES, VIP_CIDR};

/// What every router's config shares.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub interval: Interval,
    /// `[global] rt_priority`; 0: left out.
    pub rt_priority: u8,
}

/// Router `node`'s priority in the fault lab (200, 150, 100).
pub fn base_priority(node: usize) -> u8 {
    PRIORITIES.get(node).copied().unwrap_or(1)
}

/// The weighted tracker's weight: 200 -> 50, 150 -> 0 (kept at 1), 100 -> 1; below every peer.
pub const DROP_WEIGHT: i32 = -150;

/// Router `index`'s tracker files in `dir`: (the weighted one, the weight-0 one).
pub fn tracker_paths(dir: &Path, index: usize) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("r{index}-drop.track")),
        dir.join(format!("r{index}-fault.track")),
    )
}

/// The config router `index` runs with `priority`, its trackers' files in `dir`.
pub fn soak_config(
    router_id: &str,
    index: usize,
    priority: u8,
    settings: Settings,
    dir: &Path,
) -> String {
    let mut spec = InstanceSpec::new(priority, settings.interval, &[VIP_CIDR]);
    spec.name = INSTANCE.to_owned();
    let mut text = config_toml(router_id, &[spec])
        .replace("garp_repeat = 1\n", "")
        .replace("garp_delay = \"0s\"\n", "");
    if settings.rt_priority > 0 {
        let global = format!("[global]\nrt_priority = {}\n", settings.rt_priority);
        text = text.replacen("[global]\n", &global, 1);
    }
    let (drop, fault) = tracker_paths(dir, index);
    text.push_str("track_file = [\"drop\", \"fault\"]\n");
    text.push_str(&format!(
        "\n[[track_file]]\nname = \"drop\"\npath = \"{}\"\nweight = {DROP_WEIGHT}\n\
         \n[[track_file]]\nname = \"fault\"\npath = \"{}\"\nweight = 0\n",
        drop.display(),
        fault.display()
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_lists_both_trackers_defined_after_it() {
        let settings = Settings {
            interval: Interval::from_millis(10),
            rt_priority: 10,
        };
        let text = soak_config("r1", 1, 150, settings, Path::new("/tmp/lab"));
        assert!(
            text.starts_with("[global]\nrt_priority = 10\nrouter_id = \"r1\"\n"),
            "{text}"
        );
        assert!(text.contains("priority = 150\n"), "{text}");
        assert!(!text.contains("garp_"), "{text}");
        assert!(text.contains("advert_interval = \"10ms\"\n"), "{text}");
        assert!(
            text.contains(
                "track_file = [\"drop\", \"fault\"]\n\n[[track_file]]\nname = \"drop\"\n\
             path = \"/tmp/lab/r1-drop.track\"\nweight = -150\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("path = \"/tmp/lab/r1-fault.track\"\nweight = 0\n"),
            "{text}"
        );
    }
}
