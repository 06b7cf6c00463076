//! The OpenAPI document and Swagger UI.

use crate::support::*;
use serde_json::json;

/// Every route the app registers, as (method, OpenAPI path, needs the API key).
const ROUTES: &[(&str, &str, bool)] = &[
    ("get", "/health", false),
    ("get", "/health/live", false),
    ("get", "/health/ready", false),
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
    ("get", "/metrics", true),
    ("get", "/admin/reports/overview", true),
    ("get", "/admin/reports/stores", true),
    ("get", "/admin/reports/videos/top", true),
    ("get", "/admin/reports/gaps", true),
    ("post", "/admin/stores/import", true),
    ("get", "/admin/stores/import/template", true),
    ("delete", "/admin/stores/{store_code}", true),
    ("post", "/admin/stores/{store_code}/disconnect", true),
    ("post", "/admin/stores/{store_code}/restore", true),
    ("delete", "/admin/stores/{store_code}/connect-link", true),
    ("post", "/webhooks/tiktok", false),
    ("patch", "/admin/stores/{store_code}", true),
    ("get", "/admin/users", true),
    ("post", "/admin/users", true),
    ("patch", "/admin/users/{id}", true),
    ("delete", "/admin/users/{id}", true),
    ("get", "/admin/api-keys", true),
    ("post", "/admin/api-keys", true),
    ("delete", "/admin/api-keys/{id}", true),
    ("post", "/auth/login", false),
    ("post", "/auth/logout", true),
    ("get", "/auth/me", true),
    ("get", "/admin/webhooks", true),
    ("post", "/admin/webhooks", true),
    ("patch", "/admin/webhooks/{id}", true),
    ("delete", "/admin/webhooks/{id}", true),
    ("post", "/admin/webhooks/{id}/test", true),
    ("get", "/admin/webhooks/{id}/deliveries", true),
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
    let cookie = &doc["components"]["securitySchemes"]["sessionCookie"];
    assert_eq!(
        (&cookie["type"], &cookie["in"], &cookie["name"]),
        (&json!("apiKey"), &json!("cookie"), &json!("hub_session"))
    );

    let paths = doc["paths"].as_object().unwrap();
    for (method, path, secured) in ROUTES {
        let op = &paths.get(*path).unwrap_or_else(|| panic!("{path} missing"))[*method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
        assert!(op["responses"].as_object().unwrap().keys().any(|k| k.starts_with('2') || k == "302"), "{path}");
        assert_eq!(op["security"].is_array(), *secured, "{method} {path} security");
        if *secured {
            // Either scheme, and the role the route needs.
            assert_eq!(op["security"], json!([{ "apiKey": [] }, { "sessionCookie": [] }]), "{method} {path}");
            let role = op["x-required-role"].as_str().unwrap_or_else(|| panic!("{method} {path}: no x-required-role"));
            assert!(["viewer", "operator", "admin"].contains(&role), "{method} {path}: {role}");
            assert!(op["description"].as_str().unwrap().contains(&format!("Required role: {role}")), "{method} {path}");
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
    for from in ["/docs", "/swagger", "/api/docs"] {
        let (status, headers, _) = call!(app, get(from));
        assert_eq!(status, 302, "{from}");
        assert_eq!(headers.get("location").unwrap(), "/api/docs/", "{from}");
    }
    for page in ["/api/docs/", "/api/docs/index.html"] {
        let (status, headers, body) = call!(app, get(page));
        assert_eq!(status, 200, "{page}");
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(headers.get("content-security-policy").is_some(), "{page}");
        assert!(body.contains("hub-docs.js?v=") && body.contains("swagger-ui-bundle.js?v="), "{body}");
        assert!(!body.contains("<style"), "no inline style");
        assert_eq!(body.matches("<script").count(), body.matches("<script src=\"./").count(), "no inline script");
    }
    // Every file the page uses, with a year-long cache (their URLs carry a fingerprint).
    let files = hub_http::docs_asset_names();
    assert_eq!(files.len(), 6, "{files:?}");
    for file in files {
        let (status, headers, body) = call!(app, get(&format!("/api/docs/{file}")));
        assert_eq!(status, 200, "{file}");
        assert!(!body.is_empty(), "{file}");
        assert_eq!(headers.get("cache-control").unwrap(), "public, max-age=31536000, immutable", "{file}");
    }
    // Unknown names, the files of paperclip's old bundle and its OpenAPI 2 document: 404.
    for unknown in [
        "/api/docs/nope.js",
        "/api/docs/a/b",
        "/api/docs/swagger%2Dui.css",
        "/api/docs/swagger-ui.js",
        "/api/docs/swagger-ui-bundle.js.map",
        "/api/docs/swagger-ui-standalone-preset.js",
        "/api/docs/swagger-ui-es-bundle.js",
        "/api/docs/oauth2-redirect.html",
        "/api/openapi-v2.json",
    ] {
        let (status, _, body) = call_json!(app, get(unknown));
        assert_eq!(status, 404, "{unknown}");
        assert_error(&body, "NOT_FOUND");
    }
}

/// `?url=`/`?config=` on the docs page load nothing else (the CVE-2021-46708 class): the page
/// is the same whatever the query, our initializer fixes the document's URL, turns
/// `queryConfigEnabled` off and never reads the address, and the bundle is Swagger UI 5, which
/// reads the query string only when `queryConfigEnabled` is on.
#[actix_web::test]
async fn the_docs_page_never_loads_a_document_named_in_its_address() {
    let h = Harness::new();
    let app = app!(h);
    let (_, _, plain) = call!(app, get("/api/docs/"));
    for query in [
        "?url=https://evil.example/x.json",
        "?configUrl=https://evil.example/c.json",
        "?config=https://evil.example/c.json&urls.primaryName=x",
    ] {
        let (status, _, page) = call!(app, get(&format!("/api/docs/{query}")));
        assert_eq!(status, 200, "{query}");
        assert_eq!(page, plain, "{query}: the page does not depend on the query");
        assert!(!page.contains("evil.example"));
    }
    let (_, _, init) = call!(app, get("/api/docs/hub-docs.js"));
    assert!(init.contains("url: \"/api/openapi.json\""), "{init}");
    assert!(init.contains("queryConfigEnabled: false"), "{init}");
    let code: String = init.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    for never in ["location", "configUrl", "search", "URLSearchParams", "urls"] {
        assert!(!code.contains(never), "the initializer uses {never}");
    }
    let (_, _, bundle) = call!(app, get("/api/docs/swagger-ui-bundle.js"));
    assert!(bundle.contains(&format!("PACKAGE_VERSION:\"{}\"", hub_http::SWAGGER_UI_VERSION)), "bundle version");
    assert!(hub_http::SWAGGER_UI_VERSION.starts_with("5."), "Swagger UI 5.x");
    // The only read of the address's query string, behind queryConfigEnabled (false by default).
    assert_eq!(bundle.matches("location.search").count(), 1, "one read of location.search");
    assert!(
        bundle.contains("s.queryConfigEnabled?(()=>{const s=new URLSearchParams(ct.location.search)"),
        "Swagger UI reads ?url=/?config= only when queryConfigEnabled is on"
    );
    assert!(bundle.contains("queryConfigEnabled:!1"), "and it is off by default");
}

/// `API_DOCS`: public (default), key (the admin key, as on /admin), off (404).
#[actix_web::test]
async fn api_docs_public_key_or_off() {
    let urls = ["/api/openapi.json", "/api/docs/", "/api/docs/swagger-ui.css", "/api/docs", "/docs", "/swagger"];
    for mode in [hub_http::ApiDocs::Public, hub_http::ApiDocs::AdminKey, hub_http::ApiDocs::Off] {
        let h = Harness::with(hub_http::HttpConfig { api_docs: mode, ..http_config() }, Default::default());
        let app = app!(h);
        for url in urls {
            let (anonymous, _, _) = call!(app, get(url));
            let (with_key, headers, _) = call!(app, admin_get(url));
            match mode {
                hub_http::ApiDocs::Public => {
                    // The pages and files answer; the short URLs redirect to the page.
                    let want = if url.ends_with('/') || url.contains('.') { 200 } else { 302 };
                    assert_eq!((anonymous, with_key), (want, want), "{url}");
                }
                hub_http::ApiDocs::AdminKey => {
                    assert_eq!(anonymous, 401, "{url}");
                    assert!([200, 302].contains(&with_key), "{url}: {with_key}");
                    assert_eq!(headers.get("cache-control").unwrap(), "no-store", "{url}");
                }
                hub_http::ApiDocs::Off => assert_eq!((anonymous, with_key), (404, 404), "{url}"),
            }
        }
        // A wrong key counts toward the auth-failure block, as on /admin.
        if mode == hub_http::ApiDocs::AdminKey {
            let (status, _, body) = call_json!(app, get("/api/openapi.json").insert_header(("X-API-KEY", "wrong")));
            assert_eq!(status, 401);
            assert_error(&body, "UNAUTHORIZED");
        }
    }
}

/// A concrete URL of an OpenAPI path (`{store_code}` → `s1`, `{id}` → `1`).
fn concrete(path: &str) -> String {
    path.replace("{store_code}", "s1").replace("{id}", "1")
}

#[actix_web::test]
async fn every_405_lists_the_routes_methods_in_allow() {
    use actix_web::http::Method;
    let h = Harness::new();
    let app = app!(h);
    let (_, _, doc) = call_json!(app, get("/api/openapi.json"));
    let mut routes: Vec<(String, Vec<String>)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item.as_object().unwrap().keys().map(|m| m.to_ascii_uppercase()).collect();
            methods.sort_by_key(|m| {
                ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"].iter().position(|x| x == m)
            });
            (concrete(path), methods)
        })
        .collect();
    // The documentation routes answer GET only.
    for url in [
        "/docs",
        "/swagger",
        "/api/docs",
        "/api/docs/index.html",
        "/api/docs/swagger-ui.css",
        "/api/docs/",
        "/api/openapi.json",
    ] {
        routes.push((url.to_owned(), vec!["GET".to_owned()]));
    }
    for (url, methods) in &routes {
        let allowed: Vec<Method> = methods.iter().map(|m| Method::from_bytes(m.as_bytes()).unwrap()).collect();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::TRACE,
            Method::HEAD,
            Method::OPTIONS,
        ] {
            if allowed.contains(&method) {
                continue;
            }
            let req = actix_web::test::TestRequest::default()
                .method(method.clone())
                .uri(url)
                .insert_header(("X-API-KEY", KEY_1));
            let (status, headers, body) = call!(app, req);
            assert_eq!(status, 405, "{method} {url}");
            let allow =
                headers.get("allow").unwrap_or_else(|| panic!("{method} {url}: no Allow header")).to_str().unwrap();
            assert_eq!(allow, methods.join(", "), "{method} {url}");
            if method != Method::HEAD {
                let body: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert!(assert_error(&body, "INVALID_REQUEST").contains(method.as_str()), "{method} {url}");
            }
        }
    }
    // `/admin/stores` answers two methods.
    let (status, headers, _) =
        call!(app, actix_web::test::TestRequest::delete().uri("/admin/stores").insert_header(("X-API-KEY", KEY_1)));
    assert_eq!(status, 405);
    assert_eq!(headers.get("allow").unwrap(), "GET, POST");
}

