//! One error type for the harness: a message with the context a failing root test needs to be debugged.

use std::fmt;

/// A harness step failed: which step, and what the system said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessError {
    message: String,
}

impl HarnessError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// Prefix the message with what the caller was doing.
    pub fn context(self, what: impl fmt::Display) -> Self {
        Self::new(format!("{what}: {}", self.message))
    }
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}

impl From<std::io::Error> for HarnessError {
    fn from(err: std::io::Error) -> Self {
        Self::new(err.to_string())
    }
}

impl From<netlab::Error> for HarnessError {
    fn from(err: netlab::Error) -> Self {
        Self::new(err.to_string())
    }
}

impl From<nix::Error> for HarnessError {
    fn from(err: nix::Error) -> Self {
        Self::new(err.to_string())
    }
}

pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
