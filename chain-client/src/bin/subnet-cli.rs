//! `subnet-cli`: wallets and subnet setup from the command line, with btcli's
//! flag names so existing habits and scripts carry over.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use chain_client::{resolve_endpoint, ChainClient, RAO_PER_TAO};
use clap::{Args, Parser, Subcommand};
use wallet::{Keypair, PasswordSource, Wallet};

/// `println!` that reports a closed stdout (e.g. `| head`) as an error
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

#[derive(Parser)]
#[command(
    name = "subnet-cli",
    version,
    about = "Wallets and subnet setup for the zkML subnet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct WalletArgs {
    /// Wallet (coldkey) name.
    #[arg(long = "wallet.name", default_value = "default")]
    name: String,
    /// Hotkey name inside the wallet.
    #[arg(long = "wallet.hotkey", default_value = "default")]
    hotkey: String,
    /// Wallets directory (default: $BT_WALLET_PATH or ~/.bittensor/wallets).
    #[arg(long = "wallet.path")]
    path: Option<PathBuf>,
}

impl WalletArgs {
    fn wallet(&self) -> Result<Wallet> {
        Ok(Wallet::new(self.path.as_deref(), &self.name, &self.hotkey)?)
    }
    /// `BT_COLD_PW_<NAME>` when set, else an interactive prompt.
    fn password(&self) -> PasswordSource {
        PasswordSource::EnvOrPrompt(PasswordSource::coldkey_env_var(&self.name))
    }
    fn coldkey(&self) -> Result<Keypair> {
        Ok(self.wallet()?.coldkey(&self.password())?)
    }
    fn hotkey_pair(&self) -> Result<Keypair> {
        Ok(self.wallet()?.hotkey_pair(&self.password())?)
    }
    fn hotkey_public(&self) -> Result<[u8; 32]> {
        let ss58 = self.wallet()?.hotkeypub(&self.password())?;
        Ok(wallet::ss58::decode(&ss58)?.0)
    }
}

#[derive(Args, Clone)]
struct ChainArgs {
    /// local, finney, test, archive, or a ws:// URL.
    #[arg(long = "subtensor.network", default_value = "local")]
    network: String,
    /// Explicit endpoint; overrides --subtensor.network.
    #[arg(long = "subtensor.chain_endpoint")]
    chain_endpoint: Option<String>,
}

impl ChainArgs {
    async fn connect(&self) -> Result<ChainClient> {
        let url = resolve_endpoint(Some(&self.network), self.chain_endpoint.as_deref())
            .map_err(anyhow::Error::msg)?;
        Ok(ChainClient::connect(&url).await?)
    }
}

#[derive(Args, Clone)]
struct SudoArgs {
    /// Sign sudo calls with a dev account URI (e.g. //Alice on local chains)
    /// instead of the wallet's coldkey.
    #[arg(long = "sudo.uri")]
    sudo_uri: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Wallet management.
    #[command(subcommand)]
    Wallet(WalletCmd),
    /// Subnet setup.
    #[command(subcommand)]
    Subnet(SubnetCmd),
    /// Stake management.
    #[command(subcommand)]
    Stake(StakeCmd),
    /// Root-only hyperparameter setters (AdminUtils through Sudo).
    #[command(subcommand)]
    Sudo(SudoCmd),
}

