//! One challenge request, from the validator's fresh input to a verdict.
//!
//! The validator never trusts a miner's account of what it proved: it builds
//! the challenge itself (model, input, nonce), sends it signed to the miner's
//! axon, and verifies the returned slice proofs against *its own* input and
//! nonce with the compiled model. Everything that can go wrong on the other
//! side of the wire — no answer in time, an HTTP error, a body too large or
//! undecodable, a proof for anything else — becomes a [`Failure`] with a
//! short reason code for the database and metrics.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use circuits::model::QTensor;
use circuits::registry::{ModelEntry, Registry};
use circuits::zkml::{CompiledModel, SliceProof};
use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use subnet_types::auth::{sign_request, unix_ms};
use subnet_types::{
    AuthScheme, Challenge, ChallengeResponse, CHALLENGE_PATH, CONTENT_TYPE, MAX_RESPONSE_BYTES,
    PROTOCOL_VERSION,
};
use wallet::Keypair;

use crate::ValidatorError;

/// A registry model compiled for challenges.
pub struct ChallengeModel {
    pub entry: ModelEntry,
    pub compiled: CompiledModel,
    /// `min_prover_memory_bytes` of each slice.
    pub min_memory: Vec<u64>,
}

impl ChallengeModel {
    pub fn num_slices(&self) -> usize {
        self.min_memory.len()
    }

    /// Lower bound on the peak memory of proving slices `first..=last` in
    /// one process: the largest single slice bound.
    pub fn min_memory_bytes(&self, first: usize, last: usize) -> u64 {
        self.min_memory[first..=last]
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// The models this validator challenges with, and how often.
pub struct Models {
    models: Vec<Arc<ChallengeModel>>,
    choose: WeightedIndex<u32>,
}

impl Models {
    /// Loads the hash-checked registry and compiles the selected models
    /// (`filter` holds names or ids; empty means every model with a non-zero
    /// challenge weight). A model named in `filter` that does not compile is
    /// an error; without a filter it is skipped with a warning.
    pub fn load(registry_dir: &std::path::Path, filter: &[String]) -> Result<Self, ValidatorError> {
        let registry = Registry::load(registry_dir)?;
        let entries: Vec<ModelEntry> = if filter.is_empty() {
            registry
                .models()
                .iter()
                .filter(|m| m.challenge_weight > 0)
                .cloned()
                .collect()
        } else {
            filter
                .iter()
                .map(|f| registry.get(f).cloned())
                .collect::<Result<_, _>>()?
        };
        let mut models = Vec::new();
        for entry in entries {
            let started = Instant::now();
            match CompiledModel::from_registry(&registry, &entry) {
                Ok(compiled) => {
                    let min_memory: Vec<u64> = compiled
                        .slices()
                        .iter()
                        .map(|s| s.min_prover_memory_bytes())
                        .collect();
                    tracing::info!(
                        model = %entry.name,
                        slices = min_memory.len(),
                        gates = compiled.slices().iter().map(|s| s.num_gates()).sum::<usize>(),
                        ms = started.elapsed().as_millis() as u64,
                        "compiled model"
                    );
                    models.push(Arc::new(ChallengeModel {
                        entry,
                        compiled,
                        min_memory,
                    }));
                }
                Err(e) if filter.is_empty() => {
                    tracing::warn!(model = %entry.name, error = %e, "model does not compile; not challenging with it");
                }
                Err(e) => {
                    return Err(ValidatorError::Model {
                        name: entry.name.clone(),
                        reason: e.to_string(),
                    })
                }
            }
        }
        Self::new(models)
    }

    /// Models with their challenge weights; at least one must have a weight.
    pub fn new(models: Vec<Arc<ChallengeModel>>) -> Result<Self, ValidatorError> {
        // A model selected by name keeps at least weight 1 so it is used.
        let weights: Vec<u32> = models
            .iter()
            .map(|m| m.entry.challenge_weight.max(1))
            .collect();
        let choose = WeightedIndex::new(&weights).map_err(|_| ValidatorError::NoModels)?;
        Ok(Self { models, choose })
    }

    /// A model drawn by challenge weight.
    pub fn pick<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Arc<ChallengeModel> {
        Arc::clone(&self.models[self.choose.sample(rng)])
    }

    pub fn all(&self) -> &[Arc<ChallengeModel>] {
        &self.models
    }
}

/// A miner to challenge, from the metagraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub uid: u16,
    pub hotkey: [u8; 32],
    pub hotkey_ss58: String,
    pub addr: SocketAddr,
}

/// Miners with a usable axon: served, IP neither 0 nor unspecified, port
/// non-zero, and not this validator.
pub fn serving_targets(metagraph: &chain_client::Metagraph, own_uid: u16) -> Vec<Target> {
    metagraph
        .neurons
        .iter()
        .filter(|n| n.uid != own_uid)
        .filter_map(|n| {
            let axon = n.axon.as_ref()?;
            let unusable = match axon.ip {
                IpAddr::V4(v4) => v4.is_unspecified() || v4.is_broadcast(),
                IpAddr::V6(v6) => v6.is_unspecified(),
            };
            if unusable || axon.port == 0 {
                return None;
            }
            Some(Target {
                uid: n.uid,
                hotkey: n.hotkey,
                hotkey_ss58: n.hotkey_ss58(),
                addr: SocketAddr::new(axon.ip, axon.port),
            })
        })
        .collect()
}

/// One request: prove slices `first..=last` of `model` on `input`.
pub struct Job {
    pub target: Target,
    pub model: Arc<ChallengeModel>,
    pub first_slice: usize,
    pub last_slice: usize,
    pub input: QTensor,
    pub nonce: [u8; 32],
}

impl Job {
    pub fn challenge_id(&self) -> String {
        hex::encode(self.nonce)
    }
}

/// Why a response scored as a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    Connect(String),
    /// The connection broke after it was made.
    Transport(String),
    Http {
        status: u16,
        body: String,
    },
    TooLarge(u64),
    Malformed(String),
    ProofCount {
        expected: usize,
        got: usize,
    },
    InvalidProof(String),
    Implausible(String),
}

