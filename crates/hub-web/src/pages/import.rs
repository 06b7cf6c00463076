//! Importing stores from a CSV file (operators): upload, see the dry run row by row, then
//! import. The same reader as the API's `POST /admin/stores/import`
//! ([`hub_engine::import_file`]) and the same use case; the preview is the use case's dry
//! run, and the import itself is checked again, all or nothing. The confirmation carries the
//! file's text back (no upload is kept on the server between the two steps).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use hub_domain::{ImportAction, OnConflict};
use hub_engine::import_file::{self, MAX_UPLOAD};
use hub_engine::{ImportReport, MAX_IMPORT_ROWS, ReportError};
use maud::{Markup, html};

use crate::error::WebError;
use crate::form::{self, FieldError};
use crate::layout::{self, Section};
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Table};
use crate::viewer::Viewer;

const CONFLICTS: [(&str, &str); 3] = [
    ("fail", "Refuse the file if a store already exists"),
    ("skip", "Leave existing stores as they are"),
    ("update", "Update existing stores from the file"),
];

/// Room for the form's other fields beside the file.
const FORM_OVERHEAD: usize = 64 * 1024;

fn upload_form(viewer: &Viewer, on_conflict: &str, error: &FieldError) -> Markup {
    let content = html! {
        section.card aria-label="Import stores" {
            p {
                "A CSV file with the columns " code { (import_file::COLUMNS.join(",")) }
                " (the last two optional), at most " (MAX_IMPORT_ROWS) " rows. "
                a href=(routes::IMPORT_TEMPLATE) download { "Download the template" } "."
            }
            form method="post" action=(routes::IMPORT) enctype="multipart/form-data" {
                input type="hidden" name="csrf_token" value=(viewer.csrf);
                input type="hidden" name="step" value="preview";
                div.field {
                    label for="file" { "CSV file" }
                    input #file type="file" name="file" accept=".csv,text/csv" required
                        aria-invalid=[error.as_ref().filter(|(f, _)| *f == "file").map(|_| "true")]
                        aria-describedby="file-hint file-error";
                    div.hint id="file-hint" { "Nothing is written until you confirm the preview." }
                    @if let Some((_, e)) = error.as_ref().filter(|(f, _)| *f == "file") { div.error id="file-error" { (e) } }
                }
                (form::select("When a store already exists", "on_conflict", &CONFLICTS, on_conflict, "Rows of other stores are created.", error))
                div.actions {
                    button type="submit" { "Preview" }
                    a href=(routes::STORES) { "Cancel" }
                }
            }
        }
    };
    layout::page(viewer, Section::Stores, "Import stores", content)
}

fn action_badge(a: &ImportAction) -> Markup {
    let class = match a {
        ImportAction::Create | ImportAction::Update => "ok",
        ImportAction::Skip => "idle",
        ImportAction::Error => "bad",
    };
    html! { span class=(format!("badge {class}")) { (a.as_str()) } }
}

/// The dry run's rows as a table.
pub(crate) fn report_table(report: &ImportReport) -> Table {
    Table {
        caption: "Rows of the file".into(),
        columns: vec![
            Column::new("Row", true),
            Column::new("Store code", false),
            Column::new("Action", false),
            Column::new("Problem", false),
        ],
        rows: report
            .rows
            .iter()
            .map(|r| {
                let problem = match (&r.field, &r.message) {
                    (Some(f), Some(m)) => format!("{f}: {m}"),
                    (None, Some(m)) => m.clone(),
                    _ => String::new(),
                };
                vec![
                    Cell::num(Some(r.row as i64)),
                    Cell::text(r.store_code.clone().unwrap_or_default()),
                    Cell::rich(r.action.as_str(), action_badge(&r.action)),
                    Cell::text(problem),
                ]
            })
            .collect(),
    }
}

pub(crate) fn preview(viewer: &Viewer, report: &ImportReport, csv: &str, on_conflict: &str) -> Markup {
    let c = report.counts;
    let content = html! {
        section.card aria-labelledby="preview-h" {
            h2 #preview-h { "Preview: nothing is written yet" }
            p #import-summary {
                (c.rows) " rows: " (c.created) " to create, " (c.updated) " to update, "
                (c.skipped) " to skip, " (c.errors) " with errors."
            }
            @if c.errors > 0 {
                div.notice.bad role="alert" { "Fix the rows with errors and upload the file again: an import is all or nothing." }
                div.actions { a.button href=(routes::IMPORT) { "Upload again" } }
            } @else {
                form method="post" action=(routes::IMPORT) enctype="multipart/form-data" {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    input type="hidden" name="step" value="import";
                    input type="hidden" name="on_conflict" value=(on_conflict);
                    input type="hidden" name="csv" value=(csv);
                    div.actions {
                        button type="submit" { "Import " (c.created + c.updated) " stores" }
                        a href=(routes::IMPORT) { "Start over" }
                    }
                }
            }
            (report_table(report).render())
        }
    };
    layout::page(viewer, Section::Stores, "Import stores", content)
}

