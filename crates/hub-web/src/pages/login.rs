//! Signing in and out. The sign-in page posts the email and password to the engine's sign-in
//! (the session of the REST API's `/auth/login`: one cookie, one session, one audit row); the
//! HTTP adapter counts each attempt toward its auth-failure block and rate limit, and tells
//! the page when the address is blocked.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use hub_engine::{AuthError, SignInAttempt, SignInBlocked};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::layout;
use crate::pages::connect::CsrfForm;
use crate::routes;
use crate::session::{SessionToken, context, same_origin, state};
use crate::viewer::Viewer;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
    out: Option<u8>,
}

/// The sign-in form. No `Debug`: it holds a password.
#[derive(Default, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after signing in: a dashboard page, never another site.
pub(crate) fn safe_next(next: &str) -> &str {
    let ok = next.starts_with("/dashboard/") && !next.starts_with("//") && !next.contains('\\');
    if ok { next } else { routes::HOME }
}

fn render(email: &str, next: &str, message: Option<(&str, &str)>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            main #main.login {
                h1 { "TikTok Hub" }
                @if let Some((class, text)) = message {
                    div class=(format!("notice {class}")) role=(if class == "bad" { "alert" } else { "status" }) { (text) }
                }
                form.card method="post" action=(routes::LOGIN) {
                    input type="hidden" name="next" value=(safe_next(next));
                    div.field {
                        label for="email" { "Email" }
                        input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                    }
                    div.field {
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="current-password" required;
                    }
                    button type="submit" { "Sign in" }
                }
                p.hint { "No account yet? An administrator adds people with " code { "tiktok-hub user add" } "." }
            }
        },
    )
}

/// `GET /dashboard/login`.
pub(crate) async fn page(query: web::Query<LoginQuery>) -> HttpResponse {
    let message = query.out.map(|_| ("ok", "You are signed out."));
    layout::ok(render("", &query.next, message))
}

/// `POST /dashboard/login`.
pub(crate) async fn sign_in(req: HttpRequest, form: web::Form<LoginForm>) -> Result<HttpResponse, WebError> {
    let state = state(&req)?;
    // Login CSRF: a page on another site cannot sign a browser in to the hub.
    let headers = req.headers();
    if (headers.contains_key(header::ORIGIN) || headers.contains_key(header::REFERER))
        && same_origin(&req, &state.config.public_origin).is_err()
    {
        return Err(WebError::Csrf);
    }
    if let Some(blocked) = req.extensions().get::<SignInBlocked>().copied() {
        let minutes = blocked.retry_after_secs.div_ceil(60);
        let text = format!("Too many sign-in attempts from this address. Try again in {minutes} minutes.");
        return Ok(layout::html_response(
            StatusCode::TOO_MANY_REQUESTS,
            render(&form.email, &form.next, Some(("bad", &text))),
        ));
    }
    let ctx = context(&req);
    let result = state.engine.people().login(&form.email, &form.password, ctx.request_id, ctx.ip).await;
    let attempt = |succeeded| SignInAttempt { email: form.email.clone(), succeeded };
    match result {
        Ok(done) => {
            let max_age = i64::try_from(state.engine.config().people.session_absolute.as_secs()).unwrap_or(i64::MAX);
            let cookie =
                hub_engine::session_cookie(Some((done.session_token.expose(), max_age)), state.config.secure_cookies);
            let mut res = layout::see_other(safe_next(&form.next));
            res.headers_mut()
                .insert(header::SET_COOKIE, header::HeaderValue::from_str(&cookie).map_err(WebError::internal)?);
            res.extensions_mut().insert(attempt(true));
            Ok(res)
        }
        Err(AuthError::Invalid) => {
            let text = "Wrong email or password, or the account is disabled. Repeated failures block sign-in from this address for a while.";
            let mut res = layout::ok(render(&form.email, &form.next, Some(("bad", text))));
            res.extensions_mut().insert(attempt(false));
            Ok(res)
        }
        Err(e) => Err(WebError::internal(e)),
    }
}

/// `POST /dashboard/logout`: ends the session and removes the cookie.
pub(crate) async fn sign_out(
    req: HttpRequest,
    viewer: Viewer,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let state = state(&req)?;
    viewer.check_csrf(&state, &form.csrf_token).await?;
    let token = req.extensions().get::<SessionToken>().cloned();
    if let Some(token) = token
        && let Err(e) = state.engine.people().logout(&viewer.actor, &token.0).await
    {
        tracing::warn!(error = %e, "dashboard: sign-out found no session");
    }
    let mut res = layout::see_other(&format!("{}?out=1", routes::LOGIN));
    let cookie = hub_engine::session_cookie(None, state.config.secure_cookies);
    res.headers_mut().insert(header::SET_COOKIE, header::HeaderValue::from_str(&cookie).map_err(WebError::internal)?);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(safe_next("/dashboard/stores?q=a"), "/dashboard/stores?q=a");
        for bad in
            ["https://evil.example.com/", "//evil.example.com/dashboard/", "/admin/stores", "", "/dashboard/\\evil"]
        {
            assert_eq!(safe_next(bad), "/dashboard/", "{bad}");
        }
    }

    #[test]
    fn the_form_is_labelled_and_says_why_it_refused() {
        let html = render("a@b.c", "/dashboard/sync", Some(("bad", "Wrong email or password"))).into_string();
        assert!(html.contains(r#"<label for="email">"#) && html.contains(r#"<label for="password">"#));
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains(r#"name="next" value="/dashboard/sync""#));
        assert!(html.contains(r#"value="a@b.c""#));
        assert!(!html.contains("password\" value"), "the password is never sent back");
    }
}
