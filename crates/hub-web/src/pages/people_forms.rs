//! Managing people and personal API keys from the dashboard (admins): add a person, disable or
//! enable them, create a key (its secret shown once, like a connect link) and revoke one. The
//! same use cases as `POST /admin/users` and `POST /admin/api-keys`, with their checks: no
//! one grants more than their own role and groups, and the hub keeps one active admin.

use actix_web::{HttpResponse, web};
use hub_domain::{ApiKeyId, DisplayName, DomainError, Email, KeyName, Password, Role, StoreScope, UserId};
use hub_engine::{AddKey, AddUser, ChangeUser, CreatedKey, MAX_KEY_DAYS, PeopleError};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::form::{self, FieldError};
use crate::layout::{self, Section};
use crate::pages::connect::CsrfForm;
use crate::routes;
use crate::state::WebState;
use crate::viewer::Viewer;

const ROLES: [(&str, &str); 3] =
    [("viewer", "Viewer: reads"), ("operator", "Operator: runs stores and syncs"), ("admin", "Admin: everything")];

/// "Add a person", as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct UserForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store_groups: String,
    #[serde(default)]
    password: String,
}

/// "Create an API key", as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct KeyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store_groups: String,
    #[serde(default)]
    expires_in_days: String,
}

/// `north, south` → those groups; empty → every store (which only an unscoped admin may grant).
pub(crate) fn scope(raw: &str) -> Result<StoreScope, DomainError> {
    let list: Vec<&str> = raw.split(',').map(str::trim).filter(|g| !g.is_empty()).collect();
    if list.is_empty() {
        return Ok(StoreScope::All);
    }
    StoreScope::from_stored(Some(&list.join(",")))
        .map_err(|_| DomainError::invalid("store_groups", "must be group names separated by commas"))
}

fn groups_hint() -> &'static str {
    "Comma-separated store groups, for example north, south. Empty: every store."
}

fn user_form(viewer: &Viewer, f: &UserForm, error: &FieldError) -> Markup {
    let content = html! {
        section.card aria-label="Add a person" {
            form method="post" action=(routes::PEOPLE) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf);
                (form::input("Email", "email", "email", &f.email, "They sign in with it.", error, true))
                (form::input("Name", "name", "text", &f.name, "Shown in the audit log. Default: the email's first part.", error, false))
                (form::select("Role", "role", &ROLES, if f.role.is_empty() { "viewer" } else { &f.role }, "At most your own.", error))
                (form::input("Store groups", "store_groups", "text", &f.store_groups, groups_hint(), error, false))
                (form::input("First password", "password", "password", "", "At least 12 characters; give it to them in person, they can change it.", error, true))
                div.actions {
                    button type="submit" { "Add person" }
                    a href=(routes::PEOPLE) { "Cancel" }
                }
            }
        }
    };
    layout::page(viewer, Section::People, "Add a person", content)
}

fn key_form(viewer: &Viewer, f: &KeyForm, error: &FieldError) -> Markup {
    let content = html! {
        section.card aria-label="Create an API key" {
            form method="post" action=(routes::PEOPLE_KEYS) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf);
                (form::input("Name", "name", "text", &f.name, "What uses it, for example the BI export.", error, true))
                (form::select("Role", "role", &ROLES, if f.role.is_empty() { "viewer" } else { &f.role }, "At most your own.", error))
                (form::input("Store groups", "store_groups", "text", &f.store_groups, groups_hint(), error, false))
                (form::input("Expires in days", "expires_in_days", "number", &f.expires_in_days, "1 to 3650. Empty: never.", error, false))
                div.actions {
                    button type="submit" { "Create key" }
                    a href=(routes::PEOPLE) { "Cancel" }
                }
            }
        }
    };
    layout::page(viewer, Section::People, "Create an API key", content)
}

/// The new key's secret, shown this once (the answer to the POST, never cached).
pub(crate) fn key_created(viewer: &Viewer, created: &CreatedKey) -> Markup {
    let content = html! {
        div.notice role="note" { "This key is shown once. Copy it into the tool that uses it now; the hub keeps only its hash." }
        section.card aria-label="New API key" data-copy-scope {
            label for="api-key" { "API key " (created.key.name) " (" (created.key.role.as_str()) ")" }
            input #api-key type="text" readonly value=(created.secret.expose());
            div.actions {
                button type="button" data-copy="api-key" hidden { "Copy key" }
                a href=(routes::PEOPLE) { "Back to people and keys" }
            }
            p role="status" aria-live="polite" {}
            p.hint { "Send it as the X-API-KEY header. Fingerprint: " code { (created.key.fingerprint) } }
        }
    };
    layout::page(viewer, Section::People, "New API key", content)
}

