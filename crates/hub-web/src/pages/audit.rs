//! The audit log (admins): who did what, newest first, filterable by action and store.

use actix_web::{HttpResponse, web};
use hub_domain::{AuditFilter, StoreCode};
use maud::html;
use serde::Deserialize;

use crate::error::WebError;
use crate::format::local;
use crate::layout::{self, Section};
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Export, Table};
use crate::viewer::Viewer;

const LIMIT: i64 = 200;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    #[serde(default)]
    action: String,
    #[serde(default)]
    store: String,
    #[serde(default)]
    format: String,
}

/// `GET /dashboard/audit` (`format=csv` or `xlsx`: the same rows as a file).
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    viewer.require_admin()?;
    let store_code = match params.store.trim() {
        "" => None,
        s => Some(StoreCode::parse(s).map_err(|_| WebError::BadRequest("That is not a store code.".into()))?),
    };
    let action = Some(params.action.trim().to_owned()).filter(|a| !a.is_empty());
    let filter = AuditFilter { action, store_code, actor: None, stores_in: None, limit: LIMIT };
    let rows = state.engine.admin().audit_logs(&viewer.actor, &filter).await?;
    let tz = &state.tz;
    let table = Table {
        caption: "Audit log".into(),
        columns: ["When", "Who", "Action", "Store", "Outcome", "Details"].map(|l| Column::new(l, false)).into(),
        rows: rows
            .iter()
            .map(|r| {
                let e = &r.entry;
                vec![
                    Cell::text(local(r.created_at, tz)),
                    Cell::text(e.actor.clone()),
                    Cell::text(e.action.clone()),
                    Cell::text(e.store_code.as_ref().map_or("", StoreCode::as_str)),
                    Cell::text(e.outcome.as_str()),
                    Cell::text(e.details.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    };
    if let Some(export) = Export::parse(&params.format) {
        return table.download(export, "audit");
    }
    let link = |format: &str| {
        format!(
            "{}?action={}&store={}&format={format}",
            routes::AUDIT,
            routes::encode(params.action.trim()),
            routes::encode(params.store.trim())
        )
    };
    let content = html! {
        section.card aria-label="Audit log" {
            form.toolbar method="get" action=(routes::AUDIT) {
                div { label for="action" { "Action" } input #action type="text" name="action" value=(params.action) placeholder="store.create"; }
                div { label for="store" { "Store code" } input #store type="text" name="store" value=(params.store); }
                button type="submit" { "Filter" }
                a.button.secondary href=(link("csv")) download { "Download CSV" }
                a.button.secondary href=(link("xlsx")) download { "Download XLSX" }
            }
            @if rows.is_empty() { p.empty-state { "No audit rows match." } } @else { (table.render()) }
        }
    };
    Ok(layout::ok(layout::page(&viewer, Section::Audit, "Audit log", content)))
}
