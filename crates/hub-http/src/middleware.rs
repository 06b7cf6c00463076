//! The two middlewares:
//! - [`request_context`] (outermost): request id (accepted or generated, echoed, in a tracing
//!   span around the whole request and in every error body), client address (and a warning
//!   for an `X-Forwarded-For` from a peer that is not a trusted proxy), CORS, security headers
//!   (a Content-Security-Policy on every HTML answer, HSTS behind https), one access-log line,
//!   and the envelope for any error response the adapter did not render itself (unknown
//!   method, framework errors).
//! - [`guard`]: per-IP rate limits for admin and OAuth routes, the auth-failure block and the
//!   API-key check for admin routes, and `API_DOCS` for the documentation routes.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, ResponseError, web};
use tracing::Instrument;

use crate::allow::AllowTable;
use crate::error::{ApiError, Code, REQUEST_ID, Rendered};
use crate::limits::Noted;
use crate::request::{ClientIp, REQUEST_ID_HEADER, RequestId};
use crate::state::{ApiDocs, AppState};

/// The Content-Security-Policy of every HTML answer (the OAuth pages and the docs page): our
/// own scripts, styles and fonts only, no inline script or style, no plugins, no framing, no
/// `<base>`, forms only back to us. `img-src data:` is for Swagger UI's stylesheet, whose icons
/// are `data:image/svg+xml` URLs; Swagger UI 5 sets element styles through the DOM (not
/// `style` attributes in markup), which `style-src 'self'` does not block, so no
/// `'unsafe-inline'`.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// `Strict-Transport-Security` when the hub is reached over https (`PUBLIC_BASE_URL`).
pub(crate) const HSTS: &str = "max-age=31536000; includeSubDomains";

/// An incoming id is kept when it is 1–64 characters of `[A-Za-z0-9._-]`.
fn sane_request_id(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= 64
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn new_request_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

fn state(req: &ServiceRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}

/// Which limits a path falls under. Matched on the path the router sees (percent-decoded
/// where decoding is safe), so `/%61dmin` is an admin path too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RouteClass {
    /// Needs credentials: `/admin/*`, `/metrics`, `/auth/me`, `/auth/logout`.
    Admin,
    OAuth,
    /// `/health`, `/health/live`, `/health/ready`: no key, a per-address limit.
    Health,
    /// `POST /auth/login`: its own rate limit and the auth-failure block.
    Login,
    /// Swagger UI and the OpenAPI document (`API_DOCS`).
    Docs,
    /// Another adapter's routes ([`crate::Mount`]): its answers are its own.
    Mounted,
    Other,
}

fn classify(path: &str, mount: Option<&str>) -> RouteClass {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if mount.is_some_and(under) {
        return RouteClass::Mounted;
    }
    // `/metrics` on the main port takes the admin key (METRICS_ADDR serves it without one).
    if under("/admin") || path == "/metrics" || path == "/auth/me" || path == "/auth/logout" {
        RouteClass::Admin
    } else if path == "/auth/login" {
        RouteClass::Login
    } else if under("/connect") || under("/auth") {
        RouteClass::OAuth
    } else if under("/health") {
        RouteClass::Health
    } else if crate::routes::docs::is_docs_path(path) {
        RouteClass::Docs
    } else {
        RouteClass::Other
    }
}

