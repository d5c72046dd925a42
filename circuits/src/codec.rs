//! SCALE primitives shared by every decoder of untrusted bytes (proofs,
//! circuits): canonical field elements, vector lengths checked against the
//! input actually left, and a versioned, size-limited, no-trailing-bytes
//! top level.

use parity_scale_codec::{Compact, Decode, Encode, Error as CodecError, Input, Output};

use crate::error::DecodeError;
use crate::field::{ef_coeffs, ef_from_coeffs, f_from_canonical, PrimeField64, EF, F};

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
