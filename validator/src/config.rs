//! The validator's settings: one TOML file an operator can read and change
//! (every scoring constant lives here, none in code), overridden by btcli-style
//! command-line flags. Values are checked once at load time so the service
//! never runs with a formula that contradicts itself.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use subnet_types::AuthScheme;

/// Largest config file read (it is a few KiB; anything bigger is a mistake).
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config {path} is {len} bytes, more than the {MAX_CONFIG_BYTES}-byte limit")]
    TooLarge { path: PathBuf, len: u64 },
    #[error("config {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("invalid setting {key}: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Subnet to validate.
    pub netuid: u16,
    /// SQLite database file.
    pub db: PathBuf,
    /// Model registry directory (with `registry.toml`).
    pub registry: PathBuf,
    /// Where `/metrics` is served; `None` disables it.
    pub metrics_addr: Option<SocketAddr>,
    pub wallet: WalletConfig,
    pub subtensor: SubtensorConfig,
    pub metagraph: MetagraphConfig,
    pub challenge: ChallengeConfig,
    pub scoring: ScoringConfig,
    pub weights: WeightsConfig,
    pub dashboard: DashboardConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            netuid: 1,
            db: PathBuf::from("validator.sqlite"),
            registry: PathBuf::from("registry"),
            metrics_addr: None,
            wallet: WalletConfig::default(),
            subtensor: SubtensorConfig::default(),
            metagraph: MetagraphConfig::default(),
            challenge: ChallengeConfig::default(),
            scoring: ScoringConfig::default(),
            weights: WeightsConfig::default(),
            dashboard: DashboardConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WalletConfig {
    pub name: String,
    pub hotkey: String,
    /// Wallets directory; `None` means `$BT_WALLET_PATH` or `~/.bittensor/wallets`.
    pub path: Option<PathBuf>,
}

