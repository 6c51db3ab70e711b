//! The HAProxy pair of conf/haproxy-pair as a lab: two routers (`lb1`, `lb2`: hosts 0 and 1) each
//! running keepvip and HAProxy bound to the VIP, three backends (`web1`..`web3`: hosts 2..4, on the
//! extra addresses haproxy.cfg names, each an `http-responder`) and a client (host 5).
//!
//! The shipped files are used as they are, with only these lab changes (`lab_keepvip_config`,
//! `haproxy::lab_config`): script and log paths in the lab directory; keepvip's advert interval and the
//! track script's interval 100 ms instead of 1 s, and HAProxy's health checks every 100 ms instead of
//! 1 s (fall and rise counts unchanged), so that a scenario takes seconds; HAProxy's `global` section
//! replaced (no chroot, user or daemon mode; a stats socket per router); and what a scenario varies
//! (`PairPlan`: the tracker and its weight, preempt).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::Keepvip;
use crate::daemon::scenario::wait_vip;
use crate::error::{HarnessError, Result};
use crate::frames::Mac;
use crate::haproxy::{Haproxy, allow_nonlocal_bind, check_config, lab_config, require_haproxy};
use crate::http::{LoopPlan, RequestLoop, get};
use crate::lab::Lab;
use crate::netns::in_netns;
use crate::process::Proc;
use crate::wait::wait_for;

pub const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
/// The instance name in lb1.toml and lb2.toml.
pub const INSTANCE: &str = "VI_HAPROXY";
pub const ROUTERS: [&str; 2] = ["lb1", "lb2"];
/// (host index, name, address haproxy.cfg sends to).
pub const BACKENDS: [(usize, &str, Ipv4Addr); 3] = [
    (2, "web1", Ipv4Addr::new(192, 0, 2, 11)),
    (3, "web2", Ipv4Addr::new(192, 0, 2, 12)),
    (4, "web3", Ipv4Addr::new(192, 0, 2, 13)),
];
pub const CLIENT: usize = 5;
/// The lab's keepvip advert and track-script interval, and HAProxy's check interval, for the shipped
/// 1 s (`inter 1s`).
pub const LAB_INTERVAL: &str = "100ms";
/// How long a responder lives if nobody stops it.
const RESPONDER_LIFETIME_SECONDS: &str = "120";
const STARTUP: Duration = Duration::from_secs(10);

/// A file of conf/haproxy-pair.
pub fn shipped(name: &str) -> Result<String> {
    let path = format!("{}/../conf/haproxy-pair/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).map_err(|err| HarnessError::new(format!("{path}: {err}")))
}

/// `text` with the one line that starts with `prefix` replaced by `line`; an error unless exactly one
/// line starts with it (so a changed shipped file fails the test instead of testing something else).
pub fn set_line(text: &str, prefix: &str, line: &str) -> Result<String> {
    let matching = text.lines().filter(|l| l.starts_with(prefix)).count();
    if matching != 1 {
        return Err(HarnessError::new(format!(
            "{matching} lines start with {prefix:?}, expected one, in:\n{text}"
        )));
    }
    let lines: Vec<&str> = text
        .lines()
        .map(|l| if l.starts_with(prefix) { line } else { l })
        .collect();
    Ok(lines.join("\n") + "\n")
}

/// How a scenario's pair tracks HAProxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tracking {
    /// The shipped `check_haproxy.sh` track script, with this weight in the instance (`-20` shipped).
    Script { weight: i16 },
    /// keepvip's `track_process` for `haproxy` with `same_netns = true`, with this weight.
    Process { weight: i16 },
}

/// What a scenario changes in the shipped keepvip configs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairPlan {
    pub tracking: Tracking,
    pub preempt: bool,
}

impl PairPlan {
    /// The shipped files: check_haproxy.sh with weight -20, preempting.
    pub const SHIPPED: PairPlan = PairPlan {
        tracking: Tracking::Script { weight: -20 },
        preempt: true,
    };
}

/// conf/haproxy-pair/<lb>.toml for the lab directory `dir`; see the module docs for what changes.
pub fn lab_keepvip_config(dir: &Path, lb: &str, plan: PairPlan) -> Result<String> {
    let dir = dir.display();
    let mut text = shipped(&format!("{lb}.toml"))?;
    let check = format!("command = \"{dir}/check_haproxy.sh\"");
    text = set_line(&text, "command = ", &check)?;
    text = set_line(
        &text,
        "interval = ",
        &format!("interval = \"{LAB_INTERVAL}\""),
    )?;
    let advert = format!("advert_interval = \"{LAB_INTERVAL}\"");
    text = set_line(&text, "advert_interval = ", &advert)?;
    let notify = format!("notify = \"{dir}/notify.sh --log {dir}/{lb}.notify.log\"");
    text = set_line(&text, "notify = ", &notify)?;
    if !plan.preempt {
        text = set_line(&text, "vrid = ", "vrid = 51\npreempt = false")?;
    }
    match plan.tracking {
        Tracking::Script { weight: -20 } => {}
        Tracking::Script { weight } => {
            let reference =
                format!("track_script = [{{ name = \"chk_haproxy\", weight = {weight} }}]");
            text = set_line(&text, "track_script = ", &reference)?;
        }
        Tracking::Process { weight } => {
            text = set_line(&text, "track_script = ", "track_process = [\"haproxy\"]")?;
            text.push_str(&format!(
                "\n[[track_process]]\nname = \"haproxy\"\nprocess = \"haproxy\"\nsame_netns = true\n\
                 weight = {weight}\n"
            ));
        }
    }
    Ok(text)
}

