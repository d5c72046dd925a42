//! The running validator: a chain task (metagraph sync, weights) and a
//! challenge task (rounds of signed challenges, verification, scoring) that
//! share the metagraph, the scores and the database.
//!
//! They are separate tasks because their clocks differ: a challenge round
//! can wait a model's whole timeout, while a commit-reveal window on a fast
//! chain is only a few seconds long and must not be missed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chain_client::{commit_hash, ChainClient, ChainError, Metagraph, TxOutcome};
use rand::seq::IndexedRandom;
use subnet_types::auth::unix_ms;
use subnet_types::AuthScheme;
use tokio::sync::{Mutex, Semaphore};
use wallet::Keypair;

use crate::challenge::{self, Answer, ChallengeModel, Failure, Job, Models, Target};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::scoring::{self, Measured};
use crate::store::{PendingCommit, RequestRecord, ScoreRow, Store, WeightsRecord};
use crate::weights::{self, RevealState};
use crate::ValidatorError;

/// How often the chain task looks at the block number.
const CHAIN_POLL: Duration = Duration::from_millis(500);

type ScoreKey = (u16, String);

/// Everything the two tasks share.
pub struct Validator {
    pub(crate) cfg: Config,
    signer: Keypair,
    pub(crate) hotkey_ss58: String,
    /// The node endpoint, as shown on the dashboard.
    pub(crate) endpoint: String,
    scheme: AuthScheme,
    chain: ChainClient,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    models: Models,
    http: reqwest::Client,
    requests: Semaphore,
    metagraph: RwLock<Arc<Metagraph>>,
    scores: Mutex<HashMap<ScoreKey, ScoreRow>>,
    /// Block of this validator's last weights extrinsic seen from here (the
    /// metagraph's LastUpdate lags until the next sync).
    pub(crate) last_weights_block: AtomicU64,
    /// Latest block number read, and whether that read succeeded.
    pub(crate) best_block: AtomicU64,
    pub(crate) chain_ok: AtomicBool,
}

