//! The whole subnet on the local chain, as an operator would run it: a new
//! subnet, one staked validator and three miners (honest and fast, honest
//! but slowed down, cheating), each a real child process of the real
//! binaries. The validator must end up setting weights twice, and chain
//! storage and the validator's database must agree that the fast miner earns
//! most, the slow one less and the cheater nothing.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chain_client::{ChainClient, Metagraph, Neuron, RAO_PER_TAO};
use localnet::LocalChain;
use validator::store::Store;
use wallet::{Keypair, Wallet};

const NETUID_TEMPO: u16 = 10;
/// The slow miner sleeps this long after proving.
const SLOW_DELAY_MS: u64 = 1_500;
/// Bound on the run phase (miners and validator up until the assertions).
const RUN_LIMIT: Duration = Duration::from_secs(240);
const POLL: Duration = Duration::from_millis(250);

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Builds the miner (with its test hooks) and the validator in the test
/// profile — the one `cargo test` already built their dependencies in, with
/// the proving stack optimized — and returns the two executables. Cargo
/// does not hold its build lock while tests run, so this nested build is
/// safe, and a no-op when nothing changed.
fn build_binaries() -> (PathBuf, PathBuf) {
    let out = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args([
            "build",
            "--locked",
            "--profile",
            "test",
            "-p",
            "miner",
            "-p",
            "validator",
            "--features",
            "miner/test-hooks",
            "--message-format",
            "json-render-diagnostics",
        ])
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(
        out.status.success(),
        "cargo build of miner and validator failed"
    );
    let mut found: HashMap<String, PathBuf> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"].as_str().unwrap_or_default();
        if let Some(exe) = msg["executable"].as_str() {
            found.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    let miner = found
        .remove("miner")
        .expect("cargo reported no miner executable");
    let validator = found
        .remove("validator")
        .expect("cargo reported no validator executable");
    (miner, validator)
}

/// A child process killed (by its PID) and reaped on drop, whatever way
/// the test ends.
struct Proc {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &str, exe: &Path, args: &[String], dir: &Path) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("create log");
        let child = Command::new(exe)
            .args(args)
            .current_dir(workspace_root())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("dup log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Proc {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its log:\n{}",
                self.name,
                tail(&self.log, 60)
            );
        }
    }

    fn kill(&mut self) {
        // SIGKILL by PID: nothing of the child's own shutdown path may
        // matter for what the test checks afterwards.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- {} log (tail) ----\n{}",
                self.name,
                tail(&self.log, 40)
            );
        }
    }
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn free_port(ip: IpAddr) -> u16 {
    TcpListener::bind(SocketAddr::new(ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn neuron<'a>(m: &'a Metagraph, key: &Keypair) -> &'a Neuron {
    let uid = m
        .uid_of(&key.public_key())
        .unwrap_or_else(|| panic!("{} not registered", key.ss58_address()));
    m.neuron(uid).expect("uid in metagraph")
}

fn weight_of(m: &Metagraph, validator: &Keypair, target: &Keypair) -> u16 {
    let t = neuron(m, target).uid;
    neuron(m, validator)
        .weights
        .iter()
        .find(|(uid, _)| *uid == t)
        .map(|(_, w)| *w)
        .unwrap_or(0)
}

/// Plain HTTP GET of `path`, to check an endpoint without a client crate.
/// Returns the whole response, status line and headers included.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body)
        .unwrap_or_else(|e| panic!("read {path}: {e}"));
    body
}

