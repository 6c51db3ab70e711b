//! The readable trace: one line per event with the virtual time, the router, its input, the actions it
//! returned and the state changes. Only built when tracing is on (a failing seed is re-run with it).

use std::fmt::Write as _;
use std::net::IpAddr;

use vrrp_core::{Action, Input, Instant, NodeInput, Report};
use vrrp_wire::{Addresses, Repr};

/// Seconds with six decimals: `12.345678`.
pub fn time(at: Instant) -> String {
    let us = at.as_micros();
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

pub fn addresses(list: &Addresses) -> String {
    let items: Vec<String> = match list {
        Addresses::V4(a) => a.iter().map(ToString::to_string).collect(),
        Addresses::V6(a) => a.iter().map(ToString::to_string).collect(),
    };
    items.join(",")
}

pub fn input(input: &Input) -> String {
    match input {
        Input::Startup => "Startup".into(),
        Input::Shutdown => "Shutdown".into(),
        Input::Advert { source, repr } => advert(*source, repr),
        Input::Timer => "Timer".into(),
        Input::Tracker { tracker, ok } => {
            format!("Tracker {} {}", tracker.0, if *ok { "OK" } else { "KO" })
        }
        Input::TrackerValue { tracker, value } => format!("Tracker {} = {value}", tracker.0),
        Input::SetBasePriority(p) => format!("SetBasePriority {p}"),
        Input::InterfaceDown => "InterfaceDown".into(),
        Input::InterfaceUp => "InterfaceUp".into(),
        Input::SourceAddressLost => "SourceAddressLost".into(),
        Input::SourceAddressRestored => "SourceAddressRestored".into(),
        Input::SourceAddressChanged(address) => format!("SourceAddressChanged {address}"),
    }
}

/// A node input; the trace line names the host or router it is for.
pub fn node_input(what: &NodeInput<'_>) -> String {
    match what {
        NodeInput::Startup => "Startup".into(),
        NodeInput::Shutdown => "Shutdown".into(),
        NodeInput::Timer => "Timer".into(),
        NodeInput::Datagram(datagram) => format!(
            "datagram from {} ({} bytes)",
            datagram.source,
            datagram.payload.len()
        ),
        NodeInput::Advert { source, repr, .. } => advert(*source, repr),
        NodeInput::Link { input: i, .. } | NodeInput::Instance(_, i) => input(i),
    }
}

fn advert(source: IpAddr, repr: &Repr) -> String {
    format!(
        "advert from {source} prio {} int {}cs",
        repr.priority,
        repr.max_adver_int.get()
    )
}

pub fn action(action: &Action) -> String {
    match action {
        Action::SendAdvert(repr) => format!("SEND prio {}", repr.priority),
        Action::SendAdvertTo { advert, to } => format!("SEND prio {} to {to}", advert.priority),
        Action::AddVips(a) => format!("+VIPs {}", addresses(&a.advertised)),
        Action::RemoveVips(a) => format!("-VIPs {}", addresses(&a.advertised)),
        Action::AnnounceVips(_) => "announce".into(),
        Action::StateChanged {
            from, to, reason, ..
        } => format!("** {from:?} -> {to:?} ({}) **", reason.label()),
        Action::Discard(d) => format!("discard {}", d.label()),
        Action::Report(Report::IntervalMismatch { theirs, .. }) => {
            format!("report interval mismatch {}cs", theirs.get())
        }
        Action::Report(Report::AddressListMismatch { .. }) => "report address mismatch".into(),
        Action::Report(Report::V2IntervalMismatch { theirs, .. }) => {
            format!("report VRRPv2 interval mismatch {}cs", theirs.get())
        }
        Action::Report(Report::MasterSendsNoV2 { from }) => {
            format!("report master {from} sends no VRRPv2")
        }
        Action::Report(Report::SplitBrain(split)) => {
            format!(
                "report split brain with {} ({})",
                split.peer,
                split.cause.label()
            )
        }
        Action::Report(Report::SplitBrainEnded { from }) => {
            format!("report split brain with {from} ended")
        }
    }
}

/// The trace being recorded.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    text: String,
}

impl Trace {
    pub fn line(&mut self, at: Instant, line: &str) {
        let _ = writeln!(self.text, "{:>12} {line}", time(at));
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Short name of a router: `h3/v1`.
pub fn router(host: usize, vrid: u8) -> String {
    format!("h{host}/v{vrid}")
}

/// `h2 192.0.2.7`.
pub fn host(host: usize, address: IpAddr) -> String {
    format!("h{host} {address}")
}
