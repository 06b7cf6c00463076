//! TikTok's webhook, emulated: `POST /sandbox/accounts/{open_id}/deauthorize?reason=N`
//! revokes the account's grants (as the user removing the app does), then delivers a signed
//! `authorization.removed` event to the configured `webhook_url`: `TikTok-Signature:
//! t=<unix>,s=<hex HMAC-SHA256 of "t.body" with the client secret>`. A delivery that does not
//! get 200 is retried (`webhook_max_attempts`); `webhook_duplicates` sends each event again.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use ring::hmac;
use serde::Deserialize;
use serde_json::json;

use crate::api::Data;

#[derive(Deserialize)]
pub(crate) struct ReasonQuery {
    reason: Option<i64>,
}

/// The header value TikTok sends with `body` at Unix time `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{t}.{body}").as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},s={hex}")
}

pub(crate) async fn deauthorize(st: Data, path: web::Path<String>, q: web::Query<ReasonQuery>) -> HttpResponse {
    let open_id = path.into_inner();
    let reason = q.reason.unwrap_or(1);
    if !(0..=5).contains(&reason) {
        return HttpResponse::BadRequest().json(json!({"error": "reason must be 0-5"}));
    }
    let Some(i) = st.data.account_index(&open_id) else {
        return HttpResponse::NotFound().json(json!({"error": "unknown open_id"}));
    };
    let revoked = st.oauth_write().revoke_account(i, st.now_ms());
    let body = json!({
        "client_key": st.client_key,
        "event": "authorization.removed",
        "create_time": st.now().timestamp(),
        "user_openid": open_id,
        "content": json!({"reason": reason}).to_string(),
    })
    .to_string();
    let (url, duplicates, attempts) = {
        let k = st.knobs();
        (k.webhook_url.clone(), k.webhook_duplicates, k.webhook_max_attempts.max(1))
    };
    if let Some(url) = url.clone() {
        let st = st.clone();
        tokio::spawn(async move {
            for _ in 0..=duplicates {
                deliver(&st, &url, &body, attempts).await;
            }
        });
    }
    HttpResponse::Ok()
        .json(json!({"open_id": open_id, "reason": reason, "revoked_live_grants": revoked, "webhook_url": url}))
}

/// One event, retried with a doubling delay (100 ms, 200 ms, …) until a 200 answer.
async fn deliver(st: &Data, url: &str, body: &str, attempts: u32) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "webhook client");
            return;
        }
    };
    for attempt in 0..attempts {
        // TikTok signs with the real time (the sandbox clock may be moved).
        let t = chrono::Utc::now().timestamp();
        let sent = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("TikTok-Signature", signature(&st.client_secret, t, body))
            .body(body.to_owned())
            .send()
            .await;
        let status = sent.as_ref().map_or(0, |r| r.status().as_u16());
        st.webhook_attempts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(status);
        tracing::debug!(status, attempt, "webhook delivery");
        if status == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt.min(10))).await;
    }
}
