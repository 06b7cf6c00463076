//! API key, auth-failure block, rate limits, client addresses, request ids, CORS, headers.

use std::time::Duration;

use crate::support::*;
use actix_web::test::TestRequest;
use hub_http::HttpConfig;

fn from(peer: &str, uri: &str) -> TestRequest {
    TestRequest::get().uri(uri).peer_addr(format!("{peer}:5000").parse().unwrap())
}

#[actix_web::test]
async fn the_api_key_is_required_compared_and_never_read_from_the_query() {
    let h = Harness::new();
    let app = app!(h);
    let cases = [
        ("missing", get("/admin/stores"), "Missing API key"),
        ("wrong", get("/admin/stores").insert_header(("X-API-KEY", "wrong-key")), "Invalid API key"),
        ("prefix of a key", get("/admin/stores").insert_header(("X-API-KEY", &KEY_1[..10])), "Invalid API key"),
        ("query string", get(&format!("/admin/stores?api_key={KEY_1}&X-API-KEY={KEY_1}")), "Missing API key"),
        ("encoded admin path", get("/%61dmin/stores"), "Missing API key"),
        ("unknown admin path", get("/admin/nothing-here"), "Missing API key"),
        // Malformed keys.
        ("empty", get("/admin/stores").insert_header(("X-API-KEY", "")), "Invalid API key"),
        ("padded", get("/admin/stores").insert_header(("X-API-KEY", format!(" {KEY_1} "))), "Invalid API key"),
        ("upper case", get("/admin/stores").insert_header(("X-API-KEY", KEY_1.to_uppercase())), "Invalid API key"),
        ("key twice", get("/admin/stores").insert_header(("X-API-KEY", format!("{KEY_1}{KEY_1}"))), "Invalid API key"),
        ("two keys", get("/admin/stores").insert_header(("X-API-KEY", format!("{KEY_1},{KEY_2}"))), "Invalid API key"),
        (
            "not UTF-8",
            get("/admin/stores").insert_header((
                "X-API-KEY",
                actix_web::http::header::HeaderValue::from_bytes(b"\xff\xfe\x80k").unwrap(),
            )),
            "Invalid API key",
        ),
        ("8 KiB", get("/admin/stores").insert_header(("X-API-KEY", "k".repeat(8192))), "Invalid API key"),
        // Only X-API-KEY carries the key.
        ("bearer", get("/admin/stores").insert_header(("Authorization", format!("Bearer {KEY_1}"))), "Missing API key"),
        ("cookie", get("/admin/stores").insert_header(("Cookie", format!("X-API-KEY={KEY_1}"))), "Missing API key"),
    ];
    for (i, (name, req, want)) in cases.into_iter().enumerate() {
        // Each from its own address: five failures from one would block it.
        let req = req.peer_addr(format!("198.51.100.{}:4000", 100 + i).parse().unwrap());
        let (status, _, body) = call_json!(app, req);
        assert_eq!(status, 401, "{name}: {body}");
        assert!(assert_error(&body, "UNAUTHORIZED").starts_with(want), "{name}");
        // Exactly the documented envelope.
        assert_eq!(body.as_object().unwrap().len(), 2, "{name}: {body}");
        assert_eq!(body["error"].as_object().unwrap().len(), 3, "{name}: {body}");
        assert!(!body.to_string().contains(KEY_1), "{name}: the key is never echoed");
    }
    for key in [KEY_1, KEY_2] {
        let (status, _, _) = call_json!(app, get("/admin/stores").insert_header(("X-API-KEY", key)));
        assert_eq!(status, 200, "every configured key works");
    }
    // Public routes need no key.
    let (status, _, _) = call_json!(app, get("/health"));
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn repeated_key_failures_block_the_address() {
    let config = HttpConfig { auth_failure_max: 3, ..http_config() };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let bad = || from("203.0.113.7", "/admin/stores").insert_header(("X-API-KEY", "guess"));
    for i in 0..3 {
        let (status, _, _) = call_json!(app, bad());
        assert_eq!(status, 401, "attempt {i}");
    }
    // Blocked now, even with a good key.
    let (status, headers, body) =
        call_json!(app, from("203.0.113.7", "/admin/stores").insert_header(("X-API-KEY", KEY_1)));
    assert_eq!(status, 429, "{body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");
    let retry: u64 = headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    // Another address is not affected.
    let (status, _, _) = call_json!(app, from("203.0.113.8", "/admin/stores").insert_header(("X-API-KEY", KEY_1)));
    assert_eq!(status, 200);
}

#[actix_web::test]
async fn admin_and_oauth_routes_have_their_own_limits() {
    let config = HttpConfig {
        rate_limit_admin_per_min: 3,
        rate_limit_oauth_per_min: 2,
        rate_limit_health_per_min: 3,
        ..http_config()
    };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let peer = "192.0.2.10";
    for i in 0..3 {
        let (status, _, _) = call_json!(app, from(peer, "/admin/stores").insert_header(("X-API-KEY", KEY_1)));
        assert_eq!(status, 200, "admin request {i}");
    }
    let (status, headers, body) = call_json!(app, from(peer, "/admin/stores").insert_header(("X-API-KEY", KEY_1)));
    assert_eq!(status, 429);
    assert_eq!(assert_error(&body, "RATE_LIMIT_EXCEEDED"), "Too many requests");
    let retry: u64 = headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");

    // OAuth routes count separately (a 400 still counts as a request).
    for i in 0..2 {
        let (status, _, _) = call!(app, from(peer, "/auth/url"));
        assert_eq!(status, 400, "oauth request {i}");
    }
    let (status, headers, _) = call!(app, from(peer, "/auth/url"));
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    // Health checks count on their own: /health, /health/live and /health/ready together.
    for path in ["/health", "/health/live", "/health/ready"] {
        let (status, _, _) = call!(app, from(peer, path));
        assert_eq!(status, 200, "{path}");
    }
    let (status, headers, _) = call!(app, from(peer, "/health"));
    assert_eq!(status, 429);
    assert!(headers.contains_key("retry-after"));
    // Another client is not limited.
    let (status, _, _) = call!(app, from("192.0.2.11", "/admin/stores").insert_header(("X-API-KEY", KEY_1)));
    assert_eq!(status, 200);
}

/// The seconds of a 429's `Retry-After`.
fn retry_after(headers: &actix_web::http::header::HeaderMap) -> u64 {
    headers.get("retry-after").expect("a 429 says when to retry").to_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn a_burst_gets_exactly_the_quota_through_and_every_429_says_when_to_retry() {
    // (route class, limit per minute, burst from one address)
    let cases = [("admin", 100u32, 130usize), ("oauth", 10, 13)];
    for (class, limit, burst) in cases {
        let config = HttpConfig {
            rate_limit_admin_per_min: if class == "admin" { limit } else { 10_000 },
            rate_limit_oauth_per_min: if class == "oauth" { limit } else { 10_000 },
            ..http_config()
        };
        let h = Harness::with(config, Default::default());
        let app = app!(h);
        let mut passed = 0;
        let mut limited = 0;
        for i in 0..burst {
            let req = match class {
                "admin" => from("192.0.2.10", "/admin/stores").insert_header(("X-API-KEY", KEY_1)),
                _ => from("192.0.2.10", "/auth/url?store_code=s1"),
            };
            let (status, headers, body) = call!(app, req);
            if status == 429 {
                limited += 1;
                assert!(i >= limit as usize, "{class}: request {i} limited inside the quota");
                assert!(retry_after(&headers) >= 1, "{class}: request {i}");
                let body: serde_json::Value = serde_json::from_str(&body).unwrap();
                assert_eq!(assert_error(&body, "RATE_LIMIT_EXCEEDED"), "Too many requests");
            } else {
                passed += 1;
                assert!(headers.get("retry-after").is_none(), "{class}: request {i} answered {status}");
            }
        }
        assert_eq!((passed, limited), (limit as usize, burst - limit as usize), "{class}");
    }
}

#[actix_web::test]
async fn retry_after_is_honoured_refused_a_second_before_it_and_allowed_at_it() {
    // Quota n/minute: one request back every 60/n seconds, announced rounded up.
    for (limit, announced) in [(3u32, 20u64), (10, 6), (100, 1)] {
        let h = Harness::with(HttpConfig { rate_limit_admin_per_min: limit, ..http_config() }, Default::default());
        let app = app!(h);
        let req = || from("192.0.2.20", "/admin/stores").insert_header(("X-API-KEY", KEY_1));
        for _ in 0..limit {
            assert_eq!(call!(app, req()).0, 200);
        }
        let (status, headers, _) = call!(app, req());
        assert_eq!(status, 429);
        assert_eq!(retry_after(&headers), announced, "limit {limit}");
        h.clock.advance(Duration::from_secs(announced - 1));
        let (status, _, _) = call!(app, req());
        assert_eq!(status, 429, "limit {limit}: a second before Retry-After");
        h.clock.advance(Duration::from_secs(1));
        assert_eq!(call!(app, req()).0, 200, "limit {limit}: at Retry-After");
        assert_eq!(call!(app, req()).0, 429, "limit {limit}: one request came back, not more");
    }
}

#[actix_web::test]
async fn five_wrong_keys_block_the_address_for_fifteen_minutes() {
    // The documented defaults: AUTH_FAILURE_MAX=5, AUTH_FAILURE_BLOCK_MINUTES=15.
    let h = Harness::with(
        HttpConfig { auth_failure_max: 5, auth_failure_block: Duration::from_secs(15 * 60), ..http_config() },
        Default::default(),
    );
    let app = app!(h);
    let attacker = "203.0.113.9";
    let wrong = || from(attacker, "/admin/stores").insert_header(("X-API-KEY", "guess-guess-guess-guess-guess-00"));
    let good = || from(attacker, "/admin/stores").insert_header(("X-API-KEY", KEY_1));
    for i in 0..5 {
        let (status, _, _) = call!(app, wrong());
        assert_eq!(status, 401, "attempt {i}");
    }
    let (status, headers, body) = call_json!(app, good());
    assert_eq!(status, 429, "blocked, even with a good key: {body}");
    assert_error(&body, "RATE_LIMIT_EXCEEDED");
    assert_eq!(retry_after(&headers), 900);
    assert_eq!(call!(app, from("203.0.113.10", "/admin/stores").insert_header(("X-API-KEY", KEY_1))).0, 200);

    h.clock.advance(Duration::from_secs(14 * 60 + 59));
    let (status, headers, _) = call!(app, good());
    assert_eq!(status, 429, "still blocked at 14:59");
    assert_eq!(retry_after(&headers), 1);
    assert_eq!(call!(app, wrong()).0, 429, "a guess while blocked is refused before the key is read");

    h.clock.advance(Duration::from_secs(2));
    assert_eq!(call!(app, good()).0, 200, "free at 15:01");
    // The count starts again from zero.
    for i in 0..4 {
        assert_eq!(call!(app, wrong()).0, 401, "attempt {i} after the block");
    }
    assert_eq!(call!(app, wrong()).0, 401);
    assert_eq!(call!(app, good()).0, 429, "five more failures, blocked again");
}

#[actix_web::test]
async fn a_spoofed_forwarded_for_does_not_dodge_the_failure_block() {
    let config =
        HttpConfig { auth_failure_max: 5, trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()], ..http_config() };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let attempt = |peer: &str, xff: &str, key: &str| {
        from(peer, "/admin/stores")
            .insert_header(("X-API-KEY", key.to_owned()))
            .insert_header(("X-Forwarded-For", xff.to_owned()))
    };
    // An untrusted peer claiming a new address on every guess is still one address.
    for i in 0..5 {
        let (status, _, _) = call!(app, attempt("203.0.113.77", &format!("198.51.100.{i}"), "guess"));
        assert_eq!(status, 401, "guess {i}");
    }
    assert_eq!(call!(app, attempt("203.0.113.77", "198.51.100.200", KEY_1)).0, 429);
    // Behind the trusted proxy, the forwarded client is blocked, not the proxy's other clients.
    for i in 0..5 {
        assert_eq!(call!(app, attempt("10.0.0.1", "198.51.100.50", "guess")).0, 401, "guess {i}");
    }
    assert_eq!(call!(app, attempt("10.0.0.1", "198.51.100.50", KEY_1)).0, 429);
    assert_eq!(call!(app, attempt("10.0.0.1", "198.51.100.51", KEY_1)).0, 200);
}

#[actix_web::test]
async fn limiter_memory_stays_bounded_under_100000_addresses() {
    let config = HttpConfig { rate_limit_admin_per_min: 100, auth_failure_max: 5, ..http_config() };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    const CLIENTS: u32 = 100_000;
    for i in 0..CLIENTS {
        let peer = std::net::Ipv4Addr::from(0x0a00_0000 + i).to_string();
        let (status, _, _) = call!(app, from(&peer, "/admin/stores").insert_header(("X-API-KEY", "guess")));
        assert_eq!(status, 401);
    }
    let held = h.state.tracked_clients();
    assert_eq!((held.admin, held.auth_failures), (CLIENTS as usize, CLIENTS as usize));
    // After the rate window the next request drops the idle rate states; after the block
    // window, the stale failure counts.
    h.clock.advance(Duration::from_secs(61));
    assert_eq!(call!(app, admin_get("/admin/stores")).0, 200);
    let held = h.state.tracked_clients();
    assert!(held.admin <= 1, "{held:?}");
    assert_eq!(held.auth_failures, CLIENTS as usize, "failure counts live for the 15-minute window");
    h.clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(call!(app, admin_get("/admin/stores")).0, 200);
    let held = h.state.tracked_clients();
    assert!(held.admin <= 1 && held.auth_failures == 0, "{held:?}");
}

#[actix_web::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let config = HttpConfig {
        rate_limit_admin_per_min: 1,
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..http_config()
    };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let via = |peer: &str, xff: &str| {
        from(peer, "/admin/stores").insert_header(("X-API-KEY", KEY_1)).insert_header(("X-Forwarded-For", xff))
    };
    // Behind the trusted proxy each real client has its own allowance...
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        let (status, _, _) = call!(app, via("10.1.2.3", &format!("6.6.6.6, {client}")));
        assert_eq!(status, 200, "{client}");
    }
    let (status, _, _) = call!(app, via("10.1.2.3", "198.51.100.1"));
    assert_eq!(status, 429, "the same client again");
    // ...while an untrusted peer cannot pick its address with the header.
    let (status, _, _) = call!(app, via("203.0.113.50", "198.51.100.90"));
    assert_eq!(status, 200);
    let (status, _, _) = call!(app, via("203.0.113.50", "198.51.100.91"));
    assert_eq!(status, 429);

    // The audit row records the forwarded client.
    let body = serde_json::json!({"store_code": "s9", "store_name": "n", "pic_name": "p"});
    let req = actix_web::test::TestRequest::post()
        .uri("/admin/stores")
        .peer_addr("10.9.9.9:1".parse().unwrap())
        .insert_header(("X-API-KEY", KEY_1))
        .insert_header(("X-Forwarded-For", "198.51.100.77"))
        .set_json(&body);
    let (status, _, _) = call!(app, req);
    assert_eq!(status, 201);
    assert_eq!(h.world().audit_for("store.create")[0].ip.as_deref(), Some("198.51.100.77"));
}

