//! Route groups, one module per resource: each serves its URLs in every form (JSON and CSV)
//! through one use case, and exposes `config(cfg)`.

pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod docs;
pub(crate) mod health;
pub(crate) mod import;
pub(crate) mod lifecycle;
pub(crate) mod metrics;
pub(crate) mod notify;
pub(crate) mod oauth;
pub(crate) mod reply;
pub(crate) mod reports;
pub(crate) mod stats;
pub(crate) mod stores;
pub(crate) mod sync;
pub(crate) mod sync_logs;
pub(crate) mod users;
pub(crate) mod webhooks;

use paperclip::actix::web;

/// Every API route (the documentation routes are registered apart, before any scope).
pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    health::config(cfg);
    stores::config(cfg);
    stats::config(cfg);
    sync_logs::config(cfg);
    sync::config(cfg);
    reports::config(cfg);
    audit::config(cfg);
    users::config(cfg);
    api_keys::config(cfg);
    notify::config(cfg);
    // `/auth/login|logout|me` before the OAuth routes under `/auth`.
    auth::config(cfg);
    oauth::config(cfg);
    metrics::config(cfg);
    webhooks::config(cfg);
}
