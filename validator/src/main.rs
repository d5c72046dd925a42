//! `validator`: the subnet validator binary (btcli-style flags over a TOML
//! config file; see `validator/validator.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use validator::challenge::Models;
use validator::metrics::Metrics;
use validator::{Config, Store, Validator};
use wallet::{PasswordSource, Wallet};

/// Challenges the subnet's miners with registry models, verifies their
/// proofs, scores them and sets weights. Settings come from --config (TOML);
/// each flag below overrides the file.
#[derive(Parser, Debug)]
#[command(name = "validator", version)]
struct Cli {
    /// TOML config file; every key is documented in validator/validator.toml.
    /// Without it, built-in defaults apply.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Subnet to validate (config: netuid).
    #[arg(long)]
    netuid: Option<u16>,
    /// Wallet (coldkey) name whose hotkey signs requests and weights
    /// (config: wallet.name).
    #[arg(long = "wallet.name")]
    wallet_name: Option<String>,
    /// Hotkey name inside the wallet (config: wallet.hotkey).
    #[arg(long = "wallet.hotkey")]
    wallet_hotkey: Option<String>,
    /// Wallets directory (config: wallet.path; default $BT_WALLET_PATH or
    /// ~/.bittensor/wallets).
    #[arg(long = "wallet.path")]
    wallet_path: Option<PathBuf>,
    /// local, finney, test, archive, or a ws:// URL (config: subtensor.network).
    #[arg(long = "subtensor.network")]
    network: Option<String>,
    /// Explicit node endpoint, wins over --subtensor.network
    /// (config: subtensor.chain_endpoint).
    #[arg(long = "subtensor.chain_endpoint")]
    chain_endpoint: Option<String>,
    /// Model registry directory holding registry.toml (config: registry).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// SQLite database of scores, requests and weights; created if missing
    /// (config: db).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Serve Prometheus metrics on this address, e.g. 127.0.0.1:9108
    /// (config: metrics_addr).
    #[arg(long = "metrics.addr")]
    metrics_addr: Option<SocketAddr>,
}

impl Cli {
    fn config(&self) -> Result<Config> {
        let mut cfg = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if let Some(v) = self.netuid {
            cfg.netuid = v;
        }
        if let Some(v) = &self.wallet_name {
            cfg.wallet.name = v.clone();
        }
        if let Some(v) = &self.wallet_hotkey {
            cfg.wallet.hotkey = v.clone();
        }
        if let Some(v) = &self.wallet_path {
            cfg.wallet.path = Some(v.clone());
        }
        if let Some(v) = &self.network {
            cfg.subtensor.network = v.clone();
        }
        if let Some(v) = &self.chain_endpoint {
            cfg.subtensor.chain_endpoint = Some(v.clone());
        }
        if let Some(v) = &self.registry {
            cfg.registry = v.clone();
        }
        if let Some(v) = &self.db {
            cfg.db = v.clone();
        }
        if let Some(v) = self.metrics_addr {
            cfg.metrics_addr = Some(v);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let cfg = cli.config()?;

    let wallet = Wallet::new(
        cfg.wallet.path.as_deref(),
        &cfg.wallet.name,
        &cfg.wallet.hotkey,
    )?;
    let signer = wallet
        .hotkey_pair(&PasswordSource::EnvOrPrompt(
            PasswordSource::coldkey_env_var(&cfg.wallet.name),
        ))
        .with_context(|| format!("loading hotkey {}/{}", cfg.wallet.name, cfg.wallet.hotkey))?;

    let store =
        Arc::new(Store::open(&cfg.db).with_context(|| format!("opening {}", cfg.db.display()))?);
    let registry = cfg.registry.clone();
    let filter = cfg.challenge.models.clone();
    let models = tokio::task::spawn_blocking(move || Models::load(&registry, &filter))
        .await
        .context("model compiler task")??;
    let metrics = Metrics::new();
    if let Some(addr) = cfg.metrics_addr {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding the metrics address {addr}"))?;
        let m = Arc::clone(&metrics);
        tokio::spawn(async move {
            if let Err(e) = validator::metrics::serve(listener, m).await {
                tracing::error!(error = %e, "metrics server stopped");
            }
        });
    }
    let v = Validator::start(cfg, signer, store, metrics, models).await?;
    v.run(shutdown_signal()).await;
    Ok(())
}
