//! The dashboard's JSON API served by the validator's own view of its
//! database, fed with a recorded run: every request and weights extrinsic of
//! a real subnet run (`tests/tests/subnet_e2e.rs` with
//! `SUBNET_E2E_RECORD_TO=validator/tests/fixtures/e2e-run.json`; a fast, a
//! slow and a cheating miner). Each answer is checked against figures
//! computed here from the raw records, not against the store's own queries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use validator::dashboard_view::DashboardView;
use validator::store::{RequestRecord, ScoreRow, Store, WeightsRecord};

#[derive(Deserialize)]
struct Recording {
    requests: Vec<RequestRecord>,
    weights: Vec<WeightsRecord>,
}

fn recording() -> Recording {
    let text = include_str!("fixtures/e2e-run.json");
    serde_json::from_str(text).expect("fixture parses")
}

/// Replays the recording into a fresh database the way the service writes
/// it: each request with the miner's running score.
fn replay(rec: &Recording, store: &Store) {
    let mut scores: HashMap<(u16, String), ScoreRow> = HashMap::new();
    for r in &rec.requests {
        let s = scores
            .entry((r.uid, r.hotkey.clone()))
            .or_insert_with(|| ScoreRow {
                uid: r.uid,
                hotkey: r.hotkey.clone(),
                score: 0.0,
                successes: 0,
                failures: 0,
                last_seen_ms: 0,
            });
        if r.success {
            s.successes += 1;
        } else {
            s.failures += 1;
        }
        s.score = r.score_after;
        s.last_seen_ms = r.ts_ms;
        store.record(r, s).unwrap();
    }
    for w in &rec.weights {
        store.record_weights(w).unwrap();
    }
}

/// Serves the dashboard over a replayed database on 127.0.0.7.
async fn serve(rec: &Recording) -> SocketAddr {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("v.sqlite")).unwrap());
    // The directory must outlive the server; the test process ends first.
    std::mem::forget(dir);
    replay(rec, &store);
    let view = Arc::new(DashboardView::offline(store, "ws://recorded:9944", 2));
    let cfg = dashboard::DashboardConfig {
        listen: "127.0.0.7:0".parse().unwrap(),
        ..Default::default()
    };
    let listener = dashboard::bind(&cfg).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(dashboard::serve(
        listener,
        view,
        cfg,
        std::future::pending::<()>(),
    ));
    addr
}

async fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    let resp = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
    (status, json)
}

fn nearest_rank(mut v: Vec<u64>, p: usize) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).clamp(1, v.len());
    Some(v[rank - 1] as f64)
}

#[tokio::test]
async fn miners_table_matches_the_recorded_run() {
    let rec = recording();
    assert!(
        rec.requests.len() >= 10,
        "the recording is too small to test"
    );
    let addr = serve(&rec).await;
    let (status, miners) = get(addr, "/api/miners").await;
    assert_eq!(status, 200);
    let miners = miners.as_array().unwrap();

    let mut by_key: HashMap<(u16, &str), Vec<&RequestRecord>> = HashMap::new();
    for r in &rec.requests {
        by_key.entry((r.uid, &r.hotkey)).or_default().push(r);
    }
    assert_eq!(miners.len(), by_key.len());
    let latest = rec
        .weights
        .iter()
        .rev()
        .find(|w| w.kind == "set" || w.kind == "reveal")
        .expect("the run set weights");
    let total: u64 = latest.values.iter().map(|&v| u64::from(v)).sum();
    for row in miners {
        let uid = row["uid"].as_u64().unwrap() as u16;
        let hotkey = row["hotkey"].as_str().unwrap();
        let reqs = &by_key[&(uid, hotkey)];
        let ok: Vec<&&RequestRecord> = reqs.iter().filter(|r| r.success).collect();
        assert_eq!(row["challenges"], reqs.len() as u64, "uid {uid}");
        let rate = ok.len() as f64 / reqs.len() as f64;
        assert!((row["validity_rate"].as_f64().unwrap() - rate).abs() < 1e-12);
        assert_eq!(row["score"], reqs.last().unwrap().score_after);
        assert_eq!(row["last_seen_ms"], reqs.last().unwrap().ts_ms);
        let lat: Vec<u64> = ok.iter().filter_map(|r| r.latency_ms).collect();
        assert_eq!(
            row["median_latency_ms"].as_f64(),
            nearest_rank(lat.clone(), 50)
        );
        assert_eq!(row["p95_latency_ms"].as_f64(), nearest_rank(lat, 95));
        let mem: Vec<u64> = ok.iter().filter_map(|r| r.memory_bytes).collect();
        assert_eq!(
            row["peak_memory_bytes"].as_f64(),
            nearest_rank(mem, 50),
            "uid {uid}"
        );
        let weight = latest
            .uids
            .iter()
            .position(|&u| u == uid)
            .map(|i| latest.values[i])
            .filter(|&v| v > 0);
        match weight {
            Some(v) => {
                let share = row["weight"].as_f64().expect("a weight share");
                assert!((share - f64::from(v) / total as f64).abs() < 1e-12);
            }
            None => assert!(row["weight"].is_null(), "uid {uid}: {row}"),
        }
    }
    // The run's story: the miner that never verified has no weight and the
    // best-scored one has the largest share.
    let best = miners
        .iter()
        .max_by(|a, b| {
            a["score"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["score"].as_f64().unwrap())
        })
        .unwrap();
    let cheater = miners
        .iter()
        .find(|m| m["validity_rate"] == 0.0)
        .expect("the recording has the cheater");
    assert!(cheater["weight"].is_null());
    assert_eq!(cheater["score"], 0.0);
    for m in miners {
        assert!(m["weight"].as_f64().unwrap_or(0.0) <= best["weight"].as_f64().unwrap());
    }
}

