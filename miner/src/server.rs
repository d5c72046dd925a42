//! The axon: axum routes for signed challenges, metrics and status.
//!
//! `POST /Challenge` runs the checks cheapest-first so that strangers cost
//! us as little as possible: body size (413), signature, receiver and
//! freshness (401), the caller's standing in the metagraph (403), replay
//! (401), body decoding (400), the model (404), the slice request (400),
//! and only then a slot in the bounded worker pool — or 503 at once when it
//! is full, so load never builds an unbounded queue. Proofs run on blocking
//! threads; the response carries the prove time and the process's peak
//! resident memory measured around the proof.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use circuits::model::QTensor;
use circuits::registry::ModelId;
use circuits::zkml::CompiledModel;
use http_body_util::BodyExt;
use subnet_types::auth::unix_ms;
use subnet_types::{
    Challenge, ChallengeResponse, Verifier, CHALLENGE_PATH, CONTENT_TYPE, MAX_CHALLENGE_BYTES,
};
use tokio::sync::Semaphore;

use crate::metagraph::MetagraphView;
use crate::metrics::{Metrics, Outcome};
use crate::models::{ModelSlot, ModelStore};

/// Who may ask for proofs.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Minimum stake on the subnet, in rao.
    pub min_stake_rao: u64,
    /// Refuse callers without a validator permit.
    pub force_validator_permit: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_stake_rao: 0,
            force_validator_permit: true,
        }
    }
}

/// Misbehaviour for the end-to-end test; only settable in builds with the
/// `test-hooks` feature (the fields exist always so the server code has one
/// shape, but the binary only fills them in such builds).
#[derive(Clone, Debug, Default)]
pub struct TestHooks {
    /// Sleep this long after proving, before answering.
    pub delay_ms: u64,
    /// Answer with a valid proof of another statement (a different input
    /// and nonce), so the claimed output is wrong for the challenge.
    pub cheat: bool,
}

/// Everything the routes share.
pub struct MinerState {
    pub hotkey: String,
    pub hotkey_public: [u8; 32],
    pub verifier: Verifier,
    pub view: Arc<MetagraphView>,
    pub policy: Policy,
    pub models: Arc<ModelStore>,
    pub pool: Arc<Semaphore>,
    pub capacity: usize,
    pub metrics: Metrics,
    pub hooks: TestHooks,
    pub started: Instant,
    rss_reset_warned: AtomicBool,
}

impl MinerState {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        hotkey_public: [u8; 32],
        verifier: Verifier,
        view: Arc<MetagraphView>,
        policy: Policy,
        models: Arc<ModelStore>,
        capacity: usize,
        hooks: TestHooks,
    ) -> Self {
        let capacity = capacity.max(1);
        Self {
            hotkey: wallet::ss58::encode(&hotkey_public, wallet::ss58::SUBTENSOR_SS58_PREFIX),
            hotkey_public,
            verifier,
            view,
            policy,
            models,
            pool: Arc::new(Semaphore::new(capacity)),
            capacity,
            metrics: Metrics::new(capacity),
            hooks,
            started: Instant::now(),
            rss_reset_warned: AtomicBool::new(false),
        }
    }

    fn in_flight(&self) -> usize {
        self.capacity.saturating_sub(self.pool.available_permits())
    }

    /// Refreshes the gauges that are sampled rather than counted.
    fn sample_gauges(&self) {
        self.metrics.set_in_flight(self.in_flight());
        self.metrics.set_models_loaded(self.models.loaded());
        self.metrics.set_chain_errors(self.view.chain_errors());
        if let Some(t) = self.view.snapshot() {
            self.metrics.set_metagraph_block(t.block);
        }
    }
}

/// The miner's routes: `POST /Challenge`, `GET /metrics`, `GET /status`
/// (JSON) and `GET /status/page` (HTML).
pub fn router(state: Arc<MinerState>) -> Router {
    let status = dashboard::miner_status_router(Arc::new(StatusSource(state.clone())));
    Router::new()
        .route(CHALLENGE_PATH, post(challenge))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(status)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<MinerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A refused request: status, metric outcome and a plain-text reason.
struct Reject {
    status: StatusCode,
    outcome: Outcome,
    message: String,
}

impl Reject {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let outcome = match status {
            StatusCode::UNAUTHORIZED => Outcome::Unauthorized,
            StatusCode::FORBIDDEN => Outcome::Forbidden,
            StatusCode::SERVICE_UNAVAILABLE => Outcome::Busy,
            s if s.is_client_error() => Outcome::ClientError,
            _ => Outcome::Error,
        };
        Self {
            status,
            outcome,
            message: message.into(),
        }
    }
}

async fn challenge(
    State(st): State<Arc<MinerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = handle_challenge(&st, &method, &uri, &headers, body).await;
    st.sample_gauges();
    match result {
        Ok(bytes) => {
            st.metrics.request(Outcome::Ok);
            ([(http::header::CONTENT_TYPE, CONTENT_TYPE)], bytes).into_response()
        }
        Err(r) => {
            st.metrics.request(r.outcome);
            tracing::debug!(status = r.status.as_u16(), reason = %r.message, "challenge refused");
            (r.status, r.message).into_response()
        }
    }
}

