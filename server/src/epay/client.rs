//! One pooled HTTP client for every ePay call, with connect and overall timeouts.

use std::sync::Arc;

use super::metrics;
use crate::config::EpaySettings;

#[derive(Debug, thiserror::Error)]
pub enum EpayError {
    #[error("ePay did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The connection could not be made (DNS, TCP or TLS): nothing of the request reached ePay.
    #[error("could not connect to ePay (nothing was sent): {0}")]
    NotSent(String),
    /// The request may have reached ePay (a reset after it was written, say).
    #[error("could not reach ePay: {0}")]
    Unreachable(String),
    #[error("ePay answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("ePay's answer is not what its API documents: {0}")]
    Malformed(String),
}

impl EpayError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, EpayError::Timeout(_))
    }

    /// Whether ePay provably never saw the request: the connection was never made. Only then
    /// may a request that moves money be sent again without asking ePay first.
    pub fn never_sent(&self) -> bool {
        matches!(self, EpayError::NotSent(_))
    }
}

#[derive(Clone)]
pub struct EpayClient {
    pub(super) http: reqwest::Client,
    pub(super) settings: Arc<EpaySettings>,
    /// The service token of each terminal, and until when to reuse it.
    pub(super) service_tokens: Arc<tokio::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>>,
}

impl EpayClient {
    pub fn new(settings: Arc<EpaySettings>) -> EpayClient {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(60))
            .user_agent(concat!("epay-proxy/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("HTTP client builds with static settings");
        EpayClient { http, settings, service_tokens: Default::default() }
    }

    /// Sends `request` and returns the body of a 200 answer, mapping everything else to a
    /// typed error.
    pub(super) async fn send(&self, request: reqwest::RequestBuilder) -> Result<bytes::Bytes, EpayError> {
        let (status, body) = self.exchange(request).await?;
        if status != reqwest::StatusCode::OK {
            return Err(status_error(status, &body));
        }
        Ok(body)
    }

    /// Sends `request` and returns whatever HTTP answer came back; only transport failures
    /// and timeouts are errors.
    pub(super) async fn exchange(&self, request: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, bytes::Bytes), EpayError> {
        let (http, request) = request.build_split();
        let request = request.map_err(|e| self.transport_error(e))?;
        let endpoint = metrics::endpoint(request.url().path());
        let started = std::time::Instant::now();
        let answered = async {
            let response = http.execute(request).await?;
            let status = response.status();
            Ok::<_, reqwest::Error>((status, response.bytes().await?))
        }
        .await;
        let outcome = match &answered {
            Ok((status, _)) => metrics::outcome(Some(status.as_u16()), false),
            Err(err) => metrics::outcome(err.status().map(|s| s.as_u16()), err.is_timeout()),
        };
        metrics::record_call(endpoint, outcome, started.elapsed());
        answered.map_err(|e| self.transport_error(e))
    }

    fn transport_error(&self, err: reqwest::Error) -> EpayError {
        if err.is_connect() || err.is_builder() {
            // Connecting (DNS, TCP, TLS; a connect timeout too) comes before a byte of the
            // request is written.
            EpayError::NotSent(causes(err))
        } else if err.is_timeout() {
            EpayError::Timeout(self.settings.timeout)
        } else {
            EpayError::Unreachable(causes(err))
        }
    }
}

/// The error without the URL (it is ours, not news), with every cause: "error sending
/// request" alone does not tell a refused connection from a reset one.
pub(crate) fn causes(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// An HTTP answer that is not what was asked for. The body is cut short: it goes to logs.
pub(crate) fn status_error(status: reqwest::StatusCode, body: &[u8]) -> EpayError {
    let text = String::from_utf8_lossy(body);
    EpayError::Status { status: status.as_u16(), body: text.chars().take(300).collect() }
}
