//! The miner's small status page: which models it serves, how many proofs it
//! produced or failed, and how loaded its worker pool is. An operator checks
//! a miner with a browser or `curl` without reading logs.
//!
//! The page is rendered on the server (no script; it reloads itself every
//! few seconds), so it works in any browser and under the strictest CSP.
//! `GET /status` returns the same data as JSON.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::api::ErrorBody;
use crate::source::SourceError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelStatus {
    /// Registry id (Blake3 hash of the ONNX bytes).
    pub id: String,
    pub name: String,
    pub proofs_done: u64,
    pub failures: u64,
    /// Mean proving time over the proofs done, when any.
    pub mean_prove_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinerStatus {
    pub hotkey: String,
    pub uid: Option<u16>,
    pub version: String,
    pub uptime_s: u64,
    pub models: Vec<ModelStatus>,
    pub proofs_done: u64,
    pub failures: u64,
    /// Requests turned away with 503 because the pool was full.
    pub rejected_busy: u64,
    /// Proofs running now, and how many may run at once.
    pub in_flight: u32,
    pub capacity: u32,
}

/// Where the miner's counters come from; called on the blocking pool.
pub trait MinerStatusSource: Send + Sync + 'static {
    fn status(&self) -> Result<MinerStatus, SourceError>;
}

/// `GET /status` (JSON) and `GET /status/page` (HTML), to merge into the
/// miner's router.
pub fn miner_status_router(source: Arc<dyn MinerStatusSource>) -> Router {
    Router::new()
        .route("/status", get(status_json))
        .route("/status/page", get(status_page))
        .with_state(source)
}

async fn fetch(source: Arc<dyn MinerStatusSource>) -> Result<MinerStatus, Response> {
    let result = tokio::task::spawn_blocking(move || source.status())
        .await
        .map_err(|e| SourceError::new(format!("status query panicked: {e}")))
        .and_then(|r| r);
    result.map_err(|e| {
        tracing::warn!(error = %e, "miner status source failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(ErrorBody {
                error: e.to_string(),
            }),
        )
            .into_response()
    })
}

async fn status_json(State(source): State<Arc<dyn MinerStatusSource>>) -> Response {
    match fetch(source).await {
        Ok(status) => Json(status).into_response(),
        Err(response) => response,
    }
}

async fn status_page(State(source): State<Arc<dyn MinerStatusSource>>) -> Response {
    match fetch(source).await {
        Ok(status) => Html(render_miner_status(&status)).into_response(),
        Err(response) => response,
    }
}

/// Escapes text for HTML element content and quoted attributes: model names
/// come from the registry manifest and must not become markup.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn uptime(seconds: u64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds / 3600 % 24,
        seconds / 60 % 60,
        seconds % 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else {
        format!("{m}m {s}s")
    }
}

/// The whole page as one HTML document.
pub fn render_miner_status(status: &MinerStatus) -> String {
    let mut html = String::new();
    let load = if status.capacity == 0 {
        0.0
    } else {
        100.0 * f64::from(status.in_flight) / f64::from(status.capacity)
    };
    let uid = status
        .uid
        .map_or_else(|| "not registered".to_string(), |u| u.to_string());
    // Writing to a String cannot fail.
    let _ = write!(
        html,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>miner {uid}</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; color: #1d2330; background: #f6f7f9; }}
h1 {{ font-size: 1.3em; }}
table {{ border-collapse: collapse; background: #fff; }}
th, td {{ padding: .35em .8em; border-bottom: 1px solid #dde1e7; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: .3em 1.2em; }}
dt {{ color: #5a6272; }}
meter {{ width: 12em; }}
code {{ font-size: .9em; }}
</style></head><body>
<h1>Miner status</h1>
<dl>
<dt>hotkey</dt><dd><code>{hotkey}</code></dd>
<dt>uid</dt><dd>{uid}</dd>
<dt>version</dt><dd>{version}</dd>
<dt>uptime</dt><dd>{uptime}</dd>
<dt>proofs done</dt><dd id="proofs-done">{done}</dd>
<dt>failures</dt><dd id="failures">{failures}</dd>
<dt>turned away (busy)</dt><dd>{busy}</dd>
<dt>current load</dt><dd id="load"><meter min="0" max="{cap}" value="{inflight}"></meter> {inflight} / {cap} workers ({load:.0}%)</dd>
</dl>
<h2>Models served</h2>
<table id="models"><thead><tr><th>model</th><th>id</th><th>proofs</th><th>failures</th><th>mean prove time</th></tr></thead><tbody>
"#,
        hotkey = escape_html(&status.hotkey),
        uid = escape_html(&uid),
        version = escape_html(&status.version),
        uptime = uptime(status.uptime_s),
        done = status.proofs_done,
        failures = status.failures,
        busy = status.rejected_busy,
        cap = status.capacity,
        inflight = status.in_flight,
    );
    for model in &status.models {
        let short_id: String = model.id.chars().take(12).collect();
        let mean = model
            .mean_prove_ms
            .map_or_else(|| "–".to_string(), |ms| format!("{ms:.0} ms"));
        let _ = writeln!(
            html,
            r#"<tr><td>{name}</td><td><code title="{id}">{short}</code></td><td class="n">{done}</td><td class="n">{failures}</td><td class="n">{mean}</td></tr>"#,
            name = escape_html(&model.name),
            id = escape_html(&model.id),
            short = escape_html(&short_id),
            done = model.proofs_done,
            failures = model.failures,
        );
    }
    if status.models.is_empty() {
        html.push_str("<tr><td colspan=\"5\">no models loaded</td></tr>\n");
    }
    html.push_str("</tbody></table>\n</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn uptime_units() {
        assert_eq!(uptime(59), "0m 59s");
        assert_eq!(uptime(3 * 3600 + 120), "3h 2m");
        assert_eq!(uptime(2 * 86_400 + 3600), "2d 1h 0m");
    }
}
