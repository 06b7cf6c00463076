//! TikTok's OAuth routes: the consent page (and its decision), token and revoke.
// Handlers return a ready HttpResponse as their error value on purpose.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::api::{Data, LOGID_HEADER, new_log_id, roll, sleep_latency};
use crate::config::KNOWN_SCOPES;
use crate::html;
use crate::state::{Endpoint, OAuthError, Outcome, S_ALL, S_BASIC, State, oauth_err, parse_scopes, scaled_secs};

// ---------------------------------------------------------------- OAuth errors

fn oauth_error_response(st: &State, ep: Endpoint, e: &OAuthError, status: StatusCode) -> HttpResponse {
    st.stats.record(ep, Outcome::Error);
    let log_id = new_log_id();
    tracing::debug!(error = e.error, description = %e.description, "oauth error");
    HttpResponse::build(status)
        .insert_header((LOGID_HEADER, log_id.as_str()))
        .json(json!({"error": e.error, "error_description": e.description, "log_id": log_id}))
}

fn configured_error_status(st: &State) -> StatusCode {
    if st.knobs().oauth_error_status == 400 { StatusCode::BAD_REQUEST } else { StatusCode::OK }
}

fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let ct = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return Err(oauth_err("invalid_request", "Content-Type must be application/x-www-form-urlencoded."));
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

fn required<'a>(form: &'a HashMap<String, String>, name: &str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| oauth_err("invalid_request", format!("Missing required parameter: {name}.")))
}

fn check_client(st: &State, form: &HashMap<String, String>) -> Result<(), OAuthError> {
    let key = required(form, "client_key")?;
    let secret = required(form, "client_secret")?;
    if key != st.client_key {
        return Err(oauth_err("invalid_client", "Client key is invalid."));
    }
    if secret != st.client_secret {
        return Err(oauth_err("invalid_client", "Client secret is invalid."));
    }
    Ok(())
}

// ---------------------------------------------------------------- token

pub(crate) async fn token(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Token;
    let knobs = st.knobs().clone();
    st.stats.record_call(ep, Duration::from_millis(knobs.rate_window_ms));
    sleep_latency(knobs.latency_ms, knobs.time_scale).await;
    if roll(knobs.fault_token_server_error) {
        let e = oauth_err("server_error", "Internal error (sandbox fault injection).");
        return oauth_error_response(&st, ep, &e, StatusCode::INTERNAL_SERVER_ERROR);
    }
    let result = (|| {
        let form = parse_form(&req, &body)?;
        check_client(&st, &form)?;
        let now_ms = st.now_ms();
        match required(&form, "grant_type")? {
            "authorization_code" => {
                let code = required(&form, "code")?;
                let redirect_uri = required(&form, "redirect_uri")?;
                let verifier = form.get("code_verifier").map(|s| s.as_str());
                st.oauth_write().redeem_code(&st.data, code, redirect_uri, verifier, now_ms, &knobs)
            }
            "refresh_token" => {
                let rt = required(&form, "refresh_token")?;
                st.oauth_write().refresh(&st.data, rt, now_ms, &knobs)
            }
            other => Err(oauth_err("unsupported_grant_type", format!("Unsupported grant_type: {other}."))),
        }
    })();
    match result {
        Ok(t) => {
            st.stats.record(ep, Outcome::Ok);
            HttpResponse::Ok().insert_header((LOGID_HEADER, new_log_id())).json(t)
        }
        Err(e) => oauth_error_response(&st, ep, &e, configured_error_status(&st)),
    }
}

// ---------------------------------------------------------------- revoke

pub(crate) async fn revoke(st: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Revoke;
    let (window, latency, ts) = {
        let k = st.knobs();
        (k.rate_window_ms, k.latency_ms, k.time_scale)
    };
    st.stats.record_call(ep, Duration::from_millis(window));
    sleep_latency(latency, ts).await;
    let result = (|| {
        let form = parse_form(&req, &body)?;
        check_client(&st, &form)?;
        let token = required(&form, "token")?;
        // RFC 7009: an unknown token is not an error.
        let revoked = st.oauth_write().revoke_token(token);
        tracing::debug!(revoked, "revoke");
        Ok::<_, OAuthError>(())
    })();
    match result {
        Ok(()) => {
            st.stats.record(ep, Outcome::Ok);
            HttpResponse::Ok().insert_header((LOGID_HEADER, new_log_id())).json(json!({}))
        }
        Err(e) => oauth_error_response(&st, ep, &e, configured_error_status(&st)),
    }
}

