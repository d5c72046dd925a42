//! The metagraph: a subnet's neurons and their chain state at one block,
//! read straight from `SubtensorModule` storage (names as in subtensor, so
//! it reads a real node as well as the local chain). Validators score from
//! it, miners find their uid in it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ChainError;

/// An axon endpoint as stored in `Axons`, with the IP decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonInfo {
    pub block: u64,
    pub version: u32,
    pub ip: IpAddr,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
    pub placeholder1: u8,
    pub placeholder2: u8,
}

/// Raw `AxonInfo` as subtensor stores it.
#[derive(Debug, Clone, subxt::ext::scale_decode::DecodeAsType)]
#[decode_as_type(crate_path = "subxt::ext::scale_decode")]
pub(crate) struct RawAxonInfo {
    pub block: u64,
    pub version: u32,
    pub ip: u128,
    pub port: u16,
    pub ip_type: u8,
    pub protocol: u8,
    pub placeholder1: u8,
    pub placeholder2: u8,
}

/// Encodes an IP the way `serve_axon` wants it: (u128, ip_type 4 or 6).
pub fn encode_ip(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4),
        IpAddr::V6(v6) => (u128::from(v6), 6),
    }
}

/// Decodes a stored IP; an IPv4 value that does not fit 32 bits is corrupt.
pub fn decode_ip(ip: u128, ip_type: u8) -> Result<IpAddr, ChainError> {
    match ip_type {
        4 => u32::try_from(ip)
            .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
            .map_err(|_| {
                ChainError::InvalidArgument(format!("IPv4 axon address {ip} exceeds 32 bits"))
            }),
        6 => Ok(IpAddr::V6(Ipv6Addr::from(ip))),
        other => Err(ChainError::InvalidArgument(format!(
            "unknown axon ip_type {other}"
        ))),
    }
}

impl TryFrom<RawAxonInfo> for AxonInfo {
    type Error = ChainError;
    fn try_from(raw: RawAxonInfo) -> Result<Self, ChainError> {
        Ok(AxonInfo {
            block: raw.block,
            version: raw.version,
            ip: decode_ip(raw.ip, raw.ip_type)?,
            port: raw.port,
            ip_type: raw.ip_type,
            protocol: raw.protocol,
            placeholder1: raw.placeholder1,
            placeholder2: raw.placeholder2,
        })
    }
}

/// One registered neuron.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neuron {
    pub uid: u16,
    pub hotkey: [u8; 32],
    /// Owner of the hotkey (`Owner[hotkey]`); all zero if unknown.
    pub coldkey: [u8; 32],
    /// `None` when the neuron never served an axon.
    pub axon: Option<AxonInfo>,
    /// Alpha stake on this subnet, in rao (`TotalHotkeyAlpha[(hotkey, netuid)]`).
    pub stake: u64,
    pub validator_permit: bool,
    pub active: bool,
    /// u16-normalized (65535 = 1.0).
    pub incentive: u16,
    pub dividends: u16,
    pub consensus: u16,
    pub validator_trust: u16,
    /// Emission in rao per epoch.
    pub emission: u64,
    pub last_update: u64,
    /// This neuron's weights as (target uid, u16 value).
    pub weights: Vec<(u16, u16)>,
}

impl Neuron {
    pub fn hotkey_ss58(&self) -> String {
        wallet::ss58::encode(&self.hotkey, wallet::ss58::SUBTENSOR_SS58_PREFIX)
    }
}

/// A subnet at one block.
#[derive(Debug, Clone)]
pub struct Metagraph {
    pub netuid: u16,
    pub block: u64,
    pub tempo: u16,
    pub weights_set_rate_limit: u64,
    pub weights_version_key: u64,
    pub commit_reveal_enabled: bool,
    /// Indexed by uid.
    pub neurons: Vec<Neuron>,
}

impl Metagraph {
    pub fn uid_of(&self, hotkey: &[u8; 32]) -> Option<u16> {
        self.neurons
            .iter()
            .find(|n| &n.hotkey == hotkey)
            .map(|n| n.uid)
    }

    pub fn neuron(&self, uid: u16) -> Option<&Neuron> {
        self.neurons.get(usize::from(uid))
    }
}

/// Element `i` of a per-uid vector, or the default when the chain's vector is
/// shorter (vectors grow lazily as neurons register).
pub(crate) fn elem<T: Copy + Default>(v: &[T], i: usize) -> T {
    v.get(i).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_round_trips() {
        for ip in ["127.0.0.2", "10.1.2.3", "::1", "2001:db8::7"] {
            let ip: IpAddr = ip.parse().unwrap();
            let (raw, t) = encode_ip(ip);
            assert_eq!(decode_ip(raw, t).unwrap(), ip);
        }
        // 127.0.0.2 is 0x7f000002.
        assert_eq!(encode_ip("127.0.0.2".parse().unwrap()), (0x7f00_0002, 4));
    }

    #[test]
    fn corrupt_ips_are_errors() {
        assert!(decode_ip(u128::from(u32::MAX) + 1, 4).is_err());
        assert!(decode_ip(1, 5).is_err());
    }

    #[test]
    fn short_vectors_default() {
        assert_eq!(elem(&[1u16, 2], 1), 2);
        assert_eq!(elem(&[1u16, 2], 5), 0);
    }
}
