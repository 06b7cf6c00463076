//! The seam: diesel and pool errors become [`RepoError`] here and nowhere else.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use hub_ports::RepoError;

/// Translates a diesel error: a unique violation is a [`RepoError::Conflict`], a foreign-key
/// violation (the store or row referred to does not exist) is [`RepoError::NotFound`], a lost
/// connection is [`RepoError::Unavailable`], the rest is [`RepoError::Other`].
pub(crate) fn repo_err(e: DieselError) -> RepoError {
    match e {
        DieselError::NotFound => RepoError::NotFound,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => RepoError::Conflict(
            info.constraint_name()
                .map_or_else(|| info.message().to_owned(), |c| format!("{c} already holds this value")),
        ),
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => RepoError::NotFound,
        // tokio-postgres reports a statement it cannot encode (e.g. over 65,535 binds) the
        // same way as a lost connection; only the latter is worth retrying.
        DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand, info)
            if info.message().contains("encoding") =>
        {
            tracing::warn!(error = info.message(), "statement could not be sent");
            RepoError::Other(info.message().to_owned())
        }
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            info,
        ) => {
            tracing::warn!(error = info.message(), "database connection lost");
            RepoError::Unavailable(info.message().to_owned())
        }
        DieselError::DatabaseError(kind, info) if is_unavailable(info.message()) => {
            tracing::warn!(error = info.message(), ?kind, "database unavailable");
            RepoError::Unavailable(info.message().to_owned())
        }
        other => {
            tracing::warn!(error = %other, "unexpected database error");
            RepoError::Other(other.to_string())
        }
    }
}

/// Messages of the server going away (shutdown, restart, recovery), which diesel reports as
/// `Unknown` because it does not keep the SQLSTATE.
fn is_unavailable(message: &str) -> bool {
    const SIGNS: [&str; 4] =
        ["terminating connection", "the database system is", "connection closed", "server closed the connection"];
    SIGNS.iter().any(|s| message.contains(s))
}

/// A stored value the domain refuses: the row breaks an invariant the schema does not check.
pub(crate) fn corrupt(what: &str, value: &str) -> RepoError {
    tracing::warn!(what, value, "stored value is not valid");
    RepoError::Other(format!("stored {what} is not valid: {value:?}"))
}

/// Shorthand for `map_err(repo_err)`.
pub(crate) trait RepoResultExt<T> {
    fn repo(self) -> Result<T, RepoError>;
}

impl<T> RepoResultExt<T> for Result<T, DieselError> {
    fn repo(self) -> Result<T, RepoError> {
        self.map_err(repo_err)
    }
}

/// Errors of the adapter's set-up (connecting, migrating). Repository calls map their errors
/// to `hub_ports::RepoError` instead.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The URL is not one this adapter can use.
    #[error("DATABASE_URL {0}")]
    BadUrl(String),
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
}
