//! Prometheus metrics of the validator, rendered in the text exposition
//! format on `/metrics`. A handful of counters and one histogram do not need
//! a metrics framework: atomics and one small map are enough, and the format
//! is easy to check in a test.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Upper bounds of the request-latency histogram, in seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

#[derive(Default)]
pub struct Metrics {
    /// (outcome, reason) -> count; reason is "" for successes.
    requests: Mutex<BTreeMap<(String, String), u64>>,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    /// Sum in microseconds, to keep it an integer atomic.
    latency_sum_us: AtomicU64,
    proofs_verified: AtomicU64,
    proofs_failed: AtomicU64,
    /// kind (set / commit / reveal) -> count.
    weights: Mutex<BTreeMap<String, u64>>,
    chain_errors: AtomicU64,
    metagraph_block: AtomicU64,
    serving_miners: AtomicU64,
    /// Requests sent and not yet answered (the validator's queue depth).
    in_flight: AtomicU64,
}

/// Counts one request in flight until dropped.
pub struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// One finished request: `reason` is `None` for a success.
    pub fn request(&self, reason: Option<&str>, latency_s: Option<f64>) {
        let key = match reason {
            None => ("success".to_string(), String::new()),
            Some(r) => ("failure".to_string(), r.to_string()),
        };
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
        if let Some(s) = latency_s.filter(|s| s.is_finite() && *s >= 0.0) {
            for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                if s <= *bound {
                    self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            self.latency_count.fetch_add(1, Ordering::Relaxed);
            self.latency_sum_us
                .fetch_add((s * 1e6) as u64, Ordering::Relaxed);
        }
    }

    pub fn proof_verified(&self) {
        self.proofs_verified.fetch_add(1, Ordering::Relaxed);
    }

    pub fn proof_failed(&self) {
        self.proofs_failed.fetch_add(1, Ordering::Relaxed);
    }

    pub fn weights(&self, kind: &str) {
        *self
            .weights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// Marks a request as sent; it counts as in flight until the guard drops.
    pub fn request_started(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    pub fn chain_error(&self) {
        self.chain_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn metagraph(&self, block: u64, serving: usize) {
        self.metagraph_block.store(block, Ordering::Relaxed);
        self.serving_miners.store(serving as u64, Ordering::Relaxed);
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP validator_requests_total Challenge requests by outcome and failure reason."
        );
        let _ = writeln!(out, "# TYPE validator_requests_total counter");
        for ((outcome, reason), n) in self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "validator_requests_total{{outcome=\"{outcome}\",reason=\"{}\"}} {n}",
                escape(reason)
            );
        }
        let _ = writeln!(
            out,
            "# HELP validator_request_latency_seconds Send-to-answer time of answered requests."
        );
        let _ = writeln!(out, "# TYPE validator_request_latency_seconds histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "validator_request_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                self.latency_buckets[i].load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "validator_request_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "validator_request_latency_seconds_sum {}",
            self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "validator_request_latency_seconds_count {count}");
        counter(
            &mut out,
            "validator_proofs_verified_total",
            "Responses whose proofs verified.",
            self.proofs_verified.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "validator_proofs_failed_total",
            "Responses whose proofs were rejected.",
            self.proofs_failed.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP validator_weights_total Weight extrinsics included on chain, by kind."
        );
        let _ = writeln!(out, "# TYPE validator_weights_total counter");
        for (kind, n) in self
            .weights
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(out, "validator_weights_total{{kind=\"{kind}\"}} {n}");
        }
        counter(
            &mut out,
            "validator_chain_errors_total",
            "Failed chain reads and extrinsics.",
            self.chain_errors.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "validator_metagraph_block",
            "Block of the last metagraph sync.",
            self.metagraph_block.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "validator_serving_miners",
            "Miners with a served axon at the last sync.",
            self.serving_miners.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "validator_requests_in_flight",
            "Challenge requests sent and not yet answered.",
            self.in_flight.load(Ordering::Relaxed),
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    let _ = writeln!(out, "{name} {v}");
}

fn gauge(out: &mut String, name: &str, help: &str, v: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {v}");
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Serves `/metrics` on a bound listener until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<()> {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/metrics",
        get(move || {
            let m = Arc::clone(&metrics);
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    m.render(),
                )
            }
        }),
    );
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "serving /metrics");
    }
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.request(None, Some(0.03));
        m.request(None, Some(0.3));
        m.request(Some("timeout"), None);
        m.request(Some("invalid_proof"), Some(2.0));
        m.proof_verified();
        m.proof_verified();
        m.proof_failed();
        m.weights("set");
        m.chain_error();
        m.metagraph(120, 3);
        let a = m.request_started();
        let b = m.request_started();
        drop(a);
        let text = m.render();
        drop(b);
        assert!(m.render().contains("validator_requests_in_flight 0"));
        for line in [
            "validator_requests_total{outcome=\"success\",reason=\"\"} 2",
            "validator_requests_total{outcome=\"failure\",reason=\"timeout\"} 1",
            "validator_requests_total{outcome=\"failure\",reason=\"invalid_proof\"} 1",
            "validator_request_latency_seconds_bucket{le=\"0.025\"} 0",
            "validator_request_latency_seconds_bucket{le=\"0.05\"} 1",
            "validator_request_latency_seconds_bucket{le=\"0.5\"} 2",
            "validator_request_latency_seconds_bucket{le=\"2.5\"} 3",
            "validator_request_latency_seconds_bucket{le=\"+Inf\"} 3",
            "validator_request_latency_seconds_sum 2.33",
            "validator_request_latency_seconds_count 3",
            "validator_proofs_verified_total 2",
            "validator_proofs_failed_total 1",
            "validator_weights_total{kind=\"set\"} 1",
            "validator_chain_errors_total 1",
            "validator_metagraph_block 120",
            "validator_serving_miners 3",
            "validator_requests_in_flight 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing '{line}' in\n{text}"
            );
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
