//! People and roles end to end: the real binary, its command line, PostgreSQL and the sandbox.

use reqwest::Method;
use serde_json::{Value, json};
use tiktok_sandbox::SandboxConfig;

use crate::support::*;

const PASSWORD: &str = "correct horse battery staple 9";

fn sandbox(accounts: usize) -> SandboxConfig {
    SandboxConfig { accounts, videos_per_account: 4, rate_limit_per_min: 0, ..SandboxConfig::default() }
}

/// A request with a key.
async fn call(hub: &Instance, method: Method, path: &str, key: &str, body: Option<Value>) -> (u16, Value, String) {
    let mut req = hub.http.request(method, hub.url(path)).header("X-API-KEY", key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null), text)
}

/// A personal key made with the break-glass key.
async fn key(hub: &Instance, body: Value) -> String {
    let (status, created, _) = call(hub, Method::POST, "/admin/api-keys", API_KEY, Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created["data"]["key"].as_str().unwrap().to_owned()
}

/// The values of column `name` of a CSV answer (no quoted commas in these tests).
fn csv_column(text: &str, name: &str) -> Vec<String> {
    let mut lines = text.trim_end().split("\r\n");
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    lines.map(|l| l.split(',').nth(i).unwrap_or_default().to_owned()).collect()
}

/// `printf 'correct horse battery staple 9' | tiktok-hub user add ops@example.com --role
/// operator --password-stdin`, then `POST /auth/login`: the cookie reaches `GET
/// /admin/stores`. The command line lists, sets a password (ending the session) and disables.
#[tokio::test(flavor = "multi_thread")]
async fn the_first_user_comes_from_the_command_line_and_signs_in() {
    let hub = Hub::start(sandbox(1), &[]).await;
    let (ok, out, err) =
        cli(&hub, &["user", "add", "ops@example.com", "--role", "operator", "--password-stdin"], Some(PASSWORD));
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "created user 1 ops@example.com (operator, every store)");
    let (status, _) = hub
        .post("/admin/stores", json!({"store_code": "s1", "store_name": "S", "pic_name": "P", "store_group": "north"}))
        .await;
    assert_eq!(status, 201);

    let (cookie, csrf) = sign_in(&hub, "ops@example.com", PASSWORD).await;
    let res = with_session(&hub, Method::GET, "/admin/stores", &cookie, &csrf).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let stores: Value = res.json().await.unwrap();
    assert_eq!(stores["data"][0]["storeCode"], "s1");
    assert_eq!(stores["data"][0]["storeGroup"], "north");
    // An operator may change a store with its session (origin and CSRF token)…
    let res = with_session(&hub, Method::PATCH, "/admin/stores/s1", &cookie, &csrf)
        .json(&json!({"pic_name": "Ann"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // …but not without the token.
    let res = hub
        .http
        .patch(hub.url("/admin/stores/s1"))
        .header("Cookie", &cookie)
        .json(&json!({"pic_name": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);

    // Without --password-stdin a password is generated and printed once.
    let (ok, out, _) = cli(&hub, &["user", "add", "boss@example.com", "--role", "admin"], None);
    assert!(ok);
    let generated =
        out.lines().find_map(|l| l.strip_prefix("password (shown once, store it now): ")).unwrap().to_owned();
    assert_eq!(generated.len(), 24, "{out}");
    sign_in(&hub, "boss@example.com", &generated).await;
    let (ok, out, _) = cli(&hub, &["user", "list"], None);
    assert!(ok && out.contains("ops@example.com") && out.contains("boss@example.com\tboss\tadmin"), "{out}");
    // Weak passwords are refused in one line.
    let (ok, _, err) =
        cli(&hub, &["user", "add", "weak@example.com", "--role", "viewer", "--password-stdin"], Some("password1\n"));
    assert!(!ok && err.contains("password must be at least 12 characters"), "{err}");

    // A new password ends the session at once; the new one signs in.
    let (ok, _, err) = cli(
        &hub,
        &["user", "set-password", "ops@example.com", "--password-stdin"],
        Some("another long passphrase 77\n"),
    );
    assert!(ok, "{err}");
    let res = with_session(&hub, Method::GET, "/admin/stores", &cookie, &csrf).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    sign_in(&hub, "ops@example.com", "another long passphrase 77").await;
    // Disabled: no sign-in.
    assert!(cli(&hub, &["user", "disable", "ops@example.com"], None).0);
    let res = hub
        .http
        .post(hub.url("/auth/login"))
        .json(&json!({"email": "ops@example.com", "password": "another long passphrase 77"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // The last active admin stays.
    let (ok, _, err) = cli(&hub, &["user", "disable", "boss@example.com"], None);
    assert!(!ok && err.contains("one active admin"), "{err}");

    // The audit trail names the person or the command line on every row.
    let (_, audit, _) = call(&hub, Method::GET, "/admin/audit-logs?limit=500", API_KEY, None).await;
    let rows = audit["data"].as_array().unwrap();
    let by = |action: &str| rows.iter().filter(|r| r["action"] == action).cloned().collect::<Vec<Value>>();
    assert!(by("user.create").iter().all(|r| r["actor"] == "cli" && r["actorKind"] == "cli"));
    let logins = by("auth.login");
    assert!(
        logins
            .iter()
            .any(|r| r["outcome"] == "SUCCESS" && r["actor"] == "user:1" && r["actorName"] == "ops@example.com")
    );
    assert!(logins.iter().any(|r| r["outcome"] == "FAILURE" && r["actorName"] == "ops@example.com"));
    let update = by("store.update");
    assert_eq!(update.len(), 1);
    assert_eq!((&update[0]["actor"], &update[0]["actorKind"]), (&json!("user:1"), &json!("user")));
    assert_eq!(by("auth.csrf").len(), 1);
    let (_, mine, _) = call(&hub, Method::GET, "/admin/audit-logs?actor=user:1", API_KEY, None).await;
    assert!(
        mine["count"].as_i64().unwrap() >= 3 && mine["data"].as_array().unwrap().iter().all(|r| r["actor"] == "user:1")
    );
}

/// A viewer's key: every GET of the admin API answers, every POST, PATCH and DELETE is 403
/// FORBIDDEN in the envelope, walking the served OpenAPI document.
#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_key_reads_everything_and_changes_nothing() {
    let hub = Hub::start(sandbox(1), &[]).await;
    let (status, _) = hub
        .post("/admin/stores", json!({"store_code": "v1", "store_name": "V", "pic_name": "P", "store_group": "north"}))
        .await;
    assert_eq!(status, 201);
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "user", "wait": false})).await;
    assert_eq!(status, 202, "{run}");
    let run_id = run["data"]["runIds"][0].as_i64().unwrap();
    let viewer = key(&hub, json!({"name": "analyst", "role": "viewer"})).await;
    let other = key(&hub, json!({"name": "other", "role": "viewer"})).await;
    let (_, keys, _) = call(&hub, Method::GET, "/admin/api-keys", API_KEY, None).await;
    let other_id =
        keys["data"].as_array().unwrap().iter().find(|k| k["name"] == "other").unwrap()["id"].as_i64().unwrap();
    let _ = other;
    let (ok, _, _) =
        cli(&hub, &["user", "add", "x@example.com", "--role", "viewer", "--password-stdin"], Some(PASSWORD));
    assert!(ok);

    let doc: Value = hub.http.get(hub.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let (mut reads, mut writes) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        if !(path.starts_with("/admin/") || path == "/metrics" || path == "/auth/me") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let url = path.replace("{store_code}", "v1").replace(
                "{id}",
                &match path.as_str() {
                    "/admin/sync/runs/{id}" => run_id,
                    "/admin/api-keys/{id}" => other_id,
                    _ => 1,
                }
                .to_string(),
            );
            let body = match (method.as_str(), path.as_str()) {
                ("post", "/admin/stores") => Some(json!({"store_code": "v2", "store_name": "V", "pic_name": "P"})),
                ("patch", "/admin/stores/{store_code}") => Some(json!({"pic_name": "Q"})),
                ("post", "/admin/sync/run") => Some(json!({"store_code": "v1", "job": "user"})),
                ("post", "/admin/users") => {
                    Some(json!({"email": "y@example.com", "role": "viewer", "password": PASSWORD}))
                }
                ("patch", "/admin/users/{id}") => Some(json!({"name": "Z"})),
                ("post", "/admin/api-keys") => Some(json!({"name": "k", "role": "viewer"})),
                ("post", "/admin/webhooks") => {
                    Some(json!({"url": "https://hooks.example.com/hub", "events": ["store.connected"]}))
                }
                ("patch", "/admin/webhooks/{id}") => Some(json!({"enabled": false})),
                _ => None,
            };
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let mut req = hub.http.request(m.clone(), hub.url(&url)).header("X-API-KEY", &viewer);
            if let Some(b) = body {
                req = req.json(&b);
            } else if path == "/admin/stores/import" {
                req = req.header("Content-Type", "text/csv").body("store_code,store_name,pic_name\nv3,V,P\n");
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            // Notification endpoints are admins' only, reading included (their URLs may hold
            // a relay's token).
            let admins_only = path.starts_with("/admin/webhooks");
            if m == Method::GET && !admins_only {
                reads += 1;
                assert!((200..300).contains(&status), "GET {url}: {status} {text}");
            } else {
                writes += 1;
                assert_eq!(status, 403, "{method} {url}: {text}");
                let body: Value = serde_json::from_str(&text).unwrap();
                assert_eq!((&body["success"], &body["error"]["code"]), (&json!(false), &json!("FORBIDDEN")), "{text}");
                assert!(body["error"]["requestId"].is_string());
            }
        }
    }
    assert_eq!((reads, writes), (19, 20), "every GET and every change of the admin API");
    // Each refusal is a DENIED row naming the key.
    let (_, audit, _) = call(&hub, Method::GET, "/admin/audit-logs?limit=500", API_KEY, None).await;
    let denied: Vec<&Value> = audit["data"].as_array().unwrap().iter().filter(|r| r["outcome"] == "DENIED").collect();
    assert_eq!(denied.len(), writes, "one DENIED row per refused change");
    assert!(denied.iter().all(|r| r["actorKind"] == "api_key" && r["actorName"] == "analyst"));
    // Nothing changed.
    let (_, stores) = hub.get("/admin/stores").await;
    assert_eq!(stores["count"], 1);
}

/// A key limited to group `north` sees only north's stores in the store list, every report,
/// every CSV, the overview's totals and the sync logs; a south store's URLs answer 404.
#[tokio::test(flavor = "multi_thread")]
async fn a_north_key_sees_only_north() {
    let hub = Hub::start(sandbox(3), &[]).await;
    for (code, group) in [("n1", "north"), ("n2", "north"), ("s1", "south")] {
        let body = json!({"store_code": code, "store_name": code, "pic_name": "P", "store_group": group});
        assert_eq!(hub.post("/admin/stores", body).await.0, 201);
        assert_eq!(hub.connect(code, None).await.0, 200);
    }
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{run}");
    let north = key(&hub, json!({"name": "north manager", "role": "viewer", "store_groups": ["north"]})).await;
    let get = |path: &str| {
        let (hub, north, path) = (&hub, north.clone(), path.to_owned());
        async move { call(hub, Method::GET, &path, &north, None).await }
    };
    let codes = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> =
            v["data"].as_array().unwrap().iter().map(|r| r["storeCode"].as_str().unwrap().to_owned()).collect();
        c.sort();
        c.dedup();
        c
    };
    let only_north = |c: &[String]| c.iter().all(|c| c == "n1" || c == "n2");

    let (_, stores, _) = get("/admin/stores").await;
    assert_eq!(codes(&stores), ["n1", "n2"]);
    let (_, all, _) = call(&hub, Method::GET, "/admin/stores", API_KEY, None).await;
    assert_eq!(all["count"], 3, "the break-glass key sees every store");
    let followers = |code: &str| {
        all["data"].as_array().unwrap().iter().find(|s| s["storeCode"] == code).unwrap()["latestUserStats"]["followerCount"]
            .as_i64()
            .unwrap()
    };

    // The overview's counts and totals are north's.
    let (_, overview, _) = get("/admin/reports/overview").await;
    let o = &overview["data"];
    assert_eq!((o["stores"]["total"].as_i64(), o["stores"]["connected"].as_i64()), (Some(2), Some(2)), "{o}");
    assert_eq!(o["followers"]["value"].as_i64(), Some(followers("n1") + followers("n2")), "{o}");
    assert_eq!(o["storesWithSnapshot"].as_i64(), Some(2));
    let (_, everyone, _) = call(&hub, Method::GET, "/admin/reports/overview", API_KEY, None).await;
    assert_eq!(everyone["data"]["stores"]["total"].as_i64(), Some(3));

    // Every report.
    let (_, report, _) = get("/admin/reports/stores").await;
    assert_eq!((codes(&report), report["total"].as_i64()), (vec!["n1".to_owned(), "n2".to_owned()], Some(2)));
    let (_, top, _) = get("/admin/reports/videos/top?limit=100").await;
    assert!(!codes(&top).is_empty() && only_north(&codes(&top)), "{top}");
    // A group filter narrows within the caller's groups, never beyond them.
    let (_, north_top, _) = get("/admin/reports/videos/top?limit=100&store_group=north").await;
    assert_eq!(codes(&north_top), codes(&top));
    let (_, south_top, _) = get("/admin/reports/videos/top?limit=100&store_group=south").await;
    assert!(codes(&south_top).is_empty(), "{south_top}");
    let path = "/admin/reports/videos/top?limit=100&store_group=south";
    let (_, everyone_south, _) = call(&hub, Method::GET, path, API_KEY, None).await;
    let south = codes(&everyone_south);
    assert!(!south.is_empty() && south.iter().all(|c| c == "s1"), "{everyone_south}");
    let (_, gaps, _) = get("/admin/reports/gaps?all=true").await;
    assert_eq!(codes(&gaps), ["n1", "n2"]);
    let (_, logs, _) = get("/admin/sync/logs?limit=500").await;
    let log_codes: Vec<&Value> = logs["data"].as_array().unwrap().iter().map(|l| &l["storeCode"]).collect();
    assert!(!log_codes.is_empty() && log_codes.iter().all(|c| *c == "n1" || *c == "n2"), "{logs}");
    let (_, audit, _) = get("/admin/audit-logs?limit=500").await;
    assert!(only_north(&codes(&audit)), "{audit}");

    // Every CSV.
    for path in [
        "/admin/stores?format=csv",
        "/admin/reports/stores?format=csv",
        "/admin/reports/videos/top?format=csv&limit=100",
        "/admin/reports/gaps?format=csv&all=true",
        "/admin/sync/logs?format=csv",
        "/admin/stores/n1/sync-logs?format=csv",
    ] {
        let (status, _, text) = get(path).await;
        assert_eq!(status, 200, "{path}");
        let c = csv_column(&text, "storeCode");
        assert!(!c.is_empty() && only_north(&c), "{path}: {c:?}");
    }
    let (_, _, overview_csv) = get("/admin/reports/overview?format=csv").await;
    assert_eq!(csv_column(&overview_csv, "stores.total"), ["2"]);

    // A south store's URLs: 404, like a store that does not exist.
    for path in [
        "/admin/stores/s1",
        "/admin/stores/s1/accounts",
        "/admin/stores/s1/user-stats",
        "/admin/stores/s1/video-stats?format=csv",
        "/admin/stores/s1/sync-logs",
        "/admin/reports/videos/top?store_code=s1",
        "/admin/sync/logs?store_code=s1",
    ] {
        let (status, body, _) = get(path).await;
        assert_eq!((status, &body["error"]["code"]), (404, &json!("STORE_NOT_FOUND")), "{path}");
    }
    let (_, missing, _) = get("/admin/stores/nowhere").await;
    let (_, south, _) = get("/admin/stores/s1").await;
    assert_eq!(missing["error"]["message"], south["error"]["message"]);
    // Numbers over every store are not for a scoped key.
    for path in ["/admin/sync/status", "/metrics"] {
        assert_eq!(get(path).await.0, 403, "{path}");
    }
}

/// A key that is revoked or expired, or whose owner is disabled, is refused at once.
#[tokio::test(flavor = "multi_thread")]
async fn revoked_expired_and_disabled_owners_keys_are_refused_at_once() {
    let hub = Hub::start(sandbox(1), &[]).await;
    assert!(
        cli(&hub, &["user", "add", "lead@example.com", "--role", "operator", "--password-stdin"], Some(PASSWORD)).0
    );
    let (cookie, csrf) = sign_in(&hub, "lead@example.com", PASSWORD).await;
    let mut keys = Vec::new();
    for (name, days) in [("kept", None), ("short", Some(1)), ("revoked", None)] {
        let res = with_session(&hub, Method::POST, "/admin/api-keys", &cookie, &csrf)
            .json(&json!({"name": name, "role": "operator", "expires_in_days": days}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["apiKey"]["ownerId"], 1);
        keys.push((body["data"]["key"].as_str().unwrap().to_owned(), body["data"]["apiKey"]["id"].as_i64().unwrap()));
    }
    for (k, _) in &keys {
        assert_eq!(call(&hub, Method::GET, "/admin/stores", k, None).await.0, 200);
    }
    // Expired (its end moved to the past in the database): refused on the next request.
    hub_postgres::execute_batch(
        hub.db.url(),
        "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE name = 'short'",
    )
    .await
    .unwrap();
    assert_eq!(call(&hub, Method::GET, "/admin/stores", &keys[1].0, None).await.0, 401);
    // Revoked with the session: refused at once.
    let res = with_session(&hub, Method::DELETE, &format!("/admin/api-keys/{}", keys[2].1), &cookie, &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(call(&hub, Method::GET, "/admin/stores", &keys[2].0, None).await.0, 401);
    assert_eq!(call(&hub, Method::GET, "/admin/stores", &keys[0].0, None).await.0, 200);
    // The owner disabled: their keys stop at once.
    assert!(cli(&hub, &["user", "disable", "lead@example.com"], None).0);
    assert_eq!(call(&hub, Method::GET, "/admin/stores", &keys[0].0, None).await.0, 401);
    // Listed (by the break-glass admin) with their state, never their secrets.
    let (_, list, text) = call(&hub, Method::GET, "/admin/api-keys", API_KEY, None).await;
    assert_eq!(list["count"], 3);
    assert!(list["data"].as_array().unwrap().iter().any(|k| k["name"] == "revoked" && k["revokedAt"].is_string()));
    assert!(list["data"].as_array().unwrap().iter().any(|k| k["name"] == "kept" && k["lastUsedAt"].is_string()));
    for (k, _) in &keys {
        assert!(!text.contains(&k[4..]));
    }
}
