//! People: create, list, change, disable; passwords. Admins manage users (their role and
//! scope at most the admin's own); the hub always keeps one active admin user once it has one.

use hub_domain::{
    Actor, AuditOutcome, DisplayName, Email, NewUser, Password, Role, StoreScope, User, UserChange, UserId,
};
use hub_ports::{LAST_ADMIN, RepoError};

use crate::access::Permission;
use crate::audit::Details;
use crate::people::service::{People, PeopleError};

/// A user to add.
#[derive(Debug, Clone)]
pub struct AddUser {
    pub email: Email,
    /// Default: the email's local part.
    pub name: Option<DisplayName>,
    pub role: Role,
    pub scope: StoreScope,
    pub password: Password,
}

/// Changes to a user (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct ChangeUser {
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
    pub scope: Option<StoreScope>,
    pub active: Option<bool>,
    pub password: Option<Password>,
}

/// `user:<id>`, as audit rows name a user.
fn target(id: UserId) -> Option<String> {
    Some(format!("user:{}", id.0))
}

fn scope_text(scope: &StoreScope) -> String {
    scope.to_stored().unwrap_or_else(|| "*".into())
}

impl People {
    /// Adds a user (admin; the role and scope at most the actor's, the groups existing);
    /// audited (`user.create`).
    pub async fn add_user(&self, actor: &Actor, add: AddUser) -> Result<User, PeopleError> {
        const ACTION: &str = "user.create";
        self.access.permit(actor, Permission::ManageUsers, ACTION).await?;
        let result = self.create(actor, add).await;
        match &result {
            Ok(u) => tracing::info!(user.id = u.id.0, role = u.role.as_str(), "user created"),
            Err(e) => self.refused(actor, ACTION, None, e).await,
        }
        result
    }

