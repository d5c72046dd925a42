//! The validator's web dashboard and the miner's status page.
//!
//! Operators want to *see* how their validator scores miners. This crate
//! serves a page (HTML, script and styles compiled into the binary, nothing
//! fetched from elsewhere, so it works offline), the JSON API behind it and a
//! server-sent event stream for live updates. It reads everything from a
//! [`DashboardSource`], which the validator implements over its history
//! store; [`RecordedSource`] serves recorded results for tests and demos.
//!
//! Exposure: [`DashboardConfig::default`] listens on 127.0.0.1 only, and
//! [`bind`] refuses a non-loopback address unless a bearer token is set
//! (see [`auth`] for how the token reaches the page).

pub mod api;
pub mod auth;
pub mod miner_status;
pub mod recorded;
pub mod source;

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;

pub use api::{
    ChainStatus, ChallengeRow, ErrorBody, HistoryPoint, MinerHistory, MinerRow, Snapshot,
    WeightsRow,
};
pub use auth::Token;
pub use miner_status::{miner_status_router, MinerStatus, MinerStatusSource, ModelStatus};
pub use recorded::{ChallengeRecord, RecordedSource, Recording};
pub use source::{DashboardSource, SourceError};

/// Port the dashboard listens on unless configured otherwise.
pub const DEFAULT_PORT: u16 = 9180;

/// Caps on `?limit=`: enough for any chart, small enough that one request
/// cannot make the validator serialize its whole database.
pub const MAX_CHALLENGES: usize = 1000;
pub const MAX_HISTORY: usize = 5000;
pub const MAX_WEIGHTS: usize = 500;

/// How many rows the live snapshot carries; the page shows no more.
const SNAPSHOT_CHALLENGES: usize = 50;
const SNAPSHOT_WEIGHTS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error("invalid dashboard token: {0}")]
    BadToken(String),
    #[error(
        "refusing to serve the dashboard on non-loopback address {0} without a token; \
         set a token or listen on 127.0.0.1"
    )]
    PublicWithoutToken(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("dashboard server failed: {0}")]
    Serve(std::io::Error),
}

#[derive(Clone, Debug)]
pub struct DashboardConfig {
    /// Address [`bind`] listens on; loopback by default.
    pub listen: SocketAddr,
    /// When set, every route requires it (401 otherwise).
    pub token: Option<Token>,
    /// Host header values accepted besides IP literals and `localhost`
    /// (needed only when the dashboard is reached by a DNS name).
    pub allowed_hosts: Vec<String>,
    /// How often the event stream checks the source for changes.
    pub refresh: Duration,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, DEFAULT_PORT)),
            token: None,
            allowed_hosts: Vec::new(),
            refresh: Duration::from_secs(2),
        }
    }
}

#[derive(Clone)]
struct AppState {
    source: Arc<dyn DashboardSource>,
    refresh: Duration,
}

/// The dashboard's routes (page, assets, `/api/...`), guarded by the Host
/// check and the token. Mount it at the root of its own listener.
pub fn router(source: Arc<dyn DashboardSource>, cfg: DashboardConfig) -> Router {
    let access = Arc::new(auth::Access {
        token: cfg.token,
        allowed_hosts: cfg.allowed_hosts,
    });
    let state = AppState {
        source,
        // A zero interval would spin the event stream.
        refresh: cfg.refresh.max(Duration::from_millis(100)),
    };
    Router::new()
        .route("/", get(index))
        .route("/assets/app.js", get(app_js))
        .route("/assets/app.css", get(app_css))
        .route("/api/miners", get(miners))
        .route("/api/miners/{uid}/history", get(miner_history))
        .route("/api/challenges", get(challenges))
        .route("/api/weights", get(weights))
        .route("/api/chain", get(chain))
        .route("/api/snapshot", get(snapshot))
        .route("/api/events", get(events))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(access, auth::guard))
        .layer(axum::middleware::from_fn(auth::security_headers))
}

/// Binds `cfg.listen` for [`serve`]. Refuses a non-loopback address without
/// a token: the data is not secret, but an open port on a validator invites
/// load it did not plan for. Separate from `serve` so a binary can fail at
/// start-up on a taken port instead of in a background task.
pub async fn bind(cfg: &DashboardConfig) -> Result<tokio::net::TcpListener, DashboardError> {
    let addr = cfg.listen;
    if !addr.ip().is_loopback() && cfg.token.is_none() {
        return Err(DashboardError::PublicWithoutToken(addr));
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DashboardError::Bind { addr, source })
}

