//! A subset of opentensor's `SubtensorModule` pallet for the local dev chain.
//!
//! Everything a client sees — call names and argument names/types, storage
//! names, hashers and defaults, error names — follows subtensor, so the same
//! client code works against a real subtensor node and against this chain.
//! Behind that surface the logic is deliberately simpler: one mechanism per
//! subnet, stake is alpha bought 1:1 with TAO (no AMM), and no root network.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod epoch;
pub mod math;
mod registration;
mod serving;
mod staking;
mod weights;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// Subnet identifier, `u16` on the wire as in subtensor.
pub type NetUid = u16;

/// Axon endpoint as stored by subtensor (same field order and types).
#[derive(
    codec::Encode,
    codec::Decode,
    codec::DecodeWithMemTracking,
    codec::MaxEncodedLen,
    scale_info::TypeInfo,
    Clone,
    Default,
    Debug,
    PartialEq,
    Eq,
)]
pub struct AxonInfo {
    /// Block at which the axon was last served.
    pub block: u64,
    pub version: u32,
    pub ip: u128,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
    pub placeholder1: u8,
    pub placeholder2: u8,
}

/// Subtensor's name for the stored axon type.
pub type AxonInfoOf = AxonInfo;

/// A subnet created at genesis:
/// (netuid, owner coldkey, owner hotkey, tempo, weights rate limit, commit-reveal on).
pub type GenesisSubnet<AccountId> = (NetUid, AccountId, AccountId, u16, u64, bool);

// `serve_axon` takes subtensor's eight arguments; the lint fires in macro output.
#[allow(clippy::too_many_arguments)]
#[frame_support::pallet]
pub mod pallet {
    use super::*;
    use alloc::{collections::VecDeque, vec::Vec};
    use frame_support::{pallet_prelude::*, traits::fungible};
    use frame_system::pallet_prelude::*;
    use sp_core::H256;

    /// Most unrevealed commits a hotkey may hold per subnet (subtensor: 10).
    pub const MAX_UNREVEALED_COMMITS: usize = 10;