/// Parameters whose validity no schema can state (opaque tokens) or TikTok's own text.
const FREE_FORM_PARAMS: &[&str] = &["invite", "code", "state", "scopes", "error", "error_description"];

#[actix_web::test]
async fn the_document_states_what_the_server_enforces() {
    let h = Harness::new();
    let app = app!(h);
    let (_, _, doc) = call_json!(app, get("/api/openapi.json"));
    let store_code = |schema: &serde_json::Value, at: &str| {
        assert_eq!(schema["pattern"], "^[A-Za-z0-9_-]{1,50}$", "{at}");
        assert_eq!(schema["minLength"], 1, "{at}");
        assert_eq!(schema["maxLength"], 50, "{at}");
        assert_eq!(schema["example"], hub_http::STORE_CODE_EXAMPLE, "{at}");
    };
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let (name, schema) = (p["name"].as_str().unwrap(), &p["schema"]);
                let at = format!("{method} {path} {name}");
                match name {
                    // The report and import parameters are checked in tests/reports.rs.
                    _ if path.starts_with("/admin/reports/") || path.starts_with("/admin/stores/import") => {}
                    "store_code" => {
                        store_code(schema, &at);
                        seen += 1;
                        let required = p["in"] == "path" || path == "/connect/tiktok" || path == "/auth/url";
                        assert_eq!(p["required"] == true, required, "{at}");
                    }
                    "days" => assert_eq!(
                        (&schema["minimum"], &schema["maximum"], &schema["default"]),
                        (&1.into(), &365.into(), &30.into()),
                        "{at}"
                    ),
                    "limit" => assert_eq!(
                        (&schema["minimum"], &schema["maximum"], &schema["default"]),
                        (&1.into(), &500.into(), &50.into()),
                        "{at}"
                    ),
                    "id" => assert_eq!((&schema["minimum"], &schema["maximum"]), (&1.into(), &i64::MAX.into()), "{at}"),
                    "format" => assert_eq!(schema["enum"], serde_json::json!(["json", "csv", "xlsx"]), "{at}"),
                    "from" | "to" => assert_eq!(schema["pattern"], "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "{at}"),
                    "action" => assert_eq!(schema["pattern"], "^[a-z_.]{1,64}$", "{at}"),
                    "include" => assert_eq!(schema["enum"], serde_json::json!(["archived"]), "{at}"),
                    "actor" => assert!(schema["pattern"].as_str().unwrap().contains("user:"), "{at}"),
                    other => assert!(
                        FREE_FORM_PARAMS.contains(&other),
                        "{at}: a parameter without rules; add them in src/params.rs"
                    ),
                }
            }
        }
    }
    assert_eq!(seen, 15, "every store_code parameter");

    // Request bodies: unknown fields are refused, every field has its rules.
    let schemas = &doc["components"]["schemas"];
    for body in ["CreateStoreBody", "SyncRunBody"] {
        assert_eq!(schemas[body]["additionalProperties"], false, "{body}");
        assert!(schemas[body]["example"].is_object(), "{body}");
    }
    let create = &schemas["CreateStoreBody"]["properties"];
    store_code(&create["store_code"], "CreateStoreBody.store_code");
    for field in ["store_name", "pic_name", "pic_contact"] {
        assert!(create[field]["pattern"].as_str().unwrap().contains("{0,253}"), "{field}");
    }
    assert_eq!(create["store_name"]["minLength"], 1);
    assert_eq!(create["pic_contact"]["nullable"], true);
    let sync = &schemas["SyncRunBody"]["properties"];
    store_code(&sync["store_code"], "SyncRunBody.store_code");
    assert_eq!(sync["store_code"]["nullable"], true);
    assert_eq!(sync["job"]["enum"], json!(["all", "user", "video", "refresh_tokens", null]));

    // The example body is accepted as it is.
    let example = schemas["CreateStoreBody"]["example"].clone();
    let (status, _, _) = call_json!(app, admin_post("/admin/stores").set_json(&example));
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn the_stated_rules_are_the_servers() {
    let h = Harness::new();
    let app = app!(h);
    h.world.lock().unwrap().add_spec_store("s1", "Store One");
    // At the documented bounds: accepted; one past them: refused.
    for (uri, ok) in [
        ("/admin/stores/s1/user-stats?days=1", true),
        ("/admin/stores/s1/user-stats?days=365", true),
        ("/admin/stores/s1/user-stats?days=0", false),
        ("/admin/stores/s1/user-stats?days=366", false),
        ("/admin/stores/s1/sync-logs?limit=500", true),
        ("/admin/stores/s1/sync-logs?limit=501", false),
        ("/admin/sync/logs?store_code=", false),
        ("/admin/sync/logs?store_code=s1", true),
        ("/admin/audit-logs?action=", false),
        (&format!("/admin/audit-logs?action={}", "a".repeat(64)), true),
        (&format!("/admin/audit-logs?action={}", "a".repeat(65)), false),
        (&format!("/admin/stores/{}", "a".repeat(51)), false),
    ] {
        let (status, _, _) = call!(app, admin_get(uri));
        assert_eq!((200..300).contains(&status) || status == 404, ok, "{uri}: {status}");
    }
    // Text fields: white space around is trimmed, control characters refused.
    for (name, ok) in [
        ("\t Store \n", true),
        (&"x".repeat(255), true),
        (&format!("  {}  ", "x".repeat(255)), true),
        (&"x".repeat(256), false),
        ("   ", false),
        ("a\u{7}b", false),
    ] {
        let code = format!("c{}", name.len());
        let body = json!({"store_code": code, "store_name": name, "pic_name": "p"});
        let (status, _, _) = call!(app, admin_post("/admin/stores").set_json(&body));
        assert_eq!(status == 201, ok, "{name:?}: {status}");
    }
    // Unknown body fields are refused (the document says additionalProperties: false).
    let (status, _, _) = call!(app, admin_post("/admin/sync/run").set_json(json!({"nope": 1})));
    assert_eq!(status, 400);
}
