//! Where the dashboard's data comes from. The dashboard never owns the
//! validator's state: it asks a [`DashboardSource`] on each request, so the
//! validator keeps a single source of truth (its SQLite history) and the
//! dashboard can be tested against recorded results without a validator.

use crate::api::{ChainStatus, ChallengeRow, MinerHistory, MinerRow, WeightsRow};

/// A failure inside a source (a database error, a poisoned lock). The page
/// shows the message, so it should say what failed, not leak secrets.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    message: String,
}

impl SourceError {
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}

/// The validator-side data the dashboard shows.
///
/// The methods are synchronous because the validator's store is (rusqlite);
/// the router calls them on tokio's blocking pool, so a slow query never
/// stalls the async runtime. Limits are already clamped by the router.
pub trait DashboardSource: Send + Sync + 'static {
    /// All miners the validator knows, in any order (the page sorts).
    fn miners(&self) -> Result<Vec<MinerRow>, SourceError>;

    /// The newest `limit` history points of one miner, oldest first;
    /// `Ok(None)` when the uid is unknown.
    fn miner_history(&self, uid: u16, limit: usize) -> Result<Option<MinerHistory>, SourceError>;

    /// The newest `limit` challenges, newest first.
    fn recent_challenges(&self, limit: usize) -> Result<Vec<ChallengeRow>, SourceError>;

    /// The newest `limit` weight extrinsics, newest first.
    fn weights_history(&self, limit: usize) -> Result<Vec<WeightsRow>, SourceError>;

    fn chain_status(&self) -> Result<ChainStatus, SourceError>;
}
