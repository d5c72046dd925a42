//! Chain errors as people read them. subtensor reports failures as pallet
//! error names (`SettingWeightsTooFast`) or as bare transaction-pool codes
//! (`Custom(6)`); miners and validators log these, so they are translated
//! here into what happened and what to do about it.

/// Errors of the chain client.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("RPC error: {0}")]
    Rpc(String),
    #[error("could not build the {pallet}.{call} transaction: {reason}")]
    Encode {
        pallet: String,
        call: String,
        reason: String,
    },
    #[error("weights rate limit: wait {wait_blocks} blocks (WeightsSetRateLimit is {limit}, last update at block {last_update})")]
    WeightsRateLimited {
        wait_blocks: u64,
        limit: u64,
        last_update: u64,
    },
    /// A dispatch error from a pallet, with a readable explanation.
    #[error("{pallet}.{name}: {explanation}")]
    Module {
        pallet: String,
        name: String,
        explanation: String,
    },
    #[error("transaction failed: {0}")]
    Dispatch(String),
    #[error("transaction rejected by the pool: {0}")]
    Invalid(String),
    #[error("transaction dropped: {0}")]
    Dropped(String),
    #[error("cannot read storage {pallet}.{entry}: {reason}")]
    Storage {
        pallet: String,
        entry: String,
        reason: String,
    },
    #[error("hotkey {hotkey} is not registered on subnet {netuid}")]
    NotRegistered { hotkey: String, netuid: u16 },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error(transparent)]
    Wallet(#[from] wallet::WalletError),
}

impl ChainError {
    /// The pallet error name, when the chain rejected the call with one.
    pub fn module_error_name(&self) -> Option<&str> {
        match self {
            ChainError::Module { name, .. } => Some(name),
            ChainError::WeightsRateLimited { .. } => Some("SettingWeightsTooFast"),
            _ => None,
        }
    }
}

/// Blocks left before `set_weights` is allowed again: the chain requires
/// `now - last_update >= limit` (a limit of 0 disables the check).
pub fn weights_wait_blocks(now: u64, last_update: u64, limit: u64) -> u64 {
    if limit == 0 {
        return 0;
    }
    let elapsed = now.saturating_sub(last_update);
    limit.saturating_sub(elapsed)
}

/// What a subtensor / AdminUtils / Balances error means, for the errors our
/// tooling can run into. Unknown names get a generic explanation that still
/// names the error so it can be looked up.
pub fn explain_module_error(pallet: &str, name: &str) -> String {
    let text = match (pallet, name) {
        (_, "SettingWeightsTooFast") => {
            "weights rate limit: wait until WeightsSetRateLimit blocks have passed since the last update"
        }
        (_, "CommitRevealEnabled") => {
            "commit-reveal is enabled on this subnet: use commit_weights then reveal_weights"
        }
        (_, "CommitRevealDisabled") => {
            "commit-reveal is disabled on this subnet: use set_weights"
        }
        (_, "CommittingWeightsTooFast") => "commit rate limit: wait before committing again",
        (_, "TooManyUnrevealedCommits") => "too many unrevealed commits: reveal or let them expire",
        (_, "NoWeightsCommitFound") => "no matching weights commit found for this hotkey",
        (_, "InvalidRevealCommitHashNotMatch") => {
            "the revealed weights do not hash to the committed value (check uids, values, salt and version_key)"
        }
        (_, "RevealTooEarly") => "reveal too early: wait for the reveal epoch (commit epoch + RevealPeriodEpochs)",
        (_, "ExpiredWeightCommit") => "the weights commit expired before it was revealed",
        (_, "HotKeyNotRegisteredInSubNet") | (_, "HotKeyNotRegisteredInNetwork") => {
            "the hotkey is not registered on this subnet"
        }
        (_, "HotKeyAccountNotExists") => "the hotkey account does not exist (register it first)",
        (_, "HotKeyAlreadyRegisteredInSubNet") => "the hotkey is already registered on this subnet",
        (_, "NotEnoughStakeToSetWeights") => "not enough stake to set weights (below StakeThreshold)",
        (_, "IncorrectWeightVersionKey") => "version_key is below the subnet's WeightsVersionKey",
        (_, "NeuronNoValidatorPermit") => "the neuron has no validator permit (only a self-weight is allowed)",
        (_, "WeightVecNotEqualSize") => "uids and weights have different lengths",
        (_, "DuplicateUids") => "duplicate uids in the weights",
        (_, "UidVecContainInvalidOne") | (_, "UidsLengthExceedUidsInSubNet") => {
            "a weight targets a uid that does not exist on the subnet"
        }
        (_, "WeightVecLengthIsLow") => "fewer weights than MinAllowedWeights",
        (_, "MaxWeightExceeded") => "a weight exceeds MaxWeightsLimit",
        (_, "ServingRateLimitExceeded") => "axon serving rate limit: wait before serving again",
        (_, "InvalidIpAddress") => {
            "invalid axon IP (subtensor rejects 127.0.0.1 and private ranges; use 127.0.0.2 locally)"
        }
        (_, "InvalidIpType") => "ip_type must be 4 or 6",
        (_, "InvalidPort") => "invalid axon port (0 is not allowed)",
        (_, "SubNetworkDoesNotExist") | (_, "SubnetNotExists") => "the subnet does not exist",
        (_, "SubtokenDisabled") => "the subnet is not started yet: call start_call first",
        (_, "FirstEmissionBlockNumberAlreadySet") => "start_call was already made for this subnet",
        (_, "NeedWaitingMoreBlocksToStarCall") => "too early for start_call: wait more blocks after subnet creation",
        (_, "NotSubnetOwner") => "only the subnet owner can do this",
        (_, "NotEnoughBalanceToStake") => "coldkey balance too low for this stake",
        (_, "NotEnoughBalanceToPayBurn") | (_, "NotEnoughBalance") => "coldkey balance too low",
        (_, "AmountTooLow") | (_, "StakeAmountTooLow") => "amount below the minimum",
        (_, "TooManyRegistrationsThisBlock") | (_, "TooManyRegistrationsThisInterval") => {
            "registration limit reached: try again in a later block or interval"
        }
        (_, "NetworkTxRateLimitExceeded") | (_, "TxRateLimitExceeded") => {
            "rate limit: wait before sending this transaction again"
        }
        (_, "AdminActionProhibitedDuringWeightsWindow") => {
            "admin freeze window: admin calls are blocked near the end of the tempo"
        }
        ("Sudo", "RequireSudo") => "the signer is not the sudo key",
        ("Balances", "InsufficientBalance") => "balance too low",
        _ => "",
    };
    if text.is_empty() {
        format!("the chain rejected the call ({pallet}.{name})")
    } else {
        text.to_string()
    }
}

