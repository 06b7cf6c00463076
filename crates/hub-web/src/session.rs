//! The signed-in person of a request: [`Viewer`] as an extractor, from the session cookie the
//! engine's sign-in made (the same session as the REST API's `/auth/login`). A request without
//! a live session is sent to the sign-in page (`?next=` the page it asked for). Unsafe
//! requests must also come from the hub's own origin and carry the session's CSRF token.

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures::future::LocalBoxFuture;
use hub_domain::Principal;
use hub_engine::{AuthError, ClientContext, SESSION_COOKIE};

use crate::error::WebError;
use crate::state::WebState;
use crate::viewer::Viewer;

/// The session token of a request, for signing out.
#[derive(Clone)]
pub(crate) struct SessionToken(pub(crate) String);

/// Who calls, as the HTTP adapter saw it.
pub(crate) fn context(req: &HttpRequest) -> ClientContext {
    req.extensions().get::<ClientContext>().cloned().unwrap_or_default()
}

/// The session cookie's value, if sent.
pub(crate) fn session_token(req: &HttpRequest) -> Option<String> {
    req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty())
}

/// Whether `req` comes from the hub's own pages (`Origin`, else `Referer`).
pub(crate) fn same_origin(req: &HttpRequest, public_origin: &str) -> Result<(), &'static str> {
    let h = req.headers();
    let referer = h.get(header::REFERER).and_then(|r| r.to_str().ok());
    hub_engine::same_origin(h.get(header::ORIGIN).map(|o| o.as_bytes()), referer, public_origin)
}

pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<WebState>, WebError> {
    req.app_data::<web::Data<WebState>>().cloned().ok_or_else(|| WebError::internal("the dashboard has no state"))
}

async fn viewer(req: HttpRequest) -> Result<Viewer, WebError> {
    let state = state(&req)?;
    let next = req.uri().path_and_query().map_or_else(|| crate::routes::HOME.to_owned(), |p| p.to_string());
    let sign_in = || WebError::SignIn { next: if req.method() == Method::GET { next.clone() } else { String::new() } };
    let token = session_token(&req).ok_or_else(sign_in)?;
    let ctx = context(&req);
    let people = state.engine.people();
    let actor = match people.session(&token, ctx.request_id, ctx.ip).await {
        Ok(actor) => actor,
        Err(AuthError::Invalid) => return Err(sign_in()),
        Err(e) => return Err(WebError::internal(e)),
    };
    let name = match &actor.principal {
        Principal::User { email, .. } => email.as_str().to_owned(),
        _ => actor.who(),
    };
    let viewer = Viewer { csrf: people.csrf_token(&token), name, tz_name: state.tz.name().to_owned(), actor };
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let Err(why) = same_origin(&req, &state.config.public_origin)
    {
        people.csrf_refused(&viewer.actor, why).await;
        tracing::warn!(why, "dashboard: CSRF origin check failed");
        return Err(WebError::Csrf);
    }
    req.extensions_mut().insert(SessionToken(token));
    Ok(viewer)
}

impl FromRequest for Viewer {
    type Error = WebError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(viewer(req.clone()))
    }
}

/// The checks a handler makes before it acts.
impl Viewer {
    /// Refuses unless the person may create and change stores.
    pub fn require_operator(&self) -> Result<(), WebError> {
        if self.can_operate() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Refuses unless the person is an admin.
    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.can_admin() { Ok(()) } else { Err(WebError::Forbidden) }
    }

    /// Refuses a form whose token is not this session's (compared in constant time; a
    /// refusal is audited, `auth.csrf`).
    pub async fn check_csrf(&self, state: &WebState, presented: &str) -> Result<(), WebError> {
        let (a, b) = (self.csrf.as_bytes(), presented.as_bytes());
        let same = a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
        if same {
            return Ok(());
        }
        state.engine.people().csrf_refused(&self.actor, if presented.is_empty() { "no_token" } else { "token" }).await;
        tracing::warn!("dashboard: CSRF token check failed");
        Err(WebError::Csrf)
    }
}
