//! # hub-webhooks
//!
//! [`hub_ports::WebhookSender`] over reqwest (rustls), for the endpoints admins register.
//! The URL is untrusted, so every delivery: accepts only `http` and `https`; resolves the host
//! itself and refuses it when any address is internal ([`guard::is_internal`]: loopback,
//! private, link-local, unique-local, …) unless private targets are allowed; connects to the
//! checked addresses only (no second lookup a DNS rebinding could change, no proxy from the
//! environment); follows no redirect; has short connect and total timeouts; and reads at most
//! [`MAX_ANSWER_BYTES`] of the answer.

pub mod guard;

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use hub_ports::{OutgoingWebhook, SendError, WebhookAnswer, WebhookSender};
use url::{Host, Url};

/// The most of an answer read (the rest is dropped unread).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// How the sender behaves.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// Allow private, loopback and link-local targets (`WEBHOOK_ALLOW_PRIVATE`): for tests
    /// and for receivers on the hub's own network only.
    pub allow_private: bool,
    pub connect_timeout: Duration,
    /// The whole request, answer included.
    pub timeout: Duration,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            user_agent: "tiktok-hub-webhooks".into(),
        }
    }
}

/// The reqwest sender.
#[derive(Debug, Clone)]
pub struct HttpSender {
    config: SenderConfig,
}

impl HttpSender {
    pub fn new(config: SenderConfig) -> Self {
        Self { config }
    }

    /// The URL parsed and its addresses resolved and checked now.
    async fn resolve(&self, raw: &str) -> Result<(Url, Vec<SocketAddr>), SendError> {
        let url = Url::parse(raw).map_err(|_| SendError::Refused("not a URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SendError::Refused("only http and https URLs are allowed".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(SendError::Refused("credentials in the URL are not allowed".into()));
        }
        let port = url.port_or_known_default().ok_or_else(|| SendError::Refused("no port".into()))?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
            Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
            Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| SendError::Network(format!("could not resolve the host: {e}")))?
                .collect(),
            None => return Err(SendError::Refused("no host".into())),
        };
        if addrs.is_empty() {
            return Err(SendError::Network("the host has no address".into()));
        }
        if !self.config.allow_private
            && let Some(bad) = addrs.iter().find(|a| guard::is_internal(a.ip()))
        {
            return Err(SendError::Refused(format!(
                "the host resolves to an internal address ({}); set WEBHOOK_ALLOW_PRIVATE=true to allow it",
                bad.ip()
            )));
        }
        Ok((url, addrs))
    }
}

#[async_trait]
impl WebhookSender for HttpSender {
    async fn check_url(&self, url: &str) -> Result<(), SendError> {
        self.resolve(url).await.map(|_| ())
    }

    async fn send(&self, webhook: &OutgoingWebhook) -> Result<WebhookAnswer, SendError> {
        let (url, addrs) = self.resolve(&webhook.url).await?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.config.connect_timeout)
            .timeout(self.config.timeout)
            .user_agent(&self.config.user_agent);
        // Connect to the checked addresses only: reqwest does no lookup of its own.
        if let Some(Host::Domain(name)) = url.host() {
            builder = builder.resolve_to_addrs(name, &addrs);
        }
        let client = builder.build().map_err(|e| SendError::Network(format!("client: {e}")))?;
        let mut req = client.post(url).header("Content-Type", "application/json");
        for (k, v) in &webhook.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut res = req.body(webhook.body.clone()).send().await.map_err(|e| SendError::Network(without_url(&e)))?;
        let status = res.status().as_u16();
        let mut answer = Vec::new();
        while answer.len() < MAX_ANSWER_BYTES {
            match res.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk[..chunk.len().min(MAX_ANSWER_BYTES - answer.len())]),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(WebhookAnswer { status, excerpt: String::from_utf8_lossy(&answer).into_owned() })
    }
}

/// The error's text without its URL (an endpoint's URL may hold a token, as Slack's do).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    if let Some(src) = std::error::Error::source(e) {
        text.push_str(&format!(": {src}"));
    }
    text
}
