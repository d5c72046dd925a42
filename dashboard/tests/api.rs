//! The JSON API against a recorded validator run: every endpoint's rows are
//! checked against the raw results they were aggregated from.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use common::{app, body_bytes, get, get_json, recording, send};
use dashboard::{
    ChainStatus, ChallengeRecord, ChallengeRow, DashboardConfig, DashboardSource, ErrorBody,
    MinerHistory, MinerRow, Snapshot, SourceError, WeightsRow,
};
use futures::StreamExt;

fn results_of(uid: u16) -> Vec<ChallengeRecord> {
    recording()
        .challenges
        .into_iter()
        .filter(|r| r.uid == uid)
        .collect()
}

/// Independent oracle: sort, then take the value at rank ceil(p * n).
fn nearest_rank(mut values: Vec<f64>, p: f64) -> Option<f64> {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = values.len();
    (n > 0).then(|| values[((p * n as f64).ceil() as usize).max(1) - 1])
}

#[tokio::test]
async fn miners_rows_aggregate_the_recorded_results() {
    let (_, router) = app(DashboardConfig::default());
    let rows: Vec<MinerRow> = get_json(&router, "/api/miners").await;
    let recording = recording();
    let mut uids: Vec<u16> = recording.challenges.iter().map(|r| r.uid).collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(rows.iter().map(|r| r.uid).collect::<Vec<_>>(), uids);

    let latest_weights = recording.weights.iter().max_by_key(|w| w.block).unwrap();
    let weight_total: f64 = latest_weights.weights.iter().map(|&w| f64::from(w)).sum();
    for row in &rows {
        let results = results_of(row.uid);
        let ok: Vec<&ChallengeRecord> = results.iter().filter(|r| r.success).collect();
        let last = results.iter().max_by_key(|r| r.time_ms).unwrap();
        assert_eq!(row.hotkey, last.hotkey);
        assert_eq!(row.challenges, results.len() as u64);
        assert_eq!(row.score, last.score_after);
        assert_eq!(row.last_seen_ms, Some(last.time_ms));
        assert!((row.validity_rate - ok.len() as f64 / results.len() as f64).abs() < 1e-12);
        let latencies: Vec<f64> = ok.iter().filter_map(|r| r.latency_ms).collect();
        assert_eq!(row.median_latency_ms, nearest_rank(latencies.clone(), 0.5));
        assert_eq!(row.p95_latency_ms, nearest_rank(latencies, 0.95));
        let memory: Vec<f64> = ok
            .iter()
            .filter_map(|r| r.peak_memory_bytes)
            .map(|b| b as f64)
            .collect();
        let sizes: Vec<f64> = ok
            .iter()
            .filter_map(|r| r.proof_size_bytes)
            .map(|b| b as f64)
            .collect();
        assert_eq!(
            row.peak_memory_bytes.map(|b| b as f64),
            nearest_rank(memory, 0.5)
        );
        assert_eq!(
            row.proof_size_bytes.map(|b| b as f64),
            nearest_rank(sizes, 0.5)
        );
        let i = latest_weights
            .uids
            .iter()
            .position(|&u| u == row.uid)
            .unwrap();
        let share = f64::from(latest_weights.weights[i]) / weight_total;
        assert!((row.weight.unwrap() - share).abs() < 1e-12);
    }

    // What an operator should read off the table for this run.
    let by_uid = |uid| rows.iter().find(|r| r.uid == uid).unwrap();
    let (fast, slow, cheat, flaky) = (by_uid(1), by_uid(2), by_uid(3), by_uid(4));
    assert_eq!(cheat.validity_rate, 0.0);
    assert_eq!(cheat.median_latency_ms, None);
    assert_eq!(cheat.peak_memory_bytes, None);
    assert_eq!(cheat.weight, Some(0.0));
    assert!(fast.median_latency_ms < slow.median_latency_ms);
    assert!(fast.score > slow.score && fast.score > flaky.score);
    assert!(flaky.validity_rate > 0.0 && flaky.validity_rate < 1.0);
    assert!(fast.weight > slow.weight);
}

