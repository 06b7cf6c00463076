//! `schema.rs` against the migrated database, and migrations up → down → up.

use std::collections::BTreeMap;

use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use hub_postgres::testing::TestDb;
use hub_postgres::{Db, reset_schema, run_migrations};

/// (table, column) → (type, nullable), as `src/schema.rs` declares them.
type Columns = BTreeMap<(String, String), (String, bool)>;

/// Reads the `table!` blocks of `src/schema.rs`.
fn declared() -> Columns {
    let src = include_str!("../../src/schema.rs");
    let mut out = Columns::new();
    let mut table: Option<String> = None;
    for line in src.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{')) {
            table = Some(name.trim().to_owned());
        } else if line == "}" {
            table = None;
        } else if let (Some(t), Some((col, ty))) = (&table, line.split_once("->")) {
            let ty = ty.trim().trim_end_matches(',');
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (ty, false),
            };
            out.insert((t.clone(), col.trim().to_owned()), (ty.to_owned(), nullable));
        }
    }
    out
}

/// The SQL type names (`information_schema.columns.data_type`) a diesel type may map to.
fn compatible(diesel: &str, sql: &str) -> bool {
    matches!(
        (diesel, sql),
        ("Int8" | "BigInt", "bigint")
            | ("Int4" | "Integer", "integer")
            | ("Int2" | "SmallInt", "smallint")
            | ("Varchar", "character varying")
            | ("Text", "text")
            | ("Date", "date")
            | ("Timestamptz", "timestamp with time zone")
            | ("Bool", "boolean")
            | ("Float8", "double precision")
    )
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = Text)]
    detail: String,
}

async fn columns(db: &Db) -> Vec<ColumnInfo> {
    let mut conn = db.conn().await.unwrap();
    diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text,
                concat_ws(' ', character_maximum_length, column_default) AS detail
         FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
         ORDER BY table_name, column_name",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
struct IndexInfo {
    #[diesel(sql_type = Text)]
    indexname: String,
    #[diesel(sql_type = Text)]
    indexdef: String,
}

async fn indexes_and_constraints(db: &Db) -> Vec<IndexInfo> {
    let mut conn = db.conn().await.unwrap();
    diesel::sql_query(
        "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL
         SELECT conname::text, pg_get_constraintdef(c.oid) FROM pg_constraint c
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public'
         ORDER BY 1, 2",
    )
    .load(&mut conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_matches_the_migrated_database() {
    let t = TestDb::new().await;
    let declared = declared();
    assert!(declared.len() > 50, "parsed only {} columns of schema.rs", declared.len());
    let actual: Columns = columns(t.db())
        .await
        .into_iter()
        .map(|c| ((c.table_name, c.column_name), (c.data_type, c.is_nullable == "YES")))
        .collect();
    let mut problems = Vec::new();
    for (key, (ty, nullable)) in &declared {
        match actual.get(key) {
            None => problems.push(format!("{key:?} is in schema.rs, not in the database")),
            Some((sql, sql_nullable)) => {
                if !compatible(ty, sql) {
                    problems.push(format!("{key:?}: schema.rs {ty}, database {sql}"));
                }
                if nullable != sql_nullable {
                    problems.push(format!("{key:?}: schema.rs nullable={nullable}, database nullable={sql_nullable}"));
                }
            }
        }
    }
    for key in actual.keys().filter(|k| !declared.contains_key(*k)) {
        problems.push(format!("{key:?} is in the database, not in schema.rs"));
    }
    assert!(problems.is_empty(), "schema.rs drifted:\n{}", problems.join("\n"));
}

#[test]
fn the_type_table_rejects_mismatches() {
    let cases = [
        ("Int8", "bigint", true),
        ("Int8", "integer", false),
        ("Int4", "bigint", false),
        ("Varchar", "text", false),
        ("Text", "text", true),
        ("Timestamptz", "timestamp without time zone", false),
        ("Date", "date", true),
    ];
    for (diesel, sql, ok) in cases {
        assert_eq!(compatible(diesel, sql), ok, "{diesel} vs {sql}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_up_down_up_leave_the_same_schema() {
    let t = TestDb::new().await;
    let cols_before = columns(t.db()).await;
    let idx_before = indexes_and_constraints(t.db()).await;
    assert!(cols_before.len() > 50);
    assert!(idx_before.iter().any(|i| i.indexname == "tiktok_video_daily_store_date_video_key"));

    reset_schema(t.url()).await.unwrap();
    assert!(columns(t.db()).await.is_empty(), "down.sql left tables behind");

    let applied = run_migrations(t.url()).await.unwrap();
    assert!(!applied.is_empty());
    assert_eq!(columns(t.db()).await, cols_before);
    assert_eq!(indexes_and_constraints(t.db()).await, idx_before);
    // Applying again is a no-op.
    assert!(run_migrations(t.url()).await.unwrap().is_empty());
}
