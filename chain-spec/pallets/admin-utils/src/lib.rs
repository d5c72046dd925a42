//! Hyperparameter setters named like subtensor's `AdminUtils` pallet
//! (`sudo_set_*`, same argument names), so setup scripts written for a
//! subtensor localnet work unchanged here. Root may call all of them; the
//! subnet owner may call the ones subtensor lets owners call, outside the
//! admin freeze window before an epoch.

#![cfg_attr(not(feature = "std"), no_std)]

pub use pallet::*;

#[cfg(test)]
mod tests;

#[frame_support::pallet]
pub mod pallet {
    use frame_support::pallet_prelude::*;
    use frame_system::pallet_prelude::*;
    use pallet_subtensor::{self as subtensor, NetUid};

    #[pallet::pallet]
    pub struct Pallet<T>(_);

    #[pallet::config]
    pub trait Config: frame_system::Config + subtensor::Config {}

    #[pallet::error]
    pub enum Error<T> {
        /// The subnet does not exist.
        SubnetDoesNotExist,
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        #[pallet::call_index(1)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(2, 1)))]
        pub fn sudo_set_tempo(origin: OriginFor<T>, netuid: NetUid, tempo: u16) -> DispatchResult {
            ensure_root(origin)?;
            Self::ensure_subnet(netuid)?;
            subtensor::Tempo::<T>::insert(netuid, tempo);
            Self::emit(subtensor::Event::TempoSet(netuid, tempo));
            Ok(())
        }

        #[pallet::call_index(7)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(2, 1)))]
        pub fn sudo_set_weights_set_rate_limit(
            origin: OriginFor<T>,
            netuid: NetUid,
            weights_set_rate_limit: u64,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::ensure_subnet(netuid)?;
            subtensor::WeightsSetRateLimit::<T>::insert(netuid, weights_set_rate_limit);
            Self::emit(subtensor::Event::WeightsSetRateLimitSet(
                netuid,
                weights_set_rate_limit,
            ));
            Ok(())
        }

        #[pallet::call_index(49)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)))]
        pub fn sudo_set_commit_reveal_weights_enabled(
            origin: OriginFor<T>,
            netuid: NetUid,
            enabled: bool,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::CommitRevealWeightsEnabled::<T>::insert(netuid, enabled);
            Self::emit(subtensor::Event::CommitRevealEnabled(netuid, enabled));
            Ok(())
        }

        #[pallet::call_index(6)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)))]
        pub fn sudo_set_weights_version_key(
            origin: OriginFor<T>,
            netuid: NetUid,
            weights_version_key: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::WeightsVersionKey::<T>::insert(netuid, weights_version_key);
            Self::emit(subtensor::Event::WeightsVersionKeySet(
                netuid,
                weights_version_key,
            ));
            Ok(())
        }

        #[pallet::call_index(5)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)))]
        pub fn sudo_set_min_allowed_weights(
            origin: OriginFor<T>,
            netuid: NetUid,
            min_allowed_weights: u16,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::MinAllowedWeights::<T>::insert(netuid, min_allowed_weights);
            Self::emit(subtensor::Event::MinAllowedWeightSet(
                netuid,
                min_allowed_weights,
            ));
            Ok(())
        }

        #[pallet::call_index(12)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(2, 1)))]
        pub fn sudo_set_max_allowed_validators(
            origin: OriginFor<T>,
            netuid: NetUid,
            max_allowed_validators: u16,
        ) -> DispatchResult {
            ensure_root(origin)?;
            Self::ensure_subnet(netuid)?;
            subtensor::MaxAllowedValidators::<T>::insert(netuid, max_allowed_validators);
            Self::emit(subtensor::Event::MaxAllowedValidatorsSet(
                netuid,
                max_allowed_validators,
            ));
            Ok(())
        }

        #[pallet::call_index(3)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(4, 1)))]
        pub fn sudo_set_serving_rate_limit(
            origin: OriginFor<T>,
            netuid: NetUid,
            serving_rate_limit: u64,
        ) -> DispatchResult {
            Self::ensure_owner_or_root(origin, netuid)?;
            subtensor::ServingRateLimit::<T>::insert(netuid, serving_rate_limit);
            Self::emit(subtensor::Event::ServingRateLimitSet(
                netuid,
                serving_rate_limit,
            ));
            Ok(())
        }

        #[pallet::call_index(19)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().reads_writes(2, 1)))]
        pub fn sudo_set_burn(origin: OriginFor<T>, netuid: NetUid, burn: u64) -> DispatchResult {
            ensure_root(origin)?;
            Self::ensure_subnet(netuid)?;
            subtensor::Burn::<T>::insert(netuid, burn);
            Self::emit(subtensor::Event::BurnSet(netuid, burn));
            Ok(())
        }

        #[pallet::call_index(42)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().writes(1)))]
        pub fn sudo_set_stake_threshold(origin: OriginFor<T>, min_stake: u64) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::StakeThreshold::<T>::put(min_stake);
            Self::emit(subtensor::Event::StakeThresholdSet(min_stake));
            Ok(())
        }

        #[pallet::call_index(74)]
        #[pallet::weight(Weight::from_parts(5_000_000, 0).saturating_add(T::DbWeight::get().writes(1)))]
        pub fn sudo_set_admin_freeze_window(origin: OriginFor<T>, window: u16) -> DispatchResult {
            ensure_root(origin)?;
            subtensor::AdminFreezeWindow::<T>::put(window);
            Self::emit(subtensor::Event::AdminFreezeWindowSet(window));
            Ok(())
        }
    }

    impl<T: Config> Pallet<T> {
        fn emit(event: subtensor::Event<T>) {
            frame_system::Pallet::<T>::deposit_event(
                <T as frame_system::Config>::RuntimeEvent::from(event),
            );
        }

        fn ensure_subnet(netuid: NetUid) -> DispatchResult {
            ensure!(
                subtensor::Pallet::<T>::if_subnet_exist(netuid),
                Error::<T>::SubnetDoesNotExist
            );
            Ok(())
        }

        /// Root always; the subnet owner only outside the freeze window that
        /// precedes each epoch (subtensor protects weights near an epoch).
        fn ensure_owner_or_root(origin: OriginFor<T>, netuid: NetUid) -> DispatchResult {
            Self::ensure_subnet(netuid)?;
            if ensure_root(origin.clone()).is_ok() {
                return Ok(());
            }
            let who = ensure_signed(origin)?;
            ensure!(
                subtensor::SubnetOwner::<T>::get(netuid) == who,
                subtensor::Error::<T>::NotSubnetOwner
            );
            let window = subtensor::AdminFreezeWindow::<T>::get() as u64;
            let now = subtensor::Pallet::<T>::current_block();
            let in_window = (0..window).any(|d| {
                subtensor::Pallet::<T>::should_run_epoch(
                    netuid,
                    now.saturating_add(d).saturating_add(1),
                )
            });
            ensure!(
                !in_window,
                subtensor::Error::<T>::AdminActionProhibitedDuringWeightsWindow
            );
            Ok(())
        }
    }
}
