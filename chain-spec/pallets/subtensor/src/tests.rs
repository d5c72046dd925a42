//! Pallet tests: every call's success and failure paths, the weight rules in
//! order, commit-reveal windows and the epoch running on a live subnet.

use crate::{mock::*, weights::commit_hash, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use sp_core::H256;

type Err = Error<Test>;

fn origin(who: u64) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

fn register(cold: u64, hot: u64) -> u16 {
    assert_ok!(SubtensorModule::burned_register(origin(cold), 1, hot));
    Uids::<Test>::get(1, hot).expect("just registered")
}

fn ip(a: u8, b: u8, c: u8, d: u8) -> u128 {
    u32::from_be_bytes([a, b, c, d]) as u128
}

/// A validator hotkey 10 (Bob's) with stake and a permit, and miners 20, 21.
fn validator_and_two_miners() -> (u16, u16, u16) {
    let v = register(BOB, 10);
    let m1 = register(CHARLIE, 20);
    let m2 = register(CHARLIE, 21);
    assert_ok!(SubtensorModule::add_stake(origin(BOB), 10, 1, 1_000_000));
    // Permits are handed out by the epoch (block 9 for netuid 1, tempo 10).
    run_to(9);
    assert!(ValidatorPermit::<Test>::get(1)[v as usize]);
    (v, m1, m2)
}

#[test]
fn genesis_subnet_is_set_up() {
    new_test_ext().execute_with(|| {
        assert!(NetworksAdded::<Test>::get(1));
        assert_eq!(Tempo::<Test>::get(1), 10);
        assert_eq!(WeightsSetRateLimit::<Test>::get(1), 2);
        assert!(!CommitRevealWeightsEnabled::<Test>::get(1));
        assert_eq!(SubnetOwner::<Test>::get(1), ALICE);
        assert_eq!(Keys::<Test>::get(1, 0), OWNER_HOT);
        assert_eq!(SubnetworkN::<Test>::get(1), 1);
        assert_eq!(TotalNetworks::<Test>::get(), 1);
        // Defaults for a subnet nobody configured.
        assert!(CommitRevealWeightsEnabled::<Test>::get(7));
        assert_eq!(Tempo::<Test>::get(7), 10);
        assert_eq!(Uids::<Test>::get(1, 12345), None);
    });
}

#[test]
fn register_network_creates_subnet_and_charges_lock() {
    new_test_ext().execute_with(|| {
        assert_ok!(SubtensorModule::register_network(origin(BOB), 50));
        assert!(NetworksAdded::<Test>::get(2));
        assert_eq!(SubnetOwner::<Test>::get(2), BOB);
        assert_eq!(Keys::<Test>::get(2, 0), 50);
        assert_eq!(Balances::balance(&BOB), 10_000_000 - 100_000);
        assert_eq!(SubnetLocked::<Test>::get(2), 100_000);
        assert!(FirstEmissionBlockNumber::<Test>::get(2).is_none());
        System::assert_has_event(Event::NetworkAdded(2, 1).into());
    });
}

#[test]
fn register_network_failures() {
    new_test_ext().execute_with(|| {
        assert_noop!(
            SubtensorModule::register_network(origin(POOR), 51),
            Err::CannotAffordLockCost
        );
        // OWNER_HOT belongs to Alice.
        assert_noop!(
            SubtensorModule::register_network(origin(BOB), OWNER_HOT),
            Err::NonAssociatedColdKey
        );
    });
}

#[test]
fn start_call_paths() {
    new_test_ext().execute_with(|| {
        assert_ok!(SubtensorModule::register_network(origin(BOB), 50));
        assert_noop!(
            SubtensorModule::start_call(origin(BOB), 9),
            Err::SubnetNotExists
        );
        assert_noop!(
            SubtensorModule::start_call(origin(ALICE), 2),
            Err::NotSubnetOwner
        );
        assert_noop!(
            SubtensorModule::start_call(origin(BOB), 2),
            Err::NeedWaitingMoreBlocksToStarCall
        );
        run_blocks(5);
        assert_ok!(SubtensorModule::start_call(origin(BOB), 2));
        assert_eq!(FirstEmissionBlockNumber::<Test>::get(2), Some(7));
        assert!(SubtokenEnabled::<Test>::get(2));
        assert_noop!(
            SubtensorModule::start_call(origin(BOB), 2),
            Err::FirstEmissionBlockNumberAlreadySet
        );
    });
}

#[test]
fn burned_register_assigns_uid_and_burns() {
    new_test_ext().execute_with(|| {
        let uid = register(BOB, 10);
        assert_eq!(uid, 1);
        assert_eq!(Keys::<Test>::get(1, 1), 10);
        assert_eq!(Owner::<Test>::get(10), BOB);
        assert_eq!(SubnetworkN::<Test>::get(1), 2);
        assert_eq!(Balances::balance(&BOB), 10_000_000 - 1_000);
        assert_eq!(LastUpdate::<Test>::get(1), vec![0, 1]);
        assert_eq!(BlockAtRegistration::<Test>::get(1, 1), 1);
        assert_eq!(ValidatorPermit::<Test>::get(1), vec![false, false]);
        assert_eq!(Emission::<Test>::get(1).len(), 2);
        System::assert_has_event(Event::NeuronRegistered(1, 1, 10).into());
    });
}

#[test]
fn burned_register_failures() {
    new_test_ext().execute_with(|| {
        register(BOB, 10);
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 1, 10),
            Err::HotKeyAlreadyRegisteredInSubNet
        );
        assert_noop!(
            SubtensorModule::burned_register(origin(POOR), 1, 11),
            Err::NotEnoughBalanceToStake
        );
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 5, 11),
            Err::SubnetNotExists
        );
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 0, 11),
            Err::RegistrationNotPermittedOnRootSubnet
        );
        // Hotkey 10 is Bob's; Charlie cannot register it elsewhere.
        assert_ok!(SubtensorModule::register_network(origin(CHARLIE), 60));
        assert_noop!(
            SubtensorModule::burned_register(origin(CHARLIE), 2, 10),
            Err::NonAssociatedColdKey
        );
        NetworkRegistrationAllowed::<Test>::insert(1, false);
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 1, 11),
            Err::SubNetRegistrationDisabled
        );
    });
}