    #[pallet::pallet]
    // Per-uid vectors are unbounded like subtensor's; proof size is not a concern
    // on a solo dev chain.
    #[pallet::without_storage_info]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// TAO balances; registration burns and stake are paid from it.
        type Currency: fungible::Mutate<Self::AccountId, Balance = u64>;
        #[pallet::constant]
        type InitialTempo: Get<u16>;
        #[pallet::constant]
        type InitialWeightsSetRateLimit: Get<u64>;
        #[pallet::constant]
        type InitialMinAllowedWeights: Get<u16>;
        #[pallet::constant]
        type InitialMaxAllowedValidators: Get<u16>;
        #[pallet::constant]
        type InitialMaxAllowedUids: Get<u16>;
        #[pallet::constant]
        type InitialKappa: Get<u16>;
        #[pallet::constant]
        type InitialBondsMovingAverage: Get<u64>;
        #[pallet::constant]
        type InitialActivityCutoff: Get<u16>;
        #[pallet::constant]
        type InitialServingRateLimit: Get<u64>;
        #[pallet::constant]
        type InitialBurn: Get<u64>;
        #[pallet::constant]
        type InitialMaxRegistrationsPerBlock: Get<u16>;
        #[pallet::constant]
        type InitialCommitRevealWeightsEnabled: Get<bool>;
        #[pallet::constant]
        type InitialNetworkLockCost: Get<u64>;
        #[pallet::constant]
        type InitialStartCallDelay: Get<u64>;
        #[pallet::constant]
        type InitialSubnetOwnerCut: Get<u16>;
        /// Rao emitted into each started subnet per block.
        #[pallet::constant]
        type BlockEmission: Get<u64>;
    }

    // ---- defaults (subtensor's `Default*` type values) ----
    #[pallet::type_value]
    pub fn DefaultTempo<T: Config>() -> u16 {
        T::InitialTempo::get()
    }
    #[pallet::type_value]
    pub fn DefaultWeightsSetRateLimit<T: Config>() -> u64 {
        T::InitialWeightsSetRateLimit::get()
    }
    #[pallet::type_value]
    pub fn DefaultMinAllowedWeights<T: Config>() -> u16 {
        T::InitialMinAllowedWeights::get()
    }
    #[pallet::type_value]
    pub fn DefaultMaxAllowedValidators<T: Config>() -> u16 {
        T::InitialMaxAllowedValidators::get()
    }
    #[pallet::type_value]
    pub fn DefaultMaxAllowedUids<T: Config>() -> u16 {
        T::InitialMaxAllowedUids::get()
    }
    #[pallet::type_value]
    pub fn DefaultKappa<T: Config>() -> u16 {
        T::InitialKappa::get()
    }
    #[pallet::type_value]
    pub fn DefaultBondsMovingAverage<T: Config>() -> u64 {
        T::InitialBondsMovingAverage::get()
    }
    #[pallet::type_value]
    pub fn DefaultActivityCutoff<T: Config>() -> u16 {
        T::InitialActivityCutoff::get()
    }
    #[pallet::type_value]
    pub fn DefaultServingRateLimit<T: Config>() -> u64 {
        T::InitialServingRateLimit::get()
    }
    #[pallet::type_value]
    pub fn DefaultBurn<T: Config>() -> u64 {
        T::InitialBurn::get()
    }
    #[pallet::type_value]
    pub fn DefaultMaxRegistrationsPerBlock<T: Config>() -> u16 {
        T::InitialMaxRegistrationsPerBlock::get()
    }
    #[pallet::type_value]
    pub fn DefaultCommitRevealWeightsEnabled<T: Config>() -> bool {
        T::InitialCommitRevealWeightsEnabled::get()
    }
    #[pallet::type_value]
    pub fn DefaultNetworkMinLockCost<T: Config>() -> u64 {
        T::InitialNetworkLockCost::get()
    }
    #[pallet::type_value]
    pub fn DefaultStartCallDelay<T: Config>() -> u64 {
        T::InitialStartCallDelay::get()
    }
    #[pallet::type_value]
    pub fn DefaultSubnetOwnerCut<T: Config>() -> u16 {
        T::InitialSubnetOwnerCut::get()
    }
    #[pallet::type_value]
    pub fn DefaultRevealPeriodEpochs<T: Config>() -> u64 {
        1
    }
    #[pallet::type_value]
    pub fn DefaultAdminFreezeWindow<T: Config>() -> u16 {
        10
    }
    #[pallet::type_value]
    pub fn DefaultTrue<T: Config>() -> bool {
        true
    }
    #[pallet::type_value]
    pub fn DefaultKey<T: Config>() -> T::AccountId {
        // Subtensor's default for a missing uid: the all-zero account.
        T::AccountId::decode(&mut sp_runtime::traits::TrailingZeroInput::zeroes())
            .expect("infinite zero input decodes any fixed-size account id")
    }

    // ---- global parameters ----
    /// Minimum stake (alpha, rao) a hotkey needs to set weights.
    #[pallet::storage]
    pub type StakeThreshold<T> = StorageValue<_, u64, ValueQuery>;
    /// Count of existing subnets.
    #[pallet::storage]
    pub type TotalNetworks<T> = StorageValue<_, u16, ValueQuery>;
    /// Lock cost of `register_network`, in rao.
    #[pallet::storage]
    pub type NetworkMinLockCost<T> = StorageValue<_, u64, ValueQuery, DefaultNetworkMinLockCost<T>>;
    /// Blocks after subnet creation before `start_call` is allowed.
    #[pallet::storage]
    pub type StartCallDelay<T> = StorageValue<_, u64, ValueQuery, DefaultStartCallDelay<T>>;
    /// Owner cut of subnet emission, parts per 65535.
    #[pallet::storage]
    pub type SubnetOwnerCut<T> = StorageValue<_, u16, ValueQuery, DefaultSubnetOwnerCut<T>>;
    /// Blocks before an epoch in which owner hyperparameter changes are refused.
    #[pallet::storage]
    pub type AdminFreezeWindow<T> = StorageValue<_, u16, ValueQuery, DefaultAdminFreezeWindow<T>>;

    // ---- subnet parameters ----
    #[pallet::storage]
    pub type NetworksAdded<T> = StorageMap<_, Identity, NetUid, bool, ValueQuery>;
    #[pallet::storage]
    pub type NetworkRegisteredAt<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;
    #[pallet::storage]
    pub type SubnetOwner<T: Config> =
        StorageMap<_, Identity, NetUid, T::AccountId, ValueQuery, DefaultKey<T>>;
    #[pallet::storage]
    pub type SubnetOwnerHotkey<T: Config> =
        StorageMap<_, Identity, NetUid, T::AccountId, ValueQuery, DefaultKey<T>>;
    #[pallet::storage]
    pub type SubnetLocked<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;
    #[pallet::storage]
    pub type FirstEmissionBlockNumber<T> = StorageMap<_, Identity, NetUid, u64, OptionQuery>;
    #[pallet::storage]
    pub type SubtokenEnabled<T> = StorageMap<_, Identity, NetUid, bool, ValueQuery>;
    #[pallet::storage]
    pub type Tempo<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultTempo<T>>;
    #[pallet::storage]
    pub type Kappa<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultKappa<T>>;
    #[pallet::storage]
    pub type BondsMovingAverage<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, DefaultBondsMovingAverage<T>>;
    #[pallet::storage]
    pub type ActivityCutoff<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultActivityCutoff<T>>;
    #[pallet::storage]
    pub type MaxAllowedValidators<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultMaxAllowedValidators<T>>;
    #[pallet::storage]
    pub type MaxAllowedUids<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultMaxAllowedUids<T>>;
    #[pallet::storage]
    pub type WeightsVersionKey<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;
    #[pallet::storage]
    pub type MinAllowedWeights<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultMinAllowedWeights<T>>;
    #[pallet::storage]
    pub type WeightsSetRateLimit<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, DefaultWeightsSetRateLimit<T>>;
    #[pallet::storage]
    pub type CommitRevealWeightsEnabled<T> =
        StorageMap<_, Identity, NetUid, bool, ValueQuery, DefaultCommitRevealWeightsEnabled<T>>;
    #[pallet::storage]
    pub type RevealPeriodEpochs<T> =
        StorageMap<_, Twox64Concat, NetUid, u64, ValueQuery, DefaultRevealPeriodEpochs<T>>;
    #[pallet::storage]
    pub type ServingRateLimit<T> =
        StorageMap<_, Identity, NetUid, u64, ValueQuery, DefaultServingRateLimit<T>>;
    #[pallet::storage]
    pub type Burn<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery, DefaultBurn<T>>;
    #[pallet::storage]
    pub type NetworkRegistrationAllowed<T> =
        StorageMap<_, Identity, NetUid, bool, ValueQuery, DefaultTrue<T>>;
    #[pallet::storage]
    pub type MaxRegistrationsPerBlock<T> =
        StorageMap<_, Identity, NetUid, u16, ValueQuery, DefaultMaxRegistrationsPerBlock<T>>;
    #[pallet::storage]
    pub type RegistrationsThisBlock<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;
    /// Blocks since the subnet's last epoch (reset to 0 when it runs).
    #[pallet::storage]
    pub type BlocksSinceLastStep<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;
    #[pallet::storage]
    pub type LastMechansimStepBlock<T> = StorageMap<_, Identity, NetUid, u64, ValueQuery>;

    // ---- neurons ----
    #[pallet::storage]
    pub type SubnetworkN<T> = StorageMap<_, Identity, NetUid, u16, ValueQuery>;
    #[pallet::storage]
    pub type Uids<T: Config> =
        StorageDoubleMap<_, Identity, NetUid, Blake2_128Concat, T::AccountId, u16, OptionQuery>;
    #[pallet::storage]
    pub type Keys<T: Config> = StorageDoubleMap<
        _,
        Identity,
        NetUid,
        Identity,
        u16,
        T::AccountId,
        ValueQuery,
        DefaultKey<T>,
    >;
    #[pallet::storage]
    pub type IsNetworkMember<T: Config> =
        StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, NetUid, bool, ValueQuery>;
    /// Hotkey -> owning coldkey.
    #[pallet::storage]
    pub type Owner<T: Config> =
        StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId, ValueQuery, DefaultKey<T>>;
    #[pallet::storage]
    pub type BlockAtRegistration<T> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, u64, ValueQuery>;
    #[pallet::storage]
    pub type Axons<T: Config> = StorageDoubleMap<
        _,
        Identity,
        NetUid,
        Blake2_128Concat,
        T::AccountId,
        AxonInfoOf,
        OptionQuery,
    >;
    /// Stake (alpha, rao) held by a hotkey on a subnet.
    #[pallet::storage]
    pub type TotalHotkeyAlpha<T: Config> =
        StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Identity, NetUid, u64, ValueQuery>;
    /// Stake (alpha, rao) a coldkey put behind a hotkey on a subnet.
    #[pallet::storage]
    pub type Alpha<T: Config> = StorageNMap<
        _,
        (
            NMapKey<Blake2_128Concat, T::AccountId>,
            NMapKey<Blake2_128Concat, T::AccountId>,
            NMapKey<Identity, NetUid>,
        ),
        u64,
        ValueQuery,
    >;

    // ---- per-uid epoch vectors ----
    #[pallet::storage]
    pub type Active<T> = StorageMap<_, Identity, NetUid, Vec<bool>, ValueQuery>;
    #[pallet::storage]
    pub type Consensus<T> = StorageMap<_, Identity, NetUid, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Incentive<T> = StorageMap<_, Identity, NetUid, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Dividends<T> = StorageMap<_, Identity, NetUid, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type Emission<T> = StorageMap<_, Identity, NetUid, Vec<u64>, ValueQuery>;
    #[pallet::storage]
    pub type LastUpdate<T> = StorageMap<_, Identity, NetUid, Vec<u64>, ValueQuery>;
    #[pallet::storage]
    pub type ValidatorTrust<T> = StorageMap<_, Identity, NetUid, Vec<u16>, ValueQuery>;
    #[pallet::storage]
    pub type ValidatorPermit<T> = StorageMap<_, Identity, NetUid, Vec<bool>, ValueQuery>;
    #[pallet::storage]
    pub type Weights<T> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, Vec<(u16, u16)>, ValueQuery>;
    #[pallet::storage]
    pub type Bonds<T> =
        StorageDoubleMap<_, Identity, NetUid, Identity, u16, Vec<(u16, u16)>, ValueQuery>;
    /// Commit-reveal queue: (hash, commit_block, first_reveal_block, last_reveal_block).
    #[pallet::storage]
    pub type WeightCommits<T: Config> = StorageDoubleMap<
        _,
        Twox64Concat,
        NetUid,
        Twox64Concat,
        T::AccountId,
        VecDeque<(H256, u64, u64, u64)>,
        OptionQuery,
    >;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    pub enum Event<T: Config> {
        /// A subnet was created: (netuid, mechanism).
        NetworkAdded(NetUid, u16),
        /// A neuron registered: (netuid, uid, hotkey).
        NeuronRegistered(NetUid, u16, T::AccountId),
        /// An axon was served: (netuid, hotkey).
        AxonServed(NetUid, T::AccountId),
        /// Weights were set: (netuid, uid).
        WeightsSet(NetUid, u16),
        /// Weights were committed: (hotkey, netuid, hash).
        WeightsCommitted(T::AccountId, NetUid, H256),
        /// Weights were revealed: (hotkey, netuid, hash).
        WeightsRevealed(T::AccountId, NetUid, H256),
        /// Stake added: (coldkey, hotkey, tao, alpha, netuid, fee).
        StakeAdded(T::AccountId, T::AccountId, u64, u64, NetUid, u64),
        /// Emission started on a subnet: (netuid, first emission block).
        FirstEmissionBlockNumberSet(NetUid, u64),
        /// An epoch ran: (netuid, rao emitted).
        EpochRun(NetUid, u64),
        TempoSet(NetUid, u16),
        WeightsSetRateLimitSet(NetUid, u64),
        CommitRevealEnabled(NetUid, bool),
        WeightsVersionKeySet(NetUid, u64),
        MinAllowedWeightSet(NetUid, u16),
        MaxAllowedValidatorsSet(NetUid, u16),
        StakeThresholdSet(u64),
        AdminFreezeWindowSet(u16),
        ServingRateLimitSet(NetUid, u64),
        BurnSet(NetUid, u64),
    }

    #[pallet::error]
    #[derive(PartialEq)]
    pub enum Error<T> {
        InvalidIpType,
        InvalidIpAddress,
        InvalidPort,
        HotKeyNotRegisteredInSubNet,
        HotKeyAccountNotExists,
        HotKeyNotRegisteredInNetwork,
        NonAssociatedColdKey,
        NotEnoughStakeToSetWeights,
        NotEnoughBalanceToStake,
        BalanceWithdrawalError,
        NeuronNoValidatorPermit,
        WeightVecNotEqualSize,
        DuplicateUids,
        UidVecContainInvalidOne,
        WeightVecLengthIsLow,
        TooManyRegistrationsThisBlock,
        HotKeyAlreadyRegisteredInSubNet,
        SettingWeightsTooFast,
        IncorrectWeightVersionKey,
        ServingRateLimitExceeded,
        SubNetRegistrationDisabled,
        NotSubnetOwner,
        RegistrationNotPermittedOnRootSubnet,
        NoNeuronIdAvailable,
        NoWeightsCommitFound,
        InvalidRevealCommitHashNotMatch,
        CommitRevealEnabled,
        CommitRevealDisabled,
        SubnetNotExists,
        TooManyUnrevealedCommits,
        ExpiredWeightCommit,
        RevealTooEarly,
        CommittingWeightsTooFast,
        AmountTooLow,
        FirstEmissionBlockNumberAlreadySet,
        NeedWaitingMoreBlocksToStarCall,
        SubtokenDisabled,
        CannotAffordLockCost,
        SubnetLimitReached,
        AdminActionProhibitedDuringWeightsWindow,
    }

    #[pallet::genesis_config]
    #[derive(frame_support::DefaultNoBound)]
    pub struct GenesisConfig<T: Config> {
        /// Subnets that exist from block 0.
        pub subnets: Vec<GenesisSubnet<T::AccountId>>,
        /// Global minimum stake to set weights.
        pub stake_threshold: u64,
        /// Owner cut override (parts per 65535); `None` keeps the runtime default.
        pub subnet_owner_cut: Option<u16>,
    }

    #[pallet::genesis_build]
    impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
        fn build(&self) {
            StakeThreshold::<T>::put(self.stake_threshold);
            if let Some(cut) = self.subnet_owner_cut {
                SubnetOwnerCut::<T>::put(cut);
            }
            for (netuid, owner, hotkey, tempo, rate_limit, commit_reveal) in &self.subnets {
                Pallet::<T>::init_new_network(*netuid, owner, hotkey, 0);
                Tempo::<T>::insert(netuid, tempo);
                WeightsSetRateLimit::<T>::insert(netuid, rate_limit);
                CommitRevealWeightsEnabled::<T>::insert(netuid, commit_reveal);
                // Genesis subnets emit from the start, like a subnet after `start_call`.
                FirstEmissionBlockNumber::<T>::insert(netuid, 1);
                SubtokenEnabled::<T>::insert(netuid, true);
            }
        }
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
            Self::block_step()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Sets the caller hotkey's weights on `netuid` (refused while commit-reveal is on).
        #[pallet::call_index(0)]
        #[pallet::weight((
            Weight::from_parts(20_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(12, 2)),
            DispatchClass::Normal,
            Pays::No
        ))]
        pub fn set_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            dests: Vec<u16>,
            weights: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            ensure!(
                !CommitRevealWeightsEnabled::<T>::get(netuid),
                Error::<T>::CommitRevealEnabled
            );
            Self::do_set_weights(origin, netuid, dests, weights, version_key)
        }

        /// Adds `amount_staked` rao from the caller coldkey as stake behind `hotkey`.
        #[pallet::call_index(2)]
        #[pallet::weight(Weight::from_parts(20_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(8, 5)))]
        pub fn add_stake(
            origin: OriginFor<T>,
            hotkey: T::AccountId,
            netuid: NetUid,
            amount_staked: u64,
        ) -> DispatchResult {
            Self::do_add_stake(origin, hotkey, netuid, amount_staked)
        }

        /// Publishes the caller hotkey's axon endpoint on `netuid`.
        #[pallet::call_index(4)]
        #[pallet::weight((
            Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)),
            DispatchClass::Normal,
            Pays::No
        ))]
        pub fn serve_axon(
            origin: OriginFor<T>,
            netuid: NetUid,
            version: u32,
            ip: u128,
            port: u16,
            ip_type: u8,
            protocol: u8,
            placeholder1: u8,
            placeholder2: u8,
        ) -> DispatchResult {
            Self::do_serve_axon(
                origin,
                netuid,
                AxonInfo {
                    block: 0,
                    version,
                    ip,
                    port,
                    ip_type,
                    protocol,
                    placeholder1,
                    placeholder2,
                },
            )
        }

        /// Registers `hotkey` on `netuid`, burning the subnet's registration cost from the caller coldkey.
        #[pallet::call_index(7)]
        #[pallet::weight(Weight::from_parts(30_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(16, 16)))]
        pub fn burned_register(
            origin: OriginFor<T>,
            netuid: NetUid,
            hotkey: T::AccountId,
        ) -> DispatchResult {
            Self::do_burned_registration(origin, netuid, hotkey)
        }

        /// Creates a subnet owned by the caller coldkey, locking the network cost.
        #[pallet::call_index(59)]
        #[pallet::weight(Weight::from_parts(50_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(20, 30)))]
        pub fn register_network(origin: OriginFor<T>, hotkey: T::AccountId) -> DispatchResult {
            Self::do_register_network(origin, hotkey)
        }

        /// Starts emission on a subnet (owner only, once).
        #[pallet::call_index(92)]
        #[pallet::weight(Weight::from_parts(10_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 2)))]
        pub fn start_call(origin: OriginFor<T>, netuid: NetUid) -> DispatchResult {
            Self::do_start_call(origin, netuid)
        }

        /// Commits BlakeTwo256(SCALE(hotkey, netuid, uids, values, salt, version_key)).
        #[pallet::call_index(96)]
        #[pallet::weight((
            Weight::from_parts(15_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(8, 2)),
            DispatchClass::Normal,
            Pays::No
        ))]
        pub fn commit_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            commit_hash: H256,
        ) -> DispatchResult {
            Self::do_commit_weights(origin, netuid, commit_hash)
        }

        /// Reveals weights committed one reveal period earlier.
        #[pallet::call_index(97)]
        #[pallet::weight((
            Weight::from_parts(25_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(14, 3)),
            DispatchClass::Normal,
            Pays::No
        ))]
        pub fn reveal_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            uids: Vec<u16>,
            values: Vec<u16>,
            salt: Vec<u16>,
            version_key: u64,
        ) -> DispatchResult {
            Self::do_reveal_weights(origin, netuid, uids, values, salt, version_key)
        }
    }

    impl<T: Config> Pallet<T> {
        pub fn current_block() -> u64 {
            let n: BlockNumberFor<T> = frame_system::Pallet::<T>::block_number();
            n.try_into().unwrap_or(u64::MAX)
        }

        pub fn if_subnet_exist(netuid: NetUid) -> bool {
            NetworksAdded::<T>::get(netuid)
        }

        /// Epoch schedule as in subtensor: subnet `netuid` runs its epoch at
        /// blocks where `(block + netuid + 1) % (tempo + 1) == 0`.
        pub fn should_run_epoch(netuid: NetUid, block: u64) -> bool {
            let tempo = Tempo::<T>::get(netuid) as u64;
            tempo != 0
                && block
                    .saturating_add(netuid as u64)
                    .saturating_add(1)
                    .is_multiple_of(tempo + 1)
        }

        /// Index of the epoch that `block` belongs to (commit-reveal windows).
        pub fn epoch_index(netuid: NetUid, block: u64) -> u64 {
            let tempo = Tempo::<T>::get(netuid) as u64;
            if tempo == 0 {
                return 0;
            }
            block.saturating_add(netuid as u64).saturating_add(1) / (tempo + 1)
        }

        /// Subtensor's first and last block of an epoch index.
        pub fn epoch_bounds(netuid: NetUid, epoch: u64) -> (u64, u64) {
            let tempo_plus_one = (Tempo::<T>::get(netuid) as u64).saturating_add(1);
            let offset = (netuid as u64).saturating_add(1);
            let start = epoch.saturating_mul(tempo_plus_one).saturating_sub(offset);
            let end = epoch
                .saturating_add(1)
                .saturating_mul(tempo_plus_one)
                .saturating_sub(offset.saturating_add(1));
            (start, end)
        }

        /// Per-block work: registration counters and due epochs.
        fn block_step() -> Weight {
            let block = Self::current_block();
            let mut weight = T::DbWeight::get().reads(1);
            let nets: Vec<NetUid> = NetworksAdded::<T>::iter()
                .filter_map(|(netuid, added)| added.then_some(netuid))
                .collect();
            for netuid in nets {
                RegistrationsThisBlock::<T>::remove(netuid);
                BlocksSinceLastStep::<T>::mutate(netuid, |b| *b = b.saturating_add(1));
                weight = weight.saturating_add(T::DbWeight::get().reads_writes(2, 2));
                if Self::should_run_epoch(netuid, block) {
                    let n = SubnetworkN::<T>::get(netuid) as u64;
                    Self::run_epoch(netuid);
                    BlocksSinceLastStep::<T>::insert(netuid, 0);
                    LastMechansimStepBlock::<T>::insert(netuid, block);
                    // The epoch reads and writes O(n) vectors plus n weight and bond rows.
                    weight = weight
                        .saturating_add(T::DbWeight::get().reads_writes(20 + 3 * n, 12 + 2 * n));
                }
            }
            weight
        }
    }
}