/// GET of a JSON API path: asserts 200 and parses the body.
fn get_json(addr: SocketAddr, path: &str) -> serde_json::Value {
    let resp = http_get(addr, path);
    assert!(resp.starts_with("HTTP/1.1 200"), "{path}: {resp}");
    let (_, body) = resp.split_once("\r\n\r\n").expect("HTTP body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Writes the run's requests and weights as JSON: the recording the
/// validator's dashboard API test replays (validator/tests/fixtures).
fn record_run(db: &Path, out: &Path) {
    let store = Store::open(db).unwrap();
    let mut requests = store.recent_requests(None, 100_000).unwrap();
    requests.reverse();
    let mut weights = store.weights_history(10_000).unwrap();
    weights.reverse();
    let json = serde_json::json!({ "requests": requests, "weights": weights });
    std::fs::write(out, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    eprintln!("recorded {} requests to {}", requests.len(), out.display());
}

struct MinerSpec {
    name: &'static str,
    ip: &'static str,
    extra: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_honest_miner_earns_most_and_the_cheater_nothing() {
    let (miner_exe, validator_exe) = tokio::task::spawn_blocking(build_binaries).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wallets = dir.path().join("wallets");

    let chain = LocalChain::builder()
        .block_time_ms(250)
        .start()
        .expect("start local chain");
    let endpoint = chain.ws_url();
    let client = ChainClient::connect(&endpoint).await.unwrap();
    let alice = Keypair::from_dev_uri("//Alice").unwrap(); // sudo
    let bob = Keypair::from_dev_uri("//Bob").unwrap(); // coldkey of every neuron

    // A fresh subnet: weights every block allowed, commit-reveal off.
    let owner_hot = Keypair::generate(12).unwrap();
    let netuid = client
        .register_network(&alice, &owner_hot.public_key())
        .await
        .unwrap();
    client.start_call(&alice, netuid).await.unwrap();
    client
        .sudo_set_commit_reveal_weights_enabled(&alice, netuid, false)
        .await
        .unwrap();
    client
        .sudo_set_weights_set_rate_limit(&alice, netuid, 0)
        .await
        .unwrap();
    client
        .sudo_set_tempo(&alice, netuid, NETUID_TEMPO)
        .await
        .unwrap();

    // Wallets on disk (hotkeys only: Bob's dev key pays for registration),
    // funded hotkeys (an account must exist to sign), registrations.
    let names = ["validator", "fast", "slow", "cheat"];
    let mut keys: HashMap<&str, Keypair> = HashMap::new();
    for name in names {
        let hot = Keypair::generate(12).unwrap();
        Wallet::new(Some(&wallets), name, "default")
            .unwrap()
            .set_hotkey(&hot, None, false)
            .unwrap();
        client
            .transfer_keep_alive(&alice, &hot.public_key(), u128::from(10 * RAO_PER_TAO))
            .await
            .unwrap();
        client
            .burned_register(&bob, netuid, &hot.public_key())
            .await
            .unwrap();
        keys.insert(name, hot);
    }
    client
        .add_stake(
            &bob,
            &keys["validator"].public_key(),
            netuid,
            1_000 * RAO_PER_TAO,
        )
        .await
        .unwrap();

    let started = Instant::now();
    let deadline = started + RUN_LIMIT;
    // Miners refuse callers without a validator permit; permits come at an epoch.
    loop {
        let m = client.metagraph(netuid).await.unwrap();
        if neuron(&m, &keys["validator"]).validator_permit {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no validator permit by block {}",
            m.block
        );
        tokio::time::sleep(POLL).await;
    }

    let common = |name: &str| -> Vec<String> {
        vec![
            "--netuid".into(),
            netuid.to_string(),
            "--wallet.name".into(),
            name.into(),
            "--wallet.hotkey".into(),
            "default".into(),
            "--wallet.path".into(),
            wallets.display().to_string(),
            "--subtensor.chain_endpoint".into(),
            endpoint.clone(),
        ]
    };
    let miners = [
        MinerSpec {
            name: "fast",
            ip: "127.0.0.2",
            extra: vec![],
        },
        MinerSpec {
            name: "slow",
            ip: "127.0.0.3",
            extra: vec!["--test.delay_ms".into(), SLOW_DELAY_MS.to_string()],
        },
        MinerSpec {
            name: "cheat",
            ip: "127.0.0.4",
            extra: vec!["--test.cheat".into()],
        },
    ];
    let mut procs = Vec::new();
    for spec in &miners {
        let ip: IpAddr = spec.ip.parse().unwrap();
        let mut args = vec!["run".to_string()];
        args.extend(common(spec.name));
        args.extend([
            "--axon.ip".into(),
            spec.ip.into(),
            "--axon.port".into(),
            free_port(ip).to_string(),
            "--registry".into(),
            workspace_root().join("registry").display().to_string(),
            "--models".into(),
            "digits_mlp".into(),
        ]);
        args.extend(spec.extra.iter().cloned());
        procs.push(Proc::spawn(spec.name, &miner_exe, &args, dir.path()));
    }
    // All three axons on chain before the validator looks.
    loop {
        for p in procs.iter_mut() {
            p.assert_running();
        }
        let m = client.metagraph(netuid).await.unwrap();
        if ["fast", "slow", "cheat"]
            .iter()
            .all(|n| neuron(&m, &keys[n]).axon.is_some())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "miners did not publish their axons"
        );
        tokio::time::sleep(POLL).await;
    }

    let metrics_ip: IpAddr = "127.0.0.5".parse().unwrap();
    let metrics_addr = SocketAddr::new(metrics_ip, free_port(metrics_ip));
    let dashboard_ip: IpAddr = "127.0.0.6".parse().unwrap();
    let dashboard_addr = SocketAddr::new(dashboard_ip, free_port(dashboard_ip));
    let db = dir.path().join("validator.sqlite");
    let config = dir.path().join("validator.toml");
    std::fs::write(
        &config,
        format!(
            r#"
netuid = {netuid}
db = "{db}"
registry = "{registry}"
metrics_addr = "{metrics_addr}"

[wallet]
name = "validator"
hotkey = "default"
path = "{wallets}"

[subtensor]
chain_endpoint = "{endpoint}"

[metagraph]
sync_interval_blocks = 4

[challenge]
interval_ms = 200
sample_size = 3
concurrency = 3
models = ["digits_mlp"]

[scoring]
success_alpha = 0.3
failure_alpha = 0.8
failure_target = -0.5

[weights]
interval_blocks = 12

[dashboard]
addr = "{dashboard_addr}"
refresh_ms = 200
"#,
            db = db.display(),
            registry = workspace_root().join("registry").display(),
            wallets = wallets.display(),
        ),
    )
    .unwrap();
    let mut validator = Proc::spawn(
        "validator",
        &validator_exe,
        &["--config".to_string(), config.display().to_string()],
        dir.path(),
    );

    // Run until the validator has set weights on chain twice.
    let sets = loop {
        validator.assert_running();
        for p in procs.iter_mut() {
            p.assert_running();
        }
        if db.exists() {
            let store = Store::open(&db).unwrap();
            let sets: Vec<_> = store
                .weights_history(100)
                .unwrap()
                .into_iter()
                .filter(|w| w.kind == "set")
                .collect();
            if sets.len() >= 2 {
                break sets;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the validator did not set weights twice within {RUN_LIMIT:?}"
        );
        tokio::time::sleep(POLL).await;
    };
    let metrics = http_get(metrics_addr, "/metrics");
    // The dashboard mounted in the running validator serves its database
    // and the chain as the service sees it.
    let dash_miners = get_json(dashboard_addr, "/api/miners");
    let dash_chain = get_json(dashboard_addr, "/api/chain");
    let dash_weights = get_json(dashboard_addr, "/api/weights?limit=10");
    let dash_challenges = get_json(dashboard_addr, "/api/challenges?limit=20");
    let page = http_get(dashboard_addr, "/");
    if let Ok(path) = std::env::var("SUBNET_E2E_RECORD_TO") {
        record_run(&db, Path::new(&path));
    }
    // Stopped hard: the database must hold everything it reported.
    validator.kill();
    for p in procs.iter_mut() {
        p.kill();
    }
    let last_set = sets.iter().map(|w| w.block).max().unwrap();

    // Incentive follows weights at the next epoch.
    let m = loop {
        let m = client.metagraph(netuid).await.unwrap();
        if m.block > last_set + u64::from(NETUID_TEMPO) + 1 {
            break m;
        }
        assert!(Instant::now() < deadline, "no epoch after the last weights");
        tokio::time::sleep(POLL).await;
    };
    let v = &keys["validator"];
    let (fast, slow, cheat) = (&keys["fast"], &keys["slow"], &keys["cheat"]);
    let w = |k: &Keypair| weight_of(&m, v, k);
    let inc = |k: &Keypair| neuron(&m, k).incentive;
    eprintln!(
        "weights fast/slow/cheat = {}/{}/{}, incentive = {}/{}/{}",
        w(fast),
        w(slow),
        w(cheat),
        inc(fast),
        inc(slow),
        inc(cheat)
    );
    assert_eq!(w(fast), u16::MAX, "the fast miner holds the top weight");
    assert!(w(slow) > 0 && w(slow) < w(fast), "slow weight {}", w(slow));
    assert_eq!(w(cheat), 0, "the cheater has weight");
    assert!(
        inc(fast) > inc(slow),
        "incentive fast {} slow {}",
        inc(fast),
        inc(slow)
    );
    assert!(inc(slow) > 0, "the honest slow miner earns something");
    assert_eq!(inc(cheat), 0, "the cheater earns incentive");

    // The database agrees with the chain and explains why.
    let store = Store::open(&db).unwrap();
    let current = store.current_weights().unwrap().expect("weights recorded");
    let on_chain: Vec<(u16, u16)> = neuron(&m, v).weights.clone();
    let recorded: Vec<(u16, u16)> = current
        .uids
        .iter()
        .copied()
        .zip(current.values.iter().copied())
        .collect();
    assert_eq!(
        recorded, on_chain,
        "the last recorded weights are not the chain's"
    );
    assert!(current.tx_hash.starts_with("0x"));
    let miners: HashMap<u16, validator::store::MinerSummary> = store
        .miners()
        .unwrap()
        .into_iter()
        .map(|s| (s.uid, s))
        .collect();
    let row = |k: &Keypair| {
        let uid = neuron(&m, k).uid;
        let r = miners
            .get(&uid)
            .unwrap_or_else(|| panic!("uid {uid} never scored"));
        assert_eq!(r.hotkey, k.ss58_address());
        r.clone()
    };
    let (rf, rs, rc) = (row(fast), row(slow), row(cheat));
    assert!(
        rf.score > rs.score,
        "scores fast {} slow {}",
        rf.score,
        rs.score
    );
    assert!(rs.score > 0.0);
    assert_eq!(rc.score, 0.0);
    assert_eq!(rc.successes, 0, "a cheating answer verified");
    assert!(rc.failures > 0);
    assert_eq!(rf.validity_rate, Some(1.0));
    eprintln!(
        "median latency fast {:?} ms, slow {:?} ms; requests fast {}, slow {}, cheat {}",
        rf.latency_median_ms,
        rs.latency_median_ms,
        rf.successes + rf.failures,
        rs.successes + rs.failures,
        rc.successes + rc.failures
    );
    assert_eq!((rf.weight, rc.weight), (u16::MAX, 0));
    let cheats = store.miner_history(rc.uid, 1000).unwrap();
    assert!(
        cheats
            .iter()
            .all(|r| !r.success && r.reason.as_deref() == Some("invalid_proof")),
        "cheater failures: {:?}",
        cheats.iter().map(|r| r.reason.clone()).collect::<Vec<_>>()
    );

    // The dashboard showed the same story while the validator ran.
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<table"), "the page has no miners table");
    let dash_row = |k: &Keypair| {
        let hotkey = k.ss58_address();
        dash_miners
            .as_array()
            .expect("miners array")
            .iter()
            .find(|r| r["hotkey"] == hotkey.as_str())
            .unwrap_or_else(|| panic!("{hotkey} missing from /api/miners: {dash_miners}"))
            .clone()
    };
    let (df, ds, dc) = (dash_row(fast), dash_row(slow), dash_row(cheat));
    assert_eq!(df["uid"], rf.uid);
    assert_eq!(df["validity_rate"], 1.0);
    assert_eq!(dc["validity_rate"], 0.0);
    assert!(dc["weight"].is_null(), "the cheater shows a weight: {dc}");
    // Read while the validator ran, so these are the weights of its first
    // or second setting: the slow miner may not have had any yet.
    let share = |r: &serde_json::Value| r["weight"].as_f64().unwrap_or(0.0);
    assert!(share(&df) > share(&ds), "dashboard weights {df} {ds}");
    let fast_ms = df["median_latency_ms"]
        .as_f64()
        .expect("fast miner latency");
    if let Some(slow_ms) = ds["median_latency_ms"].as_f64() {
        assert!(
            fast_ms < slow_ms,
            "median latency fast {fast_ms} slow {slow_ms}"
        );
    }
    assert_eq!(dash_chain["netuid"], netuid);
    assert_eq!(dash_chain["connected"], true);
    assert_eq!(dash_chain["validator_uid"], neuron(&m, v).uid);
    assert_eq!(dash_chain["validator_hotkey"], v.ss58_address().as_str());
    assert_eq!(dash_chain["tempo"], NETUID_TEMPO);
    assert!(dash_chain["next_weights_block"].as_u64().unwrap() > last_set);
    let dash_sets = dash_weights.as_array().expect("weights array");
    assert!(dash_sets.len() >= 2, "{dash_weights}");
    assert!(dash_sets.iter().all(|w| w["method"] == "set_weights"));
    assert!(
        dash_sets.iter().any(|w| w["block"] == last_set),
        "weights at block {last_set} missing: {dash_weights}"
    );
    let logged = dash_challenges.as_array().expect("challenges array");
    assert!(!logged.is_empty());
    assert!(logged
        .iter()
        .any(|c| c["outcome"] == "invalid_proof" && c["hotkey"] == cheat.ss58_address().as_str()));

    // And the metrics endpoint counted the same kinds of events.
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("validator_requests_total{outcome=\"success\""));
    assert!(
        metrics.contains("validator_requests_total{outcome=\"failure\",reason=\"invalid_proof\"}")
    );
    assert!(metrics.contains("validator_weights_total{kind=\"set\"}"));
    eprintln!("run phase took {:?}", started.elapsed());
    drop(chain);
}
