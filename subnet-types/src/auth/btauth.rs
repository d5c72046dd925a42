//! btauth/1: the request-signing scheme of bittensor 11, our default.
//!
//! Headers:
//!
//! | header | value |
//! | --- | --- |
//! | `X-Bittensor-Version` | `btauth/1` |
//! | `X-Bittensor-Crypto` | `sr25519` |
//! | `X-Bittensor-Hotkey` | sender hotkey, ss58 |
//! | `X-Bittensor-Receiver` | receiver hotkey, ss58 |
//! | `X-Bittensor-Nonce` | `<unix_ms>.<random>` |
//! | `X-Bittensor-Signature` | `0x` + 64-byte sr25519 signature in hex |
//!
//! The signature covers eight lines joined by `\n` (no trailing newline):
//! `btauth/1`, the crypto scheme, the HTTP method, the request target (path
//! and query), the lower-case hex sha256 of the body, the nonce, the sender
//! and the receiver. The nonce carries the send time, so freshness needs no
//! extra header, and its random part keeps two requests sent in the same
//! millisecond distinct.

use http::{HeaderMap, HeaderValue};
use rand::RngCore;

use super::{
    body_sha256_hex, check_receiver, check_signature, hotkey_public, parse_signature, required,
    AuthError, Caller,
};

pub const VERSION: &str = "btauth/1";
pub const CRYPTO_SR25519: &str = "sr25519";

pub const H_VERSION: &str = "x-bittensor-version";
pub const H_HOTKEY: &str = "x-bittensor-hotkey";
pub const H_RECEIVER: &str = "x-bittensor-receiver";
pub const H_NONCE: &str = "x-bittensor-nonce";
pub const H_CRYPTO: &str = "x-bittensor-crypto";
pub const H_SIGNATURE: &str = "x-bittensor-signature";

/// Longest random part of a nonce.
const MAX_NONCE_RANDOM_LEN: usize = 64;

/// The exact text that is signed.
pub fn signed_text(
    method: &str,
    target: &str,
    body_sha256_hex: &str,
    nonce: &str,
    sender: &str,
    receiver: &str,
) -> String {
    [
        VERSION,
        CRYPTO_SR25519,
        method,
        target,
        body_sha256_hex,
        nonce,
        sender,
        receiver,
    ]
    .join("\n")
}

/// A fresh nonce for a request sent at `now_ms`.
pub fn new_nonce(now_ms: u64) -> String {
    let mut random = [0u8; 16];
    rand::rng().fill_bytes(&mut random);
    format!("{now_ms}.{}", hex::encode(random))
}

/// Splits a nonce into its send time; refuses anything not of the form
/// `<decimal unix ms>.<1..=64 of [0-9A-Za-z_-]>`.
pub fn parse_nonce(nonce: &str) -> Result<u64, AuthError> {
    let bad = |reason: &str| AuthError::BadHeader {
        header: H_NONCE,
        reason: reason.to_string(),
    };
    let (ms, random) = nonce
        .split_once('.')
        .ok_or_else(|| bad("expected <unix_ms>.<random>"))?;
    if ms.is_empty() || ms.len() > 20 || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("timestamp is not a decimal number of milliseconds"));
    }
    if random.is_empty()
        || random.len() > MAX_NONCE_RANDOM_LEN
        || !random
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(bad("random part must be 1..=64 of [0-9A-Za-z_-]"));
    }
    ms.parse::<u64>()
        .map_err(|_| bad("timestamp does not fit in 64 bits"))
}

fn value(s: &str) -> HeaderValue {
    // Every value we produce is ss58, hex, digits or a fixed token: always
    // valid header text.
    HeaderValue::from_str(s).expect("btauth header values are ASCII")
}

/// Signs `method target` with `body` from `keypair` to `receiver` (ss58).
pub fn sign(
    keypair: &wallet::Keypair,
    method: &str,
    target: &str,
    body: &[u8],
    receiver: &str,
    now_ms: u64,
) -> HeaderMap {
    sign_with_nonce(keypair, method, target, body, receiver, &new_nonce(now_ms))
}