// ---------------------------------------------------------------- authorize

enum AuthFail {
    /// 400 HTML page: never redirect to an unregistered URI.
    Page(String),
    /// Redirect to the registered URI with `error` and `error_description`.
    Redirect(&'static str, String),
}

struct AuthRequest {
    scopes: u8,
    state: Option<String>,
    challenge: Option<String>,
    account_override: Option<usize>,
}

fn validate_auth(st: &State, p: &HashMap<String, String>) -> Result<AuthRequest, AuthFail> {
    let get = |k: &str| p.get(k).map(|s| s.as_str());
    match get("client_key") {
        Some(k) if k == st.client_key => {}
        Some(_) => {
            return Err(AuthFail::Page("client_key is invalid: this app is not registered.".into()));
        }
        None => return Err(AuthFail::Page("client_key is missing.".into())),
    }
    match get("redirect_uri") {
        Some(r) if r == st.redirect_uri => {}
        Some(r) => {
            return Err(AuthFail::Page(format!("redirect_uri {r:?} does not match the registered redirect URI.")));
        }
        None => return Err(AuthFail::Page("redirect_uri is missing.".into())),
    }
    let account_override = match get("sandbox_account") {
        None | Some("") => None,
        Some(s) => match s.parse::<usize>() {
            Ok(i) if i < st.data.accounts.len() => Some(i),
            _ => {
                return Err(AuthFail::Page(format!(
                    "sandbox_account {s:?} is not an account index (0..{}).",
                    st.data.accounts.len()
                )));
            }
        },
    };
    if get("response_type") != Some("code") {
        return Err(AuthFail::Redirect("unsupported_response_type", "response_type must be code.".into()));
    }
    let scope = get("scope").unwrap_or("");
    let scopes = parse_scopes(scope.split(','))
        .map_err(|s| AuthFail::Redirect("invalid_scope", format!("Unknown scope: {s}.")))?;
    if scopes & S_BASIC == 0 {
        return Err(AuthFail::Redirect("invalid_scope", "The scope must include user.info.basic.".into()));
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None | Some(""), None | Some("")) => None,
        (Some(c), Some("S256")) if !c.is_empty() => Some(c.to_string()),
        (Some(c), _) if !c.is_empty() => {
            return Err(AuthFail::Redirect("invalid_request", "code_challenge_method must be S256.".into()));
        }
        _ => {
            return Err(AuthFail::Redirect(
                "invalid_request",
                "code_challenge_method given without code_challenge.".into(),
            ));
        }
    };
    Ok(AuthRequest { scopes, state: get("state").map(str::to_string), challenge, account_override })
}

fn redirect(base: &str, params: &[(&str, &str)]) -> HttpResponse {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    let location = format!("{base}{sep}{}", ser.finish());
    HttpResponse::Found().insert_header((LOCATION, location)).finish()
}

fn error_redirect(st: &State, state: Option<&str>, error: &str, description: &str) -> HttpResponse {
    st.stats.record(Endpoint::Authorize, Outcome::Error);
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect(&st.redirect_uri, &params)
}

fn error_page(st: &State, message: &str) -> HttpResponse {
    st.stats.record(Endpoint::Authorize, Outcome::Error);
    HttpResponse::BadRequest().content_type("text/html; charset=utf-8").body(html::error_page(message))
}

fn grant_mask(st: &State) -> u8 {
    st.knobs().grant_scopes.as_ref().map_or(S_ALL, |g| parse_scopes(g.iter().map(|s| s.as_str())).unwrap_or(S_ALL))
}

/// Approves: issues a code for `account` and redirects to the callback.
fn approve(st: &State, ar: &AuthRequest, account: usize, granted: u8) -> HttpResponse {
    let ttl = {
        let k = st.knobs();
        scaled_secs(k.code_ttl_secs as i64, k.time_scale)
    };
    let now_ms = st.now_ms();
    let code =
        st.oauth_write().issue_code(account, granted, &st.redirect_uri, ar.challenge.clone(), now_ms + ttl * 1000);
    st.stats.record(Endpoint::Authorize, Outcome::Ok);
    let scopes = crate::state::scopes_string(granted);
    let mut params = vec![("code", code.as_str()), ("scopes", scopes.as_str())];
    if let Some(s) = &ar.state {
        params.push(("state", s));
    }
    redirect(&st.redirect_uri, &params)
}

