//! The store import: each row's fate against the stores already stored.

use std::collections::BTreeMap;

use crate::error::DomainError;
use crate::group::StoreScope;
use crate::store::{NewStore, Store, StoreCode};

/// What a store import does when a row's store code already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// The row is an error (the default): nothing is written.
    #[default]
    Fail,
    /// The row is skipped.
    Skip,
    /// The store's name and person in charge are replaced.
    Update,
}

impl OnConflict {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "fail" => Ok(Self::Fail),
            "skip" => Ok(Self::Skip),
            "update" => Ok(Self::Update),
            _ => Err(DomainError::invalid("on_conflict", "must be one of skip, update, fail")),
        }
    }
}

/// What happens (or would happen) to one import row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportAction {
    Create,
    Update,
    Skip,
    Error,
}

impl ImportAction {
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }
}

/// One row's outcome in the import report. `row` counts data rows from 1 (the header is row 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRowReport {
    pub row: usize,
    pub store_code: Option<String>,
    pub action: ImportAction,
    /// The offending field of an error row.
    pub field: Option<String>,
    pub message: Option<String>,
}

/// Totals of an import report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub skipped: usize,
    pub errors: usize,
}

/// The validated writes of an import, applied in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportPlan {
    pub create: Vec<NewStore>,
    pub update: Vec<NewStore>,
    /// Whether updates set the store's group (the file has a `store_group` column); without
    /// one, updated stores keep theirs.
    pub set_group: bool,
}

/// Who imports: the scope of the person or key (rows outside it are errors), and whether the
/// file has a `store_group` column.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub scope: &'a StoreScope,
    pub with_groups: bool,
}

/// Decides each row's fate: `rows` are the parsed rows (or the row's validation error), `existing`
/// the stores already stored under the rows' codes. A scoped importer may create stores only in
/// its groups and never touch a store outside them. Pure: no I/O.
pub fn plan_import(
    rows: &[Result<NewStore, DomainError>],
    existing: &[Store],
    on_conflict: OnConflict,
    ctx: ImportContext<'_>,
) -> (Vec<ImportRowReport>, ImportCounts, ImportPlan) {
    let existing: BTreeMap<&StoreCode, &Store> = existing.iter().map(|s| (&s.code, s)).collect();
    let mut seen: BTreeMap<StoreCode, usize> = BTreeMap::new();
    let mut reports = Vec::with_capacity(rows.len());
    let mut counts = ImportCounts { rows: rows.len(), ..ImportCounts::default() };
    let mut plan = ImportPlan { set_group: ctx.with_groups, ..ImportPlan::default() };
    let outside = || Some("store_group must be one of your store groups".to_owned());
    for (i, row) in rows.iter().enumerate() {
        let n = i + 1;
        let report = |store_code: Option<String>, action, field: Option<&str>, message: Option<String>| {
            ImportRowReport { row: n, store_code, action, field: field.map(str::to_owned), message }
        };
        let r = match row {
            Err(e) => report(None, ImportAction::Error, Some(e.field()), Some(e.to_string())),
            Ok(new) => {
                let code = Some(new.code.to_string());
                if let Some(first) = seen.get(&new.code) {
                    report(
                        code,
                        ImportAction::Error,
                        Some("store_code"),
                        Some(format!("store_code repeats row {first}")),
                    )
                } else {
                    seen.insert(new.code.clone(), n);
                    // The group the store would have after this row.
                    let group_after = |old: Option<&&Store>| match (old, ctx.with_groups) {
                        (Some(old), false) => old.group.clone(),
                        _ => new.group.clone(),
                    };
                    match (existing.get(&new.code), on_conflict) {
                        (Some(old), _) if !ctx.scope.allows(old.group.as_ref()) => report(
                            code,
                            ImportAction::Error,
                            Some("store_code"),
                            Some("store_code already exists".into()),
                        ),
                        (old, _) if !ctx.scope.allows(group_after(old).as_ref()) => {
                            report(code, ImportAction::Error, Some("store_group"), outside())
                        }
                        (None, _) => {
                            plan.create.push(new.clone());
                            report(code, ImportAction::Create, None, None)
                        }
                        (Some(_), OnConflict::Fail) => report(
                            code,
                            ImportAction::Error,
                            Some("store_code"),
                            Some("store_code already exists (on_conflict=fail)".into()),
                        ),
                        (Some(_), OnConflict::Skip) => {
                            report(code, ImportAction::Skip, None, Some("store exists".into()))
                        }
                        (Some(old), OnConflict::Update) if same(old, new, ctx.with_groups) => {
                            report(code, ImportAction::Skip, None, Some("unchanged".into()))
                        }
                        (Some(_), OnConflict::Update) => {
                            plan.update.push(new.clone());
                            report(code, ImportAction::Update, None, None)
                        }
                    }
                }
            }
        };
        match r.action {
            ImportAction::Create => counts.created += 1,
            ImportAction::Update => counts.updated += 1,
            ImportAction::Skip => counts.skipped += 1,
            ImportAction::Error => counts.errors += 1,
        }
        reports.push(r);
    }
    (reports, counts, plan)
}

