//! `POST /webhooks/tiktok`: TikTok's webhook, authenticated by its signature (no key).

use actix_web::{HttpRequest, HttpResponse};
use futures::StreamExt;
use paperclip::actix::api_v2_operation;
use paperclip::actix::web;

use crate::error::{ApiError, Code};
use crate::routes::reply::reply;
use crate::state::AppState;
use crate::tiktok_webhook::{WebhookRefusal, verify};

/// TikTok's events are small; anything bigger is not one.
const MAX_BODY: usize = 16 * 1024;

reply!(
    /// The acknowledgement TikTok waits for.
    WebhookReply { 200 => crate::json::common::Ack: "Received (stored once; a redelivery changes nothing)" }
);

/// Receive a TikTok webhook event
///
/// Public, authenticated by the `TikTok-Signature` header (`t=<unix>,s=<hex HMAC-SHA256 of
/// "t.body" with the app's client secret>`, within `TIKTOK_WEBHOOK_TOLERANCE_SECONDS`).
/// `authorization.removed` marks the account `NEED_RECONNECT` (`REVOKED`, with TikTok's
/// reason) at once; other events are acknowledged and logged. Each event is stored once.
/// A missing or wrong signature or a stale timestamp: 401; another app's `client_key` or a
/// malformed body: 400; nothing is changed then.
#[api_v2_operation(tags(Webhooks))]
async fn tiktok(
    state: web::Data<AppState>,
    req: HttpRequest,
    mut payload: actix_web::web::Payload,
) -> Result<WebhookReply, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::invalid("The request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::invalid("The event is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    let header = req.headers().get("TikTok-Signature").and_then(|v| v.to_str().ok());
    let now = state.engine.system().now();
    let event = verify(&state.config.tiktok_webhook, header, &body, now).map_err(|e| {
        tracing::warn!(reason = %e, "TikTok webhook refused");
        match e {
            WebhookRefusal::MissingSignature | WebhookRefusal::BadSignature | WebhookRefusal::Stale => {
                ApiError::new(actix_web::http::StatusCode::UNAUTHORIZED, Code::Unauthorized, e.to_string())
            }
            WebhookRefusal::OtherApp | WebhookRefusal::Malformed => ApiError::invalid(e.to_string()),
        }
    })?;
    state.engine.lifecycle().tiktok_event(&event).await.map_err(|e| ApiError::internal(&e))?;
    Ok(WebhookReply(HttpResponse::Ok().json(crate::json::common::Ack { success: true })))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/webhooks/tiktok").route(web::post().to(tiktok)));
}
