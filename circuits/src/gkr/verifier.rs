//! GKR verifier. It recomputes every claim from the transcript and the
//! statement: the output claim from the public outputs (and zeros for the
//! assertions), each layer's wiring predicates from the circuit, and the
//! final input-layer evaluation from the public inputs and raw hints. No
//! value claimed by the prover is used without being checked.

use rayon::prelude::*;

use super::{absorb_statement, Statement, DOMAIN};
use crate::circuit::{Circuit, Layer};
use crate::error::VerifyError;
use crate::field::PrimeCharacteristicRing;
use crate::field::EF;
use crate::logup;
use crate::mle::{dot_base, eq_table, eq_table_scaled};
use crate::proof::{LayerProof, Proof};
use crate::sumcheck::verify_rounds;
use crate::transcript::Transcript;

/// Verifies `proof` for `circuit` against `statement`.
pub fn verify(
    circuit: &Circuit,
    statement: &Statement<'_>,
    proof: &Proof,
) -> Result<(), VerifyError> {
    if statement.public_inputs.len() != circuit.num_public_inputs() {
        return Err(VerifyError::PublicInputCount {
            expected: circuit.num_public_inputs(),
            got: statement.public_inputs.len(),
        });
    }
    if statement.public_outputs.len() != circuit.num_public_outputs() {
        return Err(VerifyError::PublicOutputCount {
            expected: circuit.num_public_outputs(),
            got: statement.public_outputs.len(),
        });
    }
    let shape = |what: String| Err(VerifyError::Shape(what));
    if proof.hints.len() != circuit.num_hints() {
        return shape(format!(
            "{} hints, the circuit has {}",
            proof.hints.len(),
            circuit.num_hints()
        ));
    }
    if proof.layers.len() != circuit.layers().len() {
        return shape(format!(
            "{} layer proofs, the circuit has {} layers",
            proof.layers.len(),
            circuit.layers().len()
        ));
    }
    if proof.lookups.len() != circuit.lookups().len() {
        return shape(format!(
            "{} lookup proofs, the circuit has {} lookups",
            proof.lookups.len(),
            circuit.lookups().len()
        ));
    }

    let mut t = Transcript::new(DOMAIN);
    absorb_statement(&mut t, &circuit.digest(), statement);
    t.absorb_fs(b"hints", &proof.hints);
    for lp in &proof.lookups {
        logup::absorb_multiplicities(&mut t, &lp.multiplicities);
    }

    // Everything past the public outputs must be zero, so the output
    // layer's multilinear extension is fully known to the verifier.
    let rz = t.challenge_efs(b"output-point", circuit.output_log_size() as usize);
    let mut eqc = eq_table(&rz);
    let mut claim = dot_base(statement.public_outputs, &eqc);
    let num_layers = circuit.layers().len();
    for (k, lp) in proof.layers.iter().enumerate() {
        let i = num_layers - 1 - k;
        let layer = &circuit.layers()[i];
        let n_in = circuit.layer_input_log_size(i) as usize;
        (eqc, claim) = verify_layer(i, layer, n_in, &eqc, claim, lp, &mut t)?;
    }
    let input = circuit
        .input_layer(statement.public_inputs, &proof.hints)
        .map_err(|e| VerifyError::Shape(e.to_string()))?;
    if dot_base(&input, &eqc) != claim {
        return Err(VerifyError::InputCheck);
    }

    for (i, (lk, lp)) in circuit.lookups().iter().zip(&proof.lookups).enumerate() {
        logup::verify(i, lk, &proof.hints, lp, &mut t)?;
    }
    Ok(())
}

/// `sum_g eqc[out_g] * f(g)` over a gate list sorted by output.
///
/// Gates that share an output are summed first and multiplied by `eqc` once,
/// which saves one extension multiplication per gate wherever fan-in exceeds
/// one (every Gemm and Conv output). Chunks may split a run of equal outputs;
/// each part then contributes its own partial sum, which is still exact.
fn gate_sum<G: Sync>(
    gates: &[G],
    eqc: &[EF],
    out: impl Fn(&G) -> u32 + Sync + Send,
    f: impl Fn(&G) -> EF + Sync + Send,
) -> EF {
    gates
        .par_chunks(1 << 12)
        .map(|chunk| {
            let mut total = EF::ZERO;
            let mut current = out(&chunk[0]);
            let mut acc = EF::ZERO;
            for g in chunk {
                let o = out(g);
                if o != current {
                    total += eqc[current as usize] * acc;
                    acc = EF::ZERO;
                    current = o;
                }
                acc += f(g);
            }
            total + eqc[current as usize] * acc
        })
        .sum()
}

fn verify_layer(
    i: usize,
    layer: &Layer,
    n_in: usize,
    eqc: &[EF],
    claim: EF,
    lp: &LayerProof,
    t: &mut Transcript,
) -> Result<(Vec<EF>, EF), VerifyError> {
    if lp.phase1.len() != n_in {
        return Err(VerifyError::Shape(format!(
            "layer {i}: {} phase-1 rounds, expected {n_in}",
            lp.phase1.len()
        )));
    }
    if lp.phase2.is_some() == layer.mul.is_empty() {
        return Err(VerifyError::Shape(format!(
            "layer {i}: phase 2 must be present exactly when the layer has mul gates"
        )));
    }
    let consts = gate_sum(&layer.consts, eqc, |g| g.out, |g| EF::from(g.coef));
    let (rx, e1) = verify_rounds(&lp.phase1, claim - consts, t);
    let vx = lp.vx;
    t.absorb_efs(b"vx", &[vx]);
    let eqrx = eq_table(&rx);
    let add = gate_sum(&layer.add, eqc, |g| g.out, |g| eqrx[g.x as usize] * g.coef);
    let Some(p2) = &lp.phase2 else {
        if e1 != vx * add {
            return Err(VerifyError::LayerCheck { layer: i });
        }
        return Ok((eqrx, vx));
    };
    if p2.rounds.len() != n_in {
        return Err(VerifyError::Shape(format!(
            "layer {i}: {} phase-2 rounds, expected {n_in}",
            p2.rounds.len()
        )));
    }
    let (ry, e2) = verify_rounds(&p2.rounds, e1 - vx * add, t);
    let vy = p2.vy;
    t.absorb_efs(b"vy", &[vy]);
    // beta is drawn after vy, so the table for r_y can be built pre-scaled:
    // the mul check is multiplied through by beta and the next layer's
    // weights become a plain sum.
    let beta = t.challenge_ef(b"combine");
    let eqry = eq_table_scaled(&ry, beta);
    let mul = gate_sum(
        &layer.mul,
        eqc,
        |g| g.out,
        |g| eqrx[g.x as usize] * eqry[g.y as usize] * g.coef,
    );
    if beta * e2 != vx * mul * vy {
        return Err(VerifyError::LayerCheck { layer: i });
    }
    let mut next = eqrx;
    next.par_iter_mut()
        .zip(eqry.par_iter())
        .with_min_len(1 << 12)
        .for_each(|(a, &b)| *a += b);
    Ok((next, vx + beta * vy))
}
