//! subxt configuration for subtensor.
//!
//! subxt's stock configs encode the transaction-payment extension only under
//! the name `ChargeTransactionPayment`. Current subtensor declares it as
//! `ChargeTransactionPaymentWrapper` (same `Compact<u128>` tip), so signing
//! with the stock config fails with "extension not found". This config uses
//! subxt's default extension set but answers to both names, so the same
//! client signs for a real subtensor node and for our local dev chain.

use scale_info::PortableRegistry;
use subxt::config::substrate::{AccountId32, MultiAddress, MultiSignature};
use subxt::config::transaction_extensions::{ChargeTransactionPaymentParams, CheckMortalityParams};
use subxt::config::{
    ClientState, Config, HashFor, KnownDefaultExtrinsicParams, KnownDefaultTransactionExtensions,
    SubstrateConfig, TransactionExtensions,
};
use subxt::error::TransactionExtensionError;
use subxt::ext::frame_decode::extrinsics::{
    TransactionExtensions as EncodeExtensions, TransactionExtensionsError,
};

/// The identifier subxt knows for the payment extension.
pub const PAYMENT_EXTENSION: &str = "ChargeTransactionPayment";
/// subtensor's identifier for the same extension.
pub const PAYMENT_EXTENSION_WRAPPER: &str = "ChargeTransactionPaymentWrapper";

/// Maps either payment identifier onto the one subxt's encoder knows, and
/// passes every other name through unchanged.
pub fn canonical_extension_name(name: &str) -> &str {
    if name == PAYMENT_EXTENSION_WRAPPER {
        PAYMENT_EXTENSION
    } else {
        name
    }
}

/// subxt `Config` for subtensor: Substrate's account, address, signature,
/// header and hasher types, with [`SubtensorExtensions`].
#[derive(Debug, Clone, Default)]
pub struct SubtensorConfig(SubstrateConfig);

impl Config for SubtensorConfig {
    type AccountId = AccountId32;
    type Address = MultiAddress<AccountId32, u32>;
    type Signature = MultiSignature;
    type Hasher = <SubstrateConfig as Config>::Hasher;
    type Header = <SubstrateConfig as Config>::Header;
    type TransactionExtensions = SubtensorExtensions;
    type AssetId = u32;

    // Forwarded so metadata is cached per spec version instead of refetched.
    fn genesis_hash(&self) -> Option<HashFor<Self>> {
        self.0.genesis_hash()
    }
    fn metadata_for_spec_version(&self, spec_version: u32) -> Option<subxt::ArcMetadata> {
        self.0.metadata_for_spec_version(spec_version)
    }
    fn set_metadata_for_spec_version(&self, spec_version: u32, metadata: subxt::ArcMetadata) {
        self.0.set_metadata_for_spec_version(spec_version, metadata)
    }
    fn spec_and_transaction_version_for_block_number(
        &self,
        block_number: u64,
    ) -> Option<(u32, u32)> {
        self.0
            .spec_and_transaction_version_for_block_number(block_number)
    }
}

type Known = KnownDefaultTransactionExtensions<SubtensorConfig>;

/// subxt's default extensions (nonce, mortality, genesis, versions, tip,
/// metadata hash, ...), answering to both payment-extension identifiers.
pub struct SubtensorExtensions {
    known: PaymentAlias<Known>,
}

/// Parameters of [`SubtensorExtensions`]: subxt's default parameter tuple.
pub type SubtensorParams = KnownDefaultExtrinsicParams<SubtensorConfig>;

/// Immortal-free defaults with a tip: mortal for 32 blocks like subxt's own
/// default, and `tip` rao paid to the block author.
pub fn params_with_tip(tip: u128) -> SubtensorParams {
    let mut params = <SubtensorParams as subxt::transactions::DefaultParams>::default_params();
    params.7 = ChargeTransactionPaymentParams::tip(tip);
    params.5 = CheckMortalityParams::mortal(32);
    params
}

impl TransactionExtensions<SubtensorConfig> for SubtensorExtensions {
    type Params = SubtensorParams;

    fn new(
        client: &ClientState<SubtensorConfig>,
        params: Self::Params,
    ) -> Result<Self, TransactionExtensionError> {
        Ok(SubtensorExtensions {
            known: PaymentAlias(<Known as TransactionExtensions<SubtensorConfig>>::new(
                client, params,
            )?),
        })
    }

    fn inject_signature(&mut self, account_id: &AccountId32, signature: &MultiSignature) {
        self.known.0.inject_signature(account_id, signature)
    }
}

/// Wraps an extension set so that `ChargeTransactionPaymentWrapper` is
/// encoded by the inner set's `ChargeTransactionPayment`.
pub struct PaymentAlias<E>(pub E);

