//! The store import: every row planned against the stored stores, then all or nothing.

use hub_domain::{Actor, AuditOutcome, DomainError, ImportContext, OnConflict, StoreCode, plan_import};
use hub_ports::RepoError;

use crate::access::Permission;
use crate::audit::Details;
use crate::reports::service::{ImportReport, ImportRows, ReportError, Reports};

/// The most data rows one store import may hold.
pub const MAX_IMPORT_ROWS: usize = 10_000;

const fn conflict_name(on_conflict: OnConflict) -> &'static str {
    match on_conflict {
        OnConflict::Fail => "fail",
        OnConflict::Skip => "skip",
        OnConflict::Update => "update",
    }
}

impl Reports {
    /// Imports stores (operator): plans every row against the stored stores, then (unless
    /// `dry_run`) writes them and one `store.import` audit row in one transaction. Any invalid
    /// row refuses the whole import ([`ReportError::ImportRejected`] with the row-by-row
    /// report); a refused import (not a dry run) writes one `FAILURE` row. A scoped actor's
    /// rows may create stores only in its groups and never touch a store outside them.
    /// `with_groups`: the file has a `store_group` column.
    pub async fn import_stores(
        &self,
        actor: &Actor,
        rows: ImportRows,
        on_conflict: OnConflict,
        dry_run: bool,
        with_groups: bool,
    ) -> Result<ImportReport, ReportError> {
        self.access.permit(actor, Permission::ManageStores, "store.import").await?;
        let result = self.plan_and_apply(actor, rows, on_conflict, dry_run, with_groups).await;
        if let Err(e) = &result
            && !dry_run
        {
            self.auditor.refused(actor, "store.import", None, None, Details::error(e.reason())).await;
        }
        result
    }

    async fn plan_and_apply(
        &self,
        actor: &Actor,
        rows: ImportRows,
        on_conflict: OnConflict,
        dry_run: bool,
        with_groups: bool,
    ) -> Result<ImportReport, ReportError> {
        let rows = rows?;
        if rows.is_empty() {
            return Err(DomainError::invalid("file", "must hold at least one data row").into());
        }
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(DomainError::invalid("file", "must hold at most 10000 data rows").into());
        }
        let mut codes: Vec<StoreCode> = rows.iter().filter_map(|r| r.as_ref().ok().map(|s| s.code.clone())).collect();
        codes.sort();
        codes.dedup();
        let existing = self.imports.stores_by_code(&codes).await?;
        let ctx = ImportContext { scope: &actor.scope, with_groups };
        let (reports, counts, plan) = plan_import(&rows, &existing, on_conflict, ctx);
        let mut report = ImportReport { dry_run, on_conflict, applied: false, counts, rows: reports };
        if dry_run {
            return Ok(report);
        }
        if counts.errors > 0 {
            return Err(ReportError::ImportRejected(Box::new(report)));
        }
        let details = Details::default()
            .number("rows", counts.rows as i64)
            .number("created", counts.created as i64)
            .number("updated", counts.updated as i64)
            .number("skipped", counts.skipped as i64)
            .text("onConflict", conflict_name(on_conflict));
        let audit = actor.audit("store.import", None, None, AuditOutcome::Success, Some(details.build()));
        match self.imports.apply_import(&plan, &audit).await {
            Ok(()) => {
                tracing::info!(
                    created = counts.created,
                    updated = counts.updated,
                    skipped = counts.skipped,
                    "stores imported"
                );
                report.applied = true;
                Ok(report)
            }
            Err(RepoError::Conflict(m)) => Err(ReportError::Conflict(m)),
            Err(RepoError::NotFound) => Err(ReportError::Conflict("a store to update was deleted".into())),
            Err(e) => Err(e.into()),
        }
    }
}
