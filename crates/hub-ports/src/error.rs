//! What a repository call answers when it fails.

/// Why a repository call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    /// The row the call needs does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (e.g. the store code exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or the pool timed out; retrying later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the message is for operators.
    #[error("database error: {0}")]
    Other(String),
}

/// Result of a repository call.
pub type RepoResult<T> = Result<T, RepoError>;