/// Meaning of subtensor's `InvalidTransaction::Custom(code)` pool errors
/// (codes are stable: subtensor documents them as client-facing).
pub fn explain_custom_validity_code(code: u8) -> Option<&'static str> {
    Some(match code {
        0 => "the coldkey is in a swap schedule",
        1 => "stake amount too low",
        2 => "balance too low",
        3 => "the subnet does not exist",
        4 => "the hotkey account does not exist",
        5 => "not enough stake to withdraw",
        6 => "rate limit exceeded",
        7 => "insufficient liquidity",
        8 => "slippage too high",
        9 => "transfer disallowed",
        10 => "the hotkey is not registered on this subnet",
        11 => "invalid axon IP address (use 127.0.0.2 locally, not 127.0.0.1)",
        12 => "axon serving rate limit exceeded",
        13 => "invalid axon port",
        14 => "zero max amount",
        15 => "invalid reveal round",
        16 => "commit not found",
        17 => "commit block not in the reveal range",
        18 => "input lengths unequal",
        19 => "uid not found",
        255 => "bad request",
        _ => return None,
    })
}

/// Adds the meaning of `Custom(N)` codes to a pool rejection message.
pub fn explain_invalid(message: &str) -> String {
    let code = message.split("Custom").nth(1).and_then(|rest| {
        let digits: String = rest
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.parse::<u8>().ok()
    });
    match code.and_then(explain_custom_validity_code) {
        Some(meaning) => format!("{message} ({meaning})"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_blocks_follows_the_chain_rule() {
        // Allowed when now - last >= limit.
        assert_eq!(weights_wait_blocks(110, 100, 10), 0);
        assert_eq!(weights_wait_blocks(105, 100, 10), 5);
        assert_eq!(weights_wait_blocks(100, 100, 10), 10);
        assert_eq!(weights_wait_blocks(100, 100, 0), 0);
        // A last update "in the future" (reorg, stale read) must not underflow.
        assert_eq!(weights_wait_blocks(90, 100, 10), 10);
    }

    #[test]
    fn rate_limit_error_reads_well() {
        let e = ChainError::WeightsRateLimited {
            wait_blocks: 7,
            limit: 100,
            last_update: 12,
        };
        assert!(e
            .to_string()
            .starts_with("weights rate limit: wait 7 blocks"));
        assert_eq!(e.module_error_name(), Some("SettingWeightsTooFast"));
    }

    #[test]
    fn module_errors_are_explained() {
        assert!(
            explain_module_error("SubtensorModule", "CommitRevealEnabled")
                .contains("commit_weights")
        );
        assert!(explain_module_error("SubtensorModule", "InvalidIpAddress").contains("127.0.0.2"));
        assert!(explain_module_error("SubtensorModule", "SubtokenDisabled").contains("start_call"));
        assert_eq!(
            explain_module_error("Foo", "Bar"),
            "the chain rejected the call (Foo.Bar)"
        );
    }

    #[test]
    fn custom_pool_codes_are_explained() {
        assert_eq!(
            explain_invalid("Transaction has a bad signature"),
            "Transaction has a bad signature"
        );
        assert!(explain_invalid("Invalid Transaction: Custom error: 6")
            .ends_with("(rate limit exceeded)"));
        assert!(explain_invalid("Custom(11)").contains("127.0.0.2"));
        assert_eq!(explain_invalid("Custom(200)"), "Custom(200)");
    }
}