fn same(old: &Store, new: &NewStore, with_groups: bool) -> bool {
    old.name == new.name.as_str()
        && old.pic_name == new.pic_name.as_str()
        && old.pic_contact.as_deref() == new.pic_contact.as_ref().map(|c| c.as_str())
        && (!with_groups || old.group == new.group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(code: &str, name: &str) -> Store {
        Store {
            code: StoreCode::parse(code).unwrap(),
            name: name.into(),
            pic_name: "Ann".into(),
            pic_contact: None,
            group: Some(crate::group::StoreGroup::parse("north").unwrap()),
            created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        }
    }

    const ALL: ImportContext<'static> = ImportContext { scope: &StoreScope::All, with_groups: false };

    #[test]
    fn import_plan_table() {
        let rows = vec![
            NewStore::parse("new1", "New", "Ann", None),
            NewStore::parse("old1", "Changed", "Ann", None),
            NewStore::parse("old2", "Same", "Ann", None),
            NewStore::parse("bad code", "X", "Ann", None),
            NewStore::parse("new1", "Again", "Ann", None),
        ];
        let existing = [stored("old1", "Old"), stored("old2", "Same")];
        let actions = |oc| {
            let (r, c, p) = plan_import(&rows, &existing, oc, ALL);
            (r.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), c, p.create.len(), p.update.len())
        };
        let (a, c, creates, updates) = actions(OnConflict::Fail);
        assert_eq!(a, ["create", "error", "error", "error", "error"]);
        assert_eq!((c.rows, c.created, c.errors, creates, updates), (5, 1, 4, 1, 0));
        let (a, c, _, _) = actions(OnConflict::Skip);
        assert_eq!(a, ["create", "skip", "skip", "error", "error"]);
        assert_eq!((c.skipped, c.errors), (2, 2));
        let (a, c, creates, updates) = actions(OnConflict::Update);
        assert_eq!(a, ["create", "update", "skip", "error", "error"]);
        assert_eq!((c.created, c.updated, c.skipped, creates, updates), (1, 1, 1, 1, 1));
        let (r, _, _) = plan_import(&rows, &existing, OnConflict::Update, ALL);
        assert_eq!(r[3].field.as_deref(), Some("store_code"));
        assert_eq!(r[4].message.as_deref(), Some("store_code repeats row 1"));
    }

    #[test]
    fn a_scoped_import_stays_in_its_groups() {
        use crate::group::StoreGroup;
        let g = |n: &str| Some(StoreGroup::parse(n).unwrap());
        let north = StoreScope::groups(vec![StoreGroup::parse("north").unwrap()]);
        let mut south = stored("south1", "South");
        south.group = g("south");
        let existing = [stored("old1", "Old"), south];
        let rows = vec![
            NewStore::parse("new_n", "N", "Ann", None).map(|s| s.with_group(g("north"))),
            NewStore::parse("new_s", "S", "Ann", None).map(|s| s.with_group(g("south"))),
            NewStore::parse("new_none", "X", "Ann", None),
            NewStore::parse("old1", "Renamed", "Ann", None).map(|s| s.with_group(g("north"))),
            NewStore::parse("south1", "Mine now", "Ann", None).map(|s| s.with_group(g("north"))),
            NewStore::parse("old1", "Again", "Ann", None),
        ];
        let ctx = ImportContext { scope: &north, with_groups: true };
        let (r, c, p) = plan_import(&rows, &existing, OnConflict::Update, ctx);
        let got: Vec<(&str, Option<&str>)> = r.iter().map(|r| (r.action.as_str(), r.field.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("create", None),
                ("error", Some("store_group")),
                ("error", Some("store_group")),
                ("update", None),
                ("error", Some("store_code")),
                ("error", Some("store_code")),
            ]
        );
        assert_eq!((c.created, c.updated, c.errors), (1, 1, 4));
        assert!(p.set_group);
        // Without a group column an update keeps the store's group, which is in scope.
        let ctx = ImportContext { scope: &north, with_groups: false };
        let rows = vec![NewStore::parse("old1", "Renamed", "Ann", None)];
        let (r, _, p) = plan_import(&rows, &existing, OnConflict::Update, ctx);
        assert_eq!(r[0].action, ImportAction::Update);
        assert!(!p.set_group);
    }
}
