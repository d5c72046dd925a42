//! The miner's status page renders what its source reports, escaped.

mod common;

use std::sync::{Arc, Mutex};

use axum::http::{header, StatusCode};
use common::{body_bytes, get, get_json, send};
use dashboard::{miner_status_router, MinerStatus, MinerStatusSource, ModelStatus, SourceError};

/// Counters a miner would keep, changed between requests like a live one.
struct Counters(Mutex<MinerStatus>);

impl MinerStatusSource for Counters {
    fn status(&self) -> Result<MinerStatus, SourceError> {
        self.0
            .lock()
            .map(|s| s.clone())
            .map_err(|_| SourceError::new("poisoned"))
    }
}

fn status() -> MinerStatus {
    MinerStatus {
        hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into(),
        uid: Some(1),
        version: "0.1.0".into(),
        uptime_s: 3725,
        models: vec![
            ModelStatus {
                id: "91d0876a385b324391e75a920ad4ca25d7bce48a62295d0096b99eb5f0a3f7af".into(),
                name: "digits_mlp".into(),
                proofs_done: 41,
                failures: 1,
                mean_prove_ms: Some(118.4),
            },
            ModelStatus {
                id: "d4b4f845e57470ee2d156e9bc3c558e3f0fd5039225ca1ff245f71ee898d5991".into(),
                name: "<b>digits_cnn</b>".into(),
                proofs_done: 0,
                failures: 0,
                mean_prove_ms: None,
            },
        ],
        proofs_done: 41,
        failures: 1,
        rejected_busy: 3,
        in_flight: 1,
        capacity: 2,
    }
}

#[tokio::test]
async fn json_and_page_show_the_counters() {
    let counters = Arc::new(Counters(Mutex::new(status())));
    let router = miner_status_router(counters.clone());

    let json: MinerStatus = get_json(&router, "/status").await;
    assert_eq!(json, status());

    let response = send(&router, get("/status/page")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = String::from_utf8(body_bytes(response).await).unwrap();
    assert!(page.contains("<dd id=\"proofs-done\">41</dd>"));
    assert!(page.contains("1 / 2 workers (50%)"));
    assert!(page.contains("digits_mlp") && page.contains("118 ms"));
    assert!(page.contains("&lt;b&gt;digits_cnn&lt;/b&gt;") && !page.contains("<b>digits_cnn"));
    assert!(page.contains("1h 2m"));

    // The page follows the miner's live counters.
    {
        let mut live = counters.0.lock().unwrap();
        live.proofs_done = 42;
        live.in_flight = 2;
    }
    let page =
        String::from_utf8(body_bytes(send(&router, get("/status/page")).await).await).unwrap();
    assert!(page.contains("<dd id=\"proofs-done\">42</dd>"));
    assert!(page.contains("2 / 2 workers (100%)"));
}

#[tokio::test]
async fn an_unregistered_idle_miner_renders() {
    let mut idle = status();
    idle.uid = None;
    idle.models.clear();
    idle.capacity = 0;
    idle.in_flight = 0;
    let router = miner_status_router(Arc::new(Counters(Mutex::new(idle))));
    let page =
        String::from_utf8(body_bytes(send(&router, get("/status/page")).await).await).unwrap();
    assert!(page.contains("not registered"));
    assert!(page.contains("no models loaded"));
    assert!(page.contains("0 / 0 workers (0%)"));
}
