//! The chain client: connection (with reconnects), typed extrinsics and
//! storage reads. Calls go through subxt's dynamic API, by pallet/call name;
//! failures come back as [`ChainError`]s that say what went wrong.

use std::future::Future;
use std::net::IpAddr;
use std::sync::RwLock;
use std::time::Duration;

use parity_scale_codec::Decode;
use subxt::config::substrate::AccountId32;
use subxt::dynamic::Value;
use subxt::error::{DispatchError, TransactionEventsError};
use subxt::ext::frame_decode::storage::{IntoDecodableValues, IntoEncodableValues};
use subxt::ext::scale_decode::DecodeAsType;
use subxt::ext::scale_value::Composite;
use subxt::rpcs::client::reconnecting_rpc_client::ExponentialBackoff;
use subxt::rpcs::client::{ReconnectingRpcClient, RpcClient};
use subxt::transactions::{Payload, TransactionInvalid, ValidationResult};
use subxt::OnlineClient;
use wallet::Keypair;

use crate::config::SubtensorParams;
use crate::error::{
    explain_custom_validity_code, explain_invalid, explain_module_error, weights_wait_blocks,
};
use crate::metagraph::{elem, AxonInfo, Metagraph, Neuron, RawAxonInfo};
use crate::signer::PairSigner;
use crate::{ChainError, SubtensorConfig};

type Api = OnlineClient<SubtensorConfig>;
type AtBlock = subxt::client::OnlineClientAtBlock<SubtensorConfig>;
/// `WeightCommits` entry: (hash, commit block, first reveal block, last reveal block).
type RawCommit = ([u8; 32], u64, u64, u64);

/// subtensor's pallet name in the runtime.
pub const SUBTENSOR: &str = "SubtensorModule";
const ADMIN_UTILS: &str = "AdminUtils";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Socket-level reconnect attempts of the RPC client.
const RPC_RETRIES: usize = 5;
/// Reads are idempotent, so they are retried across reconnects.
const READ_ATTEMPTS: usize = 4;

/// One pending `commit_weights`, with the blocks in which it may be revealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightCommit {
    pub hash: [u8; 32],
    pub commit_block: u64,
    pub first_reveal_block: u64,
    pub last_reveal_block: u64,
}

/// Result of an included, successful extrinsic.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    pub block_hash: String,
    pub extrinsic_hash: String,
    /// `Pallet.Event` names emitted by the extrinsic, in order.
    pub events: Vec<String>,
    /// Raw field bytes of each event, parallel to `events`.
    event_fields: Vec<Vec<u8>>,
}

impl TxOutcome {
    /// Field bytes of the first event with this `Pallet.Event` name.
    pub fn event_fields(&self, name: &str) -> Option<&[u8]> {
        self.events
            .iter()
            .position(|e| e == name)
            .map(|i| self.event_fields[i].as_slice())
    }
}

/// Connection to a subtensor-compatible node.
pub struct ChainClient {
    url: String,
    api: RwLock<Api>,
}

fn rpc_error(e: impl Into<subxt::Error>) -> ChainError {
    ChainError::Rpc(e.into().to_string())
}

fn storage_error(pallet: &str, entry: &str, e: impl Into<subxt::Error>) -> ChainError {
    let e = e.into();
    if is_connection_error(&e) {
        return ChainError::Rpc(e.to_string());
    }
    ChainError::Storage {
        pallet: pallet.into(),
        entry: entry.into(),
        reason: e.to_string(),
    }
}

fn is_connection_error(e: &subxt::Error) -> bool {
    e.is_disconnected_will_reconnect()
        || matches!(
            e,
            subxt::Error::BackendError(_)
                | subxt::Error::OnlineClientError(_)
                | subxt::Error::OnlineClientAtBlockError(_)
        )
}