#[derive(Subcommand)]
enum WalletCmd {
    /// Create a new coldkey and hotkey with fresh mnemonics.
    Create {
        #[command(flatten)]
        wallet: WalletArgs,
        #[arg(long, default_value_t = 12)]
        n_words: usize,
        /// Store the coldkey unencrypted (local testing only).
        #[arg(long)]
        no_password: bool,
        #[arg(long)]
        overwrite: bool,
    },
    /// Create only a new hotkey in an existing wallet.
    NewHotkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[arg(long, default_value_t = 12)]
        n_words: usize,
        #[arg(long)]
        overwrite: bool,
    },
    /// Regenerate the coldkey from its mnemonic.
    RegenColdkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[arg(long)]
        mnemonic: String,
        #[arg(long)]
        no_password: bool,
        #[arg(long)]
        overwrite: bool,
    },
    /// Regenerate the hotkey from its mnemonic.
    RegenHotkey {
        #[command(flatten)]
        wallet: WalletArgs,
        #[arg(long)]
        mnemonic: String,
        #[arg(long)]
        overwrite: bool,
    },
    /// List wallets and their hotkeys with addresses.
    List {
        #[arg(long = "wallet.path")]
        path: Option<PathBuf>,
    },
    /// Send TAO from the wallet's coldkey (or a dev account) to an address.
    Transfer {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        /// Destination SS58 address.
        #[arg(long)]
        dest: String,
        /// Amount in TAO.
        #[arg(long)]
        amount: f64,
        /// Sign with a dev account URI (e.g. //Alice on local chains) instead.
        #[arg(long = "dev.uri")]
        dev_uri: Option<String>,
    },
    /// Free balance of the wallet's coldkey.
    Balance {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
    },
}

#[derive(Subcommand)]
enum SubnetCmd {
    /// Create a subnet owned by the wallet (register_network).
    Create {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
    },
    /// Start emissions on a subnet (start_call), as its owner.
    Start {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        netuid: u16,
    },
    /// Register the wallet's hotkey on a subnet by burning (burned_register).
    Register {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        netuid: u16,
    },
    /// Publish the hotkey's axon endpoint (use 127.0.0.2 locally, not 127.0.0.1).
    ServeAxon {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        ip: IpAddr,
        #[arg(long)]
        port: u16,
        #[arg(long, default_value_t = 4)]
        protocol: u8,
    },
    /// Print the metagraph.
    Metagraph {
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        netuid: u16,
    },
}

#[derive(Subcommand)]
enum StakeCmd {
    /// Stake TAO from the coldkey to the wallet's hotkey on a subnet.
    Add {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[arg(long)]
        netuid: u16,
        /// Amount in TAO.
        #[arg(long)]
        amount: f64,
    },
}

#[derive(Subcommand)]
enum SudoCmd {
    /// Set a subnet's tempo (blocks per epoch).
    #[command(name = "set-tempo")]
    Tempo {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        sudo: SudoArgs,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        tempo: u16,
    },
    /// Set the minimum blocks between set_weights calls.
    #[command(name = "set-weights-rate-limit")]
    WeightsRateLimit {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        sudo: SudoArgs,
        #[arg(long)]
        netuid: u16,
        #[arg(long)]
        limit: u64,
    },
    /// Enable or disable commit-reveal weights.
    #[command(name = "set-commit-reveal")]
    CommitReveal {
        #[command(flatten)]
        wallet: WalletArgs,
        #[command(flatten)]
        chain: ChainArgs,
        #[command(flatten)]
        sudo: SudoArgs,
        #[arg(long)]
        netuid: u16,
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
    },
}

fn sudo_key(wallet: &WalletArgs, sudo: &SudoArgs) -> Result<Keypair> {
    match &sudo.sudo_uri {
        Some(uri) => Ok(Keypair::from_dev_uri(uri)?),
        None => wallet.coldkey(),
    }
}

fn new_password(wallet: &WalletArgs) -> Result<String> {
    let var = PasswordSource::coldkey_env_var(&wallet.name);
    if let Ok(p) = std::env::var(&var) {
        return Ok(p);
    }
    let first = PasswordSource::Prompt.get("New coldkey password: ")?;
    let again = PasswordSource::Prompt.get("Retype the password: ")?;
    if *first != *again {
        bail!("the passwords do not match");
    }
    if first.is_empty() {
        bail!("empty password: use --no-password to store the coldkey unencrypted");
    }
    Ok(first.to_string())
}

