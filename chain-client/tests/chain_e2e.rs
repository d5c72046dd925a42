//! The client against the real local dev chain (runtime wasm under
//! chopsticks, started by the `localnet` harness): subnet setup, staking,
//! registration, axon, weights, epochs, commit-reveal and rate limiting, all
//! checked by reading chain storage back.

use std::net::IpAddr;
use std::time::Duration;

use chain_client::{commit_hash, ChainClient, ChainError, Metagraph, RAO_PER_TAO};
use localnet::LocalChain;
use wallet::Keypair;

const POLL: Duration = Duration::from_millis(250);
const WAIT: Duration = Duration::from_secs(90);

fn dev(uri: &str) -> Keypair {
    Keypair::from_dev_uri(uri).unwrap()
}

fn neuron<'a>(m: &'a Metagraph, hotkey: &Keypair) -> &'a chain_client::Neuron {
    let uid = m
        .uid_of(&hotkey.public_key())
        .unwrap_or_else(|| panic!("{} not in metagraph", hotkey.ss58_address()));
    m.neuron(uid).unwrap()
}

/// Polls the metagraph until `done` holds, or fails after [`WAIT`].
async fn wait_metagraph(
    client: &ChainClient,
    netuid: u16,
    what: &str,
    done: impl Fn(&Metagraph) -> bool,
) -> Metagraph {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let m = client.metagraph(netuid).await.unwrap();
        if done(&m) {
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out at block {} waiting for: {what}",
            m.block
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subnet_lifecycle_on_local_chain() {
    let chain = LocalChain::start().expect("start local chain");
    let client = ChainClient::connect(&chain.ws_url()).await.unwrap();

    let alice = dev("//Alice"); // sudo, funded
    let bob = dev("//Bob"); // funded coldkey of our neurons
    let owner_hot = Keypair::generate(12).unwrap();
    let validator = Keypair::generate(12).unwrap();
    let miner = Keypair::generate(12).unwrap();

    // Subnet creation and start.
    let netuid = client
        .register_network(&alice, &owner_hot.public_key())
        .await
        .unwrap();
    assert!(netuid >= 2, "subnet 1 exists at genesis, got {netuid}");
    client.start_call(&alice, netuid).await.unwrap();
    client
        .sudo_set_commit_reveal_weights_enabled(&alice, netuid, false)
        .await
        .unwrap();
    client
        .sudo_set_weights_set_rate_limit(&alice, netuid, 0)
        .await
        .unwrap();
    client.sudo_set_tempo(&alice, netuid, 10).await.unwrap();
    let m = client.metagraph(netuid).await.unwrap();
    assert_eq!(m.tempo, 10);
    assert_eq!(m.weights_set_rate_limit, 0);
    assert!(!m.commit_reveal_enabled);

    // Sudo from a non-sudo key fails with a readable error.
    let err = client.sudo_set_tempo(&bob, netuid, 5).await.unwrap_err();
    assert!(err.to_string().contains("sudo"), "{err}");

    // Hotkeys need an existing account to sign (their calls are fee-free).
    for hk in [&validator, &miner] {
        client
            .transfer_keep_alive(&alice, &hk.public_key(), u128::from(10 * RAO_PER_TAO))
            .await
            .unwrap();
    }
    let vuid = client
        .burned_register(&bob, netuid, &validator.public_key())
        .await
        .unwrap();
    let muid = client
        .burned_register(&bob, netuid, &miner.public_key())
        .await
        .unwrap();
    assert_ne!(vuid, muid);
    let stake = 1_000 * RAO_PER_TAO;
    client
        .add_stake(&bob, &validator.public_key(), netuid, stake)
        .await
        .unwrap();
    let ip: IpAddr = "127.0.0.2".parse().unwrap();
    client
        .serve_axon(&miner, netuid, 7, ip, 8091, 4, 0, 0)
        .await
        .unwrap();

    let m = client.metagraph(netuid).await.unwrap();
    let v = neuron(&m, &validator);
    assert_eq!(v.uid, vuid);
    assert_eq!(v.coldkey, bob.public_key());
    assert!(v.stake > 0 && v.stake <= stake, "stake {}", v.stake);
    let axon = neuron(&m, &miner).axon.clone().expect("miner axon served");
    assert_eq!(
        (axon.ip, axon.port, axon.version, axon.ip_type),
        (ip, 8091, 7, 4)
    );

    // Validator permits are assigned at the epoch.
    wait_metagraph(&client, netuid, "validator permit", |m| {
        neuron(m, &validator).validator_permit
    })
    .await;

    client
        .set_weights(&validator, netuid, &[muid], &[65535], 0)
        .await
        .unwrap();
    let m = client.metagraph(netuid).await.unwrap();
    assert_eq!(neuron(&m, &validator).weights, vec![(muid, 65535)]);
    let set_at = neuron(&m, &validator).last_update;
    assert!(set_at > 0);

    // After epochs, the miner earns incentive and the validator dividends.
    let m = wait_metagraph(&client, netuid, "incentive and dividends", |m| {
        neuron(m, &miner).incentive > 0 && neuron(m, &validator).dividends > 0
    })
    .await;
    assert!(neuron(&m, &miner).emission > 0 || neuron(&m, &validator).emission > 0);

    // Rate limit: a second set_weights right away is refused with the
    // number of blocks to wait, computed from chain state.
    let limit = 10_000;
    client
        .sudo_set_weights_set_rate_limit(&alice, netuid, limit)
        .await
        .unwrap();
    let err = client
        .set_weights(&validator, netuid, &[muid], &[40000], 0)
        .await
        .unwrap_err();
    match &err {
        ChainError::WeightsRateLimited {
            wait_blocks,
            limit: l,
            last_update,
        } => {
            assert_eq!(*l, limit);
            assert_eq!(*last_update, set_at);
            assert!(*wait_blocks > 0 && *wait_blocks < limit, "{wait_blocks}");
        }
        other => panic!("expected the rate-limit error, got {other}"),
    }
    assert!(
        err.to_string().starts_with("weights rate limit: wait "),
        "{err}"
    );

    // Commit-reveal round trip.
    client
        .sudo_set_weights_set_rate_limit(&alice, netuid, 0)
        .await
        .unwrap();
    client
        .sudo_set_commit_reveal_weights_enabled(&alice, netuid, true)
        .await
        .unwrap();
    let err = client
        .set_weights(&validator, netuid, &[muid], &[1], 0)
        .await
        .unwrap_err();
    assert_eq!(
        err.module_error_name(),
        Some("CommitRevealEnabled"),
        "{err}"
    );

    // Two targets with the largest already at 65535, so the chain's
    // max-upscaling leaves the values unchanged and a change is visible.
    let owner_uid = m
        .uid_of(&owner_hot.public_key())
        .expect("owner hotkey registered");
    let mut pairs = vec![(owner_uid, 13107u16), (muid, 65535u16)];
    pairs.sort();
    let (uids, values): (Vec<u16>, Vec<u16>) = pairs.iter().copied().unzip();
    let salt = vec![11u16, 22, 33];
    let hash = commit_hash(&validator.public_key(), netuid, &uids, &values, &salt, 0);
    client
        .commit_weights(&validator, netuid, hash)
        .await
        .unwrap();
    let commits = client
        .pending_commits(netuid, &validator.public_key())
        .await
        .unwrap();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].hash, hash);
    let commit = commits[0].clone();

    // The reveal window opens at the next epoch; unless the commit landed in
    // the epoch's last block, an immediate reveal must be refused as early.
    let now = client.block_number().await.unwrap();
    if now + 1 < commit.first_reveal_block {
        let err = client
            .reveal_weights(&validator, netuid, &uids, &values, &salt, 0)
            .await
            .unwrap_err();
        assert_eq!(err.module_error_name(), Some("RevealTooEarly"), "{err}");
    }
    client
        .wait_for_block(commit.first_reveal_block, POLL, WAIT)
        .await
        .unwrap();
    // A reveal that does not match the commit is refused.
    let err = client
        .reveal_weights(&validator, netuid, &uids, &[1, 2], &salt, 0)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.module_error_name(),
            Some("InvalidRevealCommitHashNotMatch") | Some("NoWeightsCommitFound")
        ),
        "{err}"
    );
    client
        .reveal_weights(&validator, netuid, &uids, &values, &salt, 0)
        .await
        .unwrap();
    let m = client.metagraph(netuid).await.unwrap();
    assert_eq!(neuron(&m, &validator).weights, pairs);
    assert!(client
        .pending_commits(netuid, &validator.public_key())
        .await
        .unwrap()
        .is_empty());
    drop(chain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_after_the_node_restarts() {
    let first = LocalChain::start().expect("start local chain");
    let port = first.port();
    let client = ChainClient::connect(&first.ws_url()).await.unwrap();
    client.block_number().await.unwrap();
    let alice = dev("//Alice");
    let dest = Keypair::generate(12).unwrap();
    client
        .transfer_keep_alive(&alice, &dest.public_key(), 5 * u128::from(RAO_PER_TAO))
        .await
        .unwrap();
    assert_eq!(
        client.free_balance(&dest.public_key()).await.unwrap(),
        5 * u128::from(RAO_PER_TAO)
    );

    // The node goes away and a fresh one (same genesis) comes up on the port.
    drop(first);
    let second = LocalChain::builder()
        .port(port)
        .start()
        .expect("restart local chain");

    // The same client keeps working: reads retry across the reconnect, and
    // the state is the new chain's (the earlier transfer is gone).
    assert_eq!(client.free_balance(&dest.public_key()).await.unwrap(), 0);
    client
        .transfer_keep_alive(&alice, &dest.public_key(), 3 * u128::from(RAO_PER_TAO))
        .await
        .unwrap();
    assert_eq!(
        client.free_balance(&dest.public_key()).await.unwrap(),
        3 * u128::from(RAO_PER_TAO)
    );
    drop(second);
}
