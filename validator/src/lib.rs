//! # validator: the subnet's judge
//!
//! Challenges miners with fresh inputs to registry models, verifies every
//! returned proof against its own challenge, scores miners on validity,
//! latency, memory and proof size, and sets weights on chain.
//!
//! * [`config`] — the TOML settings (every scoring constant) and their checks.
//! * [`challenge`] — one signed request and its verdict.
//! * [`scoring`] — the reward formula and the asymmetric EMA.
//! * [`weights`] — scores to u16 weights, rate limits, commit-reveal timing.
//! * [`store`] — the SQLite database and its read API for dashboards.
//! * [`metrics`] — Prometheus counters on `/metrics`.
//! * [`dashboard_view`] — the web dashboard's data, read from the store.
//! * [`service`] — the chain and challenge tasks tying it together.

pub mod challenge;
pub mod config;
pub mod dashboard_view;
pub mod metrics;
pub mod scoring;
pub mod service;
pub mod store;
pub mod weights;

pub use config::Config;
pub use service::Validator;
pub use store::Store;

/// Why the validator cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum ValidatorError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("model registry: {0}")]
    Registry(#[from] circuits::registry::RegistryError),
    #[error("model {name} cannot be compiled: {reason}")]
    Model { name: String, reason: String },
    #[error("no model to challenge with (all filtered out, failed to compile or weighted 0)")]
    NoModels,
    #[error("chain: {0}")]
    Chain(#[from] chain_client::ChainError),
    #[error("{0}")]
    Endpoint(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("wallet: {0}")]
    Wallet(#[from] wallet::WalletError),
    #[error("hotkey {hotkey} is not registered on subnet {netuid}; register it first (subnet-cli subnet register)")]
    NotRegistered { hotkey: String, netuid: u16 },
    #[error("dashboard: {0}")]
    Dashboard(#[from] dashboard::DashboardError),
    #[error("HTTP client: {0}")]
    Http(String),
}