impl Validator {
    /// Connects, loads scores and the models, and reads the metagraph. Fails
    /// when the hotkey is not registered on the subnet.
    pub async fn start(
        cfg: Config,
        signer: Keypair,
        store: Arc<Store>,
        metrics: Arc<Metrics>,
        models: Models,
    ) -> Result<Arc<Self>, ValidatorError> {
        let scheme = cfg.challenge.auth_scheme()?;
        let url = chain_client::resolve_endpoint(
            Some(&cfg.subtensor.network),
            cfg.subtensor.chain_endpoint.as_deref(),
        )
        .map_err(ValidatorError::Endpoint)?;
        let chain = ChainClient::connect(&url).await?;
        let metagraph = chain.metagraph(cfg.netuid).await?;
        let hotkey_ss58 = signer.ss58_address();
        let Some(uid) = metagraph.uid_of(&signer.public_key()) else {
            return Err(ValidatorError::NotRegistered {
                hotkey: hotkey_ss58,
                netuid: cfg.netuid,
            });
        };
        tracing::info!(uid, hotkey = %hotkey_ss58, netuid = cfg.netuid, block = metagraph.block, neurons = metagraph.neurons.len(), "validator registered");
        let scores: HashMap<ScoreKey, ScoreRow> = store
            .scores()?
            .into_iter()
            .map(|s| ((s.uid, s.hotkey.clone()), s))
            .collect();
        tracing::info!(miners = scores.len(), "scores reloaded from the database");
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ValidatorError::Http(e.to_string()))?;
        metrics.metagraph(
            metagraph.block,
            challenge::serving_targets(&metagraph, uid).len(),
        );
        let best = metagraph.block;
        Ok(Arc::new(Self {
            requests: Semaphore::new(cfg.challenge.concurrency),
            endpoint: url,
            cfg,
            signer,
            hotkey_ss58,
            scheme,
            chain,
            store,
            metrics,
            models,
            http,
            metagraph: RwLock::new(Arc::new(metagraph)),
            scores: Mutex::new(scores),
            last_weights_block: AtomicU64::new(0),
            best_block: AtomicU64::new(best),
            chain_ok: AtomicBool::new(true),
        }))
    }

    pub(crate) fn metagraph(&self) -> Arc<Metagraph> {
        Arc::clone(&self.metagraph.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn own_uid(&self, m: &Metagraph) -> Option<u16> {
        m.uid_of(&self.signer.public_key())
    }

    /// Block of this validator's latest weights extrinsic, from the chain or
    /// from here, whichever is newer.
    pub(crate) fn last_weights_update(&self, m: &Metagraph, own: u16) -> u64 {
        m.neuron(own)
            .map(|n| n.last_update)
            .unwrap_or(0)
            .max(self.last_weights_block.load(Ordering::Relaxed))
    }

    /// Runs both tasks until `shutdown` resolves.
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        let chain_task = tokio::spawn(Arc::clone(&self).chain_loop());
        let challenge_task = tokio::spawn(Arc::clone(&self).challenge_loop());
        shutdown.await;
        tracing::info!("shutting down");
        chain_task.abort();
        challenge_task.abort();
    }

    // ----- chain task -------------------------------------------------------------

    async fn chain_loop(self: Arc<Self>) {
        let mut last_sync = self.metagraph().block;
        loop {
            tokio::time::sleep(CHAIN_POLL).await;
            let now = match self.chain.block_number().await {
                Ok(n) => {
                    self.best_block.store(n, Ordering::Relaxed);
                    self.chain_ok.store(true, Ordering::Relaxed);
                    n
                }
                Err(e) => {
                    self.chain_ok.store(false, Ordering::Relaxed);
                    self.metrics.chain_error();
                    tracing::warn!(error = %e, "cannot read the block number");
                    continue;
                }
            };
            if now >= last_sync + self.cfg.metagraph.sync_interval_blocks {
                match self.sync().await {
                    Ok(()) => last_sync = now,
                    Err(e) => {
                        self.metrics.chain_error();
                        tracing::warn!(error = %e, "metagraph sync failed");
                    }
                }
            }
            if let Err(e) = self.weights_tick(now).await {
                self.metrics.chain_error();
                tracing::warn!(error = %e, "weights not set");
                // The subnet may have switched commit-reveal on or off since
                // the last sync; read it again before the next try.
                let name = match &e {
                    ValidatorError::Chain(c) => c.module_error_name(),
                    _ => None,
                };
                if matches!(
                    name,
                    Some("CommitRevealEnabled") | Some("CommitRevealDisabled")
                ) && self.sync().await.is_ok()
                {
                    last_sync = now;
                }
            }
        }
    }

    async fn sync(&self) -> Result<(), ChainError> {
        let m = self.chain.metagraph(self.cfg.netuid).await?;
        let serving = self
            .own_uid(&m)
            .map(|uid| challenge::serving_targets(&m, uid).len())
            .unwrap_or(0);
        self.metrics.metagraph(m.block, serving);
        tracing::debug!(
            block = m.block,
            neurons = m.neurons.len(),
            serving,
            "metagraph synced"
        );
        *self.metagraph.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(m);
        Ok(())
    }

    /// Reveals a due commit, or submits new weights when they are due.
    async fn weights_tick(&self, now: u64) -> Result<(), ValidatorError> {
        let m = self.metagraph();
        let netuid = self.cfg.netuid;
        let Some(own) = self.own_uid(&m) else {
            tracing::warn!(hotkey = %self.hotkey_ss58, "this hotkey is no longer registered");
            return Ok(());
        };
        let own_key = self.signer.public_key();
        if let Some(pending) = self.store.pending_commit()? {
            let on_chain = self.chain.pending_commits(netuid, &own_key).await?;
            let Some(c) = on_chain.iter().find(|c| c.hash == pending.hash) else {
                tracing::info!("pending commit is no longer on chain; committing afresh");
                self.store.clear_pending_commit()?;
                return Ok(());
            };
            match weights::reveal_state(now, c.first_reveal_block, c.last_reveal_block) {
                RevealState::TooEarly { .. } => {}
                RevealState::Expired => {
                    tracing::warn!(
                        commit_block = c.commit_block,
                        "weights commit expired unrevealed"
                    );
                    self.store.clear_pending_commit()?;
                }
                RevealState::Due => {
                    let out = self
                        .chain
                        .reveal_weights(
                            &self.signer,
                            netuid,
                            &pending.uids,
                            &pending.values,
                            &pending.salt,
                            pending.version_key,
                        )
                        .await?;
                    self.store.clear_pending_commit()?;
                    self.note_weights(
                        "reveal",
                        &pending.uids,
                        &pending.values,
                        pending.version_key,
                        &out,
                    )
                    .await;
                }
            }
            return Ok(());
        }

        let neuron = m.neuron(own).cloned();
        let last_update = self.last_weights_update(&m, own);
        if !weights::weights_due(
            now,
            last_update,
            self.cfg.weights.interval_blocks,
            m.weights_set_rate_limit,
        ) {
            return Ok(());
        }
        if !neuron.map(|n| n.validator_permit).unwrap_or(false) {
            tracing::debug!("no validator permit yet; weights wait for the next epoch");
            return Ok(());
        }
        let scores: Vec<ScoreRow> = self.scores.lock().await.values().cloned().collect();
        let (uids, values) =
            weights::weight_vector(&scores, &m, own, self.cfg.weights.min_requests);
        if uids.is_empty() {
            tracing::debug!("no miner has a positive score yet");
            return Ok(());
        }
        let vk = weights::version_key(self.cfg.weights.version_key, m.weights_version_key);
        if m.commit_reveal_enabled {
            let salt = weights::new_salt();
            let hash = commit_hash(&own_key, netuid, &uids, &values, &salt, vk);
            let out = self
                .chain
                .commit_weights(&self.signer, netuid, hash)
                .await?;
            let block = self.chain.block_number().await.unwrap_or(now);
            self.store.save_pending_commit(&PendingCommit {
                hash,
                netuid,
                uids: uids.clone(),
                values: values.clone(),
                salt,
                version_key: vk,
                commit_block: block,
                ts_ms: unix_ms() as i64,
            })?;
            self.note_weights("commit", &uids, &values, vk, &out).await;
        } else {
            let out = self
                .chain
                .set_weights(&self.signer, netuid, &uids, &values, vk)
                .await?;
            self.note_weights("set", &uids, &values, vk, &out).await;
        }
        Ok(())
    }

    async fn note_weights(
        &self,
        kind: &str,
        uids: &[u16],
        values: &[u16],
        version_key: u64,
        out: &TxOutcome,
    ) {
        let block = match self.chain.block_number().await {
            Ok(b) => b,
            Err(_) => self.metagraph().block,
        };
        self.last_weights_block.store(block, Ordering::Relaxed);
        self.metrics.weights(kind);
        tracing::info!(kind, block, ?uids, ?values, tx = %out.extrinsic_hash, "weights on chain");
        let rec = WeightsRecord {
            id: 0,
            ts_ms: unix_ms() as i64,
            block,
            kind: kind.to_string(),
            uids: uids.to_vec(),
            values: values.to_vec(),
            version_key,
            tx_hash: out.extrinsic_hash.clone(),
            block_hash: out.block_hash.clone(),
        };
        if let Err(e) = self.store.record_weights(&rec) {
            tracing::error!(error = %e, "weights set on chain but not recorded in the database");
        }
    }

    // ----- challenge task ----------------------------------------------------------

    async fn challenge_loop(self: Arc<Self>) {
        let pause = Duration::from_millis(self.cfg.challenge.interval_ms);
        loop {
            self.round().await;
            tokio::time::sleep(pause).await;
        }
    }

    /// One round: a model drawn by weight, a sample of serving miners, a
    /// fresh input and nonce per chain of requests.
    pub async fn round(self: &Arc<Self>) {
        let m = self.metagraph();
        let Some(own) = self.own_uid(&m) else {
            return;
        };
        let targets = challenge::serving_targets(&m, own);
        if targets.is_empty() {
            tracing::debug!("no serving miners");
            return;
        }
        let (model, sample) = {
            let mut rng = rand::rng();
            let model = self.models.pick(&mut rng);
            let sample: Vec<Target> = targets
                .choose_multiple(&mut rng, self.cfg.challenge.sample_size)
                .cloned()
                .collect();
            (model, sample)
        };
        let slices = model.num_slices();
        let spread = self.cfg.challenge.spread_slices && slices > 1 && sample.len() > 1;
        let mut chains = Vec::with_capacity(sample.len());
        for i in 0..sample.len() {
            let Some((input, nonce)) = self.fresh_input(&model) else {
                continue;
            };
            // Spread: slice k of chain i goes to miner i + k, so consecutive
            // slices are proved by different miners.
            let plan: Vec<(Target, usize, usize)> = if spread {
                (0..slices)
                    .map(|k| (sample[(i + k) % sample.len()].clone(), k, k))
                    .collect()
            } else {
                vec![(sample[i].clone(), 0, slices - 1)]
            };
            chains.push(self.run_chain(Arc::clone(&model), plan, input, nonce));
        }
        futures::future::join_all(chains).await;
    }

    /// A never-used input (its digest recorded) and a fresh nonce.
    fn fresh_input(&self, model: &ChallengeModel) -> Option<(circuits::model::QTensor, [u8; 32])> {
        for _ in 0..4 {
            let input = model.compiled.random_input(challenge::fresh_bytes());
            match self.store.claim_input(&input.digest(), unix_ms() as i64) {
                Ok(true) => return Some((input, challenge::fresh_bytes())),
                Ok(false) => tracing::warn!("drew an input used before; drawing again"),
                Err(e) => {
                    tracing::error!(error = %e, "cannot record the challenge input");
                    return None;
                }
            }
        }
        None
    }

    /// Runs a chain of requests; each verified slice output feeds the next.
    async fn run_chain(
        &self,
        model: Arc<ChallengeModel>,
        plan: Vec<(Target, usize, usize)>,
        input: circuits::model::QTensor,
        nonce: [u8; 32],
    ) {
        let timeout =
            model.entry.timeout() + Duration::from_millis(self.cfg.challenge.network_slack_ms);
        let mut current = input;
        for (target, first, last) in plan {
            let job = Job {
                target,
                model: Arc::clone(&model),
                first_slice: first,
                last_slice: last,
                input: current.clone(),
                nonce,
            };
            let answer = {
                let Ok(_permit) = self.requests.acquire().await else {
                    return;
                };
                let _in_flight = self.metrics.request_started();
                challenge::execute(&self.http, &self.signer, self.scheme, &job, timeout).await
            };
            let next = answer.result.as_ref().ok().map(|v| v.output.clone());
            self.score(&job, answer).await;
            match next {
                Some(out) => current = out,
                None => return,
            }
        }
    }

    /// Scores one answer: reward or failure, EMA update, database, metrics.
    async fn score(&self, job: &Job, answer: Answer) {
        let entry = &job.model.entry;
        let first = job.first_slice as u32;
        let last = job.last_slice as u32;
        let model_id = entry.id.to_hex();
        let latency_s = answer.latency_ms.map(|ms| ms as f64 / 1e3);
        let mut rec = RequestRecord {
            id: 0,
            ts_ms: unix_ms() as i64,
            challenge_id: job.challenge_id(),
            uid: job.target.uid,
            hotkey: job.target.hotkey_ss58.clone(),
            model_id: model_id.clone(),
            model_name: entry.name.clone(),
            first_slice: first,
            last_slice: last,
            success: false,
            reason: None,
            detail: None,
            latency_ms: answer.latency_ms,
            prove_time_ms: None,
            memory_bytes: None,
            proof_bytes: None,
            verify_ms: None,
            reward: 0.0,
            score_after: 0.0,
            input_digest: hex::encode(job.input.digest()),
        };
        let verdict: Result<f64, Failure> = match &answer.result {
            Ok(v) => {
                self.metrics.proof_verified();
                rec.prove_time_ms = Some(v.prove_time_ms);
                rec.memory_bytes = Some(v.memory_bytes);
                rec.proof_bytes = Some(v.proof_bytes);
                rec.verify_ms = Some(v.verify_ms);
                let best = match self.store.best_proof_bytes(&model_id, first, last) {
                    Ok(b) => b.map_or(v.proof_bytes, |b| b.min(v.proof_bytes)),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the best proof size");
                        v.proof_bytes
                    }
                };
                let measured = Measured {
                    latency_ms: answer.latency_ms.unwrap_or(0),
                    reference_ms: scoring::reference_latency_ms(
                        entry.timeout_ms,
                        &self.cfg.scoring,
                    ),
                    reported_memory_bytes: v.memory_bytes,
                    min_memory_bytes: job.model.min_memory_bytes(job.first_slice, job.last_slice),
                    proof_bytes: v.proof_bytes,
                    best_proof_bytes: best,
                };
                scoring::reward(&measured, &self.cfg.scoring)
                    .map_err(|e| Failure::Implausible(e.to_string()))
            }
            Err(f) => {
                if matches!(f, Failure::InvalidProof(_)) {
                    self.metrics.proof_failed();
                }
                Err(f.clone())
            }
        };
        let mut scores = self.scores.lock().await;
        let key = (job.target.uid, job.target.hotkey_ss58.clone());
        let mut row = scores.get(&key).cloned().unwrap_or(ScoreRow {
            uid: job.target.uid,
            hotkey: job.target.hotkey_ss58.clone(),
            score: 0.0,
            successes: 0,
            failures: 0,
            last_seen_ms: 0,
        });
        row.last_seen_ms = rec.ts_ms;
        match &verdict {
            Ok(r) => {
                row.score = scoring::ema_success(row.score, *r, &self.cfg.scoring);
                row.successes += 1;
                rec.success = true;
                rec.reward = *r;
            }
            Err(f) => {
                row.score = scoring::ema_failure(row.score, &self.cfg.scoring);
                row.failures += 1;
                rec.reason = Some(f.code().to_string());
                rec.detail = Some(f.detail());
            }
        }
        rec.score_after = row.score;
        self.metrics
            .request(verdict.as_ref().err().map(Failure::code), latency_s);
        match &verdict {
            Ok(r) => tracing::info!(
                uid = row.uid, model = %entry.name, slices = %format!("{first}..={last}"),
                latency_ms = answer.latency_ms, reward = %format!("{r:.3}"),
                score = %format!("{:.3}", row.score), "verified"
            ),
            Err(f) => tracing::info!(
                uid = row.uid, model = %entry.name, slices = %format!("{first}..={last}"),
                reason = f.code(), detail = %f.detail(),
                score = %format!("{:.3}", row.score), "failed"
            ),
        }
        // The database is the record: the in-memory score moves only when
        // the row and the score are stored together.
        match self.store.record(&rec, &row) {
            Ok(_) => {
                scores.insert(key, row);
            }
            Err(e) => {
                tracing::error!(error = %e, uid = row.uid, "result not stored; score unchanged")
            }
        }
    }
}
