//! Host faults for the matrix: addresses changed by hand, IPv6 disabled on an interface (the kernel
//! then refuses IPv6 addresses with EACCES), a full tmpfs in the daemon's own mount namespace, and
//! a memory cgroup around the daemon. Each touches only the lab's namespaces, the daemon's private
//! mount namespace or a cgroup created under the test's own, removed again when dropped.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cmd::ip;
use crate::error::{HarnessError, Result};
use crate::lab::Lab;

/// `ip addr del CIDR dev eth0` in `ns`.
pub fn remove_address(ns: &str, cidr: &str) -> Result<()> {
    ip(&["-n", ns, "addr", "del", cidr, "dev", "eth0"]).map(drop)
}

/// `ip addr add CIDR dev eth0` in `ns` (an address keepvip did not install).
pub fn add_address(ns: &str, cidr: &str) -> Result<()> {
    ip(&["-n", ns, "addr", "add", cidr, "dev", "eth0"]).map(drop)
}

/// `disable_ipv6` on `ns`'s eth0: disabling removes every IPv6 address of the interface and makes the
/// kernel refuse new ones (RTM_NEWADDR answers EACCES) until it is enabled again.
pub fn set_ipv6(lab: &Lab, ns: &str, enabled: bool) -> Result<()> {
    let value = if enabled { "0" } else { "1" };
    lab.sysctl(ns, "ipv6/conf/eth0/disable_ipv6", value)
}

/// A tmpfs of `size_kib` at `dir`, mounted in a mount namespace of the daemon's own (`unshare
/// --mount`, private propagation), so nothing outside the daemon sees it; the daemon's stderr (its
/// log) goes to `dir/keepvip.log`. Reach it from the test through `/proc/PID/root`.
pub struct PrivateTmpfs {
    pub dir: PathBuf,
    pub size_kib: u32,
}

impl PrivateTmpfs {
    /// The words before the keepvip binary.
    pub fn launch_prefix(&self) -> Vec<String> {
        let dir = self.dir.display();
        let script = format!(
            "mount -t tmpfs -o size={}k,mode=0755 hostfault {dir} && exec \"$@\" 2>>{dir}/keepvip.log",
            self.size_kib
        );
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
            "sh",
        ]
        .map(String::from)
        .to_vec()
    }

    /// `name` under the tmpfs, as process `pid` (inside the mount namespace) sees it.
    pub fn path_in(&self, pid: u32, name: &str) -> PathBuf {
        let relative = self.dir.strip_prefix("/").unwrap_or(&self.dir);
        Path::new("/proc")
            .join(pid.to_string())
            .join("root")
            .join(relative)
            .join(name)
    }

    /// Fill the tmpfs until the kernel answers ENOSPC; how many bytes went in.
    pub fn fill(&self, pid: u32) -> Result<u64> {
        let path = self.path_in(pid, "fill");
        let mut file = std::fs::File::create(&path)
            .map_err(|err| HarnessError::new(format!("create {}: {err}", path.display())))?;
        let block = [0u8; 1024];
        let mut written = 0u64;
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(err) if err.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(err) => return Err(HarnessError::new(format!("fill: {err}"))),
            }
            if written > 64 << 20 {
                return Err(HarnessError::new("the tmpfs never filled up"));
            }
        }
        Ok(written)
    }
}

/// The memory controller this machine offers for a child cgroup of the test's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    V2,
    V1,
}

/// A memory cgroup under the test process's own, removed (its processes moved back) when dropped:
/// cgroup v2's `memory.max` where the unified hierarchy has the memory controller, else cgroup v1's
/// `memory.limit_in_bytes` (this machine mounts memory on v1 only).
pub struct MemoryCgroup {
    dir: PathBuf,
    parent: PathBuf,
    controller: Controller,
}

impl MemoryCgroup {
    pub fn create(name: &str) -> Result<Self> {
        let own = std::fs::read_to_string("/proc/self/cgroup")?;
        let (parent, controller) = find_memory_parent(&own).ok_or_else(|| {
            HarnessError::new(format!("no memory cgroup controller found:\n{own}"))
        })?;
        let dir = parent.join(name);
        if controller == Controller::V2 {
            // The child gets the controller only if the parent hands it down (may already).
            let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+memory");
        }
        std::fs::create_dir(&dir)
            .map_err(|err| HarnessError::new(format!("mkdir {}: {err}", dir.display())))?;
        Ok(Self {
            dir,
            parent,
            controller,
        })
    }

    /// Which interface the limit went through, for the table.
    pub fn kind(&self) -> &'static str {
        match self.controller {
            Controller::V2 => "cgroup v2 memory.max",
            Controller::V1 => "cgroup v1 memory.limit_in_bytes",
        }
    }

    pub fn set_limit(&self, bytes: u64) -> Result<()> {
        let file = match self.controller {
            Controller::V2 => "memory.max",
            Controller::V1 => "memory.limit_in_bytes",
        };
        self.write(file, &bytes.to_string())
    }

    /// Move process `pid` into the cgroup (its children started later follow it).
    pub fn add(&self, pid: u32) -> Result<()> {
        self.write("cgroup.procs", &pid.to_string())
    }

    /// The path a shell writes `$$` to in order to join.
    pub fn procs_path(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// How many processes the kernel's OOM killer killed in this cgroup (v2: `memory.events`; v1:
    /// `memory.oom_control`'s `oom_kill`).
    pub fn oom_kills(&self) -> Result<u64> {
        let (file, key) = match self.controller {
            Controller::V2 => ("memory.events", "oom_kill"),
            Controller::V1 => ("memory.oom_control", "oom_kill"),
        };
        let text = std::fs::read_to_string(self.dir.join(file))?;
        Ok(text
            .lines()
            .filter_map(|line| line.split_once(' '))
            .find(|(name, _)| *name == key)
            .and_then(|(_, value)| value.trim().parse().ok())
            .unwrap_or(0))
    }

    fn write(&self, file: &str, value: &str) -> Result<()> {
        let path = self.dir.join(file);
        std::fs::write(&path, value)
            .map_err(|err| HarnessError::new(format!("write {value} to {}: {err}", path.display())))
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(self.parent.join("cgroup.procs"), pid);
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// The test's own memory cgroup directory from `/proc/self/cgroup`, v2 first.
fn find_memory_parent(own: &str) -> Option<(PathBuf, Controller)> {
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                let dir = Path::new(root).join(relative);
                let offered = std::fs::read_to_string(Path::new(root).join("cgroup.controllers"))
                    .unwrap_or_default();
                if offered.split_whitespace().any(|c| c == "memory") && dir.is_dir() {
                    return Some((dir, Controller::V2));
                }
            }
        }
    }
    own.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|c| c == "memory")
            .then(|| Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/')))
            .filter(|dir| dir.is_dir())
            .map(|dir| (dir, Controller::V1))
    })
}

/// The resident set of process `pid` in bytes (`VmRSS`).
pub fn resident_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kib| kib * 1024)
        .ok_or_else(|| HarnessError::new(format!("no VmRSS for {pid}")))
}
