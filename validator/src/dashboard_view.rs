//! The dashboard's window onto the validator: its rows come from the SQLite
//! history (the single source of truth, so a restarted validator shows its
//! whole past) and its chain panel from the running service.
//!
//! The mapping lives here rather than in the store so the store keeps no
//! dependency on the page's JSON shapes, and the dashboard crate keeps none
//! on the validator.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use dashboard::{
    ChainStatus, ChallengeRow, DashboardSource, HistoryPoint, MinerHistory, MinerRow, SourceError,
    WeightsRow,
};

use crate::service::Validator;
use crate::store::{ChallengeSummary, MinerSummary, RequestRecord, Store, WeightsRecord};
use crate::weights;

/// A [`DashboardSource`] over the validator's store and, while it runs, the
/// validator itself (for the chain status).
pub struct DashboardView {
    store: Arc<Store>,
    /// Weak, so the dashboard task never keeps a stopped validator alive.
    validator: Option<Weak<Validator>>,
    /// Shown when no validator is attached (an offline view of a database).
    endpoint: String,
    netuid: u16,
}

impl DashboardView {
    /// A view of the running validator `v`.
    pub fn new(store: Arc<Store>, v: &Arc<Validator>) -> Self {
        Self {
            store,
            endpoint: v.endpoint.clone(),
            netuid: v.cfg.netuid,
            validator: Some(Arc::downgrade(v)),
        }
    }

    /// A view of a database alone: the chain panel says "not connected".
    pub fn offline(store: Arc<Store>, endpoint: impl Into<String>, netuid: u16) -> Self {
        Self {
            store,
            validator: None,
            endpoint: endpoint.into(),
            netuid,
        }
    }
}

fn source_err(e: crate::store::StoreError) -> SourceError {
    SourceError::new(e)
}

fn miner_row(m: MinerSummary) -> MinerRow {
    MinerRow {
        uid: m.uid,
        hotkey: m.hotkey,
        score: m.score,
        validity_rate: m.validity_rate.unwrap_or(0.0),
        challenges: m.successes + m.failures,
        median_latency_ms: m.latency_median_ms.map(|v| v as f64),
        p95_latency_ms: m.latency_p95_ms.map(|v| v as f64),
        peak_memory_bytes: m.memory_median_bytes,
        proof_size_bytes: m.proof_bytes_median,
        last_seen_ms: Some(m.last_seen_ms),
        weight: (m.weight > 0).then_some(m.weight_share),
    }
}

/// `failure_reason` carries the human detail when there is one, else the
/// machine class, so the log always says something for a failure.
fn challenge_rows(c: ChallengeSummary) -> impl Iterator<Item = ChallengeRow> {
    let sliced = c.requests.len() > 1;
    c.requests.into_iter().map(move |r: RequestRecord| {
        let model = if sliced {
            format!(
                "{} (slices {}..={})",
                r.model_name, r.first_slice, r.last_slice
            )
        } else {
            r.model_name.clone()
        };
        ChallengeRow {
            time_ms: r.ts_ms,
            model,
            uid: r.uid,
            hotkey: r.hotkey,
            success: r.success,
            outcome: if r.success {
                "verified".to_string()
            } else {
                r.reason.clone().unwrap_or_else(|| "failed".to_string())
            },
            latency_ms: r.latency_ms.map(|v| v as f64),
            failure_reason: if r.success {
                None
            } else {
                r.detail.or(r.reason)
            },
        }
    })
}

fn weights_row(w: WeightsRecord) -> WeightsRow {
    WeightsRow {
        block: w.block,
        time_ms: w.ts_ms,
        method: format!("{}_weights", w.kind),
        uids: w.uids,
        weights: w.values,
        tx: (!w.tx_hash.is_empty()).then_some(w.tx_hash),
    }
}

impl DashboardSource for DashboardView {
    fn miners(&self) -> Result<Vec<MinerRow>, SourceError> {
        Ok(self
            .store
            .miners()
            .map_err(source_err)?
            .into_iter()
            .map(miner_row)
            .collect())
    }

    fn miner_history(&self, uid: u16, limit: usize) -> Result<Option<MinerHistory>, SourceError> {
        let rows = self.store.miner_history(uid, limit).map_err(source_err)?;
        // A uid that changed hands is a new miner: show only the current
        // hotkey's points (rows come newest first).
        let Some(hotkey) = rows.first().map(|r| r.hotkey.clone()) else {
            let known = self
                .store
                .scores()
                .map_err(source_err)?
                .into_iter()
                .find(|s| s.uid == uid);
            return Ok(known.map(|s| MinerHistory {
                uid,
                hotkey: s.hotkey,
                points: Vec::new(),
            }));
        };
        let mut points: Vec<HistoryPoint> = rows
            .into_iter()
            .filter(|r| r.hotkey == hotkey)
            .map(|r| HistoryPoint {
                time_ms: r.ts_ms,
                score: r.score_after,
                success: r.success,
                latency_ms: r.latency_ms.filter(|_| r.success).map(|v| v as f64),
                peak_memory_bytes: r.memory_bytes.filter(|_| r.success),
            })
            .collect();
        points.reverse();
        Ok(Some(MinerHistory {
            uid,
            hotkey,
            points,
        }))
    }

    fn recent_challenges(&self, limit: usize) -> Result<Vec<ChallengeRow>, SourceError> {
        // One challenge has at least one request, so `limit` challenges
        // always cover `limit` rows.
        Ok(self
            .store
            .recent_challenges(limit)
            .map_err(source_err)?
            .into_iter()
            .flat_map(challenge_rows)
            .take(limit)
            .collect())
    }

    fn weights_history(&self, limit: usize) -> Result<Vec<WeightsRow>, SourceError> {
        Ok(self
            .store
            .weights_history(limit)
            .map_err(source_err)?
            .into_iter()
            .map(weights_row)
            .collect())
    }

    fn chain_status(&self) -> Result<ChainStatus, SourceError> {
        let Some(v) = self.validator.as_ref().and_then(Weak::upgrade) else {
            return Ok(ChainStatus {
                endpoint: self.endpoint.clone(),
                connected: false,
                netuid: self.netuid,
                best_block: None,
                tempo: None,
                next_weights_block: None,
                validator_hotkey: None,
                validator_uid: None,
            });
        };
        let m = v.metagraph();
        let own = v.own_uid(&m);
        let next = own.map(|uid| {
            weights::next_weights_block(
                v.last_weights_update(&m, uid),
                v.cfg.weights.interval_blocks,
                m.weights_set_rate_limit,
            )
        });
        Ok(ChainStatus {
            endpoint: self.endpoint.clone(),
            connected: v.chain_ok.load(Ordering::Relaxed),
            netuid: self.netuid,
            best_block: Some(v.best_block.load(Ordering::Relaxed).max(m.block)),
            tempo: Some(m.tempo),
            next_weights_block: next,
            validator_hotkey: Some(v.hotkey_ss58.clone()),
            validator_uid: own,
        })
    }
}