/// `GET /dashboard/stores/import`.
pub(crate) async fn page(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_operator()?;
    Ok(layout::ok(upload_form(&viewer, "fail", &None)))
}

/// `GET /dashboard/stores/import/template`: the template CSV.
pub(crate) async fn template(viewer: Viewer) -> Result<HttpResponse, WebError> {
    viewer.require_operator()?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"stores-import-template.csv\""))
        .body(import_file::template()))
}

/// Reads the whole multipart body (at most the upload limit and the form's other fields).
async fn read(mut payload: web::Payload) -> Result<Option<Vec<u8>>, WebError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(WebError::internal)?;
        if body.len() + chunk.len() > MAX_UPLOAD + FORM_OVERHEAD {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// `POST /dashboard/stores/import`: `step=preview` (the file) shows the dry run; `step=import`
/// (the previewed text) imports.
pub(crate) async fn submit(
    state: web::Data<WebState>,
    viewer: Viewer,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(body) = read(payload).await? else {
        viewer.require_operator()?;
        let error = Some(("file", format!("The file is larger than {} MiB.", MAX_UPLOAD / (1024 * 1024))));
        return Ok(layout::ok(upload_form(&viewer, "fail", &error)));
    };
    let field = |name: &str| import_file::multipart_field(&body, content_type, name).ok();
    let text = |name: &str| field(name).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    viewer.check_csrf(&state, &text("csrf_token")).await?;
    viewer.require_operator()?;
    let conflict_raw = text("on_conflict");
    let Ok(on_conflict) = OnConflict::parse(&conflict_raw) else {
        return Ok(layout::ok(upload_form(
            &viewer,
            "fail",
            &Some(("on_conflict", "Choose what to do with existing stores.".into())),
        )));
    };
    let dry_run = text("step") != "import";
    let file: Vec<u8> = match (dry_run, field("file"), field("csv")) {
        (true, Some(f), _) if !f.is_empty() => f.to_vec(),
        (false, _, Some(c)) => c.to_vec(),
        _ => return Ok(layout::ok(upload_form(&viewer, &conflict_raw, &Some(("file", "Choose a CSV file.".into()))))),
    };
    let parsed = match import_file::parse_file(&file, MAX_IMPORT_ROWS) {
        Ok(f) => f,
        Err(e) => return Ok(layout::ok(upload_form(&viewer, &conflict_raw, &Some(("file", form::sentence(&e.0)))))),
    };
    let reports = state.engine.reports();
    match reports.import_stores(&viewer.actor, Ok(parsed.rows), on_conflict, dry_run, parsed.with_groups).await {
        Ok(report) if dry_run => {
            let csv = String::from_utf8_lossy(&file).into_owned();
            Ok(layout::ok(preview(&viewer, &report, &csv, &conflict_raw)))
        }
        Ok(report) => {
            let c = report.counts;
            let done = format!("{}?imported={}&updated={}&skipped={}", routes::STORES, c.created, c.updated, c.skipped);
            Ok(layout::see_other(&done))
        }
        // The stores changed since the preview: show what the import found.
        Err(ReportError::ImportRejected(report)) => {
            let csv = String::from_utf8_lossy(&file).into_owned();
            Ok(layout::ok(preview(&viewer, &report, &csv, &conflict_raw)))
        }
        Err(ReportError::Invalid(e)) => {
            Ok(layout::ok(upload_form(&viewer, &conflict_raw, &Some(("file", form::sentence(&e.to_string()))))))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use hub_domain::{ImportCounts, ImportRowReport, Role};

    fn report(errors: bool) -> ImportReport {
        let row = |row, code: &str, action, message: Option<&str>| ImportRowReport {
            row,
            store_code: Some(code.into()),
            action,
            field: message.map(|_| "store_name".into()),
            message: message.map(Into::into),
        };
        let mut rows = vec![row(2, "a1", ImportAction::Create, None), row(3, "b2", ImportAction::Update, None)];
        if errors {
            rows.push(row(4, "c3", ImportAction::Error, Some("must not be empty")));
        }
        let counts = ImportCounts { rows: rows.len(), created: 1, updated: 1, skipped: 0, errors: usize::from(errors) };
        ImportReport { dry_run: true, on_conflict: OnConflict::Update, applied: false, counts, rows }
    }

    #[test]
    fn a_clean_preview_offers_the_import_with_the_file_and_a_faulty_one_does_not() {
        let csv = "store_code,store_name,pic_name\r\na1,\"A \"\"one\"\"\",Ann\r\n";
        let html = preview(&viewer(Role::Operator), &report(false), csv, "update").into_string();
        assert!(html.contains("Import 2 stores"), "{html}");
        assert!(html.contains(r#"name="step" value="import""#));
        assert!(html.contains(r#"name="on_conflict" value="update""#));
        assert!(html.contains("A &quot;&quot;one&quot;&quot;"), "the file goes back escaped: {html}");
        let html = preview(&viewer(Role::Operator), &report(true), csv, "update").into_string();
        assert!(!html.contains(r#"value="import""#), "no import with errors");
        assert!(html.contains("store_name: must not be empty"));
        assert!(html.contains("1 with errors"));
    }
}
