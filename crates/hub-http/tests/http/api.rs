//! The admin API against the spec: shapes field by field, bad input, audit rows.

use crate::support::*;
use serde_json::json;

#[actix_web::test]
async fn health_reports_real_checks_and_503_when_the_database_is_down() {
    let h = Harness::new();
    let app = app!(h);
    let (status, headers, body) = call_json!(app, get("/health"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["timestamp"], "2026-01-24T02:00:00.000Z");
    assert!(body["uptime"].is_u64());
    assert_eq!(body["version"], "1.2.3");
    assert_eq!(body["requestId"], headers.get("x-request-id").unwrap().to_str().unwrap());
    assert_eq!(body["checks"], json!({"database": "ok", "encryption": "ok", "scheduler": "enabled"}));
    assert!(body["responseTime"].is_u64());

    h.db_up.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = call_json!(app, get("/health"));
    assert_eq!(status, 503);
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["checks"]["database"], "error");
    assert_eq!(body["checks"]["encryption"], "ok");
}

#[actix_web::test]
async fn root_describes_the_service() {
    let h = Harness::new();
    let app = app!(h);
    let (status, _, body) = call_json!(app, get("/"));
    assert_eq!(status, 200);
    assert_eq!(body["name"], "TikTok Content Reporting Hub");
    assert_eq!(body["version"], "1.2.3");
    assert_eq!(body["documentation"], "/docs");
    assert_eq!(body["endpoints"]["health"], "GET /health");
    assert!(body["endpoints"]["connect"].as_str().unwrap().starts_with("GET /connect/tiktok?store_code="));
    assert!(body["endpoints"]["admin"].is_object());
}

