//! The dashboard in a real browser: Debian's headless Chromium, driven over
//! WebDriver by chromedriver, loads the page from a server on 127.0.0.3 with
//! a token, and we check what it actually rendered (table rows with the
//! recorded data, sorting, drawn chart paths, a live update over SSE).
//! Screenshots of the dashboard and the miner status page are saved under
//! `<target>/tmp/dashboard-screenshots/` for a human to look at.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian packages
//! `chromium` and `chromium-driver`; `.ci/run` installs them).

mod common;

use std::future::IntoFuture;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashboard::{
    DashboardConfig, DashboardSource, MinerHistory, MinerStatus, MinerStatusSource, ModelStatus,
    SourceError, Token,
};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const TOKEN: &str = "browser-test-token-0123456789";
/// Upper bound on any single wait; a healthy run needs a fraction of it.
const WAIT: Duration = Duration::from_secs(60);

/// chromedriver, stopped (by its own PID) when the test ends, pass or fail.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("create screenshot dir");
    dir
}

fn start_driver(log: &Path) -> Driver {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} missing: apt-get install -y chromium chromium-driver"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .arg(format!("--log-path={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    Driver { child, port }
}

async fn connect(driver: &mut Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                // CI runs as root in a container, where Chromium's sandbox
                // cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1400,1500",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{}", driver.port);
    let deadline = Instant::now() + WAIT;
    loop {
        match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) => {
                if let Ok(Some(status)) = driver.child.try_wait() {
                    panic!("chromedriver exited ({status}) before accepting a session: {e}");
                }
                assert!(Instant::now() < deadline, "no WebDriver session: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn serve_on(ip: Ipv4Addr, router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, router).into_future());
    addr
}

/// Number of points in an SVG path drawn as `M x,y L x,y ...`, checking
/// every coordinate is a number inside the chart's 480x190 view box.
fn path_points(d: &str) -> usize {
    let mut points = 0;
    for command in d.split_whitespace() {
        let coords = command.trim_start_matches(['M', 'L']);
        let (x, y) = coords
            .split_once(',')
            .unwrap_or_else(|| panic!("bad path {d}"));
        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
        assert!(
            (0.0..=480.0).contains(&x) && (0.0..=190.0).contains(&y),
            "{d}"
        );
        points += 1;
    }
    points
}

async fn row_uids(client: &Client) -> Vec<u16> {
    let mut uids = Vec::new();
    for row in client
        .find_all(Locator::Css("#miners tbody tr[data-uid]"))
        .await
        .unwrap()
    {
        uids.push(
            row.attr("data-uid")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap(),
        );
    }
    uids
}

struct Counters;

impl MinerStatusSource for Counters {
    fn status(&self) -> Result<MinerStatus, SourceError> {
        Ok(MinerStatus {
            hotkey: "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty".into(),
            uid: Some(1),
            version: env!("CARGO_PKG_VERSION").into(),
            uptime_s: 5400,
            models: vec![ModelStatus {
                id: "91d0876a385b324391e75a920ad4ca25d7bce48a62295d0096b99eb5f0a3f7af".into(),
                name: "digits_mlp".into(),
                proofs_done: 15,
                failures: 0,
                mean_prove_ms: Some(121.0),
            }],
            proofs_done: 15,
            failures: 0,
            rejected_busy: 0,
            in_flight: 1,
            capacity: 2,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_renders_in_headless_chromium() {
    let out = output_dir();
    let profile = tempfile::tempdir().unwrap();
    let mut driver = start_driver(&out.join("chromedriver.log"));

    let source = common::source();
    let cfg = DashboardConfig {
        listen: "127.0.0.3:0".parse().unwrap(),
        token: Some(Token::new(TOKEN).unwrap()),
        refresh: Duration::from_millis(200),
        ..DashboardConfig::default()
    };
    let listener = dashboard::bind(&cfg).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(dashboard::serve(
        listener,
        source.clone(),
        cfg,
        std::future::pending(),
    ));
    let miner_addr = serve_on(
        Ipv4Addr::new(127, 0, 0, 4),
        dashboard::miner_status_router(Arc::new(Counters)),
    )
    .await;

    let client = connect(&mut driver, profile.path()).await;
    let result = check_dashboard(&client, &source, addr, miner_addr, &out).await;
    let _ = client.close().await;
    result.unwrap();
}

async fn check_dashboard(
    client: &Client,
    source: &Arc<dashboard::RecordedSource>,
    addr: SocketAddr,
    miner_addr: SocketAddr,
    out: &Path,
) -> Result<(), fantoccini::error::CmdError> {
    // Without the token the browser gets the 401 text, not the page.
    client.goto(&format!("http://{addr}/")).await?;
    let body = client.find(Locator::Css("body")).await?.text().await?;
    assert!(body.contains("token required"), "{body}");
    assert!(client.find_all(Locator::Id("miners")).await?.is_empty());

    // With it, the token becomes a cookie and the URL loses it.
    client
        .goto(&format!("http://{addr}/?token={TOKEN}"))
        .await?;
    assert_eq!(
        client.current_url().await?.as_str(),
        format!("http://{addr}/")
    );
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#miners tbody tr[data-uid]"))
        .await?;

    // Rows carry the API's data, best score first by default.
    let mut miners = source.miners().unwrap();
    miners.sort_by(|a, b| b.score.total_cmp(&a.score));
    let rows = client
        .find_all(Locator::Css("#miners tbody tr[data-uid]"))
        .await?;
    assert_eq!(rows.len(), miners.len());
    for (row, miner) in rows.iter().zip(&miners) {
        let cells = row.find_all(Locator::Css("td")).await?;
        assert_eq!(cells[0].text().await?, miner.uid.to_string());
        assert_eq!(
            cells[1].attr("title").await?.as_deref(),
            Some(miner.hotkey.as_str())
        );
        assert_eq!(cells[2].text().await?, format!("{:.4}", miner.score));
        assert_eq!(cells[4].text().await?, miner.challenges.to_string());
    }

    // Sorting: uid descending on first click, ascending on the second.
    let mut uids: Vec<u16> = miners.iter().map(|m| m.uid).collect();
    uids.sort_unstable();
    let uid_header = client
        .find(Locator::Css("#miners th[data-key=uid]"))
        .await?;
    uid_header.click().await?;
    assert_eq!(
        row_uids(client).await,
        uids.iter().rev().copied().collect::<Vec<_>>()
    );
    uid_header.click().await?;
    assert_eq!(row_uids(client).await, uids);

    // The charts show the best miner's history: one path point per result.
    let best = miners[0].uid;
    let history: MinerHistory = source.miner_history(best, 500).unwrap().unwrap();
    let score = client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#chart-score path.line"))
        .await?;
    let d = score.attr("d").await?.unwrap_or_default();
    assert_eq!(path_points(&d), history.points.len());
    let latency = client
        .find(Locator::Css("#chart-latency path.line"))
        .await?;
    let verified = history
        .points
        .iter()
        .filter(|p| p.latency_ms.is_some())
        .count();
    assert_eq!(path_points(&latency.attr("d").await?.unwrap()), verified);

    // Picking another miner redraws the charts with its history.
    let flaky = 4;
    client
        .find(Locator::Css(&format!(
            "#miners tbody tr[data-uid='{flaky}']"
        )))
        .await?
        .click()
        .await?;
    let flaky_history = source.miner_history(flaky, 500).unwrap().unwrap();
    let failures = flaky_history.points.iter().filter(|p| !p.success).count();
    let deadline = Instant::now() + WAIT;
    while client
        .find_all(Locator::Css("#chart-score rect.fail"))
        .await?
        .len()
        != failures
    {
        assert!(Instant::now() < deadline, "failure marks never drawn");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(failures > 0);

    // Challenge log and weights history are filled from the same data.
    let challenge_rows = client
        .find_all(Locator::Css("#challenges tbody tr"))
        .await?;
    assert_eq!(challenge_rows.len(), 50);
    let weight_rows = client.find_all(Locator::Css("#weights tbody tr")).await?;
    assert_eq!(weight_rows.len(), source.weights_history(20).unwrap().len());
    let chain = source.chain_status().unwrap();
    let best_block = client.find(Locator::Id("chain-best")).await?.text().await?;
    assert_eq!(best_block, format!("#{}", chain.best_block.unwrap()));

    let png = client.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"));
    std::fs::write(out.join("dashboard.png"), &png).unwrap();

    // Live update: a new miner's first result appears without a reload.
    let mut record = common::recording().challenges.pop().unwrap();
    record.uid = 7;
    record.time_ms += 5_000;
    record.hotkey = "5EYCAe5ijiYfyeZ2JJCGq56LmPyNRAKzpG4QkoQkkQNB5e6Z".into();
    source.push_challenge(record).unwrap();
    client
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#miners tbody tr[data-uid='7']"))
        .await?;
    let live = client.find(Locator::Id("live")).await?.text().await?;
    assert_eq!(live, "live");

    // The miner's status page renders in the browser too.
    client
        .goto(&format!("http://{miner_addr}/status/page"))
        .await?;
    let done = client
        .find(Locator::Id("proofs-done"))
        .await?
        .text()
        .await?;
    assert_eq!(done, "15");
    let png = client.screenshot().await?;
    std::fs::write(out.join("miner-status.png"), &png).unwrap();
    println!("screenshots in {}", out.display());
    Ok(())
}