#[test]
fn registrations_are_limited_per_block_and_by_capacity() {
    new_test_ext().execute_with(|| {
        // Three per block in the mock.
        register(BOB, 10);
        register(BOB, 11);
        register(BOB, 12);
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 1, 13),
            Err::TooManyRegistrationsThisBlock
        );
        run_blocks(1);
        register(BOB, 13);
        register(BOB, 14);
        register(BOB, 15);
        run_blocks(1);
        register(BOB, 16);
        // 8 uids (owner + 7) fill the test subnet.
        assert_eq!(SubnetworkN::<Test>::get(1), 8);
        assert_noop!(
            SubtensorModule::burned_register(origin(BOB), 1, 17),
            Err::NoNeuronIdAvailable
        );
    });
}

#[test]
fn serve_axon_rejects_loopback_127_0_0_1_and_accepts_127_0_0_2() {
    new_test_ext().execute_with(|| {
        register(BOB, 10);
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, ip(127, 0, 0, 1), 8091, 4, 0, 0, 0),
            Err::InvalidIpAddress
        );
        assert_ok!(SubtensorModule::serve_axon(
            origin(10),
            1,
            7,
            ip(127, 0, 0, 2),
            8091,
            4,
            0,
            0,
            0
        ));
        let axon = Axons::<Test>::get(1, 10).expect("served");
        assert_eq!(axon.ip, ip(127, 0, 0, 2));
        assert_eq!(
            (axon.port, axon.version, axon.ip_type, axon.block),
            (8091, 7, 4, 1)
        );
        System::assert_has_event(Event::AxonServed(1, 10).into());
    });
}