impl Failure {
    /// Short stable code for the database and the metrics label.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connect",
            Failure::Transport(_) => "transport",
            Failure::Http { .. } => "http_error",
            Failure::TooLarge(_) => "too_large",
            Failure::Malformed(_) => "malformed",
            Failure::ProofCount { .. } => "proof_count",
            Failure::InvalidProof(_) => "invalid_proof",
            Failure::Implausible(_) => "implausible_memory",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Failure::Timeout => "no complete answer before the timeout".into(),
            Failure::Connect(e) => format!("cannot reach the axon: {e}"),
            Failure::Transport(e) => format!("connection failed mid-request: {e}"),
            Failure::Http { status, body } => format!("HTTP {status}: {body}"),
            Failure::TooLarge(n) => {
                format!("response of {n} bytes exceeds the {MAX_RESPONSE_BYTES}-byte limit")
            }
            Failure::Malformed(e) => format!("undecodable response: {e}"),
            Failure::ProofCount { expected, got } => {
                format!("expected {expected} slice proofs, got {got}")
            }
            Failure::InvalidProof(e) => format!("proof rejected: {e}"),
            Failure::Implausible(e) => e.clone(),
        }
    }
}

/// A response whose proofs verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub prove_time_ms: u64,
    pub memory_bytes: u64,
    /// Size of the response body (the slice proofs plus 16 bytes of numbers).
    pub proof_bytes: u64,
    pub verify_ms: u64,
    /// Output of the last proved slice (the next slice's input).
    pub output: QTensor,
}

/// What came back from one request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Send to last byte, when an answer arrived at all.
    pub latency_ms: Option<u64>,
    pub result: Result<Verified, Failure>,
}

