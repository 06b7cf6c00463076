//! Sync triggers, status and runs; the OAuth pages.

use crate::support::*;
use serde_json::json;

fn connected_world(h: &Harness) {
    let mut w = h.world();
    w.add_spec_store("store_jakarta_01", "Store Jakarta Pusat");
    w.connect_spec("store_jakarta_01");
}

#[actix_web::test]
async fn sync_all_stores_answers_the_spec_summary_and_is_audited_once() {
    let h = Harness::new();
    connected_world(&h);
    let app = app!(h);
    let (status, _, body) = call_json!(app, admin_post("/admin/sync/run").set_json(json!({"job": "all"})));
    assert_eq!(status, 200, "{body}");
    let data = &body["data"];
    assert_eq!(data["refresh_tokens"], json!({"total": 0, "refreshed": 0, "failed": 0}));
    assert_eq!(data["user_sync"], json!({"total": 1, "successful": 1, "failed": 0, "skipped": 0}));
    assert_eq!(data["video_sync"], json!({"total": 1, "successful": 1, "failed": 0, "skipped": 0, "totalVideos": 0}));
    assert_eq!(data["runIds"], json!([1, 2, 3]));
    let w = h.world();
    let rows = w.audit_for("sync.run");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome, hub_domain::AuditOutcome::Success);
    assert!(rows[0].details.as_deref().unwrap().contains("\"job\":\"all\""));
}

#[actix_web::test]
async fn an_empty_body_means_all_jobs_and_waiting() {
    let h = Harness::new();
    connected_world(&h);
    let app = app!(h);
    let (status, _, body) = call_json!(app, admin_post("/admin/sync/run"));
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["user_sync"].is_object());
    let (status, _, body) = call_json!(app, admin_post("/admin/sync/run").set_json(json!({"job": "user"})));
    assert_eq!(status, 200);
    assert!(body["data"].get("video_sync").is_none() && body["data"].get("refresh_tokens").is_none(), "{body}");
}

#[actix_web::test]
async fn sync_one_store_answers_its_result() {
    let h = Harness::new();
    connected_world(&h);
    let app = app!(h);
    let (status, _, body) = call_json!(
        app,
        admin_post("/admin/sync/run").set_json(json!({"store_code": "store_jakarta_01", "job": "user"}))
    );
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["success"], true);
    assert_eq!(d["storeCode"], "store_jakarta_01");
    assert_eq!(d["message"], "User stats synced successfully: 5000 followers, 50 videos");
    assert!(d["duration"].is_i64());
    assert_eq!(d["recordsProcessed"], 1);

    let (status, _, body) =
        call_json!(app, admin_post("/admin/sync/run").set_json(json!({"store_code": "ghost", "job": "all"})));
    assert_eq!(status, 404);
    assert_eq!(assert_error(&body, "STORE_NOT_FOUND"), "Store not found");
    let w = h.world();
    let rows = w.audit_for("sync.run");
    assert_eq!(rows.len(), 2, "one row per trigger, refused ones included");
    assert_eq!(rows[1].outcome, hub_domain::AuditOutcome::Failure);
    assert_eq!(rows[1].store_code.as_ref().map(|c| c.as_str()), Some("ghost"));
}

#[actix_web::test]
async fn wait_false_answers_202_with_run_ids() {
    let h = Harness::new();
    connected_world(&h);
    let app = app!(h);
    let (status, _, body) =
        call_json!(app, admin_post("/admin/sync/run").set_json(json!({"job": "user", "wait": false})));
    assert_eq!(status, 202, "{body}");
    assert_eq!(body, json!({"success": true, "data": {"runIds": [1]}}));
    assert_eq!(h.world().audit_for("sync.run").len(), 1);
    // The run can be followed.
    let mut run = serde_json::Value::Null;
    for _ in 0..50 {
        let (status, _, body) = call_json!(app, admin_get("/admin/sync/runs/1"));
        assert_eq!(status, 200);
        run = body["data"].clone();
        if run["status"] != "RUNNING" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(run["id"], 1);
    assert_eq!(run["job"], "sync_user_daily");
    assert_eq!(run["scheduledDate"], "2026-01-24");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["status"], "SUCCEEDED");
    assert_eq!(run["counts"]["succeeded"], 1);
    assert_eq!(run["startedAt"], "2026-01-24T02:00:00.000Z");
    assert_eq!(run["finishedAt"], "2026-01-24T02:00:00.000Z");

    let (status, _, body) = call_json!(app, admin_get("/admin/sync/runs/99"));
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
}

