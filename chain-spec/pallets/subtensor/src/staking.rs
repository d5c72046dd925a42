//! `add_stake`: TAO from a coldkey becomes alpha stake behind a hotkey. The
//! dev chain has no AMM, so one rao of TAO buys one rao of alpha.

use super::*;
use frame_support::{
    ensure,
    pallet_prelude::DispatchResult,
    traits::{
        fungible::{Inspect, Mutate},
        tokens::{Fortitude, Precision, Preservation},
    },
};
use frame_system::{ensure_signed, pallet_prelude::OriginFor};

/// Smallest stake accepted, in rao (subtensor's DefaultMinStake is 0.0005 TAO).
pub const MIN_STAKE: u64 = 500_000;

impl<T: Config> Pallet<T> {
    pub(crate) fn do_add_stake(
        origin: OriginFor<T>,
        hotkey: T::AccountId,
        netuid: NetUid,
        amount_staked: u64,
    ) -> DispatchResult {
        let coldkey = ensure_signed(origin)?;
        ensure!(Self::if_subnet_exist(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            SubtokenEnabled::<T>::get(netuid),
            Error::<T>::SubtokenDisabled
        );
        ensure!(
            Owner::<T>::contains_key(&hotkey),
            Error::<T>::HotKeyAccountNotExists
        );
        ensure!(amount_staked >= MIN_STAKE, Error::<T>::AmountTooLow);
        let spendable =
            T::Currency::reducible_balance(&coldkey, Preservation::Expendable, Fortitude::Polite);
        ensure!(
            spendable >= amount_staked,
            Error::<T>::NotEnoughBalanceToStake
        );
        T::Currency::burn_from(
            &coldkey,
            amount_staked,
            Preservation::Expendable,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::BalanceWithdrawalError)?;
        Self::increase_stake(&hotkey, &coldkey, netuid, amount_staked);
        Self::deposit_event(Event::StakeAdded(
            coldkey,
            hotkey,
            amount_staked,
            amount_staked,
            netuid,
            0,
        ));
        Ok(())
    }

    pub(crate) fn increase_stake(
        hotkey: &T::AccountId,
        coldkey: &T::AccountId,
        netuid: NetUid,
        alpha: u64,
    ) {
        TotalHotkeyAlpha::<T>::mutate(hotkey, netuid, |s| *s = s.saturating_add(alpha));
        Alpha::<T>::mutate((hotkey, coldkey, netuid), |s| *s = s.saturating_add(alpha));
    }
}
