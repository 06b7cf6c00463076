//! End to end: the real `tiktok-hub serve` process, PostgreSQL and the TikTok sandbox, driven
//! over HTTP the way the README's curl examples do.

use crate::support::*;
use serde_json::{Value, json};
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

/// The newer of the two token keys of the canary run (listed first: it encrypts).
const ENC_KEY_2: &str = "5eed5eed00112233445566778899aabbccddeeff5eed5eed0011223344556677";
/// A password in `DATABASE_URL` (the test server trusts local connections and ignores it).
const DB_PASSWORD: &str = "canary-db-password-4e3d2c1b0a99";
/// A person's password, and a wrong one typed at sign-in.
const USER_PASSWORD: &str = "canary-user-password-horse-7c6b5a";
const WRONG_PASSWORD: &str = "canary-wrong-password-battery-3f2e1d";

/// `postgres://user@host/db` → `postgres://user:password@host/db`.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (userinfo, host) = rest.split_once('@').expect("a user in the test database URL");
    assert!(!userinfo.contains(':'), "the test URL has no password of its own");
    format!("{scheme}://{userinfo}:{password}@{host}")
}

/// Every secret of the canary run in the forms code might print it: as configured, and the
/// byte secrets (token keys, `STATE_SECRET`) as hex and as `Debug` prints bytes.
fn configured_canaries() -> Vec<String> {
    let mut all: Vec<String> =
        [CLIENT_SECRET, API_KEY, API_KEY_2, STATE_SECRET, DB_PASSWORD].iter().map(|s| (*s).to_owned()).collect();
    let byte_list = |b: &[u8]| format!("{:?}", &b[..8]).trim_end_matches(']').to_owned();
    for key in [ENC_KEY, ENC_KEY_2] {
        all.push(key.to_owned());
        all.push(key.to_ascii_uppercase());
        all.push(byte_list(&hex_key(key)));
    }
    all.push(byte_list(STATE_SECRET.as_bytes()));
    all
}

