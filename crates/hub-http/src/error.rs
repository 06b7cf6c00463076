//! The one error type of the HTTP adapter and its envelope:
//! `{"success":false,"error":{"code","message","requestId"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use paperclip::actix::{Apiv2Schema, api_v2_errors};
use serde::Serialize;

tokio::task_local! {
    /// The request id of the request being served (set by the request middleware), so that
    /// every error body can carry it.
    pub(crate) static REQUEST_ID: String;
}

/// The request id of the current request, when inside one.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Marker put in the extensions of every response the adapter renders on purpose (error
/// envelopes and HTML pages), so the request middleware only rewrites the others.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rendered;

/// The error codes of the spec's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    StoreNotFound,
    StoreExists,
    UserExists,
    LastAdmin,
    RateLimitExceeded,
    InternalError,
    SyncFailed,
}

impl Code {
    /// The code as the envelope spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "INVALID_REQUEST",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::StoreNotFound => "STORE_NOT_FOUND",
            Self::StoreExists => "STORE_EXISTS",
            Self::UserExists => "USER_EXISTS",
            Self::LastAdmin => "LAST_ADMIN",
            Self::RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
            Self::InternalError => "INTERNAL_ERROR",
            Self::SyncFailed => "SYNC_FAILED",
        }
    }
}

/// Why a request failed. Messages are safe to send: they never hold a secret or a cause
/// from storage (those are logged once, by [`ApiError::internal`]).
#[api_v2_errors(
    code = 400,
    description = "INVALID_REQUEST: a malformed or out-of-range parameter or body (the message names the field)",
    code = 401,
    description = "UNAUTHORIZED: missing or invalid credentials (X-API-KEY, or the session cookie)",
    code = 403,
    description = "FORBIDDEN: the caller's role or store groups do not allow this, or a failed CSRF check",
    code = 404,
    description = "NOT_FOUND or STORE_NOT_FOUND (a store outside the caller's store groups too)",
    code = 409,
    description = "STORE_EXISTS, USER_EXISTS, LAST_ADMIN (the change would leave no active admin), or SYNC_FAILED when the job is already running",
    code = 413,
    description = "INVALID_REQUEST: body larger than the limit",
    code = 429,
    description = "RATE_LIMIT_EXCEEDED (see Retry-After)",
    code = 500,
    description = "INTERNAL_ERROR or SYNC_FAILED",
    default_schema = "ErrorEnvelope"
)]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// 400 INVALID_REQUEST; the message names the field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Code::InvalidRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Code::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, Code::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::NotFound, message)
    }

    pub fn store_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::StoreNotFound, "Store not found")
    }

    pub fn store_exists() -> Self {
        Self::new(StatusCode::CONFLICT, Code::StoreExists, "Store with this code already exists")
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, Code::RateLimitExceeded, message)
        }
    }

    /// 500 INTERNAL_ERROR with a generic message; `cause` is logged here, once, inside the
    /// request's span (which carries the request id), and never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::InternalError, "Internal server error")
    }

    /// The JSON envelope of this error.
    pub(crate) fn envelope(&self, request_id: Option<String>) -> ErrorEnvelope {
        ErrorEnvelope {
            success: false,
            error: ErrorBody { code: self.code.as_str().to_owned(), message: self.message.clone(), request_id },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        let mut res = res.json(self.envelope(current_request_id()));
        res.extensions_mut().insert(Rendered);
        res
    }
}

/// The error envelope.
#[derive(Debug, Clone, Serialize, Apiv2Schema)]
pub struct ErrorEnvelope {
    /// Always `false`.
    pub success: bool,
    pub error: ErrorBody,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, Apiv2Schema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// One of INVALID_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, STORE_NOT_FOUND, STORE_EXISTS,
    /// USER_EXISTS, LAST_ADMIN, RATE_LIMIT_EXCEEDED, INTERNAL_ERROR, SERVER_MISCONFIG, SYNC_FAILED.
    pub code: String,
    pub message: String,
    /// The request's id (also in the `X-Request-Id` response header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<hub_domain::DomainError> for ApiError {
    fn from(e: hub_domain::DomainError) -> Self {
        Self::invalid(e.to_string())
    }
}

impl From<hub_engine::AdminError> for ApiError {
    fn from(e: hub_engine::AdminError) -> Self {
        use hub_engine::AdminError as E;
        match e {
            E::StoreNotFound => Self::store_not_found(),
            E::StoreExists => Self::store_exists(),
            E::Forbidden => Self::forbidden(e.to_string()),
            E::Storage(cause) => Self::internal(&cause),
        }
    }
}

