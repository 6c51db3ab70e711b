//! A client pinging an address from a lab host (iputils `ping`, bounded by its count), and the
//! outages its replies show: the time the client could not reach the address.

use std::net::IpAddr;
use std::time::Duration;

use crate::error::{HarnessError, Result};
use crate::lab::Lab;
use crate::process::Proc;

/// A running `ping -D` (wall-clock stamps on every reply).
pub struct PingClient {
    proc: Proc,
    count: u32,
    every: Duration,
}

impl PingClient {
    /// Pings `target` from host `index` `count` times, one every `every` (root allows under 200 ms).
    pub fn start(
        lab: &Lab,
        index: usize,
        target: IpAddr,
        count: u32,
        every: Duration,
    ) -> Result<Self> {
        let interval = format!("{:.3}", every.as_secs_f64());
        let count_text = count.to_string();
        let target_text = target.to_string();
        let argv = [
            "ping",
            "-n",
            "-D",
            "-i",
            &interval,
            "-c",
            &count_text,
            "-W",
            "1",
            &target_text,
        ];
        let proc = lab.spawn_on(index, "ping", &argv)?;
        Ok(Self { proc, count, every })
    }

    /// Waits for ping to finish (its count times its interval, plus slack) and returns the wall-clock
    /// times (since the Unix epoch) of its replies, in order.
    pub fn finish(self) -> Result<Vec<Duration>> {
        let bound = self.every * self.count + Duration::from_secs(5);
        // ping exits 1 when some requests went unanswered: expected here.
        self.proc.wait(bound)?;
        let stamps = reply_stamps(&self.proc.stdout());
        if stamps.is_empty() {
            return Err(HarnessError::new(format!(
                "ping got no reply at all:\n{}\n{}",
                self.proc.stdout(),
                self.proc.stderr()
            )));
        }
        Ok(stamps)
    }
}

/// The `[seconds.micros]` stamps of the reply lines (`... bytes from ...`).
pub fn reply_stamps(output: &str) -> Vec<Duration> {
    output
        .lines()
        .filter(|line| line.contains(" bytes from "))
        .filter_map(|line| {
            let inside = line.strip_prefix('[')?.split(']').next()?;
            inside.parse::<f64>().ok().map(Duration::from_secs_f64)
        })
        .collect()
}

/// The longest time without a reply around `moment`: the widest gap between consecutive replies
/// that ends after `moment` and starts within `before` of it (or after it).
pub fn outage_around(stamps: &[Duration], moment: Duration, before: Duration) -> Duration {
    let from = moment.saturating_sub(before);
    stamps
        .windows(2)
        .filter(|pair| pair[1] > moment && pair[0] >= from)
        .map(|pair| pair[1] - pair[0])
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_give_their_stamps_and_the_widest_gap_is_the_outage() {
        let output = "PING 192.0.2.100 (192.0.2.100) 56(84) bytes of data.\n\
            [100.000000] 64 bytes from 192.0.2.100: icmp_seq=1 ttl=64 time=0.1 ms\n\
            [100.010000] 64 bytes from 192.0.2.100: icmp_seq=2 ttl=64 time=0.1 ms\n\
            [100.520000] 64 bytes from 192.0.2.100: icmp_seq=53 ttl=64 time=0.1 ms\n\
            [100.530000] 64 bytes from 192.0.2.100: icmp_seq=54 ttl=64 time=0.1 ms\n";
        let stamps = reply_stamps(output);
        assert_eq!(stamps.len(), 4);
        let outage = outage_around(
            &stamps,
            Duration::from_secs_f64(100.2),
            Duration::from_secs(1),
        );
        assert!((outage.as_secs_f64() - 0.51).abs() < 1e-6, "{outage:?}");
        // The half-second gap starts long before this moment: not counted.
        let later = outage_around(
            &stamps,
            Duration::from_secs_f64(100.525),
            Duration::from_millis(10),
        );
        assert!((later.as_secs_f64() - 0.01).abs() < 1e-6, "{later:?}");
    }
}
