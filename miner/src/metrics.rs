//! What the miner exposes about itself: Prometheus metrics on `/metrics`
//! for monitoring, and the counters behind the `/status` page.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// How a request ended, as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// 401: bad, missing, stale or replayed credentials.
    Unauthorized,
    /// 403: not registered, no permit, too little stake.
    Forbidden,
    /// 503: the worker pool is full.
    Busy,
    /// Any other 4xx: malformed body, unknown model, too large, late.
    ClientError,
    /// 5xx other than busy: proving or compiling failed.
    Error,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unauthorized => "401",
            Self::Forbidden => "403",
            Self::Busy => "503",
            Self::ClientError => "4xx",
            Self::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: String,
}

/// Per-model counters for `/status`.
#[derive(Clone, Debug, Default)]
pub struct ModelCounters {
    pub proofs_done: u64,
    pub failures: u64,
    pub total_prove_ms: u64,
}

/// All of the miner's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<OutcomeLabel, Counter>,
    proofs: Family<ResultLabel, Counter>,
    prove_seconds: Histogram,
    in_flight: Gauge,
    capacity: Gauge,
    models_loaded: Gauge,
    metagraph_block: Gauge,
    last_peak_memory: Gauge,
    chain_errors: Counter,
    /// Serializes [`Metrics::set_chain_errors`]' read-then-add.
    chain_errors_sync: Mutex<()>,
    rejected_busy: AtomicU64,
    per_model: Mutex<HashMap<String, ModelCounters>>,
}

impl Metrics {
    pub fn new(capacity: usize) -> Self {
        let mut registry = Registry::with_prefix("miner");
        let requests = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "requests",
            "Challenge requests by outcome (ok, 401, 403, 503, 4xx, error)",
            requests.clone(),
        );
        let proofs = Family::<ResultLabel, Counter>::default();
        registry.register(
            "proofs",
            "Proof jobs by result (done, failed)",
            proofs.clone(),
        );
        // 10 ms .. ~5.8 min in factors of 2.
        let prove_seconds = Histogram::new(exponential_buckets(0.01, 2.0, 16));
        registry.register(
            "prove_seconds",
            "Wall-clock time to prove one challenge",
            prove_seconds.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight",
            "Proof jobs running now (the queue depth: there is no waiting queue)",
            in_flight.clone(),
        );
        let cap = Gauge::default();
        cap.set(capacity as i64);
        registry.register(
            "pool_capacity",
            "Proof jobs that may run at once",
            cap.clone(),
        );
        let models_loaded = Gauge::default();
        registry.register(
            "models_loaded",
            "Models compiled and ready to prove",
            models_loaded.clone(),
        );
        let metagraph_block = Gauge::default();
        registry.register(
            "metagraph_block",
            "Block of the metagraph snapshot in use",
            metagraph_block.clone(),
        );
        let last_peak_memory = Gauge::default();
        registry.register(
            "last_peak_memory_bytes",
            "Peak resident memory measured during the last proof",
            last_peak_memory.clone(),
        );
        let chain_errors = Counter::default();
        registry.register(
            "chain_errors",
            "Failed chain reads (block number, metagraph)",
            chain_errors.clone(),
        );
        Self {
            registry,
            chain_errors,
            chain_errors_sync: Mutex::new(()),
            requests,
            proofs,
            prove_seconds,
            in_flight,
            capacity: cap,
            models_loaded,
            metagraph_block,
            last_peak_memory,
            rejected_busy: AtomicU64::new(0),
            per_model: Mutex::new(HashMap::new()),
        }
    }

    pub fn request(&self, outcome: Outcome) {
        self.requests
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label().to_string(),
            })
            .inc();
        if outcome == Outcome::Busy {
            self.rejected_busy.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests seen with `outcome` so far.
    pub fn requests_with(&self, outcome: Outcome) -> u64 {
        self.requests
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label().to_string(),
            })
            .get()
    }

    pub fn proof_done(&self, model: &str, prove_ms: u64, peak_memory: u64) {
        self.proofs
            .get_or_create(&ResultLabel {
                result: "done".into(),
            })
            .inc();
        self.prove_seconds.observe(prove_ms as f64 / 1000.0);
        self.last_peak_memory.set(peak_memory as i64);
        let mut m = self.per_model.lock().unwrap_or_else(|e| e.into_inner());
        let c = m.entry(model.to_string()).or_default();
        c.proofs_done += 1;
        c.total_prove_ms += prove_ms;
    }

    pub fn proof_failed(&self, model: &str) {
        self.proofs
            .get_or_create(&ResultLabel {
                result: "failed".into(),
            })
            .inc();
        let mut m = self.per_model.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(model.to_string()).or_default().failures += 1;
    }

    pub fn set_in_flight(&self, n: usize) {
        self.in_flight.set(n as i64);
    }

    pub fn set_models_loaded(&self, n: usize) {
        self.models_loaded.set(n as i64);
    }

    pub fn set_metagraph_block(&self, block: u64) {
        self.metagraph_block.set(block as i64);
    }

    /// Brings the chain error counter up to `total`, the count kept by the
    /// metagraph refresher (which runs without access to the metrics).
    pub fn set_chain_errors(&self, total: u64) {
        let _guard = self
            .chain_errors_sync
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let seen = self.chain_errors.get();
        if total > seen {
            self.chain_errors.inc_by(total - seen);
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity.get().max(0) as usize
    }

    pub fn rejected_busy(&self) -> u64 {
        self.rejected_busy.load(Ordering::Relaxed)
    }

    /// Counters of one model (by hex id).
    pub fn model(&self, id_hex: &str) -> ModelCounters {
        self.per_model
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id_hex)
            .cloned()
            .unwrap_or_default()
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_errors_follow_the_refresher_count() {
        let m = Metrics::new(2);
        m.set_chain_errors(3);
        m.set_chain_errors(2); // a stale, lower total never lowers a counter
        m.set_chain_errors(5);
        let text = m.encode();
        assert!(text.contains("miner_chain_errors_total 5"), "{text}");
    }
}
