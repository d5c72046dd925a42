//! Who may reach the dashboard. The default exposure is loopback only with no
//! token; an operator who binds elsewhere must set a bearer token, and then
//! every route (page, assets, API, event stream) answers 401 without it.
//!
//! Browsers cannot add an `Authorization` header to a page load or an
//! `EventSource`, so the page is opened once as `/?token=…`: the server
//! answers with an `HttpOnly; SameSite=Strict` cookie and a redirect to `/`,
//! which keeps the token out of the address bar, history and referrers.
//!
//! The Host check defends the tokenless loopback default against DNS
//! rebinding: a hostile site that rebinds its name to 127.0.0.1 still sends
//! its own name as Host, which is refused.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, HOST, LOCATION, REFERRER_POLICY,
    SET_COOKIE, WWW_AUTHENTICATE, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::DashboardError;

/// Name of the cookie that carries the token for the page and its requests.
pub const TOKEN_COOKIE: &str = "zkdash_token";

/// Shortest accepted token: long enough that guessing it is hopeless.
pub const MIN_TOKEN_LEN: usize = 16;
const MAX_TOKEN_LEN: usize = 256;

/// A bearer token. Restricted to URL- and cookie-safe characters so that it
/// travels unchanged in a query string, a cookie and a header.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Result<Self, DashboardError> {
        let token = token.into();
        let len = token.len();
        if !(MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&len) {
            return Err(DashboardError::BadToken(format!(
                "must be {MIN_TOKEN_LEN} to {MAX_TOKEN_LEN} characters, got {len}"
            )));
        }
        if let Some(c) = token
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')))
        {
            return Err(DashboardError::BadToken(format!(
                "may only contain A-Z a-z 0-9 - _ . ~ (found {c:?})"
            )));
        }
        Ok(Self(token))
    }

    /// Compares without an early exit, so response timing does not reveal
    /// how many leading characters of a guess were right.
    fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The access policy the middleware enforces.
#[derive(Debug)]
pub(crate) struct Access {
    pub token: Option<Token>,
    /// Extra Host names accepted besides IP literals and `localhost`.
    pub allowed_hosts: Vec<String>,
}

impl Access {
    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        // HTTP/1.0 clients may omit Host; browsers (the rebinding risk)
        // always send it.
        let Some(host) = headers.get(HOST) else {
            return true;
        };
        let Ok(host) = host.to_str() else {
            return false;
        };
        let name = strip_port(host);
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<std::net::IpAddr>().is_ok()
            || self
                .allowed_hosts
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(name))
    }
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

enum Presented<'a> {
    Header(&'a str),
    Cookie(&'a str),
    Query(&'a str),
}

fn presented_token(req: &Request) -> Option<Presented<'_>> {
    if let Some(value) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(token) = value.strip_prefix("Bearer ") {
            return Some(Presented::Header(token.trim()));
        }
    }
    for value in req.headers().get_all(COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((name, token)) = pair.trim().split_once('=') {
                if name == TOKEN_COOKIE {
                    return Some(Presented::Cookie(token));
                }
            }
        }
    }
    req.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .map(Presented::Query)
    })
}

fn reject(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("{message}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"dashboard\""),
        );
    }
    response
}

/// Host check, then token check (when a token is configured).
pub(crate) async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    if !access.host_allowed(req.headers()) {
        return reject(StatusCode::FORBIDDEN, "host not allowed");
    }
    let Some(token) = &access.token else {
        return next.run(req).await;
    };
    match presented_token(&req) {
        Some(Presented::Header(t)) | Some(Presented::Cookie(t)) if token.matches(t) => {
            next.run(req).await
        }
        Some(Presented::Query(t)) if token.matches(t) => {
            if req.method() == Method::GET && req.uri().path() == "/" {
                // Trade the query token for a cookie and drop it from the URL.
                let cookie = format!("{TOKEN_COOKIE}={t}; HttpOnly; SameSite=Strict; Path=/");
                let mut response = StatusCode::SEE_OTHER.into_response();
                let headers = response.headers_mut();
                headers.insert(LOCATION, HeaderValue::from_static("/"));
                if let Ok(cookie) = HeaderValue::from_str(&cookie) {
                    headers.insert(SET_COOKIE, cookie);
                }
                response
            } else {
                next.run(req).await
            }
        }
        Some(_) => reject(StatusCode::UNAUTHORIZED, "invalid token"),
        None => reject(
            StatusCode::UNAUTHORIZED,
            "token required: send `Authorization: Bearer <token>` or open /?token=<token>",
        ),
    }
}

/// Headers on every response: the page loads nothing from elsewhere, so the
/// CSP forbids it outright; API data must not be cached by intermediaries.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rules() {
        assert!(Token::new("short").is_err());
        assert!(Token::new("has space in the middle!").is_err());
        assert!(Token::new("semi;colon-is-not-cookie-safe").is_err());
        assert!(Token::new("A1b2-C3d4_E5f6.G7h8~").is_ok());
        assert!(Token::new("x".repeat(MAX_TOKEN_LEN + 1)).is_err());
    }

    #[test]
    fn token_comparison() {
        let token = Token::new("0123456789abcdef").unwrap();
        assert!(token.matches("0123456789abcdef"));
        assert!(!token.matches("0123456789abcdeF"));
        assert!(!token.matches("0123456789abcde"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("0123"));
    }

    #[test]
    fn host_names() {
        let access = Access {
            token: None,
            allowed_hosts: vec!["validator.lan".into()],
        };
        let allowed = |host: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
            access.host_allowed(&headers)
        };
        assert!(allowed("127.0.0.1:9180"));
        assert!(allowed("[::1]:9180"));
        assert!(allowed("localhost:9180"));
        assert!(allowed("VALIDATOR.lan"));
        assert!(!allowed("evil.example:9180"));
        assert!(!allowed("127.0.0.1.evil.example"));
        assert!(access.host_allowed(&HeaderMap::new()));
    }
}
