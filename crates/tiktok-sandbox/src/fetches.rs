//! Per-account counts of the reads that begin a store's sync: `user/info` answered and the
//! first page of `video/list` (no cursor) answered. `GET /sandbox/stats/accounts` shows them
//! (reset with the stats), so a test can tell a client that read one account twice in a day.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

#[derive(Default)]
pub(crate) struct Fetches {
    /// (user/info, first video/list pages) by account index.
    counts: Mutex<(BTreeMap<usize, u64>, BTreeMap<usize, u64>)>,
}

impl Fetches {
    pub fn user_info(&self, account: usize) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()).0.entry(account).or_default() += 1;
    }

    pub fn first_page(&self, account: usize) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()).1.entry(account).or_default() += 1;
    }

    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    }

    /// `{"user_info": {"<index>": n, …}, "video_list_first_page": {…}}`, accounts read at least once.
    pub fn snapshot(&self) -> Value {
        let c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let map = |m: &BTreeMap<usize, u64>| {
            m.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()
        };
        json!({"user_info": map(&c.0), "video_list_first_page": map(&c.1)})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_account_until_reset() {
        let f = Fetches::default();
        f.user_info(3);
        f.user_info(3);
        f.first_page(0);
        assert_eq!(f.snapshot(), json!({"user_info": {"3": 2}, "video_list_first_page": {"0": 1}}));
        f.reset();
        assert_eq!(f.snapshot(), json!({"user_info": {}, "video_list_first_page": {}}));
    }
}
