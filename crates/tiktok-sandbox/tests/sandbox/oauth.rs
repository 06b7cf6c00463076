//! Login Kit: consent, token (code + refresh, rotations, PKCE, TTL), revoke.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;
use tiktok_sandbox::{Rotation, SandboxConfig, TokenProfile, pkce_s256};

/// Authorize-parameter overrides (`None` removes the parameter).
type Ov<'a> = &'a [(&'a str, Option<&'a str>)];

#[tokio::test]
async fn auto_consent_redirects_with_code_scopes_state_and_token_shape() {
    let t = start(cfg()).await;
    let q = t.authorize_redirect(&[]).await;
    assert_eq!(q["state"], "st-123");
    assert_eq!(q["scopes"], ALL_SCOPES);
    assert!(q["code"].len() >= 32);
    assert!(!q.contains_key("error"));

    let (s, tok) = t.exchange(&q["code"], None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(tok["access_token"].as_str().unwrap().starts_with("act."));
    assert!(tok["refresh_token"].as_str().unwrap().starts_with("rft."));
    assert_eq!(tok["expires_in"], 86_400);
    assert_eq!(tok["refresh_expires_in"], 31_536_000);
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["scope"], ALL_SCOPES);
    let accounts = t.sb.accounts();
    assert_eq!(tok["open_id"], accounts[0].open_id.as_str());
    assert!(t.sb.accounts()[0].has_live_grant);
    assert!(!t.sb.accounts()[1].has_live_grant);
    t.sb.stop().await;
}

#[tokio::test]
async fn authorize_without_registered_client_or_uri_shows_400_page_never_redirects() {
    let t = start(cfg()).await;
    let cases: &[(&str, Ov<'_>)] = &[
        ("wrong client_key", &[("client_key", Some("other-app"))]),
        ("missing client_key", &[("client_key", None)]),
        ("redirect_uri with trailing slash", &[("redirect_uri", Some("http://127.0.0.1:3000/auth/tiktok/callback/"))]),
        ("redirect_uri elsewhere", &[("redirect_uri", Some("https://evil.example/cb"))]),
        ("missing redirect_uri", &[("redirect_uri", None)]),
        ("sandbox_account out of range", &[("sandbox_account", Some("20"))]),
    ];
    for (name, ov) in cases {
        let r = t.authorize(ov).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(r.headers().get("location").is_none(), "{name}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"error\""), "{name}: {body}");
    }
    assert_eq!(t.sb.stats().authorize.errors, cases.len() as u64);
    t.sb.stop().await;
}

#[tokio::test]
async fn authorize_errors_after_validation_redirect_with_error() {
    let t = start(cfg()).await;
    let cases: &[(Ov<'_>, &str)] = &[
        (&[("response_type", Some("token"))], "unsupported_response_type"),
        (&[("scope", Some("user.info.basic,video.upload"))], "invalid_scope"),
        (&[("scope", Some("video.list"))], "invalid_scope"),
        (&[("code_challenge", Some("abc")), ("code_challenge_method", Some("plain"))], "invalid_request"),
    ];
    for (ov, want) in cases {
        let q = t.authorize_redirect(ov).await;
        assert_eq!(q.get("error").map(String::as_str), Some(*want), "{ov:?}");
        assert!(q.get("error_description").is_some_and(|d| !d.is_empty()));
        assert_eq!(q["state"], "st-123");
        assert!(!q.contains_key("code"));
    }
    t.sb.stop().await;
}

#[tokio::test]
async fn deny_all_grant_subset_and_account_choice_knobs() {
    let t = start(SandboxConfig { deny_all: true, ..cfg() }).await;
    let q = t.authorize_redirect(&[]).await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-123");
    assert!(!q.contains_key("code"));

    t.sb.update(|k| {
        k.deny_all = false;
        k.grant_scopes = Some(vec!["user.info.basic".into(), "video.list".into()]);
        k.force_account = Some(7);
    });
    let q = t.authorize_redirect(&[]).await;
    assert_eq!(q["scopes"], "user.info.basic,video.list");
    let (_, tok) = t.exchange(&q["code"], None).await;
    assert_eq!(tok["scope"], "user.info.basic,video.list");
    let accounts = t.sb.accounts();
    assert_eq!(tok["open_id"], accounts[7].open_id.as_str());

    // The per-request override wins over force_account.
    let tok = t.connect(&[("sandbox_account", Some("11"))]).await;
    assert_eq!(tok["open_id"], accounts[11].open_id.as_str());
    t.sb.stop().await;
}

#[tokio::test]
async fn round_robin_over_unconnected_accounts_then_wraps() {
    let t = start(SandboxConfig { accounts: 3, ..cfg() }).await;
    let accounts = t.sb.accounts();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(t.connect(&[]).await["open_id"].as_str().unwrap().to_string());
    }
    let ids: Vec<&str> = accounts.iter().map(|a| a.open_id.as_str()).collect();
    assert_eq!(got, vec![ids[0], ids[1], ids[2], ids[0]]);
    // Account 1 revokes the app: it is the next one to be connected.
    t.sb.revoke_grant(ids[1]);
    assert!(!t.sb.accounts()[1].has_live_grant);
    assert_eq!(t.connect(&[]).await["open_id"], ids[1]);
    t.sb.stop().await;
}

