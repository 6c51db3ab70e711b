//! Packet capture in the lab's observer namespace with tcpdump (`-w` pcap, kernel timestamps at
//! nanosecond precision, each packet flushed at once), read back with the crate's pcap reader.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cmd::run;
use crate::error::{HarnessError, Result};
use crate::pcap::{self, Frame};
use crate::process::Proc;
use crate::wait::{wait_for, wait_for_value};

/// A running tcpdump writing `path`.
pub struct Capture {
    proc: Proc,
    path: PathBuf,
}

/// How long tcpdump may take to open the interface and say so.
const START_TIMEOUT: Duration = Duration::from_secs(10);

impl Capture {
    /// Wrap a tcpdump `proc` writing `path`; waits until it reports that it is listening.
    pub(crate) fn started(proc: Proc, path: PathBuf) -> Result<Self> {
        let capture = Self { proc, path };
        wait_for(
            "tcpdump to start listening",
            START_TIMEOUT,
            Duration::from_millis(10),
            || {
                capture.proc.stderr().contains("listening on")
                    || matches!(capture.proc.try_status(), Ok(Some(_)))
            },
        )?;
        if let Ok(Some(status)) = capture.proc.try_status() {
            return Err(HarnessError::new(format!(
                "tcpdump exited ({status}): {}",
                capture.proc.stderr().trim()
            )));
        }
        Ok(capture)
    }

    /// The tcpdump argument list for interface `ifname`, file `path`, optional filter words.
    pub(crate) fn tcpdump_argv(ifname: &str, path: &Path, filter: &[&str]) -> Vec<String> {
        let mut argv: Vec<String> = [
            "tcpdump",
            "-i",
            ifname,
            "-w",
            &path.to_string_lossy(),
            "-U",
            "--immediate-mode",
            "-n",
            "-s",
            "0",
            "--time-stamp-precision=nano",
            // Stay root so the file in the lab directory stays writable.
            "-Z",
            "root",
        ]
        .iter()
        .map(|word| (*word).to_owned())
        .collect();
        argv.extend(filter.iter().map(|word| (*word).to_owned()));
        argv
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The frames written so far (the capture keeps running).
    pub fn frames(&self) -> Result<Vec<Frame>> {
        Ok(pcap::read(&self.path)?.frames)
    }

    /// Wait until `done(frames so far)` holds; those frames.
    pub fn wait_for_frames(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&[Frame]) -> bool,
    ) -> Result<Vec<Frame>> {
        wait_for_value(what, timeout, Duration::from_millis(20), || {
            let frames = self.frames()?;
            Ok(done(&frames).then_some(frames))
        })
        .map(|(frames, _)| frames)
    }

    /// Stop tcpdump (SIGTERM makes it flush and close the file) and return every frame.
    pub fn stop(&self) -> Result<Vec<Frame>> {
        self.proc.terminate()?;
        self.proc.wait(Duration::from_secs(5))?;
        self.frames()
    }

    /// After `stop`: the packets the kernel dropped before tcpdump read them (tcpdump's last words),
    /// `None` if it did not say.
    pub fn dropped_by_kernel(&self) -> Option<u64> {
        let stderr = self.proc.stderr();
        let line = stderr
            .lines()
            .find(|line| line.ends_with("packets dropped by kernel"))?;
        line.split_whitespace().next()?.parse().ok()
    }

    /// tcpdump's own decoding of the file, very verbose (`-vv`): checks that tcpdump's VRRP decoder
    /// accepts a checksum, for example.
    pub fn decode(&self) -> Result<String> {
        tcpdump_text(&self.path)
    }
}

/// `tcpdump -r FILE -n -vv` (reading a file sends nothing).
pub fn tcpdump_text(path: &Path) -> Result<String> {
    run("tcpdump", &["-r", &path.to_string_lossy(), "-n", "-vv"])
}