/// Serves the dashboard on `listener` (from [`bind`]) until `shutdown`
/// resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    source: Arc<dyn DashboardSource>,
    cfg: DashboardConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DashboardError> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, token = cfg.token.is_some(), "dashboard listening");
    }
    axum::serve(listener, router(source, cfg))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(DashboardError::Serve)
}

struct ApiError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

impl From<SourceError> for ApiError {
    fn from(e: SourceError) -> Self {
        tracing::warn!(error = %e, "dashboard source failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        }
    }
}

/// Runs a source query on the blocking pool: the validator's store is
/// synchronous SQLite and must not block the runtime's workers.
async fn query<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn DashboardSource) -> Result<T, SourceError> + Send + 'static,
) -> Result<T, ApiError> {
    let source = Arc::clone(&state.source);
    match tokio::task::spawn_blocking(move || f(source.as_ref())).await {
        Ok(result) => Ok(result?),
        Err(e) => Err(SourceError::new(format!("dashboard query panicked: {e}")).into()),
    }
}

#[derive(Deserialize)]
struct Limit {
    limit: Option<usize>,
}

impl Limit {
    fn clamp(&self, default: usize, max: usize) -> usize {
        self.limit.unwrap_or(default).clamp(1, max)
    }
}

async fn index() -> Html<&'static str> {
    Html(include_str!("assets/index.html"))
}

async fn app_js() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/app.js"),
    )
}

async fn app_css() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/app.css"),
    )
}

async fn not_found() -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        message: "no such page or endpoint".into(),
    }
}

async fn miners(State(state): State<AppState>) -> Result<Json<Vec<MinerRow>>, ApiError> {
    query(&state, |s| s.miners()).await.map(Json)
}

async fn miner_history(
    State(state): State<AppState>,
    Path(uid): Path<u16>,
    Query(limit): Query<Limit>,
) -> Result<Json<MinerHistory>, ApiError> {
    let limit = limit.clamp(500, MAX_HISTORY);
    match query(&state, move |s| s.miner_history(uid, limit)).await? {
        Some(history) => Ok(Json(history)),
        None => Err(ApiError {
            status: StatusCode::NOT_FOUND,
            message: format!("no history for uid {uid}"),
        }),
    }
}

async fn challenges(
    State(state): State<AppState>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<ChallengeRow>>, ApiError> {
    let limit = limit.clamp(100, MAX_CHALLENGES);
    query(&state, move |s| s.recent_challenges(limit))
        .await
        .map(Json)
}

async fn weights(
    State(state): State<AppState>,
    Query(limit): Query<Limit>,
) -> Result<Json<Vec<WeightsRow>>, ApiError> {
    let limit = limit.clamp(50, MAX_WEIGHTS);
    query(&state, move |s| s.weights_history(limit))
        .await
        .map(Json)
}

async fn chain(State(state): State<AppState>) -> Result<Json<ChainStatus>, ApiError> {
    query(&state, |s| s.chain_status()).await.map(Json)
}

async fn take_snapshot(state: &AppState) -> Result<Snapshot, ApiError> {
    query(state, |s| {
        Ok(Snapshot {
            chain: s.chain_status()?,
            miners: s.miners()?,
            challenges: s.recent_challenges(SNAPSHOT_CHALLENGES)?,
            weights: s.weights_history(SNAPSHOT_WEIGHTS)?,
        })
    })
    .await
}

async fn snapshot(State(state): State<AppState>) -> Result<Json<Snapshot>, ApiError> {
    take_snapshot(&state).await.map(Json)
}

/// Server-sent events: a `snapshot` event at once and then whenever the
/// data changed, a `source_error` event when the source fails (not `error`,
/// which `EventSource` reserves for connection failures). Unchanged data
/// sends nothing but keep-alives, so idle pages cost the validator little.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (state, String::new(), true),
        |(state, mut last, mut first)| async move {
            loop {
                if !first {
                    tokio::time::sleep(state.refresh).await;
                }
                first = false;
                let (kind, data) = match take_snapshot(&state).await {
                    Ok(snap) => match serde_json::to_string(&snap) {
                        Ok(json) => ("snapshot", json),
                        Err(e) => ("source_error", e.to_string()),
                    },
                    Err(e) => ("source_error", e.message),
                };
                let key = format!("{kind}:{data}");
                if key != last {
                    last = key;
                    let event = Event::default().event(kind).data(data);
                    return Some((Ok(event), (state, last, first)));
                }
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
