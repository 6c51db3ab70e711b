//! The demo's lab: a switch namespace with a bridge, one namespace per router and one for the observer,
//! each joined by a veth pair, on 192.0.2.0/24 (documentation addresses). Everything it creates is
//! removed when the `Lab` is dropped: on success, on error and on Ctrl-C.

use std::fs::File;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// One router's namespace and its keepvip process.
pub struct Router {
    pub name: String,
    pub namespace: String,
    pub address: String,
    pub priority: u8,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
    process: Option<Child>,
}

pub struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    pub dir: PathBuf,
    pub routers: Vec<Router>,
    pub observer: String,
}

impl Lab {
    /// Builds the topology for `priorities.len()` routers. Addresses: router i is 192.0.2.(i+1), the
    /// observer 192.0.2.250.
    pub fn build(priorities: &[u8]) -> io::Result<Lab> {
        let prefix = format!("kvdemo{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        // A fresh directory only root can enter: never follow something planted at a guessable path.
        std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
        let mut lab = Lab {
            namespaces: Vec::new(),
            observer: format!("{prefix}-obs"),
            prefix,
            dir,
            routers: Vec::new(),
        };
        let switch = lab.add_namespace("sw")?;
        ip(&["-n", &switch, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &switch, "link", "set", "br0", "up"])?;
        for (i, priority) in priorities.iter().enumerate() {
            let name = format!("r{}", i + 1);
            let namespace = lab.add_namespace(&name)?;
            let address = format!("192.0.2.{}", i + 1);
            lab.plug(&switch, &namespace, &format!("p{}", i + 1), &address)?;
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
        let observer = lab.add_namespace("obs")?;
        lab.plug(&switch, &observer, "pobs", "192.0.2.250")?;
        Ok(lab)
    }

    fn add_namespace(&mut self, suffix: &str) -> io::Result<String> {
        let name = format!("{}-{suffix}", self.prefix);
        ip(&["netns", "add", &name])?;
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    /// A veth pair: `eth0` in `namespace` with `address`/24, `port` on the bridge in `switch`.
    fn plug(&self, switch: &str, namespace: &str, port: &str, address: &str) -> io::Result<()> {
        ip(&[
            "link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", port,
            "netns", switch,
        ])?;
        ip(&["-n", switch, "link", "set", port, "master", "br0", "up"])?;
        ip(&[
            "-n",
            namespace,
            "addr",
            "add",
            &format!("{address}/24"),
            "dev",
            "eth0",
        ])?;
        ip(&["-n", namespace, "link", "set", "eth0", "up"])
    }

    /// Starts keepvip in router `index` with its config (written by the caller).
    pub fn start(&mut self, index: usize, binary: &Path) -> io::Result<()> {
        let router = &mut self.routers[index];
        let log = File::create(&router.log)?;
        let child = Command::new("ip")
            .args(["netns", "exec", &router.namespace])
            .arg(binary)
            .arg("-c")
            .arg(&router.config)
            .arg("--control-socket")
            .arg(&router.socket)
            .arg("run")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        router.process = Some(child);
        Ok(())
    }

    /// SIGKILL: the router vanishes without a word, as in a crash.
    pub fn kill(&mut self, index: usize) {
        if let Some(mut child) = self.routers[index].process.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether `address` is on eth0 in `namespace`, as the kernel says.
    pub fn holds(namespace: &str, address: &str) -> bool {
        Command::new("ip")
            .args(["-n", namespace, "-o", "addr", "show", "dev", "eth0"])
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).contains(&format!("inet {address}/")))
            .unwrap_or(false)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for index in 0..self.routers.len() {
            self.kill(index);
        }
        for namespace in self.namespaces.iter().rev() {
            let _ = ip(&["netns", "del", namespace]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            io::Error::new(e.kind(), "the `ip` command is missing: install iproute2")
        } else {
            e
        }
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}