#[tokio::test]
async fn consent_page_approve_with_unticked_scope_and_deny() {
    let t = start(SandboxConfig { auto_consent: false, ..cfg() }).await;
    let r = t.authorize(&[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for needle in
        ["Approve", "Deny", "Sandbox Store 0000", "Sandbox Store 0019", "action=\"/v2/auth/authorize/decision\""]
    {
        assert!(html.contains(needle), "{needle}");
    }

    let mut form = t.authorize_params(&[]);
    form.extend([
        ("account".to_string(), "2".to_string()),
        ("granted_scope".to_string(), "user.info.basic".to_string()),
        ("granted_scope".to_string(), "video.list".to_string()),
        ("decision".to_string(), "approve".to_string()),
    ]);
    let r = t.c.post(t.url("/v2/auth/authorize/decision")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["scopes"], "user.info.basic,video.list");
    assert_eq!(q["state"], "st-123");
    let (_, tok) = t.exchange(&q["code"], None).await;
    assert_eq!(tok["open_id"], t.sb.accounts()[2].open_id.as_str());

    let mut form = t.authorize_params(&[]);
    form.extend([("account".to_string(), "2".to_string()), ("decision".to_string(), "deny".to_string())]);
    let r = t.c.post(t.url("/v2/auth/authorize/decision")).form(&form).send().await.unwrap();
    let q = query_of(r.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-123");
    t.sb.stop().await;
}

#[tokio::test]
async fn token_endpoint_errors_and_configurable_status() {
    let t = start(cfg()).await;
    let code = t.authorize_redirect(&[]).await["code"].clone();
    let (key, secret, uri) = (t.key.clone(), t.secret.clone(), t.redirect_uri.clone());
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(&str, String)> = vec![
            ("client_key", key.clone()),
            ("client_secret", secret.clone()),
            ("grant_type", "authorization_code".into()),
            ("redirect_uri", uri.clone()),
        ];
        for (k, v) in extra {
            f.retain(|(fk, _)| fk != k);
            if !v.is_empty() {
                f.push((k, v.to_string()));
            }
        }
        f
    };
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<(&str, String)>, &str)> = vec![
        ("wrong secret", base(&[("client_secret", "nope"), ("code", "x")]), "invalid_client"),
        ("wrong client key", base(&[("client_key", "nope"), ("code", "x")]), "invalid_client"),
        ("missing client key", base(&[("client_key", ""), ("code", "x")]), "invalid_request"),
        ("missing code", base(&[]), "invalid_request"),
        ("unknown code", base(&[("code", "not-a-code")]), "invalid_grant"),
        ("bad grant type", base(&[("grant_type", "password"), ("code", "x")]), "unsupported_grant_type"),
        ("missing grant type", base(&[("grant_type", ""), ("code", "x")]), "invalid_request"),
        (
            "unknown refresh token",
            base(&[("grant_type", "refresh_token"), ("refresh_token", "rft.nope")]),
            "invalid_grant",
        ),
    ];
    for status in [200u16, 400] {
        t.sb.update(|k| k.oauth_error_status = status);
        for (name, form, want) in &cases {
            let r = t.c.post(t.url("/v2/oauth/token/")).form(form).send().await.unwrap();
            let s = r.status();
            let body: serde_json::Value = r.json().await.unwrap();
            assert_oauth_error(s, &body, status, want);
            let _ = name;
        }
        // JSON instead of a form: invalid_request.
        let r = t
            .c
            .post(t.url("/v2/oauth/token/"))
            .json(&json!({"client_key": t.key, "client_secret": t.secret, "grant_type": "authorization_code", "code": code}))
            .send()
            .await
            .unwrap();
        let s = r.status();
        assert_oauth_error(s, &r.json().await.unwrap(), status, "invalid_request");
    }
    // None of those consumed the real code.
    let (s, tok) = t.exchange(&code, None).await;
    assert_eq!(s, StatusCode::OK, "{tok}");
    let st = t.sb.stats().token;
    assert_eq!((st.calls, st.ok, st.errors), (2 * (cases.len() as u64 + 1) + 1, 1, 2 * (cases.len() as u64 + 1)));
    t.sb.stop().await;
}

#[tokio::test]
async fn code_is_single_use_expires_and_binds_redirect_uri() {
    let t = start(cfg()).await;
    let code = t.authorize_redirect(&[]).await["code"].clone();
    assert_eq!(t.exchange(&code, None).await.0, StatusCode::OK);
    let (s, b) = t.exchange(&code, None).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");

    // TTL (default 5 min) on the sandbox clock.
    let code = t.authorize_redirect(&[]).await["code"].clone();
    t.sb.advance_clock(chrono::Duration::seconds(301));
    let (s, b) = t.exchange(&code, None).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    assert!(b["error_description"].as_str().unwrap().contains("expired"));
    let code = t.authorize_redirect(&[]).await["code"].clone();
    t.sb.advance_clock(chrono::Duration::seconds(290));
    assert_eq!(t.exchange(&code, None).await.0, StatusCode::OK);

    // redirect_uri must match the one of the authorize request.
    let code = t.authorize_redirect(&[]).await["code"].clone();
    let (s, b) = t
        .post_form(
            "/v2/oauth/token/",
            &[
                ("client_key", &t.key),
                ("client_secret", &t.secret),
                ("code", &code),
                ("grant_type", "authorization_code"),
                ("redirect_uri", "http://127.0.0.1:3000/other"),
            ],
        )
        .await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    assert!(b["error_description"].as_str().unwrap().contains("Redirect URI"));
    t.sb.stop().await;
}

#[tokio::test]
async fn code_ttl_and_lifetimes_follow_time_scale_and_profile() {
    let t = start(SandboxConfig { token_profile: TokenProfile::New, time_scale: 10.0, ..cfg() }).await;
    let code = t.authorize_redirect(&[]).await["code"].clone();
    let (_, tok) = t.exchange(&code, None).await;
    assert_eq!(tok["expires_in"], 720);
    assert_eq!(tok["refresh_expires_in"], 1_555_200);
    // Code TTL is 300 s / 10.
    let code = t.authorize_redirect(&[]).await["code"].clone();
    t.sb.advance_clock(chrono::Duration::seconds(31));
    let (s, b) = t.exchange(&code, None).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    // The access token dies after 720 s of sandbox time.
    let at = tok["access_token"].as_str().unwrap();
    assert_eq!(t.user_info(at, "open_id").await.0, StatusCode::OK);
    t.sb.advance_clock(chrono::Duration::seconds(721));
    let (s, b) = t.user_info(at, "open_id").await;
    assert_api_error(s, &b, 401, "access_token_invalid");
    t.sb.update(|k| {
        k.time_scale = 1.0;
        k.token_profile = TokenProfile::Classic;
    });
    let (_, tok) = t.refresh(tok["refresh_token"].as_str().unwrap()).await;
    assert_eq!(tok["expires_in"], 86_400);
    t.sb.stop().await;
}

#[tokio::test]
async fn pkce_s256_is_checked() {
    let t = start(cfg()).await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(pkce_s256(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"); // RFC 7636 appendix B
    let challenge = pkce_s256(verifier);
    let ov = [("code_challenge", Some(challenge.as_str())), ("code_challenge_method", Some("S256"))];
    for (verifier_sent, want) in [
        (Some("wrong-verifier-wrong-verifier-wrong-verifier"), Some("invalid_grant")),
        (None, Some("invalid_request")),
        (Some(verifier), None),
    ] {
        let code = t.authorize_redirect(&ov).await["code"].clone();
        let (s, b) = t.exchange(&code, verifier_sent).await;
        match want {
            Some(e) => assert_oauth_error(s, &b, 200, e),
            None => assert!(b["access_token"].is_string(), "{b}"),
        }
    }
    t.sb.stop().await;
}

async fn rotation_setup(rotation: Rotation) -> (T, serde_json::Value) {
    let t = start(SandboxConfig { rotation, ..cfg() }).await;
    let tok = t.connect(&[]).await;
    (t, tok)
}

#[tokio::test]
async fn rotation_may_returns_new_token_and_old_keeps_working() {
    let (t, tok) = rotation_setup(Rotation::May).await;
    let r1 = tok["refresh_token"].as_str().unwrap();
    let (s, t2) = t.refresh(r1).await;
    assert_eq!(s, StatusCode::OK);
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_ne!(tok["access_token"], t2["access_token"]);
    assert_eq!(t2["open_id"], tok["open_id"]);
    assert_eq!(t2["scope"], tok["scope"]);
    assert!(t.refresh(r1).await.1["access_token"].is_string());
    assert!(t.refresh(r2).await.1["access_token"].is_string());
    // A refresh token dies at its expiry.
    t.sb.advance_clock(chrono::Duration::days(366));
    let (s, b) = t.refresh(r2).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    t.sb.stop().await;
}

#[tokio::test]
async fn rotation_none_returns_the_same_refresh_token() {
    let (t, tok) = rotation_setup(Rotation::None).await;
    let r1 = tok["refresh_token"].as_str().unwrap();
    t.sb.advance_clock(chrono::Duration::days(10));
    let (_, t2) = t.refresh(r1).await;
    assert_eq!(t2["refresh_token"], r1);
    assert_ne!(t2["access_token"], tok["access_token"]);
    let left = t2["refresh_expires_in"].as_i64().unwrap();
    assert!((31_536_000 - 10 * 86_400 - 5..=31_536_000 - 10 * 86_400).contains(&left), "{left}");
    assert!(t.refresh(r1).await.1["access_token"].is_string());
    t.sb.stop().await;
}

#[tokio::test]
async fn rotation_strict_kills_old_token_and_replay_revokes_grant() {
    let (t, tok) = rotation_setup(Rotation::Strict).await;
    let r1 = tok["refresh_token"].as_str().unwrap().to_string();
    let (_, t2) = t.refresh(&r1).await;
    let r2 = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let (_, t3) = t.refresh(&r2).await;
    let r3 = t3["refresh_token"].as_str().unwrap().to_string();
    let a3 = t3["access_token"].as_str().unwrap().to_string();
    assert_eq!(t.user_info(&a3, "open_id").await.0, StatusCode::OK);
    // Replaying r1 (already rotated out) fails and kills the whole grant.
    let (s, b) = t.refresh(&r1).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    let (s, b) = t.refresh(&r3).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    let (s, b) = t.user_info(&a3, "open_id").await;
    assert_api_error(s, &b, 401, "access_token_invalid");
    assert!(!t.sb.accounts()[0].has_live_grant);
    t.sb.stop().await;
}

#[tokio::test]
async fn revoke_endpoint_and_sandbox_grant_revocation() {
    let t = start(cfg()).await;
    let tok = t.connect(&[]).await;
    let at = tok["access_token"].as_str().unwrap();
    let rt = tok["refresh_token"].as_str().unwrap();

    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("client_key", &t.key), ("client_secret", "bad"), ("token", at)], "invalid_client"),
        (vec![("client_key", &t.key), ("client_secret", &t.secret)], "invalid_request"),
    ];
    for (form, want) in &cases {
        let (s, b) = t.post_form("/v2/oauth/revoke/", form).await;
        assert_oauth_error(s, &b, 200, want);
    }
    assert_eq!(t.user_info(at, "open_id").await.0, StatusCode::OK);
    let (s, b) =
        t.post_form("/v2/oauth/revoke/", &[("client_key", &t.key), ("client_secret", &t.secret), ("token", at)]).await;
    assert_eq!((s, b), (StatusCode::OK, json!({})));
    let (s, b) = t.user_info(at, "open_id").await;
    assert_api_error(s, &b, 401, "access_token_invalid");
    let (s, b) = t.refresh(rt).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    assert_eq!(t.sb.stats().revoke.ok, 1);
    assert_eq!(t.sb.stats().revoke.errors, 2);

    // The user removes the app (sandbox control route).
    let tok = t.connect(&[]).await;
    let open_id = tok["open_id"].as_str().unwrap();
    let (s, b) = t.post_json("/sandbox/grants/revoke", json!({"open_id": open_id})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["revoked_live_grants"], 1);
    let (s, b) = t.user_info(tok["access_token"].as_str().unwrap(), "open_id").await;
    assert_api_error(s, &b, 401, "access_token_invalid");
    let (s, b) = t.refresh(tok["refresh_token"].as_str().unwrap()).await;
    assert_oauth_error(s, &b, 200, "invalid_grant");
    let (s, _) = t.post_json("/sandbox/grants/revoke", json!({"open_id": "nobody"})).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    t.sb.stop().await;
}

#[tokio::test]
async fn token_server_error_fault() {
    let t = start(SandboxConfig { fault_token_server_error: 1.0, ..cfg() }).await;
    let code = t.authorize_redirect(&[]).await["code"].clone();
    let (s, b) = t.exchange(&code, None).await;
    assert_oauth_error(s, &b, 500, "server_error");
    t.sb.update(|k| k.fault_token_server_error = 0.0);
    assert_eq!(t.exchange(&code, None).await.0, StatusCode::OK);
    t.sb.stop().await;
}
