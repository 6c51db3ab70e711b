//! The local control socket: `keepvip status` asks the running daemon for a snapshot of every instance.
//! The daemon's event loop publishes a fresh [`Status`] after each event; the server only reads the latest,
//! so a slow or stuck client can never delay the protocol.

mod client;
mod server;
mod status;

pub use client::query_status;
pub use server::serve;
pub use status::{InstanceStatus, Status, TrackerView};

/// Where the daemon listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/run/keepvip/keepvip.sock";

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::watch;

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
        let (tx, rx) = watch::channel(first);
        let _guard = rt.enter();
        let server = rt.spawn(serve(path.clone(), rx));
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
        let _ = std::fs::remove_dir_all(&dir);
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