#[test]
fn serve_axon_failures_and_rate_limit() {
    new_test_ext().execute_with(|| {
        register(BOB, 10);
        assert_noop!(
            SubtensorModule::serve_axon(origin(11), 1, 1, ip(10, 0, 0, 1), 1, 4, 0, 0, 0),
            Err::HotKeyNotRegisteredInNetwork
        );
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, ip(10, 0, 0, 1), 1, 5, 0, 0, 0),
            Err::InvalidIpType
        );
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, ip(10, 0, 0, 1), 0, 4, 0, 0, 0),
            Err::InvalidPort
        );
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, 1, 80, 6, 0, 0, 0),
            Err::InvalidIpAddress
        );
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, u32::MAX as u128, 80, 4, 0, 0, 0),
            Err::InvalidIpAddress
        );
        // Zero means "no address" and is allowed.
        assert_ok!(SubtensorModule::serve_axon(
            origin(10),
            1,
            1,
            0,
            80,
            4,
            0,
            0,
            0
        ));
        assert_noop!(
            SubtensorModule::serve_axon(origin(10), 1, 1, ip(10, 0, 0, 1), 80, 4, 0, 0, 0),
            Err::ServingRateLimitExceeded
        );
        run_blocks(50);
        assert_ok!(SubtensorModule::serve_axon(
            origin(10),
            1,
            1,
            ip(10, 0, 0, 1),
            80,
            4,
            0,
            0,
            0
        ));
    });
}

#[test]
fn add_stake_moves_tao_into_alpha() {
    new_test_ext().execute_with(|| {
        register(BOB, 10);
        assert_ok!(SubtensorModule::add_stake(
            origin(CHARLIE),
            10,
            1,
            2_000_000
        ));
        assert_eq!(TotalHotkeyAlpha::<Test>::get(10, 1), 2_000_000);
        assert_eq!(Alpha::<Test>::get((10, CHARLIE, 1)), 2_000_000);
        assert_eq!(Balances::balance(&CHARLIE), 8_000_000);
        System::assert_has_event(Event::StakeAdded(CHARLIE, 10, 2_000_000, 2_000_000, 1, 0).into());
    });
}

#[test]
fn add_stake_failures() {
    new_test_ext().execute_with(|| {
        register(BOB, 10);
        assert_noop!(
            SubtensorModule::add_stake(origin(BOB), 10, 1, 10),
            Err::AmountTooLow
        );
        assert_noop!(
            SubtensorModule::add_stake(origin(POOR), 10, 1, 1_000_000),
            Err::NotEnoughBalanceToStake
        );
        assert_noop!(
            SubtensorModule::add_stake(origin(BOB), 77, 1, 1_000_000),
            Err::HotKeyAccountNotExists
        );
        assert_noop!(
            SubtensorModule::add_stake(origin(BOB), 10, 4, 1_000_000),
            Err::SubnetNotExists
        );
        assert_ok!(SubtensorModule::register_network(origin(BOB), 50));
        assert_noop!(
            SubtensorModule::add_stake(origin(BOB), 50, 2, 1_000_000),
            Err::SubtokenDisabled
        );
    });
}

#[test]
fn set_weights_succeeds_and_upscales() {
    new_test_ext().execute_with(|| {
        let (v, m1, m2) = validator_and_two_miners();
        assert_ok!(SubtensorModule::set_weights(
            origin(10),
            1,
            vec![m1, m2],
            vec![10, 5],
            0
        ));
        assert_eq!(Weights::<Test>::get(1, v), vec![(m1, 65_535), (m2, 32_767)]);
        assert_eq!(LastUpdate::<Test>::get(1)[v as usize], 9);
        System::assert_has_event(Event::WeightsSet(1, v).into());
    });
}