/// The CORS headers for `origin`, when it is allowed.
fn cors_origin(state: &AppState, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    let allowed = &state.config.cors_origins;
    if allowed.iter().any(|o| o == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    let o = origin.to_str().ok()?;
    allowed.iter().any(|a| a.trim_end_matches('/') == o).then(|| origin.clone())
}

fn is_preflight(req: &ServiceRequest) -> bool {
    req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The envelope for an error response the adapter did not render (empty 405s, framework
/// errors). The status is kept.
fn envelope_for(res: &ServiceResponse<BoxBody>) -> ApiError {
    let status = res.status();
    let (method, path) = (res.request().method().clone(), res.request().path().to_owned());
    match status {
        StatusCode::NOT_FOUND => ApiError::not_found(format!("No route for {method} {path}")),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::new(status, Code::InvalidRequest, format!("Method {method} is not allowed on {path}"))
        }
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, Code::InvalidRequest, "Request body is too large"),
        StatusCode::UNAUTHORIZED => ApiError::unauthorized("Unauthorized"),
        StatusCode::FORBIDDEN => ApiError::forbidden("Forbidden"),
        s if s.is_server_error() => {
            let cause = res.response().error().map_or_else(|| s.to_string(), ToString::to_string);
            ApiError::internal(&cause)
        }
        s => ApiError::new(s, Code::InvalidRequest, "Malformed request"),
    }
}

/// The `Allow` value of a 405 (RFC 9110: required): the methods of the matched route, from
/// the table built with the OpenAPI document. A route missing from the table (a test
/// checks there is none) gets an empty value, "no method", and a warning in the log.
fn allow_header(res: &ServiceResponse<BoxBody>) -> HeaderValue {
    let req = res.request();
    let pattern = req.match_pattern();
    let allow = req
        .app_data::<web::Data<AllowTable>>()
        .zip(pattern.as_deref())
        .and_then(|(table, pattern)| table.allow(pattern));
    match allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
        Some(v) => v,
        None => {
            tracing::warn!(pattern = ?pattern, "405 on a route missing from the Allow table");
            HeaderValue::from_static("")
        }
    }
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    headers.insert(name, value);
}

