//! The fault matrix's framework (issue 13), shared by the matrix tests (`tests/fault_matrix*.rs`)
//! and the soak:
//!
//! - `lab`: `FaultLab`, a switch, 2 or 3 routers running keepvip (VRRPv3 IPv4, VRID 1, VIP
//!   192.0.2.100/24, priorities 200/150/100, the advert interval a parameter) and a client; the daemon
//!   faults (`signal`, `kill`, `terminate`, `restart`), which note the spans a daemon was down;
//! - `sampler` + `timeline`: which routers hold the VIP in their kernel, sampled every 2 ms over
//!   netlink, kept as a timeline of changes;
//! - `probe`: a UDP request to the VIP every 10 ms from the client, answered by whichever router the
//!   request reached (named in the answer);
//! - `inject`: link flap storms, random loss, partition and heal; `delay`: a fixed delay on the
//!   segment (a relay thread: this kernel has no netem);
//! - `verdict`: a cell's figures and pass/fail against `Bounds` derived from RFC 5798's timers;
//! - `host_lab` + `host_inject`: the host-fault cells' lab (routers whose config and launch the cell
//!   writes) and their injectors (addresses by hand, IPv6 disabled, a private full tmpfs, a memory
//!   cgroup);
//! - `report`: the holder changes and failed requests of a window, for failure messages;
//! - `table`: the markdown table every run prints and writes under `target/fault-matrix/`.
//!
//! A cell: `FaultLab::start`, note `wall_clock()`, inject, wait for the outcome, then
//! `Verdict::judge` over the window and `table::record` the verdict.

pub mod delay;
pub mod host_inject;
pub mod host_lab;
pub mod inject;
pub mod lab;
pub mod probe;
pub mod report;
pub mod sampler;
pub mod table;
pub mod timeline;
pub mod verdict;

pub use delay::Delay;
pub use inject::{Loss, Partition, flap_storm};
pub use lab::{FaultLab, INSTANCE, LabPlan, PRIORITIES, Start, VIP, VIP_CIDR};
pub use timeline::{Excused, Holders, Timeline};
pub use verdict::{Bounds, Verdict};
