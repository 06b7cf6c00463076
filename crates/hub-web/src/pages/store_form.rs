//! "New store" and "Edit store": one form validated on the server by the domain's parsers,
//! each error next to its field (operators; a group-scoped one only in its groups).

use actix_web::{HttpResponse, web};
use hub_domain::{DomainError, NewStore, StoreChange, StoreCode, StoreGroup};
use hub_engine::AdminError;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::form::{self, FieldError};
use crate::layout::{self, Section};
use crate::routes;
use crate::state::WebState;
use crate::viewer::Viewer;

/// The form's fields as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct StoreForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    store_code: String,
    #[serde(default)]
    store_name: String,
    #[serde(default)]
    pic_name: String,
    #[serde(default)]
    pic_contact: String,
    #[serde(default)]
    store_group: String,
}

/// Which form: a new store, or the store being edited (its code cannot change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode<'a> {
    New,
    Edit(&'a str),
}

fn field(label: &str, name: &'static str, value: &str, hint: &str, error: &FieldError, required: bool) -> Markup {
    form::input(label, name, "text", value, hint, error, required)
}

fn render(viewer: &Viewer, mode: Mode<'_>, form: &StoreForm, error: &FieldError) -> Markup {
    let (title, action, submit, back) = match mode {
        Mode::New => ("New store".to_owned(), routes::STORES.to_owned(), "Create store", routes::STORES.to_owned()),
        Mode::Edit(code) => (format!("Edit {code}"), edit_path(code), "Save changes", routes::store(code)),
    };
    let content = html! {
        section.card aria-label=(title) {
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf_token" value=(viewer.csrf);
                @match mode {
                    Mode::New => (field("Store code", "store_code", &form.store_code, "Letters, digits, _ and -, up to 50. It cannot change later.", error, true)),
                    Mode::Edit(code) => p { "Store code: " strong { (code) } " (it cannot change)" },
                }
                (field("Store name", "store_name", &form.store_name, "As staff know it.", error, true))
                (field("Person in charge", "pic_name", &form.pic_name, "Who answers for this store's account.", error, true))
                (field("Their contact", "pic_contact", &form.pic_contact, "A phone number or email.", error, false))
                (field("Group", "store_group", &form.store_group, "A region or district (letters, digits, _ and -); people scoped to it see the store.", error, !viewer.actor.scope.is_all()))
                div.actions {
                    button type="submit" { (submit) }
                    a href=(back) { "Cancel" }
                }
            }
        }
    };
    layout::page(viewer, Section::Stores, &title, content)
}

/// `/dashboard/stores/{code}/edit`.
pub(crate) fn edit_path(code: &str) -> String {
    format!("{}/edit", routes::store(code))
}

/// `GET /dashboard/stores/new`.
pub(crate) async fn page(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_operator()?;
    Ok(layout::ok(render(&viewer, Mode::New, &StoreForm::default(), &None)))
}

/// `POST /dashboard/stores`: creates the store and opens its page, or shows the form again
/// with the error next to its field.
pub(crate) async fn create(
    state: web::Data<WebState>,
    viewer: Viewer,
    form: web::Form<StoreForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &form.csrf_token).await?;
    viewer.require_operator()?;
    // The form again with its error, as 200 like any page (browsers log a 4xx page load as
    // a console error).
    let again = |error: FieldError| layout::ok(render(&viewer, Mode::New, &form, &error));
    let new = match parse_new(&form) {
        Ok(n) => n,
        Err(e) => return Ok(again(form::on_field(&e))),
    };
    match state.engine.admin().create_store(&viewer.actor, &new).await {
        Ok(store) => Ok(layout::see_other(&format!("{}?created=1", routes::store(store.code.as_str())))),
        Err(AdminError::StoreExists) => {
            Ok(again(Some(("store_code", "A store with this code already exists.".into()))))
        }
        Err(AdminError::Forbidden) if form.store_group.trim().is_empty() => {
            Ok(again(Some(("store_group", "Choose one of your groups.".into()))))
        }
        Err(AdminError::Forbidden) => Ok(again(Some(("store_group", "That group is not one of yours.".into())))),
        Err(e) => Err(e.into()),
    }
}