/// The outermost middleware.
pub(crate) async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map_or_else(new_request_id, str::to_owned);
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
    if !forwarded.is_empty()
        && let Some(peer) = peer
        && !crate::limits::is_trusted_proxy(peer, &state.config.trusted_proxies)
    {
        untrusted_forwarded(&state, peer);
    }
    let ip = crate::limits::client_ip(peer, forwarded.into_iter(), &state.config.trusted_proxies);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    req.extensions_mut().insert(ClientIp(ip));
    // A mounted adapter reads who calls from the engine's type (it does not know ours).
    let context = hub_engine::ClientContext { request_id: Some(request_id.clone()), ip: ip.map(|i| i.to_string()) };
    req.extensions_mut().insert(context);

    // The query string is never logged: it may carry a connect-link invite.
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
        client_ip = %ip.map_or_else(|| "-".to_owned(), |i| i.to_string()),
    );
    let allow_origin = cors_origin(&state, req.headers());
    let class = classify(req.match_info().as_str(), state.mount.as_ref().map(|m| m.prefix));
    let mounted = class == RouteClass::Mounted;
    let html_page = class == RouteClass::OAuth;
    // Answers that need the admin key are never cached.
    let admin = class == RouteClass::Admin
        || class == RouteClass::Login
        || (class == RouteClass::Docs && state.config.api_docs == ApiDocs::AdminKey);
    let hsts = state.config.hsts;
    let started = Instant::now();
    let preflight = is_preflight(&req);
    let scoped_id = request_id.clone();

    let work = async move {
        let mut res = if preflight && allow_origin.is_some() {
            let mut res = HttpResponse::NoContent().finish();
            let h = res.headers_mut();
            set(h, header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, PATCH, DELETE, OPTIONS"));
            set(
                h,
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("X-API-KEY, X-CSRF-Token, Content-Type, X-Request-Id"),
            );
            set(h, header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            req.into_response(res)
        } else {
            // The inner middleware and handlers answer errors as responses; an `Err` here is
            // the framework's own and is rendered by it.
            next.call(req).await?.map_into_boxed_body()
        };
        // Taken out first: the extensions' borrow must end before the await.
        let attempt =
            if mounted { res.response().extensions().get::<hub_engine::SignInAttempt>().cloned() } else { None };
        if let Some(attempt) = attempt {
            let key = ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            crate::routes::auth::count_attempt(&state, key, &attempt.email, attempt.succeeded).await;
        }
        if !mounted && res.status().as_u16() >= 400 && res.response().extensions().get::<Rendered>().is_none() {
            let err = envelope_for(&res);
            res = res.into_response(err.error_response());
        }
        if !mounted && res.status() == StatusCode::METHOD_NOT_ALLOWED && !res.headers().contains_key(header::ALLOW) {
            let allow = allow_header(&res);
            res.headers_mut().insert(header::ALLOW, allow);
        }
        let status = res.status();
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            set(h, HeaderName::from_static(REQUEST_ID_HEADER), v);
        }
        set(h, header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        set(h, header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if html_page || admin {
            // Admin data and OAuth pages are never cached by browsers or proxies.
            set(h, header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        if html_page {
            set(h, header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        }
        let is_html =
            h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
        if is_html && !(mounted && h.contains_key(header::CONTENT_SECURITY_POLICY)) {
            set(h, header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
        }
        if hsts {
            set(h, header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        }
        if let Some(origin) = allow_origin {
            set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            set(h, header::VARY, HeaderValue::from_static("Origin"));
            set(h, header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("X-Request-Id, Retry-After"));
        }
        tracing::info!(status = status.as_u16(), duration_ms = started.elapsed().as_millis() as u64, "request");
        Ok(res)
    };
    REQUEST_ID.scope(scoped_id, work.instrument(span)).await
}

/// Counts every request by method, matched route pattern and status (`/metrics`).
pub(crate) async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let timer = state.metrics.begin(req.method());
    let result = next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    match &result {
        Ok(res) => timer.finish(res.request().match_pattern(), res.status().as_u16()),
        // The framework renders it (as a 500 unless the error says otherwise).
        Err(e) => timer.finish(None, e.as_response_error().status_code().as_u16()),
    }
    result
}

/// An `X-Forwarded-For` from `peer`, which is not a trusted proxy: ignored (the peer is the
/// client), counted, and logged once per peer — usually a reverse proxy missing from
/// `TRUSTED_PROXIES`, so every client shares its limits.
fn untrusted_forwarded(state: &AppState, peer: IpAddr) {
    state.metrics.count_untrusted_forwarded();
    match state.untrusted_forwarders.note(peer) {
        Noted::First => tracing::warn!(
            peer = %peer,
            "X-Forwarded-For from a peer not in TRUSTED_PROXIES is ignored: if this peer is your reverse proxy, add it (or its network) to TRUSTED_PROXIES, or every client behind it shares one rate limit"
        ),
        Noted::NowFull => tracing::warn!(
            peers = crate::limits::UNTRUSTED_FORWARDERS_MAX,
            "X-Forwarded-For from many untrusted peers; no further warnings (see tiktok_hub_http_untrusted_forwarded_total)"
        ),
        Noted::Again | Noted::Untracked => {}
    }
}

/// Rate limits, the auth-failure block and authentication (the engine decides what the
/// caller may do).
pub(crate) async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = state(&req) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    match check(&state, &mut req).await {
        Ok(()) => next.call(req).await.map(ServiceResponse::map_into_boxed_body),
        // Answered here (not as `Err`) so the response is built inside the request's scope.
        Err(e) => Ok(req.into_response(e.error_response())),
    }
}

/// The checks of [`guard`].
async fn check(state: &AppState, req: &mut ServiceRequest) -> Result<(), ApiError> {
    let ip = req.extensions().get::<ClientIp>().and_then(|c| c.0);
    let key_ip = ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    // A mounted adapter's sign-in page has the limits of `POST /auth/login`; the page says
    // so itself (in its own form) when told the address is blocked.
    if let Some(m) = &state.mount
        && req.method() == Method::POST
        && req.match_info().as_str() == format!("{}/login", m.prefix)
    {
        let blocked = state.auth_failures.blocked(key_ip, state.clock.now()).map(|left| left.as_secs().max(1));
        let limited = || state.login_limiter.as_ref().and_then(|l| l.check(key_ip).err());
        if let Some(secs) = blocked.or_else(limited) {
            req.extensions_mut().insert(hub_engine::SignInBlocked { retry_after_secs: secs });
        }
        return Ok(());
    }
    match classify(req.match_info().as_str(), state.mount.as_ref().map(|m| m.prefix)) {
        RouteClass::Docs => match state.config.api_docs {
            ApiDocs::Public => {}
            ApiDocs::AdminKey => admin(state, req, key_ip).await?,
            ApiDocs::Off => {
                return Err(ApiError::not_found(format!("No route for {} {}", req.method(), req.path())));
            }
        },
        RouteClass::Admin => admin(state, req, key_ip).await?,
        RouteClass::Health => {
            if let Some(limiter) = &state.health_limiter {
                limiter.check(key_ip).map_err(|wait| ApiError::rate_limited("Too many requests", wait))?;
            }
        }
        RouteClass::OAuth => {
            if let Some(limiter) = &state.oauth_limiter {
                limiter.check(key_ip).map_err(|wait| ApiError::rate_limited("Too many requests", wait))?;
            }
        }
        RouteClass::Login => {
            refuse_blocked(state, key_ip).await?;
            if let Some(limiter) = &state.login_limiter {
                limiter.check(key_ip).map_err(|wait| ApiError::rate_limited("Too many requests", wait))?;
            }
        }
        RouteClass::Mounted | RouteClass::Other => {}
    }
    Ok(())
}

/// The auth-failure block of `ip`: this instance's first (no round trip), then every instance's.
async fn refuse_blocked(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    let left = match state.auth_failures.blocked(ip, state.clock.now()) {
        Some(left) => Some(left),
        None => crate::shared::blocked(state, ip).await,
    };
    left.map_or(Ok(()), |left| Err(crate::authn::blocked(left)))
}

/// The admin routes' checks: the auth-failure block, the admin rate limit, authentication.
async fn admin(state: &AppState, req: &mut ServiceRequest, key_ip: IpAddr) -> Result<(), ApiError> {
    refuse_blocked(state, key_ip).await?;
    if let Some(limiter) = &state.admin_limiter {
        limiter.check(key_ip).map_err(|wait| ApiError::rate_limited("Too many requests", wait))?;
    }
    crate::shared::admin_rate(state, key_ip).await?;
    crate::authn::authenticate(state, req, key_ip).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_rules() {
        for ok in ["abc", "A-b_c.9", &"x".repeat(64)] {
            assert!(sane_request_id(ok), "{ok}");
        }
        for bad in ["", &"x".repeat(65), "a b", "a\nb", "ä", "a/b", "<script>"] {
            assert!(!sane_request_id(bad), "{bad:?}");
        }
        assert_eq!(new_request_id().len(), 16);
    }

    #[test]
    fn route_classes() {
        assert_eq!(classify("/admin", None), RouteClass::Admin);
        assert_eq!(classify("/admin/stores", None), RouteClass::Admin);
        assert_eq!(classify("/administrator", None), RouteClass::Other);
        assert_eq!(classify("/connect/tiktok", None), RouteClass::OAuth);
        assert_eq!(classify("/auth/url", None), RouteClass::OAuth);
        assert_eq!(classify("/auth/tiktok/callback", None), RouteClass::OAuth);
        assert_eq!(classify("/health", None), RouteClass::Health);
        assert_eq!(classify("/health/ready", None), RouteClass::Health);
        assert_eq!(classify("/healthz", None), RouteClass::Other);
        assert_eq!(classify("/auth/login", None), RouteClass::Login);
        assert_eq!(classify("/auth/me", None), RouteClass::Admin);
        assert_eq!(classify("/auth/logout", None), RouteClass::Admin);
        assert_eq!(classify("/api/docs", None), RouteClass::Docs);
        assert_eq!(classify("/api/docs/swagger-ui.css", None), RouteClass::Docs);
        assert_eq!(classify("/api/openapi.json", None), RouteClass::Docs);
        assert_eq!(classify("/docs", None), RouteClass::Docs);
        assert_eq!(classify("/api/docsx", None), RouteClass::Other);
        assert_eq!(classify("/dashboard", Some("/dashboard")), RouteClass::Mounted);
        assert_eq!(classify("/dashboard/stores", Some("/dashboard")), RouteClass::Mounted);
        assert_eq!(classify("/dashboardx", Some("/dashboard")), RouteClass::Other);
        assert_eq!(classify("/dashboard/stores", None), RouteClass::Other);
    }
}
