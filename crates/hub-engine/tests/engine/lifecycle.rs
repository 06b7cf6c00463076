//! Port-level tests of a store's lifecycle: disconnect and archive revoke the grant at
//! TikTok (with the decrypted access token), a failed revoke stays pending and is retried,
//! every call is audited and idempotent, restore, revoked links.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use hub_domain::*;
use hub_engine::testing::{self, *};
use hub_engine::{ConnectError, EngineConfig, LifecycleError, RevokeOutcome};
use hub_ports::*;

fn admin() -> Actor {
    Actor::break_glass("key:abc".into(), None, None)
}

fn world() -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    {
        let mut w = w.lock().unwrap();
        w.add_store("s1");
        w.add_store("s2");
        w.connect("s1", Duration::hours(24));
    }
    w
}

/// A TikTok whose revoke fails `failures` times (transiently), then succeeds; it records the
/// tokens it was asked to revoke.
fn revoking(failures: usize) -> (MockTikTokApi, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let left = Arc::new(Mutex::new(failures));
    let mut t = MockTikTokApi::new();
    let s = seen.clone();
    t.expect_revoke().returning(move |token| {
        s.lock().unwrap().push(token.expose().clone());
        let mut left = left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            return Err(TikTokError::Transient { message: "down".into() });
        }
        Ok(())
    });
    (t, seen)
}

fn actions(w: &Shared) -> Vec<(String, AuditOutcome)> {
    w.lock().unwrap().audit.iter().map(|a| (a.action.clone(), a.outcome)).collect()
}

#[tokio::test]
async fn disconnect_revokes_with_the_access_token_and_is_idempotent() {
    let w = world();
    let (tiktok, seen) = revoking(0);
    let engine = testing::engine(&w, tiktok, t0(), EngineConfig::default());
    let s1 = code("s1");

    let c = engine.lifecycle().disconnect(&admin(), &s1).await.unwrap();
    assert_eq!((c.changed, c.revoke), (true, RevokeOutcome::Revoked));
    assert_eq!(c.store.connection_status, Some(ConnectionStatus::Disconnected));
    assert_eq!(*seen.lock().unwrap(), ["act.s1"]);
    {
        let w = w.lock().unwrap();
        assert_eq!(w.accounts["s1"].tokens, None, "tokens wiped");
        assert!(w.revocations.is_empty(), "nothing left to revoke");
    }

    let again = engine.lifecycle().disconnect(&admin(), &s1).await.unwrap();
    assert_eq!((again.changed, again.revoke), (false, RevokeOutcome::NothingToRevoke));
    assert_eq!(seen.lock().unwrap().len(), 1, "TikTok called once");
    let success = (String::from("store.disconnect"), AuditOutcome::Success);
    assert_eq!(actions(&w), [success.clone(), success]);

    let err = engine.lifecycle().disconnect(&admin(), &code("ghost")).await.unwrap_err();
    assert_eq!(err, LifecycleError::StoreNotFound);
    assert_eq!(actions(&w).last().unwrap(), &(String::from("store.disconnect"), AuditOutcome::Failure));
}

#[tokio::test]
async fn a_failed_revoke_leaves_no_token_on_the_account_and_is_retried() {
    let w = world();
    let (tiktok, seen) = revoking(2);
    let engine = testing::engine(&w, tiktok, t0(), EngineConfig::default());
    let c = engine.lifecycle().archive(&admin(), &code("s1")).await.unwrap();
    assert_eq!(c.revoke, RevokeOutcome::Pending);
    {
        let w = w.lock().unwrap();
        assert_eq!(w.accounts["s1"].tokens, None, "no token stays on the account");
        assert_eq!(w.revocations.len(), 1);
        assert_eq!(w.revocations[0].attempts, 1);
        assert!(!w.revocations[0].tokens.access.contains("act.s1"), "still encrypted");
    }
    // Not yet due: the clock has not moved.
    let sweep = engine.lifecycle().retry_revocations().await.unwrap();
    assert_eq!((sweep.revoked, sweep.pending), (0, 0));

    let later = |m| testing::engine(&w, revoking(0).0, t0() + Duration::minutes(m), EngineConfig::default());
    // Due a minute later; this TikTok answers.
    let sweep = later(1).lifecycle().retry_revocations().await.unwrap();
    assert_eq!((sweep.revoked, sweep.pending), (1, 0));
    assert!(w.lock().unwrap().revocations.is_empty());
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn archive_hides_the_store_refuses_links_and_restore_brings_it_back() {
    let w = world();
    let engine = testing::engine(&w, revoking(0).0, t0(), EngineConfig::default());
    let s1 = code("s1");
    let c = engine.lifecycle().archive(&admin(), &s1).await.unwrap();
    assert!(c.changed && c.store.store.archived_at.is_some());
    let listed = hub_engine::collect(engine.admin().stores(&admin()).await.unwrap()).await.unwrap();
    assert_eq!(listed.iter().map(|o| o.store.code.as_str()).collect::<Vec<_>>(), ["s2"]);
    let all = hub_engine::collect(engine.lifecycle().all_stores(&admin()).await.unwrap()).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(engine.connect().issue_link(&admin(), &s1).await.unwrap_err(), ConnectError::StoreArchived);

    assert!(!engine.lifecycle().archive(&admin(), &s1).await.unwrap().changed);
    let r = engine.lifecycle().restore(&admin(), &s1).await.unwrap();
    assert!(r.changed && r.store.store.archived_at.is_none());
    assert!(!engine.lifecycle().restore(&admin(), &s1).await.unwrap().changed);
    assert!(engine.connect().issue_link(&admin(), &s1).await.is_ok());
}

#[tokio::test]
async fn a_new_link_revokes_the_old_and_delete_revokes_all() {
    let w = world();
    let engine = testing::engine(&w, revoking(0).0, t0(), EngineConfig::default());
    let s2 = code("s2");
    engine.connect().issue_link(&admin(), &s2).await.unwrap();
    engine.connect().issue_link(&admin(), &s2).await.unwrap();
    let usable = |w: &Shared| w.lock().unwrap().invites.iter().filter(|i| i.is_usable(t0())).count();
    assert_eq!(usable(&w), 1, "only the newest link works");
    assert_eq!(engine.lifecycle().revoke_links(&admin(), &s2).await.unwrap(), 1);
    assert_eq!(usable(&w), 0);
    assert_eq!(engine.lifecycle().revoke_links(&admin(), &s2).await.unwrap(), 0);
}

#[tokio::test]
async fn a_viewer_may_not_disconnect_and_is_denied() {
    let w = world();
    let (tiktok, seen) = revoking(0);
    let engine = testing::engine(&w, tiktok, t0(), EngineConfig::default());
    let viewer = Actor { role: Role::Viewer, ..admin() };
    let err = engine.lifecycle().disconnect(&viewer, &code("s1")).await.unwrap_err();
    assert_eq!(err, LifecycleError::Forbidden);
    assert_eq!(actions(&w), [(String::from("store.disconnect"), AuditOutcome::Denied)]);
    assert!(seen.lock().unwrap().is_empty());
    assert!(w.lock().unwrap().accounts["s1"].tokens.is_some());
}
