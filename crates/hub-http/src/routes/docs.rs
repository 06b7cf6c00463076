//! The OpenAPI document and Swagger UI. Registered on the actix app itself, before (outside)
//! every other route, so no scope can swallow them.
//!
//! Swagger UI is a current 5.x taken from npm's `swagger-ui-dist` (`assets/swagger-ui/`, see
//! its README for the version and how to update it) and served from the binary, with a page
//! (`index.html`) and an initializer (`hub-docs.js`) of our own: no inline script or style
//! (the page's Content-Security-Policy allows neither), the document's URL fixed to
//! `/api/openapi.json`, and `queryConfigEnabled: false` — Swagger UI 5 reads `?url=` and
//! `?config=` from the address only when that is true (the CVE-2021-46708 class: a link that
//! makes the docs page load someone else's document). No `configUrl`, no validator badge.
//!
//! Files are sent with a year-long `immutable` cache and referenced from the page with a
//! fingerprint of their content (`?v=`), so an upgrade is picked up at once. Any other name
//! under `/api/docs/` answers 404 in the error envelope. paperclip's bundled Swagger UI 3.52
//! and its OpenAPI 2 document (`/api/openapi-v2.json`) are not served.
//!
//! `API_DOCS` (the app's [`crate::ApiDocs`]) decides who may read all this; the middleware
//! applies it (`crate::middleware`).

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use paperclip::actix::HttpResponseWrapper;
use serde_json::Value;

use crate::error::ApiError;

/// Where the OpenAPI 3 document is served.
pub(crate) const SPEC_PATH: &str = "/api/openapi.json";
/// Where Swagger UI is served (its page is `/api/docs/`).
pub(crate) const UI_PATH: &str = "/api/docs";
/// The version of `swagger-ui-dist` in `assets/swagger-ui/`.
pub const SWAGGER_UI_VERSION: &str = "5.35.0";

/// One file of the docs page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file under `/api/docs/` besides the page itself.
const ASSETS: &[Asset] = &[
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "favicon-32x32.png",
        content_type: "image/png",
        bytes: include_bytes!("../../assets/swagger-ui/favicon-32x32.png"),
    },
    Asset {
        name: "favicon-16x16.png",
        content_type: "image/png",
        bytes: include_bytes!("../../assets/swagger-ui/favicon-16x16.png"),
    },
    Asset {
        name: "hub-docs.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../assets/docs/hub-docs.js"),
    },
    Asset {
        name: "hub-docs.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../assets/docs/hub-docs.css"),
    },
];

/// The names of the files under `/api/docs/` (a test fetches each).
pub fn asset_names() -> Vec<&'static str> {
    ASSETS.iter().map(|a| a.name).collect()
}

/// FNV-1a of `bytes`, as 16 hex digits: the `?v=` of a file's URL.
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// `./name?v=<fingerprint>` of a file of [`ASSETS`].
fn href(name: &str) -> String {
    let asset = ASSETS.iter().find(|a| a.name == name).expect("a file of ASSETS");
    format!("./{name}?v={}", fingerprint(asset.bytes))
}

/// The page: Swagger UI's files and our initializer, nothing inline.
static INDEX_HTML: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>TikTok Content Reporting Hub - API docs</title>
  <link rel="stylesheet" href="{css}">
  <link rel="stylesheet" href="{page_css}">
  <link rel="icon" type="image/png" href="{icon32}" sizes="32x32">
  <link rel="icon" type="image/png" href="{icon16}" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"#,
        css = href("swagger-ui.css"),
        page_css = href("hub-docs.css"),
        icon32 = href("favicon-32x32.png"),
        icon16 = href("favicon-16x16.png"),
        bundle = href("swagger-ui-bundle.js"),
        init = href("hub-docs.js"),
    )
});

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, to)).finish()
}

fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Small, and names the files' fingerprints: always revalidated.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(INDEX_HTML.as_str())
}

