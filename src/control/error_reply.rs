//! The control socket's error reply, shared by the server that writes it and the clients that read it.

use serde::{Deserialize, Serialize};

/// An error reply: `{"error": "..."}` and nothing else (a refused reload has more fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReply {
    pub error: String,
}
