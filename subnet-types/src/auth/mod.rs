//! Who sent a request, and may it be answered?
//!
//! A miner must only spend proving time on requests from validators it has
//! checked on chain, and a validator must know its challenge reached the
//! miner it meant. Both schemes here sign over the body hash, the sender, the
//! receiver and a timestamped nonce with the sender's sr25519 hotkey
//! (context `"substrate"`, as the wallet and the chain do):
//!
//! * [`btauth`] — bittensor's btauth/1, the default for this subnet;
//! * [`legacy`] — bittensor v10 dendrite headers, for interoperability. Unlike
//!   bittensor's Python axon we never skip verification of an empty signature.
//!
//! Verification is split in two so that the replay cache only ever holds
//! nonces of callers the server has authorised: [`Verifier::verify`] checks
//! headers, freshness, receiver and signature; the server then checks the
//! caller against the metagraph; [`Verifier::commit`] finally records the
//! nonce and refuses a replay. Unauthorised strangers therefore cannot fill
//! the cache and evict a real validator's nonces.

pub mod btauth;
pub mod legacy;
mod replay;

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

pub use replay::ReplayCache;

/// Largest header value we read; anything longer is refused unparsed.
pub const MAX_HEADER_LEN: usize = 512;
/// A request older than this is stale (btauth/1's 10 s window).
pub const DEFAULT_MAX_AGE_MS: u64 = 10_000;
/// Tolerated clock skew for requests from the future.
pub const DEFAULT_MAX_FUTURE_MS: u64 = 2_000;
/// Default bound on remembered nonces.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Which header scheme a server accepts or a client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthScheme {
    /// btauth/1 (`X-Bittensor-*` headers).
    #[default]
    Btauth,
    /// bittensor v10 (`bt_header_dendrite_*` headers).
    Legacy,
}

impl std::str::FromStr for AuthScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "btauth" | "btauth/1" => Ok(Self::Btauth),
            "legacy" | "v10" => Ok(Self::Legacy),
            other => Err(format!(
                "unknown auth scheme '{other}' (expected 'btauth' or 'legacy')"
            )),
        }
    }
}

impl std::fmt::Display for AuthScheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Btauth => "btauth",
            Self::Legacy => "legacy",
        })
    }
}

/// Why a request was not authenticated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {header}: {reason}")]
    BadHeader {
        header: &'static str,
        reason: String,
    },
    #[error("empty signature")]
    EmptySignature,
    #[error("bad signature")]
    BadSignature,
    #[error("request is stale: sent {age_ms} ms ago, the limit is {limit_ms} ms")]
    Stale { age_ms: u64, limit_ms: u64 },
    #[error("request is from the future: {ahead_ms} ms ahead, the limit is {limit_ms} ms")]
    FromFuture { ahead_ms: u64, limit_ms: u64 },
    #[error("request is addressed to {got}, not to this hotkey ({expected})")]
    WrongReceiver { expected: String, got: String },
    #[error("nonce already used by this hotkey (replay)")]
    Replayed,
    #[error("too many requests in flight to remember their nonces; retry later")]
    ReplayCacheFull,
}

impl AuthError {
    /// The HTTP status a server answers with: 401 for anything wrong with the
    /// credentials, 503 when the server itself cannot take more.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ReplayCacheFull => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// An authenticated sender whose nonce has not been recorded yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// Sender hotkey, ss58.
    pub hotkey: String,
    /// Sender public key.
    pub public_key: [u8; 32],
    /// The nonce, as sent.
    pub nonce: String,
    /// Send time claimed by the nonce, unix milliseconds.
    pub sent_ms: u64,
}

/// Verifier settings.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Header scheme accepted.
    pub scheme: AuthScheme,
    /// This server's own hotkey, ss58: requests for anyone else are refused.
    pub own_hotkey: String,
    pub max_age_ms: u64,
    pub max_future_ms: u64,
    pub replay_capacity: usize,
}

impl VerifierConfig {
    /// The protocol's default windows and cache size.
    pub fn new(scheme: AuthScheme, own_hotkey: impl Into<String>) -> Self {
        Self {
            scheme,
            own_hotkey: own_hotkey.into(),
            max_age_ms: DEFAULT_MAX_AGE_MS,
            max_future_ms: DEFAULT_MAX_FUTURE_MS,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
        }
    }
}

/// Server-side request authentication with replay protection.
pub struct Verifier {
    config: VerifierConfig,
    replay: Mutex<ReplayCache>,
}