/// Rows of `table` whose text contains `needle`.
async fn rows_containing(hub: &Hub, table: &str, needle: &str) -> i64 {
    assert!(!needle.contains('\''), "{needle}");
    let sql = format!("SELECT count(*) AS n FROM {table} t WHERE strpos(t::text, '{needle}') > 0");
    hub_postgres::query_i64(hub.db.url(), &sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// A full run with planted secrets: two stores connected through the OAuth flow, reads with
/// both API keys, every sync job (TikTok failing too), a token refresh, wrong keys; then
/// every line the hub printed (two processes), every HTTP body, and every row of every table
/// are searched for each secret: the configured ones, and the tokens TikTok issued, both as
/// stored (ciphertexts, allowed only in `store_accounts`) and decrypted (allowed nowhere).
/// Panics are log events too (`telemetry::install_panic_hook`): every line is JSON, none is a
/// plain-text panic report.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_ever_leaves_the_hub() {
    let keys = format!("k2:{ENC_KEY_2},k1:{ENC_KEY}");
    let env = [("TOKEN_ENC_KEY", keys.as_str())];
    let mut hub = Hub::start(sandbox(3), &env).await;
    // Again on the same port (the sandbox's redirect URI), with a password in DATABASE_URL.
    assert!(hub.terminate().success());
    let mut logs = hub.logs();
    let port: u16 = hub.redirect.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    let db_url = with_password(hub.db.url(), DB_PASSWORD);
    let (base, redirect) = (hub.sandbox.base_url(), hub.redirect.clone());
    hub.instance = Instance::spawn(&db_url, &base, &redirect, port, &env).await;

    let mut bodies = String::new();
    for code in ["canary_a", "canary_b"] {
        let (_, b) = hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "P"})).await;
        bodies.push_str(&b.to_string());
        let (status, page) = hub.connect(code, None).await;
        assert_eq!(status, 200, "{page}");
        bodies.push_str(&page);
    }
    let mut tokens = stored_tokens(&hub).await;
    for (i, path) in [
        "/admin/stores",
        "/admin/stores/canary_a",
        "/admin/stores/canary_a/accounts",
        "/admin/stores/canary_b/accounts",
        "/admin/sync/status",
        "/health",
        "/api/openapi.json",
    ]
    .into_iter()
    .enumerate()
    {
        let key = if i % 2 == 0 { API_KEY } else { API_KEY_2 };
        let r = hub.http.get(hub.url(path)).header("X-API-KEY", key).send().await.unwrap();
        assert!(r.status().is_success(), "{path}");
        bodies.push_str(&r.text().await.unwrap());
    }
    bodies.push_str(&hub.post("/admin/sync/run", json!({"job": "all"})).await.1.to_string());
    bodies.push_str(
        &hub.post("/admin/sync/run", json!({"store_code": "canary_a", "job": "refresh_tokens"})).await.1.to_string(),
    );
    // Failures too: TikTok refusing, wrong and misplaced keys, bad input.
    hub.sandbox.update(|k| k.fault_internal_error = 1.0);
    bodies.push_str(&hub.post("/admin/sync/run", json!({"job": "user"})).await.1.to_string());
    hub.sandbox.update(|k| k.fault_internal_error = 0.0);
    for (path, key) in [
        ("/admin/stores", format!("{API_KEY}x")),
        (&format!("/admin/stores?api_key={API_KEY_2}"), String::new()),
        ("/admin/stores/not%20a%20code", API_KEY.to_owned()),
    ] {
        let r = hub.http.get(hub.url(path)).header("X-API-KEY", key).send().await.unwrap();
        assert!(r.status().is_client_error(), "{path}");
        bodies.push_str(&r.text().await.unwrap());
    }
    // People: a password (and a generated one), a session, a personal key, wrong passwords.
    let (ok, out, err) =
        cli(&hub, &["user", "add", "canary@example.com", "--role", "admin", "--password-stdin"], Some(USER_PASSWORD));
    assert!(ok, "{err}");
    assert!(!out.contains(USER_PASSWORD), "the command line does not repeat a password it read");
    logs.push_str(&err);
    let (ok, out, err) = cli(&hub, &["user", "add", "generated@example.com", "--role", "viewer"], None);
    assert!(ok, "{err}");
    let generated =
        out.lines().find_map(|l| l.strip_prefix("password (shown once, store it now): ")).unwrap().to_owned();
    logs.push_str(&err);
    let (cookie, csrf) = sign_in(&hub, "canary@example.com", USER_PASSWORD).await;
    let session = cookie.trim_start_matches("hub_session=").to_owned();
    for path in ["/admin/stores", "/auth/me", "/admin/users"] {
        let r = with_session(&hub, reqwest::Method::GET, path, &cookie, &csrf).send().await.unwrap();
        assert!(r.status().is_success(), "{path}");
        bodies.push_str(&r.text().await.unwrap());
    }
    let created = with_session(&hub, reqwest::Method::POST, "/admin/api-keys", &cookie, &csrf)
        .json(&json!({"name": "canary key", "role": "viewer"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let created: Value = serde_json::from_str(&created).unwrap();
    let personal = created["data"]["key"].as_str().unwrap().to_owned();
    for path in ["/admin/api-keys", "/auth/me", "/admin/audit-logs?limit=500"] {
        let r = hub.http.get(hub.url(path)).header("X-API-KEY", &personal).send().await.unwrap();
        assert!(r.status().is_success(), "{path}");
        bodies.push_str(&r.text().await.unwrap());
    }
    for (email, password) in [("canary@example.com", WRONG_PASSWORD), ("nobody@example.com", USER_PASSWORD)] {
        let r = hub
            .http
            .post(hub.url("/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        bodies.push_str(&r.text().await.unwrap());
    }
    let r = with_session(&hub, reqwest::Method::POST, "/auth/logout", &cookie, &csrf).send().await.unwrap();
    assert!(r.status().is_success());
    bodies.push_str(&r.text().await.unwrap());
    for path in ["/admin/sync/logs?limit=500", "/admin/audit-logs?limit=500"] {
        bodies.push_str(&hub.get(path).await.1.to_string());
    }
    let after = stored_tokens(&hub).await;
    assert!(after.iter().any(|t| !tokens.contains(t)), "the refresh stored new tokens");
    tokens.extend(after.iter().cloned());
    assert!(hub.terminate().success(), "graceful exit");
    logs.push_str(&hub.logs());

    // Every line is a JSON log event, apart from the two lines `serve` prints for tools.
    assert!(logs.lines().count() > 20, "the run did log");
    for line in logs.lines() {
        assert!(
            line.starts_with("tiktok-hub listening on ") || serde_json::from_str::<Value>(line).is_ok(),
            "not a log event: {line}"
        );
        assert!(!line.contains("panicked at"), "{line}");
    }
    let tables = [
        "stores",
        "store_accounts",
        "tiktok_user_daily",
        "tiktok_video_daily",
        "sync_runs",
        "sync_logs",
        "audit_logs",
        "connect_invites",
        "oauth_states",
        "users",
        "sessions",
        "api_keys",
    ];
    assert!(rows_containing(&hub, "audit_logs", "store.create").await >= 2, "the search reads the rows");
    let mut canaries = configured_canaries();
    let plaintext: Vec<&String> = tokens.iter().filter(|t| !t.starts_with("k2:")).collect();
    let stored: Vec<&String> = tokens.iter().filter(|t| t.starts_with("k2:")).collect();
    assert_eq!((plaintext.len(), stored.len()), (8, 8), "two stores × two tokens, before and after the refresh");
    canaries.extend(plaintext.into_iter().cloned());
    // The people's secrets: stored only as an argon2id hash or a SHA-256, never answered after
    // creation, never logged.
    canaries.extend([USER_PASSWORD, WRONG_PASSWORD, &generated, &session, &personal].map(str::to_owned));
    assert!(rows_containing(&hub, "users", "$argon2id$").await == 2, "the passwords are stored as argon2id hashes");
    for c in canaries.iter().chain(stored.iter().copied()) {
        assert!(c.len() >= 16, "a distinctive canary: {c:?}");
        assert!(!logs.contains(c.as_str()), "a secret reached the logs");
        assert!(!bodies.contains(c.as_str()), "a secret reached an HTTP body");
        for table in tables {
            // Only `store_accounts` holds ciphertexts; nothing else holds any secret.
            if table == "store_accounts" && c.starts_with("k2:") {
                continue;
            }
            assert_eq!(rows_containing(&hub, table, c).await, 0, "a secret reached {table}");
        }
    }
    for current in after.iter().filter(|t| t.starts_with("k2:")) {
        assert_eq!(rows_containing(&hub, "store_accounts", current).await, 1, "the ciphertexts are where they belong");
    }
}

/// Both tokens of both canary stores: as stored, and decrypted with the planted keys.
async fn stored_tokens(hub: &Hub) -> Vec<String> {
    use hub_ports::{AccountRepo, TokenCipher};
    let cipher = hub_engine::AesGcmCipher::new(&[
        ("k2".into(), hub_domain::Secret::new(hex_key(ENC_KEY_2))),
        ("k1".into(), hub_domain::Secret::new(hex_key(ENC_KEY))),
    ])
    .unwrap();
    let mut out = Vec::new();
    for code in ["canary_a", "canary_b"] {
        let code = hub_domain::StoreCode::parse(code).unwrap();
        let acct = hub.db.db().for_store(&code).await.unwrap().unwrap();
        let t = acct.tokens.unwrap();
        out.push(cipher.decrypt(&t.access, &format!("{code}/access")).unwrap().expose().clone());
        out.push(cipher.decrypt(&t.refresh, &format!("{code}/refresh")).unwrap().expose().clone());
        out.extend([t.access, t.refresh]);
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

/// What a request sends as its body.
enum Body {
    None,
    Json(Value),
    Csv(&'static str),
}

/// Every mutating admin call, through the real binary and PostgreSQL, writes exactly one
/// `audit_logs` row: the key used (its fingerprint, never the key), the action, the store,
/// the target, the outcome, the request id the client sent and the client's address.
/// Refused changes are audited too; reads, dry runs, malformed and unauthenticated requests
/// change nothing and write none.
#[tokio::test(flavor = "multi_thread")]
async fn every_mutating_admin_call_writes_exactly_one_audit_row() {
    use hub_domain::{AuditFilter, AuditOutcome::*};
    use hub_ports::AuditRepo;
    let hub = Hub::start(sandbox(2), &[]).await;
    let fingerprint = |key: &str| format!("key:{}", &hub_engine::state::sha256_hex(key.as_bytes())[..12]);
    let store = |code: &str| json!({"store_code": code, "store_name": "Audit", "pic_name": "P"});
    const CSV: &str = "store_code,store_name,pic_name,pic_contact\ns_audit,Renamed,Ann,\ns_new,New,Bob,\n";
    // (path, key, body, status, the row: action, store, target, outcome)
    type Row = Option<(&'static str, Option<&'static str>, Option<&'static str>, hub_domain::AuditOutcome)>;
    let cases: Vec<(&str, &str, Body, u16, Row)> = vec![
        (
            "/admin/stores",
            API_KEY,
            Body::Json(store("s_audit")),
            201,
            Some(("store.create", Some("s_audit"), None, Success)),
        ),
        (
            "/admin/stores",
            API_KEY_2,
            Body::Json(store("s_audit")),
            409,
            Some(("store.create", Some("s_audit"), None, Failure)),
        ),
        ("/admin/stores", API_KEY, Body::Json(store("not a code")), 400, None),
        ("/admin/stores", "wrong-key-0123456789abcdef0123456789", Body::Json(store("s_x")), 401, None),
        (
            "/admin/stores/s_audit/connect-link",
            API_KEY_2,
            Body::None,
            200,
            Some(("connect_link.create", Some("s_audit"), None, Success)),
        ),
        (
            "/admin/stores/ghost/connect-link",
            API_KEY,
            Body::None,
            404,
            Some(("connect_link.create", Some("ghost"), None, Failure)),
        ),
        (
            "/admin/sync/run",
            API_KEY,
            Body::Json(json!({"job": "user"})),
            200,
            Some(("sync.run", None, Some("user"), Success)),
        ),
        (
            "/admin/sync/run",
            API_KEY_2,
            Body::Json(json!({"store_code": "ghost", "job": "all"})),
            404,
            Some(("sync.run", Some("ghost"), Some("all"), Failure)),
        ),
        ("/admin/sync/run", API_KEY, Body::Json(json!({"job": "everything"})), 400, None),
        ("/admin/stores/import?dry_run=true", API_KEY, Body::Csv(CSV), 200, None),
        ("/admin/stores/import", API_KEY, Body::Csv(CSV), 400, Some(("store.import", None, None, Failure))),
        (
            "/admin/stores/import?on_conflict=skip",
            API_KEY_2,
            Body::Csv(CSV),
            200,
            Some(("store.import", None, None, Success)),
        ),
        (
            "/admin/sync/run",
            API_KEY_2,
            Body::Json(json!({"job": "video", "wait": false})),
            202,
            Some(("sync.run", None, Some("video"), Success)),
        ),
    ];
    let rows =
        || async { hub_postgres::query_i64(hub.db.url(), "SELECT count(*) AS n FROM audit_logs").await.unwrap() };
    for (i, (path, key, body, status, row)) in cases.into_iter().enumerate() {
        let request_id = format!("audit-case-{i}");
        let mut req = hub.http.post(hub.url(path)).header("X-API-KEY", key).header("X-Request-Id", &request_id);
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Csv(csv) => {
                let boundary = "----hubauditboundary";
                req.header("Content-Type", format!("multipart/form-data; boundary={boundary}")).body(format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stores.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
                ))
            }
        };
        let before = rows().await;
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}: {}", resp.text().await.unwrap());
        let written = rows().await - before;
        let Some((action, store, target, outcome)) = row else {
            assert_eq!(written, 0, "{path} ({status}) writes no audit row");
            continue;
        };
        assert_eq!(written, 1, "{path} ({status}) writes exactly one audit row");
        let newest = AuditRepo::list(hub.db.db(), &AuditFilter { limit: 1, ..Default::default() }).await.unwrap();
        let e = &newest[0].entry;
        assert_eq!(e.actor, fingerprint(key), "{path}: who");
        assert_eq!(e.action, action, "{path}: what");
        assert_eq!(e.store_code.as_ref().map(|c| c.as_str()), store, "{path}: which store");
        if target.is_some() {
            assert_eq!(e.target.as_deref(), target, "{path}: target");
        }
        assert_eq!(e.outcome, outcome, "{path}: outcome");
        assert_eq!(e.request_id.as_deref(), Some(request_id.as_str()), "{path}: request id");
        assert_eq!(e.ip.as_deref(), Some("127.0.0.1"), "{path}: address");
    }
    // GETs change nothing and write nothing.
    let before = rows().await;
    for path in ["/admin/stores", "/admin/audit-logs", "/admin/stores/s_audit"] {
        assert_eq!(hub.get(path).await.0, 200);
    }
    assert_eq!(rows().await, before);
}

/// `tiktok-hub reencrypt` with `keys` as `TOKEN_ENC_KEY`: its JSON report.
fn reencrypt(hub: &Hub, keys: &str) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tiktok-hub"))
        .arg("reencrypt")
        .env_clear()
        .env("DATABASE_URL", hub.db.url())
        .env("TIKTOK_CLIENT_KEY", "sandbox-client-key")
        .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
        .env("TIKTOK_REDIRECT_URI", &hub.redirect)
        .env("TOKEN_ENC_KEY", keys)
        .env("ADMIN_API_KEY", API_KEY)
        .env("STATE_SECRET", STATE_SECRET)
        .env("LOG_FORMAT", "json")
        .output()
        .expect("tiktok-hub reencrypt runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// Key rotation with the real binary: a new key added in front, `tiktok-hub reencrypt` moves
/// every stored token to it and a second run finds nothing left; then, with the old key
/// removed, the hub still reads every store's tokens and syncs them.
#[tokio::test(flavor = "multi_thread")]
async fn key_rotation_moves_every_token_to_the_newest_key() {
    let mut hub = Hub::start(sandbox(2), &[]).await;
    for code in ["rot_a", "rot_b"] {
        let (status, _) =
            hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "P"})).await;
        assert_eq!(status, 201);
        assert_eq!(hub.connect(code, None).await.0, 200);
    }
    assert!(hub.terminate().success());
    let on_key = |id: &'static str| {
        let sql = format!(
            "SELECT count(*) AS n FROM store_accounts \
             WHERE encrypted_access_token LIKE '{id}:%' AND encrypted_refresh_token LIKE '{id}:%'"
        );
        let url = hub.db.url().to_owned();
        async move { hub_postgres::query_i64(&url, &sql).await.unwrap() }
    };
    assert_eq!(on_key("k1").await, 2, "written with the only key");

    let rotated = format!("k2:{ENC_KEY_2},k1:{ENC_KEY}");
    let first = reencrypt(&hub, &rotated);
    assert_eq!((first["scanned"].as_i64(), first["rewritten"].as_i64()), (Some(2), Some(2)), "{first}");
    assert_eq!((first["undecryptable"].as_i64(), first["raced"].as_i64()), (Some(0), Some(0)), "{first}");
    let again = reencrypt(&hub, &rotated);
    assert_eq!((again["rewritten"].as_i64(), again["already_current"].as_i64()), (Some(0), Some(2)), "{again}");
    assert_eq!(on_key("k2").await, 2);

    // The old key removed: every store still syncs.
    let port: u16 = hub.redirect.split(':').nth(2).unwrap().split('/').next().unwrap().parse().unwrap();
    let newest_only = format!("k2:{ENC_KEY_2}");
    let (db, base, redirect) = (hub.db.url().to_owned(), hub.sandbox.base_url(), hub.redirect.clone());
    hub.instance = Instance::spawn(&db, &base, &redirect, port, &[("TOKEN_ENC_KEY", &newest_only)]).await;
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "user"})).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["data"]["user_sync"]["successful"].as_i64(), Some(2), "{run}");
}

