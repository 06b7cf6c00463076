//! Login Kit through the real client against the sandbox: consent, code exchange with PKCE,
//! refresh under each rotation mode, revoke, OAuth error mapping, token-call retry rules.

use std::time::{Duration, Instant};

use crate::support::*;
use hub_domain::Secret;
use hub_ports::{TikTokApi, TikTokError};
use hub_tiktok::TikTokClient;
use tiktok_sandbox::{LatencyMs, Rotation, SandboxConfig, TokenProfile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn reason(r: Result<impl std::fmt::Debug, TikTokError>) -> &'static str {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.reason(),
    }
}

#[tokio::test]
async fn code_exchange_via_auto_consent_with_pkce() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);

    let q = consent(&api, "st/ate+1", VERIFIER).await;
    assert_eq!(q["state"], "st/ate+1", "state survives percent-encoding");
    assert_eq!(q["scopes"], "user.info.basic,user.info.stats,video.list");
    let g = api.exchange_code(&q["code"], VERIFIER).await.expect("exchange");
    assert!(g.access_token.expose().starts_with("act."));
    assert!(g.refresh_token.expose().starts_with("rft."));
    assert!(sb.accounts().iter().any(|a| a.open_id == g.open_id));
    assert_eq!((g.expires_in, g.refresh_expires_in), (86_400, 31_536_000));
    assert_eq!(g.scopes, ["user.info.basic", "user.info.stats", "video.list"]);

    // Codes are single use.
    let again = api.exchange_code(&q["code"], VERIFIER).await;
    assert!(matches!(again, Err(TikTokError::InvalidGrant { .. })), "{again:?}");
    // Neither answer was retried.
    assert_eq!(sb.stats().token.calls, 2);
    let s = api.stats().token;
    assert_eq!((s.calls, s.retries, s.errors), (2, 0, 1));
}

#[tokio::test]
async fn pkce_verifier_is_checked() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);

    let q = consent(&api, "s", VERIFIER).await;
    let r = api.exchange_code(&q["code"], "another-verifier-0123456789-0123456789-xyz").await;
    assert!(matches!(r, Err(TikTokError::InvalidGrant { .. })), "{r:?}");

    // Without the verifier the sandbox answers invalid_request: a refusal, not a dead grant.
    let q = consent(&api, "s", VERIFIER).await;
    let r = api.exchange_code(&q["code"], "").await;
    assert!(matches!(&r, Err(TikTokError::Rejected { code, .. }) if code == "invalid_request"), "{r:?}");
}

#[tokio::test]
async fn refresh_under_each_rotation_mode() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);

    // none: the same refresh token comes back.
    sb.update(|k| k.rotation = Rotation::None);
    let g = connect(&api).await;
    let r = api.refresh(&g.refresh_token).await.expect("refresh");
    assert_eq!(r.refresh_token, g.refresh_token);
    assert_ne!(r.access_token, g.access_token);
    assert_eq!(r.open_id, g.open_id);
    api.user_info(&r.access_token).await.expect("new access token works");

    // may: a new one, and the old one keeps working.
    sb.update(|k| k.rotation = Rotation::May);
    let g = connect(&api).await;
    let r = api.refresh(&g.refresh_token).await.expect("refresh");
    assert_ne!(r.refresh_token, g.refresh_token);
    api.refresh(&g.refresh_token).await.expect("old refresh token still valid");

    // strict: a new one; replaying the old one is invalid_grant and kills the grant.
    sb.update(|k| k.rotation = Rotation::Strict);
    let g = connect(&api).await;
    let r = api.refresh(&g.refresh_token).await.expect("refresh");
    assert_ne!(r.refresh_token, g.refresh_token);
    assert_eq!(reason(api.refresh(&g.refresh_token).await), "invalid_grant");
    assert_eq!(reason(api.refresh(&r.refresh_token).await), "invalid_grant");

    // Lifetimes are TikTok's answer, never assumed.
    sb.update(|k| k.token_profile = TokenProfile::New);
    let r = api.refresh(&connect(&api).await.refresh_token).await.expect("refresh");
    assert_eq!((r.expires_in, r.refresh_expires_in), (7_200, 15_552_000));
}

#[tokio::test]
async fn oauth_errors_are_decided_by_the_body_with_200_and_400() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let mut wrong = client_cfg(&sb, &cfg);
    wrong.client_secret = Secret::new("not-the-secret-at-all".into());
    let wrong = TikTokClient::new(wrong).expect("client");

    for status in [200, 400] {
        sb.update(|k| k.oauth_error_status = status);
        let dead = Secret::new("rft.nonexistent-refresh-token".to_string());
        let r = api.refresh(&dead).await;
        assert!(matches!(r, Err(TikTokError::InvalidGrant { .. })), "{status}: {r:?}");

        let g = connect(&api).await;
        let r = wrong.refresh(&g.refresh_token).await;
        assert!(matches!(&r, Err(TikTokError::Rejected { code, .. }) if code == "invalid_client"), "{status}: {r:?}");
    }
    // TikTok's description and log id are kept for support tickets.
    let e = api.refresh(&Secret::new("rft.nope-nope-nope".into())).await.expect_err("dead");
    assert!(e.to_string().contains("log_id"), "{e}");
}

