//! Where the server is: the stream and usage URLs derived from the base
//! URL, and the TLS configuration both connections use.

use std::sync::Arc;

use http::HeaderValue;
use url::Url;

use crate::error::Error;

/// The server's endpoints, derived once from the base URL.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `ws(s)://…/api/v1/stream`.
    pub(crate) stream: Url,
    /// `http(s)://…/api/v1/usage`.
    pub(crate) usage: Url,
}

impl Endpoint {
    /// From an `http(s)` base URL such as `https://flags.example.com` (a
    /// path prefix is kept: `https://example.com/vexil`).
    pub(crate) fn parse(base: &str) -> Result<Self, Error> {
        let invalid = |problem: &str| Error::InvalidUrl {
            url: base.to_owned(),
            problem: problem.to_owned(),
        };
        let base_url = Url::parse(base).map_err(|e| invalid(&e.to_string()))?;
        let ws_scheme = match base_url.scheme() {
            "http" => "ws",
            "https" => "wss",
            _ => return Err(invalid("the scheme must be http or https")),
        };
        if base_url.host().is_none() {
            return Err(invalid("no host"));
        }
        let prefix = base_url.path().trim_end_matches('/').to_owned();
        let mut usage = base_url.clone();
        usage.set_path(&format!("{prefix}/api/v1/usage"));
        usage.set_query(None);
        usage.set_fragment(None);
        let mut stream = usage.clone();
        stream.set_path(&format!("{prefix}/api/v1/stream"));
        stream
            .set_scheme(ws_scheme)
            .map_err(|()| invalid("cannot derive the WebSocket URL"))?;
        Ok(Endpoint { stream, usage })
    }
}

/// The SDK key. Its `Debug` never shows it, so no log line can.
#[derive(Clone)]
pub(crate) struct SdkKey(String);

impl std::fmt::Debug for SdkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdkKey(<redacted>)")
    }
}

impl SdkKey {
    pub(crate) fn new(key: String) -> Self {
        SdkKey(key)
    }

    /// `Authorization: Bearer <key>`, marked sensitive; `None` when the key
    /// cannot be a header value (the server would not know it either).
    pub(crate) fn bearer(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", self.0)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

/// rustls with the ring provider and the Mozilla roots (webpki-roots), so
/// the SDK needs neither the OS certificate store nor a C toolchain.
pub(crate) fn tls_config() -> Result<Arc<rustls::ClientConfig>, Error> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_stream_and_usage_urls() {
        let endpoint = Endpoint::parse("https://flags.example.com/vexil/").unwrap();
        assert_eq!(
            endpoint.stream.as_str(),
            "wss://flags.example.com/vexil/api/v1/stream"
        );
        assert_eq!(
            endpoint.usage.as_str(),
            "https://flags.example.com/vexil/api/v1/usage"
        );
        let local = Endpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(local.stream.as_str(), "ws://127.0.0.1:8080/api/v1/stream");

        let error = Endpoint::parse("ftp://example.com").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid server URL ftp://example.com: the scheme must be http or https"
        );
        assert!(Endpoint::parse("not a url").is_err());
    }
}