async fn read_body(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, Reject> {
    let too_large = |len: String| {
        Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body of {len} bytes is over the limit of {MAX_CHALLENGE_BYTES}"),
        )
    };
    // Refuse a declared oversize body before reading any of it.
    if let Some(len) = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if len > MAX_CHALLENGE_BYTES as u64 {
            return Err(too_large(len.to_string()));
        }
    }
    match http_body_util::Limited::new(body, MAX_CHALLENGE_BYTES)
        .collect()
        .await
    {
        Ok(c) => Ok(c.to_bytes().to_vec()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large("more".into())),
        Err(e) => Err(Reject::new(
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {e}"),
        )),
    }
}

async fn handle_challenge(
    st: &Arc<MinerState>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<u8>, Reject> {
    let body = read_body(headers, body).await?;
    let target = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or(uri.path());
    let now = unix_ms();
    let caller = st
        .verifier
        .verify(method.as_str(), target, headers, &body, now)
        .map_err(|e| Reject::new(e.status(), e.to_string()))?;
    authorize(st, &caller.public_key, &caller.hotkey)?;
    st.verifier
        .commit(&caller, now)
        .map_err(|e| Reject::new(e.status(), e.to_string()))?;

    let ch = Challenge::from_bytes(&body)
        .map_err(|e| Reject::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let id = ModelId(ch.model_id);
    let Some(slot) = st.models.get(&id).cloned() else {
        let served: Vec<&str> = st
            .models
            .slots()
            .iter()
            .map(|s| s.entry().name.as_str())
            .collect();
        let why = if st.models.in_registry(&id) {
            "is in the registry but not served by this miner"
        } else {
            "is not in this miner's registry"
        };
        return Err(Reject::new(
            StatusCode::NOT_FOUND,
            format!("model {id} {why}; served: {}", served.join(", ")),
        ));
    };
    check_slices(&slot, &ch)?;
    if ch.deadline_ms <= now {
        return Err(Reject::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("deadline {} already passed (now {now})", ch.deadline_ms),
        ));
    }

    let permit = st.pool.clone().try_acquire_owned().map_err(|_| {
        Reject::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("busy: all {} proving slots are in use", st.capacity),
        )
    })?;
    st.metrics.set_in_flight(st.in_flight());
    tracing::info!(
        caller = %caller.hotkey,
        model = %slot.entry().name,
        slices = ?ch.slices,
        "challenge accepted"
    );

    let job_state = st.clone();
    let job_slot = slot.clone();
    let job = tokio::task::spawn_blocking(move || prove_job(&job_state, &job_slot, &ch));
    let result = match job.await {
        Ok(r) => r,
        Err(e) => Err(Reject::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("proof job panicked: {e}"),
        )),
    };
    let id_hex = slot.entry().id.to_hex();
    let response = match result {
        Ok(r) => {
            st.metrics
                .proof_done(&id_hex, r.prove_time_ms, r.peak_memory_bytes);
            tracing::info!(
                model = %slot.entry().name,
                prove_ms = r.prove_time_ms,
                peak_memory_bytes = r.peak_memory_bytes,
                "proof done"
            );
            r
        }
        Err(e) => {
            if e.outcome == Outcome::Error {
                st.metrics.proof_failed(&id_hex);
            }
            drop(permit);
            return Err(e);
        }
    };
    if st.hooks.delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(st.hooks.delay_ms)).await;
    }
    drop(permit);
    Ok(response.to_bytes())
}

fn authorize(st: &MinerState, public: &[u8; 32], hotkey: &str) -> Result<(), Reject> {
    let forbid = |m: String| Reject::new(StatusCode::FORBIDDEN, m);
    let Some(table) = st.view.snapshot() else {
        return Err(Reject::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metagraph not loaded yet; retry shortly",
        ));
    };
    let Some(peer) = table.get(public) else {
        return Err(forbid(format!(
            "{hotkey} is not registered on this subnet (metagraph at block {})",
            table.block
        )));
    };
    if st.policy.force_validator_permit && !peer.validator_permit {
        return Err(forbid(format!(
            "{hotkey} (uid {}) has no validator permit",
            peer.uid
        )));
    }
    if peer.stake_rao < st.policy.min_stake_rao {
        return Err(forbid(format!(
            "{hotkey} (uid {}) has {} rao staked, below the minimum of {}",
            peer.uid, peer.stake_rao, st.policy.min_stake_rao
        )));
    }
    Ok(())
}