async fn build_api(url: &str) -> Result<Api, ChainError> {
    let connect = async {
        let rpc = ReconnectingRpcClient::builder()
            // Bounded, so a dead endpoint fails within seconds instead of hanging;
            // after that, `ChainClient::reconnect` starts over.
            .retry_policy(
                ExponentialBackoff::from_millis(50)
                    .max_delay(Duration::from_secs(2))
                    .take(RPC_RETRIES),
            )
            .build(url)
            .await
            .map_err(|e| e.to_string())?;
        Api::from_rpc_client_with_config(SubtensorConfig::default(), RpcClient::new(rpc))
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(api)) => Ok(api),
        Ok(Err(reason)) => Err(ChainError::Connect {
            url: url.into(),
            reason,
        }),
        Err(_) => Err(ChainError::Connect {
            url: url.into(),
            reason: format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()),
        }),
    }
}

/// A u16 netuid as a dynamic value (encodes into subtensor's `NetUid` newtype too).
fn v_u(x: impl Into<u128>) -> Value {
    Value::u128(x.into())
}

impl ChainClient {
    /// Connects to a node (`ws://` or `wss://`).
    pub async fn connect(url: &str) -> Result<Self, ChainError> {
        let api = build_api(url).await?;
        tracing::info!(url, "connected to chain");
        Ok(ChainClient {
            url: url.to_string(),
            api: RwLock::new(api),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The current subxt client (cheap clone), for calls this crate lacks.
    pub fn api(&self) -> Api {
        // A poisoned lock only means a panic elsewhere; the client inside is fine.
        match self.api.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Replaces the connection with a fresh one.
    pub async fn reconnect(&self) -> Result<(), ChainError> {
        let api = build_api(&self.url).await?;
        match self.api.write() {
            Ok(mut g) => *g = api,
            Err(p) => *p.into_inner() = api,
        }
        tracing::info!(url = %self.url, "reconnected to chain");
        Ok(())
    }

    /// Runs an idempotent read, reconnecting and retrying on connection errors.
    async fn read<R, F, Fut>(&self, what: &str, f: F) -> Result<R, ChainError>
    where
        F: Fn(Api) -> Fut,
        Fut: Future<Output = Result<R, ChainError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match f(self.api()).await {
                Err(ChainError::Rpc(reason)) if attempt < READ_ATTEMPTS => {
                    tracing::warn!(what, attempt, %reason, "chain read failed; reconnecting");
                    tokio::time::sleep(Duration::from_millis(250 * attempt as u64)).await;
                    if let Err(e) = self.reconnect().await {
                        tracing::warn!(error = %e, "reconnect failed");
                    }
                }
                other => return other,
            }
        }
    }

    async fn at_current(api: &Api) -> Result<AtBlock, ChainError> {
        api.at_current_block().await.map_err(rpc_error)
    }

    /// Latest finalized block number.
    pub async fn block_number(&self) -> Result<u64, ChainError> {
        self.read("block number", |api| async move {
            Ok(Self::at_current(&api).await?.block_number())
        })
        .await
    }

    /// Reads a storage value (default if absent) decoded as `V`.
    pub async fn storage<K, V>(&self, pallet: &str, entry: &str, keys: K) -> Result<V, ChainError>
    where
        K: IntoEncodableValues + IntoDecodableValues + Clone,
        V: DecodeAsType,
    {
        self.read(entry, |api| {
            let keys = keys.clone();
            async move {
                let at = Self::at_current(&api).await?;
                fetch::<K, V>(&at, pallet, entry, keys).await
            }
        })
        .await
    }

    /// Free balance of an account, in rao.
    pub async fn free_balance(&self, account: &[u8; 32]) -> Result<u128, ChainError> {
        #[derive(DecodeAsType)]
        #[decode_as_type(crate_path = "subxt::ext::scale_decode")]
        struct AccountInfo {
            data: AccountData,
        }
        #[derive(DecodeAsType)]
        #[decode_as_type(crate_path = "subxt::ext::scale_decode")]
        struct AccountData {
            free: u128,
        }
        let info: AccountInfo = self
            .storage("System", "Account", (AccountId32(*account),))
            .await?;
        Ok(info.data.free)
    }

    /// Signs with `signer`, submits, waits for finalization and checks the
    /// extrinsic succeeded; dispatch errors become readable [`ChainError`]s.
    pub async fn submit<P: Payload>(
        &self,
        payload: &P,
        signer: &Keypair,
    ) -> Result<TxOutcome, ChainError> {
        let pallet = payload.pallet_name().to_string();
        let call = payload.call_name().to_string();
        let api = self.api();
        let mut txs = match api.tx().await {
            Ok(t) => t,
            Err(e) => {
                // The connection may have gone away since the last call:
                // reconnect once before giving up (nothing was submitted yet).
                tracing::warn!(error = %e, "cannot start transaction; reconnecting");
                self.reconnect().await?;
                self.api().tx().await.map_err(rpc_error)?
            }
        };
        let encode_error = |reason: String| ChainError::Encode {
            pallet: pallet.clone(),
            call: call.clone(),
            reason,
        };
        let params = <SubtensorParams as subxt::transactions::DefaultParams>::default_params();
        let signed = txs
            .create_signed(payload, &PairSigner(signer), params)
            .await
            .map_err(|e| encode_error(e.to_string()))?;
        // Dry-run through the runtime first: a pool rejection then says why
        // (fees, nonce, subtensor's Custom codes) however the node's RPC
        // reports submission failures.
        match signed.validate().await {
            Ok(ValidationResult::Invalid(reason)) => {
                return Err(ChainError::Invalid(explain_validity(&reason)));
            }
            Ok(ValidationResult::Unknown(reason)) => {
                return Err(ChainError::Invalid(format!("validity unknown: {reason:?}")));
            }
            Ok(ValidationResult::Valid(_)) => {}
            Err(e) => tracing::debug!(error = %e, "pre-submission validation unavailable"),
        }
        tracing::debug!(%pallet, %call, "submitting extrinsic");
        let progress = signed.submit_and_watch().await.map_err(|e| {
            let msg = e.to_string();
            if msg.contains("Invalid") || msg.contains("invalid") || msg.contains("Custom") {
                ChainError::Invalid(explain_invalid(&msg))
            } else {
                ChainError::Rpc(msg)
            }
        })?;
        let in_block = progress
            .wait_for_finalized()
            .await
            .map_err(map_progress_error)?;
        let block_hash = format!("{:?}", in_block.block_hash());
        let events = in_block
            .wait_for_success()
            .await
            .map_err(map_events_error)?;
        let mut names = Vec::new();
        let mut fields = Vec::new();
        for ev in events.iter() {
            let ev = ev.map_err(rpc_error)?;
            names.push(format!("{}.{}", ev.pallet_name(), ev.event_name()));
            fields.push(ev.field_bytes().to_vec());
        }
        let outcome = TxOutcome {
            block_hash,
            extrinsic_hash: format!("{:?}", events.extrinsic_hash()),
            events: names,
            event_fields: fields,
        };
        // Sudo reports the inner call's result in an event, not as a failure.
        if let Some(bytes) = outcome.event_fields("Sudo.Sudid") {
            self.check_sudo_result(bytes).await?;
        }
        tracing::info!(%pallet, %call, events = ?outcome.events, "extrinsic finalized");
        Ok(outcome)
    }

    /// `Sudo.Sudid { sudo_result: Result<(), DispatchError> }`: SCALE byte 0 is
    /// Ok/Err; a module error is variant 3 followed by (pallet index, error bytes).
    async fn check_sudo_result(&self, bytes: &[u8]) -> Result<(), ChainError> {
        match bytes {
            [0, ..] => Ok(()),
            [1, 3, pallet_index, error_index, ..] => {
                let metadata = Self::at_current(&self.api()).await?.metadata();
                let (pallet, name) = metadata
                    .pallet_by_error_index(*pallet_index)
                    .and_then(|p| {
                        p.error_variant_by_index(*error_index)
                            .map(|v| (p.name().to_string(), v.name.clone()))
                    })
                    .unwrap_or_else(|| {
                        (
                            format!("pallet#{pallet_index}"),
                            format!("error#{error_index}"),
                        )
                    });
                let explanation = explain_module_error(&pallet, &name);
                Err(ChainError::Module {
                    pallet,
                    name,
                    explanation,
                })
            }
            [1, 2, ..] => Err(ChainError::Dispatch("sudo call failed: bad origin".into())),
            [1, ..] => Err(ChainError::Dispatch(format!(
                "sudo call failed (dispatch error bytes 0x{})",
                hex::encode(&bytes[1..])
            ))),
            _ => Err(ChainError::Dispatch("undecodable Sudo.Sudid event".into())),
        }
    }

    // ----- subnet lifecycle -------------------------------------------------

    /// `register_network(hotkey)`, signed by the coldkey; returns the new netuid.
    pub async fn register_network(
        &self,
        coldkey: &Keypair,
        hotkey: &[u8; 32],
    ) -> Result<u16, ChainError> {
        let tx = subxt::dynamic::tx(SUBTENSOR, "register_network", (AccountId32(*hotkey),));
        let outcome = self.submit(&tx, coldkey).await?;
        let fields = outcome
            .event_fields("SubtensorModule.NetworkAdded")
            .ok_or_else(|| {
                ChainError::Dispatch("register_network emitted no NetworkAdded event".into())
            })?;
        u16::decode(&mut &fields[..])
            .map_err(|e| ChainError::Dispatch(format!("bad NetworkAdded event: {e}")))
    }

    /// `start_call(netuid)`, by the subnet owner: starts emissions.
    pub async fn start_call(&self, owner: &Keypair, netuid: u16) -> Result<TxOutcome, ChainError> {
        let tx = subxt::dynamic::tx(SUBTENSOR, "start_call", (v_u(netuid),));
        self.submit(&tx, owner).await
    }

    /// `burned_register(netuid, hotkey)`, signed by the coldkey; returns the uid.
    pub async fn burned_register(
        &self,
        coldkey: &Keypair,
        netuid: u16,
        hotkey: &[u8; 32],
    ) -> Result<u16, ChainError> {
        let tx = subxt::dynamic::tx(
            SUBTENSOR,
            "burned_register",
            (v_u(netuid), AccountId32(*hotkey)),
        );
        self.submit(&tx, coldkey).await?;
        self.uid_of(netuid, hotkey)
            .await?
            .ok_or_else(|| ChainError::NotRegistered {
                hotkey: wallet::ss58::encode(hotkey, 42),
                netuid,
            })
    }

    /// `serve_axon(...)`, signed by the hotkey. Locally use 127.0.0.2: the
    /// chain rejects 127.0.0.1.
    #[allow(clippy::too_many_arguments)]
    pub async fn serve_axon(
        &self,
        hotkey: &Keypair,
        netuid: u16,
        version: u32,
        ip: IpAddr,
        port: u16,
        protocol: u8,
        placeholder1: u8,
        placeholder2: u8,
    ) -> Result<TxOutcome, ChainError> {
        let (ip_raw, ip_type) = crate::metagraph::encode_ip(ip);
        let tx = subxt::dynamic::tx(
            SUBTENSOR,
            "serve_axon",
            (
                v_u(netuid),
                version,
                ip_raw,
                port,
                ip_type,
                protocol,
                placeholder1,
                placeholder2,
            ),
        );
        self.submit(&tx, hotkey).await
    }

    /// `add_stake(hotkey, netuid, amount_staked)` in rao, signed by the coldkey.
    pub async fn add_stake(
        &self,
        coldkey: &Keypair,
        hotkey: &[u8; 32],
        netuid: u16,
        amount_rao: u64,
    ) -> Result<TxOutcome, ChainError> {
        let tx = subxt::dynamic::tx(
            SUBTENSOR,
            "add_stake",
            (AccountId32(*hotkey), v_u(netuid), v_u(amount_rao)),
        );
        self.submit(&tx, coldkey).await
    }

    /// `Balances.transfer_keep_alive(dest, value)` in rao; a hotkey needs a
    /// little balance so that its account exists and may sign transactions
    /// (the calls it signs are fee-free).
    pub async fn transfer_keep_alive(
        &self,
        from: &Keypair,
        dest: &[u8; 32],
        amount_rao: u128,
    ) -> Result<TxOutcome, ChainError> {
        let dest = subxt::utils::MultiAddress::<AccountId32, ()>::Id(AccountId32(*dest));
        let tx = subxt::dynamic::tx("Balances", "transfer_keep_alive", (dest, amount_rao));
        self.submit(&tx, from).await
    }

    // ----- weights ------------------------------------------------------------

    /// `set_weights`, signed by the hotkey. When the chain refuses with
    /// `SettingWeightsTooFast`, the error says how many blocks to wait.
    pub async fn set_weights(
        &self,
        hotkey: &Keypair,
        netuid: u16,
        dests: &[u16],
        weights: &[u16],
        version_key: u64,
    ) -> Result<TxOutcome, ChainError> {
        if dests.len() != weights.len() {
            return Err(ChainError::InvalidArgument(format!(
                "{} uids but {} weights",
                dests.len(),
                weights.len()
            )));
        }
        let tx = subxt::dynamic::tx(
            SUBTENSOR,
            "set_weights",
            (v_u(netuid), dests.to_vec(), weights.to_vec(), version_key),
        );
        match self.submit(&tx, hotkey).await {
            Err(e) if e.module_error_name() == Some("SettingWeightsTooFast") => Err(self
                .weights_rate_limit_error(netuid, &hotkey.public_key())
                .await
                .unwrap_or(e)),
            other => other,
        }
    }

    /// Builds the precise rate-limit error from chain state.
    async fn weights_rate_limit_error(
        &self,
        netuid: u16,
        hotkey: &[u8; 32],
    ) -> Result<ChainError, ChainError> {
        let uid = self
            .uid_of(netuid, hotkey)
            .await?
            .ok_or_else(|| ChainError::NotRegistered {
                hotkey: wallet::ss58::encode(hotkey, 42),
                netuid,
            })?;
        let limit: u64 = self
            .storage(SUBTENSOR, "WeightsSetRateLimit", (netuid,))
            .await?;
        let last: Vec<u64> = self.storage(SUBTENSOR, "LastUpdate", (netuid,)).await?;
        let last_update = elem(&last, usize::from(uid));
        let now = self.block_number().await?;
        // A transaction lands in the next block at the earliest.
        let wait = weights_wait_blocks(now + 1, last_update, limit);
        Ok(ChainError::WeightsRateLimited {
            wait_blocks: wait,
            limit,
            last_update,
        })
    }

    /// `commit_weights(netuid, hash)`; see [`crate::commit_hash`].
    pub async fn commit_weights(
        &self,
        hotkey: &Keypair,
        netuid: u16,
        hash: [u8; 32],
    ) -> Result<TxOutcome, ChainError> {
        let tx = subxt::dynamic::tx(SUBTENSOR, "commit_weights", (v_u(netuid), hash));
        self.submit(&tx, hotkey).await
    }

    /// `reveal_weights(netuid, uids, values, salt, version_key)`.
    pub async fn reveal_weights(
        &self,
        hotkey: &Keypair,
        netuid: u16,
        uids: &[u16],
        values: &[u16],
        salt: &[u16],
        version_key: u64,
    ) -> Result<TxOutcome, ChainError> {
        let tx = subxt::dynamic::tx(
            SUBTENSOR,
            "reveal_weights",
            (
                v_u(netuid),
                uids.to_vec(),
                values.to_vec(),
                salt.to_vec(),
                version_key,
            ),
        );
        self.submit(&tx, hotkey).await
    }

    // ----- sudo (AdminUtils via Sudo.sudo) ----------------------------------------

    /// `Sudo.sudo(AdminUtils.<call>(args...))`, signed by the sudo key.
    pub async fn sudo_admin(
        &self,
        sudo: &Keypair,
        call: &str,
        args: Vec<Value>,
    ) -> Result<TxOutcome, ChainError> {
        let inner = subxt::dynamic::tx(ADMIN_UTILS, call, Composite::unnamed(args)).into_value();
        let tx = subxt::dynamic::tx("Sudo", "sudo", (inner,));
        self.submit(&tx, sudo).await
    }

    pub async fn sudo_set_tempo(
        &self,
        sudo: &Keypair,
        netuid: u16,
        tempo: u16,
    ) -> Result<TxOutcome, ChainError> {
        self.sudo_admin(sudo, "sudo_set_tempo", vec![v_u(netuid), v_u(tempo)])
            .await
    }

    pub async fn sudo_set_weights_set_rate_limit(
        &self,
        sudo: &Keypair,
        netuid: u16,
        limit: u64,
    ) -> Result<TxOutcome, ChainError> {
        self.sudo_admin(
            sudo,
            "sudo_set_weights_set_rate_limit",
            vec![v_u(netuid), v_u(limit)],
        )
        .await
    }

    pub async fn sudo_set_commit_reveal_weights_enabled(
        &self,
        sudo: &Keypair,
        netuid: u16,
        enabled: bool,
    ) -> Result<TxOutcome, ChainError> {
        self.sudo_admin(
            sudo,
            "sudo_set_commit_reveal_weights_enabled",
            vec![v_u(netuid), Value::bool(enabled)],
        )
        .await
    }

    pub async fn sudo_set_admin_freeze_window(
        &self,
        sudo: &Keypair,
        window: u16,
    ) -> Result<TxOutcome, ChainError> {
        self.sudo_admin(sudo, "sudo_set_admin_freeze_window", vec![v_u(window)])
            .await
    }

    // ----- reads ------------------------------------------------------------------

    /// `Uids[(netuid, hotkey)]`.
    pub async fn uid_of(&self, netuid: u16, hotkey: &[u8; 32]) -> Result<Option<u16>, ChainError> {
        let hotkey = *hotkey;
        self.read("Uids", |api| async move {
            let at = Self::at_current(&api).await?;
            try_fetch::<_, u16>(&at, SUBTENSOR, "Uids", (netuid, AccountId32(hotkey))).await
        })
        .await
    }

    /// Unrevealed weight commits of `hotkey` (`WeightCommits[(netuid, hotkey)]`).
    pub async fn pending_commits(
        &self,
        netuid: u16,
        hotkey: &[u8; 32],
    ) -> Result<Vec<WeightCommit>, ChainError> {
        let hotkey = *hotkey;
        let raw: Option<Vec<RawCommit>> = self
            .read("WeightCommits", |api| async move {
                let at = Self::at_current(&api).await?;
                try_fetch(
                    &at,
                    SUBTENSOR,
                    "WeightCommits",
                    (netuid, AccountId32(hotkey)),
                )
                .await
            })
            .await?;
        Ok(raw
            .unwrap_or_default()
            .into_iter()
            .map(
                |(hash, commit_block, first_reveal_block, last_reveal_block)| WeightCommit {
                    hash,
                    commit_block,
                    first_reveal_block,
                    last_reveal_block,
                },
            )
            .collect())
    }

    /// Waits until the finalized block number reaches `target`, polling at
    /// `poll`; gives up after `timeout`.
    pub async fn wait_for_block(
        &self,
        target: u64,
        poll: Duration,
        timeout: Duration,
    ) -> Result<u64, ChainError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let now = self.block_number().await?;
            if now >= target {
                return Ok(now);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ChainError::Rpc(format!(
                    "timed out at block {now} waiting for block {target}"
                )));
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// Reads the whole metagraph of `netuid` at the latest finalized block.
    pub async fn metagraph(&self, netuid: u16) -> Result<Metagraph, ChainError> {
        self.read("metagraph", |api| async move {
            let at = Self::at_current(&api).await?;
            read_metagraph(&at, netuid).await
        })
        .await
    }
}

/// Words for a runtime validity verdict.
fn explain_validity(reason: &TransactionInvalid) -> String {
    match reason {
        TransactionInvalid::Payment => {
            "cannot pay the transaction fee (balance too low)".to_string()
        }
        TransactionInvalid::Stale => "nonce too low (transaction already applied?)".to_string(),
        TransactionInvalid::Future => "nonce too high".to_string(),
        TransactionInvalid::BadProof => {
            "bad signature (signed for another chain or runtime version?)".to_string()
        }
        TransactionInvalid::Custom(code) => match explain_custom_validity_code(*code) {
            Some(text) => format!("Custom({code}): {text}"),
            None => format!("Custom({code})"),
        },
        other => format!("{other:?}"),
    }
}

fn map_progress_error(e: subxt::error::TransactionProgressError) -> ChainError {
    use subxt::error::{TransactionProgressError, TransactionStatusError};
    match e {
        TransactionProgressError::TransactionStatusError(s) => match s {
            TransactionStatusError::Dropped(m) => ChainError::Dropped(m),
            TransactionStatusError::Invalid(m) | TransactionStatusError::Error(m) => {
                ChainError::Invalid(explain_invalid(&m))
            }
            other => ChainError::Dispatch(other.to_string()),
        },
        other => ChainError::Rpc(other.to_string()),
    }
}

fn map_events_error(e: TransactionEventsError) -> ChainError {
    match e {
        TransactionEventsError::ExtrinsicFailed(d) => dispatch_to_error(&d),
        other => ChainError::Rpc(other.to_string()),
    }
}

fn dispatch_to_error(d: &DispatchError) -> ChainError {
    match d {
        DispatchError::Module(m) => match m.details() {
            Ok(details) => {
                let pallet = details.pallet.name().to_string();
                let name = details.variant.name.clone();
                let explanation = explain_module_error(&pallet, &name);
                ChainError::Module {
                    pallet,
                    name,
                    explanation,
                }
            }
            Err(_) => ChainError::Dispatch(m.to_string()),
        },
        other => ChainError::Dispatch(other.to_string()),
    }
}

async fn fetch<K, V>(at: &AtBlock, pallet: &str, entry: &str, keys: K) -> Result<V, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    V: DecodeAsType,
{
    let addr = subxt::dynamic::storage::<K, V>(pallet, entry);
    let value = at
        .storage()
        .fetch(addr, keys)
        .await
        .map_err(|e| storage_error(pallet, entry, e))?;
    value.decode().map_err(|e| storage_error(pallet, entry, e))
}

async fn try_fetch<K, V>(
    at: &AtBlock,
    pallet: &str,
    entry: &str,
    keys: K,
) -> Result<Option<V>, ChainError>
where
    K: IntoEncodableValues + IntoDecodableValues,
    V: DecodeAsType,
{
    let addr = subxt::dynamic::storage::<K, V>(pallet, entry);
    let entry_client = at
        .storage()
        .entry(addr)
        .map_err(|e| storage_error(pallet, entry, e))?;
    // `try_fetch` falls back to the entry's default; for an OptionQuery map
    // there is none, so `None` really means "absent".
    match entry_client
        .try_fetch(keys)
        .await
        .map_err(|e| storage_error(pallet, entry, e))?
    {
        Some(v) => v
            .decode()
            .map(Some)
            .map_err(|e| storage_error(pallet, entry, e)),
        None => Ok(None),
    }
}

async fn read_metagraph(at: &AtBlock, netuid: u16) -> Result<Metagraph, ChainError> {
    let key = || (netuid,);
    let exists: bool = fetch(at, SUBTENSOR, "NetworksAdded", key()).await?;
    if !exists {
        return Err(ChainError::InvalidArgument(format!(
            "subnet {netuid} does not exist"
        )));
    }
    let n: u16 = fetch(at, SUBTENSOR, "SubnetworkN", key()).await?;
    let tempo: u16 = fetch(at, SUBTENSOR, "Tempo", key()).await?;
    let weights_set_rate_limit: u64 = fetch(at, SUBTENSOR, "WeightsSetRateLimit", key()).await?;
    let weights_version_key: u64 = fetch(at, SUBTENSOR, "WeightsVersionKey", key()).await?;
    let commit_reveal_enabled: bool =
        fetch(at, SUBTENSOR, "CommitRevealWeightsEnabled", key()).await?;
    let active: Vec<bool> = fetch(at, SUBTENSOR, "Active", key()).await?;
    let permits: Vec<bool> = fetch(at, SUBTENSOR, "ValidatorPermit", key()).await?;
    let incentive: Vec<u16> = fetch(at, SUBTENSOR, "Incentive", key()).await?;
    let dividends: Vec<u16> = fetch(at, SUBTENSOR, "Dividends", key()).await?;
    let consensus: Vec<u16> = fetch(at, SUBTENSOR, "Consensus", key()).await?;
    let vtrust: Vec<u16> = fetch(at, SUBTENSOR, "ValidatorTrust", key()).await?;
    let emission: Vec<u64> = fetch(at, SUBTENSOR, "Emission", key()).await?;
    let last_update: Vec<u64> = fetch(at, SUBTENSOR, "LastUpdate", key()).await?;

    let mut neurons = Vec::with_capacity(usize::from(n));
    for uid in 0..n {
        let i = usize::from(uid);
        let hotkey: Option<AccountId32> = try_fetch(at, SUBTENSOR, "Keys", (netuid, uid)).await?;
        let Some(hotkey) = hotkey else {
            return Err(ChainError::Storage {
                pallet: SUBTENSOR.into(),
                entry: "Keys".into(),
                reason: format!("no hotkey for uid {uid} although SubnetworkN is {n}"),
            });
        };
        let coldkey: Option<AccountId32> = try_fetch(at, SUBTENSOR, "Owner", (hotkey,)).await?;
        let axon: Option<RawAxonInfo> = try_fetch(at, SUBTENSOR, "Axons", (netuid, hotkey)).await?;
        // Axons is an OptionQuery map in subtensor, but a chain with a
        // ValueQuery default would return an all-zero entry: treat as unset.
        let axon = match axon {
            Some(raw) if raw.ip != 0 || raw.port != 0 || raw.block != 0 => {
                Some(AxonInfo::try_from(raw)?)
            }
            _ => None,
        };
        let stake: u64 = fetch(at, SUBTENSOR, "TotalHotkeyAlpha", (hotkey, netuid)).await?;
        let weights: Vec<(u16, u16)> = fetch(at, SUBTENSOR, "Weights", (netuid, uid)).await?;
        neurons.push(Neuron {
            uid,
            hotkey: hotkey.0,
            coldkey: coldkey.map(|c| c.0).unwrap_or([0; 32]),
            axon,
            stake,
            validator_permit: at_bool(&permits, i),
            active: at_bool(&active, i),
            incentive: elem(&incentive, i),
            dividends: elem(&dividends, i),
            consensus: elem(&consensus, i),
            validator_trust: elem(&vtrust, i),
            emission: elem(&emission, i),
            last_update: elem(&last_update, i),
            weights,
        });
    }
    Ok(Metagraph {
        netuid,
        block: at.block_number(),
        tempo,
        weights_set_rate_limit,
        weights_version_key,
        commit_reveal_enabled,
        neurons,
    })
}

fn at_bool(v: &[bool], i: usize) -> bool {
    v.get(i).copied().unwrap_or(false)
}