/// `X-Forwarded-For` from a peer outside `TRUSTED_PROXIES` (usually a proxy missing from it):
/// ignored, counted on every request, warned about once per peer, and the peers remembered
/// for that stay at most 1,000 however many send it.
#[actix_web::test]
async fn an_untrusted_forwarded_for_is_counted_and_its_memory_is_bounded() {
    let config = HttpConfig { trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()], ..http_config() };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let counted = || async {
        let text = h.state.metrics().render().await;
        let line =
            text.lines().find(|l| l.starts_with("tiktok_hub_http_untrusted_forwarded_total ")).unwrap().to_owned();
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    // A trusted proxy's header and a request without one are not counted.
    call!(app, from("10.1.2.3", "/health").insert_header(("X-Forwarded-For", "198.51.100.1")));
    call!(app, from("203.0.113.9", "/health"));
    assert_eq!(counted().await, 0);
    // The same untrusted peer three times: three requests, one peer remembered.
    for _ in 0..3 {
        let (status, _, _) =
            call!(app, from("172.18.0.1", "/health").insert_header(("X-Forwarded-For", "198.51.100.1")));
        assert_eq!(status, 200);
    }
    assert_eq!(counted().await, 3);
    assert_eq!(h.state.tracked_clients().untrusted_forwarders, 1);
    // 1,200 more peers: every request counted, at most 1,000 peers remembered.
    for i in 0..1_200u32 {
        let peer = std::net::Ipv4Addr::from(0xcb00_7100 + i).to_string();
        call!(app, from(&peer, "/health").insert_header(("X-Forwarded-For", "198.51.100.1")));
    }
    assert_eq!(counted().await, 1_203);
    assert_eq!(h.state.tracked_clients().untrusted_forwarders, 1_000);
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated_and_in_error_bodies() {
    let h = Harness::new();
    let app = app!(h);
    let (_, headers, body) = call_json!(app, get("/nope").insert_header(("X-Request-Id", "client-id_1.2")));
    assert_eq!(headers.get("x-request-id").unwrap(), "client-id_1.2");
    assert_eq!(body["error"]["requestId"], "client-id_1.2");

    for insane in ["has space", "<script>", &"x".repeat(65)] {
        let (_, headers, body) = call_json!(app, get("/nope").insert_header(("X-Request-Id", insane)));
        let id = headers.get("x-request-id").unwrap().to_str().unwrap().to_owned();
        assert_ne!(id, insane);
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(body["error"]["requestId"], id.as_str());
    }
    let (_, a, _) = call!(app, get("/health"));
    let (_, b, _) = call!(app, get("/health"));
    assert_ne!(a.get("x-request-id"), b.get("x-request-id"));

    // The id reaches the audit row.
    let body = serde_json::json!({"store_code": "s1", "store_name": "n", "pic_name": "p"});
    let (status, _, _) =
        call!(app, admin_post("/admin/stores").insert_header(("X-Request-Id", "req-42")).set_json(&body));
    assert_eq!(status, 201);
    assert_eq!(h.world().audit_for("store.create")[0].request_id.as_deref(), Some("req-42"));
}

#[actix_web::test]
async fn security_headers_on_every_response() {
    let h = Harness::new();
    let app = app!(h);
    for req in
        [get("/health"), get("/nope"), admin_get("/admin/stores"), get("/admin/stores"), get("/api/docs/index.html")]
    {
        let (_, headers, _) = call!(app, req);
        assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
        assert!(headers.contains_key("x-request-id"));
    }
}

#[actix_web::test]
async fn cors_only_for_configured_origins() {
    let config = HttpConfig { cors_origins: vec!["https://dash.example.com".into()], ..http_config() };
    let h = Harness::with(config, Default::default());
    let app = app!(h);
    let (_, headers, _) = call!(app, admin_get("/admin/stores").insert_header(("Origin", "https://dash.example.com")));
    assert_eq!(headers.get("access-control-allow-origin").unwrap(), "https://dash.example.com");
    assert!(headers.get("access-control-allow-credentials").is_none());
    assert_eq!(headers.get("vary").unwrap(), "Origin");

    let preflight = TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/admin/stores")
        .insert_header(("Origin", "https://dash.example.com"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .insert_header(("Access-Control-Request-Headers", "x-api-key, content-type"));
    let (status, headers, _) = call!(app, preflight);
    assert_eq!(status, 204);
    assert!(headers.get("access-control-allow-headers").unwrap().to_str().unwrap().contains("X-API-KEY"));

    let (_, headers, _) = call!(app, admin_get("/admin/stores").insert_header(("Origin", "https://evil.example.com")));
    assert!(headers.get("access-control-allow-origin").is_none());

    // No origins configured: no CORS headers at all.
    let h = Harness::new();
    let app = app!(h);
    let (_, headers, _) = call!(app, admin_get("/admin/stores").insert_header(("Origin", "https://dash.example.com")));
    assert!(headers.get("access-control-allow-origin").is_none());
}
