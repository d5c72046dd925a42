//! GKR prover: evaluates the circuit, then proves it layer by layer from the
//! output down, and finally proves each lookup.

use rayon::prelude::*;

use super::{absorb_statement, Statement, DOMAIN};
use crate::circuit::{Circuit, Layer};
use crate::error::ProveError;
use crate::field::{PrimeCharacteristicRing, PrimeField64, EF, F};
use crate::logup;
use crate::mle::{eq_table, eq_table_scaled_into, PAR_THRESHOLD};
use crate::proof::{LayerProof, Phase2Proof, Proof};
use crate::sumcheck::prove_product;
use crate::transcript::Transcript;

/// Proves that `circuit` on `public_inputs` and `hints` satisfies all its
/// assertions and lookups. Returns the proof and the public outputs.
///
/// Refuses (with an error naming the culprit) when an asserted wire is not
/// zero or a looked-up hint is not in its table: an honest prover never
/// emits a proof that cannot verify.
pub fn prove(
    circuit: &Circuit,
    public_inputs: &[F],
    hints: &[F],
    context: &[u8],
) -> Result<(Proof, Vec<F>), ProveError> {
    prove_impl(circuit, public_inputs, hints, context, true, &mut |_, _| {})
}

/// [`prove`], calling `progress(done, total)` after each layer and lookup
/// (e.g. to drive a progress bar on multi-second proofs).
pub fn prove_with_progress(
    circuit: &Circuit,
    public_inputs: &[F],
    hints: &[F],
    context: &[u8],
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Proof, Vec<F>), ProveError> {
    prove_impl(circuit, public_inputs, hints, context, true, progress)
}

/// Like [`prove`] but skips the witness checks, producing a proof of a false
/// statement when the witness is wrong. It exists so that soundness tests can
/// show that such proofs are rejected by the verifier.
#[doc(hidden)]
pub fn prove_unchecked(
    circuit: &Circuit,
    public_inputs: &[F],
    hints: &[F],
    context: &[u8],
) -> Result<(Proof, Vec<F>), ProveError> {
    prove_impl(
        circuit,
        public_inputs,
        hints,
        context,
        false,
        &mut |_, _| {},
    )
}

