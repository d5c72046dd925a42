//! `validator`: the subnet validator binary (btcli-style flags over a TOML
//! config file; see `validator/validator.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use validator::challenge::Models;
use validator::dashboard_view::DashboardView;
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
    /// Serve the web dashboard on this address, default 127.0.0.1:9180
    /// (config: dashboard.addr). A non-loopback address needs a token
    /// ($VALIDATOR_DASHBOARD_TOKEN or dashboard.token_file).
    #[arg(long = "dashboard.addr")]
    dashboard_addr: Option<SocketAddr>,
    /// Do not serve the dashboard (config: dashboard.enabled = false).
    #[arg(long = "dashboard.off")]
    dashboard_off: bool,
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
        if let Some(v) = self.dashboard_addr {
            cfg.dashboard.addr = v;
        }
        if self.dashboard_off {
            cfg.dashboard.enabled = false;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// The dashboard token: the environment wins over the file, so an operator
/// can rotate it without editing files.
fn dashboard_token(
    cfg: &validator::config::DashboardConfig,
    env: Option<String>,
) -> Result<Option<dashboard::Token>> {
    let raw = match env {
        Some(t) if !t.is_empty() => Some((t, DASHBOARD_TOKEN_ENV.to_string())),
        _ => match &cfg.token_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading dashboard token file {}", path.display()))?;
                let line = text.lines().next().unwrap_or("").trim().to_string();
                Some((line, path.display().to_string()))
            }
            None => None,
        },
    };
    raw.map(|(t, from)| {
        dashboard::Token::new(t).with_context(|| format!("dashboard token from {from}"))
    })
    .transpose()
}

const DASHBOARD_TOKEN_ENV: &str = "VALIDATOR_DASHBOARD_TOKEN";

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
    // Bound before the chain connection so a taken port or a public address
    // without a token fails at start-up, not in a background task.
    let dashboard = if cfg.dashboard.enabled {
        let dcfg = dashboard::DashboardConfig {
            listen: cfg.dashboard.addr,
            token: dashboard_token(&cfg.dashboard, std::env::var(DASHBOARD_TOKEN_ENV).ok())?,
            allowed_hosts: cfg.dashboard.allowed_hosts.clone(),
            refresh: Duration::from_millis(cfg.dashboard.refresh_ms),
        };
        let listener = dashboard::bind(&dcfg).await?;
        Some((listener, dcfg))
    } else {
        None
    };
    let v = Validator::start(cfg, signer, Arc::clone(&store), metrics, models).await?;
    if let Some((listener, dcfg)) = dashboard {
        let view: Arc<dyn dashboard::DashboardSource> = Arc::new(DashboardView::new(store, &v));
        tokio::spawn(async move {
            if let Err(e) =
                dashboard::serve(listener, view, dcfg, std::future::pending::<()>()).await
            {
                tracing::error!(error = %e, "dashboard stopped");
            }
        });
    }
    v.run(shutdown_signal()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_flags_override_the_config() {
        let cli = Cli::try_parse_from(["validator", "--dashboard.addr", "127.0.0.9:9999"]).unwrap();
        let cfg = cli.config().unwrap();
        assert!(cfg.dashboard.enabled);
        assert_eq!(cfg.dashboard.addr, "127.0.0.9:9999".parse().unwrap());
        let cli = Cli::try_parse_from(["validator", "--dashboard.off"]).unwrap();
        assert!(!cli.config().unwrap().dashboard.enabled);
        assert!(Cli::try_parse_from(["validator", "--dashboard.addr", "nowhere"]).is_err());
    }

    #[test]
    fn dashboard_token_comes_from_the_environment_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        let mut cfg = validator::config::DashboardConfig::default();
        assert!(dashboard_token(&cfg, None).unwrap().is_none());
        assert!(dashboard_token(&cfg, Some(String::new()))
            .unwrap()
            .is_none());
        // The file's first line is the token.
        std::fs::write(&file, "file-token-0123456789\nignored line\n").unwrap();
        cfg.token_file = Some(file.clone());
        assert!(dashboard_token(&cfg, None).unwrap().is_some());
        // A bad file token is refused and the file named ...
        std::fs::write(&file, "has spaces, 26 characters\n").unwrap();
        let err = format!("{:#}", dashboard_token(&cfg, None).err().unwrap());
        assert!(err.contains(&file.display().to_string()), "{err}");
        // ... unless the environment's token, which wins, is good.
        assert!(dashboard_token(&cfg, Some("env-token-0123456789".into()))
            .unwrap()
            .is_some());
        let err = format!(
            "{:#}",
            dashboard_token(&cfg, Some("short".into())).err().unwrap()
        );
        assert!(err.contains(DASHBOARD_TOKEN_ENV), "{err}");
        cfg.token_file = Some(dir.path().join("missing"));
        let err = format!("{:#}", dashboard_token(&cfg, None).err().unwrap());
        assert!(err.contains("reading dashboard token file"), "{err}");
    }
}
