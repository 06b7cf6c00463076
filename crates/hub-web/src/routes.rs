//! The dashboard's URLs and their handlers: one page module per screen
//! (`pages/*.rs`, template and handler together), mounted under `/dashboard/`.

use actix_web::web;

use crate::pages;

pub const HOME: &str = "/dashboard/";
pub const LOGIN: &str = "/dashboard/login";
pub const LOGOUT: &str = "/dashboard/logout";
pub const STORES: &str = "/dashboard/stores";
pub const STORES_CSV: &str = "/dashboard/stores.csv";
pub const NEW_STORE: &str = "/dashboard/stores/new";
pub const VIDEOS: &str = "/dashboard/videos";
pub const SYNC: &str = "/dashboard/sync";
pub const SYNC_LIVE: &str = "/dashboard/sync/live";
pub const SYNC_RUN: &str = "/dashboard/sync/run";
pub const AUDIT: &str = "/dashboard/audit";

/// `/dashboard/stores/{code}`.
pub fn store(code: &str) -> String {
    format!("{STORES}/{}", encode(code))
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Registers every dashboard route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(pages::redirect_home))
        .route(HOME, web::get().to(pages::overview::page))
        .route("/dashboard/assets/{name}", web::get().to(crate::assets::serve))
        .route(STORES, web::get().to(pages::stores::page))
        .route(STORES, web::post().to(pages::store_form::create))
        .route(STORES_CSV, web::get().to(pages::stores::csv))
        .route(NEW_STORE, web::get().to(pages::store_form::page))
        .route("/dashboard/stores/{code}", web::get().to(pages::store::page))
        .route("/dashboard/stores/{code}/edit", web::get().to(pages::store_form::edit_page))
        .route("/dashboard/stores/{code}/edit", web::post().to(pages::store_form::update))
        .route("/dashboard/stores/{code}/connect-link", web::post().to(pages::connect::issue))
        .route("/dashboard/stores/{code}/sync", web::post().to(pages::sync::sync_store))
        .route(VIDEOS, web::get().to(pages::videos::page))
        .route(SYNC, web::get().to(pages::sync::page))
        .route(SYNC_LIVE, web::get().to(pages::sync::live))
        .route(SYNC_RUN, web::post().to(pages::sync::run))
        .route(AUDIT, web::get().to(pages::audit::page))
        .route("/dashboard/{tail:.*}", web::to(pages::not_found));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_codes_readable_and_escapes_the_rest() {
        assert_eq!(encode("store_01-a.b~"), "store_01-a.b~");
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(store("s 1"), "/dashboard/stores/s%201");
    }
}