/// `/api/docs/` and `/api/docs/index.html` (the page), a file of [`ASSETS`], or 404. The
/// name is taken from the raw path, so `swagger%2Dui.css` is not `swagger-ui.css`.
async fn file(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let name = req.path().strip_prefix("/api/docs/").unwrap_or_default();
    if name.is_empty() || name == "index.html" {
        return Ok(index());
    }
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => Ok(HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.bytes)),
        None => Err(ApiError::not_found(format!("No such documentation file: {}", req.path()))),
    }
}

/// The pattern of `/api/docs/…`.
const FILE_ROUTE: &str = "/api/docs/{filename:.*}";

/// `/docs`, `/swagger`, `/api/docs` (redirects to `/api/docs/`), the page and its files. The
/// document itself is mounted with paperclip's (see `build_app`).
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    // Resources (not `cfg.route`, which turns the method into a routing guard and answers
    // 404 for another method): a wrong method is a 405 with `Allow`.
    let get = |path: &str, route: actix_web::Route| web::resource(path.to_owned()).route(route);
    cfg.service(get("/docs", web::get().to(|| async { redirect("/api/docs/") })))
        .service(get("/swagger", web::get().to(|| async { redirect("/api/docs/") })))
        .service(get(UI_PATH, web::get().to(|| async { redirect("/api/docs/") })))
        .service(get(FILE_ROUTE, web::get().to(file)));
}

/// The documentation routes this module and paperclip register (every one answers GET
/// only), for the `Allow` header of a 405. A test sends each a POST.
pub(crate) const DOCS_ROUTES: &[&str] = &["/docs", "/swagger", UI_PATH, FILE_ROUTE, SPEC_PATH];

/// Whether `path` is one of the documentation routes (what `API_DOCS` governs).
pub(crate) fn is_docs_path(path: &str) -> bool {
    matches!(path, "/docs" | "/swagger" | UI_PATH | SPEC_PATH) || path.starts_with("/api/docs/")
}

/// OpenAPI 2 (paperclip's model) has no `nullable`: an optional property of a response is
/// sent as `null`, so in the OpenAPI 3 document every property that is not required is
/// marked `nullable: true`, recursively.
pub(crate) fn mark_nullable(v: &mut Value) {
    match v {
        Value::Object(map) => {
            let required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default();
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (name, prop) in props.iter_mut() {
                    if let Value::Object(p) = prop
                        && !required.contains(name)
                        && !p.contains_key("$ref")
                    {
                        p.insert("nullable".into(), Value::Bool(true));
                        // OpenAPI 3.0.3: an `enum` admits `null` only when it lists it.
                        if let Some(Value::Array(values)) = p.get_mut("enum")
                            && !values.contains(&Value::Null)
                        {
                            values.push(Value::Null);
                        }
                    }
                }
            }
            map.values_mut().for_each(mark_nullable);
        }
        Value::Array(items) => items.iter_mut().for_each(mark_nullable),
        _ => {}
    }
}

/// The finished OpenAPI 3 document: optional properties nullable, and the rules the server
/// enforces (see `crate::openapi`).
pub(crate) fn finish(spec: &mut Value) {
    mark_nullable(spec);
    crate::openapi::constrain(spec);
    crate::roles::document(spec);
    crate::routes::metrics::finish_spec(spec);
}

/// The route serving the finished OpenAPI 3 document (built once per worker).
pub(crate) fn spec_route(mut spec: Value) -> paperclip::actix::web::Route {
    finish(&mut spec);
    let body = web::Bytes::from(spec.to_string());
    paperclip::actix::web::get().to(move || {
        let body = body.clone();
        async move { HttpResponseWrapper(HttpResponse::Ok().content_type("application/json").body(body)) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_file_with_its_fingerprint_and_nothing_inline() {
        let page = INDEX_HTML.as_str();
        for asset in ASSETS {
            assert!(page.contains(&href(asset.name)), "{}", asset.name);
        }
        assert!(!page.contains("<style"), "no inline style");
        assert_eq!(page.matches("<script").count(), page.matches("<script src=").count(), "no inline script");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
    }
}
