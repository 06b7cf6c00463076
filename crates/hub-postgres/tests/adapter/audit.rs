//! Every audited change is one transaction with its audit rows: when an audit row cannot be
//! written, the change is rolled back too (and a change that fails writes no audit row; see
//! each repository's conflict tests).

use chrono::Duration;
use hub_domain::{ImportPlan, NewAuditEntry, NewConnectInvite, NewStore};
use hub_ports::{AccountRepo, ConnectRepo, ConnectedAccount, StoreImportRepo, StoreRepo};
use hub_postgres::Db;
use hub_postgres::testing::TestDb;

use crate::support::*;

/// An audit row the database refuses: its actor is longer than `VARCHAR(100)`.
fn unwritable(action: &str) -> NewAuditEntry {
    NewAuditEntry { actor: "x".repeat(101), ..audit(action, Some("s1")) }
}

/// What the audited changes touch, as row counts.
async fn fingerprint(db: &Db) -> Vec<i64> {
    let mut out = Vec::new();
    for table in [
        "stores",
        "stores WHERE store_name = 'Store s1'",
        "connect_invites",
        "store_accounts",
        "store_accounts WHERE account_identifier = 'open-s1' AND encrypted_access_token = 'access-old' AND encrypted_refresh_token = 'refresh-old'",
        "audit_logs",
    ] {
        out.push(count(db, table).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_audit_row_rolls_back_every_audited_change() {
    let cases = ["store.create", "connect_link.create", "account.connect", "account.replace", "store.import"];
    for action in cases {
        let t = TestDb::new().await;
        let db = t.db();
        store(db, "s1").await;
        if action == "account.replace" {
            connect(db, "s1", "old").await;
        }
        let before = fingerprint(db).await;
        let result = match action {
            "store.create" => {
                db.create(&NewStore::parse("s2", "S2", "Ann", None).unwrap(), &unwritable(action)).await.map(drop)
            }
            "connect_link.create" => {
                let invite = NewConnectInvite {
                    token_hash: "h".repeat(64),
                    store_code: code("s1"),
                    created_by: "key:abcd1234".into(),
                    expires_at: t0() + Duration::days(3),
                };
                db.create_invite(&invite, &unwritable(action)).await.map(drop)
            }
            _ if action.starts_with("account.") => {
                let new = ConnectedAccount {
                    store_code: code("s1"),
                    open_id: "open-new".into(),
                    tokens: tokens("new"),
                    meta: meta(t0()),
                    connected_at: t0(),
                };
                // The good first row is rolled back with the change as well.
                let rows = [audit("account.connect", Some("s1")), unwritable(action)];
                db.save_connected(&new, &rows).await.map(drop)
            }
            _ => {
                let plan = ImportPlan {
                    create: vec![NewStore::parse("s3", "S3", "Ann", None).unwrap()],
                    update: vec![NewStore::parse("s1", "Renamed", "Ann", None).unwrap()],
                    set_group: false,
                };
                db.apply_import(&plan, &unwritable(action)).await
            }
        };
        assert!(result.is_err(), "{action}: the audit row could not be written");
        assert_eq!(fingerprint(db).await, before, "{action}: nothing changed");
    }
}