/// Sends `job` and judges the answer.
pub async fn execute(
    client: &reqwest::Client,
    signer: &Keypair,
    scheme: AuthScheme,
    job: &Job,
    timeout: Duration,
) -> Answer {
    let challenge = Challenge {
        protocol_version: PROTOCOL_VERSION,
        model_id: job.model.entry.id.0,
        slices: (job.first_slice as u32..=job.last_slice as u32).collect(),
        input: job.input.clone(),
        nonce: job.nonce,
        deadline_ms: unix_ms().saturating_add(timeout.as_millis() as u64),
    };
    let body = challenge.to_bytes();
    let headers = sign_request(
        scheme,
        signer,
        "POST",
        CHALLENGE_PATH,
        &body,
        &job.target.hotkey_ss58,
        unix_ms(),
    );
    let url = format!("http://{}{}", job.target.addr, CHALLENGE_PATH);
    let started = Instant::now();
    let fetched = tokio::time::timeout(timeout, fetch(client, &url, headers, body)).await;
    let latency_ms = started.elapsed().as_millis() as u64;
    let bytes = match fetched {
        Err(_) => {
            return Answer {
                latency_ms: None,
                result: Err(Failure::Timeout),
            }
        }
        Ok(Err(f)) => {
            let answered = !matches!(
                f,
                Failure::Timeout | Failure::Connect(_) | Failure::Transport(_)
            );
            return Answer {
                latency_ms: answered.then_some(latency_ms),
                result: Err(f),
            };
        }
        Ok(Ok(bytes)) => bytes,
    };
    let result = judge(job, bytes).await;
    Answer {
        latency_ms: Some(latency_ms),
        result,
    }
}

/// POSTs the challenge and reads at most [`MAX_RESPONSE_BYTES`] of a 200 body.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
) -> Result<Vec<u8>, Failure> {
    let net = |e: reqwest::Error| {
        if e.is_timeout() {
            Failure::Timeout
        } else if e.is_connect() {
            Failure::Connect(e.to_string())
        } else {
            Failure::Transport(e.to_string())
        }
    };
    let mut resp = client
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(net)?;
    let status = resp.status();
    let limit = MAX_RESPONSE_BYTES as u64;
    if let Some(len) = resp.content_length().filter(|&l| l > limit) {
        return Err(Failure::TooLarge(len));
    }
    let mut buf = Vec::new();
    // Error bodies are only for the log, so they are cut short.
    let keep = if status.is_success() { limit } else { 512 };
    while let Some(chunk) = resp.chunk().await.map_err(net)? {
        if (buf.len() + chunk.len()) as u64 > keep {
            if status.is_success() {
                return Err(Failure::TooLarge((buf.len() + chunk.len()) as u64));
            }
            let room = keep as usize - buf.len();
            buf.extend_from_slice(&chunk[..room]);
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(Failure::Http {
            status: status.as_u16(),
            body: String::from_utf8_lossy(&buf).trim().to_string(),
        });
    }
    Ok(buf)
}

/// Decodes and verifies a response body against the job.
async fn judge(job: &Job, bytes: Vec<u8>) -> Result<Verified, Failure> {
    let proof_bytes = bytes.len() as u64;
    let resp =
        ChallengeResponse::from_bytes(&bytes).map_err(|e| Failure::Malformed(e.to_string()))?;
    drop(bytes);
    let expected = job.last_slice - job.first_slice + 1;
    if resp.proofs.len() != expected {
        return Err(Failure::ProofCount {
            expected,
            got: resp.proofs.len(),
        });
    }
    let model = Arc::clone(&job.model);
    let (first, input, nonce) = (job.first_slice, job.input.clone(), job.nonce);
    let ChallengeResponse {
        proofs,
        prove_time_ms,
        peak_memory_bytes,
    } = resp;
    // Verification is CPU-bound; keep it off the async workers.
    let verified = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let output = verify_range(&model, first, &input, &proofs, &nonce)?;
        Ok::<_, Failure>((output, started.elapsed().as_millis() as u64))
    })
    .await
    .map_err(|e| Failure::InvalidProof(format!("verifier task failed: {e}")))??;
    let (output, verify_ms) = verified;
    Ok(Verified {
        prove_time_ms,
        memory_bytes: peak_memory_bytes,
        proof_bytes,
        verify_ms,
        output,
    })
}