#[actix_web::test]
async fn store_list_matches_the_spec_field_by_field() {
    let h = Harness::new();
    {
        let mut w = h.world();
        w.add_spec_store("store_jakarta_01", "Store Jakarta Pusat");
        w.connect_spec("store_jakarta_01");
        w.add_spec_store("store_new", "New Store");
    }
    let app = app!(h);
    let (status, headers, body) = call_json!(app, admin_get("/admin/stores"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(body["success"], true);
    assert_eq!(body["count"], 2);
    assert_eq!(
        body["data"][0],
        json!({
            "storeCode": "store_jakarta_01",
            "storeName": "Store Jakarta Pusat",
            "picName": "John Doe",
            "picContact": "john@example.com",
            "storeGroup": null,
            "createdAt": "2026-01-01T00:00:00.000Z",
            "connectionStatus": "CONNECTED",
            "connectionReason": null,
            "accountId": 123,
            "accountIdentifier": "user_open_id_123",
            "connectedAt": "2026-01-02T10:00:00.000Z",
            "lastSyncTime": "2026-01-24T02:00:00.000Z",
            "tokenExpiresAt": "2026-01-25T10:00:00.000Z",
            "latestUserStats": {"followerCount": 5000, "likesCount": 10000, "videoCount": 50},
            "latestVideoStats": {"totalVideos": 50, "totalViews": 100000}
        })
    );
    let never = &body["data"][1];
    assert_eq!(never["connectionStatus"], "NOT_CONNECTED");
    for field in ["accountId", "accountIdentifier", "connectedAt", "latestUserStats", "connectionReason"] {
        assert!(never[field].is_null(), "{field}: {never}");
    }
}

#[actix_web::test]
async fn a_store_needing_reconnect_says_why() {
    let h = Harness::new();
    {
        let mut w = h.world();
        w.add_spec_store("s1", "S1");
        w.connect_spec("s1");
        w.accounts.get_mut("s1").unwrap().status =
            hub_domain::ConnectionStatus::NeedReconnect(hub_domain::ReconnectReason::Revoked);
    }
    let app = app!(h);
    let (_, _, body) = call_json!(app, admin_get("/admin/stores/s1"));
    assert_eq!(body["data"]["connectionStatus"], "NEED_RECONNECT");
    assert_eq!(body["data"]["connectionReason"], "REVOKED");
    let (_, _, body) = call_json!(app, admin_get("/admin/stores/s1/accounts"));
    assert_eq!(body["data"][0]["hasValidToken"], false);
    assert_eq!(body["data"][0]["statusReason"], "REVOKED");
}

#[actix_web::test]
async fn create_store_answers_201_and_is_audited_once() {
    let h = Harness::new();
    let app = app!(h);
    let body = json!({"store_code": "store_jakarta_01", "store_name": "Store Jakarta Pusat", "pic_name": "John Doe", "pic_contact": "john@example.com"});
    let (status, _, res) = call_json!(app, admin_post("/admin/stores").set_json(&body));
    assert_eq!(status, 201, "{res}");
    assert_eq!(
        res,
        json!({
            "success": true,
            "data": {
                "storeCode": "store_jakarta_01",
                "storeName": "Store Jakarta Pusat",
                "picName": "John Doe",
                "picContact": "john@example.com",
                "storeGroup": null,
                "createdAt": "2026-01-24T02:00:00.000Z"
            },
            "message": "Store created successfully",
            "next_step": res["next_step"].clone()
        })
    );
    assert!(res["next_step"].as_str().unwrap().contains("POST /admin/stores/store_jakarta_01/connect-link"));
    {
        let w = h.world();
        let rows = w.audit_for("store.create");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].outcome, hub_domain::AuditOutcome::Success);
        assert!(rows[0].actor.starts_with("key:") && rows[0].actor.len() == 16, "{}", rows[0].actor);
        assert!(!rows[0].actor.contains(KEY_1));
        assert_eq!(rows[0].ip.as_deref(), Some("198.51.100.1"));
        assert!(rows[0].request_id.is_some());
    }

    // The same code again: 409, and one failure row.
    let (status, _, res) = call_json!(app, admin_post("/admin/stores").set_json(&body));
    assert_eq!(status, 409);
    assert_eq!(assert_error(&res, "STORE_EXISTS"), "Store with this code already exists");
    let w = h.world();
    let rows = w.audit_for("store.create");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].outcome, hub_domain::AuditOutcome::Failure);
    assert_eq!(rows[1].details.as_deref(), Some(r#"{"error":"store_exists"}"#));
}

#[actix_web::test]
async fn get_store_and_unknown_store() {
    let h = Harness::new();
    {
        let mut w = h.world();
        w.add_spec_store("store_jakarta_01", "Store Jakarta Pusat");
        w.connect_spec("store_jakarta_01");
    }
    let app = app!(h);
    let (status, _, body) = call_json!(app, admin_get("/admin/stores/store_jakarta_01"));
    assert_eq!(status, 200);
    assert_eq!(body["data"]["storeCode"], "store_jakarta_01");
    assert_eq!(body["data"]["connectionStatus"], "CONNECTED");
    assert!(body.get("count").is_none());
    for uri in [
        "/admin/stores/nope",
        "/admin/stores/nope/accounts",
        "/admin/stores/nope/user-stats",
        "/admin/stores/nope/video-stats",
        "/admin/stores/nope/sync-logs",
    ] {
        let (status, _, body) = call_json!(app, admin_get(uri));
        assert_eq!(status, 404, "{uri}");
        assert_eq!(assert_error(&body, "STORE_NOT_FOUND"), "Store not found");
    }
}

#[actix_web::test]
async fn accounts_and_statistics_match_the_spec() {
    let h = Harness::new();
    {
        let mut w = h.world();
        w.add_spec_store("store_jakarta_01", "Store Jakarta Pusat");
        w.connect_spec("store_jakarta_01");
    }
    let app = app!(h);
    let (_, _, body) = call_json!(app, admin_get("/admin/stores/store_jakarta_01/accounts"));
    assert_eq!(body["count"], 1);
    let a = &body["data"][0];
    for (k, v) in [
        ("id", json!(123)),
        ("storeCode", json!("store_jakarta_01")),
        ("platform", json!("tiktok")),
        ("hasValidToken", json!(true)),
        ("accountIdentifier", json!("user_open_id_123")),
        ("lastSyncAt", json!("2026-01-24T02:00:00.000Z")),
        ("createdAt", json!("2026-01-02T10:00:00.000Z")),
        ("updatedAt", json!("2026-01-24T02:00:00.000Z")),
        ("status", json!("CONNECTED")),
    ] {
        assert_eq!(a[k], v, "{k}: {a}");
    }
    let text = a.to_string();
    assert!(!text.contains("act.") && !text.contains("rft.") && !text.contains("k1:"), "no token material: {text}");

    let (_, _, body) = call_json!(app, admin_get("/admin/stores/store_jakarta_01/user-stats?days=7"));
    assert_eq!(body["count"], 1);
    assert_eq!(
        body["data"][0],
        json!({
            "id": 1, "storeCode": "store_jakarta_01", "snapshotDate": "2026-01-24", "followerCount": 5000,
            "followingCount": 100, "likesCount": 10000, "videoCount": 50, "displayName": "Store Jakarta",
            "avatarUrl": "https://example.com/a.jpg", "createdAt": "2026-01-24T02:00:00.000Z"
        })
    );

    let (_, _, body) = call_json!(app, admin_get("/admin/stores/store_jakarta_01/video-stats"));
    let v = &body["data"][0];
    for (k, want) in [
        ("id", json!(1)),
        ("storeCode", json!("store_jakarta_01")),
        ("snapshotDate", json!("2026-01-24")),
        ("videoId", json!("7300000000000000123")),
        ("viewCount", json!(1000)),
        ("likeCount", json!(50)),
        ("commentCount", json!(10)),
        ("shareCount", json!(5)),
        ("description", json!("Video description...")),
        ("createdAt", json!("2026-01-24T02:00:00.000Z")),
        ("duration", json!(15)),
    ] {
        assert_eq!(v[k], want, "{k}: {v}");
    }
}

#[actix_web::test]
async fn sync_logs_match_the_spec() {
    let h = Harness::new();
    {
        let mut w = h.world();
        w.add_spec_store("store_jakarta_01", "S");
        w.logs.push(hub_domain::SyncLog {
            id: 1,
            log: hub_domain::NewSyncLog {
                run_id: Some(4),
                store_code: Some(code("store_jakarta_01")),
                job: hub_domain::JobKind::SyncUserDaily,
                status: hub_domain::SyncLogStatus::Success,
                message: "User stats synced successfully: 5000 followers, 50 videos".into(),
                raw_error: None,
                duration_ms: 2500,
            },
            run_time: t0(),
        });
    }
    let app = app!(h);
    for uri in [
        "/admin/sync/logs?limit=100",
        "/admin/sync/logs?store_code=store_jakarta_01",
        "/admin/stores/store_jakarta_01/sync-logs",
    ] {
        let (status, _, body) = call_json!(app, admin_get(uri));
        assert_eq!(status, 200, "{uri}: {body}");
        assert_eq!(body["count"], 1);
        assert_eq!(
            body["data"][0],
            json!({
                "id": 1, "storeCode": "store_jakarta_01", "jobName": "sync_user_daily", "status": "SUCCESS",
                "message": "User stats synced successfully: 5000 followers, 50 videos", "rawError": null,
                "durationMs": 2500, "runTime": "2026-01-24T02:00:00.000Z", "runId": 4
            })
        );
    }
}

/// Every malformed or out-of-range input: 400 INVALID_REQUEST naming the field.
#[actix_web::test]
async fn bad_input_is_400_naming_the_field() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let json_post = |uri: &str, body: &str| {
        admin_post(uri).insert_header(("content-type", "application/json")).set_payload(body.to_owned())
    };
    let cases: Vec<(&str, actix_web::test::TestRequest, &str)> = vec![
        ("days=0", admin_get("/admin/stores/s1/user-stats?days=0"), "days"),
        ("days=366", admin_get("/admin/stores/s1/user-stats?days=366"), "days"),
        ("days=abc", admin_get("/admin/stores/s1/video-stats?days=abc"), "days"),
        ("days=-1", admin_get("/admin/stores/s1/video-stats?days=-1"), "days"),
        ("days empty", admin_get("/admin/stores/s1/user-stats?days="), "days"),
        ("limit=0", admin_get("/admin/stores/s1/sync-logs?limit=0"), "limit"),
        ("limit=501", admin_get("/admin/sync/logs?limit=501"), "limit"),
        ("limit=1.5", admin_get("/admin/sync/logs?limit=1.5"), "limit"),
        ("audit limit", admin_get("/admin/audit-logs?limit=9999"), "limit"),
        ("audit action", admin_get("/admin/audit-logs?action=DROP%20TABLE"), "action"),
        ("bad store in path", admin_get("/admin/stores/bad%20code"), "store_code"),
        ("bad store in path 2", admin_get("/admin/stores/x.y/accounts"), "store_code"),
        ("bad store in query", admin_get("/admin/sync/logs?store_code=a;b"), "store_code"),
        ("empty store in query", admin_get("/admin/sync/logs?store_code="), "store_code"),
        ("bad run id", admin_get("/admin/sync/runs/abc"), "id"),
        ("zero run id", admin_get("/admin/sync/runs/0"), "id"),
        (
            "store_code too long",
            admin_post("/admin/stores")
                .set_json(json!({"store_code": "a".repeat(51), "store_name": "n", "pic_name": "p"})),
            "store_code",
        ),
        (
            "store_code missing",
            admin_post("/admin/stores").set_json(json!({"store_name": "n", "pic_name": "p"})),
            "store_code",
        ),
        (
            "store_code number",
            admin_post("/admin/stores").set_json(json!({"store_code": 5, "store_name": "n", "pic_name": "p"})),
            "store_code",
        ),
        (
            "store_name blank",
            admin_post("/admin/stores").set_json(json!({"store_code": "ok", "store_name": "  ", "pic_name": "p"})),
            "store_name",
        ),
        (
            "pic_name missing",
            admin_post("/admin/stores").set_json(json!({"store_code": "ok", "store_name": "n"})),
            "pic_name",
        ),
        (
            "pic_contact type",
            admin_post("/admin/stores")
                .set_json(json!({"store_code": "ok", "store_name": "n", "pic_name": "p", "pic_contact": []})),
            "pic_contact",
        ),
        (
            "unknown field",
            admin_post("/admin/stores")
                .set_json(json!({"store_code": "ok", "store_name": "n", "pic_name": "p", "extra": 1})),
            "extra",
        ),
        ("array body", admin_post("/admin/stores").set_json(json!([1])), "JSON object"),
        ("not JSON", json_post("/admin/stores", "{nope"), "JSON"),
        (
            "wrong content type",
            admin_post("/admin/stores").insert_header(("content-type", "text/plain")).set_payload("{}"),
            "Content-Type",
        ),
        ("no body", admin_post("/admin/stores"), "Content-Type"),
        ("unknown job", admin_post("/admin/sync/run").set_json(json!({"job": "everything"})), "job"),
        ("job type", admin_post("/admin/sync/run").set_json(json!({"job": 1})), "job"),
        ("wait type", admin_post("/admin/sync/run").set_json(json!({"wait": "no"})), "wait"),
        ("sync store code", admin_post("/admin/sync/run").set_json(json!({"store_code": "no way"})), "store_code"),
        ("sync typo", admin_post("/admin/sync/run").set_json(json!({"store": "s1"})), "store"),
        ("connect-link bad code", admin_post("/admin/stores/%3Cx%3E/connect-link"), "store_code"),
        ("auth url without store", get("/auth/url"), "store_code"),
        ("auth url bad store", get("/auth/url?store_code=a%20b"), "store_code"),
    ];
    for (name, req, field) in cases {
        let (status, _, body) = call_json!(app, req);
        assert_eq!(status, 400, "{name}: {body}");
        let message = assert_error(&body, "INVALID_REQUEST");
        assert!(message.contains(field), "{name}: {message:?} should name {field}");
    }
    // None of these reached the engine's mutations.
    assert!(h.world().audit.is_empty());
    assert_eq!(h.world().stores.len(), 1);
}