    async fn create(&self, actor: &Actor, add: AddUser) -> Result<User, PeopleError> {
        const ACTION: &str = "user.create";
        self.may_grant(actor, ACTION, add.role, &add.scope).await?;
        let name = match add.name {
            Some(n) => n,
            None => DisplayName::parse(add.email.local_part())?,
        };
        let password_hash = self.hasher.hash(add.password.expose()).await?;
        let details = Details::default()
            .text("email", add.email.as_str())
            .text("role", add.role.as_str())
            .text("storeGroups", &scope_text(&add.scope));
        let audit = actor.audit(ACTION, None, None, AuditOutcome::Success, Some(details.build()));
        let user = NewUser { email: add.email, name, role: add.role, scope: add.scope, password_hash };
        match self.users.create(&user, &audit).await {
            Ok(u) => Ok(u),
            Err(RepoError::Conflict(_)) => Err(PeopleError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// The users the actor may see: everyone for an admin, else only the person behind the
    /// actor (none for a key without an owner).
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>, PeopleError> {
        self.access.permit(actor, Permission::Read, "user.list").await?;
        if Permission::ManageUsers.allows(actor) {
            return Ok(self.users.list(None).await?);
        }
        match actor.person() {
            Some(me) => Ok(self.users.list(Some(me)).await?),
            None => Ok(Vec::new()),
        }
    }

    /// The person behind the actor (a signed-in user, a key's owner), if any.
    pub async fn me(&self, actor: &Actor) -> Result<Option<User>, PeopleError> {
        match actor.person() {
            Some(id) => Ok(self.users.get(id).await?),
            None => Ok(None),
        }
    }

    /// Changes a user (admin): name, role, scope, active, password. The new role and scope are
    /// at most the actor's, and a scoped admin changes only users inside its scope. Audited
    /// (`user.update`, or `user.disable` when it only disables), naming the fields and the role
    /// before and after. A new password or disabling ends the user's sessions at once. Refused
    /// when no active admin user would be left.
    pub async fn update_user(&self, actor: &Actor, id: UserId, change: ChangeUser) -> Result<User, PeopleError> {
        let action = if change.active == Some(false)
            && change.name.is_none()
            && change.role.is_none()
            && change.scope.is_none()
            && change.password.is_none()
        {
            "user.disable"
        } else {
            "user.update"
        };
        self.access.permit(actor, Permission::ManageUsers, action).await?;
        let result = self.change(actor, action, id, change).await;
        match &result {
            Ok(u) => tracing::info!(user.id = u.id.0, action, "user changed"),
            Err(e) => self.refused(actor, action, target(id), e).await,
        }
        result
    }

    /// Disables a user (admin): `DELETE /admin/users/{id}`. History keeps their name.
    pub async fn disable_user(&self, actor: &Actor, id: UserId) -> Result<User, PeopleError> {
        self.update_user(actor, id, ChangeUser { active: Some(false), ..ChangeUser::default() }).await
    }

    async fn change(&self, actor: &Actor, action: &str, id: UserId, change: ChangeUser) -> Result<User, PeopleError> {
        let before = self.users.get(id).await?.ok_or(PeopleError::UserNotFound)?;
        if !actor.scope.covers(&before.scope) || before.role > actor.role {
            let details = Details::error("forbidden").text("missing", "scope");
            self.auditor.denied(actor, action, None, details).await;
            return Err(PeopleError::Forbidden("You cannot change a user with more rights than your own"));
        }
        let role = change.role.unwrap_or(before.role);
        let scope = change.scope.clone().unwrap_or_else(|| before.scope.clone());
        if change.role.is_some() || change.scope.is_some() {
            self.may_grant(actor, action, role, &scope).await?;
        }
        let password_hash = match &change.password {
            Some(p) => Some(self.hasher.hash(p.expose()).await?),
            None => None,
        };
        let stored = UserChange {
            name: change.name,
            role: change.role,
            scope: change.scope,
            active: change.active,
            password_hash,
        };
        if stored.is_empty() {
            return Err(hub_domain::DomainError::invalid("body", "must change at least one field").into());
        }
        let fields: Vec<&str> = [
            stored.name.as_ref().map(|_| "name"),
            stored.role.map(|_| "role"),
            stored.scope.as_ref().map(|_| "store_groups"),
            stored.active.map(|_| "active"),
            stored.password_hash.as_ref().map(|_| "password"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut details = Details::default().text("fields", &fields.join(","));
        if stored.role.is_some() {
            details = details.text("roleBefore", before.role.as_str()).text("roleAfter", role.as_str());
        }
        if stored.scope.is_some() {
            details = details
                .text("storeGroupsBefore", &scope_text(&before.scope))
                .text("storeGroupsAfter", &scope_text(&scope));
        }
        if let Some(active) = stored.active {
            details = details.flag("active", active);
        }
        let audit = actor.audit(action, None, target(id), AuditOutcome::Success, Some(details.build()));
        match self.users.update(id, &stored, &audit).await {
            Ok(u) => Ok(u),
            Err(RepoError::NotFound) => Err(PeopleError::UserNotFound),
            Err(RepoError::Conflict(c)) if c == LAST_ADMIN => Err(PeopleError::LastAdmin),
            Err(e) => Err(e.into()),
        }
    }

    /// The user with this email (the command line names users by email).
    pub async fn user_by_email(&self, actor: &Actor, email: &Email) -> Result<User, PeopleError> {
        self.access.permit(actor, Permission::ManageUsers, "user.read").await?;
        Ok(self.users.credentials(email).await?.ok_or(PeopleError::UserNotFound)?.user)
    }

    /// Sets a user's password (admin, e.g. the command line); ends their sessions. Audited
    /// (`user.update`, field `password`).
    pub async fn set_password(&self, actor: &Actor, email: &Email, password: Password) -> Result<User, PeopleError> {
        let user = self.user_by_email(actor, email).await?;
        self.update_user(actor, user.id, ChangeUser { password: Some(password), ..ChangeUser::default() }).await
    }
}
