//! Netlink failures, with the request they belong to.

use std::fmt;
use std::io;
use std::net::Ipv6Addr;
use std::time::Duration;

/// A netlink operation failed.
#[derive(Debug)]
pub enum NetlinkError {
    /// Opening the netlink socket failed.
    Connect(io::Error),
    /// The kernel refused `what`, or the connection failed during it.
    Request {
        what: String,
        source: rtnetlink::Error,
    },
    /// No interface of that name / index in this network namespace.
    NoSuchLink(String),
    /// A VIP that cannot be installed as asked (e.g. a label on IPv6, a label over 15 bytes).
    InvalidVip(String),
    /// IPv6 Duplicate Address Detection failed for the link-local address: another node has it.
    DadFailed(Ipv6Addr),
    /// `what` did not happen within `after`.
    Timeout { what: String, after: Duration },
    /// The event subscription ended (netlink socket closed).
    EventsClosed,
    /// A link keepvip would create exists and is not keepvip's (a vmac macvlan): `why` says what differs.
    ForeignLink { name: String, why: String },
}

impl NetlinkError {
    pub(crate) fn request(what: impl Into<String>, source: rtnetlink::Error) -> Self {
        Self::Request {
            what: what.into(),
            source,
        }
    }

    /// The kernel's errno for a refused request (positive, e.g. `libc::EEXIST`).
    pub fn errno(&self) -> Option<i32> {
        match self {
            Self::Request {
                source: rtnetlink::Error::NetlinkError(message),
                ..
            } => Some(message.raw_code().abs()),
            _ => None,
        }
    }
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(err) => write!(f, "netlink connect: {err}"),
            Self::Request { what, source } => match source {
                rtnetlink::Error::NetlinkError(message) => write!(f, "{what}: {}", message.to_io()),
                other => write!(f, "{what}: {other}"),
            },
            Self::NoSuchLink(name) => write!(f, "no interface {name} in this network namespace"),
            Self::InvalidVip(why) => write!(f, "invalid VIP: {why}"),
            Self::DadFailed(address) => {
                write!(f, "IPv6 duplicate address detection failed for {address}")
            }
            Self::Timeout { what, after } => write!(f, "{what} did not happen within {after:?}"),
            Self::EventsClosed => f.write_str("netlink event subscription closed"),
            Self::ForeignLink { name, why } => write!(
                f,
                "{name} exists and is not keepvip's macvlan ({why}): remove it or choose another vmac_name"
            ),
        }
    }
}

impl std::error::Error for NetlinkError {}
