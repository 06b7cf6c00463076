//! The hub's own health: one database ping serves every check of a second, and readiness
//! needs the database and this build's migrations.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use hub_engine::testing::{self, *};
use hub_engine::{Engine, EngineConfig};
use hub_ports::*;

/// A database that answers after a pause, counting pings; `pending` migrations missing.
struct SlowDb {
    pings: AtomicUsize,
    pending: usize,
}

#[async_trait]
impl DbHealth for SlowDb {
    async fn ping(&self) -> RepoResult<()> {
        self.pings.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }

    async fn pending_migrations(&self) -> RepoResult<usize> {
        Ok(self.pending)
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

fn engine_over(db: Arc<SlowDb>, cache: Duration) -> Arc<Engine> {
    let w = Shared::default();
    let mut ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), fixed_clock(t0()));
    ports.health = db;
    Arc::new(Engine::new(ports, EngineConfig { health_ping_cache: cache, ..EngineConfig::default() }, STATE_SECRET))
}

#[tokio::test]
async fn two_hundred_checks_at_once_make_one_ping() {
    let db = Arc::new(SlowDb { pings: AtomicUsize::new(0), pending: 0 });
    let engine = engine_over(db.clone(), Duration::from_secs(1));
    let checks: Vec<_> = (0..200)
        .map(|i| {
            let engine = Arc::clone(&engine);
            tokio::spawn(async move {
                if i % 2 == 0 {
                    engine.system().health().await.database
                } else {
                    engine.system().readiness().await.ready()
                }
            })
        })
        .collect();
    for c in checks {
        assert!(c.await.unwrap());
    }
    assert_eq!(db.pings.load(Ordering::SeqCst), 1, "one ping answered all 200 (single flight, cached)");
}

#[tokio::test]
async fn the_ping_is_repeated_once_its_answer_is_old() {
    let db = Arc::new(SlowDb { pings: AtomicUsize::new(0), pending: 0 });
    let engine = engine_over(db.clone(), Duration::from_millis(100));
    engine.system().health().await;
    engine.system().health().await;
    assert_eq!(db.pings.load(Ordering::SeqCst), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    engine.system().health().await;
    assert_eq!(db.pings.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn missing_migrations_mean_not_ready() {
    let engine = engine_over(Arc::new(SlowDb { pings: AtomicUsize::new(0), pending: 2 }), Duration::ZERO);
    let r = engine.system().readiness().await;
    assert!(r.database && !r.ready());
    assert_eq!(r.pending_migrations, Some(2));
    assert!(engine.system().health().await.healthy(), "/health is about the database and cipher only");
}
