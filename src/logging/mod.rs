//! Log output through tracing: human-readable lines by default, one JSON object per line with
//! `--log-format json` (or `[global] log_format = "json"`). `RUST_LOG` overrides the level (default
//! `info`).
//!
//! Under systemd, when stderr is the journal (`journal`), text lines carry no timestamp (the journal
//! stamps each line itself) and start with the syslog priority prefix `<N>` that journald turns into
//! the entry's priority. The lines other programs parse (transitions, tracker changes, notify runs,
//! split-brain episodes) are emitted by [`events`], one function per kind, so their field names stay
//! the same everywhere.

pub mod events;
pub mod journal;
#[cfg(test)]
mod tests;

use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// How the lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub format: LogFormat,
    /// The lines go to the journal: text lines get a `<N>` priority prefix and no timestamp.
    pub journal: bool,
    /// ANSI colours (a person at a terminal).
    pub ansi: bool,
}

/// Keeps the log writer thread alive; logs written after it is dropped are lost.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Lines the background writer holds before it drops new ones: room for a failover of a thousand
/// instances (a transition line each, their notify lines). tracing-appender's default, 128 000,
/// allocates and touches its whole queue up front: 4 MiB of the daemon's resident memory (smaps).
const BUFFERED_LINES: usize = 8_192;

/// Installs the global subscriber. Lines go through a lossy background writer: a stalled stderr
/// (journald busy, a full pipe) drops log lines instead of stalling adverts. Safe to call more than
/// once: later calls are ignored.
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(BUFFERED_LINES)
        .lossy(true)
        .finish(std::io::stderr());
    let journal = journal::stderr_is_journal();
    let style = Style {
        format,
        journal,
        // Colours only for a person at a terminal, not in files or the journal.
        ansi: !journal && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    // try_init also forwards the `log` records of dependencies (netlink) into tracing.
    let _ = dispatch(style, filter, writer).try_init();
    guard
}

/// The subscriber for `style`, writing to `writer` (stderr in the daemon, a buffer in tests).
pub fn dispatch<W>(style: Style, filter: EnvFilter, writer: W) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(style.ansi)
        .with_writer(writer);
    match (style.format, style.journal) {
        // JSON keeps its timestamp under the journal too: whoever parses the JSON reads it there.
        (LogFormat::Json, _) => Dispatch::new(builder.json().flatten_event(true).finish()),
        (LogFormat::Text, false) => Dispatch::new(builder.with_target(false).finish()),
        (LogFormat::Text, true) => {
            let format = tracing_subscriber::fmt::format()
                .without_time()
                .with_target(false)
                .with_ansi(false);
            Dispatch::new(
                builder
                    .event_format(journal::PriorityPrefix(format))
                    .finish(),
            )
        }
    }
}
