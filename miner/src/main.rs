//! `miner`: register a hotkey on the subnet and run the proving axon.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chain_client::{resolve_endpoint, ChainClient};
use circuits::registry::Registry;
use clap::{Parser, Subcommand};
use miner::config::{Options, Settings};
use miner::metagraph::{refresh_loop, ChainSource, MetagraphSource, MetagraphView};
use miner::models::ModelStore;
use miner::{MinerState, Policy, TestHooks};
use subnet_types::{Verifier, VerifierConfig};
use wallet::{PasswordSource, Wallet};

/// Axon version published with serve_axon: the wire protocol version.
const AXON_VERSION: u32 = subnet_types::PROTOCOL_VERSION as u32;
/// `protocol` field of serve_axon; bittensor uses 4 for HTTP axons.
const AXON_PROTOCOL: u8 = 4;

#[derive(Parser)]
#[command(
    name = "miner",
    version,
    about = "zkML subnet miner: answers validators' signed challenges with GKR proofs of ONNX inference"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// TOML config file with the same settings (e.g. `netuid = 1`,
    /// `[wallet] name = "miner"`); command-line flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[command(flatten)]
    options: Options,
}

impl Common {
    fn settings(self) -> Result<Settings> {
        let file = match &self.config {
            Some(p) => Options::from_file(p)?,
            None => Options::default(),
        };
        Ok(self.options.or(file).resolve()?)
    }
}

#[derive(clap::Args)]
struct TestArgs {
    /// Test builds only: sleep this many milliseconds after proving.
    #[cfg(feature = "test-hooks")]
    #[arg(long = "test.delay_ms", default_value_t = 0)]
    delay_ms: u64,
    /// Test builds only: answer with a proof of another statement.
    #[cfg(feature = "test-hooks")]
    #[arg(long = "test.cheat")]
    cheat: bool,
}

impl TestArgs {
    fn hooks(&self) -> TestHooks {
        #[cfg(feature = "test-hooks")]
        {
            TestHooks {
                delay_ms: self.delay_ms,
                cheat: self.cheat,
            }
        }
        #[cfg(not(feature = "test-hooks"))]
        {
            TestHooks::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Register the wallet's hotkey on the subnet by burning TAO from the
    /// coldkey (burned_register). The coldkey password comes from
    /// BT_COLD_PW_<WALLET NAME> when set, else a prompt.
    Register {
        #[command(flatten)]
        common: Common,
    },
    /// Publish the axon (serve_axon) and answer challenges until Ctrl-C.
    Run {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        test: TestArgs,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Register { common } => register(common.settings()?).await,
            Command::Run { common, test } => run(common.settings()?, test.hooks()).await,
        }
    })
}

fn wallet(s: &Settings) -> Result<(Wallet, PasswordSource)> {
    let w = Wallet::new(s.wallet_path.as_deref(), &s.wallet_name, &s.wallet_hotkey)?;
    let pw = PasswordSource::EnvOrPrompt(PasswordSource::coldkey_env_var(&s.wallet_name));
    Ok((w, pw))
}

async fn connect(s: &Settings) -> Result<ChainClient> {
    let url = resolve_endpoint(Some(&s.network), s.chain_endpoint.as_deref())
        .map_err(anyhow::Error::msg)?;
    ChainClient::connect(&url)
        .await
        .with_context(|| format!("cannot connect to the chain at {url}"))
}

async fn register(s: Settings) -> Result<()> {
    let (w, pw) = wallet(&s)?;
    let hotkey_ss58 = w.hotkeypub(&pw)?;
    let hotkey = wallet::ss58::decode(&hotkey_ss58)?.0;
    let chain = connect(&s).await?;
    if let Some(uid) = chain.uid_of(s.netuid, &hotkey).await? {
        println!(
            "{hotkey_ss58} is already registered on netuid {} as uid {uid}",
            s.netuid
        );
        return Ok(());
    }
    let coldkey = w.coldkey(&pw)?;
    let uid = chain
        .burned_register(&coldkey, s.netuid, &hotkey)
        .await
        .with_context(|| format!("burned_register of {hotkey_ss58} on netuid {}", s.netuid))?;
    println!(
        "registered {hotkey_ss58} on netuid {} as uid {uid}",
        s.netuid
    );
    Ok(())
}

async fn run(s: Settings, hooks: TestHooks) -> Result<()> {
    s.check_axon_ip()?;
    if hooks.cheat || hooks.delay_ms > 0 {
        tracing::warn!(
            ?hooks,
            "test hooks are on: this miner misbehaves on purpose"
        );
    }
    let (w, pw) = wallet(&s)?;
    let hotkey = w.hotkey_pair(&pw)?;
    let registry = Registry::load(&s.registry)
        .with_context(|| format!("loading the model registry {}", s.registry.display()))?;
    let models = Arc::new(ModelStore::new(registry, &s.models)?);
    tracing::info!(
        models = ?models.slots().iter().map(|m| m.entry().name.as_str()).collect::<Vec<_>>(),
        "registry verified"
    );

    // Bind before publishing, so a taken port fails before the chain
    // learns an endpoint nobody answers on.
    let addr = SocketAddr::new(s.axon_ip, s.axon_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;

    let chain = connect(&s).await?;
    let Some(uid) = chain.uid_of(s.netuid, &hotkey.public_key()).await? else {
        bail!(
            "{} is not registered on netuid {}: run `miner register` first",
            hotkey.ss58_address(),
            s.netuid
        );
    };
    let metagraph = chain.metagraph(s.netuid).await?;
    let published = metagraph
        .neuron(uid)
        .and_then(|n| n.axon.as_ref())
        .is_some_and(|a| a.ip == s.axon_ip && a.port == s.axon_port);
    if published {
        tracing::info!(%addr, "axon already published");
    } else {
        chain
            .serve_axon(
                &hotkey,
                s.netuid,
                AXON_VERSION,
                s.axon_ip,
                s.axon_port,
                AXON_PROTOCOL,
                0,
                0,
            )
            .await
            .with_context(|| format!("serve_axon {addr}"))?;
        tracing::info!(%addr, "axon published");
    }

    let view = Arc::new(MetagraphView::with_table(
        miner::metagraph::PeerTable::from_metagraph(&metagraph),
    ));
    let source: Arc<dyn MetagraphSource> = Arc::new(ChainSource::new(chain, s.netuid));
    tokio::spawn(refresh_loop(
        source,
        view.clone(),
        s.refresh_blocks,
        Duration::from_secs(1),
    ));

    let verifier = Verifier::new(VerifierConfig::new(s.auth, hotkey.ss58_address()));
    let policy = Policy {
        min_stake_rao: s.min_stake_rao,
        force_validator_permit: s.force_validator_permit,
    };
    let state = Arc::new(MinerState::new(
        hotkey.public_key(),
        verifier,
        view,
        policy,
        models.clone(),
        s.workers,
        hooks,
    ));
    if s.precompile {
        let m = models.clone();
        tokio::task::spawn_blocking(move || m.compile_all());
    }
    tracing::info!(
        %addr, uid, netuid = s.netuid, auth = %s.auth, workers = s.workers,
        "miner serving"
    );
    miner::server::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
    .context("server failed")?;
    Ok(())
}
