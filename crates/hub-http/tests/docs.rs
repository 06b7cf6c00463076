//! The OpenAPI document and Swagger UI.

mod support;

use support::*;

/// Every route the app registers, as (method, OpenAPI path, needs the API key).
const ROUTES: &[(&str, &str, bool)] = &[
    ("get", "/health", false),
    ("get", "/", false),
    ("get", "/admin/stores", true),
    ("post", "/admin/stores", true),
    ("get", "/admin/stores/{store_code}", true),
    ("get", "/admin/stores/{store_code}/accounts", true),
    ("get", "/admin/stores/{store_code}/user-stats", true),
    ("get", "/admin/stores/{store_code}/video-stats", true),
    ("get", "/admin/stores/{store_code}/sync-logs", true),
    ("post", "/admin/stores/{store_code}/connect-link", true),
    ("post", "/admin/sync/run", true),
    ("get", "/admin/sync/status", true),
    ("get", "/admin/sync/logs", true),
    ("get", "/admin/sync/runs/{id}", true),
    ("get", "/admin/audit-logs", true),
    ("get", "/connect/tiktok", false),
    ("get", "/auth/url", false),
    ("get", "/auth/tiktok/callback", false),
];

#[actix_web::test]
async fn the_openapi_document_covers_every_route() {
    let h = Harness::new();
    let app = app!(h);
    let (status, _, doc) = call_json!(app, get("/api/openapi.json"));
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["info"]["title"], "TikTok Content Reporting Hub");
    assert_eq!(doc["info"]["version"], "1.2.3");
    let scheme = &doc["components"]["securitySchemes"]["apiKey"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "X-API-KEY");

    let paths = doc["paths"].as_object().unwrap();
    for (method, path, secured) in ROUTES {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} missing"))[*method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
        assert!(op["responses"].as_object().unwrap().keys().any(|k| k.starts_with('2') || k == "302"), "{path}");
        assert_eq!(op["security"].is_array(), *secured, "{method} {path} security");
        if *secured {
            assert_eq!(
                op["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorEnvelope"
            );
        }
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, ROUTES.len(), "no undocumented extras: {:?}", paths.keys().collect::<Vec<_>>());

    // Parameters and bodies.
    let params = |path: &str, method: &str| -> Vec<String> {
        paths[path][method]["parameters"].as_array().map_or_else(Vec::new, |a| {
            a.iter().map(|p| format!("{}:{}", p["in"].as_str().unwrap(), p["name"].as_str().unwrap())).collect()
        })
    };
    assert!(params("/admin/stores/{store_code}/user-stats", "get").contains(&"query:days".to_owned()));
    assert!(params("/admin/stores/{store_code}/user-stats", "get").contains(&"path:store_code".to_owned()));
    assert!(params("/admin/sync/logs", "get").contains(&"query:limit".to_owned()));
    assert!(params("/admin/sync/runs/{id}", "get").contains(&"path:id".to_owned()));
    assert!(params("/connect/tiktok", "get").contains(&"query:invite".to_owned()));
    assert!(paths["/admin/stores"]["post"]["requestBody"]["content"]["application/json"].is_object());
    assert_ne!(paths["/admin/sync/run"]["post"]["requestBody"]["required"], true, "the body is optional");
    assert_eq!(paths["/admin/stores"]["post"]["requestBody"]["required"], true);
    assert!(paths["/admin/sync/run"]["post"]["responses"]["202"].is_object());
    assert!(paths["/health"]["get"]["responses"]["503"].is_object());

    // Optional response fields are sent as null: the document says so.
    let store = &doc["components"]["schemas"]["StoreListResponse"]["properties"]["data"]["items"]["properties"];
    assert_eq!(store["accountId"]["nullable"], true);
    assert!(store["storeCode"].get("nullable").is_none());
}

#[actix_web::test]
async fn every_docs_url_answers_and_unknown_assets_are_404() {
    let h = Harness::new();
    let app = app!(h);
    for (from, to) in [("/docs", "/api/docs"), ("/swagger", "/api/docs"), ("/api/docs", "/api/docs/index.html")] {
        let (status, headers, _) = call!(app, get(from));
        assert_eq!(status, 302, "{from}");
        assert_eq!(headers.get("location").unwrap(), to, "{from}");
    }
    let (status, headers, body) = call!(app, get("/api/docs/index.html"));
    assert_eq!(status, 200);
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("url: \"/api/openapi.json\""), "points at our document, not the petstore");
    // Every file of the bundled Swagger UI (fails if a paperclip upgrade changes the bundle).
    for asset in [
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
    ] {
        let (status, _, body) = call!(app, get(&format!("/api/docs/{asset}")));
        assert_eq!(status, 200, "{asset}");
        assert!(!body.is_empty(), "{asset}");
    }
    for unknown in ["/api/docs/nope.js", "/api/docs/", "/api/docs/a/b", "/api/docs/swagger%2Dui.css", "/api/docs/?x=1"]
    {
        let (status, _, body) = call_json!(app, get(unknown));
        assert_eq!(status, 404, "{unknown}");
        assert_error(&body, "NOT_FOUND");
    }
    let (status, _, v2) = call_json!(app, get("/api/openapi-v2.json"));
    assert_eq!(status, 200);
    assert_eq!(v2["swagger"], "2.0");
}
