//! People over HTTP: sign-in (JSON and form) and its cookie, sessions reaching the admin
//! routes, CSRF on unsafe requests, sign-out, the auth-failure block of addresses and
//! accounts, personal API keys (shown once, revoked or expired at once, never above their
//! owner), user management and its refusals.

use std::time::Duration;

use actix_web::test::TestRequest;
use hub_domain::*;
use serde_json::json;

use crate::people_support::*;
use crate::support::*;

const ORIGIN: &str = "http://localhost:3000";

fn from(ip: u8, req: TestRequest) -> TestRequest {
    req.peer_addr(format!("203.0.113.{ip}:5000").parse().unwrap())
}

#[actix_web::test]
async fn a_sign_in_sets_the_session_cookie_that_reaches_the_admin_routes() {
    let h = harness();
    h.world().add_store_in("n1", "north");
    add_user(&h, "ops@example.com", Role::Operator, StoreScope::All).await;
    let app = app!(h);

    // JSON.
    let body = json!({"email": "Ops@Example.com", "password": PASSWORD});
    let res = actix_web::test::call_service(&app, post("/auth/login").set_json(&body).to_request()).await;
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for attr in ["hub_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(set_cookie.contains(attr), "{attr} in {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http in this harness: {set_cookie}");
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let login: serde_json::Value = actix_web::test::read_body_json(res).await;
    assert_eq!(login["data"]["user"]["email"], "ops@example.com");
    assert_eq!(login["data"]["user"]["role"], "operator");
    assert_eq!(login["data"]["csrfToken"].as_str().unwrap().len(), 64);
    let token = set_cookie.split(';').next().unwrap().trim_start_matches("hub_session=").to_owned();
    assert!(token.len() >= 43, "256 random bits");
    assert!(!login.to_string().contains(&token), "the token is only in the cookie");

    // The cookie reaches GET /admin/stores.
    let cookie = format!("hub_session={token}");
    let (status, _, list) = call_json!(app, get("/admin/stores").insert_header(("Cookie", cookie.as_str())));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"][0]["storeGroup"], "north");

    // Who am I, with the CSRF token.
    let (_, _, me) = call_json!(app, get("/auth/me").insert_header(("Cookie", cookie.as_str())));
    assert_eq!(me["data"]["kind"], "user");
    assert_eq!(me["data"]["csrfToken"], login["data"]["csrfToken"]);
    assert_eq!(me["data"]["storeGroups"], serde_json::Value::Null);

    // A form works too.
    let form = post("/auth/login")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload("email=ops%40example.com&password=correct+horse+battery+staple+9&csrf_token=x");
    let (status, _, _) = call!(app, form);
    assert_eq!(status, 200);
    // The audit names the person.
    let w = h.world();
    let row = w.audit.iter().rev().find(|a| a.action == "auth.login").unwrap();
    assert_eq!(
        (row.outcome, row.actor_kind, row.actor_name.as_deref()),
        (AuditOutcome::Success, ActorKind::User, Some("ops@example.com"))
    );
}

#[actix_web::test]
async fn the_session_cookie_is_secure_behind_https() {
    let h = Harness::with(hub_http::HttpConfig { secure_cookies: true, ..http_config() }, engine_config());
    add_user(&h, "ops@example.com", Role::Viewer, StoreScope::All).await;
    let app = app!(h);
    let body = json!({"email": "ops@example.com", "password": PASSWORD});
    let res = actix_web::test::call_service(&app, post("/auth/login").set_json(&body).to_request()).await;
    assert!(res.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Secure"));
}

#[actix_web::test]
async fn unknown_emails_and_wrong_passwords_get_one_answer_and_count_toward_the_block() {
    let h = harness();
    add_user(&h, "ops@example.com", Role::Viewer, StoreScope::All).await;
    add_user(&h, "two@example.com", Role::Viewer, StoreScope::All).await;
    let app = app!(h);
    let attempt = |ip: u8, email: &str, password: &str| {
        from(ip, TestRequest::post().uri("/auth/login")).set_json(json!({"email": email, "password": password}))
    };
    let (s1, _, unknown) = call_json!(app, attempt(1, "nobody@example.com", PASSWORD));
    let (s2, _, wrong) = call_json!(app, attempt(2, "ops@example.com", "not the password at all"));
    let (s3, _, malformed) = call_json!(app, attempt(3, "not an email", "x"));
    assert_eq!((s1, s2, s3), (401, 401, 401));
    for b in [&unknown, &wrong, &malformed] {
        assert_eq!(assert_error(b, "UNAUTHORIZED"), "Invalid email or password");
    }
    // Per account: five wrong passwords from five addresses block the account, not the others.
    for ip in 10..14 {
        assert_eq!(call!(app, attempt(ip, "two@example.com", "wrong password here")).0, 401);
    }
    let (status, headers, body) = call_json!(app, attempt(14, "two@example.com", "wrong password here"));
    assert_eq!(status, 401, "the fifth failure is still answered");
    let (status, headers2, body2) = call_json!(app, attempt(15, "two@example.com", PASSWORD));
    assert_eq!(status, 429, "the account is blocked, even with the right password: {body2}");
    assert_error(&body2, "RATE_LIMIT_EXCEEDED");
    assert!(headers2.get("retry-after").is_some());
    let _ = (headers, body);
    // An unknown address is blocked the same way (no way to tell accounts apart).
    for ip in 20..25 {
        call!(app, attempt(ip, "ghost@example.com", "wrong password here"));
    }
    assert_eq!(call!(app, attempt(26, "ghost@example.com", "wrong password here")).0, 429);
    // Per address: five failures from one address block it for every account and for keys.
    for i in 0..5 {
        call!(app, attempt(30, &format!("u{i}@example.com"), "wrong password here"));
    }
    assert_eq!(call!(app, attempt(30, "ops@example.com", PASSWORD)).0, 429);
    let key = from(30, TestRequest::get().uri("/admin/stores")).insert_header(("X-API-KEY", KEY_1));
    assert_eq!(call!(app, key).0, 429, "the address block is shared with API keys");
    // After the block, the account signs in.
    h.clock.advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(call!(app, attempt(15, "two@example.com", PASSWORD)).0, 200);
    // Failed sign-ins are audited without the typed address of an unknown account.
    let w = h.world();
    let failures: Vec<&NewAuditEntry> =
        w.audit.iter().filter(|a| a.action == "auth.login" && a.outcome == AuditOutcome::Failure).collect();
    assert!(failures.iter().any(|a| a.actor == "anonymous" && a.actor_name.is_none()));
    assert!(!w.audit.iter().any(|a| format!("{a:?}").contains("ghost@example.com")));
    assert!(failures.iter().any(|a| a.actor_name.as_deref() == Some("two@example.com")));
}

#[actix_web::test]
async fn unsafe_requests_with_a_session_need_the_origin_and_the_csrf_token() {
    let h = harness();
    add_user(&h, "ops@example.com", Role::Operator, StoreScope::All).await;
    let app = app!(h);
    let (cookie, csrf) = sign_in!(app, "ops@example.com");
    let create = |code: &str| {
        post("/admin/stores")
            .insert_header(("Cookie", cookie.as_str()))
            .set_json(json!({"store_code": code, "store_name": "S", "pic_name": "P"}))
    };
    let cases = [
        ("no origin, no token", create("a1"), 403),
        ("no token", create("a2").insert_header(("Origin", ORIGIN)), 403),
        (
            "wrong token",
            create("a3").insert_header(("Origin", ORIGIN)).insert_header(("X-CSRF-Token", "0".repeat(64))),
            403,
        ),
        (
            "another origin",
            create("a4")
                .insert_header(("Origin", "https://evil.example"))
                .insert_header(("X-CSRF-Token", csrf.as_str())),
            403,
        ),
        ("token, no origin", create("a5").insert_header(("X-CSRF-Token", csrf.as_str())), 403),
        (
            "referer instead of origin",
            create("a6")
                .insert_header(("Referer", format!("{ORIGIN}/dashboard")))
                .insert_header(("X-CSRF-Token", csrf.as_str())),
            201,
        ),
        (
            "origin and token",
            create("a7").insert_header(("Origin", ORIGIN)).insert_header(("X-CSRF-Token", csrf.as_str())),
            201,
        ),
    ];
    for (name, req, want) in cases {
        let (status, _, body) = call!(app, req);
        assert_eq!(status, want, "{name}: {body}");
        if want == 403 {
            assert!(body.contains("CSRF"), "{name}: {body}");
        }
    }
    // GET needs neither; an API key needs neither.
    assert_eq!(call!(app, get("/admin/stores").insert_header(("Cookie", cookie.as_str()))).0, 200);
    let keyed = admin_post("/admin/stores").set_json(json!({"store_code": "k1", "store_name": "S", "pic_name": "P"}));
    assert_eq!(call!(app, keyed).0, 201);
    // Each refusal is a DENIED auth.csrf row naming the person.
    let w = h.world();
    let denied: Vec<&NewAuditEntry> = w.audit.iter().filter(|a| a.action == "auth.csrf").collect();
    assert_eq!(denied.len(), 5);
    assert!(
        denied.iter().all(|a| a.outcome == AuditOutcome::Denied && a.actor_name.as_deref() == Some("ops@example.com"))
    );
}

#[actix_web::test]
async fn sign_out_ends_the_session_and_a_form_carries_the_token() {
    let h = harness();
    add_user(&h, "ops@example.com", Role::Viewer, StoreScope::All).await;
    let app = app!(h);
    let (cookie, csrf) = sign_in!(app, "ops@example.com");
    // A form without the token: refused.
    let form = |body: String| {
        post("/auth/logout")
            .insert_header(("Cookie", cookie.as_str()))
            .insert_header(("Origin", ORIGIN))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body)
    };
    assert_eq!(call!(app, form("other=1".into())).0, 403);
    let res = actix_web::test::call_service(&app, form(format!("csrf_token={csrf}")).to_request()).await;
    assert_eq!(res.status(), 200);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cleared.contains("hub_session=;") && cleared.contains("Max-Age=0"), "{cleared}");
    // The session is gone at once.
    let (status, _, body) = call_json!(app, get("/admin/stores").insert_header(("Cookie", cookie.as_str())));
    assert_eq!(status, 401);
    assert!(assert_error(&body, "UNAUTHORIZED").contains("session"));
    assert_eq!(h.world().audit.iter().filter(|a| a.action == "auth.logout").count(), 1);
}

#[actix_web::test]
async fn a_new_password_or_disabling_ends_sessions_and_keys_at_once() {
    let h = harness();
    let admin = as_user(&add_user(&h, "admin@example.com", Role::Admin, StoreScope::All).await);
    let ops = add_user(&h, "ops@example.com", Role::Operator, StoreScope::All).await;
    let (ops_key, _) = add_key(&h, &as_user(&ops), "ops key", Role::Operator, StoreScope::All).await;
    let app = app!(h);
    let (cookie, _) = sign_in!(app, "ops@example.com");
    let with_cookie = || get("/admin/stores").insert_header(("Cookie", cookie.as_str()));
    assert_eq!(call!(app, with_cookie()).0, 200);
    let patch = TestRequest::patch()
        .uri(&format!("/admin/users/{}", ops.id.0))
        .insert_header(("X-API-KEY", KEY_1))
        .set_json(json!({"password": "a brand new passphrase 42"}));
    assert_eq!(call!(app, patch).0, 200);
    assert_eq!(call!(app, with_cookie()).0, 401, "the password change ended the session");
    let again =
        post("/auth/login").set_json(json!({"email": "ops@example.com", "password": "a brand new passphrase 42"}));
    assert_eq!(call!(app, again).0, 200, "the new password signs in");
    // Keys keep working after a password change, and stop when the owner is disabled.
    assert_eq!(call!(app, get("/admin/stores").insert_header(("X-API-KEY", ops_key.as_str()))).0, 200);
    let disable = TestRequest::delete().uri(&format!("/admin/users/{}", ops.id.0)).insert_header(("X-API-KEY", KEY_1));
    let (status, _, body) = call_json!(app, disable);
    assert_eq!((status, &body["data"]["active"]), (200, &json!(false)));
    assert_eq!(call!(app, get("/admin/stores").insert_header(("X-API-KEY", ops_key.as_str()))).0, 401);
    assert!(h.world().sessions.is_empty(), "the disabled user's sessions are gone");
    let _ = admin;
}

#[actix_web::test]
async fn personal_keys_are_shown_once_revoked_at_once_and_never_above_their_owner() {
    let h = harness();
    h.world().add_store_in("n1", "north");
    let admin = add_user(&h, "admin@example.com", Role::Admin, StoreScope::All).await;
    let ops = add_user(&h, "ops@example.com", Role::Operator, StoreScope::All).await;
    let (ops_key, _) = add_key(&h, &as_user(&ops), "ops key", Role::Operator, StoreScope::All).await;
    let app = app!(h);
    let with = |key: &str, req: TestRequest| req.insert_header(("X-API-KEY", key.to_owned()));

    // Created: the key once, with its prefix.
    let (status, _, created) = call_json!(
        app,
        with(&ops_key, post("/admin/api-keys"))
            .set_json(json!({"name": "BI export", "role": "viewer", "expires_in_days": 30}))
    );
    assert_eq!(status, 201, "{created}");
    let secret = created["data"]["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tth_") && secret.len() == 47, "{secret}");
    assert_eq!(created["data"]["apiKey"]["ownerId"], ops.id.0);
    assert_eq!(created["data"]["apiKey"]["expiresAt"], "2026-02-23T02:00:00.000Z");
    let id = created["data"]["apiKey"]["id"].as_i64().unwrap();
    // Listed without the secret; the viewer key reads, and writes nothing.
    let (_, _, list) = call_json!(app, with(&ops_key, get("/admin/api-keys")));
    assert_eq!(list["count"], 2);
    assert!(!list.to_string().contains(&secret[4..]));
    assert_eq!(call!(app, with(&secret, get("/admin/reports/overview"))).0, 200);
    let (status, _, body) = call_json!(
        app,
        with(&secret, post("/admin/stores")).set_json(json!({"store_code": "x", "store_name": "X", "pic_name": "P"}))
    );
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    // Nobody grants more than they have.
    let (status, _, body) =
        call_json!(app, with(&ops_key, post("/admin/api-keys")).set_json(json!({"name": "up", "role": "admin"})));
    assert_eq!(status, 403, "{body}");
    assert!(assert_error(&body, "FORBIDDEN").contains("above your own"));
    let (status, _, body) = call_json!(
        app,
        with(&ops_key, post("/admin/api-keys"))
            .set_json(json!({"name": "g", "role": "viewer", "store_groups": ["atlantis"]}))
    );
    assert_eq!(status, 400, "{body}");
    assert!(assert_error(&body, "INVALID_REQUEST").starts_with("store_groups"));
    // Revoked: refused at once.
    let (status, _, revoked) =
        call_json!(app, with(&ops_key, TestRequest::delete().uri(&format!("/admin/api-keys/{id}"))));
    assert_eq!(status, 200);
    assert!(revoked["data"]["revokedAt"].is_string());
    assert_eq!(call!(app, with(&secret, get("/admin/stores"))).0, 401);
    // Expired: refused at once.
    let (_, _, again) = call_json!(
        app,
        with(&ops_key, post("/admin/api-keys"))
            .set_json(json!({"name": "short", "role": "viewer", "expires_in_days": 1}))
    );
    let short = again["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(call!(app, with(&short, get("/admin/stores"))).0, 200);
    for (k, _) in h.world().api_keys.iter_mut() {
        if k.name == "short" {
            k.expires_at = Some(t0());
        }
    }
    assert_eq!(call!(app, with(&short, get("/admin/stores"))).0, 401);
    // A demoted owner takes the key down with them.
    let demote = with(KEY_1, TestRequest::patch().uri(&format!("/admin/users/{}", ops.id.0)))
        .set_json(json!({"role": "viewer"}));
    assert_eq!(call!(app, demote).0, 200);
    let (status, _, _) = call_json!(
        app,
        with(&ops_key, post("/admin/stores")).set_json(json!({"store_code": "y", "store_name": "Y", "pic_name": "P"}))
    );
    assert_eq!(status, 403, "an operator key of a viewer acts as a viewer");
    // The secrets are in no audit row.
    let w = h.world();
    for row in &w.audit {
        let text = format!("{row:?}");
        assert!(!text.contains(&secret[4..]) && !text.contains(&ops_key[4..]), "{text}");
    }
    let _ = admin;
}

#[actix_web::test]
async fn user_management_refuses_weak_passwords_unknown_roles_and_the_last_admin() {
    let h = harness();
    h.world().add_store_in("n1", "north");
    let admin = add_user(&h, "admin@example.com", Role::Admin, StoreScope::All).await;
    let app = app!(h);
    let create = |body: serde_json::Value| admin_post("/admin/users").set_json(body);
    let cases = [
        (json!({"email": "a@example.com", "role": "viewer", "password": "short"}), 400, "password must be at least 12"),
        (
            json!({"email": "a@example.com", "role": "viewer", "password": "password12345"}),
            400,
            "password is too common",
        ),
        (json!({"email": "a@example.com", "role": "root", "password": PASSWORD}), 400, "role must be one of"),
        (json!({"email": "not-an-email", "role": "viewer", "password": PASSWORD}), 400, "email must be"),
        (
            json!({"email": "a@example.com", "role": "viewer", "password": PASSWORD, "store_groups": []}),
            400,
            "store_groups must name",
        ),
        (
            json!({"email": "a@example.com", "role": "viewer", "password": PASSWORD, "store_groups": ["nope"]}),
            400,
            "store_groups must name groups",
        ),
        (json!({"email": "A@Example.com", "role": "viewer", "password": PASSWORD, "store_groups": ["north"]}), 201, ""),
        (json!({"email": "a@example.com", "role": "viewer", "password": PASSWORD}), 409, "already exists"),
    ];
    for (body, want, message) in cases {
        let (status, _, res) = call_json!(app, create(body.clone()));
        assert_eq!(status, want, "{body}: {res}");
        if want >= 400 {
            assert!(res["error"]["message"].as_str().unwrap().contains(message), "{body}: {res}");
            assert!(!res.to_string().contains("password12345"), "the password is never echoed");
        }
    }
    let (_, _, users) = call_json!(app, admin_get("/admin/users"));
    assert_eq!(users["count"], 2);
    assert_eq!(users["data"][1]["storeGroups"], json!(["north"]));
    assert!(!users.to_string().contains("argon2"), "no hash in answers");
    // The last active admin can be neither disabled nor demoted.
    let last = |req: TestRequest| req.uri(&format!("/admin/users/{}", admin.id.0)).insert_header(("X-API-KEY", KEY_1));
    let (status, _, body) = call_json!(app, last(TestRequest::delete()));
    assert_eq!(status, 409);
    assert!(assert_error(&body, "LAST_ADMIN").contains("one active admin"));
    let (status, _, _) = call_json!(app, last(TestRequest::patch()).set_json(json!({"role": "operator"})));
    assert_eq!(status, 409);
    // With a second admin, it can.
    let (status, _, _) =
        call_json!(app, create(json!({"email": "b@example.com", "role": "admin", "password": PASSWORD})));
    assert_eq!(status, 201);
    assert_eq!(call!(app, last(TestRequest::patch()).set_json(json!({"role": "operator"}))).0, 200);
    // A role change is audited with the role before and after.
    let w = h.world();
    let row = w.audit.iter().rev().find(|a| a.action == "user.update" && a.outcome == AuditOutcome::Success).unwrap();
    let details = row.details.as_deref().unwrap();
    assert!(
        details.contains("\"roleBefore\":\"admin\"") && details.contains("\"roleAfter\":\"operator\""),
        "{details}"
    );
    assert_eq!(row.target.as_deref(), Some(format!("user:{}", admin.id.0).as_str()));
}

#[actix_web::test]
async fn stores_take_a_group_on_create_change_and_import() {
    let h = harness();
    let app = app!(h);
    let (status, _, created) = call_json!(
        app,
        admin_post("/admin/stores")
            .set_json(json!({"store_code": "g1", "store_name": "G", "pic_name": "P", "store_group": "north"}))
    );
    assert_eq!((status, &created["data"]["storeGroup"]), (201, &json!("north")));
    let patch = |body: serde_json::Value| {
        TestRequest::patch().uri("/admin/stores/g1").insert_header(("X-API-KEY", KEY_1)).set_json(body)
    };
    let (status, _, changed) = call_json!(app, patch(json!({"store_group": "south", "pic_contact": null})));
    assert_eq!((status, &changed["data"]["storeGroup"]), (200, &json!("south")), "{changed}");
    for (bad, field) in
        [(json!({}), "at least one"), (json!({"store_group": ""}), "store_group"), (json!({"nope": 1}), "nope")]
    {
        let (status, _, body) = call_json!(app, patch(bad.clone()));
        assert_eq!(status, 400, "{bad}");
        assert!(assert_error(&body, "INVALID_REQUEST").contains(field), "{bad}: {body}");
    }
    let (status, _, _) = call_json!(app, patch(json!({"store_group": null})));
    assert_eq!(status, 200);
    assert_eq!(h.world().stores[0].group, None);
    let update = h.world().audit.iter().filter(|a| a.action == "store.update").count();
    assert_eq!(update, 2, "one row per change");
    let csv = "store_code,store_name,pic_name,store_group\ng2,G2,P,east\ng1,G1,P,west\n";
    let upload = admin_post("/admin/stores/import?on_conflict=update")
        .insert_header(("Content-Type", "text/csv"))
        .set_payload(csv);
    let (status, _, report) = call_json!(app, upload);
    assert_eq!(status, 200, "{report}");
    let groups: Vec<Option<String>> =
        h.world().stores.iter().map(|s| s.group.as_ref().map(|g| g.to_string())).collect();
    assert_eq!(groups, [Some("west".into()), Some("east".into())]);
}
