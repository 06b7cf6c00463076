//! People and API keys (admins): who may sign in, with which role and store groups, when they
//! last did, and every API key (never its secret), with buttons to add a person, disable or
//! enable one, create a key and revoke one (`people_forms`).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use hub_domain::StoreScope;
use hub_engine::PeopleError;
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::local;
use crate::layout::{self, Section};
use crate::pages::people_forms;
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Export, Table};
use crate::viewer::Viewer;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    format: String,
    #[serde(default)]
    done: String,
}

/// A small POST form with one button (the session's CSRF token in it).
fn button(viewer: &Viewer, action: String, label: &str, what: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name="csrf_token" value=(viewer.csrf);
            button.secondary.small type="submit" aria-label=(format!("{label} {what}")) { (label) }
        }
    }
}

fn people_error(e: PeopleError) -> WebError {
    match e {
        PeopleError::Forbidden(_) => WebError::Forbidden,
        e => WebError::internal(e),
    }
}

fn scope(s: &StoreScope) -> String {
    s.names().map_or_else(|| "every store".to_owned(), |g| g.join(", "))
}

/// `GET /dashboard/people` (`format=users.csv`, `users.xlsx`, `keys.csv` or `keys.xlsx`: a
/// table as a file).
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    viewer.require_admin()?;
    let people = state.engine.people();
    let (users, keys) =
        futures::try_join!(people.users(&viewer.actor), people.keys(&viewer.actor)).map_err(people_error)?;
    let tz = &state.tz;
    let when = |t: Option<DateTime<Utc>>| t.map_or_else(|| "never".to_owned(), |t| local(t, tz));
    let users = Table {
        caption: "People".into(),
        columns: ["Email", "Name", "Role", "Stores", "Active", "Last sign-in"].map(|l| Column::new(l, false)).into(),
        rows: users
            .iter()
            .map(|u| {
                vec![
                    Cell::text(u.email.as_str()),
                    Cell::text(u.name.clone()),
                    Cell::text(u.role.as_str()),
                    Cell::text(scope(&u.scope)),
                    Cell::rich(
                        if u.active { "yes" } else { "no" },
                        html! {
                            @if u.active { span.badge.ok { "active" } } @else { span.badge.idle { "disabled" } }
                            " "
                            @if u.active {
                                (button(&viewer, format!("{}/{}/disable", routes::PEOPLE, u.id.0), "Disable", u.email.as_str()))
                            } @else {
                                (button(&viewer, format!("{}/{}/enable", routes::PEOPLE, u.id.0), "Enable", u.email.as_str()))
                            }
                        },
                    ),
                    Cell::text(when(u.last_login_at)),
                ]
            })
            .collect(),
    };
    let keys = Table {
        caption: "API keys".into(),
        columns: ["Name", "Fingerprint", "Role", "Stores", "Created by", "Expires", "Last used", "State"]
            .map(|l| Column::new(l, false))
            .into(),
        rows: keys
            .iter()
            .map(|k| {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                vec![
                    Cell::text(k.name.clone()),
                    Cell::text(k.fingerprint.clone()),
                    Cell::text(k.role.as_str()),
                    Cell::text(scope(&k.scope)),
                    Cell::text(k.created_by.clone()),
                    Cell::text(k.expires_at.map_or_else(|| "never".to_owned(), |t| local(t, tz))),
                    Cell::text(when(k.last_used_at)),
                    Cell::rich(
                        state,
                        html! {
                            (state)
                            @if k.revoked_at.is_none() {
                                " " (button(&viewer, format!("{}/{}/revoke", routes::PEOPLE_KEYS, k.id.0), "Revoke", &k.name))
                            }
                        },
                    ),
                ]
            })
            .collect(),
    };
    if let Some((which, form)) = params.format.split_once('.') {
        let export = Export::parse(form);
        match (which, export) {
            ("users", Some(export)) => return users.download(export, "people"),
            ("keys", Some(export)) => return keys.download(export, "api-keys"),
            _ => {}
        }
    }
    let content = html! {
        @if let Some((class, text)) = people_forms::notice(&params.done) {
            div.notice.(class) role="status" { (text) }
        }
        div.actions.no-print {
            a.button href=(routes::NEW_PERSON) { "Add a person" }
            a.button.secondary href=(routes::NEW_KEY) { "Create an API key" }
        }
        section.card aria-labelledby="people-h" {
            h2 #people-h { "People" }
            p.no-print {
                a href=(format!("{}?format=users.csv", routes::PEOPLE)) download { "Download CSV" }
                " · "
                a href=(format!("{}?format=users.xlsx", routes::PEOPLE)) download { "Download XLSX" }
            }
            (users.render())
        }
        section.card aria-labelledby="keys-h" {
            h2 #keys-h { "API keys" }
            @if keys.rows.is_empty() {
                p.empty-state { "No personal API keys yet." }
            } @else {
                p.no-print {
                    a href=(format!("{}?format=keys.csv", routes::PEOPLE)) download { "Download CSV" }
                    " · "
                    a href=(format!("{}?format=keys.xlsx", routes::PEOPLE)) download { "Download XLSX" }
                }
                (keys.render())
            }
        }
    };
    Ok(layout::ok(layout::page(&viewer, Section::People, "People and API keys", content)))
}
