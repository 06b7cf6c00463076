//! Sync: the jobs with their schedules and next runs, live progress of running jobs (a
//! fragment the script polls; without the script, a refresh link), each job's last run, the
//! newest sync-log lines, and "Run now" for operators.

use actix_web::{HttpResponse, web};
use hub_domain::StoreCode;
use hub_engine::{JobSelection, LiveRun, SyncError, SyncOutcome, SyncRequest, SyncStatus, Triggered, collect};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::{duration, local, thousands};
use crate::layout::{self, Section};
use crate::pages::connect::CsrfForm;
use crate::pages::overview::{job_label, runs_table};
use crate::routes;
use crate::state::WebState;
use crate::table::{Cell, Column, Table};
use crate::viewer::Viewer;

const LOG_LINES: i64 = 30;

#[derive(Debug, Deserialize)]
pub(crate) struct Params {
    started: Option<u8>,
    busy: Option<u8>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    job: String,
}

/// The live fragment: a progress bar per running job; `data-done` when nothing runs (the
/// script stops polling).
pub(crate) fn live_fragment(live: &[LiveRun]) -> Markup {
    html! {
        @if live.is_empty() {
            div data-done { p #live-state { "No sync is running." } }
        } @else {
            div {
                p #live-state.sr-only { "A sync is running." }
                @for r in live {
                    div.live-run data-run=(r.run_id) {
                        label for=(format!("run-{}", r.run_id)) {
                            (job_label(r.job)) " · run " (r.run_id) ": "
                            (thousands(r.processed)) " of " (thousands(r.total)) " stores"
                        }
                        progress id=(format!("run-{}", r.run_id)) max=(r.total.max(1)) value=(r.processed) {
                            (r.processed) " of " (r.total)
                        }
                        p.hint {
                            (thousands(r.succeeded)) " done, " (thousands(r.failed)) " failed, " (thousands(r.skipped)) " skipped"
                            @if let Some(eta) = r.eta_seconds { " · about " (duration(eta.round() as i64)) " to go" }
                        }
                    }
                }
            }
        }
    }
}

fn jobs_table(status: &SyncStatus, tz: &chrono_tz::Tz) -> Table {
    Table {
        caption: "Scheduled jobs".into(),
        columns: vec![
            Column::new("Job", false),
            Column::new("Schedule", false),
            Column::new("Next run", false),
            Column::new("State", false),
        ],
        rows: status
            .jobs
            .iter()
            .map(|j| {
                let state = if j.running {
                    "running"
                } else if j.scheduled.retrying {
                    "retrying"
                } else {
                    "idle"
                };
                vec![
                    Cell::text(job_label(j.scheduled.job)),
                    Cell::text(j.scheduled.schedule.clone()),
                    Cell::text(j.scheduled.next_run.map_or_else(|| "not scheduled".into(), |t| local(t, tz))),
                    Cell::text(state),
                ]
            })
            .collect(),
    }
}

fn render(
    status: &SyncStatus,
    logs: &[hub_domain::SyncLog],
    viewer: &Viewer,
    tz: &chrono_tz::Tz,
    p: &Params,
) -> Markup {
    let last_runs: Vec<hub_domain::SyncRun> = status.jobs.iter().filter_map(|j| j.last_run.clone()).collect();
    let content = html! {
        @if p.started.is_some() { div.notice.ok role="status" { "The sync started. Its progress shows below." } }
        @if p.busy.is_some() { div.notice.bad role="alert" { "That job is already running: wait for it to finish." } }
        section.card aria-labelledby="live-h" {
            h2 #live-h { "Running now" }
            div #live aria-live="polite" data-poll=(routes::SYNC_LIVE) data-every="1000" { (live_fragment(&status.live)) }
            p.no-print { a href=(routes::SYNC) { "Refresh" } }
            @if viewer.can_run_chain() {
                form method="post" action=(routes::SYNC_RUN) {
                    input type="hidden" name="csrf_token" value=(viewer.csrf);
                    label for="job" { "Job" }
                    div.actions {
                        select #job name="job" {
                            @for (name, sel) in JobSelection::NAMED {
                                option value=(name) { (selection_label(sel)) }
                            }
                        }
                        button type="submit" { "Run now" }
                    }
                }
            }
        }
        div.grid {
            section.card aria-labelledby="jobs-h" {
                h2 #jobs-h { "Schedule" }
                p.hint { @if status.enabled { "Times in " (status.timezone) "." } @else { "The scheduler is off on this instance (CRON_ENABLED)." } }
                (jobs_table(status, tz).render())
            }
            section.card aria-labelledby="last-h" {
                h2 #last-h { "Last runs" }
                @if last_runs.is_empty() { p.empty-state { "No run yet." } } @else { (runs_table(&last_runs, tz)) }
            }
        }
        section.card aria-labelledby="log-h" {
            h2 #log-h { "Newest sync-log lines" }
            @if logs.is_empty() {
                p.empty-state { "Nothing synced yet." }
            } @else {
                (Table {
                    caption: "Sync log".into(),
                    columns: vec![Column::new("When", false), Column::new("Store", false), Column::new("Job", false), Column::new("Outcome", false), Column::new("Message", false)],
                    rows: logs.iter().map(|l| {
                        let store = l.log.store_code.as_ref().map_or("", StoreCode::as_str).to_owned();
                        vec![
                            Cell::text(local(l.run_time, tz)),
                            Cell::rich(store.clone(), html! { @if !store.is_empty() { a href=(routes::store(&store)) { (store) } } }),
                            Cell::text(job_label(l.log.job)),
                            Cell::text(l.log.status.as_str().to_lowercase()),
                            Cell::text(l.log.message.clone()),
                        ]
                    }).collect(),
                }.render())
            }
        }
    };
    layout::page(viewer, Section::Sync, "Sync", content)
}

