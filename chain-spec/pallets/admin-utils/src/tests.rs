//! Origin rules and effects of the setters, on a mock with subnet 1 owned by account 1.

use crate as pallet_admin_utils;
use frame_support::{
    assert_noop, assert_ok, derive_impl,
    traits::{ConstBool, ConstU16, ConstU64},
};
use pallet_subtensor as subtensor;
use sp_runtime::{traits::BadOrigin, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        SubtensorModule: pallet_subtensor,
        AdminUtils: pallet_admin_utils,
    }
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
    type Block = Block;
    type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
    type AccountStore = System;
}

impl pallet_subtensor::Config for Test {
    type Currency = Balances;
    type InitialTempo = ConstU16<10>;
    type InitialWeightsSetRateLimit = ConstU64<100>;
    type InitialMinAllowedWeights = ConstU16<0>;
    type InitialMaxAllowedValidators = ConstU16<64>;
    type InitialMaxAllowedUids = ConstU16<8>;
    type InitialKappa = ConstU16<32_767>;
    type InitialBondsMovingAverage = ConstU64<900_000>;
    type InitialActivityCutoff = ConstU16<5000>;
    type InitialServingRateLimit = ConstU64<50>;
    type InitialBurn = ConstU64<1_000>;
    type InitialMaxRegistrationsPerBlock = ConstU16<3>;
    type InitialCommitRevealWeightsEnabled = ConstBool<true>;
    type InitialNetworkLockCost = ConstU64<100_000>;
    type InitialStartCallDelay = ConstU64<0>;
    type InitialSubnetOwnerCut = ConstU16<11_796>;
    type BlockEmission = ConstU64<1_000_000_000>;
}

impl pallet_admin_utils::Config for Test {}

const OWNER: u64 = 1;
const STRANGER: u64 = 2;

fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default()
        .build_storage()
        .expect("system genesis builds");
    pallet_subtensor::GenesisConfig::<Test> {
        subnets: vec![(1, OWNER, 100, 10, 2, false)],
        stake_threshold: 0,
        subnet_owner_cut: None,
    }
    .assimilate_storage(&mut t)
    .expect("subtensor genesis builds");
    let mut ext = sp_io::TestExternalities::new(t);
    // Block 1: the next epoch of netuid 1 is block 9.
    ext.execute_with(|| System::set_block_number(1));
    ext
}

fn root() -> RuntimeOrigin {
    RuntimeOrigin::root()
}

#[test]
fn root_sets_tempo_rate_limit_and_commit_reveal() {
    new_test_ext().execute_with(|| {
        assert_ok!(AdminUtils::sudo_set_tempo(root(), 1, 25));
        assert_eq!(subtensor::Tempo::<Test>::get(1), 25);
        assert_ok!(AdminUtils::sudo_set_weights_set_rate_limit(root(), 1, 7));
        assert_eq!(subtensor::WeightsSetRateLimit::<Test>::get(1), 7);
        assert_ok!(AdminUtils::sudo_set_commit_reveal_weights_enabled(
            root(),
            1,
            true
        ));
        assert!(subtensor::CommitRevealWeightsEnabled::<Test>::get(1));
        assert_ok!(AdminUtils::sudo_set_weights_version_key(root(), 1, 4));
        assert_eq!(subtensor::WeightsVersionKey::<Test>::get(1), 4);
        assert_ok!(AdminUtils::sudo_set_min_allowed_weights(root(), 1, 3));
        assert_eq!(subtensor::MinAllowedWeights::<Test>::get(1), 3);
        assert_ok!(AdminUtils::sudo_set_max_allowed_validators(root(), 1, 5));
        assert_eq!(subtensor::MaxAllowedValidators::<Test>::get(1), 5);
        assert_ok!(AdminUtils::sudo_set_serving_rate_limit(root(), 1, 0));
        assert_eq!(subtensor::ServingRateLimit::<Test>::get(1), 0);
        assert_ok!(AdminUtils::sudo_set_burn(root(), 1, 42));
        assert_eq!(subtensor::Burn::<Test>::get(1), 42);
        assert_ok!(AdminUtils::sudo_set_stake_threshold(root(), 9));
        assert_eq!(subtensor::StakeThreshold::<Test>::get(), 9);
        assert_ok!(AdminUtils::sudo_set_admin_freeze_window(root(), 0));
        assert_eq!(subtensor::AdminFreezeWindow::<Test>::get(), 0);
        System::assert_has_event(subtensor::Event::TempoSet(1, 25).into());
    });
}

#[test]
fn root_only_setters_refuse_signed_origins() {
    new_test_ext().execute_with(|| {
        let owner = RuntimeOrigin::signed(OWNER);
        assert_noop!(AdminUtils::sudo_set_tempo(owner.clone(), 1, 5), BadOrigin);
        assert_noop!(
            AdminUtils::sudo_set_weights_set_rate_limit(owner.clone(), 1, 0),
            BadOrigin
        );
        assert_noop!(
            AdminUtils::sudo_set_admin_freeze_window(owner, 0),
            BadOrigin
        );
    });
}

#[test]
fn unknown_subnet_is_rejected() {
    new_test_ext().execute_with(|| {
        assert_noop!(
            AdminUtils::sudo_set_tempo(root(), 9, 5),
            crate::Error::<Test>::SubnetDoesNotExist
        );
        assert_noop!(
            AdminUtils::sudo_set_commit_reveal_weights_enabled(root(), 9, false),
            crate::Error::<Test>::SubnetDoesNotExist
        );
    });
}

#[test]
fn owner_may_toggle_commit_reveal_outside_the_freeze_window() {
    new_test_ext().execute_with(|| {
        // Default window (10 blocks) covers block 1 -> 9: refused.
        assert_noop!(
            AdminUtils::sudo_set_commit_reveal_weights_enabled(
                RuntimeOrigin::signed(OWNER),
                1,
                true
            ),
            subtensor::Error::<Test>::AdminActionProhibitedDuringWeightsWindow
        );
        assert_ok!(AdminUtils::sudo_set_admin_freeze_window(root(), 3));
        assert_ok!(AdminUtils::sudo_set_commit_reveal_weights_enabled(
            RuntimeOrigin::signed(OWNER),
            1,
            true
        ));
        assert!(subtensor::CommitRevealWeightsEnabled::<Test>::get(1));
        assert_noop!(
            AdminUtils::sudo_set_commit_reveal_weights_enabled(
                RuntimeOrigin::signed(STRANGER),
                1,
                false
            ),
            subtensor::Error::<Test>::NotSubnetOwner
        );
        // Block 7: epoch at 9 is within 3 blocks.
        System::set_block_number(7);
        assert_noop!(
            AdminUtils::sudo_set_commit_reveal_weights_enabled(
                RuntimeOrigin::signed(OWNER),
                1,
                false
            ),
            subtensor::Error::<Test>::AdminActionProhibitedDuringWeightsWindow
        );
    });
}
