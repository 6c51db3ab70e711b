//! The demo's scenario, act by act: what each act does to the lab, what it waits for (every wait
//! bounded by [`STEP_TIMEOUT`], failing with a message that says what did not happen), and what it
//! prints. Times are measured on the wire, from the observer namespace; the routers' own logs are
//! only shown when something fails.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use vrrp_wire::Centisecs;

use super::client::{Client, Tally};
use super::lab::Lab;
use super::observer::Observer;
use super::{
    CHECK_FALL, CHECK_INTERVAL, CHECK_NAME, CHECK_RISE, CHECK_TIMEOUT, CHECK_WEIGHT,
    OBSERVER_ADDRESS, PORT, VIP, check_detection, handover_bound, interval_of,
    master_down_interval, ms, skew_time,
};
use crate::control;

/// How long any one step may take before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after the new master's first answer the client is still counted, for stragglers.
const SETTLE: Duration = Duration::from_millis(300);
/// How often the routers are asked for their state while the demo waits (each ask is a control
/// socket round trip to every router: not too often).
const STATE_POLL: Duration = Duration::from_millis(20);
/// How often the observer's and the client's records are looked at (in memory: cheap).
const WIRE_POLL: Duration = Duration::from_millis(2);

struct Demo<'a> {
    lab: &'a mut Lab,
    observer: Observer,
    client: Client,
    interval: Centisecs,
}

/// Starts everything in the lab (configs written), then plays the acts in order.
pub async fn play(lab: &mut Lab, interval: Centisecs) -> Result<(), String> {
    let observer = Observer::start(&lab.observer, OBSERVER_ADDRESS, VIP)?;
    // Services first: each keepvip's first check then finds its service up.
    for index in 0..lab.routers.len() {
        lab.start_service(index)
            .map_err(|e| format!("starting the web service: {e}"))?;
    }
    for index in 0..lab.routers.len() {
        let name = lab.routers[index].name.clone();
        wait_for(STEP_TIMEOUT, WIRE_POLL, || {
            lab.service_listening(index).then_some(())
        })
        .await
        .ok_or_else(|| format!("the web service on {name} did not start"))?;
    }
    for index in 0..lab.routers.len() {
        lab.start(index)
            .map_err(|e| format!("starting keepvip: {e}"))?;
    }
    let client = Client::start(&lab.observer, SocketAddr::from((VIP, PORT)))?;
    let mut demo = Demo {
        lab,
        observer,
        client,
        interval,
    };
    let first = demo.election().await?;
    let second = demo.service_dies(first).await?;
    demo.service_back(first, second).await?;
    demo.crash(first).await?;
    demo.restart(first).await
}

