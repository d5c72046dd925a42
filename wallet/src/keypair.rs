//! sr25519 key pairs derived exactly like Substrate (and so btcli) does:
//! mnemonic → BIP-39 entropy → PBKDF2-HMAC-SHA512("mnemonic"+password, 2048)
//! → first 32 bytes as schnorrkel mini secret → Ed25519-mode expansion.
//! Keeping the derivation here (instead of hiding it inside a signer crate)
//! lets us write the same `secretSeed`/`privateKey` fields btwallet writes.

use bip39::{Language, Mnemonic};
use schnorrkel::{ExpansionMode, MiniSecretKey, SecretKey};
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::{ss58, WalletError};

/// Substrate's signing context for sr25519: signatures made here verify in
/// the runtime and in bittensor's Python/Rust tooling.
pub const SIGNING_CONTEXT: &[u8] = b"substrate";

const PBKDF2_ROUNDS: u32 = 2048;

/// A sr25519 key pair, plus the mnemonic/seed it came from when known, so a
/// keyfile written from it carries the same fields btwallet writes.
#[derive(Clone)]
pub struct Keypair {
    pair: schnorrkel::Keypair,
    mnemonic: Option<Zeroizing<String>>,
    seed: Option<Zeroizing<[u8; 32]>>,
}

impl std::fmt::Debug for Keypair {
    // Never print secrets, even in debug logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair")
            .field("ss58", &self.ss58_address())
            .finish_non_exhaustive()
    }
}

impl Keypair {
    /// Generates a new random mnemonic (12, 15, 18, 21 or 24 words) and its key.
    pub fn generate(words: usize) -> Result<Self, WalletError> {
        let mnemonic = Mnemonic::generate_in(Language::English, words)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        Self::from_mnemonic(&mnemonic.to_string())
    }

    /// Regenerates a key from an English BIP-39 mnemonic (no BIP-39 password,
    /// as btcli does).
    pub fn from_mnemonic(phrase: &str) -> Result<Self, WalletError> {
        let normalized = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let mnemonic = Mnemonic::parse_in_normalized(Language::English, &normalized)
            .map_err(|e| WalletError::InvalidMnemonic(e.to_string()))?;
        let entropy = Zeroizing::new(mnemonic.to_entropy());
        let seed = mini_secret_from_entropy(&entropy, "");
        let mut keypair = Self::from_seed(&seed)?;
        keypair.mnemonic = Some(Zeroizing::new(normalized));
        Ok(keypair)
    }

    /// Builds the key from a 32-byte mini secret (`secretSeed` in keyfiles).
    pub fn from_seed(seed: &[u8; 32]) -> Result<Self, WalletError> {
        let mini = MiniSecretKey::from_bytes(seed)
            .map_err(|e| WalletError::InvalidKey(format!("seed: {e}")))?;
        Ok(Self {
            pair: mini.expand_to_keypair(ExpansionMode::Ed25519),
            mnemonic: None,
            seed: Some(Zeroizing::new(*seed)),
        })
    }

    /// Builds the key from a 64-byte schnorrkel secret (`privateKey` in
    /// keyfiles: 32-byte scalar followed by the 32-byte nonce).
    pub fn from_private_key(bytes: &[u8]) -> Result<Self, WalletError> {
        let secret = SecretKey::from_bytes(bytes)
            .map_err(|e| WalletError::InvalidKey(format!("private key: {e}")))?;
        Ok(Self {
            pair: secret.to_keypair(),
            mnemonic: None,
            seed: None,
        })
    }

    /// Substrate dev account from a `//Name` URI (hard junction on the dev
    /// phrase), e.g. `//Alice`; used for local chains and tests.
    pub fn from_dev_uri(uri: &str) -> Result<Self, WalletError> {
        let name = uri
            .strip_prefix("//")
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| {
                WalletError::InvalidKey(format!("'{uri}' is not a dev URI like //Alice"))
            })?;
        let root = Self::from_mnemonic(DEV_PHRASE)?;
        let root_secret = root.pair.secret.clone();
        let chain_code = hard_junction_chain_code(name);
        let (mini, _) = root_secret
            .hard_derive_mini_secret_key(Some(schnorrkel::derive::ChainCode(chain_code)), b"");
        Ok(Self {
            pair: mini.expand_to_keypair(ExpansionMode::Ed25519),
            mnemonic: None,
            seed: Some(Zeroizing::new(mini.to_bytes())),
        })
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.pair.public.to_bytes()
    }

    pub fn ss58_address(&self) -> String {
        ss58::encode(&self.public_key(), ss58::SUBTENSOR_SS58_PREFIX)
    }

    /// 64-byte schnorrkel secret, as btwallet writes it in `privateKey`.
    pub fn private_key(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.pair.secret.to_bytes())
    }

    pub fn mnemonic(&self) -> Option<&str> {
        self.mnemonic.as_deref().map(String::as_str)
    }

    pub fn seed(&self) -> Option<&[u8; 32]> {
        self.seed.as_deref()
    }

    /// sr25519 signature with Substrate's context; what the chain and the
    /// validator↔miner wire protocol verify.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let context = schnorrkel::signing_context(SIGNING_CONTEXT);
        self.pair.sign(context.bytes(message)).to_bytes()
    }
}

