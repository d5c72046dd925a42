//! Settings from the command line and an optional TOML file.
//!
//! Flag names follow btcli (`--wallet.name`, `--subtensor.network`,
//! `--axon.port`, ...) so operators' habits and scripts carry over. The TOML
//! file uses the same names as dotted keys or tables (`[wallet] name = ...`
//! or `wallet.name = ...`); a flag given on the command line wins over the
//! file, and the file over the defaults.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use subnet_types::AuthScheme;

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Every setting, each optional: one value of this type comes from the
/// command line, one from the file, and [`Options::or`] merges them.
#[derive(Clone, Debug, Default, PartialEq, clap::Args)]
pub struct Options {
    /// Subnet id to mine on.
    #[arg(long)]
    pub netuid: Option<u16>,
    /// Wallet (coldkey) name [default: default].
    #[arg(long = "wallet.name")]
    pub wallet_name: Option<String>,
    /// Hotkey name inside the wallet [default: default].
    #[arg(long = "wallet.hotkey")]
    pub wallet_hotkey: Option<String>,
    /// Wallets directory [default: $BT_WALLET_PATH or ~/.bittensor/wallets].
    #[arg(long = "wallet.path")]
    pub wallet_path: Option<PathBuf>,
    /// local, finney, test, archive, or a ws:// URL [default: local].
    #[arg(long = "subtensor.network")]
    pub network: Option<String>,
    /// Explicit chain endpoint (ws://...); overrides --subtensor.network.
    #[arg(long = "subtensor.chain_endpoint")]
    pub chain_endpoint: Option<String>,
    /// IP to bind and to publish with serve_axon. Subtensor rejects
    /// 127.0.0.1: use 127.0.0.2 on a local chain [default: 127.0.0.2].
    #[arg(long = "axon.ip")]
    pub axon_ip: Option<IpAddr>,
    /// Port to bind and publish [default: 8091].
    #[arg(long = "axon.port")]
    pub axon_port: Option<u16>,
    /// Model registry directory; every artifact is hash-checked on load
    /// [default: ./registry].
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Models to serve, by name or id, comma-separated [default: all].
    #[arg(long, value_delimiter = ',')]
    pub models: Option<Vec<String>>,
    /// Request authentication: btauth (btauth/1) or legacy (bittensor v10
    /// dendrite headers) [default: btauth].
    #[arg(long)]
    pub auth: Option<AuthScheme>,
    /// Minimum stake, in TAO, a caller needs on the subnet [default: 0].
    #[arg(long = "min_stake")]
    pub min_stake: Option<f64>,
    /// Refuse callers without a validator permit [default: true].
    #[arg(long = "force_validator_permit")]
    pub force_validator_permit: Option<bool>,
    /// Proofs run at once; further requests get 503 [default: 1].
    #[arg(long)]
    pub workers: Option<usize>,
    /// Refresh the metagraph every this many blocks [default: 5].
    #[arg(long = "metagraph.refresh_blocks")]
    pub refresh_blocks: Option<u64>,
    /// Compile every served model at start instead of on first use
    /// [default: true].
    #[arg(long)]
    pub precompile: Option<bool>,
}