fn selection_label(s: JobSelection) -> &'static str {
    match s {
        JobSelection::All => "Everything (tokens, profiles, videos)",
        JobSelection::User => "Profiles",
        JobSelection::Video => "Videos",
        JobSelection::RefreshTokens => "Token refresh",
    }
}

/// `GET /dashboard/sync`.
pub(crate) async fn page(
    state: web::Data<WebState>,
    viewer: Viewer,
    params: web::Query<Params>,
) -> Result<HttpResponse, WebError> {
    let syncs = state.engine.syncs();
    let status = syncs.status(&viewer.actor).await.map_err(WebError::from)?;
    let logs = collect(syncs.logs(&viewer.actor, None, Some(LOG_LINES)).await.map_err(WebError::from)?)
        .await
        .map_err(WebError::from)?;
    Ok(layout::ok(render(&status, &logs, &viewer, &state.tz, &params)))
}

/// `GET /dashboard/sync/live`: the live fragment.
pub(crate) async fn live(state: web::Data<WebState>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    // Runs cover every store: for people who see every store (as the sync status).
    if !viewer.chain_wide() {
        return Err(WebError::Forbidden);
    }
    Ok(layout::ok(live_fragment(&state.engine.syncs().live_runs())))
}

/// `POST /dashboard/sync/run` (operators): starts the chosen jobs for every store.
pub(crate) async fn run(
    state: web::Data<WebState>,
    viewer: Viewer,
    form: web::Form<RunForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &form.csrf_token).await?;
    if !viewer.can_run_chain() {
        return Err(WebError::Forbidden);
    }
    let selection =
        JobSelection::parse(&form.job).ok_or_else(|| WebError::BadRequest("Choose a job to run.".into()))?;
    let request = SyncRequest { store: None, selection, wait: false };
    match state.engine.syncs().trigger(&viewer.actor, request).await {
        Ok(_) => Ok(layout::see_other(&format!("{}?started=1", routes::SYNC))),
        Err(SyncError::AlreadyRunning(_)) => Ok(layout::see_other(&format!("{}?busy=1", routes::SYNC))),
        Err(e) => Err(e.into()),
    }
}

/// `POST /dashboard/stores/{code}/sync` (operators): syncs one store (profile and videos,
/// a few seconds) and shows the store with the outcome.
pub(crate) async fn sync_store(
    state: web::Data<WebState>,
    viewer: Viewer,
    code: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &form.csrf_token).await?;
    if !viewer.may(hub_engine::Permission::RunSyncs) {
        return Err(WebError::Forbidden);
    }
    let code = StoreCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let request = SyncRequest { store: Some(code.clone()), selection: JobSelection::All, wait: true };
    match state.engine.syncs().trigger(&viewer.actor, request).await {
        Ok(t) => {
            let ok = matches!(t, Triggered::Finished(SyncOutcome::Store(r)) if r.success);
            let to = format!("{}?synced={}", routes::store(code.as_str()), if ok { "ok" } else { "failed" });
            Ok(layout::see_other(&to))
        }
        Err(SyncError::StoreNotFound) => Err(WebError::NotFound),
        Err(SyncError::AlreadyRunning(_)) => Ok(layout::see_other(&format!("{}?busy=1", routes::SYNC))),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::JobKind;

    #[test]
    fn only_operators_get_run_now() {
        use crate::viewer::tests::viewer;
        use hub_domain::Role;
        let status = SyncStatus { enabled: true, timezone: "Asia/Jakarta".into(), jobs: vec![], live: vec![] };
        let p = Params { started: None, busy: None };
        let html = |role| render(&status, &[], &viewer(role), &chrono_tz::UTC, &p).into_string();
        assert!(!html(Role::Viewer).contains(routes::SYNC_RUN));
        assert!(!html(Role::Viewer).contains("Run now"));
        assert!(html(Role::Operator).contains(routes::SYNC_RUN));
    }

    #[test]
    fn the_live_fragment_says_done_when_nothing_runs() {
        let html = live_fragment(&[]).into_string();
        assert!(html.starts_with("<div data-done>"), "{html}");
        let run = LiveRun {
            run_id: 7,
            job: JobKind::SyncUserDaily,
            scheduled_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            started_at: chrono::Utc::now(),
            total: 300,
            processed: 120,
            succeeded: 118,
            failed: 2,
            skipped: 0,
            records: 118,
            rate: 4.0,
            eta_seconds: Some(45.0),
        };
        let html = live_fragment(&[run]).into_string();
        assert!(!html.contains("data-done"));
        assert!(html.contains(r#"<progress id="run-7" max="300" value="120">"#), "{html}");
        assert!(html.contains("120 of 300 stores"));
        assert!(html.contains("about 45s to go"));
    }
}