fn tao_to_rao(tao: f64) -> Result<u64> {
    if !tao.is_finite() || tao <= 0.0 {
        bail!("amount must be a positive number of TAO");
    }
    let rao = (tao * RAO_PER_TAO as f64).round();
    if rao > u64::MAX as f64 {
        bail!("amount too large");
    }
    Ok(rao as u64)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // The reader went away (`subnet-cli ... | head`): nothing to report.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Wallet(cmd) => wallet_cmd(cmd).await,
        Command::Subnet(cmd) => subnet_cmd(cmd).await,
        Command::Stake(StakeCmd::Add {
            wallet,
            chain,
            netuid,
            amount,
        }) => {
            let rao = tao_to_rao(amount)?;
            let cold = wallet.coldkey()?;
            let hot = wallet.hotkey_public()?;
            let client = chain.connect().await?;
            client.add_stake(&cold, &hot, netuid, rao).await?;
            say!(
                "staked {amount} TAO ({rao} rao) to {} on subnet {netuid}",
                wallet::ss58::encode(&hot, 42)
            );
            Ok(())
        }
        Command::Sudo(cmd) => sudo_cmd(cmd).await,
    }
}

async fn wallet_cmd(cmd: WalletCmd) -> Result<()> {
    match cmd {
        WalletCmd::Create {
            wallet,
            n_words,
            no_password,
            overwrite,
        } => {
            let w = wallet.wallet()?;
            let cold = Keypair::generate(n_words)?;
            let hot = Keypair::generate(n_words)?;
            let password = if no_password {
                None
            } else {
                Some(new_password(&wallet)?)
            };
            w.set_coldkey(&cold, password.as_deref(), overwrite)?;
            w.set_hotkey(&hot, None, overwrite)?;
            say!(
                "coldkey {} ({})",
                cold.ss58_address(),
                w.coldkey_path().display()
            );
            say!("  mnemonic: {}", cold.mnemonic().unwrap_or_default());
            say!(
                "hotkey  {} ({})",
                hot.ss58_address(),
                w.hotkey_path().display()
            );
            say!("  mnemonic: {}", hot.mnemonic().unwrap_or_default());
            say!("Write the mnemonics down: they are the only way to recover these keys.");
        }
        WalletCmd::NewHotkey {
            wallet,
            n_words,
            overwrite,
        } => {
            let w = wallet.wallet()?;
            let hot = Keypair::generate(n_words)?;
            w.set_hotkey(&hot, None, overwrite)?;
            say!(
                "hotkey {} ({})",
                hot.ss58_address(),
                w.hotkey_path().display()
            );
            say!("  mnemonic: {}", hot.mnemonic().unwrap_or_default());
        }
        WalletCmd::RegenColdkey {
            wallet,
            mnemonic,
            no_password,
            overwrite,
        } => {
            let w = wallet.wallet()?;
            let cold = Keypair::from_mnemonic(&mnemonic)?;
            let password = if no_password {
                None
            } else {
                Some(new_password(&wallet)?)
            };
            w.set_coldkey(&cold, password.as_deref(), overwrite)?;
            say!(
                "coldkey {} ({})",
                cold.ss58_address(),
                w.coldkey_path().display()
            );
        }
        WalletCmd::RegenHotkey {
            wallet,
            mnemonic,
            overwrite,
        } => {
            let w = wallet.wallet()?;
            let hot = Keypair::from_mnemonic(&mnemonic)?;
            w.set_hotkey(&hot, None, overwrite)?;
            say!(
                "hotkey {} ({})",
                hot.ss58_address(),
                w.hotkey_path().display()
            );
        }
        WalletCmd::List { path } => {
            let root = path
                .map(|p| wallet::expand_tilde(&p))
                .unwrap_or_else(wallet::default_wallet_path);
            let names = wallet::list_wallets(&root)?;
            if names.is_empty() {
                say!("no wallets under {}", root.display());
            }
            for name in names {
                let w = Wallet::new(Some(&root), &name, "default")?;
                let cold = w.coldkeypub().unwrap_or_else(|e| format!("<{e}>"));
                say!("{name}  {cold}");
                for hk in w.hotkey_names()? {
                    let hw = Wallet::new(Some(&root), &name, &hk)?;
                    let addr = hw
                        .hotkeypub(&PasswordSource::Env("BT_HOTKEY_PW_UNUSED".into()))
                        .unwrap_or_else(|e| format!("<{e}>"));
                    say!("  {hk}  {addr}");
                }
            }
        }
        WalletCmd::Transfer {
            wallet,
            chain,
            dest,
            amount,
            dev_uri,
        } => {
            let rao = tao_to_rao(amount)?;
            let (dest_key, _) = wallet::ss58::decode(&dest)?;
            let from = match dev_uri {
                Some(uri) => Keypair::from_dev_uri(&uri)?,
                None => wallet.coldkey()?,
            };
            let client = chain.connect().await?;
            client
                .transfer_keep_alive(&from, &dest_key, u128::from(rao))
                .await?;
            say!("sent {amount} TAO from {} to {dest}", from.ss58_address());
        }
        WalletCmd::Balance { wallet, chain } => {
            let ss58 = wallet.wallet()?.coldkeypub()?;
            let public = wallet::ss58::decode(&ss58)?.0;
            let client = chain.connect().await?;
            let free = client.free_balance(&public).await?;
            say!(
                "{ss58}: {} TAO ({free} rao)",
                free as f64 / RAO_PER_TAO as f64
            );
        }
    }
    Ok(())
}

