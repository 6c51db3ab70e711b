//! Running without root: keepvip needs CAP_NET_RAW (the raw VRRP sockets, the AF_PACKET GARP/NA
//! sender) and CAP_NET_ADMIN (addresses, routes, rules, macvlans, their sysctls, nf_tables) and
//! nothing else. Both are checked before anything is touched, so a missing one is a clear error at
//! startup instead of a master that cannot install its VIPs. The ambient set (how systemd's
//! `AmbientCapabilities=` and `setpriv --ambient-caps` hand them over) is then cleared, so scripts
//! never inherit them; and a script user other than the daemon's own needs CAP_SETUID/CAP_SETGID.

use super::error::DaemonError;

const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;
const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

/// What the running process may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Privileges {
    /// The effective capability set (`CapEff` in /proc/self/status).
    effective: u64,
    pub uid: u32,
    pub gid: u32,
}

impl Privileges {
    pub fn of_this_process() -> Result<Privileges, DaemonError> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| DaemonError::Privileges(format!("cannot read /proc/self/status: {e}")))?;
        let effective = capability_set(&status, "CapEff")
            .ok_or_else(|| DaemonError::Privileges("no CapEff line in /proc/self/status".into()))?;
        Ok(Privileges {
            effective,
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        })
    }

    fn has(&self, capability: u32) -> bool {
        self.effective & (1 << capability) != 0
    }

    /// Both network capabilities, or an error naming the missing ones and how to grant them.
    pub fn require_network(&self) -> Result<(), DaemonError> {
        let missing: Vec<&str> = [
            (CAP_NET_RAW, "CAP_NET_RAW"),
            (CAP_NET_ADMIN, "CAP_NET_ADMIN"),
        ]
        .into_iter()
        .filter(|(cap, _)| !self.has(*cap))
        .map(|(_, name)| name)
        .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(DaemonError::Privileges(format!(
            "keepvip run needs CAP_NET_RAW and CAP_NET_ADMIN; this process (uid {}) lacks {}: run it \
             as root or grant both (systemd: AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN, as the \
             shipped keepvip.service does; by hand: setpriv --inh-caps=+net_raw,+net_admin \
             --ambient-caps=+net_raw,+net_admin)",
            self.uid,
            missing.join(" and ")
        )))
    }

    /// Whether scripts can be started as `uid`/`gid`: the daemon's own ids always, others only with
    /// CAP_SETUID and CAP_SETGID (root has them).
    pub fn can_run_as(&self, uid: u32, gid: u32) -> bool {
        (uid == self.uid && gid == self.gid) || (self.has(CAP_SETUID) && self.has(CAP_SETGID))
    }
}

/// A capability set line of /proc/<pid>/status (hex bits), e.g. `CapEff:\t0000000000003000`.
pub fn capability_set(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix(':')?;
        u64::from_str_radix(value.trim(), 16).ok()
    })
}

/// Empties the ambient capability set, so the scripts keepvip starts (which execute files without
/// file capabilities) get no capabilities; the daemon keeps its own effective set.
#[allow(unsafe_code)]
pub fn clear_ambient_capabilities() -> Result<(), DaemonError> {
    // SAFETY: prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) reads no memory of ours;
    // nix has no wrapper for it.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    Err(DaemonError::Privileges(format!(
        "cannot clear the ambient capabilities (scripts would inherit CAP_NET_ADMIN): {e}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tkeepvip\nCapInh:\t0000000000003000\nCapPrm:\t0000000000003000\n\
                          CapEff:\t0000000000003000\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\n";

    fn with(effective: u64, uid: u32) -> Privileges {
        Privileges {
            effective,
            uid,
            gid: uid,
        }
    }

    #[test]
    fn reads_the_capability_sets_of_proc_status() {
        assert_eq!(capability_set(STATUS, "CapEff"), Some(0x3000));
        assert_eq!(capability_set(STATUS, "CapAmb"), Some(0));
        assert_eq!(capability_set("Name:\tx\n", "CapEff"), None);
    }

    #[test]
    fn both_network_capabilities_are_required_and_a_missing_one_is_named() {
        assert!(with(0x3000, 998).require_network().is_ok());
        let err = with(1 << CAP_NET_ADMIN, 998)
            .require_network()
            .unwrap_err()
            .to_string();
        assert!(err.contains("lacks CAP_NET_RAW:"), "{err}");
        let err = with(0, 998).require_network().unwrap_err().to_string();
        assert!(err.contains("lacks CAP_NET_RAW and CAP_NET_ADMIN"), "{err}");
    }

    #[test]
    fn another_script_user_needs_setuid_and_setgid() {
        let unprivileged = with(0x3000, 998);
        assert!(unprivileged.can_run_as(998, 998));
        assert!(!unprivileged.can_run_as(0, 0));
        assert!(!unprivileged.can_run_as(998, 0), "another group too");
        let root = with(u64::MAX >> 23, 0);
        assert!(root.can_run_as(65534, 65534));
    }
}
