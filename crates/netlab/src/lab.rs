//! The cleanup guard: every namespace a `Lab` created and every process it started goes when it is
//! dropped, on success, on error and while a panic unwinds.

use std::ffi::OsStr;
use std::process::Stdio;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::namespace::{create_namespace, delete_namespace, set_link};
use crate::process::Process;

/// Namespaces named `<prefix>-<suffix>` and the processes started in them; see the module docs.
pub struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    /// A mutex so that starting a process needs only `&self`: handles are used while the lab is shared.
    processes: Mutex<Vec<Process>>,
}

impl Lab {
    /// An empty lab. `prefix` should be unique on the machine (a pid in it does that), since
    /// namespace names are global.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            namespaces: Vec::new(),
            processes: Mutex::new(Vec::new()),
        }
    }

    /// What every namespace of this lab starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Create namespace `<prefix>-<suffix>` with its loopback up; returns its name.
    pub fn add_namespace(&mut self, suffix: &str) -> Result<String> {
        let name = format!("{}-{suffix}", self.prefix);
        create_namespace(&name)?;
        // Recorded before anything else can fail, so that cleanup deletes it.
        self.namespaces.push(name.clone());
        set_link(&name, "lo", true)?;
        Ok(name)
    }

    /// Every namespace this lab created and has not deleted yet, in creation order.
    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }

    /// `Process::spawn`, and the process is killed (with its group) on cleanup.
    pub fn spawn(
        &self,
        namespace: &str,
        label: &str,
        argv: &[impl AsRef<OsStr>],
        stdout: Stdio,
        stderr: Stdio,
    ) -> Result<Process> {
        let process = Process::spawn(namespace, label, argv, stdout, stderr)?;
        self.processes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(process.clone());
        Ok(process)
    }

    /// Kill and reap every process, then delete every namespace, newest first. Idempotent; `Drop`
    /// calls it. Keeps going past failures and reports them all.
    pub fn cleanup(&mut self) -> Result<()> {
        let processes = std::mem::take(
            self.processes
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        let mut failures: Vec<String> = processes
            .iter()
            .filter_map(|process| process.kill_and_wait().err().map(|err| err.to_string()))
            .collect();
        // The switch was created first, so it goes last: each host takes its veth pair with it.
        while let Some(namespace) = self.namespaces.pop() {
            if let Err(err) = delete_namespace(&namespace) {
                failures.push(err.to_string());
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Error::new(format!(
                "lab {} cleanup: {}",
                self.prefix,
                failures.join("; ")
            )))
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(err) = self.cleanup() {
            eprintln!("{err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_lab_cleans_up_without_touching_the_system() {
        let mut lab = Lab::new("kvunit");
        assert_eq!(lab.prefix(), "kvunit");
        assert!(lab.namespaces().is_empty());
        assert_eq!(lab.cleanup(), Ok(()));
    }
}
