//! What the pages share.

use std::sync::Arc;

use hub_engine::Engine;

/// The dashboard's settings (from the app's config).
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The hub's public origin (`https://hub.example.com`): unsafe requests must come from it.
    pub public_origin: String,
    /// Mark the session cookie `Secure` (behind https).
    pub secure_cookies: bool,
}

/// What the pages share.
pub struct WebState {
    pub engine: Arc<Engine>,
    pub config: WebConfig,
    /// The report time zone (dates and times on the pages).
    pub tz: chrono_tz::Tz,
}

impl WebState {
    pub fn new(engine: Arc<Engine>, config: WebConfig) -> Self {
        let tz = engine.config().report_tz;
        Self { engine, config, tz }
    }
}
