//! # miner: proves validators' challenges for the zkML subnet
//!
//! The binary (`src/main.rs`) registers a hotkey and runs the axon; this
//! library holds everything the axon is made of, so integration tests can
//! start the real server on a loopback address with an in-memory metagraph:
//!
//! * [`config`] — btcli-style settings from the command line and a TOML file;
//! * [`metagraph`] — who may call us: a periodically refreshed view of the
//!   subnet, behind a [`metagraph::MetagraphSource`] trait (chain or fixed);
//! * [`models`] — the hash-verified registry and the compiled-model cache;
//! * [`metrics`] — Prometheus counters and the `/status` numbers;
//! * [`server`] — the axum routes: signed `POST /Challenge`, `/metrics`,
//!   `/status`.

pub mod config;
pub mod metagraph;
pub mod metrics;
pub mod models;
pub mod server;

pub use server::{router, MinerState, Policy, TestHooks};