impl<E: EncodeExtensions<PortableRegistry>> EncodeExtensions<PortableRegistry> for PaymentAlias<E> {
    fn contains_extension(&self, name: &str) -> bool {
        self.0.contains_extension(canonical_extension_name(name))
    }

    fn is_authorization_extension(&self, name: &str) -> bool {
        self.0
            .is_authorization_extension(canonical_extension_name(name))
    }

    fn encode_extension_value_to(
        &self,
        name: &str,
        type_id: u32,
        types: &PortableRegistry,
        out: &mut Vec<u8>,
    ) -> Result<(), TransactionExtensionsError> {
        self.0
            .encode_extension_value_to(canonical_extension_name(name), type_id, types, out)
            .map_err(|e| rename_not_found(e, name))
    }

    fn encode_extension_implicit_to(
        &self,
        name: &str,
        type_id: u32,
        types: &PortableRegistry,
        out: &mut Vec<u8>,
    ) -> Result<(), TransactionExtensionsError> {
        self.0
            .encode_extension_implicit_to(canonical_extension_name(name), type_id, types, out)
            .map_err(|e| rename_not_found(e, name))
    }
}

impl EncodeExtensions<PortableRegistry> for SubtensorExtensions {
    fn contains_extension(&self, name: &str) -> bool {
        self.known.contains_extension(name)
    }

    fn is_authorization_extension(&self, name: &str) -> bool {
        self.known.is_authorization_extension(name)
    }

    fn encode_extension_value_to(
        &self,
        name: &str,
        type_id: u32,
        types: &PortableRegistry,
        out: &mut Vec<u8>,
    ) -> Result<(), TransactionExtensionsError> {
        self.known
            .encode_extension_value_to(name, type_id, types, out)
    }

    fn encode_extension_implicit_to(
        &self,
        name: &str,
        type_id: u32,
        types: &PortableRegistry,
        out: &mut Vec<u8>,
    ) -> Result<(), TransactionExtensionsError> {
        self.known
            .encode_extension_implicit_to(name, type_id, types, out)
    }
}

// Report the runtime's own name in errors, not our internal alias, so
// "extension not found" messages point at what the chain declared.
fn rename_not_found(e: TransactionExtensionsError, name: &str) -> TransactionExtensionsError {
    match e {
        TransactionExtensionsError::NotFound(_) => {
            TransactionExtensionsError::NotFound(name.into())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parity_scale_codec::{Compact, Encode};
    use subxt::ext::frame_decode::extrinsics::{TransactionExtension, TransactionExtensionError};

    /// Stand-in with subxt's name and encoding for the payment extension
    /// (`Compact<u128>` tip), so the aliasing can be checked without a node.
    struct Tip(u128);

    impl TransactionExtension<PortableRegistry> for Tip {
        const NAME: &str = PAYMENT_EXTENSION;
        fn encode_value_to(
            &self,
            _: u32,
            _: &PortableRegistry,
            out: &mut Vec<u8>,
        ) -> Result<(), TransactionExtensionError> {
            Compact(self.0).encode_to(out);
            Ok(())
        }
        fn encode_implicit_to(
            &self,
            _: u32,
            _: &PortableRegistry,
            _: &mut Vec<u8>,
        ) -> Result<(), TransactionExtensionError> {
            Ok(())
        }
    }

    fn registry() -> PortableRegistry {
        PortableRegistry { types: vec![] }
    }

    #[test]
    fn both_payment_names_encode_the_compact_tip() {
        let exts = PaymentAlias((Tip(1_000),));
        for name in [PAYMENT_EXTENSION, PAYMENT_EXTENSION_WRAPPER] {
            assert!(exts.contains_extension(name), "{name}");
            let mut out = Vec::new();
            exts.encode_extension_value_to(name, 0, &registry(), &mut out)
                .unwrap();
            // Compact(1000) = (1000 << 2) | 0b01 as two LE bytes.
            assert_eq!(out, vec![0xa1, 0x0f], "{name}");
        }
        let mut out = Vec::new();
        PaymentAlias((Tip(0),))
            .encode_extension_value_to(PAYMENT_EXTENSION_WRAPPER, 0, &registry(), &mut out)
            .unwrap();
        assert_eq!(out, vec![0x00]);
    }

    #[test]
    fn unknown_extensions_are_reported_under_their_own_name() {
        let exts = PaymentAlias((Tip(0),));
        assert!(!exts.contains_extension("SubtensorTransactionExtension"));
        let err = exts
            .encode_extension_value_to(
                "SubtensorTransactionExtension",
                0,
                &registry(),
                &mut Vec::new(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, TransactionExtensionsError::NotFound(n) if n == "SubtensorTransactionExtension"),
            "{err}"
        );
    }

    #[test]
    fn default_params_carry_the_tip() {
        let params = params_with_tip(5);
        assert_eq!(
            format!("{:?}", params.7),
            format!("{:?}", ChargeTransactionPaymentParams::tip(5))
        );
    }
}