/// Verifies consecutive slice proofs starting at slice `first` on the
/// validator's own `input`. For the whole model this is
/// [`CompiledModel::verify`]; for a sub-range each slice is checked against
/// the previous slice's verified output, which is the same chain check.
pub fn verify_range(
    model: &ChallengeModel,
    first: usize,
    input: &QTensor,
    proofs: &[SliceProof],
    nonce: &[u8; 32],
) -> Result<QTensor, Failure> {
    let invalid = |e: circuits::zkml::ZkmlVerifyError| Failure::InvalidProof(e.to_string());
    if first == 0 && proofs.len() == model.num_slices() {
        return model.compiled.verify(input, proofs, nonce).map_err(invalid);
    }
    let mut current = input.clone();
    for (i, proof) in proofs.iter().enumerate() {
        model
            .compiled
            .verify_slice(first + i, &current, proof, nonce)
            .map_err(invalid)?;
        current = proof.output.clone();
    }
    Ok(current)
}

/// A fresh random 32-byte value (input seed or nonce).
pub fn fresh_bytes() -> [u8; 32] {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use chain_client::{AxonInfo, Metagraph, Neuron};

    fn neuron(uid: u16, ip: &str, port: u16) -> Neuron {
        Neuron {
            uid,
            hotkey: [uid as u8 + 1; 32],
            coldkey: [0; 32],
            axon: (!ip.is_empty()).then(|| AxonInfo {
                block: 1,
                version: 1,
                ip: ip.parse().unwrap(),
                port,
                ip_type: 4,
                protocol: 4,
                placeholder1: 0,
                placeholder2: 0,
            }),
            stake: 0,
            validator_permit: false,
            active: true,
            incentive: 0,
            dividends: 0,
            consensus: 0,
            validator_trust: 0,
            emission: 0,
            last_update: 0,
            weights: vec![],
        }
    }

    #[test]
    fn only_usable_axons_are_targets() {
        let m = Metagraph {
            netuid: 1,
            block: 1,
            tempo: 10,
            weights_set_rate_limit: 0,
            weights_version_key: 0,
            commit_reveal_enabled: false,
            neurons: vec![
                neuron(0, "127.0.0.2", 8091), // the validator itself
                neuron(1, "127.0.0.2", 8092),
                neuron(2, "", 0),           // never served
                neuron(3, "0.0.0.0", 8093), // ip 0
                neuron(4, "127.0.0.3", 0),  // port 0
                neuron(5, "127.0.0.3", 8094),
            ],
        };
        let t = serving_targets(&m, 0);
        let uids: Vec<u16> = t.iter().map(|t| t.uid).collect();
        assert_eq!(uids, vec![1, 5]);
        assert_eq!(t[1].addr, "127.0.0.3:8094".parse().unwrap());
        assert_eq!(t[0].hotkey_ss58, m.neurons[1].hotkey_ss58());
    }

    #[test]
    fn failure_codes_are_distinct() {
        let all = [
            Failure::Timeout,
            Failure::Connect(String::new()),
            Failure::Transport(String::new()),
            Failure::Http {
                status: 503,
                body: String::new(),
            },
            Failure::TooLarge(0),
            Failure::Malformed(String::new()),
            Failure::ProofCount {
                expected: 1,
                got: 0,
            },
            Failure::InvalidProof(String::new()),
            Failure::Implausible(String::new()),
        ];
        let mut codes: Vec<&str> = all.iter().map(Failure::code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