#[test]
fn weight_rules_each_error() {
    new_test_ext().execute_with(|| {
        let (_v, m1, m2) = validator_and_two_miners();
        let set = |who: u64, uids: Vec<u16>, vals: Vec<u16>, key: u64| {
            SubtensorModule::set_weights(origin(who), 1, uids, vals, key)
        };
        // 1. lengths
        assert_noop!(
            set(10, vec![m1, m2], vec![1], 0),
            Err::WeightVecNotEqualSize
        );
        // 2. registered
        assert_noop!(
            set(99, vec![m1], vec![1], 0),
            Err::HotKeyNotRegisteredInSubNet
        );
        // 3. stake threshold
        StakeThreshold::<Test>::put(5_000_000);
        assert_noop!(
            set(10, vec![m1], vec![1], 0),
            Err::NotEnoughStakeToSetWeights
        );
        StakeThreshold::<Test>::put(0);
        // 4. version key
        WeightsVersionKey::<Test>::insert(1, 3);
        assert_noop!(
            set(10, vec![m1], vec![1], 2),
            Err::IncorrectWeightVersionKey
        );
        WeightsVersionKey::<Test>::insert(1, 0);
        // 6. permit: miner 20 has none and weights someone else.
        assert_noop!(set(20, vec![m2], vec![1], 0), Err::NeuronNoValidatorPermit);
        // ...but a single self-weight is fine.
        assert_ok!(set(20, vec![m1], vec![1], 0));
        // 7. duplicates / unknown uids
        assert_noop!(set(10, vec![m1, m1], vec![1, 1], 0), Err::DuplicateUids);
        assert_noop!(
            set(10, vec![m1, 42], vec![1, 1], 0),
            Err::UidVecContainInvalidOne
        );
        // 8. minimum count
        MinAllowedWeights::<Test>::insert(1, 2);
        assert_noop!(set(10, vec![m1], vec![1], 0), Err::WeightVecLengthIsLow);
        MinAllowedWeights::<Test>::insert(1, 0);
        // 5. rate limit: two sets within 2 blocks.
        assert_ok!(set(10, vec![m1], vec![1], 0));
        assert_noop!(set(10, vec![m1], vec![1], 0), Err::SettingWeightsTooFast);
        run_blocks(2);
        assert_ok!(set(10, vec![m1], vec![1], 0));
    });
}

#[test]
fn weight_rules_apply_in_subtensor_order() {
    new_test_ext().execute_with(|| {
        let (_v, m1, m2) = validator_and_two_miners();
        // Unequal lengths beat "not registered".
        assert_noop!(
            SubtensorModule::set_weights(origin(99), 1, vec![m1], vec![], 0),
            Err::WeightVecNotEqualSize
        );
        // Low stake beats a bad version key.
        StakeThreshold::<Test>::put(u64::MAX);
        WeightsVersionKey::<Test>::insert(1, 9);
        assert_noop!(
            SubtensorModule::set_weights(origin(10), 1, vec![m1], vec![1], 0),
            Err::NotEnoughStakeToSetWeights
        );
        StakeThreshold::<Test>::put(0);
        // A bad version key beats the rate limit.
        assert_noop!(
            SubtensorModule::set_weights(origin(10), 1, vec![m1, m2], vec![1, 1], 0),
            Err::IncorrectWeightVersionKey
        );
        WeightsVersionKey::<Test>::insert(1, 0);
        // The rate limit beats the permit check: miner 21 registered at block 1,
        // 22 registers now and tries right away.
        register(CHARLIE, 22);
        assert_noop!(
            SubtensorModule::set_weights(origin(22), 1, vec![m1], vec![1], 0),
            Err::SettingWeightsTooFast
        );
        // The permit check beats duplicate detection.
        assert_noop!(
            SubtensorModule::set_weights(origin(21), 1, vec![m1, m1], vec![1, 1], 0),
            Err::NeuronNoValidatorPermit
        );
    });
}

#[test]
fn set_weights_refused_while_commit_reveal_is_on() {
    new_test_ext().execute_with(|| {
        let (_v, m1, _m2) = validator_and_two_miners();
        CommitRevealWeightsEnabled::<Test>::insert(1, true);
        assert_noop!(
            SubtensorModule::set_weights(origin(10), 1, vec![m1], vec![1], 0),
            Err::CommitRevealEnabled
        );
    });
}

