//! Accept_Mode False enforced (RFC 5798 §6.4.3 (650)): the VIPs of a master that is not the owner and
//! does not accept are in keepvip's nf_tables drop sets while they are installed (`net::nftables`).
//! The table exists only while some instance needs it; it is replaced at startup (a crash may have
//! left one, elements included) and deleted at exit. nfnetlink calls block for microseconds, at most
//! the socket timeout: they run on the blocking pool, never on the protocol loop's thread.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tracing::{debug, error, info, warn};

use super::error::DaemonError;
use crate::net::nftables::{NftError, TABLE, VipFilter};

type Shared = Arc<Mutex<VipFilter>>;

/// The drop sets and which instance put which address there.
pub struct AcceptFilter {
    /// None when no instance needs it.
    filter: Option<Shared>,
    dropped: HashMap<String, HashSet<IpAddr>>,
}

impl AcceptFilter {
    /// At startup, before any VIP is installed: the table created empty when `needed`, else a
    /// leftover of an earlier run deleted. Needed but impossible (no nf_tables in the kernel) stops
    /// the daemon: running would accept what the config says must be dropped.
    pub async fn prepare(needed: bool) -> Result<AcceptFilter, DaemonError> {
        if !needed {
            if let Err(e) = on_new_socket(VipFilter::delete).await {
                debug!(error = %e, "no nf_tables table of an earlier run to delete");
            }
            return Ok(AcceptFilter::inactive());
        }
        let failed = |e: NftError| DaemonError::AcceptFilter(e.to_string());
        let filter = open().await.map_err(failed)?;
        run_blocking(filter.clone(), VipFilter::create)
            .await
            .map_err(failed)?;
        info!(table = %format!("inet {TABLE}"), "nf_tables table ready for accept = false");
        Ok(AcceptFilter {
            filter: Some(filter),
            dropped: HashMap::new(),
        })
    }

    pub fn inactive() -> AcceptFilter {
        AcceptFilter {
            filter: None,
            dropped: HashMap::new(),
        }
    }

    /// Traffic to `addresses` (VIPs `instance` is about to install) is dropped from now on.
    pub async fn drop_for(&mut self, instance: &str, addresses: Vec<IpAddr>) {
        let Some(filter) = self.filter.clone() else {
            error!(%instance, "accept = false but no nf_tables table: VIP traffic not dropped");
            return;
        };
        self.dropped
            .entry(instance.to_owned())
            .or_default()
            .extend(addresses.iter().copied());
        let all: Vec<IpAddr> = self.dropped.values().flatten().copied().collect();
        let outcome = run_blocking(filter, move |filter| {
            match filter.drop_traffic_to(&addresses) {
                // The table is gone (`nft flush ruleset`, a firewall reload): rebuild it whole.
                Err(e) if e.errno() == Some(libc::ENOENT) => {
                    filter.create()?;
                    filter.drop_traffic_to(&all)?;
                    Ok(true)
                }
                other => other.map(|()| false),
            }
        })
        .await;
        match outcome {
            Ok(true) => {
                warn!(%instance, "nf_tables table was gone (flushed by someone else?): recreated")
            }
            Ok(false) => debug!(%instance, "VIP traffic dropped"),
            Err(e) => {
                error!(%instance, error = %e, "VIP traffic not dropped: accept = false not enforced")
            }
        }
    }

    /// Traffic to `addresses` (VIPs `instance` removed) is no longer dropped, unless another instance
    /// still holds the same address.
    pub async fn stop_dropping_for(&mut self, instance: &str, addresses: &[IpAddr]) {
        let Some(filter) = self.filter.clone() else {
            return;
        };
        let Some(own) = self.dropped.get_mut(instance) else {
            return;
        };
        let mine: Vec<IpAddr> = addresses
            .iter()
            .copied()
            .filter(|a| own.remove(a))
            .collect();
        let released: Vec<IpAddr> = mine
            .into_iter()
            .filter(|a| !self.dropped.values().any(|held| held.contains(a)))
            .collect();
        if released.is_empty() {
            return;
        }
        let outcome = run_blocking(filter, move |f| f.stop_dropping(&released)).await;
        if let Err(e) = outcome {
            error!(%instance, error = %e, "VIPs left in the nf_tables drop set");
        }
    }

    /// At exit, after the VIPs are removed.
    pub async fn remove_table(self) {
        let Some(filter) = self.filter else {
            return;
        };
        match run_blocking(filter, VipFilter::delete).await {
            Ok(()) => info!(table = %format!("inet {TABLE}"), "nf_tables table removed"),
            Err(e) => error!(error = %e, "nf_tables table not removed"),
        }
    }
}

/// Last resort after a panic: deletes keepvip's table if there is one.
pub async fn remove_leftover() {
    let _ = on_new_socket(VipFilter::delete).await;
}

async fn open() -> Result<Shared, NftError> {
    let opened = tokio::task::spawn_blocking(VipFilter::open).await;
    let filter = opened.map_err(|e| NftError::Io(std::io::Error::other(e.to_string())))??;
    Ok(Arc::new(Mutex::new(filter)))
}

async fn on_new_socket(op: fn(&mut VipFilter) -> Result<(), NftError>) -> Result<(), NftError> {
    run_blocking(open().await?, op).await
}

/// Runs `op` on `filter` on the blocking pool.
async fn run_blocking<T: Send + 'static>(
    filter: Shared,
    op: impl FnOnce(&mut VipFilter) -> Result<T, NftError> + Send + 'static,
) -> Result<T, NftError> {
    let outcome = tokio::task::spawn_blocking(move || {
        let mut guard = filter
            .lock()
            .map_err(|_| NftError::Io(std::io::Error::other("nf_tables lock poisoned")))?;
        op(&mut guard)
    })
    .await;
    outcome.map_err(|e| NftError::Io(std::io::Error::other(e.to_string())))?
}
