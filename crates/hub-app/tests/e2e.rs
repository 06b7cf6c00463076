//! End to end: the real `tiktok-hub serve` process, PostgreSQL and the TikTok sandbox, driven
//! over HTTP the way the README's curl examples do.

mod support;

use serde_json::{Value, json};
use support::*;
use tiktok_sandbox::SandboxConfig;

fn sandbox(accounts: usize) -> SandboxConfig {
    SandboxConfig { accounts, videos_per_account: 12, rate_limit_per_min: 0, ..SandboxConfig::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admins_first_ten_minutes() {
    let hub = Hub::start(sandbox(5), &[]).await;

    // Health and service information need no key.
    let health: Value = hub.http.get(hub.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["checks"]["database"], "ok");
    assert_eq!(health["checks"]["encryption"], "ok");
    let root: Value = hub.http.get(hub.url("/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(root["name"], "TikTok Content Reporting Hub");

    // Create two stores (the spec's request body), one twice.
    let body = json!({"store_code": "store_jakarta_01", "store_name": "Store Jakarta Pusat", "pic_name": "John Doe", "pic_contact": "john@example.com"});
    let (status, created) = hub.post("/admin/stores", body.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["storeCode"], "store_jakarta_01");
    assert_eq!(created["message"], "Store created successfully");
    let (status, dup) = hub.post("/admin/stores", body).await;
    assert_eq!((status, dup["error"]["code"].as_str()), (409, Some("STORE_EXISTS")));
    let (status, _) = hub
        .post("/admin/stores", json!({"store_code": "store_bandung_02", "store_name": "Bandung", "pic_name": "Ana"}))
        .await;
    assert_eq!(status, 201);

    // Connect the first through the browser flow.
    let (status, page) = hub.connect("store_jakarta_01", Some(1)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Successfully connected") && page.contains("store_jakarta_01"), "{page}");

    // The store list shows it connected.
    let (_, list) = hub.get("/admin/stores").await;
    assert_eq!(list["count"], 2);
    let jakarta = list["data"].as_array().unwrap().iter().find(|s| s["storeCode"] == "store_jakarta_01").unwrap();
    assert_eq!(jakarta["connectionStatus"], "CONNECTED");
    let open_id = jakarta["accountIdentifier"].as_str().unwrap().to_owned();
    let account = hub.sandbox.accounts().into_iter().find(|a| a.open_id == open_id).expect("a sandbox account");
    assert_eq!(account.index, 1);

    // Trigger the daily sync of every store and read the stats.
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "all"})).await;
    assert_eq!(status, 200, "{run}");
    let user = &run["data"]["user_sync"];
    assert_eq!(
        (user["total"].as_i64(), user["successful"].as_i64(), user["skipped"].as_i64()),
        (Some(2), Some(1), Some(1))
    );
    let video = &run["data"]["video_sync"];
    let visible = hub.sandbox.visible_videos(&open_id);
    assert_eq!(video["totalVideos"].as_i64(), Some(visible.len() as i64));

    let (_, stats) = hub.get("/admin/stores/store_jakarta_01/user-stats?days=7").await;
    assert_eq!(stats["count"], 1);
    let row = &stats["data"][0];
    let account = hub.sandbox.accounts().into_iter().find(|a| a.open_id == open_id).unwrap();
    assert_eq!(row["followerCount"].as_i64(), Some(account.follower_count));
    assert_eq!(row["videoCount"].as_i64(), Some(account.video_count as i64));

    let (_, videos) = hub.get("/admin/stores/store_jakarta_01/video-stats?days=7").await;
    assert_eq!(videos["count"].as_i64(), Some(visible.len() as i64));
    for v in &visible {
        let got =
            videos["data"].as_array().unwrap().iter().find(|r| r["videoId"] == v.id.as_str()).expect("every video");
        assert_eq!(got["viewCount"].as_i64(), Some(v.view_count), "{}", v.id);
    }

    // Logs: one line per store per job plus a summary line per job.
    let (_, logs) = hub.get("/admin/sync/logs?limit=100").await;
    let lines = logs["data"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["storeCode"].is_null() && l["jobName"] == "sync_user_daily"));
    let (_, store_logs) = hub.get("/admin/stores/store_bandung_02/sync-logs").await;
    assert!(store_logs["data"].as_array().unwrap().iter().all(|l| l["status"] == "SKIPPED"));

    // A single store, user only (the spec's single-store answer).
    let (status, one) = hub.post("/admin/sync/run", json!({"store_code": "store_jakarta_01", "job": "user"})).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["data"]["success"], true);
    assert!(one["data"]["message"].as_str().unwrap().starts_with("User stats synced successfully"));
    assert_eq!(hub.get("/admin/stores/store_jakarta_01/user-stats").await.1["count"], 1, "rerun updates the day");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_ever_leaves_the_hub() {
    let mut hub = Hub::start(sandbox(3), &[]).await;
    let mut bodies = String::new();
    for code in ["canary_a", "canary_b"] {
        let (_, b) = hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "P"})).await;
        bodies.push_str(&b.to_string());
        let (_, page) = hub.connect(code, None).await;
        bodies.push_str(&page);
    }
    for path in [
        "/admin/stores",
        "/admin/stores/canary_a",
        "/admin/stores/canary_a/accounts",
        "/admin/sync/logs?limit=500",
        "/admin/audit-logs?limit=500",
        "/admin/sync/status",
        "/health",
        "/api/openapi.json",
    ] {
        bodies.push_str(&hub.get(path).await.1.to_string());
    }
    bodies.push_str(&hub.post("/admin/sync/run", json!({"job": "all"})).await.1.to_string());
    // Failures too: bad input, wrong keys, TikTok refusing.
    hub.sandbox.update(|k| k.fault_internal_error = 1.0);
    bodies.push_str(&hub.post("/admin/sync/run", json!({"job": "user"})).await.1.to_string());
    hub.sandbox.update(|k| k.fault_internal_error = 0.0);
    let wrong = hub.http.get(hub.url("/admin/stores")).header("X-API-KEY", format!("{API_KEY}x")).send().await.unwrap();
    bodies.push_str(&wrong.text().await.unwrap());

    // The tokens TikTok issued, decrypted from the database with the planted key.
    let tokens = stored_tokens(&hub).await;
    assert_eq!(tokens.len(), 4, "two stores × access + refresh");
    let status = hub.terminate();
    assert!(status.success(), "graceful exit: {status:?}");
    let logs = hub.logs();
    let tables = table_dump(&hub).await;
    let mut canaries: Vec<String> =
        vec![CLIENT_SECRET.into(), API_KEY.into(), API_KEY_2.into(), ENC_KEY.into(), STATE_SECRET.into()];
    canaries.extend(tokens);
    for c in &canaries {
        assert!(!logs.contains(c.as_str()), "a secret reached the logs");
        assert!(!bodies.contains(c.as_str()), "a secret reached an HTTP body");
        assert!(!tables.contains(c.as_str()), "a secret reached sync_logs or audit_logs");
    }
    assert!(logs.lines().count() > 20, "the run did log");
}