#[test]
fn commit_reveal_round_trip_and_windows() {
    new_test_ext().execute_with(|| {
        let (v, m1, m2) = validator_and_two_miners();
        let (uids, vals, salt) = (vec![m1, m2], vec![3u16, 1], vec![7u16, 8, 9]);
        let hash = commit_hash(&10u64, 1, &uids, &vals, &salt, 0);
        assert_noop!(
            SubtensorModule::commit_weights(origin(10), 1, hash),
            Err::CommitRevealDisabled
        );
        CommitRevealWeightsEnabled::<Test>::insert(1, true);
        assert_noop!(
            SubtensorModule::reveal_weights(
                origin(10),
                1,
                uids.clone(),
                vals.clone(),
                salt.clone(),
                0
            ),
            Err::NoWeightsCommitFound
        );
        // Block 9 is in epoch (9+2)/11 = 1; the reveal window is epoch 2: blocks 20..=30.
        assert_ok!(SubtensorModule::commit_weights(origin(10), 1, hash));
        System::assert_has_event(Event::WeightsCommitted(10, 1, hash).into());
        run_to(12);
        assert_noop!(
            SubtensorModule::reveal_weights(
                origin(10),
                1,
                uids.clone(),
                vals.clone(),
                salt.clone(),
                0
            ),
            Err::RevealTooEarly
        );
        run_to(20);
        assert_noop!(
            SubtensorModule::reveal_weights(origin(10), 1, uids.clone(), vals.clone(), vec![1], 0),
            Err::InvalidRevealCommitHashNotMatch
        );
        assert_ok!(SubtensorModule::reveal_weights(
            origin(10),
            1,
            uids.clone(),
            vals.clone(),
            salt.clone(),
            0
        ));
        assert_eq!(Weights::<Test>::get(1, v), vec![(m1, 65_535), (m2, 21_845)]);
        assert!(WeightCommits::<Test>::get(1, 10).is_none());
        System::assert_has_event(Event::WeightsRevealed(10, 1, hash).into());
    });
}

#[test]
fn commits_expire_rate_limit_and_queue_cap() {
    new_test_ext().execute_with(|| {
        validator_and_two_miners();
        CommitRevealWeightsEnabled::<Test>::insert(1, true);
        let hash = commit_hash(&10u64, 1, &[1], &[1], &[1], 0);
        assert_ok!(SubtensorModule::commit_weights(origin(10), 1, hash));
        assert_noop!(
            SubtensorModule::commit_weights(origin(10), 1, H256::repeat_byte(1)),
            Err::CommittingWeightsTooFast
        );
        // Past the reveal window (epoch 2 ends at block 30).
        run_to(31);
        assert_noop!(
            SubtensorModule::reveal_weights(origin(10), 1, vec![1], vec![1], vec![1], 0),
            Err::ExpiredWeightCommit
        );
        WeightsSetRateLimit::<Test>::insert(1, 0);
        for i in 0..MAX_UNREVEALED_COMMITS as u8 {
            assert_ok!(SubtensorModule::commit_weights(
                origin(10),
                1,
                H256::repeat_byte(i + 2)
            ));
        }
        assert_noop!(
            SubtensorModule::commit_weights(origin(10), 1, H256::repeat_byte(99)),
            Err::TooManyUnrevealedCommits
        );
        assert_noop!(
            SubtensorModule::commit_weights(origin(99), 1, hash),
            Err::HotKeyNotRegisteredInSubNet
        );
    });
}

#[test]
fn commit_hash_is_blake2_of_scale_tuple() {
    use codec::Encode;
    use sp_runtime::traits::{BlakeTwo256, Hash};
    let mut bytes = 10u64.encode();
    bytes.extend(1u16.encode());
    bytes.extend(vec![1u16, 2].encode());
    bytes.extend(vec![3u16, 4].encode());
    bytes.extend(vec![5u16].encode());
    bytes.extend(6u64.encode());
    assert_eq!(
        commit_hash(&10u64, 1, &[1, 2], &[3, 4], &[5], 6),
        BlakeTwo256::hash(&bytes)
    );
}