/// The value of a series in the `/metrics` text.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
        .parse()
        .unwrap()
}

/// No database connection is held while waiting on TikTok: while all ten `user/info` calls of
/// a ten-store sync hang at TikTok at once, the pool (ten connections) has at most a passing
/// progress write checked out; a store holding its connection across its call would pin ten.
#[tokio::test(flavor = "multi_thread")]
async fn no_database_connection_is_held_while_waiting_on_tiktok() {
    const STORES: usize = 10;
    let env = [("SYNC_CONCURRENCY", "10"), ("DB_POOL_SIZE", "10"), ("TIKTOK_TIMEOUT_SECONDS", "60")];
    let hub = Hub::start(SandboxConfig { hang_secs: 4, ..sandbox(STORES) }, &env).await;
    for i in 0..STORES {
        let code = format!("pool_{i}");
        let (status, _) =
            hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "P"})).await;
        assert_eq!(status, 201);
        assert_eq!(hub.connect(&code, None).await.0, 200);
    }
    hub.sandbox.update(|k| k.fault_hang = 1.0);
    let before = hub.sandbox.stats().user_info.calls;
    let (status, started) = hub.post("/admin/sync/run", json!({"job": "user", "wait": false})).await;
    assert_eq!(status, 202, "{started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while hub.sandbox.stats().user_info.calls - before < STORES as u64 {
        assert!(std::time::Instant::now() < deadline, "the calls never all arrived");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    hub.sandbox.update(|k| k.fault_hang = 0.0);

    // Every call is in flight now (each hangs 4 s): sample the pool.
    let mut in_use = Vec::new();
    for _ in 0..5 {
        let (status, text) = hub.get("/metrics").await;
        assert_eq!(status, 200);
        in_use.push(metric(text.as_str().unwrap(), "tiktok_hub_db_pool_connections_in_use"));
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let waiting = "SELECT count(*) AS n FROM sync_runs WHERE status = 'RUNNING' AND processed = 0";
    assert_eq!(hub_postgres::query_i64(hub.db.url(), waiting).await.unwrap(), 1, "still waiting on TikTok");
    assert!(in_use.iter().all(|n| *n <= 2.0), "connections checked out while {STORES} calls wait: {in_use:?}");

    // The calls come back and the run completes.
    let done = "SELECT count(*) AS n FROM sync_runs WHERE status = 'SUCCEEDED' AND succeeded = 10";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while hub_postgres::query_i64(hub.db.url(), done).await.unwrap() != 1 {
        assert!(std::time::Instant::now() < deadline, "the run never completed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// TikTok's short-lived tokens (2 h, strictly rotating refresh tokens): the refresh job runs,
/// then the access tokens expire at TikTok before the sync. The sync refreshes each store on
/// demand (one token call each) and no store fails or leaves CONNECTED.
#[tokio::test(flavor = "multi_thread")]
async fn two_hour_tokens_expiring_after_the_refresh_job_fail_no_sync() {
    use tiktok_sandbox::{Rotation, TokenProfile};
    let config = SandboxConfig { token_profile: TokenProfile::New, rotation: Rotation::Strict, ..sandbox(3) };
    let hub = Hub::start(config, &[]).await;
    for code in ["short_a", "short_b", "short_c"] {
        let (status, _) =
            hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "P"})).await;
        assert_eq!(status, 201);
        assert_eq!(hub.connect(code, None).await.0, 200);
    }
    let (status, refresh) = hub.post("/admin/sync/run", json!({"job": "refresh_tokens"})).await;
    assert_eq!(status, 200, "{refresh}");
    assert_eq!(refresh["data"]["refresh_tokens"]["refreshed"].as_i64(), Some(3), "2 h tokens are due: {refresh}");

    hub.sandbox.advance_clock(chrono::Duration::hours(3));
    let token_calls = hub.sandbox.stats().token.calls;
    let (status, run) = hub.post("/admin/sync/run", json!({"job": "user"})).await;
    assert_eq!(status, 200, "{run}");
    let user = &run["data"]["user_sync"];
    assert_eq!((user["successful"].as_i64(), user["failed"].as_i64()), (Some(3), Some(0)), "{run}");
    assert_eq!(hub.sandbox.stats().token.calls - token_calls, 3, "one on-demand refresh per store");
    let (_, stores) = hub.get("/admin/stores").await;
    assert!(stores["data"].as_array().unwrap().iter().all(|s| s["connectionStatus"] == "CONNECTED"), "{stores}");
}
