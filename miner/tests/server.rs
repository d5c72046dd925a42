//! The axon end to end over real HTTP on 127.0.0.2, with an in-memory
//! metagraph and the repository's registry: every refusal path, and real
//! proofs that the validator-side verifier accepts (or, from a cheating
//! miner, rejects).

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use circuits::registry::{ModelId, Registry};
use miner::metagraph::{MetagraphView, Peer, PeerTable};
use miner::models::ModelStore;
use miner::{MinerState, Policy, TestHooks};
use reqwest::StatusCode;
use subnet_types::auth::{sign_request, unix_ms};
use subnet_types::{
    AuthScheme, Challenge, ChallengeResponse, Verifier, VerifierConfig, CHALLENGE_PATH,
    PROTOCOL_VERSION,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wallet::Keypair;

const MIN_STAKE: u64 = 1_000;

fn key(name: &str) -> Keypair {
    Keypair::from_dev_uri(&format!("//{name}")).unwrap()
}

/// digits_mlp from the repository registry, compiled once for all tests.
fn models() -> Arc<ModelStore> {
    static STORE: OnceLock<Arc<ModelStore>> = OnceLock::new();
    STORE
        .get_or_init(|| {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../registry");
            let reg = Registry::load(dir).expect("repository registry loads");
            Arc::new(ModelStore::new(reg, &["digits_mlp".to_string()]).unwrap())
        })
        .clone()
}

fn digits_id() -> ModelId {
    models().slots()[0].entry().id
}

/// Alice: a staked validator. Charlie: registered, no permit. Dave: permit
/// but too little stake. Bob is not registered at all.
fn table() -> PeerTable {
    let mut peers = HashMap::new();
    let mut add = |name: &str, uid, stake_rao, validator_permit| {
        peers.insert(
            key(name).public_key(),
            Peer {
                uid,
                stake_rao,
                validator_permit,
            },
        );
    };
    add("Alice", 0, 1_000_000, true);
    add("Charlie", 1, 1_000_000, false);
    add("Dave", 2, MIN_STAKE - 1, true);
    add("Miner", 3, 0, false);
    PeerTable { block: 42, peers }
}

struct Server {
    url: String,
    state: Arc<MinerState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

async fn start(scheme: AuthScheme, hooks: TestHooks) -> Server {
    let miner = key("Miner");
    let verifier = Verifier::new(VerifierConfig::new(scheme, miner.ss58_address()));
    let state = Arc::new(MinerState::new(
        miner.public_key(),
        verifier,
        Arc::new(MetagraphView::with_table(table())),
        Policy {
            min_stake_rao: MIN_STAKE,
            force_validator_permit: true,
        },
        models(),
        1,
        hooks,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(miner::server::serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    Server {
        url,
        state,
        stop: Some(tx),
    }
}

fn challenge(input_seed: u8) -> Challenge {
    let m = models().slots()[0].compiled().unwrap();
    Challenge {
        protocol_version: PROTOCOL_VERSION,
        model_id: digits_id().0,
        slices: vec![0],
        input: m.random_input([input_seed; 32]),
        nonce: [input_seed.wrapping_add(1); 32],
        deadline_ms: unix_ms() + 60_000,
    }
}

async fn post(
    s: &Server,
    from: Option<&Keypair>,
    scheme: AuthScheme,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let mut req = reqwest::Client::new().post(format!("{}{CHALLENGE_PATH}", s.url));
    if let Some(k) = from {
        let to = key("Miner").ss58_address();
        req = req.headers(sign_request(
            scheme,
            k,
            "POST",
            CHALLENGE_PATH,
            &body,
            &to,
            unix_ms(),
        ));
    }
    let resp = req.body(body).send().await.unwrap();
    let status = resp.status();
    (status, resp.bytes().await.unwrap().to_vec())
}

async fn get_json(url: &str) -> serde_json::Value {
    let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn unsigned_and_badly_signed_requests_get_401() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let body = challenge(1).to_bytes();
    let (st, msg) = post(&s, None, AuthScheme::Btauth, body.clone()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{}", text(&msg));

    // Signed over another body.
    let alice = key("Alice");
    let headers = sign_request(
        AuthScheme::Btauth,
        &alice,
        "POST",
        CHALLENGE_PATH,
        b"other",
        &key("Miner").ss58_address(),
        unix_ms(),
    );
    let resp = reqwest::Client::new()
        .post(format!("{}{CHALLENGE_PATH}", s.url))
        .headers(headers)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.text().await.unwrap().contains("bad signature"));

    // Addressed to another miner.
    let headers = sign_request(
        AuthScheme::Btauth,
        &alice,
        "POST",
        CHALLENGE_PATH,
        &body,
        &key("Ferdie").ss58_address(),
        unix_ms(),
    );
    let resp = reqwest::Client::new()
        .post(format!("{}{CHALLENGE_PATH}", s.url))
        .headers(headers)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Legacy headers on a btauth server are "unsigned" for it.
    let (st, _) = post(&s, Some(&alice), AuthScheme::Legacy, body).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.state
            .metrics
            .requests_with(miner::metrics::Outcome::Unauthorized),
        4
    );
}

#[tokio::test]
async fn callers_without_standing_get_403() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let body = challenge(2).to_bytes();
    for (who, expect) in [
        ("Bob", "not registered"),
        ("Charlie", "no validator permit"),
        ("Dave", "below the minimum"),
    ] {
        let (st, msg) = post(&s, Some(&key(who)), AuthScheme::Btauth, body.clone()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{who}");
        assert!(text(&msg).contains(expect), "{who}: {}", text(&msg));
    }
}

#[tokio::test]
async fn replayed_request_gets_401() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    // A body that decodes badly: auth passes, the nonce is used, then 400.
    let body = b"not a challenge".to_vec();
    let headers = sign_request(
        AuthScheme::Btauth,
        &key("Alice"),
        "POST",
        CHALLENGE_PATH,
        &body,
        &key("Miner").ss58_address(),
        unix_ms(),
    );
    let client = reqwest::Client::new();
    let url = format!("{}{CHALLENGE_PATH}", s.url);
    let first = client
        .post(&url)
        .headers(headers.clone())
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let again = client
        .post(&url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    assert!(again.text().await.unwrap().contains("replay"));
}

#[tokio::test]
async fn malformed_unknown_and_misshaped_challenges_get_4xx() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let alice = key("Alice");

    let (st, msg) = post(&s, Some(&alice), AuthScheme::Btauth, vec![1, 0, 7]).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{}", text(&msg));

    let mut c = challenge(3);
    c.model_id = [0xab; 32];
    let (st, msg) = post(&s, Some(&alice), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(
        text(&msg).contains("not in this miner's registry"),
        "{}",
        text(&msg)
    );
    assert!(text(&msg).contains("digits_mlp"));

    // In the registry, but this miner serves only digits_mlp.
    let cnn = models().registry().get("digits_cnn").unwrap().id;
    let mut c = challenge(3);
    c.model_id = cnn.0;
    let (st, msg) = post(&s, Some(&alice), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(text(&msg).contains("not served"), "{}", text(&msg));

    let mut c = challenge(3);
    c.input.shape = vec![64, 1];
    let (st, msg) = post(&s, Some(&alice), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{}", text(&msg));

    let mut c = challenge(3);
    c.slices = vec![1];
    let (st, msg) = post(&s, Some(&alice), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(text(&msg).contains("1 slice"), "{}", text(&msg));

    let mut c = challenge(3);
    c.deadline_ms = unix_ms() - 1;
    let (st, _) = post(&s, Some(&alice), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::REQUEST_TIMEOUT);

    assert_eq!(
        s.state
            .metrics
            .requests_with(miner::metrics::Outcome::ClientError),
        6
    );
}

#[tokio::test]
async fn oversize_body_gets_413_before_it_is_read() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let addr = s.url.trim_start_matches("http://");
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let declared = subnet_types::MAX_CHALLENGE_BYTES + 1;
    let head = format!(
        "POST {CHALLENGE_PATH} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {declared}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = tcp.read(&mut buf).await.unwrap();
    let reply = text(&buf[..n]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");

    // Chunked, with no declared length: cut off at the limit.
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {CHALLENGE_PATH} HTTP/1.1\r\nHost: {addr}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut reply = String::new();
    for _ in 0..40 {
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        if tcp.write_all(&frame).await.is_err() {
            break;
        }
    }
    let n = tcp.read(&mut buf).await.unwrap_or(0);
    reply.push_str(&text(&buf[..n]));
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
}

#[tokio::test]
async fn full_pool_answers_503_at_once() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let held = s.state.pool.clone().try_acquire_owned().unwrap();
    let (st, msg) = post(
        &s,
        Some(&key("Alice")),
        AuthScheme::Btauth,
        challenge(4).to_bytes(),
    )
    .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{}", text(&msg));
    drop(held);
    let status: serde_json::Value = get_json(&format!("{}/status", s.url)).await;
    assert_eq!(status["rejected_busy"], 1);
    assert_eq!(status["capacity"], 1);
}

#[tokio::test]
async fn signed_challenge_gets_a_proof_the_verifier_accepts() {
    let s = start(AuthScheme::Btauth, TestHooks::default()).await;
    let c = challenge(5);
    let (st, body) = post(&s, Some(&key("Alice")), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{}", text(&body));
    let r = ChallengeResponse::from_bytes(&body).unwrap();
    let model = models().slots()[0].compiled().unwrap();
    let out = model.verify(&c.input, &r.proofs, &c.nonce).unwrap();
    assert_eq!(Some(&out), r.output());
    assert!(r.peak_memory_bytes > 0);
    // Bound to this challenge: another nonce does not verify.
    assert!(model.verify(&c.input, &r.proofs, &[0u8; 32]).is_err());

    let metrics = reqwest::get(format!("{}/metrics", s.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("miner_requests_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("miner_proofs_total{result=\"done\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("miner_prove_seconds_count 1"), "{metrics}");
    let status: serde_json::Value = get_json(&format!("{}/status", s.url)).await;
    assert_eq!(status["proofs_done"], 1);
    assert_eq!(status["uid"], 3);
    assert_eq!(status["models"][0]["name"], "digits_mlp");
}

#[tokio::test]
async fn legacy_scheme_server_accepts_v10_headers() {
    let s = start(AuthScheme::Legacy, TestHooks::default()).await;
    let c = challenge(6);
    let (st, body) = post(&s, Some(&key("Alice")), AuthScheme::Legacy, c.to_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{}", text(&body));
    let (st, _) = post(&s, Some(&key("Alice")), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cheating_miner_proves_another_statement() {
    let hooks = TestHooks {
        delay_ms: 0,
        cheat: true,
    };
    let s = start(AuthScheme::Btauth, hooks).await;
    let c = challenge(7);
    let (st, body) = post(&s, Some(&key("Alice")), AuthScheme::Btauth, c.to_bytes()).await;
    assert_eq!(st, StatusCode::OK, "{}", text(&body));
    let r = ChallengeResponse::from_bytes(&body).unwrap();
    let model = models().slots()[0].compiled().unwrap();
    assert!(model.verify(&c.input, &r.proofs, &c.nonce).is_err());
    // The honest output differs from the claimed one.
    let honest = model.prove(&c.input, &c.nonce).unwrap();
    assert_ne!(honest.last().map(|p| &p.output), r.output());
}