/// The engine's refusal of a form, on the field it concerns (`None`: not a form error).
fn refusal(e: &PeopleError) -> FieldError {
    match e {
        PeopleError::Invalid(d) => form::on_field(d),
        PeopleError::EmailTaken => Some(("email", "A person with this email already exists.".into())),
        PeopleError::Forbidden(why) => Some(("role", format!("{why}."))),
        _ => None,
    }
}

/// A form's use case: the form again with the error next to its field when the input or the
/// engine refuses it, else `done`'s answer.
async fn run_form<A, T, Fut>(
    parsed: Result<A, DomainError>,
    again: impl Fn(FieldError) -> HttpResponse,
    call: impl FnOnce(A) -> Fut,
    done: impl FnOnce(T) -> HttpResponse,
) -> Result<HttpResponse, WebError>
where
    Fut: std::future::Future<Output = Result<T, PeopleError>>,
{
    let input = match parsed {
        Ok(a) => a,
        Err(e) => return Ok(again(form::on_field(&e))),
    };
    match call(input).await {
        Ok(t) => Ok(done(t)),
        Err(e) => match refusal(&e) {
            Some(error) => Ok(again(Some(error))),
            None => Err(WebError::internal(e)),
        },
    }
}

fn parse_user(f: &UserForm) -> Result<AddUser, DomainError> {
    let name = match f.name.trim() {
        "" => None,
        n => Some(DisplayName::parse(n)?),
    };
    Ok(AddUser {
        email: Email::parse(f.email.trim())?,
        name,
        role: Role::parse(&f.role)?,
        scope: scope(&f.store_groups)?,
        password: Password::parse(&f.password)?,
    })
}

fn parse_key(f: &KeyForm) -> Result<AddKey, DomainError> {
    let expires_in_days = match f.expires_in_days.trim() {
        "" => None,
        d => Some(
            d.parse::<u32>()
                .ok()
                .filter(|d| (1..=MAX_KEY_DAYS).contains(d))
                .ok_or(DomainError::invalid("expires_in_days", "must be a whole number of days from 1 to 3650"))?,
        ),
    };
    Ok(AddKey {
        name: KeyName::parse(f.name.trim())?,
        role: Role::parse(&f.role)?,
        scope: scope(&f.store_groups)?,
        expires_in_days,
    })
}

/// `GET /dashboard/people/new`.
pub(crate) async fn new_user(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_admin()?;
    Ok(layout::ok(user_form(&viewer, &UserForm::default(), &None)))
}

/// `POST /dashboard/people`: adds the person, or shows the form again with the error.
pub(crate) async fn add_user(
    state: web::Data<WebState>,
    viewer: Viewer,
    f: web::Form<UserForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &f.csrf_token).await?;
    viewer.require_admin()?;
    let again = |error: FieldError| layout::ok(user_form(&viewer, &f, &error));
    let people = state.engine.people();
    let done = |_| layout::see_other(&format!("{}?done=added", routes::PEOPLE));
    run_form(parse_user(&f), again, |add| people.add_user(&viewer.actor, add), done).await
}

/// `POST /dashboard/people/{id}/disable` and `…/enable`.
pub(crate) async fn set_active(
    state: web::Data<WebState>,
    viewer: Viewer,
    path: web::Path<(i64, String)>,
    f: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &f.csrf_token).await?;
    viewer.require_admin()?;
    let (id, what) = path.into_inner();
    let active = match what.as_str() {
        "enable" => true,
        "disable" => false,
        _ => return Err(WebError::NotFound),
    };
    let change = ChangeUser { active: Some(active), ..ChangeUser::default() };
    let done = match state.engine.people().update_user(&viewer.actor, UserId(id), change).await {
        Ok(_) if active => "enabled",
        Ok(_) => "disabled",
        Err(PeopleError::LastAdmin) => "last_admin",
        Err(PeopleError::Forbidden(_)) => "forbidden",
        Err(PeopleError::UserNotFound) => return Err(WebError::NotFound),
        Err(e) => return Err(WebError::internal(e)),
    };
    Ok(layout::see_other(&format!("{}?done={done}", routes::PEOPLE)))
}

