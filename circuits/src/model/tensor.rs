//! Quantized tensors: the values that cross slice boundaries and the wire.
//!
//! A slice proof binds the digest of its input and output tensor; the digest
//! covers shape, scale and values in one canonical encoding, so two tensors
//! with the same values but a different shape or scale never collide.

use parity_scale_codec::{Decode, Encode, Input};

use crate::error::DecodeError;
use crate::field::{f_from_i64, F};

/// Upper bound on the rank of a tensor we decode.
pub const MAX_RANK: usize = 8;
/// Upper bound on the element count of a tensor we decode (16 Mi).
pub const MAX_ELEMENTS: usize = 1 << 24;

/// A fixed-point tensor: `values[i] / 2^scale_bits` in row-major order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QTensor {
    pub shape: Vec<usize>,
    pub scale_bits: u8,
    pub values: Vec<i64>,
}

impl QTensor {
    /// A tensor, checking that `values` fills `shape`.
    pub fn new(shape: Vec<usize>, scale_bits: u8, values: Vec<i64>) -> Result<Self, String> {
        let n = checked_len(&shape).ok_or("tensor shape overflows")?;
        if shape.len() > MAX_RANK {
            return Err(format!("rank {} is over the limit {MAX_RANK}", shape.len()));
        }
        if n != values.len() {
            return Err(format!(
                "shape {shape:?} holds {n} values, got {}",
                values.len()
            ));
        }
        Ok(Self {
            shape,
            scale_bits,
            values,
        })
    }

    /// Quantizes floats at `2^scale_bits`, rounding half away from zero.
    pub fn quantize(shape: Vec<usize>, scale_bits: u8, data: &[f32]) -> Result<Self, String> {
        let s = (1u64 << scale_bits) as f64;
        let values = data
            .iter()
            .map(|&x| {
                let v = (x as f64 * s).round();
                if !v.is_finite() || v.abs() >= (1u64 << 31) as f64 {
                    Err(format!(
                        "input value {x} does not fit at scale 2^{scale_bits}"
                    ))
                } else {
                    Ok(v as i64)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(shape, scale_bits, values)
    }

    /// The real values.
    pub fn dequantize(&self) -> Vec<f32> {
        let s = (1u64 << self.scale_bits) as f64;
        self.values.iter().map(|&v| (v as f64 / s) as f32).collect()
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values as field elements (negative values wrap to `p - |v|`).
    pub fn to_field(&self) -> Vec<F> {
        self.values.iter().map(|&v| f_from_i64(v)).collect()
    }

    /// Blake3 over `"zkml-tensor" || SCALE(shape, scale_bits, values)`.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(b"zkml-tensor");
        h.update(&self.encode());
        *h.finalize().as_bytes()
    }

    /// Decodes a tensor from untrusted bytes, with the size limits above and
    /// no trailing bytes.
    pub fn from_bytes(mut bytes: &[u8]) -> Result<Self, DecodeError> {
        let t = Self::decode(&mut bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if !bytes.is_empty() {
            return Err(DecodeError::TrailingBytes(bytes.len()));
        }
        Ok(t)
    }
}

fn checked_len(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))
}

impl Encode for QTensor {
    fn encode_to<O: parity_scale_codec::Output + ?Sized>(&self, dest: &mut O) {
        let shape: Vec<u32> = self.shape.iter().map(|&d| d as u32).collect();
        shape.encode_to(dest);
        self.scale_bits.encode_to(dest);
        self.values.encode_to(dest);
    }
}

impl Decode for QTensor {
    fn decode<I: Input>(input: &mut I) -> Result<Self, parity_scale_codec::Error> {
        let rank = parity_scale_codec::Compact::<u32>::decode(input)?.0 as usize;
        if rank > MAX_RANK {
            return Err("tensor rank over the limit".into());
        }
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(u32::decode(input)? as usize);
        }
        let n = checked_len(&shape)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or("tensor element count over the limit")?;
        let scale_bits = u8::decode(input)?;
        let len = parity_scale_codec::Compact::<u32>::decode(input)?.0 as usize;
        if len != n {
            return Err("tensor value count does not match its shape".into());
        }
        // Each value is 8 bytes; refuse lengths the input cannot back before
        // allocating for them.
        if let Some(rem) = input.remaining_len()? {
            if rem < len.saturating_mul(8) {
                return Err("tensor values truncated".into());
            }
        }
        let mut values = Vec::with_capacity(len);
        for _ in 0..len {
            values.push(i64::decode(input)?);
        }
        Ok(Self {
            shape,
            scale_bits,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_digest_binds_shape() {
        let t = QTensor::new(vec![2, 3], 12, vec![1, -2, 3, -4, 5, 6]).unwrap();
        let back = QTensor::from_bytes(&t.encode()).unwrap();
        assert_eq!(back, t);
        let reshaped = QTensor::new(vec![3, 2], 12, t.values.clone()).unwrap();
        assert_ne!(t.digest(), reshaped.digest());
        let rescaled = QTensor::new(vec![2, 3], 11, t.values.clone()).unwrap();
        assert_ne!(t.digest(), rescaled.digest());
    }

    #[test]
    fn hostile_lengths_are_refused() {
        let t = QTensor::new(vec![2, 3], 12, vec![0; 6]).unwrap();
        let mut bytes = t.encode();
        bytes.truncate(bytes.len() - 1);
        assert!(QTensor::from_bytes(&bytes).is_err());
        // A shape claiming 2^40 elements.
        let big = (vec![1u32 << 20, 1u32 << 20], 12u8, Vec::<i64>::new()).encode();
        assert!(QTensor::from_bytes(&big).is_err());
        let mut trailing = t.encode();
        trailing.push(0);
        assert!(QTensor::from_bytes(&trailing).is_err());
    }

    #[test]
    fn quantize_rounds_and_refuses_huge() {
        let t = QTensor::quantize(vec![3], 2, &[0.375, -0.375, 1.0]).unwrap();
        assert_eq!(t.values, vec![2, -2, 4]);
        assert!(QTensor::quantize(vec![1], 12, &[1e9]).is_err());
        assert!(QTensor::quantize(vec![1], 12, &[f32::NAN]).is_err());
    }
}
