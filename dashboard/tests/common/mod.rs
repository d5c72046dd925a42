//! Shared by the dashboard's integration tests: the recorded validator run
//! and a way to send one request through the router without a socket.
#![allow(dead_code)] // each test binary uses a different subset

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use dashboard::{DashboardConfig, RecordedSource, Recording};
use tower::ServiceExt;

pub const FIXTURE: &str = include_str!("../fixtures/recorded-run.json");

pub fn recording() -> Recording {
    serde_json::from_str(FIXTURE).expect("fixture parses as a Recording")
}

pub fn source() -> Arc<RecordedSource> {
    Arc::new(RecordedSource::new(recording()))
}

pub fn app(cfg: DashboardConfig) -> (Arc<RecordedSource>, Router) {
    let source = source();
    let router = dashboard::router(source.clone(), cfg);
    (source, router)
}

/// A GET as a browser on the same machine sends it.
pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, "127.0.0.1:9180")
        .body(Body::empty())
        .unwrap()
}

pub async fn send(router: &Router, request: Request<Body>) -> Response<Body> {
    router.clone().oneshot(request).await.unwrap()
}

pub async fn body_bytes(response: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(response.into_body(), 16 << 20)
        .await
        .unwrap()
        .to_vec()
}

/// GETs `uri`, asserts 200 and decodes the JSON body.
pub async fn get_json<T: serde::de::DeserializeOwned>(router: &Router, uri: &str) -> T {
    let response = send(router, get(uri)).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {uri}");
    let bytes = body_bytes(response).await;
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("GET {uri}: {e}: {}", String::from_utf8_lossy(&bytes)))
}