/// [`sign`] with a caller-chosen nonce (tests, and clients that keep their
/// own nonce sequence).
pub fn sign_with_nonce(
    keypair: &wallet::Keypair,
    method: &str,
    target: &str,
    body: &[u8],
    receiver: &str,
    nonce: &str,
) -> HeaderMap {
    let sender = keypair.ss58_address();
    let text = signed_text(
        method,
        target,
        &body_sha256_hex(body),
        nonce,
        &sender,
        receiver,
    );
    let sig = keypair.sign(text.as_bytes());
    let mut h = HeaderMap::new();
    h.insert(H_VERSION, value(VERSION));
    h.insert(H_CRYPTO, value(CRYPTO_SR25519));
    h.insert(H_HOTKEY, value(&sender));
    h.insert(H_RECEIVER, value(receiver));
    h.insert(
        H_NONCE,
        HeaderValue::from_str(nonce).unwrap_or_else(|_| HeaderValue::from_static("invalid")),
    );
    h.insert(H_SIGNATURE, value(&format!("0x{}", hex::encode(sig))));
    h
}

/// Checks everything but freshness and replay (see [`super::Verifier`]).
pub fn verify(
    method: &str,
    target: &str,
    headers: &HeaderMap,
    body: &[u8],
    own_hotkey: &str,
) -> Result<Caller, AuthError> {
    let version = required(headers, H_VERSION)?;
    if version != VERSION {
        return Err(AuthError::BadHeader {
            header: H_VERSION,
            reason: format!("'{version}' is not supported, expected '{VERSION}'"),
        });
    }
    let crypto = required(headers, H_CRYPTO)?;
    if crypto != CRYPTO_SR25519 {
        return Err(AuthError::BadHeader {
            header: H_CRYPTO,
            reason: format!("'{crypto}' is not supported, expected '{CRYPTO_SR25519}'"),
        });
    }
    let signature = parse_signature(H_SIGNATURE, required(headers, H_SIGNATURE)?)?;
    let sender = required(headers, H_HOTKEY)?;
    let public_key = hotkey_public(H_HOTKEY, sender)?;
    let receiver = required(headers, H_RECEIVER)?;
    check_receiver(own_hotkey, receiver)?;
    let nonce = required(headers, H_NONCE)?;
    let sent_ms = parse_nonce(nonce)?;
    let text = signed_text(
        method,
        target,
        &body_sha256_hex(body),
        nonce,
        sender,
        receiver,
    );
    check_signature(&public_key, text.as_bytes(), &signature)?;
    Ok(Caller {
        hotkey: sender.to_string(),
        public_key,
        nonce: nonce.to_string(),
        sent_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_parse_and_malformed_ones_fail() {
        let n = new_nonce(1_700_000_000_000);
        assert_eq!(parse_nonce(&n).unwrap(), 1_700_000_000_000);
        assert_ne!(n, new_nonce(1_700_000_000_000));
        for bad in [
            "",
            "123",
            ".abc",
            "123.",
            "12a.abc",
            "123.a b",
            "123.abc.def",
            "99999999999999999999.x",
            "-1.abc",
        ] {
            assert!(parse_nonce(bad).is_err(), "{bad:?}");
        }
        let long = format!("1.{}", "a".repeat(65));
        assert!(parse_nonce(&long).is_err());
    }

    #[test]
    fn signed_text_has_eight_lines_in_order() {
        let t = signed_text("POST", "/Challenge", "ab", "1.x", "5S", "5R");
        assert_eq!(
            t.split('\n').collect::<Vec<_>>(),
            [
                "btauth/1",
                "sr25519",
                "POST",
                "/Challenge",
                "ab",
                "1.x",
                "5S",
                "5R"
            ]
        );
    }
}
