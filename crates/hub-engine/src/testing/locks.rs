//! Job locks over the in-memory [`World`]: taken, lost and taken back like PostgreSQL's
//! advisory locks.

use async_trait::async_trait;
use hub_ports::{HeldLock, JobLock, RepoResult};

use crate::testing::memory::Memory;
use crate::testing::world::{Shared, World};

/// A job lock held in the world until dropped: its key and which take of it this is.
struct Held(Shared, String, u64);

impl Held {
    fn mine(&self, w: &World) -> bool {
        w.held_locks.contains(&self.1) && w.lock_takes.get(&self.1) == Some(&self.2)
    }
}

/// Takes `key` in `w` if free: the number of this take.
fn take_lock(w: &mut World, key: &str) -> Option<u64> {
    if w.held_locks.iter().any(|k| k == key) {
        return None;
    }
    w.held_locks.push(key.to_owned());
    let n = w.lock_takes.entry(key.to_owned()).or_default();
    *n += 1;
    Some(*n)
}

#[async_trait]
impl HeldLock for Held {
    async fn still_held(&mut self) -> bool {
        self.mine(&self.0.lock().expect("world poisoned"))
    }

    async fn retake(&mut self) -> RepoResult<bool> {
        let mut w = self.0.lock().expect("world poisoned");
        if self.mine(&w) {
            return Ok(true);
        }
        match take_lock(&mut w, &self.1) {
            Some(n) => {
                self.2 = n;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut w = self.0.lock().expect("world poisoned");
        if self.mine(&w) {
            w.held_locks.retain(|k| k != &self.1);
        }
    }
}

#[async_trait]
impl JobLock for Memory {
    async fn try_acquire(&self, key: &str) -> RepoResult<Option<Box<dyn HeldLock>>> {
        let mut w = self.0.lock().expect("world poisoned");
        Ok(take_lock(&mut w, key).map(|n| Box::new(Held(self.0.clone(), key.to_owned(), n)) as Box<dyn HeldLock>))
    }
}