impl Demo<'_> {
    fn name(&self, index: usize) -> String {
        self.lab.routers[index].name.clone()
    }

    /// 1: the highest priority wins and the client reaches its web service through the VIP.
    async fn election(&mut self) -> Result<usize, String> {
        let first = self.expected_master(None, None);
        let name = self.name(first);
        // Start-up skew between the processes can let a lower priority win for a moment; the
        // protocol guarantees the highest priority ends up master, so wait for that.
        self.wait_for_master(first, "win the election").await?;
        self.wait_for_answer(first, Instant::now()).await?;
        println!("\n1. election");
        self.print_states();
        println!("   client: answered by {name}");
        Ok(first)
    }

    /// 2, the main act: the master's web service dies; its check fails, its priority drops below
    /// the next router's, which takes over.
    async fn service_dies(&mut self, first: usize) -> Result<usize, String> {
        let second = self.expected_master(Some(first), None);
        let (old, new) = (self.name(first), self.name(second));
        let new_priority = self.lab.routers[second].priority;
        let bound = handover_bound(CHECK_FALL, self.interval, new_priority);
        println!("\n2. the web service on {old} dies (SIGKILL)");
        let killed_at = Instant::now();
        self.lab.kill_service(first);
        let what = format!(
            "take over after {old}'s web service died (protocol bound {:.1} ms)",
            ms(bound)
        );
        self.wait_for_master(second, &what).await?;
        let garp = self.wait_for_garp(second, killed_at).await?;
        let answered = self.wait_for_answer(second, killed_at).await?;
        let tally = self.settle_and_tally(killed_at, answered).await;
        self.print_states();
        println!(
            "   {new} took over in {:.1} ms: {old}'s web service killed -> first gratuitous ARP \
             from {new} (seen on the wire by the observer)",
            ms(garp - killed_at)
        );
        print_bound("fall", CHECK_FALL, &new, new_priority, self.interval);
        print_client(&tally, &new, answered - killed_at, "the kill");
        Ok(second)
    }

    /// 3: the web service comes back; the check passes again, and the old master, at its full
    /// priority again, preempts.
    async fn service_back(&mut self, first: usize, second: usize) -> Result<(), String> {
        let old = self.name(first);
        let priority = self.lab.routers[first].priority;
        let bound = handover_bound(CHECK_RISE, self.interval, priority);
        println!("\n3. the web service on {old} is back");
        self.lab
            .start_service(first)
            .map_err(|e| format!("restarting the web service: {e}"))?;
        let lab = &*self.lab;
        let back_at = wait_for(STEP_TIMEOUT, WIRE_POLL, || {
            lab.service_listening(first).then(Instant::now)
        })
        .await
        .ok_or_else(|| format!("the web service on {old} did not start again"))?;
        let what = format!(
            "preempt {} once its web service was back (protocol bound {:.1} ms)",
            self.name(second),
            ms(bound)
        );
        self.wait_for_master(first, &what).await?;
        let garp = self.wait_for_garp(first, back_at).await?;
        let answered = self.wait_for_answer(first, back_at).await?;
        let tally = self.settle_and_tally(back_at, answered).await;
        self.print_states();
        println!(
            "   {old} took over again in {:.1} ms: web service listening -> first gratuitous ARP \
             from {old} (seen on the wire by the observer)",
            ms(garp - back_at)
        );
        print_bound("rise", CHECK_RISE, &old, priority, self.interval);
        print_client(&tally, &old, answered - back_at, "the service came back");
        Ok(())
    }

    /// 4: keepvip itself dies on the master, without the priority-0 advert of a clean stop.
    async fn crash(&mut self, first: usize) -> Result<(), String> {
        let second = self.expected_master(None, Some(first));
        let (old, new) = (self.name(first), self.name(second));
        let dead: IpAddr = self.lab.routers[first]
            .address
            .parse()
            .map_err(|_| format!("bad address {}", self.lab.routers[first].address))?;
        println!("\n4. SIGKILL keepvip on {old} (the master): a crash");
        self.lab.kill(first);
        let killed_at = Instant::now();
        self.wait_for_master(second, "take over after the crash")
            .await?;
        let takeover = self.takeover_on_wire(dead, killed_at).await?;
        let priority = self.lab.routers[second].priority;
        self.print_states();
        println!(
            "   {new} took over {:.1} ms after {old}'s last advert (protocol bound: \
             Master_Down_Interval for priority {priority} = {:.1} ms; measured on the wire from \
             the observer)",
            ms(takeover),
            ms(master_down_interval(priority, self.interval))
        );
        Ok(())
    }

    /// 5: keepvip comes back on the old master, which preempts.
    async fn restart(&mut self, first: usize) -> Result<(), String> {
        println!("\n5. keepvip on {} restarts and preempts", self.name(first));
        self.lab
            .start(first)
            .map_err(|e| format!("restarting keepvip: {e}"))?;
        self.wait_for_master(first, "preempt after its restart")
            .await?;
        self.print_states();
        Ok(())
    }

    /// From the old master's last advert to the first advert of anyone else after the kill.
    async fn takeover_on_wire(
        &mut self,
        dead: IpAddr,
        killed_at: Instant,
    ) -> Result<Duration, String> {
        let observer = &mut self.observer;
        wait_for(STEP_TIMEOUT, WIRE_POLL, || {
            let seen = observer.sightings();
            let last_old = seen.iter().rev().find(|s| s.src == dead)?.at;
            let first_new = seen
                .iter()
                .find(|s| s.src != dead && s.priority > 0 && s.at >= killed_at)?
                .at;
            Some(first_new.saturating_duration_since(last_old))
        })
        .await
        .ok_or_else(|| "no takeover advert seen on the wire".to_string())
    }

    /// The router that should be master: the highest priority among those running, `failing`'s
    /// lowered by the check's weight.
    fn expected_master(&self, failing: Option<usize>, down: Option<usize>) -> usize {
        let effective = |i: usize| {
            let weight = if Some(i) == failing {
                i32::from(CHECK_WEIGHT)
            } else {
                0
            };
            i32::from(self.lab.routers[i].priority) + weight
        };
        (0..self.lab.routers.len())
            .filter(|&i| Some(i) != down)
            .max_by_key(|&i| effective(i))
            .unwrap_or(0)
    }

    /// Waits until router `index` is MASTER and no other running router is.
    async fn wait_for_master(&self, index: usize, what: &str) -> Result<(), String> {
        let lab = &*self.lab;
        let settled = || {
            let others_not_master = (0..lab.routers.len())
                .filter(|&i| i != index)
                .all(|i| state_of(lab, i).is_none_or(|s| s.state != "MASTER"));
            let master = state_of(lab, index).is_some_and(|s| s.state == "MASTER");
            (master && others_not_master).then_some(())
        };
        wait_for(STEP_TIMEOUT, STATE_POLL, settled)
            .await
            .ok_or_else(|| {
                format!(
                    "{} did not {what} within {} s",
                    self.name(index),
                    STEP_TIMEOUT.as_secs()
                )
            })
    }

    /// When the observer first saw a gratuitous ARP for the VIP from router `index` since `since`.
    async fn wait_for_garp(&mut self, index: usize, since: Instant) -> Result<Instant, String> {
        let mac = self.lab.routers[index].mac;
        let observer = &mut self.observer;
        wait_for(STEP_TIMEOUT, WIRE_POLL, || {
            let garps = observer.garps();
            garps
                .iter()
                .find(|g| g.mac == mac && g.at >= since)
                .map(|g| g.at)
        })
        .await
        .ok_or_else(|| {
            format!(
                "{} is master but the observer saw no gratuitous ARP from it within {} s",
                self.name(index),
                STEP_TIMEOUT.as_secs()
            )
        })
    }

    /// When the client's first request since `since` that router `index` answered started.
    async fn wait_for_answer(&mut self, index: usize, since: Instant) -> Result<Instant, String> {
        let name = self.name(index);
        let client = &mut self.client;
        let answered = wait_for(STEP_TIMEOUT, WIRE_POLL, || {
            client.first_answer(&name, since)
        })
        .await;
        match answered {
            Some(at) => Ok(at),
            None if self.client.stopped() => Err("the client stopped: it reached its cap".into()),
            None => Err(format!(
                "the client got no answer from {name} on http://{VIP}/ within {} s",
                STEP_TIMEOUT.as_secs()
            )),
        }
    }

    /// Lets stragglers in, then counts the requests from `from` to [`SETTLE`] after `answered`.
    async fn settle_and_tally(&mut self, from: Instant, answered: Instant) -> Tally {
        tokio::time::sleep(SETTLE).await;
        self.client.tally(from, answered + SETTLE)
    }

    fn print_states(&self) {
        for (index, router) in self.lab.routers.iter().enumerate() {
            let status = state_of(self.lab, index);
            let state = status.as_ref().map_or("down", |s| s.state.as_str());
            let priority = status
                .as_ref()
                .map_or(router.priority, |s| s.effective_priority);
            let mut notes = Vec::new();
            if Lab::holds(&router.namespace, &VIP.to_string()) {
                notes.push(if status.is_none() {
                    // A killed process cannot remove its VIP; the next keepvip start removes it first.
                    format!("still has {VIP}: left by the killed process, removed at restart")
                } else {
                    format!("holds {VIP}")
                });
            }
            if let Some(s) = status
                .as_ref()
                .filter(|s| s.effective_priority < s.base_priority)
            {
                let lost = s.base_priority - s.effective_priority;
                notes.push(format!(
                    "{CHECK_NAME} failing: {} - {lost}",
                    s.base_priority
                ));
            }
            let line = format!(
                "   {:<3} {:<12} priority {:<4} {:<7} {}",
                router.name,
                router.address,
                priority,
                state,
                notes.join("; ")
            );
            println!("{}", line.trim_end());
        }
    }
}

