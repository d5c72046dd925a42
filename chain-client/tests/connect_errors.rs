//! Connection failures are errors with the endpoint in the message, not hangs.

use std::time::{Duration, Instant};

use chain_client::{ChainClient, ChainError};

#[tokio::test]
async fn dead_endpoint_is_a_connect_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("ws://127.0.0.1:{port}");
    let started = Instant::now();
    let err = match ChainClient::connect(&url).await {
        Ok(_) => panic!("connected to a closed port"),
        Err(e) => e,
    };
    assert!(matches!(err, ChainError::Connect { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn malformed_url_is_a_connect_error() {
    let err = match ChainClient::connect("not a url").await {
        Ok(_) => panic!("connected to nonsense"),
        Err(e) => e,
    };
    assert!(matches!(err, ChainError::Connect { .. }), "{err}");
}