#[actix_web::test]
async fn a_job_already_running_is_409_sync_failed() {
    let h = Harness::new();
    connected_world(&h);
    h.world().held_locks.push("job:sync_user_daily".into());
    let app = app!(h);
    for wait in [true, false] {
        let (status, _, body) =
            call_json!(app, admin_post("/admin/sync/run").set_json(json!({"job": "user", "wait": wait})));
        assert_eq!(status, 409, "{body}");
        assert!(assert_error(&body, "SYNC_FAILED").contains("already running"));
    }
    let w = h.world();
    assert_eq!(w.audit_for("sync.run").len(), 2);
    assert!(w.audit_for("sync.run").iter().all(|r| r.outcome == hub_domain::AuditOutcome::Failure));
}

#[actix_web::test]
async fn sync_status_shows_the_scheduler_and_last_runs() {
    let h = Harness::new();
    connected_world(&h);
    let app = app!(h);
    let (status, _, _) = call_json!(app, admin_post("/admin/sync/run").set_json(json!({"job": "user"})));
    assert_eq!(status, 200);
    let (status, _, body) = call_json!(app, admin_get("/admin/sync/status"));
    assert_eq!(status, 200, "{body}");
    let d = &body["data"];
    assert_eq!(d["enabled"], true);
    assert_eq!(d["timezone"], "UTC");
    assert_eq!(d["jobs"].as_array().unwrap().len(), 3);
    let user = &d["jobs"][1];
    assert_eq!(user["name"], "sync_user_daily");
    assert_eq!(user["schedule"], "0 2 * * *");
    assert_eq!(user["nextRun"], "2026-01-25T02:00:00.000Z");
    assert_eq!(user["running"], false);
    assert_eq!(user["lastRun"]["status"], "SUCCEEDED");
    assert!(d["jobs"][0]["lastRun"].is_null());
    assert_eq!(d["liveRuns"], json!([]));
}

/// Extracts `name=value` from a URL's query.
fn query_param(url: &str, name: &str) -> String {
    let q = url.split_once('?').unwrap().1;
    q.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}="))).unwrap().to_owned()
}

#[actix_web::test]
async fn connect_needs_a_valid_invite_and_never_contacts_tiktok_without_one() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    for uri in ["/connect/tiktok?store_code=s1", "/connect/tiktok?store_code=s1&invite=forged"] {
        let (status, headers, body) = call!(app, get(uri));
        assert_eq!(status, 403, "{uri}");
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
        assert!(body.contains("Connection Failed") && body.contains("connect link is invalid"), "{body}");
        assert!(headers.get("set-cookie").is_none());
    }
    assert!(h.world().states.is_empty(), "no OAuth state: TikTok was never involved");
    let (status, _, body) = call_json!(app, get("/auth/url?store_code=s1"));
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let (status, _, body) = call!(app, get("/connect/tiktok"));
    assert_eq!(status, 400);
    assert!(body.contains("store_code"));
}

