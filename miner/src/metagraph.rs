//! The miner's view of who is on the subnet.
//!
//! Every request is checked against it (registered? validator permit? enough
//! stake?), so it must be answerable without a chain round trip: a
//! background task refreshes it every few blocks and requests read the
//! latest snapshot. Where the snapshot comes from is a trait, so tests feed a
//! fixed one and the binary reads the chain.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chain_client::{ChainClient, Metagraph};

/// A boxed future, so [`MetagraphSource`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a metagraph could not be read.
#[derive(Debug, thiserror::Error)]
#[error("metagraph source: {0}")]
pub struct SourceError(pub String);

/// What the miner needs to know about one neuron.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    pub uid: u16,
    /// Stake on this subnet, in rao.
    pub stake_rao: u64,
    pub validator_permit: bool,
}

/// The subnet's neurons by hotkey, at one block.
#[derive(Clone, Debug, Default)]
pub struct PeerTable {
    pub block: u64,
    pub peers: HashMap<[u8; 32], Peer>,
}

impl PeerTable {
    pub fn from_metagraph(m: &Metagraph) -> Self {
        let peers = m
            .neurons
            .iter()
            .map(|n| {
                (
                    n.hotkey,
                    Peer {
                        uid: n.uid,
                        stake_rao: n.stake,
                        validator_permit: n.validator_permit,
                    },
                )
            })
            .collect();
        Self {
            block: m.block,
            peers,
        }
    }

    pub fn get(&self, hotkey: &[u8; 32]) -> Option<&Peer> {
        self.peers.get(hotkey)
    }
}

/// Where snapshots come from.
pub trait MetagraphSource: Send + Sync + 'static {
    /// The current block number, polled cheaply to decide when to refresh.
    fn block(&self) -> BoxFuture<'_, Result<u64, SourceError>>;
    /// A full snapshot.
    fn fetch(&self) -> BoxFuture<'_, Result<PeerTable, SourceError>>;
}

/// Reads the subnet from the chain.
pub struct ChainSource {
    client: ChainClient,
    netuid: u16,
}

impl ChainSource {
    pub fn new(client: ChainClient, netuid: u16) -> Self {
        Self { client, netuid }
    }
}

impl MetagraphSource for ChainSource {
    fn block(&self) -> BoxFuture<'_, Result<u64, SourceError>> {
        Box::pin(async move {
            self.client
                .block_number()
                .await
                .map_err(|e| SourceError(e.to_string()))
        })
    }

    fn fetch(&self) -> BoxFuture<'_, Result<PeerTable, SourceError>> {
        Box::pin(async move {
            self.client
                .metagraph(self.netuid)
                .await
                .map(|m| PeerTable::from_metagraph(&m))
                .map_err(|e| SourceError(e.to_string()))
        })
    }
}

/// A fixed table (tests, or a miner run without a chain).
pub struct StaticSource(pub PeerTable);

impl MetagraphSource for StaticSource {
    fn block(&self) -> BoxFuture<'_, Result<u64, SourceError>> {
        let b = self.0.block;
        Box::pin(async move { Ok(b) })
    }
    fn fetch(&self) -> BoxFuture<'_, Result<PeerTable, SourceError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
}

/// The latest snapshot, shared by request handlers and the refresher.
#[derive(Debug, Default)]
pub struct MetagraphView {
    table: RwLock<Option<Arc<PeerTable>>>,
    /// Failed chain reads so far (exported as `miner_chain_errors_total`).
    chain_errors: AtomicU64,
}

impl MetagraphView {
    /// A view with no snapshot yet: every caller is refused until one lands.
    pub fn empty() -> Self {
        Self::default()
    }

    pub fn with_table(table: PeerTable) -> Self {
        Self {
            table: RwLock::new(Some(Arc::new(table))),
            chain_errors: AtomicU64::new(0),
        }
    }

    pub fn note_chain_error(&self) {
        self.chain_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn chain_errors(&self) -> u64 {
        self.chain_errors.load(Ordering::Relaxed)
    }

    /// The latest snapshot, if any.
    pub fn snapshot(&self) -> Option<Arc<PeerTable>> {
        self.table.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, table: PeerTable) {
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(table));
    }
}

/// Loads one snapshot now, then refreshes the view whenever the chain has
/// advanced `every_blocks` blocks since the last one (checked every `poll`).
/// Failures are logged and retried; the old snapshot stays in use.
pub async fn refresh_loop(
    source: Arc<dyn MetagraphSource>,
    view: Arc<MetagraphView>,
    every_blocks: u64,
    poll: Duration,
) {
    let mut last_block: Option<u64> = view.snapshot().map(|t| t.block);
    loop {
        let due = match (source.block().await, last_block) {
            (Ok(now), Some(last)) => now >= last.saturating_add(every_blocks.max(1)),
            (Ok(_), None) => true,
            (Err(e), _) => {
                view.note_chain_error();
                tracing::warn!(error = %e, "cannot read the block number");
                false
            }
        };
        if due {
            match source.fetch().await {
                Ok(table) => {
                    tracing::debug!(
                        block = table.block,
                        neurons = table.peers.len(),
                        "metagraph refreshed"
                    );
                    last_block = Some(table.block);
                    view.set(table);
                }
                Err(e) => {
                    view.note_chain_error();
                    tracing::warn!(error = %e, "metagraph refresh failed; keeping the old view")
                }
            }
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chain that is down: every read fails.
    struct Down;

    impl MetagraphSource for Down {
        fn block(&self) -> BoxFuture<'_, Result<u64, SourceError>> {
            Box::pin(async { Err(SourceError("connection refused".into())) })
        }
        fn fetch(&self) -> BoxFuture<'_, Result<PeerTable, SourceError>> {
            Box::pin(async { Err(SourceError("connection refused".into())) })
        }
    }

    #[tokio::test]
    async fn failed_chain_reads_are_counted_and_the_old_view_kept() {
        let table = PeerTable {
            block: 7,
            peers: HashMap::new(),
        };
        let view = Arc::new(MetagraphView::with_table(table));
        let task = tokio::spawn(refresh_loop(
            Arc::new(Down),
            Arc::clone(&view),
            1,
            Duration::from_millis(5),
        ));
        for _ in 0..200 {
            if view.chain_errors() >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        task.abort();
        assert!(view.chain_errors() >= 3, "{}", view.chain_errors());
        assert_eq!(view.snapshot().unwrap().block, 7);
    }
}
