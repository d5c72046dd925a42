//! btcli's `--subtensor.network` names, so scripts written for btcli work
//! with the same flags here.

/// Endpoint for a network name; an explicit endpoint wins. Unknown names are
/// treated as endpoints only when they look like URLs.
pub fn resolve_endpoint(
    network: Option<&str>,
    chain_endpoint: Option<&str>,
) -> Result<String, String> {
    if let Some(endpoint) = chain_endpoint.filter(|e| !e.is_empty()) {
        return Ok(endpoint.to_string());
    }
    match network.unwrap_or("finney") {
        "local" => Ok("ws://127.0.0.1:9944".into()),
        "finney" => Ok("wss://entrypoint-finney.opentensor.ai:443".into()),
        "test" => Ok("wss://test.finney.opentensor.ai:443".into()),
        "archive" => Ok("wss://archive.chain.opentensor.ai:443".into()),
        url if url.starts_with("ws://") || url.starts_with("wss://") => Ok(url.into()),
        other => Err(format!(
            "unknown network '{other}': use local, finney, test, archive or a ws:// URL"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_overrides() {
        assert_eq!(
            resolve_endpoint(Some("local"), None).unwrap(),
            "ws://127.0.0.1:9944"
        );
        assert_eq!(
            resolve_endpoint(Some("local"), Some("ws://127.0.0.1:9999")).unwrap(),
            "ws://127.0.0.1:9999"
        );
        assert_eq!(
            resolve_endpoint(Some("ws://127.0.0.3:1"), None).unwrap(),
            "ws://127.0.0.3:1"
        );
        assert!(resolve_endpoint(Some("mainnet"), None).is_err());
    }
}
