//! Test support (feature `test-support`): the ports as a plain in-memory [`World`], so tests
//! state only what TikTok does and check what was stored. Tests that care how a port is
//! called (how often, with what) use the mockall mocks of `hub-ports` instead.
//!
//! Shared by this crate's tests and, through their dev-dependencies, by `hub-http`'s and
//! `hub-jobs`'s. The extension points are the arguments of [`ports`] (any [`TikTokApi`] and
//! [`Clock`]) and the fields of the [`Ports`] it returns, which a suite may replace before
//! building the [`Engine`] (a health check that can fail, a report repository of its own,
//! another cipher).
//!
//! Times the database would set (a store's or invite's `created_at`, a log's `run_time`, a
//! snapshot row's `created_at`) are [`t0`].

mod events;
mod lifecycle;
mod locks;
mod memory;
mod notify;
mod people;
mod reports;
mod retention;
mod world;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hub_ports::{Clock, TikTokApi};

pub use memory::Memory;
pub use notify::AcceptingSender;
pub use world::{FixedClock, STATE_SECRET, Shared, World, cipher, code, fixed_clock, grant, t0, user, videos};

use crate::{AesGcmCipher, Engine, EngineConfig, Ports};

/// Builds an engine over `world`, with `tiktok` as TikTok and a clock fixed at `now`.
pub fn engine(world: &Shared, tiktok: impl TikTokApi + 'static, now: DateTime<Utc>, config: EngineConfig) -> Engine {
    engine_with_cipher(world, tiktok, now, config, cipher())
}

/// [`engine`] with a given token cipher (key rotation tests).
pub fn engine_with_cipher(
    world: &Shared,
    tiktok: impl TikTokApi + 'static,
    now: DateTime<Utc>,
    config: EngineConfig,
    token_cipher: Arc<AesGcmCipher>,
) -> Engine {
    let mut ports = ports(world, Arc::new(tiktok), fixed_clock(now));
    ports.cipher = token_cipher;
    Engine::new(ports, config, STATE_SECRET)
}

/// Every port over `world`: the repositories, job locks and a healthy database are
/// [`Memory`]; TikTok and the clock are the given ones; the cipher is [`cipher`]. Replace
/// fields before `Engine::new(ports, config, STATE_SECRET)` to change one.
pub fn ports(world: &Shared, tiktok: Arc<dyn TikTokApi>, clock: Arc<dyn Clock>) -> Ports {
    let memory = Arc::new(Memory(Arc::clone(world)));
    Ports {
        stores: memory.clone(),
        accounts: memory.clone(),
        snapshots: memory.clone(),
        sync_logs: memory.clone(),
        sync_runs: memory.clone(),
        audit: memory.clone(),
        retention: memory.clone(),
        connect: memory.clone(),
        reports: memory.clone(),
        imports: memory.clone(),
        lifecycle: memory.clone(),
        events: memory.clone(),
        webhooks: memory.clone(),
        users: memory.clone(),
        sessions: memory.clone(),
        api_keys: memory.clone(),
        locks: memory.clone(),
        health: memory,
        tiktok,
        cipher: cipher(),
        webhook_sender: Arc::new(notify::AcceptingSender::default()),
        clock,
    }
}
