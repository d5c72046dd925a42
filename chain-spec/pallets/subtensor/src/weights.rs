//! Weight setting (`set_weights`) and commit-reveal (`commit_weights`,
//! `reveal_weights`). The checks run in subtensor's order so a client sees the
//! same error for the same mistake on both chains.

use super::*;
use alloc::{collections::VecDeque, vec::Vec};
use frame_support::{ensure, pallet_prelude::DispatchResult};
use frame_system::{ensure_signed, pallet_prelude::OriginFor};
use sp_core::H256;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// Scales `values` so the largest becomes `u16::MAX` (subtensor's max-upscale).
pub fn max_upscale(values: &[u16]) -> Vec<u16> {
    let max = values.iter().copied().max().unwrap_or(0) as u64;
    if max == 0 {
        return values.to_vec();
    }
    values
        .iter()
        .map(|&v| ((v as u64 * u16::MAX as u64) / max) as u16)
        .collect()
}

/// The hash a commit must carry for a later reveal of these arguments.
pub fn commit_hash<AccountId: codec::Encode>(
    hotkey: &AccountId,
    netuid: NetUid,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> H256 {
    BlakeTwo256::hash_of(&(hotkey, netuid, uids, values, salt, version_key))
}

impl<T: Config> Pallet<T> {
    /// True when the last update of `uid` is at least the rate limit ago.
    fn passes_rate_limit(netuid: NetUid, uid: u16, now: u64) -> bool {
        let limit = WeightsSetRateLimit::<T>::get(netuid);
        let last = LastUpdate::<T>::get(netuid)
            .get(uid as usize)
            .copied()
            .unwrap_or(0);
        now.saturating_sub(last) >= limit
    }

    fn set_last_update(netuid: NetUid, uid: u16, now: u64) {
        LastUpdate::<T>::mutate(netuid, |v| {
            if let Some(slot) = v.get_mut(uid as usize) {
                *slot = now;
            }
        });
    }

    pub(crate) fn do_set_weights(
        origin: OriginFor<T>,
        netuid: NetUid,
        uids: Vec<u16>,
        values: Vec<u16>,
        version_key: u64,
    ) -> DispatchResult {
        let hotkey = ensure_signed(origin)?;
        // 1. Equal lengths.
        ensure!(
            uids.len() == values.len(),
            Error::<T>::WeightVecNotEqualSize
        );
        // 2. Registered hotkey on an existing subnet.
        ensure!(Self::if_subnet_exist(netuid), Error::<T>::SubnetNotExists);
        let uid = Uids::<T>::get(netuid, &hotkey).ok_or(Error::<T>::HotKeyNotRegisteredInSubNet)?;
        // 3. Enough stake.
        ensure!(
            TotalHotkeyAlpha::<T>::get(&hotkey, netuid) >= StakeThreshold::<T>::get(),
            Error::<T>::NotEnoughStakeToSetWeights
        );
        // 4. Version key.
        ensure!(
            version_key >= WeightsVersionKey::<T>::get(netuid),
            Error::<T>::IncorrectWeightVersionKey
        );
        // 5. Rate limit (with commit-reveal the commit is what is rate limited).
        let now = Self::current_block();
        if !CommitRevealWeightsEnabled::<T>::get(netuid) {
            ensure!(
                Self::passes_rate_limit(netuid, uid, now),
                Error::<T>::SettingWeightsTooFast
            );
        }
        // 6. Validator permit, unless the only weight is on itself.
        let self_weight_only = uids.len() == 1 && uids[0] == uid;
        let permitted = ValidatorPermit::<T>::get(netuid)
            .get(uid as usize)
            .copied()
            .unwrap_or(false);
        ensure!(
            self_weight_only || permitted,
            Error::<T>::NeuronNoValidatorPermit
        );
        // 7. No duplicates, all uids exist.
        let n = SubnetworkN::<T>::get(netuid);
        let mut seen = uids.clone();
        seen.sort_unstable();
        seen.dedup();
        ensure!(seen.len() == uids.len(), Error::<T>::DuplicateUids);
        ensure!(
            uids.iter().all(|&u| u < n),
            Error::<T>::UidVecContainInvalidOne
        );
        // 8. Enough weights (capped by the subnet size, so tiny subnets can still vote).
        let min = MinAllowedWeights::<T>::get(netuid).min(n) as usize;
        ensure!(
            self_weight_only || uids.len() >= min,
            Error::<T>::WeightVecLengthIsLow
        );
        // 9. Max-upscale and store the non-zero entries.
        let scaled = max_upscale(&values);
        let row: Vec<(u16, u16)> = uids
            .iter()
            .copied()
            .zip(scaled)
            .filter(|(_, w)| *w > 0)
            .collect();
        Weights::<T>::insert(netuid, uid, row);
        Self::set_last_update(netuid, uid, now);
        Self::deposit_event(Event::WeightsSet(netuid, uid));
        Ok(())
    }

    pub(crate) fn do_commit_weights(
        origin: OriginFor<T>,
        netuid: NetUid,
        commit_hash: H256,
    ) -> DispatchResult {
        let hotkey = ensure_signed(origin)?;
        ensure!(
            CommitRevealWeightsEnabled::<T>::get(netuid),
            Error::<T>::CommitRevealDisabled
        );
        let uid = Uids::<T>::get(netuid, &hotkey).ok_or(Error::<T>::HotKeyNotRegisteredInSubNet)?;
        let now = Self::current_block();
        ensure!(
            Self::passes_rate_limit(netuid, uid, now),
            Error::<T>::CommittingWeightsTooFast
        );
        let reveal_epoch =
            Self::epoch_index(netuid, now).saturating_add(RevealPeriodEpochs::<T>::get(netuid));
        let (first_reveal, last_reveal) = Self::epoch_bounds(netuid, reveal_epoch);
        let mut commits: VecDeque<(H256, u64, u64, u64)> =
            WeightCommits::<T>::get(netuid, &hotkey).unwrap_or_default();
        // Expired commits can never be revealed; dropping them frees queue room.
        commits.retain(|(_, _, _, last)| *last >= now);
        ensure!(
            commits.len() < MAX_UNREVEALED_COMMITS,
            Error::<T>::TooManyUnrevealedCommits
        );
        commits.push_back((commit_hash, now, first_reveal, last_reveal));
        WeightCommits::<T>::insert(netuid, &hotkey, commits);
        Self::set_last_update(netuid, uid, now);
        Self::deposit_event(Event::WeightsCommitted(hotkey, netuid, commit_hash));
        Ok(())
    }

    pub(crate) fn do_reveal_weights(
        origin: OriginFor<T>,
        netuid: NetUid,
        uids: Vec<u16>,
        values: Vec<u16>,
        salt: Vec<u16>,
        version_key: u64,
    ) -> DispatchResult {
        let hotkey = ensure_signed(origin.clone())?;
        ensure!(
            CommitRevealWeightsEnabled::<T>::get(netuid),
            Error::<T>::CommitRevealDisabled
        );
        let mut commits =
            WeightCommits::<T>::get(netuid, &hotkey).ok_or(Error::<T>::NoWeightsCommitFound)?;
        let hash = commit_hash(&hotkey, netuid, &uids, &values, &salt, version_key);
        let now = Self::current_block();
        let pos = commits
            .iter()
            .position(|(h, _, _, _)| *h == hash)
            .ok_or(Error::<T>::InvalidRevealCommitHashNotMatch)?;
        let (_, _, first_reveal, last_reveal) = commits[pos];
        ensure!(now >= first_reveal, Error::<T>::RevealTooEarly);
        ensure!(now <= last_reveal, Error::<T>::ExpiredWeightCommit);
        Self::do_set_weights(origin, netuid, uids, values, version_key)?;
        commits.remove(pos);
        commits.retain(|(_, _, _, last)| *last >= now);
        if commits.is_empty() {
            WeightCommits::<T>::remove(netuid, &hotkey);
        } else {
            WeightCommits::<T>::insert(netuid, &hotkey, commits);
        }
        Self::deposit_event(Event::WeightsRevealed(hotkey, netuid, hash));
        Ok(())
    }
}