/// `GET /dashboard/people/keys/new`.
pub(crate) async fn new_key(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_admin()?;
    Ok(layout::ok(key_form(&viewer, &KeyForm::default(), &None)))
}

/// `POST /dashboard/people/keys`: creates the key and shows its secret once.
pub(crate) async fn create_key(
    state: web::Data<WebState>,
    viewer: Viewer,
    f: web::Form<KeyForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &f.csrf_token).await?;
    viewer.require_admin()?;
    let again = |error: FieldError| layout::ok(key_form(&viewer, &f, &error));
    let people = state.engine.people();
    let done = |created: CreatedKey| layout::ok(key_created(&viewer, &created));
    run_form(parse_key(&f), again, |add| people.create_key(&viewer.actor, add), done).await
}

/// `POST /dashboard/people/keys/{id}/revoke`.
pub(crate) async fn revoke_key(
    state: web::Data<WebState>,
    viewer: Viewer,
    id: web::Path<i64>,
    f: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &f.csrf_token).await?;
    viewer.require_admin()?;
    let done = match state.engine.people().revoke_key(&viewer.actor, ApiKeyId(id.into_inner())).await {
        Ok(_) => "revoked",
        Err(PeopleError::Forbidden(_)) => "forbidden",
        Err(PeopleError::KeyNotFound) => return Err(WebError::NotFound),
        Err(e) => return Err(WebError::internal(e)),
    };
    Ok(layout::see_other(&format!("{}?done={done}", routes::PEOPLE)))
}

/// The notice after an action (`?done=`).
pub(crate) fn notice(done: &str) -> Option<(&'static str, &'static str)> {
    Some(match done {
        "added" => ("ok", "Person added. Give them their first password in person."),
        "enabled" => ("ok", "Person enabled: they can sign in again."),
        "disabled" => ("ok", "Person disabled: their sessions and keys stop working now."),
        "revoked" => ("ok", "API key revoked: it stops working now."),
        "last_admin" => ("bad", "The hub always keeps one active admin: make another person admin first."),
        "forbidden" => ("bad", "You cannot change someone with more rights than your own."),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;

    #[test]
    fn groups_are_read_from_a_comma_list_and_empty_means_every_store() {
        assert_eq!(scope("").unwrap(), StoreScope::All);
        assert_eq!(scope(" , ").unwrap(), StoreScope::All);
        assert_eq!(scope("south, north").unwrap().to_stored().as_deref(), Some("north,south"));
        assert!(scope("no spaces allowed").is_err());
    }

    #[test]
    fn the_forms_are_read_by_the_domain_rules_and_say_which_field_is_wrong() {
        let good = UserForm {
            email: "ann@example.com".into(),
            role: "operator".into(),
            password: "correct horse battery".into(),
            ..UserForm::default()
        };
        assert!(parse_user(&good).is_ok());
        let cases: [(UserForm, &str); 4] = [
            (UserForm { email: "nope".into(), ..good.clone() }, "email"),
            (UserForm { role: "root".into(), ..good.clone() }, "role"),
            (UserForm { store_groups: "a b".into(), ..good.clone() }, "store_groups"),
            (UserForm { password: "short".into(), ..good.clone() }, "password"),
        ];
        for (f, field) in cases {
            assert_eq!(parse_user(&f).unwrap_err().field(), field, "{f:?}");
        }
        let key = KeyForm { name: "BI export".into(), role: "viewer".into(), ..KeyForm::default() };
        assert_eq!(parse_key(&key).unwrap().expires_in_days, None);
        for bad in ["0", "3651", "ten"] {
            let f = KeyForm { expires_in_days: bad.into(), ..key.clone() };
            assert_eq!(parse_key(&f).unwrap_err().field(), "expires_in_days");
        }
    }

    #[test]
    fn a_refused_form_keeps_what_was_typed_but_never_the_password() {
        let f = UserForm { email: "ann@example.com".into(), password: "hunter2hunter2".into(), ..UserForm::default() };
        let error = Some(("email", "A person with this email already exists.".to_owned()));
        let html = user_form(&viewer(Role::Admin), &f, &error).into_string();
        assert!(html.contains(r#"value="ann@example.com""#));
        assert!(!html.contains("hunter2"), "the password is never sent back");
        assert!(html.contains(r#"id="email-error""#));
    }
}
