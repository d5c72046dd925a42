//! Yuma consensus, run per subnet every tempo. [`yuma`] is the pure math on
//! plain vectors (unit-tested against hand-computed cases); [`Pallet::run_epoch`]
//! reads its inputs from storage, writes the outputs and pays the emission.

use super::*;
use crate::math::*;
use alloc::{vec, vec::Vec};
use frame_support::traits::Get;
use substrate_fixed::types::{I32F32, I64F64};

/// Everything one epoch needs, as plain per-uid vectors.
#[derive(Clone, Debug, Default)]
pub struct EpochInput {
    /// Stake of each uid's hotkey, rao.
    pub stake: Vec<u64>,
    /// Set weights within the activity cutoff.
    pub active: Vec<bool>,
    /// Validator permits from the previous epoch (they gate this epoch's weights).
    pub permits: Vec<bool>,
    /// Sparse weight rows as stored: (target uid, u16 weight).
    pub weights: Vec<Vec<(u16, u16)>>,
    /// Sparse bond rows as stored: (target uid, u16 bond).
    pub bonds: Vec<Vec<(u16, u16)>>,
    pub last_update: Vec<u64>,
    pub block_at_registration: Vec<u64>,
    /// Kappa as u16 proportion (32767 ≈ 0.5).
    pub kappa: u16,
    /// Bonds EMA retention, parts per million (900_000 keeps 90%).
    pub bonds_moving_average: u64,
    pub max_allowed_validators: u16,
    /// Rao to distribute to miners and validators this epoch.
    pub emission: u64,
}

/// Outputs of one epoch, per uid.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochOutput {
    pub consensus: Vec<I32F32>,
    pub incentive: Vec<I32F32>,
    pub dividends: Vec<I32F32>,
    pub validator_trust: Vec<I32F32>,
    pub validator_permit: Vec<bool>,
    /// Dense bond matrix after the EMA.
    pub bonds: Vec<Vec<I32F32>>,
    pub emission: Vec<u64>,
}

fn dense(rows: &[Vec<(u16, u16)>], n: usize) -> Vec<Vec<I32F32>> {
    (0..n)
        .map(|i| {
            let mut row = vec![zero(); n];
            if let Some(sparse) = rows.get(i) {
                for &(j, w) in sparse {
                    if let Some(slot) = row.get_mut(j as usize) {
                        *slot = u16_to_fixed(w);
                    }
                }
            }
            row
        })
        .collect()
}

fn get_or<T: Copy>(v: &[T], i: usize, default: T) -> T {
    v.get(i).copied().unwrap_or(default)
}