/// The bound of [`handover_bound`], as a sum of its terms; `runs` checks in a row (`fall` or `rise`).
fn print_bound(rule: &str, runs: u32, new: &str, priority: u8, interval: Centisecs) {
    println!(
        "   protocol bound {:.1} ms = check detection {:.0} ms ({rule} {runs} x {} ms + timeout {} \
         ms) + advert interval {:.0} ms + Skew_Time of {new} at priority {priority} ({:.1} ms)",
        ms(handover_bound(runs, interval, priority)),
        ms(check_detection(runs)),
        CHECK_INTERVAL.as_millis(),
        CHECK_TIMEOUT.as_millis(),
        ms(interval_of(interval)),
        ms(skew_time(priority, interval))
    );
}

fn print_client(tally: &Tally, name: &str, first_answer: Duration, since: &str) {
    println!(
        "   client: {} of {} requests failed; {name} answered from {:.0} ms after {since}",
        tally.failed,
        tally.sent,
        ms(first_answer)
    );
}

/// Router `index`'s one instance as its control socket reports it; `None` if keepvip is down.
fn state_of(lab: &Lab, index: usize) -> Option<control::InstanceStatus> {
    control::query_status(&lab.routers[index].socket)
        .ok()
        .and_then(|s| s.instances.into_iter().next())
}

/// Polls `probe` every `every` until it gives a value, at most `timeout`.
async fn wait_for<T>(
    timeout: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}
