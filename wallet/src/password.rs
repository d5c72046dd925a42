//! Where a coldkey password comes from. Interactive use prompts without echo;
//! services and CI read it from an environment variable so they never need a
//! terminal.

use zeroize::Zeroizing;

use crate::WalletError;

/// How to obtain a password.
#[derive(Clone)]
pub enum PasswordSource {
    /// Already known (tests, or a caller that read it elsewhere).
    Literal(Zeroizing<String>),
    /// Read from this environment variable; missing is an error.
    Env(String),
    /// Ask on the terminal without echo.
    Prompt,
    /// Use the environment variable when set, otherwise prompt.
    EnvOrPrompt(String),
}

impl std::fmt::Debug for PasswordSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PasswordSource::Literal(_) => f.write_str("Literal(<redacted>)"),
            PasswordSource::Env(v) => write!(f, "Env({v})"),
            PasswordSource::Prompt => f.write_str("Prompt"),
            PasswordSource::EnvOrPrompt(v) => write!(f, "EnvOrPrompt({v})"),
        }
    }
}

impl PasswordSource {
    pub fn literal(password: impl Into<String>) -> Self {
        PasswordSource::Literal(Zeroizing::new(password.into()))
    }

    /// btwallet's historical per-wallet variable: `BT_COLD_PW_<NAME>` with the
    /// wallet name upper-cased and `-` replaced by `_`.
    pub fn coldkey_env_var(wallet_name: &str) -> String {
        format!(
            "BT_COLD_PW_{}",
            wallet_name.to_uppercase().replace('-', "_")
        )
    }

    /// Resolves the password; `prompt` is the text shown when asking.
    pub fn get(&self, prompt: &str) -> Result<Zeroizing<String>, WalletError> {
        match self {
            PasswordSource::Literal(p) => Ok(p.clone()),
            PasswordSource::Env(var) => std::env::var(var).map(Zeroizing::new).map_err(|_| {
                WalletError::Password(format!("environment variable {var} is not set"))
            }),
            PasswordSource::Prompt => rpassword::prompt_password(prompt)
                .map(Zeroizing::new)
                .map_err(|e| WalletError::Password(e.to_string())),
            PasswordSource::EnvOrPrompt(var) => match std::env::var(var) {
                Ok(p) => Ok(Zeroizing::new(p)),
                Err(_) => PasswordSource::Prompt.get(prompt),
            },
        }
    }
}
