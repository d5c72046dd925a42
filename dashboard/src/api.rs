//! The JSON API's row types. They are the contract between the validator's
//! history store (through [`crate::DashboardSource`]) and the page's script,
//! so they live in one place and are documented field by field; the README's
//! "Validator dashboard" section describes the same shapes.
//!
//! Times are Unix milliseconds (what JavaScript's `Date` takes), latencies are
//! milliseconds, sizes are bytes.

use serde::{Deserialize, Serialize};

/// One row of the miners table: a miner's standing as the validator sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerRow {
    pub uid: u16,
    /// ss58 address of the miner's hotkey.
    pub hotkey: String,
    /// The validator's current score for this miner (its EMA).
    pub score: f64,
    /// Challenges answered with a verified proof, over all challenges sent.
    pub validity_rate: f64,
    /// Number of challenges the rates and percentiles are computed over.
    pub challenges: u64,
    /// Median latency of verified answers; `None` before the first success.
    pub median_latency_ms: Option<f64>,
    /// 95th percentile latency of verified answers.
    pub p95_latency_ms: Option<f64>,
    /// Median of the peak memory the miner reported on verified answers.
    pub peak_memory_bytes: Option<u64>,
    /// Median proof size of verified answers.
    pub proof_size_bytes: Option<u64>,
    /// Time of the latest answer of any outcome.
    pub last_seen_ms: Option<i64>,
    /// This miner's share of the latest weights the validator set on chain
    /// (0..=1); `None` when no weights were set yet or it got none.
    pub weight: Option<f64>,
}

/// One point of a miner's history chart: the state after one challenge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    pub time_ms: i64,
    /// Score after this challenge was scored.
    pub score: f64,
    /// Whether the answer verified; failed points carry no latency/memory.
    pub success: bool,
    pub latency_ms: Option<f64>,
    pub peak_memory_bytes: Option<u64>,
}

/// A miner's history, oldest point first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerHistory {
    pub uid: u16,
    pub hotkey: String,
    pub points: Vec<HistoryPoint>,
}

/// One entry of the recent challenges log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRow {
    pub time_ms: i64,
    /// Human-readable model name (falls back to the registry id).
    pub model: String,
    pub uid: u16,
    pub hotkey: String,
    /// Whether the answer verified.
    pub success: bool,
    /// Short outcome label, e.g. `verified`, `invalid_proof`, `timeout`,
    /// `malformed`, `busy`, `unreachable`; the page shows it as is.
    pub outcome: String,
    /// Round-trip time; `None` when no answer arrived.
    pub latency_ms: Option<f64>,
    /// Why it failed, for failures.
    pub failure_reason: Option<String>,
}

/// One weight-setting extrinsic the validator submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeightsRow {
    /// Block the extrinsic was included in.
    pub block: u64,
    pub time_ms: i64,
    /// `set_weights`, `commit_weights` or `reveal_weights`.
    pub method: String,
    pub uids: Vec<u16>,
    /// u16 weights as sent (max-upscaled to 65535 on chain).
    pub weights: Vec<u16>,
    /// Extrinsic hash, 0x-hex, when known.
    pub tx: Option<String>,
}

/// The validator's view of the chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainStatus {
    /// Chain RPC endpoint the validator talks to.
    pub endpoint: String,
    /// Whether the last chain call succeeded.
    pub connected: bool,
    pub netuid: u16,
    pub best_block: Option<u64>,
    pub tempo: Option<u16>,
    /// First block at which the chain's rate limit lets the validator set
    /// weights again.
    pub next_weights_block: Option<u64>,
    /// The validator's own hotkey and uid, when registered.
    pub validator_hotkey: Option<String>,
    pub validator_uid: Option<u16>,
}

/// What the live-update stream pushes: everything the page shows except the
/// per-miner history, which the page fetches for the selected miner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub chain: ChainStatus,
    pub miners: Vec<MinerRow>,
    pub challenges: Vec<ChallengeRow>,
    pub weights: Vec<WeightsRow>,
}

/// Body of every error response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}