/// One Yuma consensus epoch.
pub fn yuma(input: &EpochInput) -> EpochOutput {
    let n = input.stake.len();
    // 1. Stake, normalized; permits for next epoch go to the top-k stake.
    let stake = normalize_u64(&input.stake);
    let validator_permit = is_topk_nonzero(&stake, input.max_allowed_validators as usize);
    // Only active, permitted validators' stake takes part in consensus.
    let mut active_stake: Vec<I32F32> = (0..n)
        .map(|i| {
            if get_or(&input.active, i, false) && get_or(&input.permits, i, false) {
                stake[i]
            } else {
                zero()
            }
        })
        .collect();
    normalize(&mut active_stake);

    // 2. Weights: drop non-permitted rows, self-weights and weights older than the
    //    target's registration; then normalize rows.
    let mut w = dense(&input.weights, n);
    for (i, row) in w.iter_mut().enumerate() {
        let permitted = get_or(&input.permits, i, false);
        let updated = get_or(&input.last_update, i, 0);
        for (j, x) in row.iter_mut().enumerate() {
            let outdated = updated <= get_or(&input.block_at_registration, j, 0);
            if !permitted || i == j || outdated {
                *x = zero();
            }
        }
    }
    normalize_rows(&mut w);

    // 3-4. Consensus and clipping.
    let consensus = weighted_quantile_cols(&active_stake, &w, u16_to_fixed(input.kappa));
    let clipped = clip_cols(&w, &consensus);

    // 5. Incentive.
    let mut incentive = weighted_col_sums(&active_stake, &clipped);
    normalize(&mut incentive);
    let validator_trust = row_sums(&clipped);

    // 6. Bonds EMA: B = a·W̄ + (1-a)·B_old with a = 1 - moving_average.
    let retain =
        I32F32::from_num(input.bonds_moving_average.min(1_000_000)) / I32F32::from_num(1_000_000);
    let alpha = one() - retain;
    let old = dense(&input.bonds, n);
    let bonds: Vec<Vec<I32F32>> = clipped
        .iter()
        .zip(&old)
        .map(|(wr, br)| {
            wr.iter()
                .zip(br)
                .map(|(w, b)| {
                    alpha
                        .saturating_mul(*w)
                        .saturating_add(retain.saturating_mul(*b))
                })
                .collect()
        })
        .collect();

    // 7. Dividends: D_i ∝ S_i Σ_j colnorm(B)_ij I_j.
    let mut bn = bonds.clone();
    normalize_cols(&mut bn);
    let mut dividends: Vec<I32F32> = bn
        .iter()
        .zip(&active_stake)
        .map(|(row, s)| {
            let share = row.iter().zip(&incentive).fold(zero(), |acc, (b, i)| {
                acc.saturating_add(b.saturating_mul(*i))
            });
            s.saturating_mul(share)
        })
        .collect();
    normalize(&mut dividends);

    // 8. Emission: half to miners by incentive, half to validators by dividends.
    let miner_pool = input.emission / 2;
    let validator_pool = input.emission - miner_pool;
    let share = |x: I32F32, pool: u64| -> u64 {
        (I64F64::from_num(x) * I64F64::from_num(pool)).saturating_to_num::<u64>()
    };
    let emission = (0..n)
        .map(|i| {
            share(incentive[i], miner_pool).saturating_add(share(dividends[i], validator_pool))
        })
        .collect();

    EpochOutput {
        consensus,
        incentive,
        dividends,
        validator_trust,
        validator_permit,
        bonds,
        emission,
    }
}

