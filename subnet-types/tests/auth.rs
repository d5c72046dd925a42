//! Sign/verify for both schemes: the good path and every way a request must
//! be refused.

use http::HeaderMap;
use subnet_types::auth::{btauth, legacy, sign_request};
use subnet_types::{AuthError, AuthScheme, Verifier, VerifierConfig};
use wallet::Keypair;

const NOW: u64 = 1_750_000_000_000;
const BODY: &[u8] = b"\x01\x00some scale body";
const TARGET: &str = "/Challenge";

fn keys() -> (Keypair, Keypair, Keypair) {
    (
        Keypair::from_dev_uri("//Alice").unwrap(),
        Keypair::from_dev_uri("//Bob").unwrap(),
        Keypair::from_dev_uri("//Charlie").unwrap(),
    )
}

fn verifier(scheme: AuthScheme, own: &Keypair) -> Verifier {
    Verifier::new(VerifierConfig::new(scheme, own.ss58_address()))
}

fn sign(scheme: AuthScheme, from: &Keypair, to: &Keypair, body: &[u8], at: u64) -> HeaderMap {
    sign_request(scheme, from, "POST", TARGET, body, &to.ss58_address(), at)
}

fn check(v: &Verifier, h: &HeaderMap, body: &[u8], now: u64) -> Result<String, AuthError> {
    v.verify_and_commit("POST", TARGET, h, body, now)
        .map(|c| c.hotkey)
}

fn both() -> [AuthScheme; 2] {
    [AuthScheme::Btauth, AuthScheme::Legacy]
}

#[test]
fn good_request_verifies_once_then_is_a_replay() {
    let (validator, miner, _) = keys();
    for scheme in both() {
        let v = verifier(scheme, &miner);
        let h = sign(scheme, &validator, &miner, BODY, NOW);
        assert_eq!(check(&v, &h, BODY, NOW + 5), Ok(validator.ss58_address()));
        assert_eq!(check(&v, &h, BODY, NOW + 6), Err(AuthError::Replayed));
        // A second, freshly signed request is fine.
        let h2 = sign(scheme, &validator, &miner, BODY, NOW + 1);
        if scheme == AuthScheme::Legacy {
            // Legacy nonces are the send time only; a new time is a new nonce.
            assert_ne!(h2.get(legacy::H_NONCE), h.get(legacy::H_NONCE));
        }
        assert!(check(&v, &h2, BODY, NOW + 7).is_ok(), "{scheme}");
    }
}

#[test]
fn tampered_body_is_a_bad_signature() {
    let (validator, miner, _) = keys();
    for scheme in both() {
        let v = verifier(scheme, &miner);
        let h = sign(scheme, &validator, &miner, BODY, NOW);
        let mut tampered = BODY.to_vec();
        tampered[0] ^= 1;
        let err = check(&v, &h, &tampered, NOW).unwrap_err();
        assert_eq!(err, AuthError::BadSignature, "{scheme}");
        assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
    }
}

#[test]
fn request_for_another_receiver_is_refused() {
    let (validator, miner, other) = keys();
    for scheme in both() {
        let v = verifier(scheme, &miner);
        let h = sign(scheme, &validator, &other, BODY, NOW);
        assert!(
            matches!(
                check(&v, &h, BODY, NOW),
                Err(AuthError::WrongReceiver { .. })
            ),
            "{scheme}"
        );
    }
    // Legacy without the optional receiver header: the signed message names
    // the other receiver, so the signature fails.
    let v = verifier(AuthScheme::Legacy, &miner);
    let mut h = sign(AuthScheme::Legacy, &validator, &other, BODY, NOW);
    h.remove(legacy::H_AXON_HOTKEY);
    assert_eq!(check(&v, &h, BODY, NOW), Err(AuthError::BadSignature));
}

#[test]
fn stale_and_future_requests_are_refused() {
    let (validator, miner, _) = keys();
    for scheme in both() {
        let v = verifier(scheme, &miner);
        let h = sign(scheme, &validator, &miner, BODY, NOW);
        assert!(matches!(
            check(&v, &h, BODY, NOW + 10_001),
            Err(AuthError::Stale { .. })
        ));
        let h = sign(scheme, &validator, &miner, BODY, NOW + 2_001);
        assert!(matches!(
            check(&v, &h, BODY, NOW),
            Err(AuthError::FromFuture { .. })
        ));
        // Inside both windows.
        let h = sign(scheme, &validator, &miner, BODY, NOW + 1_999);
        assert!(check(&v, &h, BODY, NOW).is_ok());
        let h = sign(scheme, &validator, &miner, BODY, NOW - 9_999);
        assert!(check(&v, &h, BODY, NOW).is_ok());
    }
}

#[test]
fn signature_by_another_key_is_refused() {
    let (validator, miner, mallory) = keys();
    for scheme in both() {
        let v = verifier(scheme, &miner);
        // Mallory signs but claims to be the validator.
        let mut h = sign(scheme, &mallory, &miner, BODY, NOW);
        let hotkey_header = match scheme {
            AuthScheme::Btauth => btauth::H_HOTKEY,
            AuthScheme::Legacy => legacy::H_HOTKEY,
        };
        h.insert(hotkey_header, validator.ss58_address().parse().unwrap());
        assert_eq!(check(&v, &h, BODY, NOW), Err(AuthError::BadSignature));
    }
}

