//! Sending a webhook (an HTTP POST) to an endpoint an admin registered: the address is
//! untrusted input, so the adapter guards against server-side request forgery.

use async_trait::async_trait;

/// One POST to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingWebhook {
    pub url: String,
    /// Extra headers (signatures, ids); `Content-Type: application/json` is always sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The receiver's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAnswer {
    pub status: u16,
    /// The start of the answer's body (bounded), for the delivery log.
    pub excerpt: String,
}

/// Why a webhook was not answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The URL is refused before any connection: not http(s), or its host is (or resolves
    /// to) a private, loopback, link-local or unique-local address. Retrying cannot help.
    #[error("webhook target refused: {0}")]
    Refused(String),
    /// DNS, connection, TLS or timeout: worth retrying.
    #[error("webhook delivery failed: {0}")]
    Network(String),
}

/// Sends webhooks.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Checks `url` as [`WebhookSender::send`] would (scheme, and every address its host
    /// resolves to now), without sending.
    async fn check_url(&self, url: &str) -> Result<(), SendError>;
    /// POSTs once, to an address checked at this call (no redirects followed).
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<WebhookAnswer, SendError>;
}