impl<T: Config> Pallet<T> {
    /// Runs Yuma for `netuid` from storage, stores the outputs and credits the
    /// emission as stake (the owner's cut to the subnet owner's hotkey).
    pub fn run_epoch(netuid: NetUid) {
        let n = SubnetworkN::<T>::get(netuid);
        let block = Self::current_block();
        let hotkeys: Vec<T::AccountId> = (0..n).map(|uid| Keys::<T>::get(netuid, uid)).collect();
        let last_update = LastUpdate::<T>::get(netuid);
        let cutoff = ActivityCutoff::<T>::get(netuid) as u64;
        let started = FirstEmissionBlockNumber::<T>::get(netuid).is_some_and(|b| b <= block);
        let total = if started {
            T::BlockEmission::get().saturating_mul(BlocksSinceLastStep::<T>::get(netuid).max(1))
        } else {
            0
        };
        let owner_cut =
            (total as u128 * SubnetOwnerCut::<T>::get() as u128 / u16::MAX as u128) as u64;
        let input = EpochInput {
            stake: hotkeys
                .iter()
                .map(|h| TotalHotkeyAlpha::<T>::get(h, netuid))
                .collect(),
            active: (0..n as usize)
                .map(|i| get_or(&last_update, i, 0).saturating_add(cutoff) >= block)
                .collect(),
            permits: ValidatorPermit::<T>::get(netuid),
            weights: (0..n).map(|uid| Weights::<T>::get(netuid, uid)).collect(),
            bonds: (0..n).map(|uid| Bonds::<T>::get(netuid, uid)).collect(),
            block_at_registration: (0..n)
                .map(|uid| BlockAtRegistration::<T>::get(netuid, uid))
                .collect(),
            last_update,
            kappa: Kappa::<T>::get(netuid),
            bonds_moving_average: BondsMovingAverage::<T>::get(netuid),
            max_allowed_validators: MaxAllowedValidators::<T>::get(netuid),
            emission: total.saturating_sub(owner_cut),
        };
        let out = yuma(&input);
        let to_u16 = |v: &[I32F32]| v.iter().map(|x| fixed_to_u16(*x)).collect::<Vec<u16>>();
        Active::<T>::insert(netuid, input.active.clone());
        Consensus::<T>::insert(netuid, to_u16(&out.consensus));
        Incentive::<T>::insert(netuid, to_u16(&out.incentive));
        Dividends::<T>::insert(netuid, to_u16(&out.dividends));
        ValidatorTrust::<T>::insert(netuid, to_u16(&out.validator_trust));
        ValidatorPermit::<T>::insert(netuid, out.validator_permit.clone());
        Emission::<T>::insert(netuid, out.emission.clone());
        for (uid, row) in out.bonds.iter().enumerate() {
            let sparse: Vec<(u16, u16)> = row
                .iter()
                .enumerate()
                .map(|(j, b)| (j as u16, fixed_to_u16(*b)))
                .filter(|(_, b)| *b > 0)
                .collect();
            if sparse.is_empty() {
                Bonds::<T>::remove(netuid, uid as u16);
            } else {
                Bonds::<T>::insert(netuid, uid as u16, sparse);
            }
        }
        let mut paid = 0u64;
        for (hotkey, amount) in hotkeys.iter().zip(&out.emission) {
            if *amount > 0 {
                Self::increase_stake(hotkey, &Owner::<T>::get(hotkey), netuid, *amount);
                paid = paid.saturating_add(*amount);
            }
        }
        if owner_cut > 0 {
            let owner_hotkey = SubnetOwnerHotkey::<T>::get(netuid);
            Self::increase_stake(
                &owner_hotkey,
                &SubnetOwner::<T>::get(netuid),
                netuid,
                owner_cut,
            );
            paid = paid.saturating_add(owner_cut);
        }
        Self::deposit_event(Event::EpochRun(netuid, paid));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: I32F32, b: f64) -> bool {
        (a.to_num::<f64>() - b).abs() < 1e-6
    }

    /// Two validators (60/40 stake) disagree on two miners; see the module
    /// docs of the test for the hand computation.
    fn two_validators_two_miners() -> EpochInput {
        EpochInput {
            stake: vec![600, 400, 0, 0],
            active: vec![true; 4],
            permits: vec![true, true, false, false],
            // v0: 3:1 for m2:m3, v1: 1:3.
            weights: vec![
                vec![(2, 65_535), (3, 21_845)],
                vec![(2, 21_845), (3, 65_535)],
                vec![],
                vec![],
            ],
            bonds: vec![vec![]; 4],
            last_update: vec![10, 10, 1, 1],
            block_at_registration: vec![0, 0, 1, 1],
            kappa: 32_767,
            bonds_moving_average: 900_000,
            max_allowed_validators: 64,
            emission: 1_000_000,
        }
    }

