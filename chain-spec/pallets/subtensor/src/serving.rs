//! `serve_axon` and subtensor's endpoint validation (which rejects loopback
//! 127.0.0.1, so local tests announce 127.0.0.2 or 0).

use super::*;
use frame_support::{ensure, pallet_prelude::DispatchResult};
use frame_system::{ensure_signed, pallet_prelude::OriginFor};

/// True for IPv4 (4) and IPv6 (6).
pub fn is_valid_ip_type(ip_type: u8) -> bool {
    ip_type == 4 || ip_type == 6
}

/// Subtensor's address check; `allow_zero` lets an axon announce "no address".
pub fn is_valid_ip_address(ip_type: u8, addr: u128, allow_zero: bool) -> bool {
    if addr == 0 {
        return allow_zero;
    }
    match ip_type {
        4 => addr < u32::MAX as u128 && addr != 0x7f00_0001,
        6 => addr != u128::MAX && addr != 1,
        _ => false,
    }
}

impl<T: Config> Pallet<T> {
    pub(crate) fn do_serve_axon(
        origin: OriginFor<T>,
        netuid: NetUid,
        mut axon: AxonInfo,
    ) -> DispatchResult {
        let hotkey = ensure_signed(origin)?;
        ensure!(
            Uids::<T>::contains_key(netuid, &hotkey),
            Error::<T>::HotKeyNotRegisteredInNetwork
        );
        ensure!(is_valid_ip_type(axon.ip_type), Error::<T>::InvalidIpType);
        ensure!(
            is_valid_ip_address(axon.ip_type, axon.ip, true),
            Error::<T>::InvalidIpAddress
        );
        ensure!(axon.port != 0, Error::<T>::InvalidPort);
        let block = Self::current_block();
        if let Some(prev) = Axons::<T>::get(netuid, &hotkey) {
            let limit = ServingRateLimit::<T>::get(netuid);
            ensure!(
                limit == 0 || prev.block == 0 || block.saturating_sub(prev.block) >= limit,
                Error::<T>::ServingRateLimitExceeded
            );
        }
        axon.block = block;
        Axons::<T>::insert(netuid, &hotkey, axon);
        Self::deposit_event(Event::AxonServed(netuid, hotkey));
        Ok(())
    }
}