async fn stored_tokens(hub: &Hub) -> Vec<String> {
    use hub_ports::{AccountRepo, TokenCipher};
    let cipher = hub_engine::AesGcmCipher::new(&[("k1".into(), hub_domain::Secret::new(hex_key(ENC_KEY)))]).unwrap();
    let mut out = Vec::new();
    for code in ["canary_a", "canary_b"] {
        let code = hub_domain::StoreCode::parse(code).unwrap();
        let acct = hub.db.db().for_store(&code).await.unwrap().unwrap();
        let t = acct.tokens.unwrap();
        out.push(cipher.decrypt(&t.access, &format!("{code}/access")).unwrap().expose().clone());
        out.push(cipher.decrypt(&t.refresh, &format!("{code}/refresh")).unwrap().expose().clone());
    }
    out
}

fn hex_key(h: &str) -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(&h[i * 2..i * 2 + 2], 16).unwrap();
    }
    k
}

async fn table_dump(hub: &Hub) -> String {
    use hub_domain::AuditFilter;
    use hub_ports::{AuditRepo, SyncLogRepo};
    let db = hub.db.db();
    let logs = SyncLogRepo::list(db, None, 10_000).await.unwrap();
    let audit = AuditRepo::list(db, &AuditFilter { limit: 10_000, ..Default::default() }).await.unwrap();
    format!("{logs:?}{audit:?}")
}

