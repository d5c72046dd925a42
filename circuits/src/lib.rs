//! # circuits: the proving core
//!
//! A GKR prover and verifier in the style of Polyhedra's Expander, over the
//! Goldilocks field with every challenge in its quadratic extension.
//!
//! * [`field`] — base and extension field, canonical encodings.
//! * [`transcript`] — Fiat-Shamir over Blake3; the statement goes in first.
//! * [`mle`] — multilinear extensions and eq-tables.
//! * [`sumcheck`] — round-message interpolation and the product sumcheck.
//! * [`circuit`] — layered add/mul/const circuits and the builder the ONNX
//!   compiler targets.
//! * [`gkr`] — the two-phase (Libra) GKR prover and verifier.
//! * [`logup`] — range checks and table lookups via LogUp-GKR.
//! * [`proof`] — proof objects and their size-limited SCALE encoding.
//!
//! ```
//! use circuits::circuit::builder::CircuitBuilder;
//! use circuits::field::{F, PrimeCharacteristicRing};
//! use circuits::gkr::{prove, verify, Statement};
//!
//! // Prove knowledge of a, b in [0, 256) with a * b = public output.
//! let mut b = CircuitBuilder::new();
//! let a = b.hint();
//! let c = b.hint();
//! let prod = b.mul(a, c);
//! b.output(prod);
//! b.range_check(&[a, c], 8);
//! let circuit = b.build().unwrap();
//!
//! let (proof, outputs) = prove(&circuit, &[], &[F::from_u8(12), F::from_u8(34)], b"nonce").unwrap();
//! assert_eq!(outputs, vec![F::from_u16(408)]);
//! let st = Statement { public_inputs: &[], public_outputs: &outputs, context: b"nonce" };
//! verify(&circuit, &st, &proof).unwrap();
//! ```

pub mod circuit;
mod codec;
pub mod compile;
pub mod error;
pub mod field;
pub mod gkr;
pub mod logup;
pub mod mle;
pub mod model;
pub mod proof;
pub mod registry;
pub mod sumcheck;
pub mod transcript;
pub mod util;
pub mod zkml;

pub use circuit::Circuit;
pub use error::{CircuitError, DecodeError, ProveError, VerifyError};
pub use gkr::{prove, verify, Statement};
pub use proof::Proof;
