//! Test runtime: System, Balances and the pallet, with u64 account ids.

use crate as pallet_subtensor;
use frame_support::{
    derive_impl,
    traits::{ConstBool, ConstU16, ConstU64, Hooks},
};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
    pub enum Test {
        System: frame_system,
        Balances: pallet_balances,
        SubtensorModule: pallet_subtensor,
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
    type InitialStartCallDelay = ConstU64<5>;
    type InitialSubnetOwnerCut = ConstU16<11_796>;
    type BlockEmission = ConstU64<1_000_000_000>;
}

/// Coldkeys with money.
pub const ALICE: u64 = 1;
pub const BOB: u64 = 2;
pub const CHARLIE: u64 = 3;
/// A coldkey with nothing.
pub const POOR: u64 = 9;
/// Alice's hotkey owning subnet 1 (uid 0).
pub const OWNER_HOT: u64 = 100;

/// Subnet 1 (tempo 10, rate limit 2, commit-reveal off) owned by Alice.
pub fn new_test_ext() -> sp_io::TestExternalities {
    let mut t = frame_system::GenesisConfig::<Test>::default()
        .build_storage()
        .expect("system genesis builds");
    pallet_balances::GenesisConfig::<Test> {
        balances: vec![
            (ALICE, 10_000_000),
            (BOB, 10_000_000),
            (CHARLIE, 10_000_000),
        ],
        ..Default::default()
    }
    .assimilate_storage(&mut t)
    .expect("balances genesis builds");
    pallet_subtensor::GenesisConfig::<Test> {
        subnets: vec![(1, ALICE, OWNER_HOT, 10, 2, false)],
        stake_threshold: 0,
        subnet_owner_cut: None,
    }
    .assimilate_storage(&mut t)
    .expect("subtensor genesis builds");
    let mut ext = sp_io::TestExternalities::new(t);
    ext.execute_with(|| System::set_block_number(1));
    ext
}

/// Advances `n` blocks, running the pallet's `on_initialize` like a real chain.
pub fn run_blocks(n: u64) {
    for _ in 0..n {
        let next = System::block_number() + 1;
        System::set_block_number(next);
        SubtensorModule::on_initialize(next);
    }
}

/// Advances to block `target` (no-op if already there or past it).
pub fn run_to(target: u64) {
    while System::block_number() < target {
        run_blocks(1);
    }
}
