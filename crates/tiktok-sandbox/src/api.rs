//! What every TikTok API route of the sandbox shares: the v2 envelope, log ids, the
//! configured latency, faults and rate limits, the bearer token and its scopes.
// Handlers return a ready HttpResponse as their error value on purpose.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};

use crate::config::{LatencyMs, RateLimitKey};
use crate::state::{Authed, Endpoint, Outcome, S_ALL, State, parse_scopes, scope_name};

pub(crate) type Data = web::Data<State>;

pub(crate) const LOGID_HEADER: &str = "x-tt-logid";

/// TikTok-style log id: UTC timestamp + 16 hex digits.
pub(crate) fn new_log_id() -> String {
    format!("{}{:016X}", Utc::now().format("%Y%m%d%H%M%S"), rand::rng().random::<u64>())
}

// ---------------------------------------------------------------- v2 envelope

pub(crate) fn envelope(status: StatusCode, log_id: &str, code: &str, message: &str, data: Value) -> HttpResponse {
    let body = json!({
        "data": data,
        "error": {"code": code, "message": message, "log_id": log_id},
    });
    HttpResponse::build(status).insert_header((LOGID_HEADER, log_id)).json(body)
}

pub(crate) fn api_error(
    st: &State,
    ep: Endpoint,
    log_id: &str,
    status: u16,
    code: &str,
    message: &str,
) -> HttpResponse {
    let outcome = if status == 429 { Outcome::RateLimited } else { Outcome::Error };
    st.stats.record(ep, outcome);
    envelope(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), log_id, code, message, json!({}))
}

pub(crate) fn api_ok(st: &State, ep: Endpoint, log_id: &str, data: Value) -> HttpResponse {
    st.stats.record(ep, Outcome::Ok);
    envelope(StatusCode::OK, log_id, "ok", "", data)
}

/// The knobs a data request needs, copied out of the lock.
pub(crate) struct ApiKnobs {
    latency: Option<LatencyMs>,
    time_scale: f64,
    limit: u64,
    key: RateLimitKey,
    window: Duration,
    f_internal: f64,
    f_hang: f64,
    hang: Duration,
    f_token: f64,
    app_scopes: u8,
}

impl ApiKnobs {
    fn read(st: &State) -> ApiKnobs {
        let k = st.knobs();
        let limit = if k.rate_limit_per_min == 0 {
            0
        } else {
            ((f64::from(k.rate_limit_per_min) * k.time_scale).round() as u64).max(1)
        };
        ApiKnobs {
            latency: k.latency_ms,
            time_scale: k.time_scale,
            limit,
            key: k.rate_limit_key,
            window: Duration::from_millis(k.rate_window_ms),
            f_internal: k.fault_internal_error,
            f_hang: k.fault_hang,
            hang: Duration::from_secs(k.hang_secs),
            f_token: k.fault_token_invalid,
            app_scopes: parse_scopes(k.app_scopes.iter().map(|s| s.as_str())).unwrap_or(S_ALL),
        }
    }
}

pub(crate) async fn sleep_latency(latency: Option<LatencyMs>, time_scale: f64) {
    if let Some(l) = latency {
        let ms = if l.max > l.min { rand::rng().random_range(l.min..=l.max) } else { l.min };
        let d = Duration::from_secs_f64(ms as f64 / 1000.0 / time_scale);
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }
}

pub(crate) fn bearer(req: &HttpRequest) -> &str {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .unwrap_or("")
}

pub(crate) fn roll(p: f64) -> bool {
    p > 0.0 && rand::rng().random::<f64>() < p
}

/// Common start of the data endpoints: stats, latency, rate window, faults, token.
pub(crate) async fn api_prelude(
    st: &State,
    ep: Endpoint,
    req: &HttpRequest,
    log_id: &str,
) -> Result<(Authed, u8), HttpResponse> {
    let k = ApiKnobs::read(st);
    st.stats.record_call(ep, k.window);
    sleep_latency(k.latency, k.time_scale).await;
    let token = bearer(req);
    let limiter = &st.limiters[ep as usize - Endpoint::UserInfo as usize];
    if !limiter.admit(st.rate_key(k.key, token), k.limit, k.window) {
        return Err(api_error(
            st,
            ep,
            log_id,
            429,
            "rate_limit_exceeded",
            "API rate limit was exceeded, please try again later.",
        ));
    }
    if roll(k.f_hang) {
        tracing::debug!(?ep, "fault: hanging request");
        tokio::time::sleep(k.hang).await;
    }
    if roll(k.f_internal) {
        return Err(api_error(st, ep, log_id, 500, "internal_error", "Internal error (sandbox fault injection)."));
    }
    if roll(k.f_token) {
        return Err(api_error(
            st,
            ep,
            log_id,
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        ));
    }
    let authed = st.oauth_read().validate_access(token, st.now_ms());
    match authed {
        Some(a) => Ok((a, k.app_scopes)),
        None => Err(api_error(
            st,
            ep,
            log_id,
            401,
            "access_token_invalid",
            "The access token is invalid or not found in the request.",
        )),
    }
}

/// The requested `fields`, as indexes into `table`; `Err(message)` when missing or unknown.
pub(crate) fn parse_fields(req: &HttpRequest, table: &[(&str, u8)]) -> Result<Vec<usize>, String> {
    let raw = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    for f in raw.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match table.iter().position(|(n, _)| *n == f) {
            Some(i) => {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            None => return Err(format!("Invalid field: {f}")),
        }
    }
    if out.is_empty() {
        return Err("The fields parameter is required.".into());
    }
    Ok(out)
}

/// Scope checks of a request needing `needed`.
pub(crate) fn check_scopes(
    st: &State,
    ep: Endpoint,
    log_id: &str,
    needed: u8,
    app: u8,
    token: u8,
) -> Result<(), HttpResponse> {
    let missing_app = needed & !app;
    if missing_app != 0 {
        let s = scope_name(missing_app & missing_app.wrapping_neg());
        return Err(api_error(
            st,
            ep,
            log_id,
            400,
            "scope_permission_missed",
            &format!("The app has not been approved for the scope {s}."),
        ));
    }
    let missing = needed & !token;
    if missing != 0 {
        let s = scope_name(missing & missing.wrapping_neg());
        return Err(api_error(
            st,
            ep,
            log_id,
            401,
            "scope_not_authorized",
            &format!("The user did not authorize the scope required for completing this request: {s}."),
        ));
    }
    Ok(())
}
