//! The keyfile JSON document and its (de)serialization, byte-compatible with
//! btwallet: camelCase fields, `0x`-prefixed hex, `cryptoType` 1 = sr25519.
//! Public-only files (`coldkeypub.txt`) carry just the public fields.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{nacl, ss58, Keypair, WalletError};

/// btwallet's `cryptoType` for sr25519 (ed25519 is 0; we only sign with sr25519).
pub const CRYPTO_SR25519: u8 = 1;

/// The JSON fields of a keyfile. All optional because public files omit the
/// secrets and older btwallet versions omit `cryptoType`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct KeyfileData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_phrase: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_seed: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ss58_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_type: Option<u8>,
}

impl Drop for KeyfileData {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.private_key.zeroize();
        self.secret_phrase.zeroize();
        self.secret_seed.zeroize();
    }
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn parse_hex<const N: usize>(field: &str, value: &str) -> Result<Zeroizing<[u8; N]>, WalletError> {
    let digits = value.strip_prefix("0x").unwrap_or(value);
    let mut out = Zeroizing::new([0u8; N]);
    hex::decode_to_slice(digits, out.as_mut())
        .map_err(|e| WalletError::Malformed(format!("{field}: expected {N} hex bytes: {e}")))?;
    Ok(out)
}

impl KeyfileData {
    /// Full keyfile (secrets included) for a key pair.
    pub fn from_keypair(keypair: &Keypair) -> Self {
        let public = hex0x(&keypair.public_key());
        KeyfileData {
            account_id: Some(public.clone()),
            public_key: Some(public),
            private_key: Some(hex0x(keypair.private_key().as_ref())),
            secret_phrase: keypair.mnemonic().map(str::to_string),
            secret_seed: keypair.seed().map(|s| hex0x(s)),
            ss58_address: Some(keypair.ss58_address()),
            crypto_type: Some(CRYPTO_SR25519),
        }
    }

    /// Public-only keyfile (`coldkeypub.txt`, `<hotkey>pub.txt`).
    pub fn public_only(keypair: &Keypair) -> Self {
        let public = hex0x(&keypair.public_key());
        KeyfileData {
            account_id: Some(public.clone()),
            public_key: Some(public),
            private_key: None,
            secret_phrase: None,
            secret_seed: None,
            ss58_address: Some(keypair.ss58_address()),
            crypto_type: Some(CRYPTO_SR25519),
        }
    }

