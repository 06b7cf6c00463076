//! The public OAuth flow: connect (redirect to TikTok), the auth URL as JSON, and the
//! callback page. Without a valid admin-issued connect link the flow stops with 403 before
//! TikTok is contacted (unless the engine's `open_connect` is on).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use hub_engine::{CallbackParams, ConnectStart};
use paperclip::actix::web::{self};
use paperclip::actix::{Apiv2Schema, api_v2_operation};
use serde::Deserialize;

use crate::error::{ApiError, Code};
use crate::html;
use crate::json::connect::{AuthUrlJson, AuthUrlResponse};
use crate::params::store_code;
use crate::request::{client_ip, request_id};
use crate::routes::reply::{NoSchema, json_with, reply};
use crate::state::AppState;

/// The browser-binding cookie of the OAuth flow (sent back only to `/auth/...`).
pub(crate) const BINDING_COOKIE: &str = "hub_oauth_binding";

/// `?store_code=&invite=`.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct ConnectQuery {
    /// The store to connect.
    pub store_code: Option<String>,
    /// The connect link's single-use token (from `POST /admin/stores/{store_code}/connect-link`).
    pub invite: Option<String>,
}

/// What TikTok passes to the callback.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct CallbackQuery {
    /// Authorization code.
    pub code: Option<String>,
    /// The signed state of the flow.
    pub state: Option<String>,
    /// Granted scopes, comma-separated.
    pub scopes: Option<String>,
    /// Set when the user did not authorize.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// An error as the public error page: the hub's own message (a server error's cause was
/// logged where it happened) and the request id.
fn error_page(err: ApiError, request_id: Option<&str>) -> HttpResponse {
    let message = if err.status.is_server_error() && err.code == Code::InternalError && err.status == 500 {
        "Internal error; please try again later".to_owned()
    } else {
        err.message
    };
    html::failure(err.status, &message, request_id)
}

fn binding_cookie(state: &AppState, start: &ConnectStart) -> Cookie<'static> {
    Cookie::build(BINDING_COOKIE, start.browser_cookie.clone())
        .path("/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies)
        .max_age(actix_web::cookie::time::Duration::seconds(start.ttl.num_seconds()))
        .finish()
}

/// Validates the query and starts the flow.
async fn begin(state: &AppState, query: &ConnectQuery) -> Result<ConnectStart, ApiError> {
    let raw = query.store_code.as_deref().ok_or_else(|| ApiError::invalid("store_code is required"))?;
    let code = store_code(raw)?;
    Ok(state.engine.connect().begin_connect(&code, query.invite.as_deref()).await?)
}

reply!(
    /// 302 to TikTok, or an HTML error page.
    ConnectReply {
        302 => NoSchema: "Redirect to TikTok's consent page; sets the browser-binding cookie",
        400 => NoSchema: "HTML error page: store_code missing or invalid",
        403 => NoSchema: "HTML error page: no valid connect link (TikTok is not contacted)",
        404 => NoSchema: "HTML error page: store not found",
    }
);

/// Connect a TikTok account (redirect)
///
/// Opened by the store's staff from the connect link an admin issued. Redirects to TikTok's
/// consent page and sets a browser-binding cookie (HttpOnly, SameSite=Lax, Path=/auth).
#[api_v2_operation(tags(OAuth), produces = "text/html")]
async fn connect(req: HttpRequest, state: web::Data<AppState>, query: web::Query<ConnectQuery>) -> ConnectReply {
    match begin(&state, &query).await {
        Ok(start) => ConnectReply(
            HttpResponse::Found()
                .insert_header((header::LOCATION, start.authorize_url.clone()))
                .cookie(binding_cookie(&state, &start))
                .finish(),
        ),
        Err(err) => ConnectReply(error_page(err, request_id(&req).as_deref())),
    }
}

reply!(
    /// The consent URL, with the browser-binding cookie.
    AuthUrlReply {
        200 => AuthUrlResponse: "TikTok's consent URL; sets the browser-binding cookie",
    }
);

/// Get the TikTok OAuth URL
///
/// The same as `/connect/tiktok`, answered as JSON instead of a redirect (the cookie is set
/// the same way, so open the URL in the same browser).
#[api_v2_operation(tags(OAuth))]
async fn auth_url(state: web::Data<AppState>, query: web::Query<ConnectQuery>) -> Result<AuthUrlReply, ApiError> {
    let start = begin(&state, &query).await?;
    let mut res =
        json_with(StatusCode::OK, &AuthUrlResponse::new(AuthUrlJson { auth_url: start.authorize_url.clone() }));
    res.add_cookie(&binding_cookie(&state, &start)).map_err(|e| ApiError::internal(&e))?;
    Ok(AuthUrlReply(res))
}

reply!(
    /// The result page.
    CallbackReply {
        200 => NoSchema: "HTML success page",
        400 => NoSchema: "HTML error page: invalid state (forged, expired, replayed or another browser), missing code or scopes",
        403 => NoSchema: "HTML error page: authorization denied, or the connect link was used meanwhile",
    }
);

/// OAuth callback
///
/// Called by TikTok after the user decided. Shows a success or error page.
#[api_v2_operation(tags(OAuth), produces = "text/html")]
async fn callback(req: HttpRequest, state: web::Data<AppState>, query: web::Query<CallbackQuery>) -> CallbackReply {
    let q = query.into_inner();
    let params = CallbackParams {
        code: q.code,
        state: q.state,
        scopes: q.scopes,
        error: q.error,
        error_description: q.error_description,
    };
    let cookie = req.cookie(BINDING_COOKIE).map(|c| c.value().to_owned());
    match state.engine.connect().complete_connect(&params, cookie.as_deref(), client_ip(&req), request_id(&req)).await {
        Ok(done) => {
            let mut res = html::success(done.store_code.as_str());
            let mut gone = Cookie::build(BINDING_COOKIE, "").path("/auth").http_only(true).finish();
            gone.make_removal();
            let _ = res.add_cookie(&gone);
            CallbackReply(res)
        }
        Err(e) => CallbackReply(error_page(ApiError::from(e), request_id(&req).as_deref())),
    }
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/connect/tiktok").route(web::get().to(connect)))
        .service(web::resource("/auth/url").route(web::get().to(auth_url)))
        .service(web::resource("/auth/tiktok/callback").route(web::get().to(callback)));
}
