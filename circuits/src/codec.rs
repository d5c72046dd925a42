//! SCALE primitives shared by every decoder of untrusted bytes (proofs,
//! circuits): canonical field elements, vector lengths checked against the
//! input actually left, and a versioned, size-limited, no-trailing-bytes
//! top level.

use parity_scale_codec::{Compact, Decode, Encode, Error as CodecError, Input, Output};

use crate::error::DecodeError;
use crate::field::{ef_coeffs, ef_from_coeffs, f_from_canonical, PrimeField64, EF, F, MODULUS};

/// Decodes `[version][SCALE body]`, refusing inputs over `limit` bytes, other
/// versions, malformed bodies and trailing bytes.
pub(crate) fn versioned_decode<T: Decode>(
    bytes: &[u8],
    limit: usize,
    version: u8,
) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            limit,
        });
    }
    let (&got, mut body) = bytes
        .split_first()
        .ok_or_else(|| DecodeError::Malformed("empty input".into()))?;
    if got != version {
        return Err(DecodeError::Version(got));
    }
    let value = T::decode(&mut body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !body.is_empty() {
        return Err(DecodeError::TrailingBytes(body.len()));
    }
    Ok(value)
}

pub(crate) fn enc_f<O: Output + ?Sized>(x: &F, dest: &mut O) {
    dest.write(&x.as_canonical_u64().to_le_bytes());
}

pub(crate) fn dec_f<I: Input>(input: &mut I) -> Result<F, CodecError> {
    let v = u64::decode(input)?;
    f_from_canonical(v).ok_or_else(|| "non-canonical field element".into())
}

/// Largest magnitude of a field element read as a signed integer: every
/// element has exactly one representative in `[-HALF, HALF]`.
const HALF: u64 = (MODULUS - 1) / 2;

/// A field element that is usually a small signed integer (hints are limbs,
/// remainders, signs and quantized activations; multiplicities are counts)
/// as zig-zag LEB128: one byte up to ±63, three up to ±2^20, at most ten.
/// Raw hints make up most of a proof, so this is most of its size.
pub(crate) fn enc_f_var<O: Output + ?Sized>(x: &F, dest: &mut O) {
    enc_uvar(zigzag(x), dest);
}

fn zigzag(x: &F) -> u64 {
    let v = x.as_canonical_u64();
    if v <= HALF {
        v << 1
    } else {
        ((MODULUS - v) << 1) - 1
    }
}

