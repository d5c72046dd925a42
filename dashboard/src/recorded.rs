//! A [`DashboardSource`] over raw challenge results held in memory, and the
//! aggregation (validity rate, latency percentiles, weight shares) that turns
//! results into table rows.
//!
//! It exists so the dashboard can be run and tested on recorded results
//! without a validator, and so that a store which keeps only raw per-request
//! rows can reuse the same aggregation instead of re-deriving it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::api::{ChainStatus, ChallengeRow, HistoryPoint, MinerHistory, MinerRow, WeightsRow};
use crate::source::{DashboardSource, SourceError};

/// One scored challenge result, as a validator records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRecord {
    pub time_ms: i64,
    pub model: String,
    pub uid: u16,
    pub hotkey: String,
    pub success: bool,
    pub outcome: String,
    pub latency_ms: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
    pub proof_size_bytes: Option<u64>,
    pub failure_reason: Option<String>,
    /// The miner's score after this result was applied.
    pub score_after: f64,
}

/// Everything a validator run leaves behind that the dashboard shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub chain: ChainStatus,
    /// In time order, oldest first.
    pub challenges: Vec<ChallengeRecord>,
    /// In block order, oldest first.
    pub weights: Vec<WeightsRow>,
}

/// Nearest-rank percentile (`p` in 0..=1) of an ascending slice: always one
/// of the observed values, which is what an operator expects to read.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// Each uid's share of the newest weights that carry values. A commit
/// carries only a hash, so the newest `set_weights`/`reveal_weights` counts.
pub fn weight_shares<'a>(weights: impl IntoIterator<Item = &'a WeightsRow>) -> BTreeMap<u16, f64> {
    let latest = weights
        .into_iter()
        .filter(|w| !w.uids.is_empty() && w.uids.len() == w.weights.len())
        .max_by_key(|w| w.block);
    let mut shares = BTreeMap::new();
    if let Some(latest) = latest {
        let total: u64 = latest.weights.iter().map(|&w| u64::from(w)).sum();
        if total > 0 {
            for (&uid, &w) in latest.uids.iter().zip(&latest.weights) {
                *shares.entry(uid).or_insert(0.0) += f64::from(w) / total as f64;
            }
        }
    }
    shares
}

/// One miner's row from its results (any order) and its weight share.
pub fn summarize(uid: u16, results: &[&ChallengeRecord], weight: Option<f64>) -> Option<MinerRow> {
    let latest = results.iter().max_by_key(|r| r.time_ms)?;
    let mut latencies: Vec<f64> = results
        .iter()
        .filter(|r| r.success)
        .filter_map(|r| r.latency_ms)
        .filter(|l| l.is_finite())
        .collect();
    latencies.sort_by(f64::total_cmp);
    // Medians, as the validator's store reports them: one odd answer does
    // not swing the column.
    let median_of = |field: fn(&ChallengeRecord) -> Option<u64>| {
        let mut values: Vec<u64> = results
            .iter()
            .filter(|r| r.success)
            .filter_map(|r| field(r))
            .collect();
        values.sort_unstable();
        let rank = values.len().div_ceil(2);
        values.get(rank.saturating_sub(1)).copied()
    };
    let successes = results.iter().filter(|r| r.success).count();
    Some(MinerRow {
        uid,
        hotkey: latest.hotkey.clone(),
        score: latest.score_after,
        validity_rate: successes as f64 / results.len() as f64,
        challenges: results.len() as u64,
        median_latency_ms: percentile(&latencies, 0.5),
        p95_latency_ms: percentile(&latencies, 0.95),
        peak_memory_bytes: median_of(|r| r.peak_memory_bytes),
        proof_size_bytes: median_of(|r| r.proof_size_bytes),
        last_seen_ms: Some(latest.time_ms),
        weight,
    })
}

/// Bound on results kept in memory, so a long-running feeder cannot grow
/// without limit; the oldest are dropped first.
pub const MAX_RECORDS: usize = 100_000;

/// An in-memory [`DashboardSource`]. Feed it a [`Recording`] and, while it
/// serves, append results and weights as they happen.
pub struct RecordedSource {
    inner: RwLock<Inner>,
}

struct Inner {
    chain: ChainStatus,
    challenges: VecDeque<ChallengeRecord>,
    weights: VecDeque<WeightsRow>,
}

impl RecordedSource {
    pub fn new(recording: Recording) -> Self {
        let mut inner = Inner {
            chain: recording.chain,
            challenges: VecDeque::new(),
            weights: VecDeque::new(),
        };
        for record in recording.challenges {
            inner.push_challenge(record);
        }
        for row in recording.weights {
            inner.push_weights(row);
        }
        Self {
            inner: RwLock::new(inner),
        }
    }

    pub fn push_challenge(&self, record: ChallengeRecord) -> Result<(), SourceError> {
        self.write()?.push_challenge(record);
        Ok(())
    }

