//! Index arithmetic shared by the quantized evaluator and the compiler.
//!
//! Which input cells feed which output cell of a convolution, a pooling
//! window or a broadcast is the same question for both; answering it once
//! keeps them in lock-step. (The float evaluator answers it independently,
//! which is what the accuracy tests lean on.)

use crate::model::ir::{Conv2d, Pool2d};
use crate::model::ModelError;

fn dims4(shape: &[usize], node: &str, what: &str) -> Result<[usize; 4], ModelError> {
    <[usize; 4]>::try_from(shape).map_err(|_| ModelError::Invalid {
        node: node.into(),
        reason: format!("{what} must be NCHW (rank 4), has shape {shape:?}"),
    })
}

/// Convolution taps: for an output cell, the `(input index, weight index)`
/// pairs it sums.
pub struct ConvGeom {
    inp: [usize; 4],
    out: [usize; 4],
    kernel: [usize; 2],
    strides: [usize; 2],
    pads: [usize; 2],
    dilations: [usize; 2],
    in_per_group: usize,
    out_per_group: usize,
}

impl ConvGeom {
    pub fn new(inp: &[usize], out: &[usize], c: &Conv2d, node: &str) -> Result<Self, ModelError> {
        let inp = dims4(inp, node, "Conv input")?;
        let out = dims4(out, node, "Conv output")?;
        let w = dims4(&c.weight.shape, node, "Conv weight")?;
        let bad = |reason: String| ModelError::Invalid {
            node: node.into(),
            reason,
        };
        if c.groups == 0 || inp[1] % c.groups != 0 || out[1] % c.groups != 0 {
            return Err(bad(format!(
                "groups {} do not divide channels {} -> {}",
                c.groups, inp[1], out[1]
            )));
        }
        if w[0] != out[1] || w[1] * c.groups != inp[1] || inp[0] != out[0] {
            return Err(bad(format!(
                "weight {:?} does not fit input {inp:?} and output {out:?}",
                c.weight.shape
            )));
        }
        if c.strides.contains(&0) || c.dilations.contains(&0) {
            return Err(bad("zero stride or dilation".into()));
        }
        for a in 0..2 {
            let span = c.dilations[a] * (w[2 + a] - 1) + 1;
            let padded = inp[2 + a] + c.pads[a] + c.pads[a + 2];
            let expect = if padded >= span {
                (padded - span) / c.strides[a] + 1
            } else {
                0
            };
            if expect != out[2 + a] {
                return Err(bad(format!(
                    "output spatial size {} does not match the geometry ({expect})",
                    out[2 + a]
                )));
            }
        }
        if let Some(b) = &c.bias {
            if b.len() != out[1] {
                return Err(bad(format!(
                    "bias has {} values for {} channels",
                    b.len(),
                    out[1]
                )));
            }
        }
        Ok(Self {
            inp,
            out,
            kernel: [w[2], w[3]],
            strides: c.strides,
            pads: [c.pads[0], c.pads[1]],
            dilations: c.dilations,
            in_per_group: w[1],
            out_per_group: out[1] / c.groups,
        })
    }

    pub fn out_len(&self) -> usize {
        self.out.iter().product()
    }

    /// Output channel of output cell `o`.
    pub fn out_channel(&self, o: usize) -> usize {
        (o / (self.out[2] * self.out[3])) % self.out[1]
    }

    /// Fills `buf` with the taps of output cell `o`.
    pub fn taps(&self, o: usize, buf: &mut Vec<(usize, usize)>) {
        buf.clear();
        let [_, oc_n, oh_n, ow_n] = self.out;
        let ow = o % ow_n;
        let oh = (o / ow_n) % oh_n;
        let oc = (o / (ow_n * oh_n)) % oc_n;
        let n = o / (ow_n * oh_n * oc_n);
        let g = oc / self.out_per_group;
        let [_, ic_n, ih_n, iw_n] = self.inp;
        let [kh_n, kw_n] = self.kernel;
        for icl in 0..self.in_per_group {
            let ic = g * self.in_per_group + icl;
            for kh in 0..kh_n {
                let ih = (oh * self.strides[0] + kh * self.dilations[0]) as isize
                    - self.pads[0] as isize;
                if ih < 0 || ih as usize >= ih_n {
                    continue;
                }
                for kw in 0..kw_n {
                    let iw = (ow * self.strides[1] + kw * self.dilations[1]) as isize
                        - self.pads[1] as isize;
                    if iw < 0 || iw as usize >= iw_n {
                        continue;
                    }
                    let x = ((n * ic_n + ic) * ih_n + ih as usize) * iw_n + iw as usize;
                    let w = ((oc * self.in_per_group + icl) * kh_n + kh) * kw_n + kw;
                    buf.push((x, w));
                }
            }
        }
    }
}