#[test]
fn epochs_run_on_schedule_and_pay_out() {
    new_test_ext().execute_with(|| {
        let (v, m1, m2) = validator_and_two_miners();
        assert_eq!(LastMechansimStepBlock::<Test>::get(1), 9);
        assert_ok!(SubtensorModule::set_weights(
            origin(10),
            1,
            vec![m1, m2],
            vec![3, 1],
            0
        ));
        let stake_before = TotalHotkeyAlpha::<Test>::get(10, 1);
        run_to(19);
        assert_eq!(
            LastMechansimStepBlock::<Test>::get(1),
            9,
            "no epoch before block 20"
        );
        run_to(20);
        assert_eq!(LastMechansimStepBlock::<Test>::get(1), 20);
        let incentive = Incentive::<Test>::get(1);
        // Only one validator: incentive is its normalized row, 3:1.
        assert_eq!(incentive[m1 as usize], 49_151);
        assert_eq!(incentive[m2 as usize], 16_384);
        assert_eq!(Dividends::<Test>::get(1)[v as usize], 65_535);
        assert_eq!(Consensus::<Test>::get(1)[m1 as usize], 49_151);
        assert_eq!(ValidatorTrust::<Test>::get(1)[v as usize], 65_535);
        assert!(!Bonds::<Test>::get(1, v).is_empty());
        let emission = Emission::<Test>::get(1);
        // 11 blocks of 1e9 rao, minus the owner's 18% cut, split 50/50.
        let cut = |blocks: u64| (blocks as u128 * 1_000_000_000 * 11_796 / 65_535) as u64;
        let total = 11 * 1_000_000_000u64;
        let pool = total - cut(11);
        assert!((emission[v as usize] as i64 - (pool / 2) as i64).abs() <= 2);
        assert!((emission[m1 as usize] as i64 - (pool / 2 * 3 / 4) as i64).abs() <= 2);
        assert_eq!(
            TotalHotkeyAlpha::<Test>::get(10, 1),
            stake_before + emission[v as usize]
        );
        // The owner's cut of both epochs (8 blocks up to block 9, then 11).
        assert_eq!(
            TotalHotkeyAlpha::<Test>::get(OWNER_HOT, 1),
            cut(8) + cut(11)
        );
    });
}

#[test]
fn unstarted_subnets_emit_nothing() {
    new_test_ext().execute_with(|| {
        assert_ok!(SubtensorModule::register_network(origin(BOB), 50));
        // netuid 2 runs epochs at (b + 3) % 11 == 0: block 8.
        run_to(8);
        assert_eq!(LastMechansimStepBlock::<Test>::get(2), 8);
        assert_eq!(Emission::<Test>::get(2), vec![0]);
        assert_eq!(TotalHotkeyAlpha::<Test>::get(50, 2), 0);
    });
}

#[test]
fn epoch_schedule_follows_subtensor_formula() {
    new_test_ext().execute_with(|| {
        let runs: Vec<u64> = (0..40)
            .filter(|b| SubtensorModule::should_run_epoch(1, *b))
            .collect();
        assert_eq!(runs, vec![9, 20, 31]);
        assert_eq!(SubtensorModule::epoch_index(1, 9), 1);
        assert_eq!(SubtensorModule::epoch_bounds(1, 2), (20, 30));
        Tempo::<Test>::insert(1, 0);
        assert!(!SubtensorModule::should_run_epoch(1, 9));
    });
}

#[test]
fn hotkey_calls_are_fee_free_like_subtensor() {
    use frame_support::dispatch::{GetDispatchInfo, Pays};
    // Validators and miners sign these with hotkeys; subtensor charges no
    // fee for them, while registration, staking and subnet creation pay.
    let free = [
        Call::<Test>::set_weights {
            netuid: 1,
            dests: vec![0],
            weights: vec![1],
            version_key: 0,
        }
        .get_dispatch_info(),
        Call::<Test>::serve_axon {
            netuid: 1,
            version: 1,
            ip: ip(127, 0, 0, 2),
            port: 8091,
            ip_type: 4,
            protocol: 4,
            placeholder1: 0,
            placeholder2: 0,
        }
        .get_dispatch_info(),
        Call::<Test>::commit_weights {
            netuid: 1,
            commit_hash: H256::zero(),
        }
        .get_dispatch_info(),
        Call::<Test>::reveal_weights {
            netuid: 1,
            uids: vec![0],
            values: vec![1],
            salt: vec![0],
            version_key: 0,
        }
        .get_dispatch_info(),
    ];
    for info in free {
        assert_eq!(info.pays_fee, Pays::No);
    }
    let paid = [
        Call::<Test>::burned_register {
            netuid: 1,
            hotkey: 10,
        }
        .get_dispatch_info(),
        Call::<Test>::add_stake {
            hotkey: 10,
            netuid: 1,
            amount_staked: 1,
        }
        .get_dispatch_info(),
        Call::<Test>::register_network { hotkey: 10 }.get_dispatch_info(),
    ];
    for info in paid {
        assert_eq!(info.pays_fee, Pays::Yes);
    }
}
