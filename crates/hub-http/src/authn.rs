//! Who is calling: the adapter authenticates, the engine decides. A request to an admin route
//! carries an `X-API-KEY` (a configured break-glass `ADMIN_API_KEY`, or a personal `tth_…` key
//! the engine checks) or the session cookie of a signed-in person. The resulting
//! [`hub_engine::Actor`] goes into the request for the handlers (the `AdminKey` extractor).
//!
//! Unsafe requests (anything but GET, HEAD, OPTIONS) made with a session cookie must come from
//! the hub's own origin (`Origin`, or else `Referer`, equal to `PUBLIC_BASE_URL`'s origin) and
//! carry the session's CSRF token (`X-CSRF-Token`, or a `csrf_token` field of a form body).
//! API keys are not sent by browsers on their own, so key requests need neither.

use std::net::IpAddr;

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use futures::StreamExt;
use hub_domain::Secret;
use hub_engine::{Actor, AuthError};

use crate::error::{ApiError, Code};
use crate::request::{ClientIp, RequestId};
use crate::state::AppState;

/// The session cookie (shared with every adapter that signs people in).
pub(crate) use hub_engine::SESSION_COOKIE;
/// The header carrying a session's CSRF token.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// The form field carrying a session's CSRF token.
pub(crate) const CSRF_FIELD: &str = "csrf_token";
/// The admin API key header.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// The session token of a request authenticated by its cookie (for `/auth/me` and sign-out).
#[derive(Clone)]
pub(crate) struct SessionToken(pub(crate) Secret<String>);

/// The 429 of a blocked address or account.
pub(crate) fn blocked(left: std::time::Duration) -> ApiError {
    ApiError::rate_limited("Too many failed attempts from this address; try again later", left.as_secs().max(1))
}

fn storage(e: &AuthError) -> ApiError {
    ApiError::internal(e)
}

/// The request's id and client address, as an actor carries them.
fn context(req: &ServiceRequest) -> (Option<String>, Option<String>) {
    let ext = req.extensions();
    (ext.get::<RequestId>().map(|r| r.0.clone()), ext.get::<ClientIp>().and_then(|c| c.0).map(|i| i.to_string()))
}

