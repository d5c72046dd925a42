//! # subnet-types: the validator ↔ miner wire protocol
//!
//! Miner and validator are separate binaries, possibly different versions,
//! talking over an untrusted network. Everything they must agree on byte for
//! byte lives here, so neither side can drift from the other:
//!
//! * [`message`] — the SCALE-encoded [`Challenge`] and [`ChallengeResponse`]
//!   bodies, with hard size limits on every decode.
//! * [`auth`] — request signing and verification: **btauth/1** (the default)
//!   and the **legacy bittensor v10** dendrite headers, for interoperability.
//!
//! A request is `POST /Challenge` with a SCALE [`Challenge`] body
//! (`application/octet-stream`) and signed headers; a successful answer is a
//! SCALE [`ChallengeResponse`]. Errors are plain-text bodies with an HTTP
//! status (401 bad signature, 403 not allowed, 404 unknown model, 413 body
//! too large, 503 busy).

pub mod auth;
pub mod message;

pub use auth::{AuthError, AuthScheme, Caller, Verifier, VerifierConfig};
pub use message::{
    Challenge, ChallengeResponse, MessageError, CHALLENGE_PATH, CONTENT_TYPE, MAX_CHALLENGE_BYTES,
    MAX_CHALLENGE_SLICES, MAX_RESPONSE_BYTES, PROTOCOL_VERSION,
};