async fn subnet_cmd(cmd: SubnetCmd) -> Result<()> {
    match cmd {
        SubnetCmd::Create { wallet, chain } => {
            let cold = wallet.coldkey()?;
            let hot = wallet.hotkey_public()?;
            let client = chain.connect().await?;
            let netuid = client.register_network(&cold, &hot).await?;
            say!("created subnet {netuid}");
        }
        SubnetCmd::Start {
            wallet,
            chain,
            netuid,
        } => {
            let cold = wallet.coldkey()?;
            chain.connect().await?.start_call(&cold, netuid).await?;
            say!("subnet {netuid} started");
        }
        SubnetCmd::Register {
            wallet,
            chain,
            netuid,
        } => {
            let cold = wallet.coldkey()?;
            let hot = wallet.hotkey_public()?;
            let uid = chain
                .connect()
                .await?
                .burned_register(&cold, netuid, &hot)
                .await?;
            say!(
                "registered {} on subnet {netuid} as uid {uid}",
                wallet::ss58::encode(&hot, 42)
            );
        }
        SubnetCmd::ServeAxon {
            wallet,
            chain,
            netuid,
            ip,
            port,
            protocol,
        } => {
            let hot = wallet.hotkey_pair()?;
            chain
                .connect()
                .await?
                .serve_axon(&hot, netuid, 1, ip, port, protocol, 0, 0)
                .await?;
            say!("axon {ip}:{port} served on subnet {netuid}");
        }
        SubnetCmd::Metagraph { chain, netuid } => {
            let m = chain
                .connect()
                .await?
                .metagraph(netuid)
                .await
                .context("reading the metagraph")?;
            say!(
                "subnet {} at block {}: tempo {}, weights rate limit {}, commit-reveal {}",
                m.netuid,
                m.block,
                m.tempo,
                m.weights_set_rate_limit,
                m.commit_reveal_enabled
            );
            say!("uid  hotkey                                            stake(rao)  vpermit  incentive  dividends  axon");
            for n in &m.neurons {
                let axon = n
                    .axon
                    .as_ref()
                    .map(|a| format!("{}:{}", a.ip, a.port))
                    .unwrap_or_else(|| "-".into());
                say!(
                    "{:<4} {:<49} {:>11} {:>8} {:>10} {:>10}  {}",
                    n.uid,
                    n.hotkey_ss58(),
                    n.stake,
                    n.validator_permit,
                    n.incentive,
                    n.dividends,
                    axon
                );
            }
            // Weights as the chain stores them (u16, max-upscaled), per
            // validator that has set any.
            for n in m.neurons.iter().filter(|n| !n.weights.is_empty()) {
                let row: Vec<String> = n
                    .weights
                    .iter()
                    .map(|(uid, w)| format!("uid {uid}: {w}"))
                    .collect();
                say!(
                    "weights set by uid {} (last update block {}): {}",
                    n.uid,
                    n.last_update,
                    row.join(", ")
                );
            }
        }
    }
    Ok(())
}