    pub fn to_json(&self) -> Zeroizing<String> {
        // Serializing plain strings and integers cannot fail.
        Zeroizing::new(serde_json::to_string(self).unwrap_or_default())
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, WalletError> {
        let data: KeyfileData = serde_json::from_slice(bytes)
            .map_err(|e| WalletError::Malformed(format!("not keyfile JSON: {e}")))?;
        if let Some(t) = data.crypto_type {
            if t != CRYPTO_SR25519 {
                return Err(WalletError::InvalidKey(format!(
                    "cryptoType {t} is not sr25519; only sr25519 keys are supported"
                )));
            }
        }
        Ok(data)
    }

    /// Reconstructs the key pair, preferring the most fundamental secret
    /// (mnemonic, then seed, then private key) as btwallet does, and checks it
    /// against the stored public key so a corrupted file is caught here.
    pub fn keypair(&self) -> Result<Keypair, WalletError> {
        let keypair = if let Some(phrase) = &self.secret_phrase {
            Keypair::from_mnemonic(phrase)?
        } else if let Some(seed) = &self.secret_seed {
            Keypair::from_seed(&*parse_hex::<32>("secretSeed", seed)?)?
        } else if let Some(private) = &self.private_key {
            Keypair::from_private_key(parse_hex::<64>("privateKey", private)?.as_ref())?
        } else {
            return Err(WalletError::InvalidKey(
                "keyfile has no secret (secretPhrase, secretSeed or privateKey); it is public-only"
                    .into(),
            ));
        };
        if let Ok(stored) = self.public_key_bytes() {
            if stored != keypair.public_key() {
                return Err(WalletError::Malformed(
                    "the secret does not match the stored public key".into(),
                ));
            }
        }
        Ok(keypair)
    }

    /// The public key, from `publicKey`/`accountId` or else `ss58Address`.
    pub fn public_key_bytes(&self) -> Result<[u8; 32], WalletError> {
        if let Some(hex) = self.public_key.as_ref().or(self.account_id.as_ref()) {
            return Ok(*parse_hex::<32>("publicKey", hex)?);
        }
        if let Some(address) = &self.ss58_address {
            return Ok(ss58::decode(address)?.0);
        }
        Err(WalletError::Malformed(
            "keyfile has neither publicKey, accountId nor ss58Address".into(),
        ))
    }

    pub fn ss58(&self) -> Result<String, WalletError> {
        Ok(ss58::encode(
            &self.public_key_bytes()?,
            ss58::SUBTENSOR_SS58_PREFIX,
        ))
    }
}

/// Serializes a keyfile, encrypting it with `$NACL` when a password is given.
pub fn encode_keyfile(data: &KeyfileData, password: Option<&str>) -> Result<Vec<u8>, WalletError> {
    let json = data.to_json();
    match password {
        Some(pw) => nacl::encrypt(json.as_bytes(), pw),
        None => Ok(json.as_bytes().to_vec()),
    }
}

/// Parses keyfile bytes. `password` is consulted only for encrypted files;
/// it returns `Ok(None)` for a wrong password so the caller can name the file.
pub fn decode_keyfile(
    bytes: &[u8],
    password: impl FnOnce() -> Result<Zeroizing<String>, WalletError>,
) -> Result<Option<KeyfileData>, WalletError> {
    match nacl::detect(bytes) {
        nacl::Encryption::None => KeyfileData::from_json(bytes).map(Some),
        nacl::Encryption::Nacl => {
            let pw = password()?;
            match nacl::decrypt(bytes, &pw)? {
                Some(plain) => KeyfileData::from_json(&plain).map(Some),
                None => Ok(None),
            }
        }
        nacl::Encryption::AnsibleVault => Err(WalletError::UnsupportedEncryption("Ansible Vault")),
        nacl::Encryption::LegacyFernet => Err(WalletError::UnsupportedEncryption("legacy Fernet")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_round_trip_keeps_every_field() {
        let kp = Keypair::generate(12).unwrap();
        let data = KeyfileData::from_keypair(&kp);
        let bytes = encode_keyfile(&data, None).unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        for field in [
            "accountId",
            "publicKey",
            "privateKey",
            "secretPhrase",
            "secretSeed",
            "ss58Address",
            "cryptoType",
        ] {
            assert!(text.contains(&format!("\"{field}\"")), "missing {field}");
        }
        let back = decode_keyfile(&bytes, || unreachable!("plain file needs no password"))
            .unwrap()
            .unwrap();
        assert_eq!(back, data);
        assert_eq!(back.keypair().unwrap().public_key(), kp.public_key());
    }

    #[test]
    fn public_only_file_has_no_secret() {
        let kp = Keypair::generate(12).unwrap();
        let data = KeyfileData::public_only(&kp);
        assert_eq!(data.public_key_bytes().unwrap(), kp.public_key());
        assert_eq!(data.ss58().unwrap(), kp.ss58_address());
        assert!(matches!(data.keypair(), Err(WalletError::InvalidKey(_))));
    }

    #[test]
    fn secret_from_seed_or_private_key_only() {
        let kp = Keypair::generate(12).unwrap();
        let mut data = KeyfileData::from_keypair(&kp);
        data.secret_phrase = None;
        assert_eq!(data.keypair().unwrap().public_key(), kp.public_key());
        data.secret_seed = None;
        assert_eq!(data.keypair().unwrap().public_key(), kp.public_key());
    }

    #[test]
    fn mismatched_public_key_is_detected() {
        let kp = Keypair::generate(12).unwrap();
        let other = Keypair::generate(12).unwrap();
        let mut data = KeyfileData::from_keypair(&kp);
        data.public_key = KeyfileData::public_only(&other).public_key.clone();
        assert!(matches!(data.keypair(), Err(WalletError::Malformed(_))));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        for bad in [&b"not json"[..], b"[1,2]", b"{\"cryptoType\":0}", b""] {
            assert!(decode_keyfile(bad, || unreachable!()).is_err());
        }
        let bad_hex = br#"{"secretSeed":"0x12zz"}"#;
        let data = decode_keyfile(bad_hex, || unreachable!()).unwrap().unwrap();
        assert!(matches!(data.keypair(), Err(WalletError::Malformed(_))));
        assert!(matches!(
            decode_keyfile(b"$ANSIBLE_VAULT;1.1;AES256", || unreachable!()),
            Err(WalletError::UnsupportedEncryption(_))
        ));
    }
}