/// Verifies an sr25519 signature made with [`SIGNING_CONTEXT`]. Malformed
/// keys or signatures count as "not valid" rather than an error, because a
/// caller only ever needs the yes/no answer.
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let (Ok(public), Ok(signature)) = (
        schnorrkel::PublicKey::from_bytes(public),
        schnorrkel::Signature::from_bytes(signature),
    ) else {
        return false;
    };
    public
        .verify_simple(SIGNING_CONTEXT, message, &signature)
        .is_ok()
}

/// Substrate's well-known development phrase behind //Alice, //Bob, ...
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// substrate-bip39's seed: PBKDF2 over the *entropy* (not the phrase, unlike
/// plain BIP-39), salt "mnemonic"+password; the first 32 bytes are the seed.
fn mini_secret_from_entropy(entropy: &[u8], password: &str) -> [u8; 32] {
    let salt = Zeroizing::new(format!("mnemonic{password}"));
    let mut out = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<Sha512>(entropy, salt.as_bytes(), PBKDF2_ROUNDS, out.as_mut());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&out[..32]);
    seed
}

/// Chain code of a hard junction on a string: its SCALE encoding (compact
/// length prefix + bytes), zero-padded to 32 bytes, or hashed with
/// BLAKE2b-256 when longer.
fn hard_junction_chain_code(name: &str) -> [u8; 32] {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    let mut encoded = Vec::with_capacity(name.len() + 2);
    let len = name.len();
    // SCALE compact: single byte for < 64, two bytes for < 2^14.
    if len < 64 {
        encoded.push((len as u8) << 2);
    } else {
        let v = ((len as u16) << 2) | 0b01;
        encoded.extend_from_slice(&v.to_le_bytes());
    }
    encoded.extend_from_slice(name.as_bytes());
    let mut code = [0u8; 32];
    if encoded.len() > 32 {
        code.copy_from_slice(&Blake2b::<U32>::digest(&encoded));
    } else {
        code[..encoded.len()].copy_from_slice(&encoded);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_uris_match_well_known_accounts() {
        // Addresses as printed by `subkey inspect //Alice` etc.
        let alice = Keypair::from_dev_uri("//Alice").unwrap();
        assert_eq!(
            alice.ss58_address(),
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        let bob = Keypair::from_dev_uri("//Bob").unwrap();
        assert_eq!(
            bob.ss58_address(),
            "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
        );
        assert!(Keypair::from_dev_uri("Alice").is_err());
        assert!(Keypair::from_dev_uri("//").is_err());
    }

    #[test]
    fn mnemonic_round_trip_and_normalization() {
        let generated = Keypair::generate(12).unwrap();
        let phrase = generated.mnemonic().unwrap().to_string();
        assert_eq!(phrase.split(' ').count(), 12);
        let spaced = format!("  {}  ", phrase.replace(' ', "   "));
        let again = Keypair::from_mnemonic(&spaced).unwrap();
        assert_eq!(again.public_key(), generated.public_key());
        assert_eq!(again.seed(), generated.seed());
    }

    #[test]
    fn bad_mnemonics_are_errors() {
        assert!(matches!(
            Keypair::from_mnemonic("not a real mnemonic at all"),
            Err(WalletError::InvalidMnemonic(_))
        ));
        // Valid words, wrong checksum.
        assert!(Keypair::from_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"
        )
        .is_err());
        assert!(Keypair::generate(13).is_err());
    }

    #[test]
    fn private_key_round_trip_and_signatures() {
        let kp = Keypair::generate(12).unwrap();
        let restored = Keypair::from_private_key(kp.private_key().as_ref()).unwrap();
        assert_eq!(restored.public_key(), kp.public_key());
        let sig = restored.sign(b"hello");
        assert!(verify(&kp.public_key(), b"hello", &sig));
        assert!(!verify(&kp.public_key(), b"hellO", &sig));
        assert!(Keypair::from_private_key(&[1u8; 10]).is_err());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let kp = Keypair::from_mnemonic(DEV_PHRASE).unwrap();
        let shown = format!("{kp:?}");
        assert!(!shown.contains("bottom"));
        assert!(shown.contains(&kp.ss58_address()));
    }
}