/// The rest of the spec's curl examples, each answered in the spec's shape.
#[tokio::test(flavor = "multi_thread")]
async fn the_specs_curl_examples() {
    let hub = Hub::start(sandbox(3), &[]).await;
    let (status, _) = hub
        .post("/admin/stores", json!({"store_code": "test_store", "store_name": "Test Store", "pic_name": "Tester"}))
        .await;
    assert_eq!(status, 201);
    let (status, page) = hub.connect("test_store", None).await;
    assert_eq!(status, 200, "{page}");

    // GET /admin/stores/{store_code}
    let (status, one) = hub.get("/admin/stores/test_store").await;
    assert_eq!(status, 200);
    for field in ["storeCode", "storeName", "picName", "connectionStatus", "latestUserStats", "latestVideoStats"] {
        assert!(one["data"].get(field).is_some(), "{field} in {one}");
    }
    let (status, missing) = hub.get("/admin/stores/nope").await;
    assert_eq!((status, missing["error"]["code"].as_str()), (404, Some("STORE_NOT_FOUND")));

    // GET /admin/stores/{store_code}/accounts
    let (_, accounts) = hub.get("/admin/stores/test_store/accounts").await;
    assert_eq!(accounts["count"], 1);
    let a = &accounts["data"][0];
    assert_eq!((a["platform"].as_str(), a["hasValidToken"].as_bool()), (Some("tiktok"), Some(true)));
    for field in ["id", "storeCode", "accountIdentifier", "lastSyncAt", "createdAt", "updatedAt"] {
        assert!(a.get(field).is_some(), "{field} in {a}");
    }

    // The four jobs of POST /admin/sync/run, all stores.
    for (job, keys) in [
        ("user", &["user_sync"][..]),
        ("video", &["video_sync"][..]),
        ("refresh_tokens", &["refresh_tokens"][..]),
        ("all", &["refresh_tokens", "user_sync", "video_sync"][..]),
    ] {
        let (status, run) = hub.post("/admin/sync/run", json!({"job": job})).await;
        assert_eq!(status, 200, "{job}: {run}");
        for k in keys {
            assert!(run["data"].get(*k).is_some(), "{job}: {k} in {run}");
        }
    }
    // Single store, refresh only.
    let (status, refresh) =
        hub.post("/admin/sync/run", json!({"store_code": "test_store", "job": "refresh_tokens"})).await;
    assert_eq!(status, 200);
    assert_eq!(refresh["data"]["success"], true, "{refresh}");
    let (status, unknown) = hub.post("/admin/sync/run", json!({"store_code": "nope", "job": "all"})).await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (404, Some("STORE_NOT_FOUND")));

    // GET /admin/sync/status
    let (_, st) = hub.get("/admin/sync/status").await;
    let jobs: Vec<&str> = st["data"]["jobs"].as_array().unwrap().iter().filter_map(|j| j["name"].as_str()).collect();
    assert_eq!(jobs, ["refresh_tokens", "sync_user_daily", "sync_video_daily"]);
    assert_eq!(st["data"]["timezone"], "UTC");

    // GET /admin/sync/logs?store_code=…&limit=…
    let (_, logs) = hub.get("/admin/sync/logs?store_code=test_store&limit=3").await;
    assert_eq!(logs["count"], 3);
    assert!(logs["data"].as_array().unwrap().iter().all(|l| l["storeCode"] == "test_store"));
    for field in ["id", "jobName", "status", "message", "rawError", "durationMs", "runTime"] {
        assert!(logs["data"][0].get(field).is_some(), "{field}");
    }

    // GET /auth/url with a fresh connect link.
    let (_, link) = hub.post("/admin/stores/test_store/connect-link", json!({})).await;
    let invite = link["data"]["url"].as_str().unwrap().split("invite=").nth(1).unwrap().to_owned();
    let r = hub.http.get(hub.url(&format!("/auth/url?store_code=test_store&invite={invite}"))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["data"]["authUrl"].as_str().unwrap().contains("/v2/auth/authorize/"));
    let r = hub.http.get(hub.url("/connect/tiktok?store_code=test_store")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "no open connect without a link");
}