/// A router: keepvip and HAProxy in host `index`'s namespace.
pub struct Router {
    pub name: &'static str,
    pub index: usize,
    pub keepvip: Keepvip,
    pub haproxy: Haproxy,
    haproxy_starts: usize,
}

impl Router {
    /// The instance's status; panics with the daemon's log when it does not answer.
    pub fn status(&self) -> keepvip::control::InstanceStatus {
        match self.keepvip.instance(INSTANCE) {
            Ok(status) => status,
            Err(err) => panic!("{}: {err}\n{}", self.name, self.keepvip.describe()),
        }
    }

    pub fn state(&self) -> String {
        self.status().state
    }

    pub fn effective_priority(&self) -> u8 {
        self.status().effective_priority
    }

    /// The state of the instance's only tracker (`OK`/`KO`).
    pub fn tracker_state(&self) -> String {
        let status = self.status();
        match &status.trackers[..] {
            [tracker] => tracker.state.clone(),
            _ => panic!("{}: expected one tracker: {status:?}", self.name),
        }
    }

    /// Wait for `state`; panics with the daemon's status and log (and HAProxy's) otherwise.
    pub fn expect_state(&self, state: &str, timeout: Duration) -> Duration {
        match self.keepvip.wait_state(INSTANCE, state, timeout) {
            Ok(took) => took,
            Err(err) => panic!("{err}\n--- {} haproxy:\n{}", self.name, self.haproxy.logs()),
        }
    }
}

/// The whole lab: see the module docs.
pub struct Pair {
    pub routers: [Router; 2],
    /// web1..web3's responders, in `BACKENDS` order.
    pub responders: Vec<Proc>,
    responder_bin: PathBuf,
    // Last, so dropped last: kills every process and deletes every namespace, also on panic.
    pub lab: Lab,
}

impl Pair {
    /// Build the lab for `test_name` and start everything: backends, then on each router HAProxy and
    /// keepvip (lb1 first, so it becomes master without a preemption); returns once lb1 is MASTER with
    /// the VIP, lb2 BACKUP, and one request through the VIP has succeeded. `responder_bin` is the
    /// `http-responder` binary.
    pub fn start(test_name: &str, plan: PairPlan, responder_bin: &Path) -> Result<Pair> {
        require_haproxy();
        let lab = Lab::builder(test_name).hosts(6).build()?;
        install_scripts(lab.dir())?;
        // The shipped haproxy.cfg as it is (chroot, user and all) must pass `haproxy -c` too.
        let shipped_cfg = format!(
            "{}/../conf/haproxy-pair/haproxy.cfg",
            env!("CARGO_MANIFEST_DIR")
        );
        check_config(&lab, Path::new(&shipped_cfg))?;
        let mut responders = Vec::new();
        for (index, name, address) in BACKENDS {
            add_address(&lab, index, address)?;
            responders.push(start_responder(&lab, responder_bin, index, name, 0)?);
        }
        let lb1 = start_router(&lab, 0, plan, "MASTER")?;
        let lb2 = start_router(&lab, 1, plan, "BACKUP")?;
        let pair = Pair {
            routers: [lb1, lb2],
            responders,
            responder_bin: responder_bin.to_owned(),
            lab,
        };
        pair.wait_vip_on(0)?;
        let target = SocketAddr::new(IpAddr::V4(VIP), 80);
        let (status, _) = in_netns(&pair.lab.host(CLIENT).ns, || {
            get(target, "/", Duration::from_secs(1))
        })??;
        if status != 200 {
            return Err(HarnessError::new(format!(
                "a first request via the VIP: status {status}"
            )));
        }
        Ok(pair)
    }

    pub fn router(&self, index: usize) -> &Router {
        &self.routers[index]
    }

    /// Start HAProxy again on router `index` (after a kill); returns when it sees every backend UP.
    pub fn restart_haproxy(&mut self, index: usize) -> Result<()> {
        let Some(router) = self.routers.get_mut(index) else {
            return Err(HarnessError::new(format!("no router {index}")));
        };
        router.haproxy = start_haproxy(&self.lab, index, router.haproxy_starts)?;
        router.haproxy_starts += 1;
        Ok(())
    }