#[test]
fn missing_and_empty_signatures_are_refused() {
    let (validator, miner, _) = keys();
    for (scheme, sig_header) in [
        (AuthScheme::Btauth, btauth::H_SIGNATURE),
        (AuthScheme::Legacy, legacy::H_SIGNATURE),
    ] {
        let v = verifier(scheme, &miner);
        assert!(matches!(
            check(&v, &HeaderMap::new(), BODY, NOW),
            Err(AuthError::MissingHeader(_))
        ));
        let mut h = sign(scheme, &validator, &miner, BODY, NOW);
        h.remove(sig_header);
        assert_eq!(
            check(&v, &h, BODY, NOW),
            Err(AuthError::MissingHeader(sig_header))
        );
        for empty in ["", "0x"] {
            h.insert(sig_header, empty.parse().unwrap());
            assert_eq!(check(&v, &h, BODY, NOW), Err(AuthError::EmptySignature));
        }
        h.insert(sig_header, "0x1234".parse().unwrap());
        assert!(matches!(
            check(&v, &h, BODY, NOW),
            Err(AuthError::BadHeader { .. })
        ));
    }
}

#[test]
fn btauth_binds_method_target_and_nonce() {
    let (validator, miner, _) = keys();
    let v = verifier(AuthScheme::Btauth, &miner);
    let h = sign(AuthScheme::Btauth, &validator, &miner, BODY, NOW);
    assert_eq!(
        v.verify("PUT", TARGET, &h, BODY, NOW),
        Err(AuthError::BadSignature)
    );
    assert_eq!(
        v.verify("POST", "/Other", &h, BODY, NOW),
        Err(AuthError::BadSignature)
    );
    let mut moved = h.clone();
    moved.insert(btauth::H_NONCE, format!("{NOW}.deadbeef").parse().unwrap());
    assert_eq!(
        v.verify("POST", TARGET, &moved, BODY, NOW),
        Err(AuthError::BadSignature)
    );
    let mut wrong_version = h.clone();
    wrong_version.insert(btauth::H_VERSION, "btauth/2".parse().unwrap());
    assert!(matches!(
        v.verify("POST", TARGET, &wrong_version, BODY, NOW),
        Err(AuthError::BadHeader { .. })
    ));
    // Verifying does not consume the nonce; committing does.
    let caller = v.verify("POST", TARGET, &h, BODY, NOW).unwrap();
    v.commit(&caller, NOW).unwrap();
    assert_eq!(v.commit(&caller, NOW), Err(AuthError::Replayed));
}

#[test]
fn legacy_message_format_matches_v10() {
    let (validator, miner, _) = keys();
    let uuid = "0b7f2d7e-1c1a-4c53-9b0a-2a4f0c3b8e11";
    let nonce_ns = NOW * 1_000_000;
    let h = legacy::sign_with(&validator, BODY, &miner.ss58_address(), nonce_ns, uuid);
    let msg = format!(
        "{nonce_ns}.{}.{}.{uuid}.{}",
        validator.ss58_address(),
        miner.ss58_address(),
        subnet_types::auth::body_sha256_hex(BODY)
    );
    let sig_hex = h.get(legacy::H_SIGNATURE).unwrap().to_str().unwrap();
    let mut sig = [0u8; 64];
    hex::decode_to_slice(sig_hex.strip_prefix("0x").unwrap(), &mut sig).unwrap();
    assert!(wallet::keypair::verify(
        &validator.public_key(),
        msg.as_bytes(),
        &sig
    ));
    // A uuid with a '.' could shift fields of the dotted message; refused.
    let v = verifier(AuthScheme::Legacy, &miner);
    let bad = legacy::sign_with(&validator, BODY, &miner.ss58_address(), nonce_ns, "a.b");
    assert!(matches!(
        check(&v, &bad, BODY, NOW),
        Err(AuthError::BadHeader { .. })
    ));
}

#[test]
fn a_full_replay_cache_answers_503() {
    let (validator, miner, _) = keys();
    let mut cfg = VerifierConfig::new(AuthScheme::Btauth, miner.ss58_address());
    cfg.replay_capacity = 2;
    let v = Verifier::new(cfg);
    for i in 0..2 {
        let h = sign(AuthScheme::Btauth, &validator, &miner, BODY, NOW + i);
        check(&v, &h, BODY, NOW + 2).unwrap();
    }
    let h = sign(AuthScheme::Btauth, &validator, &miner, BODY, NOW + 2);
    let err = check(&v, &h, BODY, NOW + 2).unwrap_err();
    assert_eq!(err, AuthError::ReplayCacheFull);
    assert_eq!(err.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    // Once the earlier nonces have expired there is room again.
    let h = sign(AuthScheme::Btauth, &validator, &miner, BODY, NOW + 10_500);
    assert!(check(&v, &h, BODY, NOW + 10_500).is_ok());
}
