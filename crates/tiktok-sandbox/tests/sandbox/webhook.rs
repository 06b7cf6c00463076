//! The emulated webhook: deauthorize revokes the grant, then delivers a signed
//! `authorization.removed`, retried until the receiver answers 200.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::support::*;

/// A receiver that answers 500 to its first `fail` deliveries, then 200; it keeps what it got.
async fn receiver(fail: usize) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let seen = got.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().route(
            "/hook",
            web::post().to(move |req: HttpRequest, body: web::Bytes| {
                let seen = seen.clone();
                async move {
                    let sig = req.headers().get("TikTok-Signature").unwrap().to_str().unwrap().to_owned();
                    let mut s = seen.lock().unwrap();
                    s.push((sig, String::from_utf8(body.to_vec()).unwrap()));
                    if s.len() <= fail {
                        HttpResponse::InternalServerError().finish()
                    } else {
                        HttpResponse::Ok().finish()
                    }
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (format!("http://{addr}/hook"), got)
}

#[tokio::test(flavor = "multi_thread")]
async fn deauthorize_revokes_then_delivers_a_signed_event_retried_until_200() {
    let t = start(cfg()).await;
    let (url, got) = receiver(2).await;
    t.sb.update(|k| k.webhook_url = Some(url));
    let account = &t.sb.accounts()[3];
    let tokens = t.sb.issue_tokens(3, ALL_SCOPES);
    let r =
        t.c.post(t.url(&format!("/sandbox/accounts/{}/deauthorize?reason=4", account.open_id))).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(!t.sb.accounts()[3].has_live_grant, "the grant is revoked first");
    let info: Value =
        t.c.get(t.url("/v2/user/info/?fields=open_id"))
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(info["error"]["code"], "access_token_invalid");

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while t.sb.webhook_attempts().len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(t.sb.webhook_attempts(), [500, 500, 200], "retried after each non-200, then stopped");
    let got = got.lock().unwrap();
    let (sig, body) = &got[2];
    let b: Value = serde_json::from_str(body).unwrap();
    assert_eq!(b["event"], "authorization.removed");
    assert_eq!(b["user_openid"], account.open_id.as_str());
    assert_eq!(b["client_key"], t.key.as_str());
    assert_eq!(b["content"], "{\"reason\":4}");
    let ts: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    assert_eq!(sig, &tiktok_sandbox::webhook_signature(&t.secret, ts, body));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reason_outside_0_to_5_or_an_unknown_account_is_refused() {
    let t = start(cfg()).await;
    let open_id = t.sb.accounts()[0].open_id.clone();
    let bad = t.c.post(t.url(&format!("/sandbox/accounts/{open_id}/deauthorize?reason=6"))).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let unknown = t.c.post(t.url("/sandbox/accounts/nobody/deauthorize")).send().await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    assert!(t.sb.webhook_attempts().is_empty());
}