impl Default for WalletConfig {
    fn default() -> Self {
        Self {
            name: "default".into(),
            hotkey: "default".into(),
            path: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubtensorConfig {
    /// btcli network name (local, finney, test, archive) or a ws:// URL.
    pub network: String,
    /// Explicit endpoint; wins over `network`.
    pub chain_endpoint: Option<String>,
}

impl Default for SubtensorConfig {
    fn default() -> Self {
        Self {
            network: "local".into(),
            chain_endpoint: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetagraphConfig {
    /// Re-read the metagraph every this many blocks.
    pub sync_interval_blocks: u64,
}

impl Default for MetagraphConfig {
    fn default() -> Self {
        Self {
            sync_interval_blocks: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChallengeConfig {
    /// Pause between two challenge rounds, in milliseconds.
    pub interval_ms: u64,
    /// Miners challenged per round (all serving miners when fewer).
    pub sample_size: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Restrict challenges to these models (names or ids); empty = every
    /// registry model with a non-zero challenge weight.
    pub models: Vec<String>,
    /// Request signing: "btauth" (btauth/1) or "legacy" (bittensor v10).
    pub auth: String,
    /// Sliced models: send slice k to a different miner than slice k-1.
    pub spread_slices: bool,
    /// Extra time on top of the model's registry timeout for the network
    /// round trip, in milliseconds.
    pub network_slack_ms: u64,
}

impl Default for ChallengeConfig {
    fn default() -> Self {
        Self {
            interval_ms: 2_000,
            sample_size: 8,
            concurrency: 4,
            models: Vec::new(),
            auth: "btauth".into(),
            spread_slices: true,
            network_slack_ms: 1_000,
        }
    }
}

impl ChallengeConfig {
    pub fn auth_scheme(&self) -> Result<AuthScheme, ConfigError> {
        self.auth.parse().map_err(|e| invalid("challenge.auth", e))
    }
}

/// The web dashboard (README, "Validator dashboard"). The token is not a
/// config key: config files get copied and pasted, secrets should not be.
/// It comes from `$VALIDATOR_DASHBOARD_TOKEN` or the file `token_file`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardConfig {
    /// Serve the dashboard at all.
    pub enabled: bool,
    /// Listen address; loopback by default. A non-loopback address needs a
    /// token (the validator refuses to start otherwise).
    pub addr: SocketAddr,
    /// File holding the access token (first line); `$VALIDATOR_DASHBOARD_TOKEN`
    /// wins over it.
    pub token_file: Option<PathBuf>,
    /// DNS names the dashboard may be reached by, besides IP literals and
    /// `localhost` (other Host headers get 403: DNS-rebinding guard).
    pub allowed_hosts: Vec<String>,
    /// How often the live view checks the database for changes (ms).
    pub refresh_ms: u64,
}

impl Default for DashboardConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            addr: SocketAddr::from(([127, 0, 0, 1], 9180)),
            token_file: None,
            allowed_hosts: Vec::new(),
            refresh_ms: 2_000,
        }
    }
}

/// Constants of the scoring formula (README, "Validator scoring").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    /// Share of the latency term in a valid response's reward.
    pub latency_weight: f64,
    /// Share of the memory term.
    pub memory_weight: f64,
    /// Share of the proof-size term.
    pub proof_size_weight: f64,
    /// A model's reference latency is this fraction of its registry timeout;
    /// a response that takes exactly the reference earns latency score 1/2.
    pub latency_reference_fraction: f64,
    /// Reported peak memory up to this multiple of the circuit's lower bound
    /// earns the full memory score.
    pub memory_slack: f64,
    /// EMA step towards the reward after a valid response.
    pub success_alpha: f64,
    /// EMA step towards `failure_target` after a failure.
    pub failure_alpha: f64,
    /// Where failures pull the score (negative; the score is floored at 0).
    pub failure_target: f64,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            latency_weight: 0.6,
            memory_weight: 0.2,
            proof_size_weight: 0.2,
            latency_reference_fraction: 0.05,
            memory_slack: 4.0,
            success_alpha: 0.1,
            failure_alpha: 0.3,
            failure_target: -0.5,
        }
    }
}

impl ScoringConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let terms = [
            ("scoring.latency_weight", self.latency_weight),
            ("scoring.memory_weight", self.memory_weight),
            ("scoring.proof_size_weight", self.proof_size_weight),
        ];
        for (key, w) in terms {
            if !w.is_finite() || w < 0.0 {
                return Err(invalid(key, format!("{w} must be a finite number >= 0")));
            }
        }
        if terms.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            return Err(invalid(
                "scoring.latency_weight",
                "the three term weights must not all be 0",
            ));
        }
        let frac = self.latency_reference_fraction;
        if !(frac.is_finite() && frac > 0.0 && frac <= 1.0) {
            return Err(invalid(
                "scoring.latency_reference_fraction",
                format!("{frac} must be in (0, 1]"),
            ));
        }
        if !(self.memory_slack.is_finite() && self.memory_slack >= 1.0) {
            return Err(invalid(
                "scoring.memory_slack",
                format!("{} must be >= 1", self.memory_slack),
            ));
        }
        for (key, a) in [
            ("scoring.success_alpha", self.success_alpha),
            ("scoring.failure_alpha", self.failure_alpha),
        ] {
            if !(a.is_finite() && a > 0.0 && a <= 1.0) {
                return Err(invalid(key, format!("{a} must be in (0, 1]")));
            }
        }
        if !(self.failure_target.is_finite() && self.failure_target < 0.0) {
            return Err(invalid(
                "scoring.failure_target",
                format!("{} must be negative", self.failure_target),
            ));
        }
        // The smallest failure loss (from a score of 0 upwards, before the
        // floor) is failure_alpha * |failure_target|; the largest success gain
        // is success_alpha (reward 1 from score 0). Asymmetry needs the first
        // to exceed the second.
        if self.failure_alpha * -self.failure_target <= self.success_alpha {
            return Err(invalid(
                "scoring.failure_alpha",
                format!(
                    "failure_alpha * |failure_target| = {} must exceed success_alpha = {}, \
                     or a failure would cost less than a success earns",
                    self.failure_alpha * -self.failure_target,
                    self.success_alpha
                ),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeightsConfig {
    /// Set weights every this many blocks (never faster than the chain's
    /// WeightsSetRateLimit allows).
    pub interval_blocks: u64,
    /// Version key sent with weights; raised to the chain's WeightsVersionKey
    /// when that is higher.
    pub version_key: u64,
    /// Miners with fewer scored requests than this get no weight yet.
    pub min_requests: u64,
}

impl Default for WeightsConfig {
    fn default() -> Self {
        Self {
            interval_blocks: 100,
            version_key: 0,
            min_requests: 1,
        }
    }
}

impl Config {
    /// Reads a TOML file; unset keys keep their defaults.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let read = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if meta.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                path: path.to_path_buf(),
                len: meta.len(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Self::parse(&text).map_err(|reason| ConfigError::Parse {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses TOML text (unset keys keep their defaults).
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Checks every value; call after applying command-line overrides.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.scoring.validate()?;
        self.challenge.auth_scheme()?;
        if self.challenge.sample_size == 0 {
            return Err(invalid("challenge.sample_size", "must be at least 1"));
        }
        if self.challenge.concurrency == 0 {
            return Err(invalid("challenge.concurrency", "must be at least 1"));
        }
        if self.metagraph.sync_interval_blocks == 0 {
            return Err(invalid(
                "metagraph.sync_interval_blocks",
                "must be at least 1",
            ));
        }
        if self.weights.interval_blocks == 0 {
            return Err(invalid("weights.interval_blocks", "must be at least 1"));
        }
        if self.dashboard.refresh_ms < 100 {
            return Err(invalid("dashboard.refresh_ms", "must be at least 100"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_config_parses_and_matches_the_defaults() {
        let text = include_str!("../validator.toml");
        let shipped = Config::parse(text).unwrap();
        shipped.validate().unwrap();
        let d = Config::default();
        // The file documents the defaults; keep them in step.
        assert_eq!(shipped.netuid, d.netuid);
        assert_eq!(shipped.challenge.sample_size, d.challenge.sample_size);
        assert_eq!(shipped.challenge.interval_ms, d.challenge.interval_ms);
        assert_eq!(shipped.scoring.success_alpha, d.scoring.success_alpha);
        assert_eq!(shipped.scoring.failure_alpha, d.scoring.failure_alpha);
        assert_eq!(shipped.scoring.failure_target, d.scoring.failure_target);
        assert_eq!(shipped.scoring.latency_weight, d.scoring.latency_weight);
        assert_eq!(
            shipped.scoring.latency_reference_fraction,
            d.scoring.latency_reference_fraction
        );
        assert_eq!(shipped.weights.interval_blocks, d.weights.interval_blocks);
        assert_eq!(shipped.dashboard.enabled, d.dashboard.enabled);
        assert_eq!(shipped.dashboard.addr, d.dashboard.addr);
        assert_eq!(shipped.dashboard.refresh_ms, d.dashboard.refresh_ms);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(Config::parse("netuid = 1\nnetuidd = 2").is_err());
        assert!(Config::parse("[scoring]\nlatency_wieght = 1.0").is_err());
        assert!(Config::parse("netuid = -1").is_err());
        let c = Config::parse("[challenge]\nauth = \"plain\"").unwrap();
        assert!(c.validate().is_err());
        let c = Config::parse("[scoring]\nfailure_target = 0.5").unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn symmetric_penalties_are_refused() {
        // 0.2 * 0.5 = 0.1 equals success_alpha: a failure would cost no more
        // than a success earns.
        let c = Config::parse("[scoring]\nfailure_alpha = 0.2\nfailure_target = -0.5").unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("failure_alpha"), "{err}");
    }
}