/// Bytes [`enc_f_var`] writes for `x`.
pub(crate) fn f_var_len(x: &F) -> usize {
    let bits = 64 - zigzag(x).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// How a vector of field elements is written: varints when that is shorter
/// (small integers, the usual hints), else fixed 8-byte words (random-looking
/// values, which would take up to 10 bytes as varints).
pub(crate) fn f_vec_mode(xs: &[F]) -> FVecMode {
    let var: usize = xs.iter().map(f_var_len).sum();
    if var < 8 * xs.len() {
        FVecMode::Var
    } else {
        FVecMode::Fixed
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FVecMode {
    Fixed = 0,
    Var = 1,
}

/// `[len][mode byte][elements]`, the mode chosen by [`f_vec_mode`].
pub(crate) fn enc_f_vec<O: Output + ?Sized>(xs: &[F], dest: &mut O) {
    enc_len(xs.len(), dest);
    let mode = f_vec_mode(xs);
    dest.push_byte(mode as u8);
    match mode {
        FVecMode::Fixed => xs.iter().for_each(|x| enc_f(x, dest)),
        FVecMode::Var => xs.iter().for_each(|x| enc_f_var(x, dest)),
    }
}

/// Inverse of [`enc_f_vec`]. A vector written in the mode the encoder
/// would not have chosen is refused, so every vector has one encoding.
pub(crate) fn dec_f_vec<I: Input>(input: &mut I) -> Result<Vec<F>, CodecError> {
    let len = dec_len(input, 1)?;
    let mode = match input.read_byte()? {
        0 => FVecMode::Fixed,
        1 => FVecMode::Var,
        _ => return Err("invalid field vector encoding".into()),
    };
    if mode == FVecMode::Fixed {
        if let Some(remaining) = input.remaining_len()? {
            if len.saturating_mul(8) > remaining {
                return Err("vector length exceeds the remaining input".into());
            }
        }
    }
    let mut v = Vec::with_capacity(len);
    for _ in 0..len {
        v.push(match mode {
            FVecMode::Fixed => dec_f(input)?,
            FVecMode::Var => dec_f_var(input)?,
        });
    }
    if f_vec_mode(&v) != mode {
        return Err("field vector not in its shortest encoding".into());
    }
    Ok(v)
}

/// Inverse of [`enc_f_var`]; refuses overlong encodings and values outside
/// `[-HALF, HALF]`, so every element has exactly one encoding.
pub(crate) fn dec_f_var<I: Input>(input: &mut I) -> Result<F, CodecError> {
    let z = dec_uvar(input)?;
    let v = if z & 1 == 0 {
        let s = z >> 1;
        (s <= HALF).then_some(s)
    } else {
        let m = (z >> 1) + 1;
        (m <= HALF).then(|| MODULUS - m)
    };
    v.and_then(f_from_canonical)
        .ok_or_else(|| "field element out of range".into())
}

/// Unsigned LEB128.
pub(crate) fn enc_uvar<O: Output + ?Sized>(mut v: u64, dest: &mut O) {
    while v >= 0x80 {
        dest.push_byte((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    dest.push_byte(v as u8);
}

/// Unsigned LEB128, canonical only: no overlong forms, no bits past 64.
pub(crate) fn dec_uvar<I: Input>(input: &mut I) -> Result<u64, CodecError> {
    let mut v = 0u64;
    for i in 0..10 {
        let b = input.read_byte()?;
        let bits = u64::from(b & 0x7f);
        if i == 9 && bits > 1 {
            return Err("varint overflows 64 bits".into());
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            if i > 0 && b == 0 {
                return Err("overlong varint".into());
            }
            return Ok(v);
        }
    }
    Err("varint longer than 10 bytes".into())
}

pub(crate) fn enc_ef<O: Output + ?Sized>(x: &EF, dest: &mut O) {
    for c in ef_coeffs(x) {
        dest.write(&c.to_le_bytes());
    }
}

pub(crate) fn dec_ef<I: Input>(input: &mut I) -> Result<EF, CodecError> {
    let a = u64::decode(input)?;
    let b = u64::decode(input)?;
    ef_from_coeffs([a, b]).ok_or_else(|| "non-canonical extension element".into())
}

pub(crate) fn enc_len<O: Output + ?Sized>(len: usize, dest: &mut O) {
    Compact(len as u32).encode_to(dest);
}

/// Reads a vector length and checks that `len` items of at least
/// `min_item_bytes` each could still fit in the input.
pub(crate) fn dec_len<I: Input>(input: &mut I, min_item_bytes: usize) -> Result<usize, CodecError> {
    let len = Compact::<u32>::decode(input)?.0 as usize;
    if let Some(remaining) = input.remaining_len()? {
        if len.saturating_mul(min_item_bytes) > remaining {
            return Err("vector length exceeds the remaining input".into());
        }
    }
    Ok(len)
}

pub(crate) fn dec_vec<I: Input, T>(
    input: &mut I,
    min_item_bytes: usize,
    mut item: impl FnMut(&mut I) -> Result<T, CodecError>,
) -> Result<Vec<T>, CodecError> {
    let len = dec_len(input, min_item_bytes)?;
    let mut v = Vec::with_capacity(len);
    for _ in 0..len {
        v.push(item(input)?);
    }
    Ok(v)
}

pub(crate) fn dec_ef_array<I: Input, const N: usize>(input: &mut I) -> Result<[EF; N], CodecError> {
    let mut out = [EF::default(); N];
    for slot in out.iter_mut() {
        *slot = dec_ef(input)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::f_from_i64;

    fn round_trip(x: F) -> usize {
        let mut buf = Vec::new();
        enc_f_var(&x, &mut buf);
        let mut slice = &buf[..];
        assert_eq!(dec_f_var(&mut slice).unwrap(), x);
        assert!(slice.is_empty());
        buf.len()
    }

    #[test]
    fn small_signed_values_are_short_and_every_element_round_trips() {
        assert_eq!(round_trip(f_from_i64(0)), 1);
        assert_eq!(round_trip(f_from_i64(63)), 1);
        assert_eq!(round_trip(f_from_i64(-64)), 1);
        assert_eq!(round_trip(f_from_i64(65_535)), 3);
        assert_eq!(round_trip(f_from_i64(-(1 << 20))), 3);
        for v in [
            HALF - 1,
            HALF,
            HALF + 1,
            MODULUS - 1,
            1 << 63,
            u32::MAX as u64,
        ] {
            assert!(round_trip(f_from_canonical(v).unwrap()) <= 10);
        }
    }

    #[test]
    fn vectors_take_the_shorter_encoding_and_only_that() {
        let small: Vec<F> = (-50..50).map(f_from_i64).collect();
        let big: Vec<F> = (0..100u64)
            .map(|i| f_from_canonical(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % MODULUS).unwrap())
            .collect();
        for (xs, mode) in [(&small, FVecMode::Var), (&big, FVecMode::Fixed)] {
            let mut buf = Vec::new();
            enc_f_vec(xs, &mut buf);
            assert_eq!(f_vec_mode(xs), mode);
            assert_eq!(dec_f_vec(&mut &buf[..]).unwrap(), *xs);
            // The other mode's spelling of the same vector is refused.
            let mut other = Vec::new();
            enc_len(xs.len(), &mut other);
            match mode {
                FVecMode::Var => {
                    other.push(FVecMode::Fixed as u8);
                    xs.iter().for_each(|x| enc_f(x, &mut other));
                }
                FVecMode::Fixed => {
                    other.push(FVecMode::Var as u8);
                    xs.iter().for_each(|x| enc_f_var(x, &mut other));
                }
            }
            assert!(dec_f_vec(&mut &other[..]).is_err());
        }
        assert!(
            small.len() * 2 > {
                let mut b = Vec::new();
                enc_f_vec(&small, &mut b);
                b.len()
            }
        );
    }

    #[test]
    fn non_canonical_varints_are_refused() {
        let dec = |b: &[u8]| dec_f_var(&mut &b[..]);
        assert!(dec(&[0x80, 0x00]).is_err(), "overlong zero");
        assert!(dec(&[0x81, 0x80, 0x00]).is_err(), "overlong one");
        assert!(dec(&[0xff; 11]).is_err(), "too long");
        assert!(dec(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_err());
        assert!(dec(&[0x80]).is_err(), "truncated");
        // zigzag(HALF + 1): one past the largest positive representative.
        let mut buf = Vec::new();
        enc_uvar((HALF + 1) << 1, &mut buf);
        assert!(dec(&buf).is_err());
        let mut buf = Vec::new();
        enc_uvar(((HALF + 1) << 1) - 1, &mut buf);
        assert!(dec(&buf).is_err());
    }
}
