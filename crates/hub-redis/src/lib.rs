//! The Redis adapter: [`RedisLimits`] implements [`hub_ports::SharedLimits`] (the TikTok
//! budget every instance draws from) as token buckets in Redis, for hubs that set
//! `REDIS_URL`. Without it the buckets live in PostgreSQL (hub-postgres).
//!
//! A bucket is one hash (`<prefix>bucket:<name>`: `tokens`, `at`; the prefix is `hub:`
//! unless [`RedisLimits::with_prefix`] sets another) updated by one Lua script,
//! so a take is atomic whatever the number of instances; the time is Redis's own (`TIME`),
//! so the instances' clocks do not matter. Idle buckets expire after an hour.
//!
//! Only the budget lives here. The spec's Redis *token cache* is not built: TikTok tokens are
//! encrypted at rest (AES-256-GCM in PostgreSQL) and decrypted only in the process that uses
//! them; a cache of decrypted tokens in Redis would keep them in plain text outside that
//! promise (docs/ARCHITECTURE.md).

use std::time::Duration;

use async_trait::async_trait;
use hub_ports::{LimitsUnavailable, Rate, SharedLimits, Taken};
use redis::aio::ConnectionManager;

/// How long one take may wait for Redis before the caller falls back to its local share.
const TAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// Takes up to ARGV[1] permits from the bucket KEYS[1], refilled at ARGV[2] a second and
/// holding at most ARGV[3]: {granted, milliseconds until one is when none}.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local want, per_sec, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(v[1]), tonumber(v[2])
if tokens == nil or at == nil then tokens = burst; at = now end
tokens = math.min(burst, tokens + math.max(0, now - at) * per_sec)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
local wait = 0
if granted == 0 then wait = math.ceil((1 - tokens) / per_sec * 1000) end
return {granted, wait}
";

/// Counts one failure of KEYS[1] in a window of ARGV[2] ms starting at the first; at the
/// ARGV[1]th, sets KEYS[2] (the block) for the window. The block's milliseconds left, or -2.
const FAIL: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
end
return redis.call('PTTL', KEYS[2])
";

/// Token buckets and failure counts in one Redis.
#[derive(Clone)]
pub struct RedisLimits {
    conn: ConnectionManager,
    script: redis::Script,
    fail: redis::Script,
    /// Before every key (`hub:` by default): hubs with different prefixes share nothing.
    prefix: String,
}

/// The key prefix when none is set.
pub const DEFAULT_PREFIX: &str = "hub:";

/// A `PTTL` answer as the time left (-2: no key, -1: no expiry, never set here).
fn left(pttl: i64) -> Option<Duration> {
    u64::try_from(pttl).ok().filter(|ms| *ms > 0).map(Duration::from_millis)
}

/// Redis could not be reached at start-up (the message never holds the URL's password).
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct ConnectError(String);

impl RedisLimits {
    /// Connects to `url` (`redis://[:password@]host[:port][/db]`); reconnects by itself after.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let client = redis::Client::open(url).map_err(|e| ConnectError(e.kind_name()))?;
        // A refused connection is an answer at start-up; later drops are retried in the background.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_connection_timeout(Duration::from_secs(5));
        let conn = tokio::time::timeout(Duration::from_secs(10), ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| ConnectError("timed out".into()))?
            .map_err(|e| ConnectError(e.kind_name()))?;
        Ok(Self {
            conn,
            script: redis::Script::new(TAKE),
            fail: redis::Script::new(FAIL),
            prefix: DEFAULT_PREFIX.to_owned(),
        })
    }

    /// Puts `prefix` before every key instead of `hub:`, so several hubs (say staging and
    /// production) can share one Redis database without sharing a budget or a block.
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.prefix);
        self
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The error's kind and detail, without the URL.
    fn kind_name(&self) -> String {
        format!("{:?}: {}", self.kind(), self.detail().unwrap_or(""))
    }
}

#[async_trait]
impl SharedLimits for RedisLimits {
    async fn take(&self, name: &str, want: u32, rate: Rate) -> Result<Taken, LimitsUnavailable> {
        let mut conn = self.conn.clone();
        let mut call = self.script.key(self.key("bucket", name));
        call.arg(want).arg(rate.per_second()).arg(rate.burst.max(1));
        let answer = tokio::time::timeout(TAKE_TIMEOUT, call.invoke_async::<(i64, i64)>(&mut conn)).await;
        let (granted, wait_ms) = answer
            .map_err(|_| LimitsUnavailable("timed out taking from a shared budget".into()))?
            .map_err(|e| LimitsUnavailable(e.kind_name()))?;
        Ok(Taken {
            granted: u32::try_from(granted).unwrap_or(0),
            wait: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)),
        })
    }

    async fn fail(&self, key: &str, max: u32, window: Duration) -> Result<Option<Duration>, LimitsUnavailable> {
        let mut conn = self.conn.clone();
        let mut call = self.fail.key(self.key("failures", key));
        call.key(self.key("blocked", key)).arg(max.max(1)).arg(window.as_millis().max(1) as u64);
        let answer = tokio::time::timeout(TAKE_TIMEOUT, call.invoke_async::<i64>(&mut conn)).await;
        let pttl =
            answer.map_err(|_| LimitsUnavailable("timed out".into()))?.map_err(|e| LimitsUnavailable(e.kind_name()))?;
        Ok(left(pttl))
    }

    async fn blocked(&self, key: &str) -> Result<Option<Duration>, LimitsUnavailable> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("PTTL");
        cmd.arg(self.key("blocked", key));
        let ask = cmd.query_async::<i64>(&mut conn);
        let pttl = tokio::time::timeout(TAKE_TIMEOUT, ask)
            .await
            .map_err(|_| LimitsUnavailable("timed out".into()))?
            .map_err(|e| LimitsUnavailable(e.kind_name()))?;
        Ok(left(pttl))
    }

    async fn forgive(&self, key: &str) -> Result<(), LimitsUnavailable> {
        let mut conn = self.conn.clone();
        let mut cmd = redis::cmd("DEL");
        cmd.arg(self.key("failures", key));
        let del = cmd.query_async::<i64>(&mut conn);
        tokio::time::timeout(TAKE_TIMEOUT, del)
            .await
            .map_err(|_| LimitsUnavailable("timed out".into()))?
            .map_err(|e| LimitsUnavailable(e.kind_name()))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
