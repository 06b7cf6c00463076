//! Signing in and out: `POST /auth/login` (JSON or a form), `POST /auth/logout`, `GET /auth/me`.
//!
//! A sign-in sets the opaque session cookie (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure`
//! behind https). Failed sign-ins count toward the auth-failure block of the address and of
//! the account (the email as typed, so an unknown address is blocked like a known one); every
//! failure gets the same answer.

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures::StreamExt;
use hub_engine::AuthError;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use ring::digest::{SHA256, digest};

use crate::authn::{SessionToken, blocked, same_origin};
use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, parse_body};
use crate::json::people::{LoginJson, LoginResponse, MeJson, MeResponse};
use crate::request::{client_ip, request_id};
use crate::routes::reply::reply;
use crate::state::AppState;

/// `POST /auth/login` body, as JSON or `application/x-www-form-urlencoded` (documented by
/// `crate::openapi`). No `Debug`: it holds a password.
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

impl FromBody for LoginBody {
    const FIELDS: &'static [&'static str] = &["email", "password"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let text = |name: &str| f.string(name).map(|s| s.unwrap_or_default().to_owned());
        Ok(Self { email: text("email")?, password: text("password")? })
    }
}

/// The answer of every refused sign-in, whatever the reason.
fn invalid() -> ApiError {
    ApiError::unauthorized("Invalid email or password")
}

/// The body of a sign-in: JSON, or a form (other fields, such as `csrf_token`, ignored).
fn login_body(req: &HttpRequest, body: &[u8]) -> Result<LoginBody, ApiError> {
    let kind = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let kind = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match kind.as_str() {
        "application/x-www-form-urlencoded" => {
            let field = |name: &str| {
                url::form_urlencoded::parse(body)
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok(LoginBody { email: field("email"), password: field("password") })
        }
        "application/json" => {
            let value = serde_json::from_slice(body)
                .map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))?;
            parse_body(value)
        }
        _ => Err(ApiError::invalid(
            "The request body must be JSON or a form (Content-Type: application/json or application/x-www-form-urlencoded)",
        )),
    }
}

/// The `Set-Cookie` header of the session cookie (`None`: the one that removes it), as every
/// adapter that signs people in sets it ([`hub_engine::session_cookie`]).
fn session_cookie(state: &AppState, value: Option<(&str, i64)>) -> (header::HeaderName, String) {
    (header::SET_COOKIE, hub_engine::session_cookie(value, state.config.secure_cookies))
}

/// The account's key in the auth-failure block: the email as typed, trimmed and lowercased,
/// hashed (an unknown address is blocked like a known one).
fn account_key(email: &str) -> [u8; 32] {
    let mut account = [0u8; 32];
    account.copy_from_slice(digest(&SHA256, email.trim().to_lowercase().as_bytes()).as_ref());
    account
}

/// Counts a sign-in toward the auth-failure block of the address and of the account (ours,
/// and a mounted adapter's reported as a [`hub_engine::SignInAttempt`]).
pub(crate) async fn count_attempt(state: &AppState, ip: std::net::IpAddr, email: &str, succeeded: bool) {
    let account = account_key(email);
    if succeeded {
        // The shared count is forgiven only where this instance saw failures itself.
        if state.auth_failures.record_success(ip) {
            crate::shared::succeeded(state, ip).await;
        }
        state.account_failures.record_success(account);
        return;
    }
    let now = state.clock.now();
    let by_ip = state.auth_failures.record_failure(ip, now);
    let by_account = state.account_failures.record_failure(account, now);
    crate::shared::failed(state, ip).await;
    if by_ip.is_some() || by_account.is_some() {
        tracing::warn!("sign-in failures reached the limit; address or account blocked");
    }
}

reply!(
    /// A sign-in: the user and the session's CSRF token; the session in a cookie.
    LoginReply { 200 => LoginResponse: "Signed in: the session is in the hub_session cookie" }
);

