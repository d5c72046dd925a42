//! Bittensor-compatible wallets.
//!
//! Miners, validators and `subnet-cli` must be able to use keys made by
//! `btcli` (and vice versa), so this crate reads and writes bittensor's exact
//! on-disk layout and keyfile format:
//!
//! ```text
//! <wallet.path>/<name>/coldkey          $NACL-encrypted (or plain) keyfile JSON
//! <wallet.path>/<name>/coldkeypub.txt   public part only
//! <wallet.path>/<name>/hotkeys/<hotkey> plain keyfile JSON
//! <wallet.path>/<name>/hotkeys/<hotkey>pub.txt
//! ```
//!
//! Keys are sr25519 (schnorrkel), derived from BIP-39 mnemonics the same way
//! Substrate does, so a mnemonic gives the same address here, in btcli and in
//! polkadot.js.

mod error;
pub mod keyfile;
pub mod keypair;
pub mod nacl;
pub mod password;
pub mod ss58;
mod store;

pub use error::WalletError;
pub use keyfile::KeyfileData;
pub use keypair::Keypair;
pub use password::PasswordSource;
pub use store::{
    default_wallet_path, expand_tilde, list_wallets, read_keyfile, write_private_file, Wallet,
    WALLET_PATH_ENV,
};