    pub fn push_weights(&self, row: WeightsRow) -> Result<(), SourceError> {
        self.write()?.push_weights(row);
        Ok(())
    }

    pub fn set_chain(&self, chain: ChainStatus) -> Result<(), SourceError> {
        self.write()?.chain = chain;
        Ok(())
    }

    fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, Inner>, SourceError> {
        self.inner
            .read()
            .map_err(|_| SourceError::new("recorded source lock poisoned"))
    }

    fn write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Inner>, SourceError> {
        self.inner
            .write()
            .map_err(|_| SourceError::new("recorded source lock poisoned"))
    }
}

impl Inner {
    fn push_challenge(&mut self, record: ChallengeRecord) {
        if self.challenges.len() == MAX_RECORDS {
            self.challenges.pop_front();
        }
        self.challenges.push_back(record);
    }

    fn push_weights(&mut self, row: WeightsRow) {
        if self.weights.len() == MAX_RECORDS {
            self.weights.pop_front();
        }
        self.weights.push_back(row);
    }
}

impl DashboardSource for RecordedSource {
    fn miners(&self) -> Result<Vec<MinerRow>, SourceError> {
        let inner = self.read()?;
        let shares = weight_shares(&inner.weights);
        let mut by_uid: BTreeMap<u16, Vec<&ChallengeRecord>> = BTreeMap::new();
        for record in &inner.challenges {
            by_uid.entry(record.uid).or_default().push(record);
        }
        Ok(by_uid
            .iter()
            .filter_map(|(&uid, results)| summarize(uid, results, shares.get(&uid).copied()))
            .collect())
    }

    fn miner_history(&self, uid: u16, limit: usize) -> Result<Option<MinerHistory>, SourceError> {
        let inner = self.read()?;
        let mut mine: Vec<&ChallengeRecord> =
            inner.challenges.iter().filter(|r| r.uid == uid).collect();
        let Some(latest) = mine.iter().max_by_key(|r| r.time_ms) else {
            return Ok(None);
        };
        let hotkey = latest.hotkey.clone();
        mine.sort_by_key(|r| r.time_ms);
        let skip = mine.len().saturating_sub(limit);
        let points = mine[skip..]
            .iter()
            .map(|r| HistoryPoint {
                time_ms: r.time_ms,
                score: r.score_after,
                success: r.success,
                latency_ms: r.latency_ms.filter(|_| r.success),
                peak_memory_bytes: r.peak_memory_bytes.filter(|_| r.success),
            })
            .collect();
        Ok(Some(MinerHistory {
            uid,
            hotkey,
            points,
        }))
    }

    fn recent_challenges(&self, limit: usize) -> Result<Vec<ChallengeRow>, SourceError> {
        let inner = self.read()?;
        let mut rows: Vec<&ChallengeRecord> = inner.challenges.iter().collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.time_ms));
        Ok(rows
            .into_iter()
            .take(limit)
            .map(|r| ChallengeRow {
                time_ms: r.time_ms,
                model: r.model.clone(),
                uid: r.uid,
                hotkey: r.hotkey.clone(),
                success: r.success,
                outcome: r.outcome.clone(),
                latency_ms: r.latency_ms,
                failure_reason: r.failure_reason.clone(),
            })
            .collect())
    }

    fn weights_history(&self, limit: usize) -> Result<Vec<WeightsRow>, SourceError> {
        let inner = self.read()?;
        let mut rows: Vec<&WeightsRow> = inner.weights.iter().collect();
        rows.sort_by_key(|w| std::cmp::Reverse(w.block));
        Ok(rows.into_iter().take(limit).cloned().collect())
    }

    fn chain_status(&self) -> Result<ChainStatus, SourceError> {
        Ok(self.read()?.chain.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(10.0));
        assert_eq!(percentile(&v, 0.95), Some(19.0));
        assert_eq!(percentile(&v, 1.0), Some(20.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 0.95), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn shares_come_from_newest_weights_with_values() {
        let row = |block, method: &str, uids: Vec<u16>, weights: Vec<u16>| WeightsRow {
            block,
            time_ms: block as i64 * 250,
            method: method.into(),
            uids,
            weights,
            tx: None,
        };
        let history = vec![
            row(10, "set_weights", vec![0, 1], vec![65535, 0]),
            row(20, "set_weights", vec![0, 1, 2], vec![65535, 21845, 0]),
            row(30, "commit_weights", vec![], vec![]),
        ];
        let shares = weight_shares(&history);
        assert!((shares[&0] - 0.75).abs() < 1e-12);
        assert!((shares[&1] - 0.25).abs() < 1e-12);
        assert_eq!(shares[&2], 0.0);
        assert!(weight_shares(&history[2..]).is_empty());
    }
}
