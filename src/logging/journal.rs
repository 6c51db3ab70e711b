//! Whether stderr is the systemd journal, and the `<N>` priority prefix journald reads.
//!
//! systemd.exec(5): a service whose stdout or stderr is connected to the journal gets
//! `JOURNAL_STREAM=DEVICE:INODE` (decimal) naming that stream; a program compares it with `fstat` of
//! its own stderr, so a child whose stderr was redirected elsewhere does not mistake itself for a
//! journal writer. journald stores `<N>` at the start of a line as the entry's syslog priority
//! (`SyslogLevelPrefix=`, on by default) and strips it.

use std::fmt;
use std::os::fd::AsFd;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Whether this process's stderr is the stream `JOURNAL_STREAM` names.
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some(value) = value.to_str() else {
        return false;
    };
    is_stream(value, std::io::stderr().as_fd())
}

/// Whether `fd` is the stream a `JOURNAL_STREAM` value (`DEVICE:INODE`) names.
pub fn is_stream(journal_stream: &str, fd: std::os::fd::BorrowedFd<'_>) -> bool {
    let Ok(stat) = nix::sys::stat::fstat(fd) else {
        return false;
    };
    // dev_t and ino_t are u64 on the 64-bit targets, narrower elsewhere.
    #[allow(clippy::unnecessary_cast)]
    let (device, inode) = (stat.st_dev as u64, stat.st_ino as u64);
    names(journal_stream, device, inode)
}

/// Whether a `JOURNAL_STREAM` value names this device and inode.
pub fn names(journal_stream: &str, device: u64, inode: u64) -> bool {
    let Some((dev, ino)) = journal_stream.split_once(':') else {
        return false;
    };
    dev.parse::<u64>() == Ok(device) && ino.parse::<u64>() == Ok(inode)
}

/// The syslog priority journald files a line under: err 3, warning 4, info 6, debug 7.
pub fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// A line format with `<N>` (the event's [`priority`]) in front.
pub struct PriorityPrefix<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for PriorityPrefix<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}