/// Sign in
///
/// With an email and a password, as JSON or a form. Sets the session cookie `hub_session`
/// (HttpOnly, SameSite=Lax, Secure behind https), valid until unused for the idle lifetime (8 h)
/// or the absolute one (7 days) has passed. Send the returned `csrfToken` in `X-CSRF-Token`
/// with every POST, PATCH or DELETE made with the cookie. A wrong password and an unknown
/// email get the same 401; failures count toward the auth-failure block of the address and
/// of the account (429 once blocked). Audited (`auth.login`).
#[api_v2_operation(tags(Auth))]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Payload) -> Result<LoginReply, ApiError> {
    // Login CSRF: a browser on another site cannot sign this one in to the hub.
    if (req.headers().contains_key(header::ORIGIN) || req.headers().contains_key(header::REFERER))
        && same_origin(&req, &state.config.public_origin).is_err()
    {
        return Err(ApiError::forbidden("Sign in from the hub's own pages"));
    }
    let mut raw = Vec::new();
    let mut body = body;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid(format!("The request body could not be read: {e}")))?;
        if raw.len() + chunk.len() > state.config.body_limit_bytes {
            return Err(ApiError::invalid("Request body is too large"));
        }
        raw.extend_from_slice(&chunk);
    }
    let form = login_body(&req, &raw)?;
    let now = state.clock.now();
    let ip_key = req.extensions().get::<crate::request::ClientIp>().and_then(|c| c.0);
    let ip_key = ip_key.unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if let Some(left) = state.account_failures.blocked(account_key(&form.email), now) {
        return Err(blocked(left));
    }
    let people = state.engine.people();
    match people.login(&form.email, &form.password, request_id(&req), client_ip(&req)).await {
        Ok(done) => {
            count_attempt(&state, ip_key, &form.email, true).await;
            let max_age = i64::try_from(state.engine.config().people.session_absolute.as_secs()).unwrap_or(i64::MAX);
            let cookie = session_cookie(&state, Some((done.session_token.expose(), max_age)));
            let data = LoginJson { user: done.user.into(), csrf_token: done.csrf_token, expires_at: done.expires_at };
            Ok(LoginReply(HttpResponse::Ok().insert_header(cookie).json(LoginResponse::new(data))))
        }
        Err(AuthError::Invalid) => {
            count_attempt(&state, ip_key, &form.email, false).await;
            Err(invalid())
        }
        Err(e) => Err(ApiError::internal(&e)),
    }
}

/// `{"success":true,"message":…}`
#[derive(Debug, serde::Serialize, Apiv2Schema)]
pub struct LogoutResponse {
    /// Always `true`.
    pub success: bool,
    pub message: String,
}

reply!(
    /// Signed out; the cookie removed.
    LogoutReply { 200 => LogoutResponse: "Signed out: the session ended and its cookie is removed" }
);

/// Sign out
///
/// Ends the session of the cookie at once (and removes the cookie). Needs the session's CSRF
/// token like every unsafe request made with the cookie. A request with an API key has no
/// session to end (400). Audited (`auth.logout`).
#[api_v2_operation(tags(Auth))]
async fn logout(key: AdminKey, req: HttpRequest, state: web::Data<AppState>) -> Result<LogoutReply, ApiError> {
    let token = req.extensions().get::<SessionToken>().cloned();
    let Some(SessionToken(token)) = token else {
        return Err(ApiError::invalid("No session to end: sign-out ends the session of the hub_session cookie"));
    };
    state.engine.people().logout(&key.0, token.expose()).await?;
    let body = LogoutResponse { success: true, message: "Signed out".into() };
    Ok(LogoutReply(HttpResponse::Ok().insert_header(session_cookie(&state, None)).json(body)))
}

/// Who am I
///
/// The caller's kind (session, personal key or break-glass key), role, store groups, the
/// person behind it, and — for a session — its CSRF token.
#[api_v2_operation(tags(Auth))]
async fn me(key: AdminKey, req: HttpRequest, state: web::Data<AppState>) -> Result<Json<MeResponse>, ApiError> {
    let people = state.engine.people();
    let csrf = req.extensions().get::<SessionToken>().map(|t| people.csrf_token(t.0.expose()));
    let user = people.me(&key.0).await?;
    Ok(Json(MeResponse::new(MeJson::new(&key.0, user, csrf))))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/auth/login").route(web::post().to(login)))
        .service(web::resource("/auth/logout").route(web::post().to(logout)))
        .service(web::resource("/auth/me").route(web::get().to(me)));
}