fn choose_account(st: &State, ar: &AuthRequest) -> usize {
    if let Some(i) = ar.account_override {
        return i;
    }
    let forced = st.knobs().force_account;
    match forced {
        Some(i) if i < st.data.accounts.len() => i,
        _ => {
            let now_ms = st.now_ms();
            st.oauth_write().next_account(st.data.accounts.len(), now_ms)
        }
    }
}

pub(crate) async fn authorize(st: Data, req: HttpRequest) -> HttpResponse {
    let ep = Endpoint::Authorize;
    let (window, latency, ts, auto, deny) = {
        let k = st.knobs();
        (k.rate_window_ms, k.latency_ms, k.time_scale, k.auto_consent, k.deny_all)
    };
    st.stats.record_call(ep, Duration::from_millis(window));
    sleep_latency(latency, ts).await;
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let ar = match validate_auth(&st, &params) {
        Ok(ar) => ar,
        Err(AuthFail::Page(m)) => return error_page(&st, &m),
        Err(AuthFail::Redirect(e, d)) => {
            return error_redirect(&st, params.get("state").map(|s| s.as_str()), e, &d);
        }
    };
    if deny {
        return error_redirect(&st, ar.state.as_deref(), "access_denied", "The user denied the authorization request.");
    }
    if st.data.accounts.is_empty() {
        return error_page(&st, "The sandbox has no accounts.");
    }
    if auto {
        let account = choose_account(&st, &ar);
        let granted = ar.scopes & grant_mask(&st);
        return approve(&st, &ar, account, granted);
    }
    // The consent page.
    let preselected = ar
        .account_override
        .or_else(|| st.knobs().force_account)
        .filter(|&i| i < st.data.accounts.len())
        .unwrap_or_else(|| {
            let now_ms = st.now_ms();
            let oauth = st.oauth_read();
            (0..st.data.accounts.len()).find(|&a| !oauth.account_has_live_grant(a, now_ms)).unwrap_or(0)
        });
    let now_ms = st.now_ms();
    let connected: Vec<bool> = {
        let oauth = st.oauth_read();
        (0..st.data.accounts.len()).map(|a| oauth.account_has_live_grant(a, now_ms)).collect()
    };
    let mask = grant_mask(&st);
    let hidden_keys =
        ["client_key", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"];
    let page = html::ConsentPage {
        hidden: hidden_keys.iter().filter_map(|k| params.get(*k).map(|v| (*k, v.as_str()))).collect(),
        accounts: st
            .data
            .accounts
            .iter()
            .map(|a| (a.index, a.display_name.as_str(), a.username.as_str(), connected[a.index]))
            .collect(),
        preselected,
        scopes: KNOWN_SCOPES
            .iter()
            .enumerate()
            .filter(|(i, _)| ar.scopes & (1 << i) != 0)
            .map(|(i, s)| (*s, mask & (1 << i) != 0, 1 << i == S_BASIC))
            .collect(),
    };
    st.stats.record(ep, Outcome::Ok);
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html::consent_page(&page))
}

/// `POST /v2/auth/authorize/decision`: the consent page's form (sandbox route).
pub(crate) async fn authorize_decision(st: Data, body: web::Bytes) -> HttpResponse {
    let ep = Endpoint::Authorize;
    let window = st.knobs().rate_window_ms;
    st.stats.record_call(ep, Duration::from_millis(window));
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let params: HashMap<String, String> = pairs.iter().filter(|(k, _)| k != "granted_scope").cloned().collect();
    let ar = match validate_auth(&st, &params) {
        Ok(ar) => ar,
        Err(AuthFail::Page(m)) => return error_page(&st, &m),
        Err(AuthFail::Redirect(e, d)) => {
            return error_redirect(&st, params.get("state").map(|s| s.as_str()), e, &d);
        }
    };
    match params.get("decision").map(|s| s.as_str()) {
        Some("approve") => {}
        Some("deny") => {
            return error_redirect(
                &st,
                ar.state.as_deref(),
                "access_denied",
                "The user denied the authorization request.",
            );
        }
        _ => return error_page(&st, "decision must be approve or deny."),
    }
    let account = match params.get("account").map(|s| s.parse::<usize>()) {
        Some(Ok(i)) if i < st.data.accounts.len() => i,
        _ => return error_page(&st, "account must be a sandbox account index."),
    };
    let ticked = parse_scopes(pairs.iter().filter(|(k, _)| k == "granted_scope").map(|(_, v)| v.as_str())).unwrap_or(0);
    let granted = ar.scopes & (ticked | S_BASIC) & grant_mask(&st);
    approve(&st, &ar, account, granted)
}