#[actix_web::test]
async fn the_whole_connect_flow_with_its_cookie_headers_and_pages() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let (_, _, link) = call_json!(app, admin_post("/admin/stores/s1/connect-link"));
    let token = query_param(link["data"]["url"].as_str().unwrap(), "invite");

    // The JSON variant.
    let (status, headers, body) = call_json!(app, get(&format!("/auth/url?store_code=s1&invite={token}")));
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["authUrl"].as_str().unwrap().starts_with("https://www.tiktok.test/v2/auth/authorize/"));
    assert!(headers.get("set-cookie").unwrap().to_str().unwrap().starts_with("hub_oauth_binding="));

    // The redirect.
    let (status, headers, _) = call!(app, get(&format!("/connect/tiktok?store_code=s1&invite={token}")));
    assert_eq!(status, 302);
    let location = headers.get("location").unwrap().to_str().unwrap().to_owned();
    assert!(location.starts_with("https://www.tiktok.test/v2/auth/authorize/"));
    let cookie = headers.get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/auth", "Max-Age=600"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "tests run with secure_cookies off");
    let cookie_value = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let state = query_param(&location, "state");

    // Without the cookie (another browser): 400, no token call.
    let (status, headers, body) = call!(app, get(&format!("/auth/tiktok/callback?code=c&state={state}")));
    assert_eq!(status, 400);
    assert!(body.contains("Invalid state parameter (possible CSRF attack)"));
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(h.token_calls(), 0);

    // A fresh flow, denied on TikTok with a hostile description: escaped, 403, no token call.
    let (_, headers, _) = call!(app, get(&format!("/connect/tiktok?store_code=s1&invite={token}")));
    let state2 = query_param(headers.get("location").unwrap().to_str().unwrap(), "state");
    let cookie2 = headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let (status, _, body) = call!(
        app,
        get(&format!(
            "/auth/tiktok/callback?state={state2}&error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ))
        .insert_header(("Cookie", cookie2))
    );
    assert_eq!(status, 403);
    assert!(!body.contains("script") && !body.contains("alert"), "TikTok's text is not shown: {body}");
    assert!(body.contains("Authorization was denied on TikTok") && body.contains("Reference: "), "{body}");
    assert_eq!(h.token_calls(), 0);

    // A granted callback with its cookie: the success page.
    let (_, headers, _) = call!(app, get(&format!("/connect/tiktok?store_code=s1&invite={token}")));
    let state3 = query_param(headers.get("location").unwrap().to_str().unwrap(), "state");
    let cookie3 = headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
    let scopes = "user.info.basic%2Cuser.info.stats%2Cvideo.list";
    let (status, headers, body) = call!(
        app,
        get(&format!("/auth/tiktok/callback?code=abc&state={state3}&scopes={scopes}"))
            .insert_header(("Cookie", cookie3))
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("TikTok Connection Successful"));
    assert!(body.contains("Your TikTok account has been connected to store: s1"));
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert_eq!(h.token_calls(), 1);
    assert_eq!(h.world().audit_for("account.connect").len(), 1);

    // Replaying the first state: 400.
    let (status, _, _) = call!(
        app,
        get(&format!("/auth/tiktok/callback?code=c&state={state}"))
            .insert_header(("Cookie", format!("hub_oauth_binding={cookie_value}")))
    );
    assert_eq!(status, 400);
    assert_eq!(h.token_calls(), 1);
}

/// Starts a flow for `s1` from a fresh connect link: the state and the `Cookie` header to send
/// back.
macro_rules! start_flow {
    ($app:expr) => {{
        let (_, _, link) = call_json!($app, admin_post("/admin/stores/s1/connect-link"));
        let token = query_param(link["data"]["url"].as_str().unwrap(), "invite");
        let (status, headers, _) = call!($app, get(&format!("/connect/tiktok?store_code=s1&invite={token}")));
        assert_eq!(status, 302);
        let state = query_param(headers.get("location").unwrap().to_str().unwrap(), "state");
        let cookie = headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        (state, cookie)
    }};
}

const ALL_SCOPES: &str = "user.info.basic%2Cuser.info.stats%2Cvideo.list";

#[actix_web::test]
async fn a_replayed_callback_is_400_and_makes_no_token_call() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let (state, cookie) = start_flow!(app);
    let callback = format!("/auth/tiktok/callback?code=abc&state={state}&scopes={ALL_SCOPES}");
    let (status, _, _) = call!(app, get(&callback).insert_header(("Cookie", cookie.clone())));
    assert_eq!(status, 200);
    assert_eq!(h.token_calls(), 1);
    // The same callback again, from the same browser: refused before TikTok.
    let (status, _, body) = call!(app, get(&callback).insert_header(("Cookie", cookie)));
    assert_eq!(status, 400);
    assert!(body.contains("Invalid state parameter"), "{body}");
    assert_eq!(h.token_calls(), 1);
    assert_eq!(h.world().audit_for("account.connect").len(), 1);
}

