//! Real HAProxy (Debian's `/usr/sbin/haproxy`) in a lab namespace: the shipped config adapted to the
//! lab, the process started in the foreground (the lab kills it on cleanup), and its view of the
//! backends read from its stats socket (a unix socket: no network).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::run;
use crate::daemon::wire::wall_clock;
use crate::error::{HarnessError, Result};
use crate::lab::Lab;
use crate::netns::in_netns;
use crate::process::Proc;
use crate::wait::wait_for_value;

/// Where Debian's `haproxy` package installs the binary.
pub const HAPROXY_BIN: &str = "/usr/sbin/haproxy";
/// How long HAProxy may take to answer on its stats socket after the start.
const START_TIMEOUT: Duration = Duration::from_secs(10);
const STATS_TIMEOUT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(10);

/// The HAProxy binary; panics with what to do when it is missing (a missing HAProxy must fail the
/// test loudly, never skip it).
pub fn require_haproxy() -> &'static str {
    if !Path::new(HAPROXY_BIN).is_file() {
        panic!(
            "HAProxy is not installed ({HAPROXY_BIN} is missing): the HAProxy pair tests need the real \
             one. Install it with `apt-get install haproxy` (scripts/test.sh installs it when missing)."
        );
    }
    HAPROXY_BIN
}

/// `sysctl net.ipv4.ip_nonlocal_bind=1` inside namespace `ns`: HAProxy on the backup binds the VIP it
/// does not hold (yet).
pub fn allow_nonlocal_bind(ns: &str) -> Result<()> {
    let path = "/proc/sys/net/ipv4/ip_nonlocal_bind";
    in_netns(ns, || std::fs::write(path, "1"))?
        .map_err(|err| HarnessError::new(format!("{ns}: write {path}: {err}")))
}

/// `shipped` (an haproxy.cfg) for a lab router: its `global` section replaced by one with a stats
/// socket at `stats_socket` and logs on stderr (no chroot, user switch or daemon mode: the test runs
/// it in the foreground), and every `inter <shipped_inter>` check interval shortened to `lab_inter`.
pub fn lab_config(
    shipped: &str,
    stats_socket: &Path,
    shipped_inter: &str,
    lab_inter: &str,
) -> Result<String> {
    let mut out = format!(
        "global\n    stats socket {} mode 600 level admin\n    log stderr format short local0 info\n",
        stats_socket.display()
    );
    let mut in_global = false;
    let mut saw_global = false;
    for line in shipped.lines() {
        let is_section = line.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if is_section {
            in_global = line.trim_end() == "global";
            saw_global |= in_global;
        }
        if !in_global {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !saw_global {
        return Err(HarnessError::new(
            "the shipped haproxy.cfg has no `global` section",
        ));
    }
    let from = format!(" inter {shipped_inter} ");
    if !out.contains(&from) {
        return Err(HarnessError::new(format!(
            "the shipped haproxy.cfg has no `{}`",
            from.trim()
        )));
    }
    Ok(out.replace(&from, &format!(" inter {lab_inter} ")))
}

/// One server line of `show stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStat {
    pub backend: String,
    pub server: String,
    /// `UP`, `DOWN`, `UP 1/2` (rising), `DOWN 1/3` (falling), `MAINT`, `no check`...
    pub status: String,
}

/// The server rows of `show stat` CSV (the frontend and backend summary rows left out).
pub fn parse_show_stat(csv: &str) -> Result<Vec<ServerStat>> {
    let mut lines = csv.lines();
    let header = lines
        .next()
        .and_then(|line| line.strip_prefix("# "))
        .ok_or_else(|| HarnessError::new(format!("show stat: no header in {csv:?}")))?;
    let columns: Vec<&str> = header.split(',').collect();
    let column = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .ok_or_else(|| HarnessError::new(format!("show stat: no column {name}")))
    };
    let (backend, server, status) = (column("pxname")?, column("svname")?, column("status")?);
    let mut servers = Vec::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let field = |at: usize| fields.get(at).copied().unwrap_or_default().to_owned();
        let name = field(server);
        if name == "FRONTEND" || name == "BACKEND" {
            continue;
        }
        servers.push(ServerStat {
            backend: field(backend),
            server: name,
            status: field(status),
        });
    }
    Ok(servers)
}

/// One command on an HAProxy stats socket; its whole answer.
pub fn stats_command(socket: &Path, command: &str) -> Result<String> {
    let context = |err: std::io::Error| {
        HarnessError::new(format!("stats socket {}: {err}", socket.display()))
    };
    let mut stream = UnixStream::connect(socket).map_err(context)?;
    stream
        .set_read_timeout(Some(STATS_TIMEOUT))
        .map_err(context)?;
    stream
        .set_write_timeout(Some(STATS_TIMEOUT))
        .map_err(context)?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .map_err(context)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(context)?;
    Ok(answer)
}

/// `haproxy -c -f path`, in the lab's switch namespace: not in the host's (nothing of HAProxy's runs
/// there), and not in a router's, where the short-lived `haproxy -c` process would count as a running
/// HAProxy for that router's track script.
pub fn check_config(lab: &Lab, path: &Path) -> Result<()> {
    let path = path.to_string_lossy();
    let argv = [
        "netns",
        "exec",
        lab.switch_ns(),
        require_haproxy(),
        "-c",
        "-f",
        &path,
    ];
    run("ip", &argv)
        .map(|_| ())
        .map_err(|err| err.context(format!("haproxy -c -f {path}")))
}

