//! The scoring formula, as pure functions of measured numbers and the
//! [`ScoringConfig`] constants, so it can be tested exactly and documented in
//! one place (README, "Validator scoring").
//!
//! A response earns a reward in [0, 1] only when its proof verified; anything
//! else is a failure. The per-miner score is an exponential moving average
//! whose failure step is larger than any success step can be.

use crate::config::ScoringConfig;

/// What the validator measured and was told about one verified response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Send to last byte received, as the validator saw it.
    pub latency_ms: u64,
    /// The model's reference latency (see [`reference_latency_ms`]).
    pub reference_ms: f64,
    /// Peak memory the miner reported.
    pub reported_memory_bytes: u64,
    /// Lower bound on a prover's peak memory for the proved slices.
    pub min_memory_bytes: u64,
    /// Encoded size of all slice proofs in the response.
    pub proof_bytes: u64,
    /// Smallest verified proof seen for the same model and slices
    /// (this one included).
    pub best_proof_bytes: u64,
}

/// Why a verified response still cannot be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Implausible {
    #[error("reported peak memory {reported} B is below the circuit's lower bound {bound} B")]
    MemoryBelowBound { reported: u64, bound: u64 },
}

/// The latency a model is judged against: a fraction of its timeout.
pub fn reference_latency_ms(timeout_ms: u64, cfg: &ScoringConfig) -> f64 {
    (timeout_ms as f64 * cfg.latency_reference_fraction).max(1.0)
}

/// 1 at zero latency, 1/2 at the reference, towards 0 beyond.
pub fn latency_score(latency_ms: u64, reference_ms: f64) -> f64 {
    1.0 / (1.0 + latency_ms as f64 / reference_ms.max(1.0))
}

/// 1 up to `slack` times the lower bound, then falling as bound/claim.
/// A claim below the bound is a lie about the work and is refused.
pub fn memory_score(reported: u64, bound: u64, slack: f64) -> Result<f64, Implausible> {
    if reported < bound || reported == 0 {
        return Err(Implausible::MemoryBelowBound { reported, bound });
    }
    Ok((slack * bound as f64 / reported as f64).min(1.0))
}

/// 1 for the smallest proof seen, falling as best/size for bigger ones.
pub fn proof_size_score(proof_bytes: u64, best_bytes: u64) -> f64 {
    if proof_bytes == 0 {
        return 0.0;
    }
    (best_bytes.min(proof_bytes) as f64 / proof_bytes as f64).min(1.0)
}

/// The reward of one verified response, in [0, 1].
pub fn reward(m: &Measured, cfg: &ScoringConfig) -> Result<f64, Implausible> {
    let lat = latency_score(m.latency_ms, m.reference_ms);
    let mem = memory_score(
        m.reported_memory_bytes,
        m.min_memory_bytes,
        cfg.memory_slack,
    )?;
    let size = proof_size_score(m.proof_bytes, m.best_proof_bytes);
    let total = cfg.latency_weight + cfg.memory_weight + cfg.proof_size_weight;
    let r =
        (cfg.latency_weight * lat + cfg.memory_weight * mem + cfg.proof_size_weight * size) / total;
    Ok(r.clamp(0.0, 1.0))
}

/// The score after a verified response with reward `r`.
pub fn ema_success(score: f64, r: f64, cfg: &ScoringConfig) -> f64 {
    (score + cfg.success_alpha * (r.clamp(0.0, 1.0) - score)).clamp(0.0, 1.0)
}

