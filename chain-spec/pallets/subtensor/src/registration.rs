//! Subnets and neurons: `register_network`, `start_call`, `burned_register`,
//! and the bookkeeping that gives a new uid a slot in every per-uid vector.

use super::*;
use frame_support::{
    ensure,
    pallet_prelude::DispatchResult,
    traits::{
        fungible::Mutate,
        tokens::{Fortitude, Precision, Preservation},
    },
};
use frame_system::{ensure_signed, pallet_prelude::OriginFor};

impl<T: Config> Pallet<T> {
    /// Creates the storage of a new subnet; shared by genesis and `register_network`.
    pub(crate) fn init_new_network(
        netuid: NetUid,
        owner: &T::AccountId,
        hotkey: &T::AccountId,
        block: u64,
    ) {
        NetworksAdded::<T>::insert(netuid, true);
        TotalNetworks::<T>::mutate(|n| *n = n.saturating_add(1));
        NetworkRegisteredAt::<T>::insert(netuid, block);
        SubnetOwner::<T>::insert(netuid, owner.clone());
        SubnetOwnerHotkey::<T>::insert(netuid, hotkey.clone());
        if !Owner::<T>::contains_key(hotkey) {
            Owner::<T>::insert(hotkey, owner.clone());
        }
        // Like subtensor, the owner's hotkey takes uid 0 of its subnet.
        Self::append_neuron(netuid, hotkey, block);
    }

    /// Gives `hotkey` the next uid on `netuid` and extends the per-uid vectors.
    pub(crate) fn append_neuron(netuid: NetUid, hotkey: &T::AccountId, block: u64) -> u16 {
        let uid = SubnetworkN::<T>::get(netuid);
        SubnetworkN::<T>::insert(netuid, uid.saturating_add(1));
        Keys::<T>::insert(netuid, uid, hotkey.clone());
        Uids::<T>::insert(netuid, hotkey, uid);
        IsNetworkMember::<T>::insert(hotkey, netuid, true);
        BlockAtRegistration::<T>::insert(netuid, uid, block);
        Active::<T>::mutate(netuid, |v| v.push(true));
        Consensus::<T>::mutate(netuid, |v| v.push(0));
        Incentive::<T>::mutate(netuid, |v| v.push(0));
        Dividends::<T>::mutate(netuid, |v| v.push(0));
        Emission::<T>::mutate(netuid, |v| v.push(0));
        ValidatorTrust::<T>::mutate(netuid, |v| v.push(0));
        ValidatorPermit::<T>::mutate(netuid, |v| v.push(false));
        // Registration counts as an update, so a new neuron waits out the rate limit.
        LastUpdate::<T>::mutate(netuid, |v| v.push(block));
        uid
    }

    pub(crate) fn do_register_network(
        origin: OriginFor<T>,
        hotkey: T::AccountId,
    ) -> DispatchResult {
        let coldkey = ensure_signed(origin)?;
        if Owner::<T>::contains_key(&hotkey) {
            ensure!(
                Owner::<T>::get(&hotkey) == coldkey,
                Error::<T>::NonAssociatedColdKey
            );
        }
        let netuid = (1..=u16::MAX)
            .find(|n| !NetworksAdded::<T>::get(n))
            .ok_or(Error::<T>::SubnetLimitReached)?;
        let cost = NetworkMinLockCost::<T>::get();
        T::Currency::burn_from(
            &coldkey,
            cost,
            Preservation::Expendable,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::CannotAffordLockCost)?;
        let block = Self::current_block();
        Self::init_new_network(netuid, &coldkey, &hotkey, block);
        SubnetLocked::<T>::insert(netuid, cost);
        Self::deposit_event(Event::NetworkAdded(netuid, 1));
        Ok(())
    }

    pub(crate) fn do_start_call(origin: OriginFor<T>, netuid: NetUid) -> DispatchResult {
        let coldkey = ensure_signed(origin)?;
        ensure!(Self::if_subnet_exist(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            SubnetOwner::<T>::get(netuid) == coldkey,
            Error::<T>::NotSubnetOwner
        );
        ensure!(
            FirstEmissionBlockNumber::<T>::get(netuid).is_none(),
            Error::<T>::FirstEmissionBlockNumberAlreadySet
        );
        let block = Self::current_block();
        let registered_at = NetworkRegisteredAt::<T>::get(netuid);
        ensure!(
            block >= registered_at.saturating_add(StartCallDelay::<T>::get()),
            Error::<T>::NeedWaitingMoreBlocksToStarCall
        );
        let first = block.saturating_add(1);
        FirstEmissionBlockNumber::<T>::insert(netuid, first);
        SubtokenEnabled::<T>::insert(netuid, true);
        Self::deposit_event(Event::FirstEmissionBlockNumberSet(netuid, first));
        Ok(())
    }

    pub(crate) fn do_burned_registration(
        origin: OriginFor<T>,
        netuid: NetUid,
        hotkey: T::AccountId,
    ) -> DispatchResult {
        let coldkey = ensure_signed(origin)?;
        ensure!(
            netuid != 0,
            Error::<T>::RegistrationNotPermittedOnRootSubnet
        );
        ensure!(Self::if_subnet_exist(netuid), Error::<T>::SubnetNotExists);
        ensure!(
            NetworkRegistrationAllowed::<T>::get(netuid),
            Error::<T>::SubNetRegistrationDisabled
        );
        ensure!(
            RegistrationsThisBlock::<T>::get(netuid) < MaxRegistrationsPerBlock::<T>::get(netuid),
            Error::<T>::TooManyRegistrationsThisBlock
        );
        ensure!(
            !Uids::<T>::contains_key(netuid, &hotkey),
            Error::<T>::HotKeyAlreadyRegisteredInSubNet
        );
        if Owner::<T>::contains_key(&hotkey) {
            ensure!(
                Owner::<T>::get(&hotkey) == coldkey,
                Error::<T>::NonAssociatedColdKey
            );
        }
        // Subtensor replaces the weakest neuron of a full subnet; this dev chain refuses instead.
        ensure!(
            SubnetworkN::<T>::get(netuid) < MaxAllowedUids::<T>::get(netuid),
            Error::<T>::NoNeuronIdAvailable
        );
        let cost = Burn::<T>::get(netuid);
        T::Currency::burn_from(
            &coldkey,
            cost,
            Preservation::Expendable,
            Precision::Exact,
            Fortitude::Polite,
        )
        .map_err(|_| Error::<T>::NotEnoughBalanceToStake)?;
        if !Owner::<T>::contains_key(&hotkey) {
            Owner::<T>::insert(&hotkey, coldkey);
        }
        let uid = Self::append_neuron(netuid, &hotkey, Self::current_block());
        RegistrationsThisBlock::<T>::mutate(netuid, |n| *n = n.saturating_add(1));
        Self::deposit_event(Event::NeuronRegistered(netuid, uid, hotkey));
        Ok(())
    }
}