impl From<hub_engine::Forbidden> for ApiError {
    fn from(e: hub_engine::Forbidden) -> Self {
        Self::forbidden(e.to_string())
    }
}

impl From<hub_engine::PeopleError> for ApiError {
    fn from(e: hub_engine::PeopleError) -> Self {
        use hub_engine::PeopleError as E;
        match e {
            E::Invalid(d) => d.into(),
            E::Forbidden(m) => Self::forbidden(m),
            E::UserNotFound | E::KeyNotFound => Self::not_found(e.to_string()),
            E::EmailTaken => Self::new(StatusCode::CONFLICT, Code::UserExists, e.to_string()),
            E::LastAdmin => Self::new(StatusCode::CONFLICT, Code::LastAdmin, e.to_string()),
            E::NoSession => Self::invalid(e.to_string()),
            E::Hashing(cause) => Self::internal(&cause),
            E::Storage(cause) => Self::internal(&cause),
        }
    }
}

impl From<hub_engine::LifecycleError> for ApiError {
    fn from(e: hub_engine::LifecycleError) -> Self {
        use hub_engine::LifecycleError as E;
        match e {
            E::StoreNotFound => Self::store_not_found(),
            E::Forbidden => Self::forbidden(e.to_string()),
            E::Storage(cause) => Self::internal(&cause),
        }
    }
}

impl From<hub_engine::ReportError> for ApiError {
    fn from(e: hub_engine::ReportError) -> Self {
        use hub_engine::ReportError as E;
        match e {
            E::Invalid(d) => d.into(),
            E::StoreNotFound => Self::store_not_found(),
            E::Forbidden => Self::forbidden(e.to_string()),
            E::ImportRejected(r) => Self::invalid(format!(
                "{} of {} rows are invalid; nothing was imported",
                r.counts.errors, r.counts.rows
            )),
            E::Conflict(m) => Self::new(
                StatusCode::CONFLICT,
                Code::StoreExists,
                format!("Stores changed during the import ({m}); nothing was imported, try again"),
            ),
            E::Storage(cause) => Self::internal(&cause),
        }
    }
}

impl From<hub_engine::SyncError> for ApiError {
    fn from(e: hub_engine::SyncError) -> Self {
        use hub_engine::SyncError as E;
        match e {
            E::AlreadyRunning(job) | E::AlreadyDone(job) => Self::new(
                StatusCode::CONFLICT,
                Code::SyncFailed,
                format!("{job} is already running; try again when it ends (GET /admin/sync/status)"),
            ),
            E::StoreNotFound => Self::store_not_found(),
            E::Forbidden => Self::forbidden(e.to_string()),
            E::RunNotFound => Self::not_found("Sync run not found"),
            E::Aborted(cause) => {
                tracing::error!(error = %cause, "sync task stopped");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::SyncFailed, "The sync stopped unexpectedly")
            }
            E::Storage(cause) => {
                tracing::error!(error = %cause, "sync could not start");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::SyncFailed, "The sync could not start")
            }
        }
    }
}

impl From<hub_engine::ConnectError> for ApiError {
    fn from(e: hub_engine::ConnectError) -> Self {
        use hub_engine::ConnectError as E;
        match e {
            E::StoreNotFound => Self::store_not_found(),
            E::StoreArchived => Self::new(StatusCode::CONFLICT, Code::InvalidRequest, e.to_string()),
            E::InviteInvalid | E::Denied(_) | E::Forbidden => Self::forbidden(e.to_string()),
            E::Storage(cause) => Self::internal(&cause),
            E::TikTok(_) => Self::new(StatusCode::BAD_GATEWAY, Code::InternalError, e.to_string()),
            E::InvalidState | E::ScopeMissing(_) | E::MissingCode => Self::invalid(e.to_string()),
        }
    }
}

impl From<hub_engine::NotifyError> for ApiError {
    fn from(e: hub_engine::NotifyError) -> Self {
        use hub_engine::NotifyError as E;
        match e {
            E::NotFound => Self::not_found(e.to_string()),
            E::Forbidden => Self::forbidden(e.to_string()),
            E::UrlRefused(_) | E::Disabled => Self::invalid(e.to_string()),
            E::Storage(cause) => Self::internal(&cause),
        }
    }
}
