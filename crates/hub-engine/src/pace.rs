//! How much a sync run does at once: the stores it has in flight, and the database
//! connections its store tasks may use.
//!
//! - [`InFlight`]: a run starts with the configured stores in flight (`SYNC_CONCURRENCY`,
//!   `VIDEO_SYNC_CONCURRENCY`) and, each interval (long enough for 50 budgeted calls) in
//!   which every slot was taken while the busiest endpoint it calls stayed under 90 % of its
//!   budget, opens a quarter more, up to `SYNC_MAX_CONCURRENCY`. When TikTok answers fast (a
//!   nearby region, the sandbox's time scale) a store takes less time and more of them are
//!   needed in flight to keep the budget busy; when it answers slowly, the budget is used up
//!   first and nothing changes. It never shrinks: the TikTok client's budget paces whatever
//!   is in flight.
//! - [`DbGate`]: a bulkhead between the jobs and the admin API. Store tasks run their
//!   repository calls through it, so at most [`jobs_share_of_pool`] of the pool's connections
//!   are theirs at any moment and an admin request always finds one free.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// The connections of a pool of `pool_size` the sync jobs may use at once: all but a reserve
/// of a quarter (at least 2) kept for the admin API, and at least 1.
pub fn jobs_share_of_pool(pool_size: usize) -> usize {
    let reserve = (pool_size / 4).max(2);
    pool_size.saturating_sub(reserve).max(1)
}

/// A bound on the jobs' concurrent repository calls (see the module docs). Cheap to share.
#[derive(Debug)]
pub struct DbGate {
    permits: Semaphore,
    size: usize,
    waits: AtomicU64,
    wait_us: AtomicU64,
}

/// What [`DbGate::stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbGateStats {
    /// Repository calls the gate lets run at once.
    pub size: usize,
    /// Calls that found every permit taken and waited.
    pub waits: u64,
    /// Their waits together.
    pub wait: Duration,
}

impl DbGate {
    /// A gate letting `size` (at least 1) calls run at once.
    pub fn new(size: usize) -> Self {
        let size = size.max(1);
        Self { permits: Semaphore::new(size), size, waits: AtomicU64::new(0), wait_us: AtomicU64::new(0) }
    }

    /// Runs the repository call `call` once a permit is free (first come, first served). The
    /// call's future does nothing before it is polled, so its connection is taken only then.
    pub async fn run<F: Future>(&self, call: F) -> F::Output {
        let _permit = match self.permits.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                let started = Instant::now();
                let p = self.permits.acquire().await.expect("the gate's semaphore is never closed");
                self.waits.fetch_add(1, Ordering::Relaxed);
                self.wait_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
                p
            }
        };
        call.await
    }

    /// Its size and the waits so far.
    pub fn stats(&self) -> DbGateStats {
        DbGateStats {
            size: self.size,
            waits: self.waits.load(Ordering::Relaxed),
            wait: Duration::from_micros(self.wait_us.load(Ordering::Relaxed)),
        }
    }
}

/// The stores one run has in flight (see the module docs).
#[derive(Debug)]
pub(crate) struct InFlight {
    slots: Semaphore,
    limit: AtomicUsize,
    cap: usize,
    waiting: AtomicUsize,
}

/// The share of the budget below which a run with every slot taken gets more slots.
const UNDER_USED: f64 = 0.9;