impl Options {
    /// `self` where set, else `other`.
    pub fn or(self, other: Options) -> Options {
        Options {
            netuid: self.netuid.or(other.netuid),
            wallet_name: self.wallet_name.or(other.wallet_name),
            wallet_hotkey: self.wallet_hotkey.or(other.wallet_hotkey),
            wallet_path: self.wallet_path.or(other.wallet_path),
            network: self.network.or(other.network),
            chain_endpoint: self.chain_endpoint.or(other.chain_endpoint),
            axon_ip: self.axon_ip.or(other.axon_ip),
            axon_port: self.axon_port.or(other.axon_port),
            registry: self.registry.or(other.registry),
            models: self.models.or(other.models),
            auth: self.auth.or(other.auth),
            min_stake: self.min_stake.or(other.min_stake),
            force_validator_permit: self.force_validator_permit.or(other.force_validator_permit),
            workers: self.workers.or(other.workers),
            refresh_blocks: self.refresh_blocks.or(other.refresh_blocks),
            precompile: self.precompile.or(other.precompile),
        }
    }

    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Options, ConfigError> {
        let io = |e: std::io::Error| ConfigError::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::Invalid(format!(
                "{} is {} bytes, over the {MAX_CONFIG_BYTES}-byte limit",
                path.display(),
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Invalid(m) => ConfigError::Invalid(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parses TOML config text.
    pub fn from_toml(text: &str) -> Result<Options, ConfigError> {
        let f: FileConfig =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let auth = f
            .auth
            .map(|s| s.parse::<AuthScheme>())
            .transpose()
            .map_err(ConfigError::Invalid)?;
        Ok(Options {
            netuid: f.netuid,
            wallet_name: f.wallet.name,
            wallet_hotkey: f.wallet.hotkey,
            wallet_path: f.wallet.path,
            network: f.subtensor.network,
            chain_endpoint: f.subtensor.chain_endpoint,
            axon_ip: f.axon.ip,
            axon_port: f.axon.port,
            registry: f.registry,
            models: f.models,
            auth,
            min_stake: f.min_stake,
            force_validator_permit: f.force_validator_permit,
            workers: f.workers,
            refresh_blocks: f.metagraph.refresh_blocks,
            precompile: f.precompile,
        })
    }

    /// Fills defaults and checks ranges.
    pub fn resolve(self) -> Result<Settings, ConfigError> {
        let netuid = self
            .netuid
            .ok_or_else(|| ConfigError::Invalid("--netuid is required".into()))?;
        let min_stake = self.min_stake.unwrap_or(0.0);
        if !(0.0..=1e9).contains(&min_stake) {
            return Err(ConfigError::Invalid(format!(
                "min_stake {min_stake} must be a number of TAO in 0..=1e9"
            )));
        }
        let workers = self.workers.unwrap_or(1);
        if !(1..=256).contains(&workers) {
            return Err(ConfigError::Invalid(format!(
                "workers {workers} must be in 1..=256"
            )));
        }
        let refresh_blocks = self.refresh_blocks.unwrap_or(5);
        if refresh_blocks == 0 {
            return Err(ConfigError::Invalid(
                "metagraph.refresh_blocks must be at least 1".into(),
            ));
        }
        Ok(Settings {
            netuid,
            wallet_name: self.wallet_name.unwrap_or_else(|| "default".into()),
            wallet_hotkey: self.wallet_hotkey.unwrap_or_else(|| "default".into()),
            wallet_path: self.wallet_path,
            network: self.network.unwrap_or_else(|| "local".into()),
            chain_endpoint: self.chain_endpoint,
            axon_ip: self.axon_ip.unwrap_or(IpAddr::from([127, 0, 0, 2])),
            axon_port: self.axon_port.unwrap_or(8091),
            registry: self.registry.unwrap_or_else(|| PathBuf::from("registry")),
            models: self.models.unwrap_or_default(),
            auth: self.auth.unwrap_or_default(),
            min_stake_rao: (min_stake * chain_client::RAO_PER_TAO as f64).round() as u64,
            force_validator_permit: self.force_validator_permit.unwrap_or(true),
            workers,
            refresh_blocks,
            precompile: self.precompile.unwrap_or(true),
        })
    }
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Resolved settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub netuid: u16,
    pub wallet_name: String,
    pub wallet_hotkey: String,
    pub wallet_path: Option<PathBuf>,
    pub network: String,
    pub chain_endpoint: Option<String>,
    pub axon_ip: IpAddr,
    pub axon_port: u16,
    pub registry: PathBuf,
    pub models: Vec<String>,
    pub auth: AuthScheme,
    pub min_stake_rao: u64,
    pub force_validator_permit: bool,
    pub workers: usize,
    pub refresh_blocks: u64,
    pub precompile: bool,
}

impl Settings {
    /// Refuses axon addresses the chain would reject or peers could not
    /// reach.
    pub fn check_axon_ip(&self) -> Result<(), ConfigError> {
        let ip = self.axon_ip;
        if ip == IpAddr::from([127, 0, 0, 1]) {
            return Err(ConfigError::Invalid(
                "subtensor rejects 127.0.0.1 as an axon IP; use 127.0.0.2 for a local chain".into(),
            ));
        }
        if ip.is_unspecified() {
            return Err(ConfigError::Invalid(format!(
                "{ip} cannot be published as an axon endpoint; give the address validators should dial"
            )));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    netuid: Option<u16>,
    #[serde(default)]
    wallet: WalletSection,
    #[serde(default)]
    subtensor: SubtensorSection,
    #[serde(default)]
    axon: AxonSection,
    #[serde(default)]
    metagraph: MetagraphSection,
    registry: Option<PathBuf>,
    models: Option<Vec<String>>,
    auth: Option<String>,
    min_stake: Option<f64>,
    force_validator_permit: Option<bool>,
    workers: Option<usize>,
    precompile: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletSection {
    name: Option<String>,
    hotkey: Option<String>,
    path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubtensorSection {
    network: Option<String>,
    chain_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AxonSection {
    ip: Option<IpAddr>,
    port: Option<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetagraphSection {
    refresh_blocks: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_wins_over_file_and_file_over_defaults() {
        let file = Options::from_toml(
            r#"
            netuid = 3
            wallet.name = "m1"
            registry = "/reg"
            min_stake = 1.5
            [axon]
            ip = "127.0.0.5"
            port = 9000
            "#,
        )
        .unwrap();
        let cli = Options {
            axon_port: Some(9100),
            auth: Some(AuthScheme::Legacy),
            ..Options::default()
        };
        let s = cli.or(file).resolve().unwrap();
        assert_eq!(s.netuid, 3);
        assert_eq!(s.wallet_name, "m1");
        assert_eq!(s.wallet_hotkey, "default");
        assert_eq!(s.axon_ip, IpAddr::from([127, 0, 0, 5]));
        assert_eq!(s.axon_port, 9100);
        assert_eq!(s.auth, AuthScheme::Legacy);
        assert_eq!(s.min_stake_rao, 1_500_000_000);
        assert_eq!(s.registry, PathBuf::from("/reg"));
        assert!(s.force_validator_permit);
        assert_eq!(s.workers, 1);
    }

    #[test]
    fn bad_configs_are_clear_errors() {
        assert!(Options::from_toml("netuid = 'x'").is_err());
        assert!(Options::from_toml("wallet.colour = 'red'").is_err());
        assert!(Options::from_toml("auth = 'kerberos'").is_err());
        assert!(Options::default().resolve().is_err());
        let o = |f: fn(&mut Options)| {
            let mut o = Options {
                netuid: Some(1),
                ..Options::default()
            };
            f(&mut o);
            o.resolve()
        };
        assert!(o(|o| o.min_stake = Some(-1.0)).is_err());
        assert!(o(|o| o.min_stake = Some(f64::NAN)).is_err());
        assert!(o(|o| o.workers = Some(0)).is_err());
        assert!(o(|o| o.refresh_blocks = Some(0)).is_err());
        let s = o(|o| o.axon_ip = Some(IpAddr::from([127, 0, 0, 1]))).unwrap();
        assert!(s.check_axon_ip().is_err());
        let s = o(|o| o.axon_ip = Some(IpAddr::from([0, 0, 0, 0]))).unwrap();
        assert!(s.check_axon_ip().is_err());
        assert!(o(|_| {}).unwrap().check_axon_ip().is_ok());
    }
}