/// The score after a failure: a larger step towards a negative target,
/// floored at 0.
pub fn ema_failure(score: f64, cfg: &ScoringConfig) -> f64 {
    (score + cfg.failure_alpha * (cfg.failure_target - score)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ScoringConfig {
        ScoringConfig::default()
    }

    fn measured(latency_ms: u64) -> Measured {
        Measured {
            latency_ms,
            reference_ms: 500.0,
            reported_memory_bytes: 4 << 20,
            min_memory_bytes: 1 << 20,
            proof_bytes: 10_000,
            best_proof_bytes: 10_000,
        }
    }

    #[test]
    fn latency_is_one_half_at_the_reference_and_decreasing() {
        assert_eq!(latency_score(0, 500.0), 1.0);
        assert_eq!(latency_score(500, 500.0), 0.5);
        assert!((latency_score(1500, 500.0) - 0.25).abs() < 1e-12);
        let mut prev = 2.0;
        for t in [0, 1, 10, 100, 1_000, 10_000, 100_000] {
            let s = latency_score(t, 500.0);
            assert!(s < prev && s > 0.0, "t={t}: {s}");
            prev = s;
        }
        assert_eq!(reference_latency_ms(10_000, &cfg()), 500.0);
    }

    #[test]
    fn memory_claims_below_the_bound_are_lies() {
        assert_eq!(
            memory_score(999, 1000, 4.0),
            Err(Implausible::MemoryBelowBound {
                reported: 999,
                bound: 1000
            })
        );
        assert!(memory_score(0, 0, 4.0).is_err());
        assert_eq!(memory_score(1000, 1000, 4.0), Ok(1.0));
        assert_eq!(memory_score(4000, 1000, 4.0), Ok(1.0));
        assert_eq!(memory_score(8000, 1000, 4.0), Ok(0.5));
    }

    #[test]
    fn proof_size_is_relative_to_the_best() {
        assert_eq!(proof_size_score(100, 100), 1.0);
        assert_eq!(proof_size_score(200, 100), 0.5);
        // A "best" above this one cannot push the score over 1.
        assert_eq!(proof_size_score(100, 300), 1.0);
        assert_eq!(proof_size_score(0, 100), 0.0);
    }

    #[test]
    fn reward_combines_the_terms_by_weight() {
        let c = cfg();
        // latency 0.5, memory 1, size 1 -> 0.6*0.5 + 0.2 + 0.2 = 0.7
        let r = reward(&measured(500), &c).unwrap();
        assert!((r - 0.7).abs() < 1e-12, "{r}");
        // Faster is better, all else equal.
        assert!(reward(&measured(50), &c).unwrap() > r);
        assert!(reward(&measured(5_000), &c).unwrap() < r);
        let mut lying = measured(50);
        lying.reported_memory_bytes = lying.min_memory_bytes - 1;
        assert!(reward(&lying, &c).is_err());
        // Weights need not sum to 1.
        let c2 = ScoringConfig {
            latency_weight: 3.0,
            memory_weight: 1.0,
            proof_size_weight: 1.0,
            ..cfg()
        };
        let r2 = reward(&measured(500), &c2).unwrap();
        assert!((r2 - (3.0 * 0.5 + 1.0 + 1.0) / 5.0).abs() < 1e-12);
    }

    #[test]
    fn a_failure_costs_more_than_a_success_earns() {
        let c = cfg();
        for i in 0..=100 {
            let s = f64::from(i) / 100.0;
            let gain = ema_success(s, 1.0, &c) - s;
            let loss = s - ema_failure(s, &c);
            // Either the loss beats the best possible gain, or the floor took
            // everything the miner had.
            assert!(
                loss > gain || ema_failure(s, &c) == 0.0,
                "s={s}: loss {loss} <= gain {gain}"
            );
            assert!((0.0..=1.0).contains(&ema_success(s, 1.0, &c)));
            assert!((0.0..=1.0).contains(&ema_failure(s, &c)));
        }
        // One failure undoes more than one perfect success from a mid score.
        let s = 0.5;
        assert!(ema_failure(ema_success(s, 1.0, &c), &c) < s);
    }

    #[test]
    fn ema_converges_to_the_reward_and_to_zero() {
        let c = cfg();
        let mut s = 0.0;
        for _ in 0..200 {
            s = ema_success(s, 0.8, &c);
        }
        assert!((s - 0.8).abs() < 1e-6, "{s}");
        for _ in 0..20 {
            s = ema_failure(s, &c);
        }
        assert_eq!(s, 0.0);
    }
}