fn group(raw: &str) -> Result<Option<StoreGroup>, DomainError> {
    match raw.trim() {
        "" => Ok(None),
        g => StoreGroup::parse_field(g, "store_group").map(Some),
    }
}

fn parse_new(form: &StoreForm) -> Result<NewStore, DomainError> {
    let contact = Some(form.pic_contact.as_str());
    Ok(NewStore::parse(form.store_code.trim(), &form.store_name, &form.pic_name, contact)?
        .with_group(group(&form.store_group)?))
}

/// `GET /dashboard/stores/{code}/edit`.
pub(crate) async fn edit_page(
    state: web::Data<WebState>,
    viewer: Viewer,
    code: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    viewer.require_operator()?;
    let code = StoreCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let store = state.engine.admin().store(&viewer.actor, &code).await?.store;
    let form = StoreForm {
        csrf_token: String::new(),
        store_code: store.code.to_string(),
        store_name: store.name,
        pic_name: store.pic_name,
        pic_contact: store.pic_contact.unwrap_or_default(),
        store_group: store.group.map(|g| g.to_string()).unwrap_or_default(),
    };
    Ok(layout::ok(render(&viewer, Mode::Edit(code.as_str()), &form, &None)))
}

/// `POST /dashboard/stores/{code}/edit`: saves and opens the store, or shows the form again.
pub(crate) async fn update(
    state: web::Data<WebState>,
    viewer: Viewer,
    code: web::Path<String>,
    form: web::Form<StoreForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &form.csrf_token).await?;
    viewer.require_operator()?;
    let code = StoreCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let mode = Mode::Edit(code.as_str());
    let again = |error: FieldError| layout::ok(render(&viewer, mode, &form, &error));
    let contact = Some(Some(form.pic_contact.as_str()));
    let group = Some(Some(form.store_group.as_str()));
    let change = match StoreChange::parse(Some(&form.store_name), Some(&form.pic_name), contact, group) {
        Ok(c) => c,
        Err(e) => return Ok(again(form::on_field(&e))),
    };
    match state.engine.admin().update_store(&viewer.actor, &code, &change).await {
        Ok(_) => Ok(layout::see_other(&format!("{}?saved=1", routes::store(code.as_str())))),
        Err(AdminError::Forbidden) => Ok(again(Some(("store_group", "That group is not one of yours.".into())))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use hub_domain::Role;

    #[test]
    fn errors_sit_next_to_their_field() {
        let form = StoreForm { store_code: "bad code".into(), ..StoreForm::default() };
        let error = Some(("store_code", crate::form::sentence("store_code must be 1-50 alphanumeric characters")));
        let html = render(&viewer(Role::Operator), Mode::New, &form, &error).into_string();
        assert!(html.contains(r#"id="store_code-error""#));
        assert!(html.contains("Store code must be 1-50 alphanumeric characters."));
        assert!(html.contains(r#"aria-invalid="true""#));
        assert!(html.contains(r#"aria-describedby="store_code-hint store_code-error""#));
        assert!(html.contains(r#"name="csrf_token" value="tok-123""#), "the form carries the session's token");
        assert!(html.contains(r#"value="bad code""#), "what was typed stays");
        assert_eq!(html.matches("aria-invalid").count(), 1);
    }

    #[test]
    fn an_edit_keeps_the_code_and_posts_to_the_store() {
        let form = StoreForm { store_code: "s1".into(), store_name: "Old".into(), ..StoreForm::default() };
        let html = render(&viewer(Role::Operator), Mode::Edit("s1"), &form, &None).into_string();
        assert!(html.contains(r#"action="/dashboard/stores/s1/edit""#));
        assert!(!html.contains(r#"name="store_code""#), "the code cannot change");
        assert!(html.contains(r#"value="Old""#));
    }
}