#[tokio::test]
async fn history_is_oldest_first_and_limited() {
    let (_, router) = app(DashboardConfig::default());
    let results = results_of(4);
    let history: MinerHistory = get_json(&router, "/api/miners/4/history?limit=10").await;
    assert_eq!(history.uid, 4);
    assert_eq!(history.points.len(), 10);
    let tail = &results[results.len() - 10..];
    for (point, record) in history.points.iter().zip(tail) {
        assert_eq!(point.time_ms, record.time_ms);
        assert_eq!(point.score, record.score_after);
        assert_eq!(point.success, record.success);
        // Failed answers carry no latency or memory to chart.
        if record.success {
            assert_eq!(point.latency_ms, record.latency_ms);
            assert_eq!(point.peak_memory_bytes, record.peak_memory_bytes);
        } else {
            assert_eq!(point.latency_ms, None);
            assert_eq!(point.peak_memory_bytes, None);
        }
    }
    let full: MinerHistory = get_json(&router, "/api/miners/4/history").await;
    assert_eq!(full.points.len(), results.len());
    assert!(full.points.windows(2).all(|w| w[0].time_ms <= w[1].time_ms));
}

#[tokio::test]
async fn bad_history_requests_get_clear_errors() {
    let (_, router) = app(DashboardConfig::default());
    let response = send(&router, get("/api/miners/77/history")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error: ErrorBody = serde_json::from_slice(&body_bytes(response).await).unwrap();
    assert!(error.error.contains("77"), "{}", error.error);
    for uri in [
        "/api/miners/abc/history",
        "/api/miners/70000/history",
        "/api/miners/1/history?limit=-3",
        "/api/challenges?limit=lots",
    ] {
        let response = send(&router, get(uri)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{uri}");
    }
    let response = send(&router, get("/api/nope")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn challenges_are_newest_first_with_clamped_limits() {
    let (_, router) = app(DashboardConfig::default());
    let mut records = recording().challenges;
    records.sort_by_key(|r| std::cmp::Reverse(r.time_ms));
    let rows: Vec<ChallengeRow> = get_json(&router, "/api/challenges?limit=7").await;
    assert_eq!(rows.len(), 7);
    for (row, record) in rows.iter().zip(&records) {
        assert_eq!(row.time_ms, record.time_ms);
        assert_eq!(row.model, record.model);
        assert_eq!((row.uid, &row.hotkey), (record.uid, &record.hotkey));
        assert_eq!(row.success, record.success);
        assert_eq!(row.outcome, record.outcome);
        assert_eq!(row.latency_ms, record.latency_ms);
        assert_eq!(row.failure_reason, record.failure_reason);
    }
    let one: Vec<ChallengeRow> = get_json(&router, "/api/challenges?limit=0").await;
    assert_eq!(one.len(), 1);
    let all: Vec<ChallengeRow> = get_json(&router, "/api/challenges?limit=999999").await;
    assert_eq!(all.len(), records.len().min(dashboard::MAX_CHALLENGES));
    let failures: Vec<&ChallengeRow> = all.iter().filter(|r| !r.success).collect();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|r| r.failure_reason.is_some()));
}

#[tokio::test]
async fn weights_and_chain_status() {
    let (_, router) = app(DashboardConfig::default());
    let recording = recording();
    let rows: Vec<WeightsRow> = get_json(&router, "/api/weights").await;
    let mut expected = recording.weights.clone();
    expected.reverse();
    assert_eq!(rows, expected);
    let two: Vec<WeightsRow> = get_json(&router, "/api/weights?limit=2").await;
    assert_eq!(two, expected[..2]);
    let chain: ChainStatus = get_json(&router, "/api/chain").await;
    assert_eq!(chain, recording.chain);
}

#[tokio::test]
async fn snapshot_matches_the_separate_endpoints() {
    let (_, router) = app(DashboardConfig::default());
    let snapshot: Snapshot = get_json(&router, "/api/snapshot").await;
    let miners: Vec<MinerRow> = get_json(&router, "/api/miners").await;
    let challenges: Vec<ChallengeRow> = get_json(&router, "/api/challenges?limit=50").await;
    let weights: Vec<WeightsRow> = get_json(&router, "/api/weights?limit=20").await;
    assert_eq!(snapshot.miners, miners);
    assert_eq!(snapshot.challenges, challenges);
    assert_eq!(snapshot.weights, weights);
}

/// Reads SSE frames until one complete event (ends with a blank line).
async fn next_event(
    stream: &mut (impl futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin),
) -> (String, String) {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("stream open")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        if text.ends_with("\n\n") {
            if text.starts_with(':') {
                // keep-alive comment
                text.clear();
                continue;
            }
            break;
        }
    }
    let mut event = String::new();
    let mut data = String::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event: ") {
            event = v.to_string();
        } else if let Some(v) = line.strip_prefix("data: ") {
            data.push_str(v);
        }
    }
    (event, data)
}