async fn sudo_cmd(cmd: SudoCmd) -> Result<()> {
    match cmd {
        SudoCmd::Tempo {
            wallet,
            chain,
            sudo,
            netuid,
            tempo,
        } => {
            let key = sudo_key(&wallet, &sudo)?;
            chain
                .connect()
                .await?
                .sudo_set_tempo(&key, netuid, tempo)
                .await?;
            say!("subnet {netuid}: tempo = {tempo}");
        }
        SudoCmd::WeightsRateLimit {
            wallet,
            chain,
            sudo,
            netuid,
            limit,
        } => {
            let key = sudo_key(&wallet, &sudo)?;
            chain
                .connect()
                .await?
                .sudo_set_weights_set_rate_limit(&key, netuid, limit)
                .await?;
            say!("subnet {netuid}: weights rate limit = {limit}");
        }
        SudoCmd::CommitReveal {
            wallet,
            chain,
            sudo,
            netuid,
            enabled,
        } => {
            let key = sudo_key(&wallet, &sudo)?;
            chain
                .connect()
                .await?
                .sudo_set_commit_reveal_weights_enabled(&key, netuid, enabled)
                .await?;
            say!("subnet {netuid}: commit-reveal = {enabled}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn btcli_flag_names_parse() {
        let cli = Cli::try_parse_from([
            "subnet-cli",
            "sudo",
            "set-tempo",
            "--wallet.name",
            "owner",
            "--wallet.hotkey",
            "hk",
            "--wallet.path",
            "/tmp/w",
            "--subtensor.network",
            "local",
            "--sudo.uri",
            "//Alice",
            "--netuid",
            "3",
            "--tempo",
            "10",
        ])
        .unwrap();
        let Command::Sudo(SudoCmd::Tempo {
            wallet,
            chain,
            sudo,
            netuid,
            tempo,
        }) = cli.command
        else {
            panic!("wrong subcommand");
        };
        assert_eq!(
            (wallet.name.as_str(), wallet.hotkey.as_str()),
            ("owner", "hk")
        );
        assert_eq!(wallet.path, Some(PathBuf::from("/tmp/w")));
        assert_eq!(chain.network, "local");
        assert_eq!(sudo.sudo_uri.as_deref(), Some("//Alice"));
        assert_eq!((netuid, tempo), (3, 10));
    }

    #[test]
    fn bad_numbers_are_rejected_by_the_parser() {
        assert!(
            Cli::try_parse_from(["subnet-cli", "subnet", "start", "--netuid", "70000"]).is_err()
        );
        assert!(Cli::try_parse_from([
            "subnet-cli",
            "subnet",
            "serve-axon",
            "--netuid",
            "1",
            "--ip",
            "999.1.1.1",
            "--port",
            "1"
        ])
        .is_err());
    }

    #[test]
    fn tao_amounts() {
        assert_eq!(tao_to_rao(1.5).unwrap(), 1_500_000_000);
        assert!(tao_to_rao(-1.0).is_err());
        assert!(tao_to_rao(f64::NAN).is_err());
        assert!(tao_to_rao(1e30).is_err());
    }
}