#[tokio::test]
async fn revoke_ends_the_grant() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    api.user_info(&g.access_token).await.expect("works before");

    api.revoke(&g.access_token).await.expect("revoke");
    assert_eq!(reason(api.user_info(&g.access_token).await), "access_token_invalid");
    assert_eq!(reason(api.refresh(&g.refresh_token).await), "invalid_grant");
    // Revoking an unknown token is not an error (RFC 7009).
    api.revoke(&Secret::new("act.unknown".into())).await.expect("idempotent");
    assert_eq!(api.stats().revoke.calls, 2);
    assert_eq!(sb.stats().revoke.calls, 2);
}

#[tokio::test]
async fn user_removing_the_app_means_reconnect() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    sb.revoke_grant(&g.open_id);
    assert_eq!(reason(api.user_info(&g.access_token).await), "access_token_invalid");
    assert_eq!(reason(api.refresh(&g.refresh_token).await), "invalid_grant");
}

#[tokio::test]
async fn token_server_errors_are_retried_then_transient() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    let before = sb.stats().token.calls;

    sb.update(|k| k.fault_token_server_error = 1.0);
    let r = api.refresh(&g.refresh_token).await;
    assert!(matches!(&r, Err(TikTokError::Transient { message }) if message.contains("server_error")), "{r:?}");
    let max = api.config().max_retries;
    assert_eq!(sb.stats().token.calls - before, u64::from(max) + 1);

    // A flaky token endpoint (server says so explicitly) is ridden out.
    sb.update(|k| k.fault_token_server_error = 0.3);
    let mut c = client_cfg(&sb, &cfg);
    c.max_retries = 10;
    let patient = TikTokClient::new(c).expect("client");
    for _ in 0..5 {
        patient.refresh(&g.refresh_token).await.expect("eventually refreshed");
    }
}

#[tokio::test]
async fn a_timed_out_refresh_is_not_replayed() {
    let (sb, cfg) = sandbox(SandboxConfig { rotation: Rotation::Strict, ..sandbox_cfg() }).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    let before = sb.stats().token.calls;

    let mut c = client_cfg(&sb, &cfg);
    c.timeout = Duration::from_millis(300);
    let hasty = TikTokClient::new(c).expect("client");
    sb.update(|k| k.latency_ms = Some(LatencyMs { min: 1500, max: 1500 }));
    let start = Instant::now();
    let r = hasty.refresh(&g.refresh_token).await;
    assert!(matches!(&r, Err(TikTokError::Transient { message }) if message.contains("timed out")), "{r:?}");
    assert!(start.elapsed() < Duration::from_millis(1400), "{:?}", start.elapsed());
    // The answer was lost, not refused: the server may have rotated the token, so a
    // retry could replay a dead refresh token and kill the grant. Exactly one attempt.
    assert_eq!(sb.stats().token.calls - before, 1);
    assert_eq!(hasty.stats().token.retries, 0);
}

/// A fake server that answers every request with a `status` redirect to `target`.
async fn redirecting_server(target: String, status: u16) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 {status} Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_token_calls_never_follow_a_redirect() {
    let (sb, cfg) = sandbox(sandbox_cfg()).await;
    let api = client(&sb, &cfg);
    let g = connect(&api).await;
    for status in [301, 302, 303, 307, 308] {
        let fake = redirecting_server(format!("{}/v2/oauth/token/", sb.base_url()), status).await;
        let mut c = client_cfg(&sb, &cfg);
        c.api_base_url = fake;
        let redirected = TikTokClient::new(c).expect("client");
        let before = sb.stats().token.calls;
        let q = consent(&api, "s", VERIFIER).await;
        let exchanged = redirected.exchange_code(&q["code"], VERIFIER).await;
        let refreshed = redirected.refresh(&g.refresh_token).await;
        for (call, r) in [("exchange", exchanged.map(|_| ())), ("refresh", refreshed.map(|_| ()))] {
            let want = format!("http_{status}");
            assert!(matches!(&r, Err(TikTokError::Rejected { code, .. }) if *code == want), "{call} {status}: {r:?}");
        }
        assert_eq!(sb.stats().token.calls, before, "{status}: the secret never reached the redirect target");
    }
}

/// TikTok compares `redirect_uri` byte for byte: the client sends the configured string
/// unchanged in the consent URL and in the code exchange, even where a URL library would
/// normalise it (case, default port, escapes, dot segments, trailing slash).
#[tokio::test]
async fn redirect_uri_is_sent_byte_identical_in_both_legs() {
    let uris = [
        "http://127.0.0.1:3000/auth/tiktok/callback/",
        "https://Hub.Example.com:443/auth/TikTok/callback",
        "https://hub.example.com/auth/%7Etiktok/call%20back",
        "https://hub.example.com/auth/./x/../callback",
        "https://[::1]:8443/cb",
    ];
    for uri in uris {
        let (sb, cfg) = sandbox(SandboxConfig { redirect_uri: uri.into(), ..sandbox_cfg() }).await;
        let api = client(&sb, &cfg);
        assert_eq!(api.config().redirect_uri, uri);
        let q = consent(&api, "s", VERIFIER).await;
        api.exchange_code(&q["code"], VERIFIER).await.unwrap_or_else(|e| panic!("{uri}: {e}"));

        // The sandbox really compares bytes: the normalised form is refused.
        let normalised = url::Url::parse(uri).unwrap().to_string();
        if normalised != uri {
            let mut c = client_cfg(&sb, &cfg);
            c.redirect_uri = normalised.clone();
            let other = TikTokClient::new(c).expect("client");
            let q = consent(&api, "s", VERIFIER).await;
            let r = other.exchange_code(&q["code"], VERIFIER).await;
            assert!(r.is_err(), "{uri} vs {normalised}: accepted");
        }
        sb.stop().await;
    }
}