#[tokio::test]
async fn event_stream_pushes_new_results() {
    let cfg = DashboardConfig {
        refresh: Duration::from_millis(100),
        ..DashboardConfig::default()
    };
    let (source, router) = app(cfg);
    let response = send(&router, get("/api/events")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut stream = response.into_body().into_data_stream();
    let (event, data) = next_event(&mut stream).await;
    assert_eq!(event, "snapshot");
    let first: Snapshot = serde_json::from_str(&data).unwrap();
    assert_eq!(first.chain, recording().chain);

    // A new result arrives at the validator: the next event carries it.
    let mut record = recording().challenges.pop().unwrap();
    record.time_ms += 10_000;
    record.uid = 9;
    record.hotkey = "5EYCAe5ijiYfyeZ2JJCGq56LmPyNRAKzpG4QkoQkkQNB5e6Z".into();
    source.push_challenge(record.clone()).unwrap();
    let (event, data) = next_event(&mut stream).await;
    assert_eq!(event, "snapshot");
    let second: Snapshot = serde_json::from_str(&data).unwrap();
    assert_eq!(second.challenges[0].hotkey, record.hotkey);
    assert!(second.miners.iter().any(|m| m.uid == 9));
}

struct Broken;

impl DashboardSource for Broken {
    fn miners(&self) -> Result<Vec<MinerRow>, SourceError> {
        Err(SourceError::new("database is locked"))
    }
    fn miner_history(&self, _: u16, _: usize) -> Result<Option<MinerHistory>, SourceError> {
        Err(SourceError::new("database is locked"))
    }
    fn recent_challenges(&self, _: usize) -> Result<Vec<ChallengeRow>, SourceError> {
        Err(SourceError::new("database is locked"))
    }
    fn weights_history(&self, _: usize) -> Result<Vec<WeightsRow>, SourceError> {
        Err(SourceError::new("database is locked"))
    }
    fn chain_status(&self) -> Result<ChainStatus, SourceError> {
        Err(SourceError::new("database is locked"))
    }
}

#[tokio::test]
async fn source_failures_become_500_with_the_reason() {
    let router = dashboard::router(Arc::new(Broken), DashboardConfig::default());
    for uri in [
        "/api/miners",
        "/api/chain",
        "/api/snapshot",
        "/api/miners/1/history",
    ] {
        let response = send(&router, get(uri)).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{uri}"
        );
        let error: ErrorBody = serde_json::from_slice(&body_bytes(response).await).unwrap();
        assert_eq!(error.error, "database is locked");
    }
    let response = send(&router, get("/api/events")).await;
    let mut stream = response.into_body().into_data_stream();
    let (event, data) = next_event(&mut stream).await;
    assert_eq!(
        (event.as_str(), data.as_str()),
        ("source_error", "database is locked")
    );
}

#[tokio::test]
async fn page_and_assets_are_embedded_and_self_contained() {
    let (_, router) = app(DashboardConfig::default());
    for (uri, kind) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/app.css", "text/css"),
    ] {
        let response = send(&router, get(uri)).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let headers = response.headers().clone();
        assert!(headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with(kind));
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let text = String::from_utf8(body_bytes(response).await).unwrap();
        // Nothing may load from another origin: the only absolute URL is the
        // SVG namespace, which is a name, not a fetch.
        let external = text
            .match_indices("http")
            .map(|(i, _)| &text[i..(i + 40).min(text.len())])
            .filter(|s| s.starts_with("http:") || s.starts_with("https:"))
            .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
            .count();
        assert_eq!(external, 0, "{uri} references another origin");
        assert!(
            !text.contains("@import") && !text.contains("//fonts."),
            "{uri}"
        );
    }
}