#[tokio::test]
async fn history_challenges_and_weights_follow_the_records() {
    let rec = recording();
    let addr = serve(&rec).await;

    // History: oldest first, one point per request, failures without
    // latency.
    let uid = rec.requests[0].uid;
    let mine: Vec<&RequestRecord> = rec.requests.iter().filter(|r| r.uid == uid).collect();
    let (status, hist) = get(addr, &format!("/api/miners/{uid}/history?limit=5000")).await;
    assert_eq!(status, 200);
    let points = hist["points"].as_array().unwrap();
    assert_eq!(points.len(), mine.len());
    for (p, r) in points.iter().zip(&mine) {
        assert_eq!(p["time_ms"], r.ts_ms);
        assert_eq!(p["score"], r.score_after);
        assert_eq!(p["success"], r.success);
        if r.success {
            assert_eq!(p["latency_ms"].as_f64(), r.latency_ms.map(|v| v as f64));
        } else {
            assert!(p["latency_ms"].is_null());
        }
    }
    let (status, hist) = get(addr, &format!("/api/miners/{uid}/history?limit=3")).await;
    assert_eq!(status, 200);
    let last3: Vec<i64> = mine[mine.len() - 3..].iter().map(|r| r.ts_ms).collect();
    let got: Vec<i64> = hist["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["time_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(got, last3);
    let (status, _) = get(addr, "/api/miners/999/history").await;
    assert_eq!(status, 404);

    // Challenges: newest first; failures carry their class and detail.
    let (status, log) = get(addr, "/api/challenges?limit=1000").await;
    assert_eq!(status, 200);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), rec.requests.len().min(1000));
    let newest = rec.requests.last().unwrap();
    assert_eq!(log[0]["time_ms"], newest.ts_ms);
    assert!(log
        .windows(2)
        .all(|w| w[0]["time_ms"].as_i64() >= w[1]["time_ms"].as_i64()));
    let failures = rec.requests.iter().filter(|r| !r.success).count();
    assert!(failures > 0, "the recording has no failure");
    assert_eq!(
        log.iter().filter(|c| c["success"] == false).count(),
        failures
    );
    for c in log.iter().filter(|c| c["success"] == false) {
        assert_ne!(c["outcome"], "verified");
        assert!(c["failure_reason"].is_string(), "{c}");
    }
    for c in log.iter().filter(|c| c["success"] == true) {
        assert_eq!(c["outcome"], "verified");
        assert!(c["failure_reason"].is_null());
    }

    // Weights: newest first, as sent.
    let (status, weights) = get(addr, "/api/weights?limit=500").await;
    assert_eq!(status, 200);
    let weights = weights.as_array().unwrap();
    assert_eq!(weights.len(), rec.weights.len());
    for (row, w) in weights.iter().zip(rec.weights.iter().rev()) {
        assert_eq!(row["block"], w.block);
        assert_eq!(row["method"], format!("{}_weights", w.kind));
        assert_eq!(row["uids"], serde_json::json!(w.uids));
        assert_eq!(row["weights"], serde_json::json!(w.values));
        assert_eq!(row["tx"], w.tx_hash.as_str());
    }

    // No validator attached: the chain panel says so.
    let (status, chain) = get(addr, "/api/chain").await;
    assert_eq!(status, 200);
    assert_eq!(chain["connected"], false);
    assert_eq!(chain["netuid"], 2);
    assert_eq!(chain["endpoint"], "ws://recorded:9944");
    assert!(chain["best_block"].is_null());
}
