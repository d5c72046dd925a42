//! Weight helpers that must match the chain bit for bit: the commit hash
//! checked at reveal time, and the u16 normalization applied to values.

use parity_scale_codec::Encode;
use subxt::utils::AccountId32;

/// BlakeTwo256 (BLAKE2b with a 32-byte output), Substrate's `Hashing`.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    Blake2b::<U32>::digest(data).into()
}

/// The hash `commit_weights` expects and `reveal_weights` recomputes:
/// BlakeTwo256(SCALE(hotkey, netuid: u16, uids: Vec<u16>, values: Vec<u16>,
/// salt: Vec<u16>, version_key: u64)).
pub fn commit_hash(
    hotkey: &[u8; 32],
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    let encoded = (
        AccountId32(*hotkey),
        netuid,
        uids.to_vec(),
        values.to_vec(),
        salt.to_vec(),
        version_key,
    )
        .encode();
    blake2_256(&encoded)
}

/// Scales float weights so the largest becomes 65535 (what the chain does to
/// submitted values anyway), dropping zero and non-finite entries.
/// Returns (uids, values) ready for `set_weights`.
pub fn normalize_max_u16(weights: &[(u16, f64)]) -> (Vec<u16>, Vec<u16>) {
    let max = weights
        .iter()
        .map(|(_, w)| *w)
        .filter(|w| w.is_finite() && *w > 0.0)
        .fold(0.0_f64, f64::max);
    if max <= 0.0 {
        return (Vec::new(), Vec::new());
    }
    weights
        .iter()
        .filter(|(_, w)| w.is_finite() && *w > 0.0)
        .map(|(uid, w)| (*uid, ((w / max) * f64::from(u16::MAX)).round() as u16))
        .filter(|(_, v)| *v > 0)
        .unzip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_encoding_layout_is_as_the_chain_expects() {
        // Hand-built SCALE bytes: 32-byte account, u16 LE, then three
        // compact-length-prefixed u16 vectors, then u64 LE.
        let hotkey = [0xAB; 32];
        let mut expected = Vec::new();
        expected.extend_from_slice(&hotkey);
        expected.extend_from_slice(&[0x01, 0x00]); // netuid 1
        expected.extend_from_slice(&[0x08, 0x00, 0x00, 0x01, 0x00]); // [0, 1]
        expected.extend_from_slice(&[0x08, 0xff, 0xff, 0x00, 0x80]); // [65535, 32768]
        expected.extend_from_slice(&[0x04, 0x2a, 0x00]); // [42]
        expected.extend_from_slice(&7u64.to_le_bytes());
        let encoded = (
            AccountId32(hotkey),
            1u16,
            vec![0u16, 1],
            vec![65535u16, 32768],
            vec![42u16],
            7u64,
        )
            .encode();
        assert_eq!(encoded, expected);
        // Computed independently with Python's hashlib.blake2b(digest_size=32)
        // over the bytes above.
        assert_eq!(
            hex::encode(commit_hash(&hotkey, 1, &[0, 1], &[65535, 32768], &[42], 7)),
            "ad8217e35197488cce9ae2d6eeee848b53f29ce9db8c5413d378f1d481ee0803"
        );
    }

    #[test]
    fn blake2_256_known_vector() {
        // BLAKE2b-256("") from the BLAKE2 reference implementation.
        assert_eq!(
            hex::encode(blake2_256(b"")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
        // BLAKE2b-256("abc").
        assert_eq!(
            hex::encode(blake2_256(b"abc")),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
    }

    #[test]
    fn commit_hash_depends_on_every_input() {
        let base = commit_hash(&[1; 32], 1, &[0, 1], &[10, 20], &[5], 0);
        assert_ne!(base, commit_hash(&[2; 32], 1, &[0, 1], &[10, 20], &[5], 0));
        assert_ne!(base, commit_hash(&[1; 32], 2, &[0, 1], &[10, 20], &[5], 0));
        assert_ne!(base, commit_hash(&[1; 32], 1, &[1, 0], &[10, 20], &[5], 0));
        assert_ne!(base, commit_hash(&[1; 32], 1, &[0, 1], &[10, 21], &[5], 0));
        assert_ne!(base, commit_hash(&[1; 32], 1, &[0, 1], &[10, 20], &[6], 0));
        assert_ne!(base, commit_hash(&[1; 32], 1, &[0, 1], &[10, 20], &[5], 1));
    }

    #[test]
    fn normalization_upscales_to_u16_max() {
        let (uids, values) =
            normalize_max_u16(&[(0, 0.5), (1, 1.0), (2, 0.0), (3, f64::NAN), (4, 0.25)]);
        assert_eq!(uids, vec![0, 1, 4]);
        assert_eq!(values, vec![32768, 65535, 16384]);
        assert_eq!(normalize_max_u16(&[(0, 0.0)]), (vec![], vec![]));
    }
}
