//! The demo's lab: a switch namespace with a bridge, one namespace per router and one for the observer,
//! each joined by a veth pair, on 192.0.2.0/24 (documentation addresses). Building the namespaces,
//! running processes in them and removing it all is netlab's; this file holds the demo's topology,
//! the routers' files and processes (keepvip and the web service), and how a thread of the demo
//! enters a namespace. Everything is removed when the `Lab` is dropped: on success, on error and on
//! Ctrl-C (`run` drops it after the interrupted scenario).

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use netlab::{Process, Switch, Veth};
use nix::sched::{CloneFlags, setns};

use super::service;

/// The interface name in every router and the observer.
const LINK: &str = "eth0";
/// Where each web service listens: every address, so that its own health check reaches it on
/// 127.0.0.1 and clients on the VIP while the router holds it.
pub const SERVICE_LISTEN: &str = "0.0.0.0:80";

/// One router's namespace, its keepvip process and its web service.
pub struct Router {
    pub name: String,
    pub namespace: String,
    pub address: String,
    /// Set on eth0 so the observer can tell who sent a gratuitous ARP: 02:6b:76:00:00:0N.
    pub mac: [u8; 6],
    pub priority: u8,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
    pub service_log: PathBuf,
    process: Option<Process>,
    service: Option<Process>,
}

pub struct Lab {
    /// The namespaces and processes, deleted and killed on drop.
    net: netlab::Lab,
    pub dir: PathBuf,
    /// The keepvip binary the lab runs: a copy in `dir` (see [`Lab::install`]).
    pub binary: PathBuf,
    pub routers: Vec<Router>,
    pub observer: String,
}

