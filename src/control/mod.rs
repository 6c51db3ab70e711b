//! The local control socket: `keepvip status` asks the running daemon for a snapshot of every instance.
//! The server asks the protocol loop for a [`Status`] per connection (the loop builds it between events)
//! and writes it on a task of its own, so a slow or stuck client can never delay the protocol.

mod changes;
mod client;
mod error_reply;
mod reload;
pub mod schema;
#[cfg(test)]
mod schema_docs_test;
mod server;
mod status;
mod table;
mod watch;

pub use changes::{Change, changes, line, utc};
pub use client::query_status;
pub use reload::{ReloadOutcome, ReloadRequest, request_reload};
pub use server::{Access, Request, Requests, StatusRequest, access, bind, serve, snapshot};
pub use status::{
    InstanceStatus, LastTransition, STATUS_SCHEMA_VERSION, SplitBrainView, Status, TrackerView,
    TransitionCount,
};
pub use table::{age_text, master_text, priority_text, rows, transition_text};
pub use watch::{Screen, Stopped, watch};

/// Where the daemon listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/keepvip/keepvip.sock";

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::{mpsc, watch};

    #[test]
    fn status_client_reads_the_latest_published_snapshot() {
        let dir = std::env::temp_dir().join(format!("keepvip-ctl-{}", std::process::id()));
        let path = dir.join("ctl.sock");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let first = Status {
            pid: 1,
            router_id: "lb1".into(),
            ..Status::default()
        };
        // A stand-in for the loop: answers every request with the latest value of `tx`.
        let (tx, rx) = watch::channel(first);
        let (requests, mut inbox) = mpsc::channel::<StatusRequest>(4);
        let (reload, _reloads) = mpsc::channel::<ReloadRequest>(1);
        let _guard = rt.enter();
        let listener = bind(&path, None).unwrap();
        let requests = Requests {
            status: requests,
            reload,
        };
        let server = rt.spawn(serve(listener, requests));
        let answerer = rt.spawn(async move {
            while let Some(reply) = inbox.recv().await {
                let _ = reply.send(rx.borrow().clone());
            }
        });
        let query = |p: std::path::PathBuf| {
            rt.block_on(tokio::task::spawn_blocking(move || query_status(&p)))
                .unwrap()
        };
        rt.block_on(tokio::time::sleep(std::time::Duration::from_millis(50)));
        assert_eq!(query(path.clone()).unwrap().router_id, "lb1");
        tx.send_modify(|s| {
            s.instances.push(InstanceStatus {
                name: "VI_1".into(),
                state: "MASTER".into(),
                ..InstanceStatus::default()
            })
        });
        let got = query(path.clone()).unwrap();
        assert_eq!(got.instances.len(), 1);
        assert_eq!(got.instances[0].state, "MASTER");
        server.abort();
        answerer.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_refused_reload_is_not_read_as_an_error_reply() {
        let refused = ReloadOutcome {
            applied: false,
            error: Some("f.toml:3:8: vrid = 300: expected an integer 1..=255".into()),
            ..ReloadOutcome::default()
        };
        let body = serde_json::to_vec(&refused).unwrap();
        assert!(serde_json::from_slice::<error_reply::ErrorReply>(&body).is_err());
        let back: ReloadOutcome = serde_json::from_slice(&body).unwrap();
        assert_eq!(back, refused);
        let denied = br#"{"error":"permission denied"}"#;
        assert!(serde_json::from_slice::<error_reply::ErrorReply>(denied).is_ok());
    }

    #[test]
    fn status_client_names_the_socket_when_no_daemon_listens() {
        let err = query_status(std::path::Path::new("/nonexistent/keepvip.sock")).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/keepvip.sock"),
            "{err}"
        );
    }
}
