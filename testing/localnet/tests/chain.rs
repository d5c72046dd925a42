//! Starts the real chain (chopsticks on the committed spec) and talks to it
//! with plain HTTP JSON-RPC: it answers, it is our runtime, blocks advance,
//! and dropping the handle stops every process it started.

use localnet::LocalChain;
use serde_json::{json, Value};
use std::{
    io::{Read, Write},
    net::TcpStream,
    sync::Mutex,
    time::{Duration, Instant},
};

/// One JSON-RPC call over HTTP/1.1 (chopsticks serves POST on the ws port).
fn rpc(port: u16, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to RPC");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set timeout");
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, payload) = response.split_once("\r\n\r\n").expect("HTTP response");
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "unexpected response: {head}"
    );
    let chunked = head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    let body = if chunked {
        dechunk(payload)
    } else {
        payload.to_string()
    };
    let reply: Value = serde_json::from_str(body.trim()).expect("JSON body");
    assert!(reply.get("error").is_none(), "{method} failed: {reply}");
    reply["result"].clone()
}

/// Decodes an HTTP/1.1 chunked body.
fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// Chopsticks is heavy to start; the tests take turns rather than start two at once.
static ONE_CHAIN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn best_number(port: u16) -> u64 {
    let header = rpc(port, "chain_getHeader", json!([]));
    let hex = header["number"].as_str().expect("header number");
    u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("hex block number")
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks whether any process of the group still exists.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

#[test]
fn chain_starts_answers_and_produces_blocks() {
    let _turn = ONE_CHAIN_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let chain = LocalChain::builder()
        .block_time_ms(200)
        .start()
        .expect("local chain starts");
    eprintln!(
        "local chain ready in {:?} at {}",
        started.elapsed(),
        chain.ws_url()
    );
    let port = chain.port();
    assert_eq!(chain.ws_url(), format!("ws://127.0.0.1:{port}"));

    // chopsticks reports the spec's id as the chain name.
    assert_eq!(rpc(port, "system_chain", json!([])), json!("subnet_dev"));
    let version = rpc(port, "state_getRuntimeVersion", json!([]));
    assert_eq!(version["specName"], json!("subnet-dev"));

    // At 200 ms per block, 3 blocks take 0.6 s; a busy machine gets 20 s.
    let first = best_number(port);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut latest = first;
    while latest < first + 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        latest = best_number(port);
    }
    assert!(
        latest >= first + 3,
        "blocks did not advance: {first} -> {latest}"
    );

    let pgid = chain.pgid();
    assert!(group_alive(pgid));
    drop(chain);
    assert!(
        !group_alive(pgid),
        "processes of group {pgid} survived drop"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still open after drop"
    );
}

#[test]
fn explicit_port_is_used() {
    let _turn = ONE_CHAIN_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("probe port");
    let port = probe.local_addr().expect("addr").port();
    drop(probe);
    let chain = LocalChain::builder()
        .port(port)
        .start()
        .expect("chain starts");
    assert_eq!(chain.port(), port);
    assert_eq!(rpc(port, "system_chain", json!([])), json!("subnet_dev"));
}
