//! The dashboard's files (stylesheet, script, icon), embedded in the binary and served under
//! content-hashed names (`app.1a2b3c4d5e.css`) with a year-long `immutable` cache: a new
//! build changes the name, so a browser never holds a stale file and never asks twice.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use ring::digest::{SHA256, digest};

/// Where the files are served.
pub const PREFIX: &str = "/dashboard/assets/";

/// The `Cache-Control` of every file.
pub const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

/// One embedded file.
pub struct Asset {
    /// The name the templates use (`app.css`).
    pub logical: &'static str,
    /// The name it is served under (`app.<hash>.css`).
    pub hashed: String,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../assets/app.css")),
    ("print.css", "text/css; charset=utf-8", include_bytes!("../assets/print.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../assets/app.js")),
    ("icon.svg", "image/svg+xml", include_bytes!("../assets/icon.svg")),
];

/// `name.ext` → `name.<first 10 hex of SHA-256>.ext`.
pub fn hashed_name(logical: &str, bytes: &[u8]) -> String {
    let hash = hex::encode(digest(&SHA256, bytes).as_ref());
    match logical.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{}.{ext}", &hash[..10]),
        None => format!("{logical}.{}", &hash[..10]),
    }
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(logical, content_type, bytes)| Asset {
            logical,
            hashed: hashed_name(logical, bytes),
            content_type,
            bytes,
        })
        .collect()
});

/// Every embedded file.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The URL of the file the templates call `logical`.
///
/// # Panics
/// When no such file is embedded (a template names a file that is not in [`FILES`]; the
/// unit tests render every page, so this fails in the tests, not in production).
pub fn url(logical: &str) -> String {
    let asset = ASSETS.iter().find(|a| a.logical == logical).unwrap_or_else(|| panic!("no asset {logical}"));
    format!("{PREFIX}{}", asset.hashed)
}

/// `GET /dashboard/assets/{name}`: the file, or 404 for any other name.
pub(crate) async fn serve(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|a| a.hashed == *name) {
        Some(a) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, a.content_type))
            .insert_header((header::CACHE_CONTROL, CACHE_FOREVER))
            .body(a.bytes),
        None => HttpResponse::NotFound().insert_header((header::CACHE_CONTROL, "no-store")).body("Not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_a_hash_of_the_content() {
        let a = hashed_name("app.css", b"body{}");
        let b = hashed_name("app.css", b"body{ }");
        assert!(a.starts_with("app.") && a.ends_with(".css") && a.len() == "app..css".len() + 10);
        assert_ne!(a, b);
        assert_eq!(a, hashed_name("app.css", b"body{}"));
        for asset in all() {
            assert_eq!(asset.hashed, hashed_name(asset.logical, asset.bytes));
            assert_eq!(url(asset.logical), format!("{PREFIX}{}", asset.hashed));
        }
    }

    #[test]
    fn no_asset_reaches_another_origin() {
        for asset in all() {
            let text = String::from_utf8_lossy(asset.bytes);
            for needle in ["http://", "https://", "//cdn", "@import"] {
                let allowed = asset.logical == "icon.svg" && needle == "http://"; // the SVG namespace
                assert!(allowed || !text.contains(needle), "{} contains {needle}", asset.logical);
            }
        }
    }
}