    // Hand computation for `two_validators_two_miners`:
    //   W = [[.75 .25] [.25 .75]] on columns (m2, m3), S = (.6, .4)
    //   C(m2) = .75 (backed by .6 > .5), C(m3) = .25 (.75 is backed by only .4)
    //   W̄ = [[.75 .25] [.25 .25]], R = (.55, .25), I = (.6875, .3125)
    //   VT = (1.0, .5); B = .1·W̄; colnorm(B) = [[.75 .5] [.25 .5]]
    //   D ∝ (.6·(.75·.6875 + .5·.3125), .4·(.25·.6875 + .5·.3125)) = (.403125, .13125)
    //   D = (.754386, .245614); emission = 500k·I + 500k·D
    #[test]
    fn yuma_matches_hand_computation() {
        let out = yuma(&two_validators_two_miners());
        assert!(close(out.consensus[2], 0.75) && close(out.consensus[3], 0.25));
        assert!(close(out.consensus[0], 0.0) && close(out.consensus[1], 0.0));
        assert!(close(out.incentive[2], 0.6875) && close(out.incentive[3], 0.3125));
        assert!(close(out.incentive[0], 0.0));
        assert!(close(out.validator_trust[0], 1.0) && close(out.validator_trust[1], 0.5));
        assert!(close(out.bonds[0][2], 0.075) && close(out.bonds[0][3], 0.025));
        assert!(close(out.bonds[1][2], 0.025) && close(out.bonds[1][3], 0.025));
        assert!(close(out.dividends[0], 0.403125 / 0.534375));
        assert!(close(out.dividends[1], 0.13125 / 0.534375));
        assert_eq!(out.validator_permit, vec![true, true, false, false]);
        let e = &out.emission;
        assert!((e[2] as i64 - 343_750).abs() <= 1, "{e:?}");
        assert!((e[3] as i64 - 156_250).abs() <= 1, "{e:?}");
        assert!((e[0] as i64 - 377_193).abs() <= 1, "{e:?}");
        assert!((e[1] as i64 - 122_807).abs() <= 1, "{e:?}");
        assert!(e.iter().sum::<u64>() <= 1_000_000);
    }

    #[test]
    fn bonds_are_an_ema_of_clipped_weights() {
        let mut input = two_validators_two_miners();
        // Previous bonds: v0 fully bonded to m3 (1.0), nothing else.
        input.bonds = vec![vec![(3, 65_535)], vec![], vec![], vec![]];
        let out = yuma(&input);
        // B = .1·W̄ + .9·B_old
        assert!(close(out.bonds[0][2], 0.075));
        assert!(close(out.bonds[0][3], 0.1 * 0.25 + 0.9));
        assert!(close(out.bonds[1][3], 0.025));
    }

    #[test]
    fn unpermitted_self_and_outdated_weights_are_ignored() {
        let mut input = two_validators_two_miners();
        // v1 has no permit: only v0 counts, so consensus is v0's row.
        input.permits = vec![true, false, false, false];
        let out = yuma(&input);
        assert!(close(out.incentive[2], 0.75) && close(out.incentive[3], 0.25));
        assert!(close(out.dividends[0], 1.0) && close(out.dividends[1], 0.0));

        // A self-weight carries nothing.
        let mut input = two_validators_two_miners();
        input.weights[0] = vec![(0, 65_535), (2, 65_535)];
        let out = yuma(&input);
        assert!(close(out.consensus[0], 0.0));

        // m3 registered after both validators last set weights: their weights to it are stale.
        let mut input = two_validators_two_miners();
        input.block_at_registration[3] = 10;
        let out = yuma(&input);
        assert!(close(out.incentive[3], 0.0) && close(out.incentive[2], 1.0));
    }

    #[test]
    fn inactive_validators_lose_their_say() {
        let mut input = two_validators_two_miners();
        input.active = vec![false, true, true, true];
        let out = yuma(&input);
        // Only v1 remains: its row (.25, .75) becomes the incentive.
        assert!(close(out.incentive[2], 0.25) && close(out.incentive[3], 0.75));
    }

    #[test]
    fn permits_go_to_top_k_stake() {
        let mut input = two_validators_two_miners();
        input.stake = vec![500, 100, 300, 0];
        input.max_allowed_validators = 2;
        assert_eq!(
            yuma(&input).validator_permit,
            vec![true, false, true, false]
        );
    }

    #[test]
    fn empty_and_weightless_subnets_emit_nothing() {
        let out = yuma(&EpochInput::default());
        assert!(out.emission.is_empty());
        let mut input = two_validators_two_miners();
        input.weights = vec![vec![]; 4];
        let out = yuma(&input);
        assert_eq!(out.emission, vec![0; 4]);
    }

    #[test]
    fn malformed_rows_do_not_panic() {
        let mut input = two_validators_two_miners();
        input.weights[0] = vec![(900, 65_535), (2, 1)];
        input.permits.truncate(1);
        input.last_update.clear();
        let out = yuma(&input);
        assert_eq!(out.emission.len(), 4);
    }
}