/// Checks what can be checked from the registry entry alone, so a bad
/// request never takes a proving slot.
fn check_slices(slot: &ModelSlot, ch: &Challenge) -> Result<(), Reject> {
    let bad = |m: String| Reject::new(StatusCode::BAD_REQUEST, m);
    let n = slot.num_slices();
    // Decoding guarantees a non-empty, consecutive list.
    let last = *ch.slices.last().unwrap_or(&0) as usize;
    if last >= n {
        return Err(bad(format!(
            "slice {last} requested; model '{}' has {n} slice(s)",
            slot.entry().name
        )));
    }
    if ch.slices.first() == Some(&0) {
        let e = slot.entry();
        let shape: Vec<usize> = e.input_shape.iter().map(|&d| d as usize).collect();
        if ch.input.shape != shape || ch.input.scale_bits != e.quant_scale_bits {
            return Err(bad(format!(
                "input has shape {:?} at scale 2^{}; model '{}' takes {:?} at 2^{}",
                ch.input.shape, ch.input.scale_bits, e.name, shape, e.quant_scale_bits
            )));
        }
    }
    Ok(())
}

/// Proves the requested slices on a blocking thread, measuring time and
/// peak memory.
fn prove_job(
    st: &MinerState,
    slot: &ModelSlot,
    ch: &Challenge,
) -> Result<ChallengeResponse, Reject> {
    let model = slot
        .compiled()
        .map_err(|e| Reject::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let first = ch.slices[0] as usize;
    let want = model.slices()[first].input_shape();
    if ch.input.shape != want || ch.input.scale_bits != model.scale_bits() {
        return Err(Reject::new(
            StatusCode::BAD_REQUEST,
            format!(
                "input has shape {:?} at scale 2^{}; slice {first} takes {:?} at 2^{}",
                ch.input.shape,
                ch.input.scale_bits,
                want,
                model.scale_bits()
            ),
        ));
    }
    let (input, nonce) = if st.hooks.cheat {
        cheat_statement(ch)
    } else {
        (ch.input.clone(), ch.nonce)
    };
    // The peak mark is process-wide: with several proofs in flight each
    // reports the peak of the whole process over its run, an upper bound.
    if !circuits::util::reset_peak_rss() && !st.rss_reset_warned.swap(true, Ordering::Relaxed) {
        tracing::warn!("cannot reset the peak-RSS mark; reporting the process's lifetime peak");
    }
    let t0 = Instant::now();
    let proofs = prove_slices(&model, &ch.slices, input, &nonce).map_err(|e| {
        Reject::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("proving failed: {e}"),
        )
    });
    let prove_time_ms = t0.elapsed().as_millis() as u64;
    let peak_memory_bytes = circuits::util::peak_rss_bytes().unwrap_or(0);
    let proofs = proofs.inspect_err(|_| st.metrics.proof_failed(&slot.entry().id.to_hex()))?;
    Ok(ChallengeResponse {
        proofs,
        prove_time_ms,
        peak_memory_bytes,
    })
}

fn prove_slices(
    model: &CompiledModel,
    slices: &[u32],
    input: QTensor,
    nonce: &[u8; 32],
) -> Result<Vec<circuits::zkml::SliceProof>, circuits::model::ModelError> {
    let mut cur = input;
    let mut proofs = Vec::with_capacity(slices.len());
    for &k in slices {
        let p = model.prove_slice(k as usize, &cur, nonce)?;
        cur = p.output.clone();
        proofs.push(p);
    }
    Ok(proofs)
}

/// The statement a cheating miner proves instead: the input halved and the
/// nonce flipped. The proofs verify for that statement, so only a validator
/// that checks them against its own challenge catches the cheat.
fn cheat_statement(ch: &Challenge) -> (QTensor, [u8; 32]) {
    let mut input = ch.input.clone();
    for v in &mut input.values {
        *v /= 2;
    }
    let mut nonce = ch.nonce;
    for b in &mut nonce {
        *b ^= 0xff;
    }
    (input, nonce)
}

async fn metrics(State(st): State<Arc<MinerState>>) -> Response {
    st.sample_gauges();
    (
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        st.metrics.encode(),
    )
        .into_response()
}

/// Feeds the dashboard's miner status page.
struct StatusSource(Arc<MinerState>);

impl dashboard::MinerStatusSource for StatusSource {
    fn status(&self) -> Result<dashboard::MinerStatus, dashboard::SourceError> {
        let st = &self.0;
        let models: Vec<dashboard::ModelStatus> = st
            .models
            .slots()
            .iter()
            .map(|s| {
                let id = s.entry().id.to_hex();
                let c = st.metrics.model(&id);
                dashboard::ModelStatus {
                    id,
                    name: s.entry().name.clone(),
                    proofs_done: c.proofs_done,
                    failures: c.failures,
                    mean_prove_ms: (c.proofs_done > 0)
                        .then(|| c.total_prove_ms as f64 / c.proofs_done as f64),
                }
            })
            .collect();
        let uid = st
            .view
            .snapshot()
            .and_then(|t| t.get(&st.hotkey_public).map(|p| p.uid));
        Ok(dashboard::MinerStatus {
            hotkey: st.hotkey.clone(),
            uid,
            version: env!("CARGO_PKG_VERSION").to_string(),
            uptime_s: st.started.elapsed().as_secs(),
            proofs_done: models.iter().map(|m| m.proofs_done).sum(),
            failures: models.iter().map(|m| m.failures).sum(),
            models,
            rejected_busy: st.metrics.rejected_busy(),
            in_flight: st.in_flight() as u32,
            capacity: st.capacity as u32,
        })
    }
}
