//! The demo's lab: a switch namespace with a bridge, one namespace per router and one for the observer,
//! each joined by a veth pair, on 192.0.2.0/24 (documentation addresses). Building the namespaces,
//! running processes in them and removing it all is netlab's; this file holds the demo's topology and
//! the routers' files. Everything is removed when the `Lab` is dropped: on success, on error and on
//! Ctrl-C (`run` drops it after the interrupted scenario).

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use netlab::{Process, Switch, Veth};

/// The interface name in every router and the observer.
const LINK: &str = "eth0";

/// One router's namespace and its keepvip process.
pub struct Router {
    pub name: String,
    pub namespace: String,
    pub address: String,
    pub priority: u8,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
    process: Option<Process>,
}

pub struct Lab {
    /// The namespaces and processes, deleted and killed on drop.
    net: netlab::Lab,
    pub dir: PathBuf,
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
            dir,
            routers: Vec::new(),
        };
        let switch = Switch::new(lab.net.add_namespace("sw")?, "br0");
        switch.create(&[])?;
        for (i, priority) in priorities.iter().enumerate() {
            let name = format!("r{}", i + 1);
            let namespace = lab.net.add_namespace(&name)?;
            let address = format!("192.0.2.{}", i + 1);
            switch.plug(
                &Veth::new(&namespace, LINK, format!("p{}", i + 1))
                    .address(format!("{address}/24")),
            )?;
            lab.routers.push(Router {
                config: lab.dir.join(format!("{name}.toml")),
                socket: lab.dir.join(format!("{name}.sock")),
                log: lab.dir.join(format!("{name}.log")),
                name,
                namespace,
                address,
                priority: *priority,
                process: None,
            });
        }
        let observer = lab.net.add_namespace("obs")?;
        switch.plug(&Veth::new(observer, LINK, "pobs").address("192.0.2.250/24"))?;
        Ok(lab)
    }

    /// Starts keepvip in router `index` with its config (written by the caller).
    pub fn start(&mut self, index: usize, binary: &Path) -> netlab::Result<()> {
        let router = &mut self.routers[index];
        let log = File::create(&router.log)?;
        let argv: [&OsStr; 6] = [
            binary.as_os_str(),
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

    /// Whether `address` is on eth0 in `namespace`, as the kernel says.
    pub fn holds(namespace: &str, address: &str) -> bool {
        netlab::ip(&["-n", namespace, "-o", "addr", "show", "dev", LINK])
            .is_ok_and(|out| out.contains(&format!("inet {address}/")))
    }
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