/// A running HAProxy in a lab namespace.
pub struct Haproxy {
    proc: Proc,
    label: String,
    socket: PathBuf,
    started_at: Duration,
}

impl Haproxy {
    /// Write `<label>.cfg` (whose `stats socket` is `socket`) into the lab directory, check it with
    /// `haproxy -c` (`check_config`), and start `haproxy -db -f FILE` in namespace `ns`; returns once
    /// the stats socket answers (bounded), or with an error quoting HAProxy's stderr.
    pub fn start(lab: &Lab, ns: &str, label: &str, config: &str, socket: &Path) -> Result<Self> {
        let bin = require_haproxy();
        let path = lab.dir().join(format!("{label}.cfg"));
        std::fs::write(&path, config)
            .map_err(|err| HarnessError::new(format!("write {}: {err}", path.display())))?;
        check_config(lab, &path)?;
        let _ = std::fs::remove_file(socket);
        let path_text = path.to_string_lossy().into_owned();
        let started_at = wall_clock();
        let proc = lab.spawn(ns, label, &[bin, "-db", "-f", &path_text])?;
        let haproxy = Self {
            proc,
            label: label.to_owned(),
            socket: socket.to_owned(),
            started_at,
        };
        haproxy.wait_answering()?;
        Ok(haproxy)
    }

    fn wait_answering(&self) -> Result<()> {
        wait_for_value(
            &format!("{} to answer on its stats socket", self.label),
            START_TIMEOUT,
            POLL,
            || {
                if let Some(status) = self.proc.try_status()? {
                    return Err(HarnessError::new(format!(
                        "{} exited ({status}) during startup:\n{}",
                        self.label,
                        self.proc.stderr()
                    )));
                }
                Ok(stats_command(&self.socket, "show info").ok())
            },
        )
        .map(|_| ())
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn proc(&self) -> &Proc {
        &self.proc
    }

    /// When it was started (`wire::wall_clock`, the captures' clock): from here on a process called
    /// `haproxy` runs in its namespace.
    pub fn started_at(&self) -> Duration {
        self.started_at
    }

    /// The servers as HAProxy's health checks see them now.
    pub fn servers(&self) -> Result<Vec<ServerStat>> {
        parse_show_stat(&stats_command(&self.socket, "show stat")?)
    }

    /// The status of `server` in `backend`.
    pub fn server_status(&self, backend: &str, server: &str) -> Result<String> {
        self.servers()?
            .into_iter()
            .find(|s| s.backend == backend && s.server == server)
            .map(|s| s.status)
            .ok_or_else(|| {
                HarnessError::new(format!("{}: no server {backend}/{server}", self.label))
            })
    }

    /// Poll until every server of `backend` has a status in `wanted` (e.g. all `UP`); the time it took.
    pub fn wait_statuses(
        &self,
        backend: &str,
        wanted: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Duration> {
        wait_for_value(
            &format!("{} to see {backend} as {wanted:?}", self.label),
            timeout,
            POLL,
            || {
                let servers = self.servers()?;
                let all = wanted.iter().all(|(server, status)| {
                    servers
                        .iter()
                        .any(|s| s.backend == backend && s.server == *server && s.status == *status)
                });
                Ok(all.then_some(()))
            },
        )
        .map(|(_, took)| took)
        .map_err(|err| {
            let seen = self
                .servers()
                .map(|s| format!("{s:?}"))
                .unwrap_or_else(|e| e.to_string());
            err.context(format!("{}: servers now {seen}", self.label))
        })
    }

    /// SIGKILL (a crash: no graceful stop) and reap.
    pub fn kill(&self) -> Result<()> {
        self.proc.kill_and_wait().map(|_| ())
    }

    /// Everything HAProxy wrote to stderr (its alerts and, with the lab config, its logs).
    pub fn logs(&self) -> String {
        self.proc.stderr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = "# comment\nglobal\n    daemon\n    user haproxy\n\ndefaults\n    mode http\n\n\
        backend web\n    server web1 192.0.2.11:80 check inter 1s fall 3 rise 2\n";

    #[test]
    fn the_lab_config_swaps_the_global_section_and_shortens_checks() {
        let text = lab_config(SHIPPED, Path::new("/tmp/x.sock"), "1s", "100ms").unwrap();
        assert!(text.starts_with("global\n    stats socket /tmp/x.sock mode 600 level admin\n"));
        assert!(
            !text.contains("daemon") && !text.contains("user haproxy"),
            "{text}"
        );
        assert!(text.contains("defaults\n    mode http\n"), "{text}");
        assert!(text.contains("check inter 100ms fall 3 rise 2"), "{text}");
        assert!(lab_config(SHIPPED, Path::new("/x"), "2s", "100ms").is_err());
        assert!(lab_config("defaults\n", Path::new("/x"), "1s", "100ms").is_err());
    }

    #[test]
    fn show_stat_gives_the_server_rows() {
        let csv = "# pxname,svname,qcur,status,weight\nwww,FRONTEND,,OPEN,\n\
                   web,web1,0,UP,1\nweb,web2,0,DOWN 1/3,1\nweb,BACKEND,0,UP,2\n\n";
        let servers = parse_show_stat(csv).unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].server, "web2");
        assert_eq!(servers[1].status, "DOWN 1/3");
        assert!(parse_show_stat("no header").is_err());
    }
}
