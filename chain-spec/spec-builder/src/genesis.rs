//! Genesis of the local dev chain: funded dev accounts, Alice as sudo and
//! subnet 1 ready for local testing (tempo 10, commit-reveal off, weights
//! rate limit 2 blocks).

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};
use sp_core::{crypto::Pair as _, sr25519};
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;
use subnet_dev_runtime::{
    AccountId, BalancesConfig, RuntimeGenesisConfig, SubtensorModuleConfig, SudoConfig, TAO,
    WASM_BINARY,
};

/// Balance of each funded dev account: one million TAO.
pub const DEV_BALANCE: u64 = 1_000_000 * TAO;
/// Derivation path of subnet 1's owner hotkey (uid 0), kept apart from the
/// well-known dev accounts so tests can register those freely.
pub const SUBNET1_OWNER_HOTKEY_URI: &str = "//Alice//subnet1-owner";

fn account(uri: &str) -> Result<AccountId> {
    let pair = sr25519::Pair::from_string(uri, None).map_err(|e| anyhow!("{uri}: {e:?}"))?;
    Ok(pair.public().into())
}

/// The runtime's genesis config for the dev chain.
pub fn genesis_config() -> Result<RuntimeGenesisConfig> {
    let alice = Sr25519Keyring::Alice.to_account_id();
    let funded = [
        Sr25519Keyring::Alice,
        Sr25519Keyring::Bob,
        Sr25519Keyring::Charlie,
        Sr25519Keyring::Dave,
        Sr25519Keyring::Eve,
        Sr25519Keyring::Ferdie,
    ];
    Ok(RuntimeGenesisConfig {
        balances: BalancesConfig {
            balances: funded
                .iter()
                .map(|k| (k.to_account_id(), DEV_BALANCE))
                .collect(),
            ..Default::default()
        },
        sudo: SudoConfig {
            key: Some(alice.clone()),
        },
        subtensor_module: SubtensorModuleConfig {
            subnets: vec![(1, alice, account(SUBNET1_OWNER_HOTKEY_URI)?, 10, 2, false)],
            stake_threshold: 0,
            // No owner cut: on subtensor it accrues as stake on the owner's
            // hotkey, which would steadily outweigh test validators and clip
            // their weights to zero on a long-running localnet.
            subnet_owner_cut: Some(0),
        },
        ..Default::default()
    })
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// The raw chain spec as JSON: `genesis.raw.top` holds every storage item.
pub fn raw_chain_spec() -> Result<Value> {
    let code = WASM_BINARY.ok_or_else(|| {
        anyhow!("runtime built without wasm (SKIP_WASM_BUILD?); rebuild with the wasm toolchain")
    })?;
    let mut storage = genesis_config()?
        .build_storage()
        .map_err(|e| anyhow!("building genesis storage: {e}"))?;
    storage.top.insert(
        sp_core::storage::well_known_keys::CODE.to_vec(),
        code.to_vec(),
    );
    let top: Map<String, Value> = storage
        .top
        .iter()
        .map(|(k, v)| (hex0x(k), Value::String(hex0x(v))))
        .collect();
    Ok(json!({
        "name": "Subnet Dev",
        "id": "subnet_dev",
        "chainType": "Development",
        "bootNodes": [],
        "telemetryEndpoints": null,
        "protocolId": null,
        "properties": { "ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO" },
        "codeSubstitutes": {},
        "genesis": { "raw": { "top": top, "childrenDefault": {} } }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Decode;
    use sp_core::storage::well_known_keys::CODE;
    use sp_io::hashing::twox_128;

    fn storage() -> sp_core::storage::Storage {
        genesis_config().unwrap().build_storage().unwrap()
    }

    #[test]
    fn alice_is_sudo() {
        let key = [twox_128(b"Sudo"), twox_128(b"Key")].concat();
        let raw = storage().top.get(&key).cloned().expect("sudo key stored");
        let who = AccountId::decode(&mut &raw[..]).unwrap();
        assert_eq!(who, Sr25519Keyring::Alice.to_account_id());
    }

    #[test]
    fn subnet_one_exists_with_local_parameters() {
        let top = storage().top;
        let map_key = |item: &[u8], netuid: u16| {
            [
                twox_128(b"SubtensorModule").to_vec(),
                twox_128(item).to_vec(),
                netuid.to_le_bytes().to_vec(),
            ]
            .concat()
        };
        assert_eq!(top.get(&map_key(b"NetworksAdded", 1)), Some(&vec![1u8]));
        assert_eq!(
            top.get(&map_key(b"Tempo", 1)),
            Some(&10u16.to_le_bytes().to_vec())
        );
        assert_eq!(
            top.get(&map_key(b"CommitRevealWeightsEnabled", 1)),
            Some(&vec![0u8])
        );
        assert_eq!(
            top.get(&map_key(b"WeightsSetRateLimit", 1)),
            Some(&2u64.to_le_bytes().to_vec())
        );
    }

    #[test]
    fn raw_spec_carries_code_when_wasm_was_built() {
        match WASM_BINARY {
            Some(code) => {
                let spec = raw_chain_spec().unwrap();
                let top = &spec["genesis"]["raw"]["top"];
                assert_eq!(top[hex0x(CODE)], Value::String(hex0x(code)));
            }
            None => assert!(raw_chain_spec().is_err()),
        }
    }
}