#[actix_web::test]
async fn oversized_bodies_are_413_in_the_envelope() {
    let h = Harness::with(hub_http::HttpConfig { body_limit_bytes: 100, ..http_config() }, Default::default());
    let app = app!(h);
    let body = json!({"store_code": "ok", "store_name": "x".repeat(200), "pic_name": "p"});
    let (status, _, res) = call_json!(app, admin_post("/admin/stores").set_json(&body));
    assert_eq!(status, 413);
    assert!(assert_error(&res, "INVALID_REQUEST").contains("100 bytes"));
}

#[actix_web::test]
async fn unknown_paths_and_methods_answer_in_the_envelope() {
    let h = Harness::new();
    let app = app!(h);
    let (status, _, body) = call_json!(app, get("/nope"));
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
    let (status, _, body) = call_json!(app, post("/health"));
    assert_eq!(status, 405);
    assert!(assert_error(&body, "INVALID_REQUEST").contains("POST"));
    let (status, _, body) = call_json!(
        app,
        actix_web::test::TestRequest::delete().uri("/admin/stores").insert_header(("X-API-KEY", KEY_1))
    );
    assert_eq!(status, 405);
    assert_error(&body, "INVALID_REQUEST");
}

#[actix_web::test]
async fn audit_logs_list_what_was_done() {
    let h = Harness::new();
    let app = app!(h);
    let body = json!({"store_code": "s1", "store_name": "n", "pic_name": "p"});
    let (status, _, _) = call_json!(app, admin_post("/admin/stores").set_json(&body));
    assert_eq!(status, 201);
    let (_, _, link) = call_json!(app, admin_post("/admin/stores/s1/connect-link"));
    assert!(link["data"]["url"].as_str().unwrap().contains("invite="));
    let (status, _, body) = call_json!(app, admin_get("/admin/audit-logs?action=store.create&store_code=s1&limit=10"));
    assert_eq!(status, 200);
    assert_eq!(body["count"], 1);
    let row = &body["data"][0];
    assert_eq!(row["action"], "store.create");
    assert_eq!(row["storeCode"], "s1");
    assert_eq!(row["outcome"], "SUCCESS");
    assert!(row["actor"].as_str().unwrap().starts_with("key:"));
    assert_eq!(row["ip"], "198.51.100.1");
    assert_eq!(row["createdAt"], "2026-01-24T02:00:00.000Z");
    let (_, _, all) = call_json!(app, admin_get("/admin/audit-logs"));
    assert_eq!(all["count"], 2);
    assert!(!all.to_string().contains(KEY_1));
}

