//! SS58 address encoding (the `5...` strings), needed for `ss58Address` in
//! keyfiles and for user-facing output; written here to keep the wallet crate
//! free of the heavy Substrate stack.

use blake2::{Blake2b512, Digest};

use crate::WalletError;

/// Substrate's generic prefix, which subtensor uses.
pub const SUBTENSOR_SS58_PREFIX: u16 = 42;

const CHECKSUM_PREIMAGE_PREFIX: &[u8] = b"SS58PRE";
const CHECKSUM_LEN: usize = 2;

fn checksum(data: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut hasher = Blake2b512::new();
    hasher.update(CHECKSUM_PREIMAGE_PREFIX);
    hasher.update(data);
    let digest = hasher.finalize();
    [digest[0], digest[1]]
}

fn prefix_bytes(prefix: u16) -> Vec<u8> {
    match prefix {
        0..=63 => vec![prefix as u8],
        // Two-byte form from the SS58 spec: 14 bits spread over two bytes with
        // the 0b01 marker in the top bits of the first.
        64..=16383 => {
            let first = ((prefix & 0b0000_0000_1111_1100) as u8) >> 2;
            let second = ((prefix >> 8) as u8) | (((prefix & 0b11) as u8) << 6);
            vec![first | 0b0100_0000, second]
        }
        _ => vec![SUBTENSOR_SS58_PREFIX as u8],
    }
}

/// Encodes a 32-byte public key as an SS58 address with the given prefix.
pub fn encode(public: &[u8; 32], prefix: u16) -> String {
    let mut data = prefix_bytes(prefix);
    data.extend_from_slice(public);
    let sum = checksum(&data);
    data.extend_from_slice(&sum);
    bs58::encode(data).into_string()
}

/// Decodes an SS58 address into (public key, prefix), verifying the checksum.
pub fn decode(address: &str) -> Result<([u8; 32], u16), WalletError> {
    let bad = |reason: &str| WalletError::InvalidAddress {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    let data = bs58::decode(address)
        .into_vec()
        .map_err(|e| bad(&format!("not base58: {e}")))?;
    let (prefix, prefix_len) = match data.first() {
        Some(b) if *b < 64 => (u16::from(*b), 1),
        Some(b) if *b < 128 => {
            let second = *data.get(1).ok_or_else(|| bad("too short"))?;
            let lower = ((u16::from(*b) & 0b0011_1111) << 2) | (u16::from(second) >> 6);
            let upper = u16::from(second & 0b0011_1111);
            (lower | (upper << 8), 2)
        }
        Some(_) => return Err(bad("reserved prefix")),
        None => return Err(bad("empty")),
    };
    if data.len() != prefix_len + 32 + CHECKSUM_LEN {
        return Err(bad("wrong length for a 32-byte account"));
    }
    let body = &data[..prefix_len + 32];
    if checksum(body) != data[prefix_len + 32..] {
        return Err(bad("checksum mismatch"));
    }
    let mut public = [0u8; 32];
    public.copy_from_slice(&body[prefix_len..]);
    Ok((public, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Alice's well-known dev account (sr25519 //Alice), checked against
    // polkadot.js / subkey output.
    const ALICE_HEX: &str = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
    const ALICE_SS58: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    #[test]
    fn encodes_and_decodes_alice() {
        let mut public = [0u8; 32];
        hex::decode_to_slice(ALICE_HEX, &mut public).unwrap();
        assert_eq!(encode(&public, 42), ALICE_SS58);
        assert_eq!(decode(ALICE_SS58).unwrap(), (public, 42));
    }

    #[test]
    fn rejects_corrupted_checksum() {
        let mut corrupted = ALICE_SS58.to_string();
        corrupted.pop();
        corrupted.push('Z');
        assert!(matches!(
            decode(&corrupted),
            Err(WalletError::InvalidAddress { .. })
        ));
        assert!(decode("").is_err());
        assert!(decode("0OIl").is_err());
    }

    #[test]
    fn two_byte_prefix_round_trips() {
        let public = [7u8; 32];
        let address = encode(&public, 1000);
        assert_eq!(decode(&address).unwrap(), (public, 1000));
    }
}