#[actix_web::test]
async fn denial_and_partial_scopes_answer_a_clear_page_and_never_connect() {
    // (callback query after the state, status, what the page says)
    let cases = [
        (
            "error=access_denied&error_description=User%20cancelled",
            403,
            "Error: Authorization was denied on TikTok</p>",
        ),
        ("error=access_denied", 403, "Error: Authorization was denied on TikTok</p>"),
        (
            "code=abc&scopes=user.info.basic%2Cvideo.list",
            400,
            "Required permissions were not granted: user.info.stats.",
        ),
        ("code=abc&scopes=user.info.basic", 400, "Required permissions were not granted: user.info.stats, video.list."),
        (
            "code=abc&scopes=",
            400,
            "Required permissions were not granted: user.info.basic, user.info.stats, video.list.",
        ),
        ("code=abc", 400, "Required permissions were not granted"),
    ];
    for (query, want_status, says) in cases {
        let h = Harness::new();
        h.world().add_spec_store("s1", "S1");
        let app = app!(h);
        let (state, cookie) = start_flow!(app);
        let (status, headers, body) =
            call!(app, get(&format!("/auth/tiktok/callback?state={state}&{query}")).insert_header(("Cookie", cookie)));
        assert_eq!(status, want_status, "{query}: {body}");
        assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"), "{query}");
        assert!(body.contains("Connection Failed") && body.contains(says), "{query}: {body}");
        assert!(!body.contains("User cancelled"), "{query}: TikTok's text is for the log only");
        let request_id = headers.get("x-request-id").unwrap().to_str().unwrap();
        assert!(body.contains(&format!("Reference: {request_id}")), "{query}: {body}");
        assert_eq!(h.token_calls(), 0, "{query}");
        let w = h.world();
        assert!(w.accounts.is_empty(), "{query}: no account, so never CONNECTED");
        assert!(w.invites.iter().all(|i| i.used_at.is_none()), "{query}: the link stays usable");
    }
}

