//! Client for subtensor (and our local dev chain), shared by the miner, the
//! validator and `subnet-cli`.
//!
//! It uses subxt's *dynamic* API — calls and storage are addressed by name
//! and checked against the metadata the node serves — so no generated code
//! pins it to one runtime version: the same binary talks to a real subtensor
//! node and to the local chain.

pub mod client;
pub mod config;
pub mod error;
pub mod metagraph;
pub mod network;
pub mod signer;
pub mod weights;

pub use client::{ChainClient, TxOutcome, WeightCommit};
pub use config::SubtensorConfig;
pub use error::ChainError;
pub use metagraph::{AxonInfo, Metagraph, Neuron};
pub use network::resolve_endpoint;
pub use weights::{commit_hash, normalize_max_u16};

/// 1 TAO in rao, the chain's balance unit.
pub const RAO_PER_TAO: u64 = 1_000_000_000;
