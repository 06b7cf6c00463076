//! Roles: what a person or key may do, from least to most.

use std::fmt;

use crate::error::DomainError;

/// A role. Ordered: `Viewer < Operator < Admin`; each may do everything the ones below may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads and exports.
    Viewer,
    /// Stores, connect links and syncs, plus everything a viewer may do.
    Operator,
    /// Everything, including people, keys and settings.
    Admin,
}

impl Role {
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Operator, Self::Admin];

    /// The spelling of the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// Parses `viewer`, `operator` or `admin`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or(DomainError::invalid("role", "must be one of viewer, operator, admin"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_round_trip() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse("Admin").unwrap_err().field(), "role");
        assert!(Role::parse("root").is_err());
    }
}