fn prove_impl(
    circuit: &Circuit,
    public_inputs: &[F],
    hints: &[F],
    context: &[u8],
    checked: bool,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(Proof, Vec<F>), ProveError> {
    let started = std::time::Instant::now();
    let mut values = circuit.evaluate(public_inputs, hints)?;
    let evaluated = started.elapsed();
    let outputs = values.pop().expect("circuits have at least one layer");
    let num_public = circuit.num_public_outputs();
    if checked {
        if let Some((index, v)) = outputs[num_public..]
            .iter()
            .enumerate()
            .find(|(_, v)| **v != F::ZERO)
        {
            return Err(ProveError::AssertionFailed {
                index,
                value: v.as_canonical_u64(),
            });
        }
    }
    let public_outputs = outputs[..num_public].to_vec();
    drop(outputs);

    let multiplicities = circuit
        .lookups()
        .iter()
        .enumerate()
        .map(|(i, lk)| logup::multiplicities(i, lk, hints, checked))
        .collect::<Result<Vec<_>, _>>()?;
    let counted = started.elapsed();

    let mut t = Transcript::new(DOMAIN);
    let st = Statement {
        public_inputs,
        public_outputs: &public_outputs,
        context,
    };
    absorb_statement(&mut t, &circuit.digest(), &st);
    t.absorb_fs(b"hints", hints);
    for m in &multiplicities {
        logup::absorb_multiplicities(&mut t, m);
    }

    let rz = t.challenge_efs(b"output-point", circuit.output_log_size() as usize);
    let mut eqc = eq_table(&rz);
    let mut bufs = Buffers::default();
    let mut layers = Vec::with_capacity(circuit.layers().len());
    let total_steps = circuit.layers().len() + circuit.lookups().len();
    for layer in circuit.layers().iter().rev() {
        // `values` now ends with this layer's input; its output was popped.
        let input = values.pop().expect("one value vector per layer");
        layers.push(prove_layer(layer, &input, &mut eqc, &mut bufs, &mut t));
        progress(layers.len(), total_steps);
    }
    drop((eqc, bufs));
    let layered = started.elapsed();

    let lookups = circuit
        .lookups()
        .iter()
        .zip(multiplicities)
        .enumerate()
        .map(|(i, (lk, m))| {
            let proof = logup::prove(lk, hints, m, &mut t);
            progress(circuit.layers().len() + i + 1, total_steps);
            proof
        })
        .collect();
    // Where a proof's time goes, for anyone tuning a model or the prover.
    tracing::debug!(
        evaluate_s = evaluated.as_secs_f64(),
        multiplicities_s = (counted - evaluated).as_secs_f64(),
        layers_s = (layered - counted).as_secs_f64(),
        lookups_s = (started.elapsed() - layered).as_secs_f64(),
        gates = circuit.num_gates(),
        "proved"
    );

    Ok((
        Proof {
            hints: hints.to_vec(),
            layers,
            lookups,
        },
        public_outputs,
    ))
}

/// Buffers reused across layers. Layers are proved one after another and
/// have similar sizes, so recycling a handful of tables removes the page
/// faults and TLB shootdowns of allocating fresh ones per layer (about 10%
/// of prover CPU at 2^22 gates).
#[derive(Default)]
struct Buffers {
    /// `h` in phase 1, then `g` in phase 2.
    work: Vec<EF>,
    /// The lifted layer values inside the product sumcheck.
    scratch: Vec<EF>,
    /// Receives `eq(r_x, .)`, which becomes the next layer's weights.
    spare: Vec<EF>,
    /// Receives `beta * eq(r_y, .)`.
    spare2: Vec<EF>,
}

/// Proves one layer given the combined output weights `eqc` (the random
/// combination of eq-tables of the pending claims), and replaces `eqc` with
/// the combined weights for the layer below.
fn prove_layer(
    layer: &Layer,
    input: &[F],
    eqc: &mut Vec<EF>,
    bufs: &mut Buffers,
    t: &mut Transcript,
) -> LayerProof {
    // Phase 1: h(x) = sum_y A(x, y) V(y) + B(x).
    let weights: &[EF] = eqc;
    bufs.work.clear();
    bufs.work.resize(input.len(), EF::ZERO);
    scatter(
        &layer.mul,
        &mut bufs.work,
        |g| g.x as usize,
        |g| weights[g.out as usize] * (g.coef * input[g.y as usize]),
    );
    scatter(
        &layer.add,
        &mut bufs.work,
        |g| g.x as usize,
        |g| weights[g.out as usize] * g.coef,
    );
    let p1 = prove_product(input, &mut bufs.work, EF::ONE, &mut bufs.scratch, t);
    let vx = p1.a_eval;
    t.absorb_efs(b"vx", &[vx]);
    let mut eqrx = std::mem::take(&mut bufs.spare);
    eq_table_scaled_into(&p1.point, EF::ONE, &mut eqrx);
    if layer.mul.is_empty() {
        bufs.spare = std::mem::replace(eqc, eqrx);
        return LayerProof {
            phase1: p1.rounds,
            vx,
            phase2: None,
        };
    }

    // Phase 2 proves sum_y V(r_x) A(r_x, y) V(y); `work` holds A(r_x, .)
    // and the factor V(r_x) is applied to the round messages instead.
    bufs.work.clear();
    bufs.work.resize(input.len(), EF::ZERO);
    scatter(
        &layer.mul,
        &mut bufs.work,
        |m| m.y as usize,
        |m| weights[m.out as usize] * eqrx[m.x as usize] * m.coef,
    );
    let p2 = prove_product(input, &mut bufs.work, vx, &mut bufs.scratch, t);
    let vy = p2.a_eval;
    t.absorb_efs(b"vy", &[vy]);
    let beta = t.challenge_ef(b"combine");
    eq_table_scaled_into(&p2.point, beta, &mut bufs.spare2);
    eqrx.par_iter_mut()
        .zip(bufs.spare2.par_iter())
        .with_min_len(1 << 12)
        .for_each(|(a, &b)| *a += b);
    bufs.spare = std::mem::replace(eqc, eqrx);
    LayerProof {
        phase1: p1.rounds,
        vx,
        phase2: Some(Phase2Proof {
            rounds: p2.rounds,
            vy,
        }),
    }
}

/// Accumulates `val(g)` into `out[key(g)]` for every gate, using both cores.
///
/// Each task sums into a private buffer that spans only the keys its chunk of
/// gates touches (a small window under local wiring, the whole layer under
/// random wiring); the buffers are then added into `out` block by block, so
/// no two threads ever write the same slot.
fn scatter<G: Sync>(
    gates: &[G],
    out: &mut [EF],
    key: impl Fn(&G) -> usize + Sync,
    val: impl Fn(&G) -> EF + Sync,
) {
    if gates.len() < PAR_THRESHOLD {
        for g in gates {
            out[key(g)] += val(g);
        }
        return;
    }
    let tasks = rayon::current_num_threads().max(1);
    let chunk = gates.len().div_ceil(tasks);
    let parts: Vec<(usize, Vec<EF>)> = gates
        .par_chunks(chunk)
        .map(|c| {
            let (lo, hi) = c.iter().fold((usize::MAX, 0), |(lo, hi), g| {
                let k = key(g);
                (lo.min(k), hi.max(k))
            });
            let mut buf = EF::zero_vec(hi - lo + 1);
            for g in c {
                buf[key(g) - lo] += val(g);
            }
            (lo, buf)
        })
        .collect();
    const BLOCK: usize = 1 << 14;
    out.par_chunks_mut(BLOCK)
        .enumerate()
        .for_each(|(bi, block)| {
            let b_lo = bi * BLOCK;
            let b_hi = b_lo + block.len();
            for (p_lo, buf) in &parts {
                let start = b_lo.max(*p_lo);
                let end = b_hi.min(p_lo + buf.len());
                for k in start..end {
                    block[k - b_lo] += buf[k - p_lo];
                }
            }
        });
}
