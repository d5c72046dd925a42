//! bittensor v10 dendrite headers, kept for interoperability with tooling
//! that still speaks them.
//!
//! Headers: `bt_header_dendrite_nonce` (unix time in nanoseconds, as
//! bittensor sends it), `bt_header_dendrite_uuid`, `bt_header_dendrite_hotkey`
//! (ss58), `bt_header_dendrite_signature` (`0x` + hex), and
//! `bt_header_axon_hotkey` (the receiver, optional on the wire but checked
//! when present). The signed message is
//! `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}"` with the
//! body hash as lower-case hex sha256 of the raw body bytes (our bodies are
//! SCALE, not bittensor's JSON synapse fields).
//!
//! The verifier rebuilds the message with its *own* hotkey as the axon
//! hotkey, so a request signed for another receiver fails even without the
//! optional header. An empty signature is refused: bittensor's Python axon
//! skips verification in that case, which lets anyone impersonate anyone.

use http::{HeaderMap, HeaderValue};
use rand::RngCore;

use super::{
    body_sha256_hex, check_receiver, check_signature, header, hotkey_public, parse_signature,
    required, AuthError, Caller,
};

pub const H_NONCE: &str = "bt_header_dendrite_nonce";
pub const H_UUID: &str = "bt_header_dendrite_uuid";
pub const H_HOTKEY: &str = "bt_header_dendrite_hotkey";
pub const H_SIGNATURE: &str = "bt_header_dendrite_signature";
pub const H_AXON_HOTKEY: &str = "bt_header_axon_hotkey";

/// Longest uuid accepted (a canonical uuid is 36 characters).
const MAX_UUID_LEN: usize = 64;

/// The exact message that is signed.
pub fn signed_message(nonce: u64, sender: &str, receiver: &str, uuid: &str, body: &[u8]) -> String {
    format!(
        "{nonce}.{sender}.{receiver}.{uuid}.{}",
        body_sha256_hex(body)
    )
}

/// A random (version 4) uuid in canonical text form.
pub fn new_uuid() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).expect("legacy header values are ASCII")
}

/// Signs a request body from `keypair` to `receiver` (ss58) at `now_ms`.
pub fn sign(keypair: &wallet::Keypair, body: &[u8], receiver: &str, now_ms: u64) -> HeaderMap {
    let nonce_ns = now_ms.saturating_mul(1_000_000);
    sign_with(keypair, body, receiver, nonce_ns, &new_uuid())
}

/// [`sign`] with a caller-chosen nonce (nanoseconds) and uuid.
pub fn sign_with(
    keypair: &wallet::Keypair,
    body: &[u8],
    receiver: &str,
    nonce_ns: u64,
    uuid: &str,
) -> HeaderMap {
    let sender = keypair.ss58_address();
    let msg = signed_message(nonce_ns, &sender, receiver, uuid, body);
    let sig = keypair.sign(msg.as_bytes());
    let mut h = HeaderMap::new();
    h.insert(H_NONCE, value(&nonce_ns.to_string()));
    h.insert(
        H_UUID,
        HeaderValue::from_str(uuid).unwrap_or_else(|_| HeaderValue::from_static("invalid")),
    );
    h.insert(H_HOTKEY, value(&sender));
    h.insert(H_AXON_HOTKEY, value(receiver));
    h.insert(H_SIGNATURE, value(&format!("0x{}", hex::encode(sig))));
    h
}

/// Checks everything but freshness and replay (see [`super::Verifier`]).
pub fn verify(headers: &HeaderMap, body: &[u8], own_hotkey: &str) -> Result<Caller, AuthError> {
    let signature = parse_signature(H_SIGNATURE, required(headers, H_SIGNATURE)?)?;
    let sender = required(headers, H_HOTKEY)?;
    let public_key = hotkey_public(H_HOTKEY, sender)?;
    if let Some(receiver) = header(headers, H_AXON_HOTKEY)? {
        check_receiver(own_hotkey, receiver)?;
    }
    let nonce_text = required(headers, H_NONCE)?;
    let nonce_ns = nonce_text
        .parse::<u64>()
        .ok()
        .filter(|_| nonce_text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| AuthError::BadHeader {
            header: H_NONCE,
            reason: "expected unix time in nanoseconds".into(),
        })?;
    let uuid = required(headers, H_UUID)?;
    // The uuid is part of the signed message, which is split on '.', so a
    // dot inside it would make two different requests sign the same text.
    if uuid.is_empty()
        || uuid.len() > MAX_UUID_LEN
        || !uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(AuthError::BadHeader {
            header: H_UUID,
            reason: "expected a uuid of [0-9A-Za-z_-]".into(),
        });
    }
    let msg = signed_message(nonce_ns, sender, own_hotkey, uuid, body);
    check_signature(&public_key, msg.as_bytes(), &signature)?;
    Ok(Caller {
        hotkey: sender.to_string(),
        public_key,
        nonce: nonce_text.to_string(),
        sent_ms: nonce_ns / 1_000_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_canonical_v4() {
        let u = new_uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(u, new_uuid());
    }
}