impl InFlight {
    /// `start` stores in flight (at least 1), growing up to `cap` (never below `start`).
    pub(crate) fn new(start: usize, cap: usize) -> Self {
        let start = start.max(1);
        Self {
            slots: Semaphore::new(start),
            limit: AtomicUsize::new(start),
            cap: cap.max(start),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The most stores the run may ever have in flight (the width of its stream).
    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// The stores it may have in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// Waits for a slot; the store holds it until the permit drops.
    pub(crate) async fn enter(&self) -> SemaphorePermit<'_> {
        if let Ok(p) = self.slots.try_acquire() {
            return p;
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let p = self.slots.acquire().await.expect("the in-flight semaphore is never closed");
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        p
    }

    /// Called once per interval with the TikTok calls the run started in it on its busiest
    /// endpoint and the calls that endpoint's budget allowed: when every slot is taken, stores
    /// are waiting for one and the budget was under 90 % used, opens a quarter more slots (at
    /// least one, at most up to the cap). Returns the new limit when it grew.
    pub(crate) fn widen_if_starved(&self, calls: usize, budget: f64) -> Option<usize> {
        let limit = self.limit();
        let starved = self.slots.available_permits() == 0 && self.waiting.load(Ordering::Relaxed) > 0;
        if limit >= self.cap || !starved || calls as f64 >= UNDER_USED * budget {
            return None;
        }
        let add = (limit / 4).max(1).min(self.cap - limit);
        self.slots.add_permits(add);
        self.limit.store(limit + add, Ordering::Relaxed);
        Some(limit + add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jobs_leave_the_api_a_quarter_of_the_pool_and_at_least_two() {
        for (pool, jobs) in [(1, 1), (2, 1), (3, 1), (4, 2), (8, 6), (20, 15), (50, 38), (100, 75)] {
            assert_eq!(jobs_share_of_pool(pool), jobs, "pool {pool}");
        }
    }

    #[tokio::test]
    async fn the_gate_never_lets_more_calls_run_than_its_size() {
        let gate = std::sync::Arc::new(DbGate::new(3));
        let running = std::sync::Arc::new(AtomicUsize::new(0));
        let most = std::sync::Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    gate.run(async {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
        let stats = gate.stats();
        assert_eq!(stats.size, 3);
        assert_eq!(stats.waits, 17, "every call after the first three waited");
        assert!(stats.wait > Duration::ZERO);
    }

    /// A run's slots after `ticks` intervals, each with every slot taken, stores waiting and
    /// `calls` of `budget` calls used.
    async fn grow(start: usize, cap: usize, calls: usize, budget: f64, ticks: usize) -> usize {
        let flight = InFlight::new(start, cap);
        let mut held = Vec::new();
        for _ in 0..ticks {
            while let Ok(p) = flight.slots.try_acquire() {
                held.push(p);
            }
            flight.waiting.store(1, Ordering::Relaxed);
            flight.widen_if_starved(calls, budget);
        }
        flight.limit()
    }

    #[tokio::test]
    async fn in_flight_grows_by_quarters_only_while_the_budget_is_under_used() {
        // (start, cap, calls, budget, ticks) → limit
        let table = [
            ((20, 100, 100, 200.0, 1), 25),   // under-used: a quarter more
            ((20, 100, 100, 200.0, 3), 38),   // compounding: 20 → 25 → 31 → 38
            ((20, 100, 100, 200.0, 50), 100), // never past the cap
            ((20, 100, 180, 200.0, 5), 20),   // 90 % used: the budget is the limit, not the slots
            ((20, 100, 250, 200.0, 5), 20),   // over budget (calls waiting in the client)
            ((20, 20, 0, 200.0, 5), 20),      // cap = start: growth off
            ((20, 10, 0, 200.0, 5), 20),      // a cap below the start never shrinks it
            ((1, 100, 0, 10.0, 2), 3),        // at least one more slot each time
        ];
        for ((start, cap, calls, budget, ticks), want) in table {
            let got = grow(start, cap, calls, budget, ticks).await;
            assert_eq!(got, want, "start {start} cap {cap} calls {calls}/{budget} ticks {ticks}");
        }
    }

    #[tokio::test]
    async fn in_flight_does_not_grow_while_a_slot_is_free_or_nobody_waits() {
        let flight = InFlight::new(4, 100);
        // A slot free: the run has fewer stores left than slots, or they finish fast enough.
        let _a = flight.enter().await;
        assert_eq!(flight.widen_if_starved(0, 100.0), None);
        let _rest: Vec<_> = [flight.enter().await, flight.enter().await, flight.enter().await].into();
        // Every slot taken but nobody waiting: the stream has no more stores.
        assert_eq!(flight.widen_if_starved(0, 100.0), None);
        flight.waiting.store(1, Ordering::Relaxed);
        assert_eq!(flight.widen_if_starved(0, 100.0), Some(5));
        assert_eq!(flight.limit(), 5);
        // The new slot is usable at once.
        let extra = flight.slots.try_acquire();
        assert!(extra.is_ok());
    }
}
