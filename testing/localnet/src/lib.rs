//! Test harness for the local dev chain: [`LocalChain::start`] runs
//! `scripts/localnet.sh` (chopsticks on the committed chain spec) on a free
//! port and [`Drop`] kills the whole process group it started, so a failing
//! test never leaves a chain running.

mod process;

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

pub use process::ProcessGroup;

/// Default block interval, as subtensor's fast localnet.
pub const DEFAULT_BLOCK_TIME_MS: u64 = 250;
/// How long to wait for the RPC; the first run also installs chopsticks.
pub const START_TIMEOUT: Duration = Duration::from_secs(300);
/// Free-port races are retried this many times when no port was requested.
const PORT_ATTEMPTS: usize = 3;
/// Lines of the script's stderr kept for error reports.
const LOG_TAIL: usize = 40;

/// Why the chain could not be started.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("launcher script not found at {0}")]
    ScriptMissing(PathBuf),
    #[error("could not spawn the launcher: {0}")]
    Spawn(#[source] std::io::Error),
    #[error("could not find a free port: {0}")]
    NoFreePort(#[source] std::io::Error),
    #[error("localnet exited before its RPC answered; last output:\n{log}")]
    Exited { log: String },
    #[error("localnet did not answer within {timeout:?}; last output:\n{log}")]
    Timeout { timeout: Duration, log: String },
}

/// A running local dev chain; dropped, it stops.
#[derive(Debug)]
pub struct LocalChain {
    group: ProcessGroup,
    port: u16,
}

/// Options for [`LocalChain`]; see [`LocalChain::builder`].
#[derive(Debug, Clone)]
pub struct LocalChainBuilder {
    port: Option<u16>,
    block_time_ms: u64,
}

impl Default for LocalChainBuilder {
    fn default() -> Self {
        Self {
            port: None,
            block_time_ms: DEFAULT_BLOCK_TIME_MS,
        }
    }
}

impl LocalChainBuilder {
    /// Listen on this port instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Produce a block every `ms` milliseconds.
    pub fn block_time_ms(mut self, ms: u64) -> Self {
        self.block_time_ms = ms;
        self
    }

    /// Starts the chain and waits until its RPC answers.
    pub fn start(self) -> Result<LocalChain, Error> {
        let script = script_path();
        if !script.is_file() {
            return Err(Error::ScriptMissing(script));
        }
        let attempts = if self.port.is_some() {
            1
        } else {
            PORT_ATTEMPTS
        };
        let mut last = None;
        for _ in 0..attempts {
            let port = match self.port {
                Some(p) => p,
                None => free_port()?,
            };
            match launch(&script, port, self.block_time_ms) {
                Ok(chain) => return Ok(chain),
                // Another process may have taken the port between probe and bind.
                Err(e @ Error::Exited { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::Exited { log: String::new() }))
    }
}

impl LocalChain {
    /// Starts a chain on a free port with 250 ms blocks.
    pub fn start() -> Result<LocalChain, Error> {
        Self::builder().start()
    }

    pub fn builder() -> LocalChainBuilder {
        LocalChainBuilder::default()
    }

    /// `ws://127.0.0.1:PORT`
    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process-group id of the launcher (chopsticks and the block timer are in it).
    pub fn pgid(&self) -> i32 {
        self.group.pgid()
    }
}

impl Drop for LocalChain {
    fn drop(&mut self) {
        self.group.stop();
    }
}

fn script_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/localnet.sh")
}

fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(Error::NoFreePort)?;
    Ok(listener.local_addr().map_err(Error::NoFreePort)?.port())
}

fn launch(script: &PathBuf, port: u16, block_time_ms: u64) -> Result<LocalChain, Error> {
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .args(["--port", &port.to_string()])
        .args(["--block-time-ms", &block_time_ms.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (mut group, stdout, stderr) = ProcessGroup::spawn(cmd).map_err(Error::Spawn)?;

    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            tracing::debug!(target: "localnet", "{line}");
            if let Ok(mut tail) = sink.lock() {
                tail.push(line);
                let excess = tail.len().saturating_sub(LOG_TAIL);
                tail.drain(..excess);
            }
        }
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let tail = |log: &Arc<Mutex<Vec<String>>>| log.lock().map(|t| t.join("\n")).unwrap_or_default();
    let deadline = std::time::Instant::now() + START_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("localnet: endpoint ") => {
                tracing::info!(port, "local chain ready");
                return Ok(LocalChain { group, port });
            }
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                group.stop();
                // Give the stderr reader a moment to drain the script's last words.
                std::thread::sleep(Duration::from_millis(100));
                return Err(Error::Exited { log: tail(&log) });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                group.stop();
                return Err(Error::Timeout {
                    timeout: START_TIMEOUT,
                    log: tail(&log),
                });
            }
        }
    }
}
