//! Shared helpers: a real `tiktok-sandbox` on a random port and a `TikTokClient` pointed at it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use hub_domain::Secret;
use hub_ports::{TikTokApi, TokenGrant};
use hub_tiktok::{TikTokClient, TikTokConfig};
use tiktok_sandbox::{Sandbox, SandboxConfig, SandboxHandle, pkce_s256};

pub const VERIFIER: &str = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ";

/// A small sandbox: 6 accounts, one worker.
pub fn sandbox_cfg() -> SandboxConfig {
    SandboxConfig { accounts: 6, workers: 1, ..Default::default() }
}

pub async fn sandbox(cfg: SandboxConfig) -> (SandboxHandle, SandboxConfig) {
    let sb = Sandbox::start(cfg.clone()).await.expect("sandbox starts");
    (sb, cfg)
}

/// Client settings for `sb`: production defaults except a tiny backoff (tests stay fast) and
/// a 5 s timeout.
pub fn client_cfg(sb: &SandboxHandle, cfg: &SandboxConfig) -> TikTokConfig {
    let mut c =
        TikTokConfig::new(cfg.client_key.clone(), Secret::new(cfg.client_secret.clone()), cfg.redirect_uri.clone())
            .with_base_url(&sb.base_url());
    c.backoff_base = Duration::from_millis(2);
    c.backoff_cap = Duration::from_millis(10);
    c.timeout = Duration::from_secs(5);
    c
}

pub fn client(sb: &SandboxHandle, cfg: &SandboxConfig) -> TikTokClient {
    TikTokClient::new(client_cfg(sb, cfg)).expect("client builds")
}

/// Query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// Follows the client's consent URL once (the sandbox auto-consents) without following the
/// redirect, and returns the callback's query parameters (`code`, `scopes`, `state`).
pub async fn consent(api: &TikTokClient, state: &str, verifier: &str) -> HashMap<String, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("browser");
    let url = api.authorize_url(state, &pkce_s256(verifier));
    let resp = browser.get(&url).send().await.expect("authorize answers");
    assert_eq!(resp.status(), reqwest::StatusCode::FOUND, "{url}");
    let location = resp.headers()["location"].to_str().expect("ascii").to_string();
    assert!(location.starts_with(&api.config().redirect_uri), "redirected to {location}");
    query_of(&location)
}

/// The whole OAuth dance: consent, then the code exchange with the PKCE verifier.
pub async fn connect(api: &TikTokClient) -> TokenGrant {
    let q = consent(api, "state-1", VERIFIER).await;
    api.exchange_code(&q["code"], VERIFIER).await.expect("code exchange")
}
