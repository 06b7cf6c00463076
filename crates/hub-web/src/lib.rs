//! The dashboard: what the people who run the stores look at. A driving adapter like
//! `hub-http`, mounted by `hub-app` beside it at `/dashboard/`.
//!
//! Pages are rendered on the server with compile-time-checked templates (maud), charts are
//! inline SVG drawn here ([`chart`]), and one small script adds copy buttons, live sync
//! progress and auto-submitting pickers; every page works without it. Every file is
//! embedded in the binary under a content-hashed name ([`assets`]); nothing is loaded from
//! another origin and the CSP is `default-src 'self'`.
//!
//! Pages call the engine's use cases only (`Engine::admin()`, `reports()`, `syncs()`,
//! `connect()`, …), never a port, and show only what the signed-in person's role allows.

pub mod assets;
pub mod chart;
mod error;
mod form;
pub mod format;
mod layout;
mod pages;
pub mod qr;
pub mod routes;
mod session;
mod state;
mod table;
mod viewer;
mod widgets;

use actix_web::web;

pub use error::WebError;
pub use layout::CSP;
pub use state::{WebConfig, WebState};
pub use viewer::Viewer;

/// The path the dashboard is mounted under.
pub const MOUNT: &str = "/dashboard";

/// Registers the dashboard's routes and state on an actix app (`App::configure`).
pub fn configure(state: WebState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + Sync + 'static {
    let data = web::Data::new(state);
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(data.clone());
        pages::config(cfg);
    }
}