#[actix_web::test]
async fn every_oauth_answer_is_no_store_and_no_referrer() {
    let h = Harness::with(
        hub_http::HttpConfig { rate_limit_oauth_per_min: 30, ..http_config() },
        hub_engine::EngineConfig::default(),
    );
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let mut answers: Vec<(String, u16, actix_web::http::header::HeaderMap)> = Vec::new();
    let mut record = |name: &str, (status, headers, _): (u16, actix_web::http::header::HeaderMap, String)| {
        answers.push((name.to_owned(), status, headers));
    };
    record("connect without store_code", call!(app, get("/connect/tiktok")));
    record("connect without a link", call!(app, get("/connect/tiktok?store_code=s1")));
    record("connect, unknown store", call!(app, get("/connect/tiktok?store_code=ghost&invite=x")));
    let (_, _, link) = call_json!(app, admin_post("/admin/stores/s1/connect-link"));
    let token = query_param(link["data"]["url"].as_str().unwrap(), "invite");
    record("connect redirect", call!(app, get(&format!("/connect/tiktok?store_code=s1&invite={token}"))));
    record("auth url", call!(app, get(&format!("/auth/url?store_code=s1&invite={token}"))));
    record("auth url without a link", call!(app, get("/auth/url?store_code=s1")));
    record("auth url without store_code", call!(app, get("/auth/url")));
    record("callback without state", call!(app, get("/auth/tiktok/callback?code=c")));
    let (state, cookie) = start_flow!(app);
    record(
        "callback denied",
        call!(
            app,
            get(&format!("/auth/tiktok/callback?state={state}&error=access_denied")).insert_header(("Cookie", cookie))
        ),
    );
    let (state, cookie) = start_flow!(app);
    record(
        "callback connected",
        call!(
            app,
            get(&format!("/auth/tiktok/callback?code=abc&state={state}&scopes={ALL_SCOPES}"))
                .insert_header(("Cookie", cookie))
        ),
    );
    loop {
        let answer = call!(app, get("/auth/url"));
        if answer.0 == 429 {
            record("rate limited", answer);
            break;
        }
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.1).collect();
    assert_eq!(statuses, [400, 403, 403, 302, 200, 403, 400, 400, 403, 200, 429]);
    for (name, _, headers) in &answers {
        assert_eq!(headers.get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{name}");
        assert_eq!(headers.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("no-referrer"), "{name}");
    }
}

/// TikTok failing the code exchange (here a DNS error): the page is generic, with the
/// request id; the cause is for the log only.
#[actix_web::test]
async fn a_tiktok_failure_shows_a_generic_page_with_the_request_id() {
    use hub_engine::testing::{fixed_clock, ports};
    use hub_ports::{MockTikTokApi, TikTokError};
    use std::sync::Arc;

    let world: Shared = Arc::default();
    world.lock().unwrap().add_spec_store("s1", "S1");
    let mut tiktok = MockTikTokApi::new();
    tiktok.expect_authorize_url().returning(|state, _| format!("https://www.tiktok.test/auth?state={state}"));
    tiktok.expect_exchange_code().returning(|_, _| {
        Err(TikTokError::Transient {
            message: "error sending request: dns error: failed to lookup address information: canary-host".into(),
        })
    });
    let engine = hub_engine::Engine::new(
        ports(&world, Arc::new(tiktok), fixed_clock(t0())),
        hub_engine::EngineConfig::default(),
        STATE_SECRET,
    );
    let state = actix_web::web::Data::new(hub_http::AppState::new(Arc::new(engine), http_config()));
    let app = actix_web::test::init_service(hub_http::build_app(state)).await;
    let (state, cookie) = start_flow!(app);
    let (status, headers, body) = call!(
        app,
        get(&format!("/auth/tiktok/callback?code=abc&state={state}&scopes={ALL_SCOPES}"))
            .insert_header(("Cookie", cookie))
            .insert_header(("X-Request-Id", "req-oauth-1"))
    );
    assert_eq!(status, 502, "{body}");
    assert!(headers.get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(body.contains("TikTok could not complete the connection; please try again later"), "{body}");
    assert!(body.contains("Reference: req-oauth-1"), "{body}");
    for detail in ["dns", "canary-host", "lookup", "Transient", "unavailable"] {
        assert!(!body.contains(detail), "{detail} shown: {body}");
    }
}

/// Every HTML answer of the hub carries the Content-Security-Policy: the docs page and every
/// OAuth page (success and each kind of error).
#[actix_web::test]
async fn every_html_answer_carries_the_content_security_policy() {
    let h = Harness::new();
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let mut answers: Vec<(String, u16, actix_web::http::header::HeaderMap, String)> = Vec::new();
    let mut record = |name: &str, (status, headers, body): (u16, actix_web::http::header::HeaderMap, String)| {
        answers.push((name.to_owned(), status, headers, body));
    };
    record("docs page", call!(app, get("/api/docs/")));
    record("docs index.html", call!(app, get("/api/docs/index.html")));
    record("connect without store_code", call!(app, get("/connect/tiktok")));
    record("connect without a link", call!(app, get("/connect/tiktok?store_code=s1")));
    record("connect with a bad store_code", call!(app, get("/connect/tiktok?store_code=a%20b")));
    record("callback without state", call!(app, get("/auth/tiktok/callback?code=c")));
    let (state, cookie) = start_flow!(app);
    record(
        "callback denied",
        call!(
            app,
            get(&format!("/auth/tiktok/callback?state={state}&error=access_denied")).insert_header(("Cookie", cookie))
        ),
    );
    let (state, cookie) = start_flow!(app);
    record(
        "callback without scopes",
        call!(app, get(&format!("/auth/tiktok/callback?code=abc&state={state}")).insert_header(("Cookie", cookie))),
    );
    let (state, cookie) = start_flow!(app);
    record(
        "callback connected",
        call!(
            app,
            get(&format!("/auth/tiktok/callback?code=abc&state={state}&scopes={ALL_SCOPES}"))
                .insert_header(("Cookie", cookie))
        ),
    );
    let statuses: Vec<u16> = answers.iter().map(|a| a.1).collect();
    assert_eq!(statuses, [200, 200, 400, 403, 400, 400, 403, 400, 200]);
    for (name, _, headers, body) in &answers {
        let content_type = headers.get("content-type").unwrap().to_str().unwrap();
        assert!(content_type.starts_with("text/html"), "{name}: {content_type}");
        assert_eq!(
            headers.get("content-security-policy").map(|v| v.to_str().unwrap()),
            Some(
                "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
            ),
            "{name}"
        );
        assert!(!body.contains("<style") && !body.contains("<script>"), "{name}: nothing inline");
    }
    // A JSON answer is no HTML page.
    let (_, headers, _) = call!(app, get("/health"));
    assert!(headers.get("content-security-policy").is_none());
}

/// HSTS on every answer when the hub is reached over https (`PUBLIC_BASE_URL`), none otherwise.
#[actix_web::test]
async fn hsts_on_every_answer_behind_https_only() {
    for hsts in [true, false] {
        let h = Harness::with(hub_http::HttpConfig { hsts, ..http_config() }, Default::default());
        let app = app!(h);
        for req in [
            get("/health"),
            get("/nope"),
            admin_get("/admin/stores"),
            get("/admin/stores"),
            get("/api/docs/"),
            get("/connect/tiktok"),
        ] {
            let (status, headers, _) = call!(app, req);
            let got = headers.get("strict-transport-security").map(|v| v.to_str().unwrap().to_owned());
            let want = hsts.then(|| "max-age=31536000; includeSubDomains".to_owned());
            assert_eq!(got, want, "hsts={hsts} status={status}");
        }
    }
}

#[actix_web::test]
async fn the_cookie_is_secure_when_configured() {
    let h = Harness::with(hub_http::HttpConfig { secure_cookies: true, ..http_config() }, Default::default());
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let (_, _, link) = call_json!(app, admin_post("/admin/stores/s1/connect-link"));
    let token = query_param(link["data"]["url"].as_str().unwrap(), "invite");
    let (status, headers, _) = call!(app, get(&format!("/connect/tiktok?store_code=s1&invite={token}")));
    assert_eq!(status, 302);
    assert!(headers.get("set-cookie").unwrap().to_str().unwrap().contains("Secure"));
}

#[actix_web::test]
async fn open_connect_restores_the_original_behaviour() {
    let engine_config = hub_engine::EngineConfig { open_connect: true, ..Default::default() };
    let h = Harness::with(http_config(), engine_config);
    h.world().add_spec_store("s1", "S1");
    let app = app!(h);
    let (status, _, _) = call!(app, get("/connect/tiktok?store_code=s1"));
    assert_eq!(status, 302);
    let (status, _, _) = call!(app, get("/connect/tiktok?store_code=ghost"));
    assert_eq!(status, 404);
}