#[actix_web::test]
async fn connect_link_is_issued_once_and_audited() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let (status, _, body) = call_json!(app, admin_post("/admin/stores/s1/connect-link"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let url = body["data"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://localhost:3000/connect/tiktok?store_code=s1&invite="), "{url}");
    assert_eq!(body["data"]["expiresAt"], "2026-01-27T02:00:00.000Z");
    assert_eq!(h.world().audit_for("connect_link.create").len(), 1);

    let (status, _, body) = call_json!(app, admin_post("/admin/stores/ghost/connect-link"));
    assert_eq!(status, 404);
    assert_error(&body, "STORE_NOT_FOUND");
    let w = h.world();
    let rows = w.audit_for("connect_link.create");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].outcome, hub_domain::AuditOutcome::Failure);
}

#[actix_web::test]
async fn liveness_needs_only_the_process_and_readiness_the_database() {
    let h = Harness::new();
    let app = app!(h);
    let (status, _, body) = call_json!(app, get("/health/live"));
    assert_eq!((status, body["status"].as_str()), (200, Some("alive")));
    let (status, _, body) = call_json!(app, get("/health/ready"));
    assert_eq!(
        (status, &body),
        (200, &serde_json::json!({"status": "ready", "database": "ok", "pendingMigrations": 0}))
    );
    h.db_up.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = call_json!(app, get("/health/ready"));
    assert_eq!(
        (status, &body),
        (503, &serde_json::json!({"status": "not_ready", "database": "error", "pendingMigrations": null}))
    );
    let (status, _, body) = call_json!(app, get("/health/live"));
    assert_eq!((status, body["status"].as_str()), (200, Some("alive")), "a database outage is not a dead process");
}
