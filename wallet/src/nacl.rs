//! The `$NACL` keyfile encryption of bittensor's btwallet:
//! `b"$NACL" || nonce(24) || secretbox(tag(16) || ciphertext)`, keyed by
//! Argon2i(password, fixed salt) with libsodium's "sensitive" limits.
//!
//! The salt is fixed (not per file) in btwallet, so it is here too: any other
//! choice would make our coldkeys unreadable by btcli and theirs by us.

use argon2::{Algorithm, Argon2, Params, Version};
use crypto_secretbox::aead::{Aead, AeadCore, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use zeroize::Zeroizing;

use crate::WalletError;

/// Marker that starts every NaCl-encrypted keyfile.
pub const NACL_PREFIX: &[u8] = b"$NACL";
/// btwallet's fixed Argon2 salt (`b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1"`).
pub const NACL_SALT: [u8; 16] = [
    0x13, 0x71, 0x83, 0xdf, 0xf1, 0x5a, 0x09, 0xbc, 0x9c, 0x90, 0xb5, 0x51, 0x87, 0x39, 0xe9, 0xb1,
];
/// libsodium `crypto_pwhash_argon2i_OPSLIMIT_SENSITIVE`.
pub const ARGON2_OPS: u32 = 8;
/// libsodium `crypto_pwhash_argon2i_MEMLIMIT_SENSITIVE` (512 MiB), in KiB.
pub const ARGON2_MEM_KIB: u32 = 512 * 1024;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Which encryption, if any, a keyfile's bytes use. Detection mirrors
/// btwallet's prefixes so errors can name the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    None,
    Nacl,
    AnsibleVault,
    LegacyFernet,
}

pub fn detect(data: &[u8]) -> Encryption {
    if data.starts_with(NACL_PREFIX) {
        Encryption::Nacl
    } else if data.starts_with(b"$ANSIBLE_VAULT") {
        Encryption::AnsibleVault
    } else if data.starts_with(b"gAAAAA") {
        Encryption::LegacyFernet
    } else {
        Encryption::None
    }
}

fn derive_key(password: &[u8]) -> Result<Zeroizing<[u8; 32]>, WalletError> {
    let params = Params::new(ARGON2_MEM_KIB, ARGON2_OPS, 1, Some(32))
        .map_err(|e| WalletError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password, &NACL_SALT, key.as_mut())
        .map_err(|e| WalletError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Encrypts keyfile bytes with a fresh random nonce.
pub fn encrypt(plaintext: &[u8], password: &str) -> Result<Vec<u8>, WalletError> {
    let key = derive_key(password.as_bytes())?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    let nonce = XSalsa20Poly1305::generate_nonce(&mut crypto_secretbox::aead::OsRng);
    let sealed = cipher
        .encrypt(&nonce, plaintext)
        .map_err(|_| WalletError::Kdf("secretbox encryption failed".into()))?;
    let mut out = Vec::with_capacity(NACL_PREFIX.len() + NONCE_LEN + sealed.len());
    out.extend_from_slice(NACL_PREFIX);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts `$NACL` bytes. `Ok(None)` means the password is wrong (the MAC
/// did not verify); malformed input is an error.
pub fn decrypt(data: &[u8], password: &str) -> Result<Option<Zeroizing<Vec<u8>>>, WalletError> {
    let body = data
        .strip_prefix(NACL_PREFIX)
        .ok_or_else(|| WalletError::Malformed("missing $NACL prefix".into()))?;
    if body.len() < NONCE_LEN + TAG_LEN {
        return Err(WalletError::Malformed(format!(
            "$NACL body is {} bytes, shorter than nonce + tag",
            body.len()
        )));
    }
    let (nonce, sealed) = body.split_at(NONCE_LEN);
    let key = derive_key(password.as_bytes())?;
    let cipher = XSalsa20Poly1305::new(key.as_ref().into());
    Ok(cipher
        .decrypt(Nonce::from_slice(nonce), sealed)
        .ok()
        .map(Zeroizing::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_matches_btwallet_literal() {
        // The Python-style literal from btwallet, transcribed byte by byte.
        let literal: &[u8] = b"\x13q\x83\xdf\xf1Z\t\xbc\x9c\x90\xb5Q\x879\xe9\xb1";
        assert_eq!(literal, NACL_SALT);
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect(b"$NACLxyz"), Encryption::Nacl);
        assert_eq!(detect(b"$ANSIBLE_VAULT;1.1"), Encryption::AnsibleVault);
        assert_eq!(detect(b"gAAAAABk"), Encryption::LegacyFernet);
        assert_eq!(detect(b"{\"a\":1}"), Encryption::None);
    }

    #[test]
    fn truncated_input_is_malformed_not_a_panic() {
        assert!(matches!(
            decrypt(b"$NACL0123", "pw"),
            Err(WalletError::Malformed(_))
        ));
        assert!(matches!(
            decrypt(b"{}", "pw"),
            Err(WalletError::Malformed(_))
        ));
    }
}
