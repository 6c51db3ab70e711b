//! Network-namespace labs, shared by `keepvip demo` and the root-only `netns-tests` harness: named
//! namespaces, a Linux bridge in a switch namespace, veth pairs into it with addresses, processes run
//! inside a namespace, and a guard (`Lab`) that kills those processes and deletes those namespaces when
//! it is dropped. Everything goes through the `ip` command (iproute2), so each step can be replayed by
//! hand. Test-only machinery (captures, fixed test MACs, hub bridges, sweeps) stays in the harness.

mod command;
mod error;
mod lab;
mod link;
mod namespace;
mod process;

pub use command::{ip, run};
pub use error::{Error, Result};
pub use lab::Lab;
pub use link::{Switch, Veth, mac_to_string};
pub use namespace::{NETNS_DIR, create_namespace, delete_namespace, list_namespaces, set_link};
pub use process::Process;
