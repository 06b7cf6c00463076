//! The dashboard's errors, each an HTML page in the dashboard's layout (never JSON, never a
//! stack): what went wrong in people's words, and the request id to quote for a 500.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use maud::html;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in: the answer sends the browser to the sign-in page.
    #[error("sign in first")]
    SignIn { next: String },
    /// The role does not allow it.
    #[error("you may not do this")]
    Forbidden,
    /// No such page, or a store the person may not see.
    #[error("not found")]
    NotFound,
    /// A form or parameter was wrong (the message says which and why).
    #[error("{0}")]
    BadRequest(String),
    /// The session's form token did not match.
    #[error("the form expired")]
    Csrf,
    /// The engine failed (logged here, once, with its cause; the page says only that it failed).
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    /// An engine failure: logged once with its cause.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "dashboard: use case failed");
        Self::Internal(e.to_string())
    }
}

/// The engine's refusals in the dashboard's words: a role that may not (403), a store that
/// is not there or not the person's (404); anything else is logged and a 500.
macro_rules! from_engine {
    ($($err:ty => $forbidden:path, $missing:path;)+) => {$(
        impl From<$err> for WebError {
            fn from(e: $err) -> Self {
                match e {
                    $forbidden => Self::Forbidden,
                    $missing => Self::NotFound,
                    e => Self::internal(e),
                }
            }
        }
    )+};
}

from_engine! {
    hub_engine::AdminError => hub_engine::AdminError::Forbidden, hub_engine::AdminError::StoreNotFound;
    hub_engine::ReportError => hub_engine::ReportError::Forbidden, hub_engine::ReportError::StoreNotFound;
    hub_engine::SyncError => hub_engine::SyncError::Forbidden, hub_engine::SyncError::StoreNotFound;
    hub_engine::ConnectError => hub_engine::ConnectError::Forbidden, hub_engine::ConnectError::StoreNotFound;
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn { next } = self {
            let to = format!("{}?next={}", crate::routes::LOGIN, crate::routes::encode(next));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish();
        }
        let (title, text) = match self {
            Self::Forbidden => ("Not allowed", "Your role does not allow this. Ask an administrator if you need it."),
            Self::Csrf => {
                ("Form expired", "This form was opened in an older session. Go back, reload the page and try again.")
            }
            Self::NotFound => ("Not found", "There is no such page, or it is not one of your stores."),
            Self::BadRequest(m) => ("Check the request", m.as_str()),
            Self::Internal(_) => (
                "Something went wrong",
                "The hub could not answer. Try again in a minute; the error is in the hub's log.",
            ),
            Self::SignIn { .. } => unreachable!("answered above"),
        };
        let body = crate::layout::bare(
            title,
            html! {
                main #main.login {
                    h1 { (title) }
                    p { (text) }
                    p { a href=(crate::routes::HOME) { "Back to the dashboard" } }
                }
            },
        );
        crate::layout::html_response(self.status_code(), body)
    }
}
