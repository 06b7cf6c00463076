//! Who is looking: the signed-in person, their role, and the form token of their session.
//! Every page takes a [`Viewer`]; the navigation, buttons and forms it shows follow
//! [`Viewer::can_operate`] and [`Viewer::can_admin`], and the engine checks the same again.

use hub_engine::Actor;

/// A role, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

/// The signed-in person.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub actor: Actor,
    /// Shown in the header (an email).
    pub name: String,
    pub role: Role,
    /// Stores they may see are limited to their groups.
    pub scoped: bool,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// The report time zone's name, shown once per page.
    pub tz_name: String,
}

impl Viewer {
    /// Sync, create stores, issue connect links.
    pub fn can_operate(&self) -> bool {
        self.role >= Role::Operator
    }

    /// The audit log, people and keys.
    pub fn can_admin(&self) -> bool {
        self.role >= Role::Admin
    }

    pub fn role_label(&self) -> &'static str {
        match self.role {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A viewer of `role` for the view tests.
    pub(crate) fn viewer(role: Role) -> Viewer {
        Viewer {
            actor: Actor::system(),
            name: "ann@example.com".into(),
            role,
            scoped: false,
            csrf: "tok-123".into(),
            tz_name: "Asia/Jakarta".into(),
        }
    }

    #[test]
    fn roles_are_ordered_and_csrf_must_match() {
        assert!(viewer(Role::Admin).can_operate() && viewer(Role::Admin).can_admin());
        assert!(viewer(Role::Operator).can_operate() && !viewer(Role::Operator).can_admin());
        assert!(!viewer(Role::Viewer).can_operate());
        let v = viewer(Role::Viewer);
        assert!(v.check_csrf("tok-123").is_ok());
        assert!(v.check_csrf("tok-124").is_err());
        assert!(v.check_csrf("").is_err());
        assert!(v.check_csrf("tok-1234").is_err());
    }
}
