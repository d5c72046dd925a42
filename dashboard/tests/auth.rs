//! Exposure: with a token set, nothing is reachable without it; without one,
//! only loopback-style Host names are served, and `serve` refuses to listen
//! publicly.

mod common;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{app, body_bytes, get, send};
use dashboard::{DashboardConfig, DashboardError, Token};

const TOKEN: &str = "s3cret-Token_for.tests~42";

/// Every route the dashboard serves, including the event stream.
const ROUTES: [&str; 10] = [
    "/",
    "/assets/app.js",
    "/assets/app.css",
    "/api/miners",
    "/api/miners/1/history",
    "/api/challenges",
    "/api/weights",
    "/api/chain",
    "/api/snapshot",
    "/api/events",
];

fn with_token() -> DashboardConfig {
    DashboardConfig {
        token: Some(Token::new(TOKEN).unwrap()),
        ..DashboardConfig::default()
    }
}

fn get_with(uri: &str, name: header::HeaderName, value: &str) -> Request<Body> {
    let mut request = get(uri);
    request.headers_mut().insert(name, value.parse().unwrap());
    request
}

#[tokio::test]
async fn every_route_needs_the_token() {
    let (_, router) = app(with_token());
    for uri in ROUTES.iter().chain(&["/no/such/page"]) {
        let response = send(&router, get(uri)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
        assert!(response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        let body = String::from_utf8(body_bytes(response).await).unwrap();
        assert!(!body.contains("5FHneW46"), "{uri} leaked data: {body}");

        let wrong = get_with(
            uri,
            header::AUTHORIZATION,
            "Bearer s3cret-Token_for.tests~43",
        );
        assert_eq!(
            send(&router, wrong).await.status(),
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        let wrong_query = get(&format!("{uri}?token=nope-nope-nope-nope"));
        assert_eq!(
            send(&router, wrong_query).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let wrong_cookie = get_with(uri, header::COOKIE, "zkdash_token=abcdefghijklmnopq");
        assert_eq!(
            send(&router, wrong_cookie).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
}

#[tokio::test]
async fn bearer_header_and_cookie_open_every_route() {
    let (_, router) = app(with_token());
    for uri in ROUTES {
        let bearer = get_with(uri, header::AUTHORIZATION, &format!("Bearer {TOKEN}"));
        assert_eq!(
            send(&router, bearer).await.status(),
            StatusCode::OK,
            "{uri}"
        );
        let cookie = get_with(
            uri,
            header::COOKIE,
            &format!("theme=dark; zkdash_token={TOKEN}"),
        );
        assert_eq!(
            send(&router, cookie).await.status(),
            StatusCode::OK,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn query_token_on_the_page_becomes_a_cookie() {
    let (_, router) = app(with_token());
    let response = send(&router, get(&format!("/?token={TOKEN}"))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with(&format!("zkdash_token={TOKEN};")));
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

    // The cookie the browser now holds opens the page and the API.
    let pair = cookie.split(';').next().unwrap();
    for uri in ["/", "/api/miners", "/api/events"] {
        let request = get_with(uri, header::COOKIE, pair);
        assert_eq!(
            send(&router, request).await.status(),
            StatusCode::OK,
            "{uri}"
        );
    }
    // Scripts and curl may pass it in the query too.
    let api = send(&router, get(&format!("/api/chain?token={TOKEN}"))).await;
    assert_eq!(api.status(), StatusCode::OK);
}

#[tokio::test]
async fn foreign_host_names_are_refused() {
    // DNS rebinding: a hostile page whose name now resolves to 127.0.0.1.
    for cfg in [DashboardConfig::default(), with_token()] {
        let (_, router) = app(cfg);
        let mut request = get_with("/api/miners", header::HOST, "attacker.example:9180");
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {TOKEN}").parse().unwrap(),
        );
        assert_eq!(send(&router, request).await.status(), StatusCode::FORBIDDEN);
    }
    let cfg = DashboardConfig {
        allowed_hosts: vec!["validator.lan".into()],
        ..DashboardConfig::default()
    };
    let (_, router) = app(cfg);
    let named = get_with("/api/miners", header::HOST, "validator.lan:9180");
    assert_eq!(send(&router, named).await.status(), StatusCode::OK);
    let open = send(&router, get("/api/miners")).await;
    assert_eq!(open.status(), StatusCode::OK);
}

#[tokio::test]
async fn bind_refuses_public_addresses_without_a_token() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.7:0"] {
        let cfg = DashboardConfig {
            listen: addr.parse::<SocketAddr>().unwrap(),
            ..DashboardConfig::default()
        };
        let err = dashboard::bind(&cfg).await.unwrap_err();
        assert!(
            matches!(err, DashboardError::PublicWithoutToken(_)),
            "{addr}: {err}"
        );
    }
    assert!(DashboardConfig::default().listen.ip().is_loopback());
}

#[tokio::test]
async fn bound_dashboard_serves_over_tcp_and_stops_on_shutdown() {
    let cfg = DashboardConfig {
        listen: "127.0.0.2:0".parse().unwrap(),
        token: Some(Token::new(TOKEN).unwrap()),
        ..DashboardConfig::default()
    };
    let listener = dashboard::bind(&cfg).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(dashboard::serve(
        listener,
        common::source(),
        cfg.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    // A port already served cannot be bound twice: the error names it.
    let taken = DashboardConfig {
        listen: addr,
        ..cfg
    };
    let err = dashboard::bind(&taken).await.unwrap_err();
    assert!(
        matches!(err, DashboardError::Bind { .. }) && err.to_string().contains(&addr.to_string())
    );

    let status = |auth: Option<&'static str>| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let auth = auth
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request =
            format!("GET /api/chain HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        conn.read_to_string(&mut response).await.unwrap();
        response.split(' ').nth(1).unwrap().to_string()
    };
    assert_eq!(status(None).await, "401");
    assert_eq!(status(Some(TOKEN)).await, "200");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[test]
fn weak_or_unsafe_tokens_are_rejected() {
    for bad in [
        "",
        "short",
        "with space and more chars",
        "quote\"andmorechars!",
    ] {
        assert!(
            matches!(Token::new(bad), Err(DashboardError::BadToken(_))),
            "{bad}"
        );
    }
}
