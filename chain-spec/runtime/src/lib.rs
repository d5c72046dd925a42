//! Runtime of the local dev chain: System, Timestamp, Balances,
//! TransactionPayment and Sudo, plus `SubtensorModule` and `AdminUtils`, the
//! subset of subtensor that our miner and validator use. Names, argument types
//! and storage layouts follow subtensor so that one client works on both.

#![cfg_attr(not(feature = "std"), no_std)]
#![recursion_limit = "256"]

extern crate alloc;

use alloc::vec::Vec;

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

mod apis;
pub mod tx_extension;

use frame_support::{
    derive_impl, parameter_types,
    traits::{ConstBool, ConstU16, ConstU32, ConstU64, ConstU8},
    weights::{constants::WEIGHT_REF_TIME_PER_SECOND, IdentityFee, Weight},
};
use frame_system::limits::{BlockLength, BlockWeights};
use sp_runtime::{
    generic,
    traits::{BlakeTwo256, IdentifyAccount, Verify},
    MultiAddress, MultiSignature, Perbill,
};
use sp_version::RuntimeVersion;

pub use tx_extension::ChargeTransactionPaymentWrapper;

/// sr25519 (or ed25519/ecdsa) signatures, as on subtensor.
pub type Signature = MultiSignature;
/// 32-byte account ids, ss58 prefix 42.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances are u64 rao (1 TAO = 10^9 rao), as on subtensor.
pub type Balance = u64;
pub type Nonce = u32;
pub type BlockNumber = u32;
pub type Hash = sp_core::H256;
pub type Address = MultiAddress<AccountId, ()>;
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// The transaction extensions, in subtensor's order for the ones we share.
pub type TxExtension = (
    frame_system::CheckNonZeroSender<Runtime>,
    frame_system::CheckSpecVersion<Runtime>,
    frame_system::CheckTxVersion<Runtime>,
    frame_system::CheckGenesis<Runtime>,
    frame_system::CheckEra<Runtime>,
    frame_system::CheckNonce<Runtime>,
    frame_system::CheckWeight<Runtime>,
    ChargeTransactionPaymentWrapper<Runtime>,
);
pub type UncheckedExtrinsic =
    generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
>;

/// 1 TAO in rao.
pub const TAO: Balance = 1_000_000_000;

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: alloc::borrow::Cow::Borrowed("subnet-dev"),
    impl_name: alloc::borrow::Cow::Borrowed("subnet-dev"),
    authoring_version: 1,
    spec_version: 1,
    impl_version: 1,
    apis: apis::RUNTIME_API_VERSIONS,
    transaction_version: 1,
    system_version: 1,
};

#[frame_support::runtime]
mod runtime {
    #[runtime::runtime]
    #[runtime::derive(
        RuntimeCall,
        RuntimeEvent,
        RuntimeError,
        RuntimeOrigin,
        RuntimeFreezeReason,
        RuntimeHoldReason,
        RuntimeSlashReason,
        RuntimeLockId,
        RuntimeTask,
        RuntimeViewFunction
    )]
    pub struct Runtime;

    #[runtime::pallet_index(0)]
    pub type System = frame_system;
    #[runtime::pallet_index(2)]
    pub type Timestamp = pallet_timestamp;
    #[runtime::pallet_index(5)]
    pub type Balances = pallet_balances;
    #[runtime::pallet_index(6)]
    pub type TransactionPayment = pallet_transaction_payment;
    #[runtime::pallet_index(7)]
    pub type SubtensorModule = pallet_subtensor;
    #[runtime::pallet_index(12)]
    pub type Sudo = pallet_sudo;
    #[runtime::pallet_index(19)]
    pub type AdminUtils = pallet_admin_utils;
}

parameter_types! {
    pub const Version: RuntimeVersion = VERSION;
    pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
        Weight::from_parts(4u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
        Perbill::from_percent(75),
    );
    pub RuntimeBlockLength: BlockLength =
        BlockLength::builder().max_length(5 * 1024 * 1024).build();
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
    type Block = Block;
    type Version = Version;
    type BlockWeights = RuntimeBlockWeights;
    type BlockLength = RuntimeBlockLength;
    type AccountData = pallet_balances::AccountData<Balance>;
    type SS58Prefix = ConstU16<42>;
    type BlockHashCount = ConstU32<4096>;
}

impl pallet_timestamp::Config for Runtime {
    type Moment = u64;
    type OnTimestampSet = ();
    // chopsticks stamps blocks freely; no minimum keeps fast blocks valid.
    type MinimumPeriod = ConstU64<0>;
    type WeightInfo = ();
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Runtime {
    type Balance = Balance;
    type ExistentialDeposit = ConstU64<500>;
    type AccountStore = System;
}

#[derive_impl(pallet_transaction_payment::config_preludes::TestDefaultConfig)]
impl pallet_transaction_payment::Config for Runtime {
    type OnChargeTransaction = pallet_transaction_payment::FungibleAdapter<Balances, ()>;
    type WeightToFee = IdentityFee<Balance>;
    type LengthToFee = IdentityFee<Balance>;
    type OperationalFeeMultiplier = ConstU8<5>;
}

impl pallet_sudo::Config for Runtime {
    type RuntimeEvent = RuntimeEvent;
    type RuntimeCall = RuntimeCall;
    type WeightInfo = ();
}

impl pallet_subtensor::Config for Runtime {
    type Currency = Balances;
    // Local-network values (subtensor's fast-runtime where it has one).
    type InitialTempo = ConstU16<10>;
    type InitialWeightsSetRateLimit = ConstU64<100>;
    type InitialMinAllowedWeights = ConstU16<0>;
    type InitialMaxAllowedValidators = ConstU16<64>;
    type InitialMaxAllowedUids = ConstU16<256>;
    type InitialKappa = ConstU16<32_767>;
    type InitialBondsMovingAverage = ConstU64<900_000>;
    type InitialActivityCutoff = ConstU16<5000>;
    type InitialServingRateLimit = ConstU64<50>;
    type InitialBurn = ConstU64<{ TAO }>;
    type InitialMaxRegistrationsPerBlock = ConstU16<16>;
    type InitialCommitRevealWeightsEnabled = ConstBool<true>;
    type InitialNetworkLockCost = ConstU64<{ 100 * TAO }>;
    type InitialStartCallDelay = ConstU64<0>;
    type InitialSubnetOwnerCut = ConstU16<11_796>;
    type BlockEmission = ConstU64<{ TAO }>;
}

impl pallet_admin_utils::Config for Runtime {}
