//! Network namespaces from a test's side: entering one from a test thread, listing by prefix, and
//! sweeping the leftovers of interrupted runs. Creating and deleting them is netlab's.

use std::fs::File;
use std::future::Future;
use std::path::Path;

use nix::sched::{CloneFlags, setns};

use crate::error::{HarnessError, Result};

/// Where `ip netns add` keeps its namespace handles.
pub use netlab::NETNS_DIR;

/// Run `f` on a fresh thread that has entered the network namespace `name`, and return its result.
/// Sockets (and netlink connections) created by `f` belong to that namespace. A panic inside `f` is
/// re-raised here with its original message.
pub fn in_netns<R: Send>(name: &str, f: impl FnOnce() -> R + Send) -> Result<R> {
    let path = Path::new(NETNS_DIR).join(name);
    let handle = File::open(&path)
        .map_err(|err| HarnessError::new(format!("open {}: {err}", path.display())))?;
    std::thread::scope(|scope| {
        let thread = scope.spawn(move || -> Result<R> {
            setns(&handle, CloneFlags::CLONE_NEWNET)
                .map_err(|err| HarnessError::new(format!("setns into {name}: {err}")))?;
            Ok(f())
        });
        match thread.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// `in_netns` with a tokio current-thread runtime built inside the namespace thread, driving the future
/// `make` returns (the future is created inside the namespace, so everything it opens is too).
pub fn block_on_in_netns<F, Fut>(name: &str, make: F) -> Result<Fut::Output>
where
    F: FnOnce() -> Fut + Send,
    Fut: Future,
    Fut::Output: Send,
{
    in_netns(name, || -> Result<Fut::Output> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|err| HarnessError::new(format!("tokio runtime in {name}: {err}")))?;
        Ok(runtime.block_on(make()))
    })?
}

/// The names `ip netns list` shows.
pub fn list_netns() -> Result<Vec<String>> {
    Ok(netlab::list_namespaces()?)
}

/// Namespaces whose name starts with `prefix`.
pub fn netns_with_prefix(prefix: &str) -> Result<Vec<String>> {
    Ok(list_netns()?
        .into_iter()
        .filter(|name| name.starts_with(prefix))
        .collect())
}

/// The pid embedded in a lab namespace name `kv<pid>t...`, if `name` is one.
pub fn lab_owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix("kv")?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    if digits_end == 0 || !rest[digits_end..].starts_with('t') {
        return None;
    }
    rest[..digits_end].parse().ok()
}

/// Delete the namespaces of earlier runs that were interrupted before their cleanup ran: lab names whose
/// owning test process no longer exists. Returns the names deleted.
pub fn sweep_stale_labs() -> Result<Vec<String>> {
    let own_pid = std::process::id() as i32;
    let mut swept = Vec::new();
    for name in list_netns()? {
        let Some(owner) = lab_owner_pid(&name) else {
            continue;
        };
        if owner == own_pid || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        netlab::delete_namespace(&name).map_err(|err| err.context("sweeping a stale lab"))?;
        swept.push(name);
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_is_parsed_from_lab_names_only() {
        assert_eq!(lab_owner_pid("kv1234t0ping-h0"), Some(1234));
        assert_eq!(lab_owner_pid("kv1234x"), None);
        assert_eq!(lab_owner_pid("kvt0ping"), None);
        assert_eq!(lab_owner_pid("blue"), None);
        assert_eq!(lab_owner_pid("kv99"), None);
    }
}
