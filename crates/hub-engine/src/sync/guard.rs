//! A run's job lock, watched: before each store the run asks whether its lock is still held
//! (a round trip on the lock's own session; an answer younger than
//! [`EngineConfig::lock_check_every`](crate::EngineConfig) serves the stores that start
//! meanwhile). A lock lost with
//! its session (a database restart, a failover, a terminated connection) is taken again before
//! the next store starts; if another holder took it meanwhile (another instance's run of the
//! same job), this run starts no more stores, so it never runs beside a second copy for longer
//! than the stores it already had in flight.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hub_domain::JobKind;
use hub_ports::HeldLock;

/// How long a lost lock is tried again while the database does not answer (a restart).
pub const RETAKE_FOR: Duration = Duration::from_secs(60);

/// A run's lock and what is known of it.
pub(crate) struct RunLock {
    job: JobKind,
    check_every: Duration,
    held: tokio::sync::Mutex<Box<dyn HeldLock>>,
    checked: Mutex<Option<Instant>>,
    /// Set for good once another holder has the lock (or it could not be taken back).
    lost: AtomicBool,
}

impl RunLock {
    /// Watches `held`, asking its session again once an answer is `check_every` old.
    pub(crate) fn new(job: JobKind, held: Box<dyn HeldLock>, check_every: Duration) -> Self {
        Self {
            job,
            check_every,
            held: tokio::sync::Mutex::new(held),
            checked: Mutex::new(Some(Instant::now())),
            lost: false.into(),
        }
    }

    fn fresh(&self) -> bool {
        self.checked.lock().expect("run lock poisoned").is_some_and(|t| t.elapsed() < self.check_every)
    }

    /// Whether the run may start another store: its lock is still held, or was lost and has
    /// been taken back. `false` for good once another holder has it.
    pub(crate) async fn keep(&self) -> bool {
        if self.lost.load(Ordering::Acquire) {
            return false;
        }
        if self.fresh() {
            return true;
        }
        let mut held = self.held.lock().await;
        // Whoever held the mutex before us may have just answered.
        if self.lost.load(Ordering::Acquire) {
            return false;
        }
        if self.fresh() {
            return true;
        }
        let ok = held.still_held().await || self.take_back(held.as_mut()).await;
        if ok {
            *self.checked.lock().expect("run lock poisoned") = Some(Instant::now());
        } else {
            self.lost.store(true, Ordering::Release);
        }
        ok
    }

    async fn take_back(&self, held: &mut dyn HeldLock) -> bool {
        tracing::warn!(job = %self.job, "job lock lost with its database session; taking it back");
        let deadline = tokio::time::Instant::now() + RETAKE_FOR;
        let mut delay = Duration::from_millis(100);
        loop {
            match held.retake().await {
                Ok(true) => {
                    tracing::info!(job = %self.job, "job lock taken back; the run goes on");
                    return true;
                }
                Ok(false) => {
                    tracing::error!(job = %self.job, "job lock taken by another run; this run starts no more stores");
                    return false;
                }
                Err(e) if tokio::time::Instant::now() + delay < deadline => {
                    tracing::warn!(job = %self.job, error = %e, "cannot take the job lock back yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Err(e) => {
                    tracing::error!(job = %self.job, error = %e, "job lock not taken back; this run starts no more stores");
                    return false;
                }
            }
        }
    }

    /// Whether the run stopped because its lock was lost.
    pub(crate) fn was_lost(&self) -> bool {
        self.lost.load(Ordering::Acquire)
    }
}