/// Pooling windows: for an output cell, the input cells it covers and the
/// divisor an average uses.
pub struct PoolGeom {
    inp: [usize; 4],
    out: [usize; 4],
    p: Pool2d,
}

impl PoolGeom {
    pub fn new(inp: &[usize], out: &[usize], p: &Pool2d, node: &str) -> Result<Self, ModelError> {
        let inp = dims4(inp, node, "pool input")?;
        let out = dims4(out, node, "pool output")?;
        let bad = |reason: String| ModelError::Invalid {
            node: node.into(),
            reason,
        };
        if p.kernel.contains(&0) || p.strides.contains(&0) {
            return Err(bad("zero kernel or stride".into()));
        }
        if inp[0] != out[0] || inp[1] != out[1] {
            return Err(bad(format!("input {inp:?} and output {out:?} disagree")));
        }
        for a in 0..2 {
            let padded = inp[2 + a] + p.pads[a] + p.pads[a + 2];
            let expect = if padded >= p.kernel[a] {
                (padded - p.kernel[a]) / p.strides[a] + 1
            } else {
                0
            };
            if expect != out[2 + a] {
                return Err(bad(format!(
                    "output spatial size {} does not match the geometry ({expect})",
                    out[2 + a]
                )));
            }
        }
        Ok(Self {
            inp,
            out,
            p: p.clone(),
        })
    }

    /// A global pool over the whole spatial extent.
    pub fn global(inp: &[usize], node: &str) -> Result<Self, ModelError> {
        let i = dims4(inp, node, "GlobalAveragePool input")?;
        Ok(Self {
            inp: i,
            out: [i[0], i[1], 1, 1],
            p: Pool2d {
                kernel: [i[2], i[3]],
                strides: [1, 1],
                pads: [0; 4],
                count_include_pad: false,
            },
        })
    }

    pub fn out_len(&self) -> usize {
        self.out.iter().product()
    }

    /// Fills `buf` with the input cells of output cell `o`; returns the
    /// divisor of an average over them.
    pub fn cells(&self, o: usize, buf: &mut Vec<usize>) -> usize {
        buf.clear();
        let [_, c_n, oh_n, ow_n] = self.out;
        let ow = o % ow_n;
        let oh = (o / ow_n) % oh_n;
        let c = (o / (ow_n * oh_n)) % c_n;
        let n = o / (ow_n * oh_n * c_n);
        let [_, _, ih_n, iw_n] = self.inp;
        let base = (n * c_n + c) * ih_n * iw_n;
        for kh in 0..self.p.kernel[0] {
            let ih = (oh * self.p.strides[0] + kh) as isize - self.p.pads[0] as isize;
            if ih < 0 || ih as usize >= ih_n {
                continue;
            }
            for kw in 0..self.p.kernel[1] {
                let iw = (ow * self.p.strides[1] + kw) as isize - self.p.pads[1] as isize;
                if iw < 0 || iw as usize >= iw_n {
                    continue;
                }
                buf.push(base + ih as usize * iw_n + iw as usize);
            }
        }
        if self.p.count_include_pad {
            self.p.kernel[0] * self.p.kernel[1]
        } else {
            buf.len()
        }
    }
}

/// For each cell of `out`, the cell of `inp` that numpy broadcasting reads.
pub fn broadcast_map(out: &[usize], inp: &[usize], node: &str) -> Result<Vec<usize>, ModelError> {
    if inp.len() > out.len() {
        return Err(ModelError::Invalid {
            node: node.into(),
            reason: format!("cannot broadcast {inp:?} to {out:?}"),
        });
    }
    let pad = out.len() - inp.len();
    for (k, &d) in inp.iter().enumerate() {
        if d != 1 && d != out[pad + k] {
            return Err(ModelError::Invalid {
                node: node.into(),
                reason: format!("cannot broadcast {inp:?} to {out:?}"),
            });
        }
    }
    let total: usize = out.iter().product();
    let mut map = Vec::with_capacity(total);
    for o in 0..total {
        let mut rem = o;
        let mut idx = 0;
        let mut stride = 1;
        for a in (0..out.len()).rev() {
            let coord = rem % out[a];
            rem /= out[a];
            if a >= pad {
                let d = inp[a - pad];
                if d != 1 {
                    idx += coord * stride;
                }
                stride *= d;
            }
        }
        map.push(idx);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rows_and_columns() {
        assert_eq!(
            broadcast_map(&[2, 3], &[3], "n").unwrap(),
            vec![0, 1, 2, 0, 1, 2]
        );
        assert_eq!(
            broadcast_map(&[2, 3], &[2, 1], "n").unwrap(),
            vec![0, 0, 0, 1, 1, 1]
        );
        assert_eq!(broadcast_map(&[2, 3], &[1], "n").unwrap(), vec![0; 6]);
        assert!(broadcast_map(&[2, 3], &[2], "n").is_err());
    }
}
