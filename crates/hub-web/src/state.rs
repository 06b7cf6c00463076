//! What the pages share.

use std::sync::Arc;

use hub_engine::Engine;

/// What the pages share.
pub struct WebState {
    pub engine: Arc<Engine>,
    /// The report time zone (dates and times on the pages).
    pub tz: chrono_tz::Tz,
}

impl WebState {
    pub fn new(engine: Arc<Engine>) -> Self {
        let tz = engine.config().report_tz;
        Self { engine, tz }
    }
}
