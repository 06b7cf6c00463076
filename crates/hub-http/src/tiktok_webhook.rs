//! TikTok's webhook as TikTok documents it: `TikTok-Signature: t=<unix>,s=<hex>` where
//! `s = HMAC-SHA256(key = client secret, message = "<t>.<raw body>")`, compared in constant
//! time, `t` within the tolerance of now; then the body `{client_key, event, create_time,
//! user_openid, content}`, `content` a JSON string (`{"reason": 0..5}` for
//! `authorization.removed`). Everything here is checked before the engine sees the event.

use chrono::{DateTime, Utc};
use hub_domain::{RevokeReason, Secret, TikTokEvent, TikTokEventKind};
use ring::digest::{SHA256, digest};
use ring::hmac;
use serde::Deserialize;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("missing or malformed TikTok-Signature header")]
    MissingSignature,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("the event is for another app (client_key)")]
    OtherApp,
    #[error("the event body is malformed")]
    Malformed,
}

/// The app's side of the webhook.
#[derive(Debug, Clone)]
pub struct WebhookKeys {
    pub client_key: String,
    pub client_secret: Secret<String>,
    /// The most a signature's `t` may differ from now.
    pub tolerance: std::time::Duration,
}

#[derive(Deserialize)]
struct Body {
    client_key: String,
    event: String,
    create_time: i64,
    user_openid: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    reason: i64,
}

/// `t` and the signature bytes of a `t=…,s=…` header.
fn parse_header(header: &str) -> Option<(i64, Vec<u8>)> {
    let (mut t, mut s) = (None, None);
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("s", v)) => s = hex::decode(v).ok(),
            _ => {}
        }
    }
    Some((t?, s?))
}

/// The signature a body gets at time `t` (the sandbox and the tests sign the same way).
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    hex::encode(ctx.sign().as_ref())
}

/// Verifies and decodes one delivery received at `now`.
pub fn verify(
    keys: &WebhookKeys,
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<TikTokEvent, WebhookRefusal> {
    let (t, signature) = header.and_then(parse_header).ok_or(WebhookRefusal::MissingSignature)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, keys.client_secret.expose().as_bytes());
    let mut message = Vec::with_capacity(body.len() + 21);
    message.extend_from_slice(t.to_string().as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    // ring compares in constant time.
    hmac::verify(&key, &message, &signature).map_err(|_| WebhookRefusal::BadSignature)?;
    let tolerance = i64::try_from(keys.tolerance.as_secs()).unwrap_or(i64::MAX);
    if (now.timestamp() - t).abs() > tolerance {
        return Err(WebhookRefusal::Stale);
    }
    let b: Body = serde_json::from_slice(body).map_err(|_| WebhookRefusal::Malformed)?;
    if b.client_key != keys.client_key {
        return Err(WebhookRefusal::OtherApp);
    }
    let kind = if b.event == "authorization.removed" {
        let content: Content =
            serde_json::from_str(b.content.as_deref().unwrap_or("{}")).map_err(|_| WebhookRefusal::Malformed)?;
        let reason = RevokeReason::from_code(content.reason).ok_or(WebhookRefusal::Malformed)?;
        if b.user_openid.as_deref().is_none_or(str::is_empty) {
            return Err(WebhookRefusal::Malformed);
        }
        TikTokEventKind::AuthorizationRemoved(reason)
    } else {
        TikTokEventKind::Other
    };
    let create_time = DateTime::from_timestamp(b.create_time, 0).ok_or(WebhookRefusal::Malformed)?;
    if b.event.is_empty() || b.event.len() > 100 || b.user_openid.as_ref().is_some_and(|u| u.len() > 255) {
        return Err(WebhookRefusal::Malformed);
    }
    Ok(TikTokEvent {
        dedupe_key: hex::encode(digest(&SHA256, body).as_ref()),
        event: b.event,
        kind,
        user_openid: b.user_openid,
        create_time,
        content: b.content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> WebhookKeys {
        WebhookKeys {
            client_key: "ck".into(),
            client_secret: Secret::new("secret".into()),
            tolerance: std::time::Duration::from_secs(300),
        }
    }

    const BODY: &str = r#"{"client_key":"ck","event":"authorization.removed","create_time":1700000000,"user_openid":"u1","content":"{\"reason\":1}"}"#;

    #[test]
    fn a_signed_body_verifies_and_every_fault_is_refused() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let t = now.timestamp();
        let header = |t: i64, body: &str| format!("t={t},s={}", sign("secret", t, body.as_bytes()));
        let ok = verify(&keys(), Some(&header(t, BODY)), BODY.as_bytes(), now).unwrap();
        assert_eq!(ok.kind, TikTokEventKind::AuthorizationRemoved(RevokeReason::UserDisconnected));
        assert_eq!(ok.user_openid.as_deref(), Some("u1"));
        let other_app = BODY.replace("\"ck\"", "\"other\"");
        let bad_reason = BODY.replace("\\\"reason\\\":1", "\\\"reason\\\":9");
        let cases: Vec<(Option<String>, String, WebhookRefusal)> = vec![
            (None, BODY.into(), WebhookRefusal::MissingSignature),
            (Some("t=1".into()), BODY.into(), WebhookRefusal::MissingSignature),
            (
                Some(format!("t={t},s={}", sign("forged", t, BODY.as_bytes()))),
                BODY.into(),
                WebhookRefusal::BadSignature,
            ),
            (Some(header(t - 600, BODY)), BODY.into(), WebhookRefusal::Stale),
            (Some(header(t + 600, BODY)), BODY.into(), WebhookRefusal::Stale),
            (Some(header(t, &other_app)), other_app.clone(), WebhookRefusal::OtherApp),
            (Some(header(t, "{not json")), "{not json".into(), WebhookRefusal::Malformed),
            (Some(header(t, &bad_reason)), bad_reason.clone(), WebhookRefusal::Malformed),
        ];
        for (h, body, want) in cases {
            assert_eq!(verify(&keys(), h.as_deref(), body.as_bytes(), now), Err(want.clone()), "{want:?}");
        }
        // The signature covers the body: a changed body with the old signature is refused.
        let tampered = BODY.replace("u1", "u2");
        assert_eq!(
            verify(&keys(), Some(&header(t, BODY)), tampered.as_bytes(), now),
            Err(WebhookRefusal::BadSignature)
        );
    }
}
