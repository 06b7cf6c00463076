//! The OpenAPI document and Swagger UI. Registered on the actix app itself, before (outside)
//! every other route, so no scope can swallow them.
//!
//! paperclip's bundled Swagger UI handler panics on an unknown asset name (the connection
//! drops), and its `index.html` points at the petstore example: `/api/docs/index.html` is
//! served here (pointing at our document) and any asset name not in [`ASSETS`] answers 404
//! before paperclip's handler sees it.

use actix_web::http::header;
use actix_web::{HttpResponse, guard, web};
use paperclip::actix::HttpResponseWrapper;
use serde_json::Value;

use crate::error::ApiError;

/// Where the OpenAPI 3 document is served.
pub(crate) const SPEC_PATH: &str = "/api/openapi.json";
/// Where the OpenAPI 2 form (paperclip's own) is served.
pub(crate) const SPEC_V2_PATH: &str = "/api/openapi-v2.json";
/// Where Swagger UI is served.
pub(crate) const UI_PATH: &str = "/api/docs";

/// The files of paperclip-actix's bundled Swagger UI (`swagger-ui/dist`), served by its handler.
/// A test fetches each, so a paperclip upgrade that changes the bundle shows up there.
pub(crate) const ASSETS: &[&str] = &[
    "favicon-16x16.png",
    "favicon-32x32.png",
    "oauth2-redirect.html",
    "swagger-ui-bundle.js",
    "swagger-ui-bundle.js.map",
    "swagger-ui-es-bundle-core.js",
    "swagger-ui-es-bundle-core.js.map",
    "swagger-ui-es-bundle.js",
    "swagger-ui-es-bundle.js.map",
    "swagger-ui-standalone-preset.js",
    "swagger-ui-standalone-preset.js.map",
    "swagger-ui.css",
    "swagger-ui.css.map",
    "swagger-ui.js",
    "swagger-ui.js.map",
];

const INDEX_HTML: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>TikTok Content Reporting Hub - API docs</title>
  <link rel="stylesheet" type="text/css" href="./swagger-ui.css" />
  <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32" />
  <style>html { box-sizing: border-box; overflow-y: scroll; } *, *:before, *:after { box-sizing: inherit; } body { margin: 0; background: #fafafa; }</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="UTF-8"></script>
  <script src="./swagger-ui-standalone-preset.js" charset="UTF-8"></script>
  <script>
    window.onload = function () {
      window.ui = SwaggerUIBundle({
        url: "/api/openapi.json",
        dom_id: "#swagger-ui",
        deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
        plugins: [SwaggerUIBundle.plugins.DownloadUrl],
        layout: "StandaloneLayout"
      });
    };
  </script>
</body>
</html>
"##;

fn redirect(to: &'static str) -> HttpResponse {
    HttpResponse::Found().insert_header((header::LOCATION, to)).finish()
}

async fn index() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(INDEX_HTML)
}

async fn unknown_asset(req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("No such documentation file: {}", req.path())))
}

fn is_known_asset(path: &str) -> bool {
    path.strip_prefix("/api/docs/").is_some_and(|name| ASSETS.contains(&name))
}

/// `/docs`, `/swagger`, `/api/docs`, `/api/docs/index.html` and the 404 for unknown assets.
/// The document itself and the known assets are mounted by paperclip (see `build_app`).
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    // Resources (not `cfg.route`, which turns the method into a routing guard and answers
    // 404 for another method): a wrong method is a 405 with `Allow`.
    let get = |path: &str, route: actix_web::Route| web::resource(path.to_owned()).route(route);
    cfg.service(get("/docs", web::get().to(|| async { redirect(UI_PATH) })))
        .service(get("/swagger", web::get().to(|| async { redirect(UI_PATH) })))
        .service(get(UI_PATH, web::get().to(|| async { redirect("/api/docs/index.html") })))
        .service(get("/api/docs/index.html", web::get().to(index)))
        .service(
            web::resource("/api/docs/{filename:.*}")
                .guard(guard::fn_guard(|ctx| !is_known_asset(ctx.head().uri.path())))
                .to(unknown_asset),
        );
}

/// The documentation routes this module and paperclip register (every one answers GET
/// only), for the `Allow` header of a 405. A test sends each a POST.
pub(crate) const DOCS_ROUTES: &[&str] =
    &["/docs", "/swagger", UI_PATH, "/api/docs/index.html", "/api/docs/{filename:.*}", SPEC_PATH, SPEC_V2_PATH];

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
