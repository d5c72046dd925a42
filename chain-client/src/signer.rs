//! Lets a `wallet::Keypair` sign subxt transactions. The wallet crate owns
//! the keys (and stays free of subxt); this adapter is the only glue.

use subxt::config::substrate::{AccountId32, MultiSignature};
use subxt::transactions::Signer;

use crate::SubtensorConfig;

/// Borrowed key pair that signs for [`SubtensorConfig`].
pub struct PairSigner<'a>(pub &'a wallet::Keypair);

impl Signer<SubtensorConfig> for PairSigner<'_> {
    fn account_id(&self) -> AccountId32 {
        AccountId32(self.0.public_key())
    }

    fn sign(&self, signer_payload: &[u8]) -> MultiSignature {
        MultiSignature::Sr25519(self.0.sign(signer_payload))
    }
}

/// AccountId32 of a public key.
pub fn account(public: &[u8; 32]) -> AccountId32 {
    AccountId32(*public)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_under_the_signers_account() {
        let kp = wallet::Keypair::from_dev_uri("//Alice").unwrap();
        let signer = PairSigner(&kp);
        let account = <PairSigner as Signer<SubtensorConfig>>::account_id(&signer);
        assert_eq!(account.0, kp.public_key());
        let MultiSignature::Sr25519(sig) =
            <PairSigner as Signer<SubtensorConfig>>::sign(&signer, b"payload")
        else {
            panic!("expected an sr25519 signature");
        };
        assert!(wallet::keypair::verify(&account.0, b"payload", &sig));
    }
}