impl Lab {
    /// Builds the topology for `priorities.len()` routers. Addresses: router i is 192.0.2.(i+1), the
    /// observer 192.0.2.250.
    pub fn build(priorities: &[u8]) -> netlab::Result<Lab> {
        let prefix = format!("kvdemo{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        // A fresh directory only root can enter: never follow something planted at a guessable path.
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let mut lab = Lab {
            observer: format!("{prefix}-obs"),
            net: netlab::Lab::new(prefix),
            binary: dir.join("keepvip"),
            dir,
            routers: Vec::new(),
        };
        let switch = Switch::new(lab.net.add_namespace("sw")?, "br0");
        switch.create(&[])?;
        for (i, priority) in priorities.iter().enumerate() {
            let name = format!("r{}", i + 1);
            let namespace = lab.net.add_namespace(&name)?;
            let address = format!("192.0.2.{}", i + 1);
            let mac = [0x02, 0x6b, 0x76, 0, 0, u8::try_from(i + 1).unwrap_or(0xff)];
            switch.plug(
                &Veth::new(&namespace, LINK, format!("p{}", i + 1))
                    .mac(mac)
                    .address(format!("{address}/24")),
            )?;
            lab.routers.push(Router {
                config: lab.dir.join(format!("{name}.toml")),
                socket: lab.dir.join(format!("{name}.sock")),
                log: lab.dir.join(format!("{name}.log")),
                service_log: lab.dir.join(format!("{name}-web.log")),
                name,
                namespace,
                address,
                mac,
                priority: *priority,
                process: None,
                service: None,
            });
        }
        let observer = lab.net.add_namespace("obs")?;
        switch.plug(&Veth::new(observer, LINK, "pobs").address("192.0.2.250/24"))?;
        Ok(lab)
    }

    /// Copies `binary` (this keepvip) to [`Lab::binary`]. keepvip runs a track script as root only
    /// if no one but root can change it (nor any directory above it); a copy in the lab's
    /// root-only directory is such a script wherever keepvip was built.
    pub fn install(&self, binary: &Path) -> std::io::Result<()> {
        std::fs::copy(binary, &self.binary)?;
        std::fs::set_permissions(&self.binary, std::fs::Permissions::from_mode(0o755))
    }

    /// Starts keepvip in router `index` with its config (written by the caller).
    pub fn start(&mut self, index: usize) -> netlab::Result<()> {
        let router = &mut self.routers[index];
        let log = File::create(&router.log)?;
        let argv: [&OsStr; 6] = [
            self.binary.as_os_str(),
            "-c".as_ref(),
            router.config.as_os_str(),
            "--control-socket".as_ref(),
            router.socket.as_os_str(),
            "run".as_ref(),
        ];
        let process = self.net.spawn(
            &router.namespace,
            &router.name,
            &argv,
            log.try_clone()?.into(),
            log.into(),
        )?;
        router.process = Some(process);
        Ok(())
    }

    /// SIGKILL: the router vanishes without a word, as in a crash.
    pub fn kill(&mut self, index: usize) {
        if let Some(process) = self.routers[index].process.take() {
            let _ = process.kill_and_wait();
        }
    }

    /// Starts router `index`'s web service; [`Lab::service_listening`] says when it answers.
    pub fn start_service(&mut self, index: usize) -> netlab::Result<()> {
        let router = &mut self.routers[index];
        let log = File::create(&router.service_log)?;
        let argv: [&OsStr; 6] = [
            self.binary.as_os_str(),
            service::SUBCOMMAND.as_ref(),
            "--listen".as_ref(),
            SERVICE_LISTEN.as_ref(),
            "--name".as_ref(),
            router.name.as_ref(),
        ];
        let label = format!("{} web service", router.name);
        let process = self.net.spawn(
            &router.namespace,
            &label,
            &argv,
            log.try_clone()?.into(),
            log.into(),
        )?;
        router.service = Some(process);
        Ok(())
    }

    /// Whether router `index`'s web service said it listens.
    pub fn service_listening(&self, index: usize) -> bool {
        std::fs::read_to_string(&self.routers[index].service_log)
            .is_ok_and(|log| log.contains(service::LISTENING))
    }

    /// SIGKILL the web service: what the trackers are there for.
    pub fn kill_service(&mut self, index: usize) {
        if let Some(process) = self.routers[index].service.take() {
            let _ = process.kill_and_wait();
        }
    }

    /// The last `lines` lines of each router's keepvip log (those that wrote one), for an error
    /// report.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for router in &self.routers {
            let log = std::fs::read_to_string(&router.log).unwrap_or_default();
            let all: Vec<&str> = log.lines().collect();
            if all.is_empty() {
                continue;
            }
            out.push_str(&format!("--- {}:\n", router.name));
            for line in &all[all.len().saturating_sub(lines)..] {
                out.push_str(&strip_ansi(line));
                out.push('\n');
            }
        }
        out
    }

    /// Whether `address` is on eth0 in `namespace`, as the kernel says.
    pub fn holds(namespace: &str, address: &str) -> bool {
        netlab::ip(&["-n", namespace, "-o", "addr", "show", "dev", LINK])
            .is_ok_and(|out| out.contains(&format!("inet {address}/")))
    }
}

/// `text` without its ANSI colour sequences (`ESC [ ... m`): keepvip colours its text logs even
/// into a file.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // Up to and including the sequence's final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An open handle on `namespace`, for [`enter_netns`] on another thread.
pub fn netns_handle(namespace: &str) -> Result<File, String> {
    File::open(Path::new(netlab::NETNS_DIR).join(namespace))
        .map_err(|e| format!("namespace {namespace}: {e}"))
}

/// Moves the calling thread (only it: network namespaces are per thread) into the namespace.
pub fn enter_netns(handle: &File) -> Result<(), String> {
    setns(handle, CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns: {e}"))
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Processes and namespaces first: the routers write their logs into `dir` until killed.
        if let Err(err) = self.net.cleanup() {
            eprintln!("{err}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::strip_ansi;

    #[test]
    fn colour_sequences_are_stripped_and_the_text_kept() {
        let line = "\u{1b}[2m2026\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m transition";
        assert_eq!(strip_ansi(line), "2026  INFO transition");
    }
}
