//! Errors raised while parsing values at the edge.

/// A value that does not satisfy the domain's rules. The message names the field and what
/// is expected, and is safe to show to an API client (it never echoes secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// A field failed validation.
    #[error("{field} {expected}")]
    Invalid {
        /// The field's name as the API spells it (`store_code`, `days`, …).
        field: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
    },
}

impl DomainError {
    /// Shorthand for [`DomainError::Invalid`].
    pub const fn invalid(field: &'static str, expected: &'static str) -> Self {
        Self::Invalid { field, expected }
    }

    /// The name of the offending field.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
        }
    }
}