    /// Start backend `number` (0-based in `BACKENDS`) again after a kill, as its `run`-th start.
    pub fn restart_responder(&mut self, number: usize, run: usize) -> Result<()> {
        let Some((index, name, _)) = BACKENDS.get(number).copied() else {
            return Err(HarnessError::new(format!("no backend {number}")));
        };
        let proc = start_responder(&self.lab, &self.responder_bin, index, name, run)?;
        if let Some(slot) = self.responders.get_mut(number) {
            *slot = proc;
        }
        Ok(())
    }

    /// The client's request loop through the VIP: one `GET /` every `every`, each with `timeout`.
    pub fn requests(
        &self,
        every: Duration,
        timeout: Duration,
        max: Duration,
    ) -> Result<RequestLoop> {
        let max_requests = usize::try_from(max.as_millis() / every.as_millis().max(1)).unwrap_or(0);
        let plan = LoopPlan {
            target: SocketAddr::new(IpAddr::V4(VIP), 80),
            every,
            timeout,
            max_requests: max_requests + 1,
            max_duration: max,
        };
        RequestLoop::start(&self.lab.host(CLIENT).ns, plan)
    }

    /// Wait until the VIP is on router `index`'s eth0 and not on the other's (asked from the kernel).
    pub fn wait_vip_on(&self, index: usize) -> Result<()> {
        let vip = IpAddr::V4(VIP);
        let timeout = Duration::from_secs(2);
        wait_vip(&self.lab, index, vip, true, timeout)?;
        wait_vip(&self.lab, 1 - index, vip, false, timeout)?;
        Ok(())
    }

    pub fn mac(&self, index: usize) -> Mac {
        self.lab.host(index).mac
    }
}

/// check_haproxy.sh and notify.sh from conf/haproxy-pair into `dir`, root-owned (the test runs as
/// root) and 0755, as keepvip requires of scripts it runs as root.
fn install_scripts(dir: &Path) -> Result<()> {
    for name in ["check_haproxy.sh", "notify.sh"] {
        let path = dir.join(name);
        std::fs::write(&path, shipped(name)?)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// `address`/24 on host `index`'s eth0, beside its lab address.
fn add_address(lab: &Lab, index: usize, address: Ipv4Addr) -> Result<()> {
    let ns = &lab.host(index).ns;
    let cidr = format!("{address}/24");
    crate::cmd::ip(&["-n", ns, "addr", "add", &cidr, "dev", "eth0"]).map(|_| ())
}

/// `http-responder NAME ADDRESS:80` in host `index`; returns once it listens.
fn start_responder(lab: &Lab, bin: &Path, index: usize, name: &str, run: usize) -> Result<Proc> {
    let address = BACKENDS
        .iter()
        .find(|(i, _, _)| *i == index)
        .map(|(_, _, address)| *address)
        .ok_or_else(|| HarnessError::new(format!("host {index} is no backend")))?;
    let listen = format!("{address}:80");
    let bin = bin.to_string_lossy();
    let argv = [bin.as_ref(), name, &listen, RESPONDER_LIFETIME_SECONDS];
    let proc = lab.spawn(&lab.host(index).ns, &format!("{name}-{run}"), &argv)?;
    wait_for(
        &format!("{name} to listen"),
        STARTUP,
        Duration::from_millis(10),
        || proc.stderr().contains("listening") || matches!(proc.try_status(), Ok(Some(_))),
    )?;
    if !proc.stderr().contains("listening") {
        return Err(HarnessError::new(format!(
            "{name} did not start: {}",
            proc.stderr()
        )));
    }
    Ok(proc)
}

/// HAProxy with the shipped haproxy.cfg (lab changes: `haproxy::lab_config`) on router `index`, its
/// `run`-th start; returns once it sees every backend UP.
fn start_haproxy(lab: &Lab, index: usize, run: usize) -> Result<Haproxy> {
    let name = ROUTERS[index];
    let socket = lab.dir().join(format!("{name}-haproxy.sock"));
    let config = lab_config(&shipped("haproxy.cfg")?, &socket, "1s", LAB_INTERVAL)?;
    let label = format!("{name}-haproxy-{run}");
    let haproxy = Haproxy::start(lab, &lab.host(index).ns, &label, &config, &socket)?;
    let all_up: Vec<(&str, &str)> = BACKENDS.iter().map(|(_, n, _)| (*n, "UP")).collect();
    haproxy.wait_statuses("web", &all_up, STARTUP)?;
    Ok(haproxy)
}

/// Router `index`: `ip_nonlocal_bind`, HAProxy, then keepvip with the plan's config; returns once the
/// instance is in `state`.
fn start_router(lab: &Lab, index: usize, plan: PairPlan, state: &str) -> Result<Router> {
    let name = ROUTERS[index];
    allow_nonlocal_bind(&lab.host(index).ns)?;
    let haproxy = start_haproxy(lab, index, 0)?;
    let config = lab_keepvip_config(lab.dir(), name, plan)?;
    let keepvip = Keepvip::start(lab, index, name, &config)?;
    keepvip.wait_state(INSTANCE, state, STARTUP)?;
    Ok(Router {
        name,
        index,
        keepvip,
        haproxy,
        haproxy_starts: 1,
    })
}
