//! From scores to the weight vector the chain accepts, and the timing rules
//! for submitting it (rate limit, set interval, commit-reveal windows).
//! Pure functions, so the rules are unit-tested without a chain.

use chain_client::{normalize_max_u16, Metagraph};
use rand::Rng;

use crate::store::ScoreRow;

/// Number of u16 words in a commit salt.
pub const SALT_WORDS: usize = 8;

/// The weight vector for `scores` on `metagraph`: one entry per scored
/// neuron whose uid still belongs to the scored hotkey, the validator itself
/// excluded, zero scores dropped, max-upscaled to 65535, sorted by uid.
pub fn weight_vector(
    scores: &[ScoreRow],
    metagraph: &Metagraph,
    own_uid: u16,
    min_requests: u64,
) -> (Vec<u16>, Vec<u16>) {
    let mut pairs: Vec<(u16, f64)> = metagraph
        .neurons
        .iter()
        .filter(|n| n.uid != own_uid)
        .filter_map(|n| {
            let hotkey = n.hotkey_ss58();
            scores
                .iter()
                .find(|s| s.uid == n.uid && s.hotkey == hotkey)
                .filter(|s| s.successes + s.failures >= min_requests)
                .map(|s| (n.uid, s.score))
        })
        .collect();
    pairs.sort_by_key(|(uid, _)| *uid);
    normalize_max_u16(&pairs)
}

/// Whether a new weight submission is due at block `now`: the configured
/// interval has passed since this validator's `last_update` and the chain's
/// rate limit allows it in the next block.
pub fn weights_due(now: u64, last_update: u64, interval_blocks: u64, rate_limit: u64) -> bool {
    let next = now + 1;
    next.saturating_sub(last_update) >= interval_blocks
        && chain_client::error::weights_wait_blocks(next, last_update, rate_limit) == 0
}

/// The first block new weights can land in after weights were set at
/// `last_update` (the validator submits them one block earlier, when
/// [`weights_due`] first holds).
pub fn next_weights_block(last_update: u64, interval_blocks: u64, rate_limit: u64) -> u64 {
    last_update.saturating_add(interval_blocks.max(rate_limit))
}

/// The version key to send: the configured one, raised to the chain's
/// minimum when that is higher (the chain refuses lower keys).
pub fn version_key(configured: u64, chain_minimum: u64) -> u64 {
    configured.max(chain_minimum)
}

/// A fresh random salt for `commit_weights`.
pub fn new_salt() -> Vec<u16> {
    let mut rng = rand::rng();
    (0..SALT_WORDS).map(|_| rng.random()).collect()
}

/// Where a pending commit stands at block `now` (the reveal would land in
/// block `now + 1` at the earliest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevealState {
    TooEarly { wait_blocks: u64 },
    Due,
    Expired,
}

pub fn reveal_state(now: u64, first_reveal_block: u64, last_reveal_block: u64) -> RevealState {
    let next = now + 1;
    if next < first_reveal_block {
        RevealState::TooEarly {
            wait_blocks: first_reveal_block - next,
        }
    } else if next <= last_reveal_block {
        RevealState::Due
    } else {
        RevealState::Expired
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chain_client::Neuron;

    fn neuron(uid: u16, key: u8) -> Neuron {
        Neuron {
            uid,
            hotkey: [key; 32],
            coldkey: [0; 32],
            axon: None,
            stake: 0,
            validator_permit: false,
            active: true,
            incentive: 0,
            dividends: 0,
            consensus: 0,
            validator_trust: 0,
            emission: 0,
            last_update: 0,
            weights: vec![],
        }
    }

    fn metagraph(neurons: Vec<Neuron>) -> Metagraph {
        Metagraph {
            netuid: 2,
            block: 100,
            tempo: 10,
            weights_set_rate_limit: 0,
            weights_version_key: 0,
            commit_reveal_enabled: false,
            neurons,
        }
    }

    fn score(n: &Neuron, score: f64, requests: u64) -> ScoreRow {
        ScoreRow {
            uid: n.uid,
            hotkey: n.hotkey_ss58(),
            score,
            successes: requests,
            failures: 0,
            last_seen_ms: 0,
        }
    }

    #[test]
    fn scores_become_max_upscaled_u16_weights() {
        let ns: Vec<Neuron> = (0..5).map(|u| neuron(u, u as u8 + 1)).collect();
        let scores = vec![
            score(&ns[3], 0.2, 5),
            score(&ns[1], 0.8, 5),
            score(&ns[2], 0.0, 5), // cheater: dropped
            score(&ns[0], 0.9, 5), // the validator itself: dropped
            score(&ns[4], 0.4, 5),
        ];
        let m = metagraph(ns.clone());
        let (uids, values) = weight_vector(&scores, &m, 0, 1);
        assert_eq!(uids, vec![1, 3, 4]);
        assert_eq!(values, vec![65535, 16384, 32768]);
    }

    #[test]
    fn a_uid_that_changed_hands_or_has_too_few_requests_gets_nothing() {
        let ns: Vec<Neuron> = (0..3).map(|u| neuron(u, u as u8 + 1)).collect();
        let mut stale = score(&ns[1], 0.9, 5);
        stale.hotkey = neuron(1, 99).hotkey_ss58();
        let scores = vec![stale, score(&ns[2], 0.5, 2)];
        let m = metagraph(ns);
        assert_eq!(weight_vector(&scores, &m, 0, 1), (vec![2], vec![65535]));
        assert_eq!(weight_vector(&scores, &m, 0, 3), (vec![], vec![]));
    }

    #[test]
    fn timing_follows_interval_and_rate_limit() {
        // Interval 10 since the last update at 100: due when block 110 is next.
        assert!(!weights_due(108, 100, 10, 0));
        assert!(weights_due(109, 100, 10, 0));
        // The chain's rate limit can be the stricter rule.
        assert!(!weights_due(109, 100, 10, 20));
        assert!(weights_due(119, 100, 10, 20));
        assert_eq!(version_key(0, 7), 7);
        assert_eq!(version_key(9, 7), 9);
    }

    #[test]
    fn reveal_windows() {
        assert_eq!(
            reveal_state(100, 105, 115),
            RevealState::TooEarly { wait_blocks: 4 }
        );
        assert_eq!(reveal_state(104, 105, 115), RevealState::Due);
        assert_eq!(reveal_state(114, 105, 115), RevealState::Due);
        assert_eq!(reveal_state(115, 105, 115), RevealState::Expired);
    }

    #[test]
    fn salts_are_fresh() {
        let a = new_salt();
        assert_eq!(a.len(), SALT_WORDS);
        assert_ne!(a, new_salt());
    }

    #[test]
    fn next_weights_block_is_where_weights_become_due() {
        for (last, interval, limit) in [(0, 100, 0), (50, 10, 100), (7, 100, 100), (200, 1, 1)] {
            let next = next_weights_block(last, interval, limit);
            assert!(
                weights_due(next - 1, last, interval, limit),
                "{last} {interval} {limit}"
            );
            assert!(
                !weights_due(next - 2, last, interval, limit),
                "{last} {interval} {limit}"
            );
        }
    }
}