/// The value of the session cookie, if sent.
pub(crate) fn session_cookie(req: &actix_web::HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// Authenticates an admin request: puts its [`Actor`] (and, for a session, its
/// [`SessionToken`]) in the request, or answers 401 (429 once the address is blocked). Wrong
/// keys count toward the address's auth-failure block; stale session cookies do not (they are
/// 256-bit random, nothing to guess).
pub(crate) async fn authenticate(state: &AppState, req: &mut ServiceRequest, key_ip: IpAddr) -> Result<(), ApiError> {
    let (request_id, ip) = context(req);
    let presented = req.headers().get(API_KEY_HEADER).map(HeaderValue::as_bytes).map(<[u8]>::to_vec);
    if let Some(key) = presented {
        let actor = if state.keys.verify(&key) {
            Some(Actor::break_glass(crate::auth::fingerprint(&key), request_id, ip))
        } else {
            match std::str::from_utf8(&key) {
                Ok(k) if k.starts_with(hub_engine::KEY_PREFIX) => {
                    match state.engine.people().authenticate_key(k, request_id, ip).await {
                        Ok(actor) => Some(actor),
                        Err(AuthError::Invalid) => None,
                        Err(e) => return Err(storage(&e)),
                    }
                }
                _ => None,
            }
        };
        let Some(actor) = actor else {
            if state.auth_failures.record_failure(key_ip, state.clock.now()).is_some() {
                tracing::warn!("API key failures reached the limit; address blocked");
            }
            crate::shared::failed(state, key_ip).await;
            return Err(ApiError::unauthorized("Invalid API key"));
        };
        // The shared count is forgiven where this instance saw failures (no round trip on
        // every request); elsewhere it lapses with its window.
        if state.auth_failures.record_success(key_ip) {
            crate::shared::succeeded(state, key_ip).await;
        }
        req.extensions_mut().insert(actor);
        return Ok(());
    }
    let Some(token) = session_cookie(req.request()) else {
        return Err(ApiError::unauthorized(
            "Missing API key: send it in the X-API-KEY header (or sign in at POST /auth/login)",
        ));
    };
    let actor = match state.engine.people().session(&token, request_id, ip).await {
        Ok(actor) => actor,
        Err(AuthError::Invalid) => return Err(ApiError::unauthorized("Your session has ended: sign in again")),
        Err(e) => return Err(storage(&e)),
    };
    if !is_safe(req.method()) {
        csrf(state, req, &actor, &token).await?;
    }
    req.extensions_mut().insert(actor);
    req.extensions_mut().insert(SessionToken(Secret::new(token)));
    Ok(())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the request comes from `origin`: its `Origin` header, or else its `Referer`.
/// ([`hub_engine::same_origin`], the rule every adapter that signs people in shares.)
pub(crate) fn same_origin(req: &actix_web::HttpRequest, origin: &str) -> Result<(), &'static str> {
    let h = req.headers();
    let referer = h.get(header::REFERER).and_then(|r| r.to_str().ok());
    hub_engine::same_origin(h.get(header::ORIGIN).map(HeaderValue::as_bytes), referer, origin)
}

/// The CSRF checks of an unsafe request made with a session cookie.
async fn csrf(state: &AppState, req: &mut ServiceRequest, actor: &Actor, token: &str) -> Result<(), ApiError> {
    let refuse = async |why: &'static str| {
        state.engine.people().csrf_refused(actor, why).await;
        tracing::warn!(why, "CSRF check failed");
        ApiError::forbidden(
            "CSRF check failed: send the request from the hub's own origin with the session's X-CSRF-Token header",
        )
    };
    if let Err(why) = same_origin(req.request(), &state.config.public_origin) {
        return Err(refuse(why).await);
    }
    let header = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let presented = match header {
        Some(h) => Some(h),
        None if is_form(req) => form_token(state, req).await?,
        None => None,
    };
    match presented {
        Some(p) if state.engine.people().csrf_ok(token, &p) => Ok(()),
        Some(_) => Err(refuse("token").await),
        None => Err(refuse("no_token").await),
    }
}

fn is_form(req: &ServiceRequest) -> bool {
    req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

/// The `csrf_token` field of a form body. The body is read (up to the body limit) and put
/// back for the handler.
async fn form_token(state: &AppState, req: &mut ServiceRequest) -> Result<Option<String>, ApiError> {
    let limit = state.config.body_limit_bytes;
    let mut payload = req.take_payload();
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid(format!("The request body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidRequest,
                "Request body is too large",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let token = url::form_urlencoded::parse(&body).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    req.set_payload(actix_web::dev::Payload::from(Bytes::from(body)));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn origin_table() {
        let origin = "https://hub.example.com";
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<(), &'a str>);
        let cases: &[Case<'_>] = &[
            (&[("origin", "https://hub.example.com")], Ok(())),
            (&[("origin", "https://evil.example.com")], Err("origin")),
            (&[("origin", "https://hub.example.com.evil.example")], Err("origin")),
            (&[("origin", "null")], Err("origin")),
            (&[("referer", "https://hub.example.com/dashboard?x=1")], Ok(())),
            (&[("referer", "https://hub.example.com.evil.example/")], Err("referer")),
            (&[("origin", "https://evil.example.com"), ("referer", "https://hub.example.com/")], Err("origin")),
            (&[], Err("no_origin")),
        ];
        for (headers, want) in cases {
            let mut r = TestRequest::post();
            for h in *headers {
                r = r.insert_header(*h);
            }
            assert_eq!(same_origin(&r.to_http_request(), origin), *want, "{headers:?}");
        }
    }
}