impl Verifier {
    pub fn new(config: VerifierConfig) -> Self {
        let replay = Mutex::new(ReplayCache::new(config.replay_capacity));
        Self { config, replay }
    }

    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// Checks headers, receiver, freshness (against `now_ms`) and signature
    /// of a request for `method target` with `body`. Does not record the
    /// nonce: call [`Verifier::commit`] once the caller is authorised.
    pub fn verify(
        &self,
        method: &str,
        target: &str,
        headers: &HeaderMap,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Caller, AuthError> {
        let caller = match self.config.scheme {
            AuthScheme::Btauth => {
                btauth::verify(method, target, headers, body, &self.config.own_hotkey)?
            }
            AuthScheme::Legacy => legacy::verify(headers, body, &self.config.own_hotkey)?,
        };
        check_fresh(
            caller.sent_ms,
            now_ms,
            self.config.max_age_ms,
            self.config.max_future_ms,
        )?;
        Ok(caller)
    }

    /// Records the caller's nonce; refuses one seen within the freshness
    /// window. Entries expire once a request with that nonce would be stale
    /// anyway, so the cache stays bounded by traffic, not by time.
    pub fn commit(&self, caller: &Caller, now_ms: u64) -> Result<(), AuthError> {
        let expires = caller
            .sent_ms
            .saturating_add(self.config.max_age_ms)
            .saturating_add(1);
        // A poisoned lock only means another request panicked mid-insert;
        // the cache is still a valid map, so keep using it.
        let mut cache = self.replay.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(caller.public_key, &caller.nonce, expires, now_ms)
    }

    /// `verify` then `commit`, for servers that authorise by signature only.
    pub fn verify_and_commit(
        &self,
        method: &str,
        target: &str,
        headers: &HeaderMap,
        body: &[u8],
        now_ms: u64,
    ) -> Result<Caller, AuthError> {
        let caller = self.verify(method, target, headers, body, now_ms)?;
        self.commit(&caller, now_ms)?;
        Ok(caller)
    }
}

/// Signs a request with the given scheme, returning headers to add to it.
pub fn sign_request(
    scheme: AuthScheme,
    keypair: &wallet::Keypair,
    method: &str,
    target: &str,
    body: &[u8],
    receiver_ss58: &str,
    now_ms: u64,
) -> HeaderMap {
    match scheme {
        AuthScheme::Btauth => btauth::sign(keypair, method, target, body, receiver_ss58, now_ms),
        AuthScheme::Legacy => legacy::sign(keypair, body, receiver_ss58, now_ms),
    }
}

/// Unix time in milliseconds (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn check_fresh(
    sent_ms: u64,
    now_ms: u64,
    max_age_ms: u64,
    max_future_ms: u64,
) -> Result<(), AuthError> {
    if sent_ms > now_ms {
        let ahead_ms = sent_ms - now_ms;
        if ahead_ms > max_future_ms {
            return Err(AuthError::FromFuture {
                ahead_ms,
                limit_ms: max_future_ms,
            });
        }
    } else {
        let age_ms = now_ms - sent_ms;
        if age_ms > max_age_ms {
            return Err(AuthError::Stale {
                age_ms,
                limit_ms: max_age_ms,
            });
        }
    }
    Ok(())
}

/// Lower-case hex sha256, the body hash both schemes sign.
pub fn body_sha256_hex(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(body))
}

/// A header's value as text, length-limited; `None` if absent.
fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<Option<&'a str>, AuthError> {
    let mut values = headers.get_all(name).iter();
    let Some(v) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::BadHeader {
            header: name,
            reason: "given more than once".into(),
        });
    }
    if v.len() > MAX_HEADER_LEN {
        return Err(AuthError::BadHeader {
            header: name,
            reason: format!("longer than {MAX_HEADER_LEN} bytes"),
        });
    }
    v.to_str().map(Some).map_err(|_| AuthError::BadHeader {
        header: name,
        reason: "not visible ASCII".into(),
    })
}

fn required<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, AuthError> {
    header(headers, name)?.ok_or(AuthError::MissingHeader(name))
}

/// Decodes an ss58 hotkey header into its public key.
fn hotkey_public(header: &'static str, ss58: &str) -> Result<[u8; 32], AuthError> {
    wallet::ss58::decode(ss58)
        .map(|(pk, _)| pk)
        .map_err(|e| AuthError::BadHeader {
            header,
            reason: e.to_string(),
        })
}

/// Parses a signature: 64 bytes in hex, `0x` prefix optional. Empty is its
/// own error so it can never be mistaken for "unsigned, skip".
fn parse_signature(header: &'static str, text: &str) -> Result<[u8; 64], AuthError> {
    let hex_part = text.strip_prefix("0x").unwrap_or(text);
    if hex_part.is_empty() {
        return Err(AuthError::EmptySignature);
    }
    let mut sig = [0u8; 64];
    hex::decode_to_slice(hex_part, &mut sig).map_err(|e| AuthError::BadHeader {
        header,
        reason: format!("signature is not 64 bytes of hex: {e}"),
    })?;
    Ok(sig)
}

fn check_signature(public: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> Result<(), AuthError> {
    if wallet::keypair::verify(public, message, sig) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

fn check_receiver(expected: &str, got: &str) -> Result<(), AuthError> {
    if expected == got {
        Ok(())
    } else {
        Err(AuthError::WrongReceiver {
            expected: expected.to_string(),
            got: got.to_string(),
        })
    }
}
