//! Per-IP limits: request rates (governor, keyed by client address) and the block that
//! follows repeated API-key failures; plus the client address itself (the peer, or the
//! right-most untrusted `X-Forwarded-For` hop behind a trusted proxy).
//!
//! Memory stays bounded: IPv6 clients are keyed by their /64, idle rate-limit states are
//! dropped (`retain_recent`) at most once a minute from the request path, and the failure
//! table forgets expired entries at most once a minute from the request path and never holds
//! more than [`MAX_TRACKED`] addresses.
//!
//! Every limit reads one [`LimitClock`]: the monotonic clock in production, a manual one in
//! tests (a 15-minute block is checked at 14:59 and 15:01 without waiting).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, FakeRelativeClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use ipnet::IpNet;

/// The most addresses the auth-failure table tracks at once.
pub(crate) const MAX_TRACKED: usize = 100_000;

/// How often idle limiter states are dropped.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// The key a client is limited by: its IPv4 address, or its IPv6 /64 (one subscriber's
/// allocation; keying by full IPv6 address would let one client use 2^64 keys).
pub(crate) fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, seen when listening on `[::]`) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>().ok().or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip())).map(canonical)
}

/// The client's address: the peer, unless the peer is a trusted proxy; then the right-most
/// `X-Forwarded-For` hop that is not itself a trusted proxy (hops left of it are whatever
/// the client chose to send). An unparsable hop ends the walk at the last good address.
pub(crate) fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    let is_trusted = |ip: IpAddr| is_trusted_proxy(ip, trusted);
    if !is_trusted(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for.flat_map(|line| line.split(',').collect::<Vec<_>>()).rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    Some(client)
}

/// Whether `peer` is one of `trusted` (a proxy whose `X-Forwarded-For` is believed).
pub(crate) fn is_trusted_proxy(peer: IpAddr, trusted: &[IpNet]) -> bool {
    let peer = canonical(peer);
    trusted.iter().any(|n| n.contains(&peer))
}

/// The most peers [`UntrustedForwarders`] remembers.
pub(crate) const UNTRUSTED_FORWARDERS_MAX: usize = 1_000;

/// What [`UntrustedForwarders::note`] says about a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Noted {
    /// Seen for the first time: warn.
    First,
    /// Warned about already.
    Again,
    /// The memory just filled up with other peers: warn that no more warnings follow.
    NowFull,
    /// Not remembered (the memory is full): say nothing.
    Untracked,
}

/// Peers that sent `X-Forwarded-For` without being trusted proxies, remembered so that each
/// is warned about once: at most [`UNTRUSTED_FORWARDERS_MAX`] (a misconfigured proxy is one or
/// a few addresses; a flood of spoofing clients must not grow the memory).
#[derive(Debug, Default)]
pub(crate) struct UntrustedForwarders {
    seen: Mutex<std::collections::HashSet<IpAddr>>,
    full: std::sync::atomic::AtomicBool,
}

impl UntrustedForwarders {
    pub(crate) fn note(&self, peer: IpAddr) -> Noted {
        let mut seen = self.seen.lock().expect("untrusted forwarders poisoned");
        if seen.contains(&peer) {
            return Noted::Again;
        }
        if seen.len() < UNTRUSTED_FORWARDERS_MAX {
            seen.insert(peer);
            return Noted::First;
        }
        if self.full.swap(true, Ordering::Relaxed) { Noted::Untracked } else { Noted::NowFull }
    }

    pub(crate) fn len(&self) -> usize {
        self.seen.lock().expect("untrusted forwarders poisoned").len()
    }
}

/// The time source of the limits: the monotonic clock, or a manual clock that stands still
/// until [`LimitClock::advance`] moves it (tests). Clones share one time.
#[derive(Debug, Clone)]
pub struct LimitClock {
    origin: Instant,
    manual: Option<FakeRelativeClock>,
}

impl Default for LimitClock {
    fn default() -> Self {
        Self::system()
    }
}

impl LimitClock {
    /// The monotonic clock.
    pub fn system() -> Self {
        Self { origin: Instant::now(), manual: None }
    }

    /// A clock that starts now and moves only when advanced.
    pub fn manual() -> Self {
        Self { origin: Instant::now(), manual: Some(FakeRelativeClock::default()) }
    }

    /// Moves a manual clock forward.
    ///
    /// # Panics
    /// On the system clock, which nothing can move.
    pub fn advance(&self, by: Duration) {
        self.manual.as_ref().expect("only a manual LimitClock can be advanced").advance(by);
    }

    /// The current time.
    pub fn now(&self) -> Instant {
        match &self.manual {
            None => Instant::now(),
            Some(m) => self.origin + Duration::from(m.now()),
        }
    }
}

impl Clock for LimitClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        LimitClock::now(self)
    }
}

/// A per-client request-rate limit: `per_minute` requests as a burst, replenished evenly.
pub struct IpLimiter<C: Clock + Clone = LimitClock> {
    limiter: RateLimiter<IpAddr, DashMapStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    started: C::Instant,
    last_purge_secs: AtomicU64,
}

impl IpLimiter {
    /// `None` when `per_minute` is 0 (no limit).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        Self::with_clock(per_minute, LimitClock::system())
    }
}

impl<C: Clock + Clone> IpLimiter<C> {
    /// A limiter on `clock` (tests use a manual clock).
    pub fn with_clock(per_minute: u32, clock: C) -> Option<Self> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        Some(Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            started: clock.now(),
            clock,
            last_purge_secs: AtomicU64::new(0),
        })
    }

    /// `Ok` when `ip` may make a request now; otherwise the whole seconds to wait.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.maybe_purge();
        self.limiter.check_key(&limit_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Drops the state of clients that are back to a full allowance.
    pub fn purge(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Clients tracked right now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    /// No client tracked.
    pub fn is_empty(&self) -> bool {
        self.limiter.is_empty()
    }

    /// Purges at most once per [`PURGE_EVERY`] of the limiter's clock; only one caller does
    /// the work.
    fn maybe_purge(&self) {
        let now = Duration::from(self.clock.now().duration_since(self.started)).as_secs();
        let last = self.last_purge_secs.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= PURGE_EVERY.as_secs()
            && self.last_purge_secs.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.purge();
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    blocked_until: Option<Instant>,
}

/// What a failure table is keyed by: a client address (by [`limit_key`]: IPv6 by /64), or an
/// account (the SHA-256 of its normalised email).
pub trait FailureKey: Copy + Eq + std::hash::Hash {
    /// The key the table counts under.
    fn key(self) -> Self;
}

impl FailureKey for IpAddr {
    fn key(self) -> Self {
        limit_key(self)
    }
}

impl FailureKey for [u8; 32] {
    fn key(self) -> Self {
        self
    }
}

/// Failed attempts per client (or per account): `max` failures within `window` block it for
/// `window` (the spec: 5 attempts → 15-minute block). Wrong API keys and failed sign-ins count
/// in the same per-address table; failed sign-ins also count per account.
pub struct AuthFailures<K: FailureKey = IpAddr> {
    max: u32,
    window: Duration,
    table: Mutex<HashMap<K, Failures>>,
    /// When the table was last purged of expired entries.
    last_purge: Mutex<Option<Instant>>,
}

impl<K: FailureKey> AuthFailures<K> {
    /// `max = 0` turns the block off.
    pub fn new(max: u32, window: Duration) -> Self {
        Self { max, window, table: Mutex::new(HashMap::new()), last_purge: Mutex::new(None) }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long `ip` stays blocked, when it is. Called on every admin request, it also drops
    /// expired entries, at most once per [`PURGE_EVERY`].
    pub fn blocked(&self, ip: K, now: Instant) -> Option<Duration> {
        self.maybe_purge(now);
        let until = self.table().get(&ip.key())?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn maybe_purge(&self, now: Instant) {
        let mut last = self.last_purge.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match *last {
            None => *last = Some(now),
            Some(at) if now.duration_since(at) >= PURGE_EVERY => {
                *last = Some(now);
                drop(last);
                self.purge(now);
            }
            Some(_) => {}
        }
    }

    /// Counts a failure; returns the block's length when this failure starts one.
    pub fn record_failure(&self, ip: K, now: Instant) -> Option<Duration> {
        if self.max == 0 {
            return None;
        }
        let key = ip.key();
        let mut table = self.table();
        if !table.contains_key(&key) && table.len() >= MAX_TRACKED {
            Self::purge_locked(&mut table, now, self.window);
            if table.len() >= MAX_TRACKED {
                // Full of live entries: keep the blocks, forget the partial counts.
                table.retain(|_, f| f.blocked_until.is_some());
            }
            if table.len() >= MAX_TRACKED {
                return None;
            }
        }
        let entry = table.entry(key).or_insert(Failures { count: 0, first: now, blocked_until: None });
        if now.duration_since(entry.first) > self.window || entry.blocked_until.is_some_and(|u| u <= now) {
            *entry = Failures { count: 0, first: now, blocked_until: None };
        }
        entry.count += 1;
        if entry.count >= self.max && entry.blocked_until.is_none() {
            entry.blocked_until = Some(now + self.window);
            return Some(self.window);
        }
        None
    }

    /// A good key from `ip` clears its count (not an active block).
    pub fn record_success(&self, ip: K) {
        let key = ip.key();
        let mut table = self.table();
        if table.get(&key).is_some_and(|f| f.blocked_until.is_none()) {
            table.remove(&key);
        }
    }

    /// Forgets counts older than the window and blocks that ended.
    pub fn purge(&self, now: Instant) {
        Self::purge_locked(&mut self.table(), now, self.window);
    }

    fn purge_locked(table: &mut HashMap<K, Failures>, now: Instant, window: Duration) {
        table.retain(|_, f| match f.blocked_until {
            Some(until) => until > now,
            None => now.duration_since(f.first) <= window,
        });
        table.shrink_to_fit();
    }

    /// Addresses tracked.
    pub fn len(&self) -> usize {
        self.table().len()
    }

    /// Nothing tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_forwarders_are_remembered_once_each_and_bounded() {
        let u = UntrustedForwarders::default();
        let ip = |i: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        assert_eq!(u.note(ip(0)), Noted::First);
        assert_eq!(u.note(ip(0)), Noted::Again);
        for i in 1..UNTRUSTED_FORWARDERS_MAX as u32 {
            assert_eq!(u.note(ip(i)), Noted::First);
        }
        assert_eq!(u.note(ip(5_000)), Noted::NowFull);
        assert_eq!(u.note(ip(5_001)), Noted::Untracked);
        assert_eq!(u.note(ip(7)), Noted::Again);
        assert_eq!(u.len(), UNTRUSTED_FORWARDERS_MAX);
        assert!(is_trusted_proxy(ip(3), &[IpNet::new(ip(0), 8).unwrap()]) && !is_trusted_proxy(ip(3), &[]));
    }
    use governor::clock::FakeRelativeClock;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn client_ip_table() {
        let trusted = [net("10.0.0.0/8"), net("::1/128")];
        let cases: &[(&str, &[&str], &str)] = &[
            // Untrusted peer: its own address, whatever the header says.
            ("203.0.113.9", &["1.1.1.1"], "203.0.113.9"),
            // Trusted peer: the right-most untrusted hop.
            ("10.0.0.2", &["1.1.1.1, 198.51.100.7"], "198.51.100.7"),
            ("10.0.0.2", &["1.1.1.1, 198.51.100.7, 10.0.0.5"], "198.51.100.7"),
            // Several header lines read as one list.
            ("10.0.0.2", &["6.6.6.6", "198.51.100.7"], "198.51.100.7"),
            // Ports and IPv6.
            ("10.0.0.2", &["198.51.100.7:5555"], "198.51.100.7"),
            ("::1", &["[2001:db8::1]:80"], "2001:db8::1"),
            // No header, or only trusted hops: the left-most address seen.
            ("10.0.0.2", &[], "10.0.0.2"),
            ("10.0.0.2", &["10.1.1.1"], "10.1.1.1"),
            // Garbage stops the walk at the last good address.
            ("10.0.0.2", &["1.1.1.1, not-an-ip"], "10.0.0.2"),
            // IPv4-mapped peers are IPv4.
            ("::ffff:10.0.0.2", &["198.51.100.7"], "198.51.100.7"),
        ];
        for (peer, xff, want) in cases {
            let got = client_ip(Some(ip(peer)), xff.iter().copied(), &trusted);
            assert_eq!(got, Some(ip(want)), "{peer} {xff:?}");
        }
        assert_eq!(client_ip(None, ["1.1.1.1"].into_iter(), &trusted), None);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), limit_key(ip("2001:db8:1:2:ffff::1")));
        assert_ne!(limit_key(ip("2001:db8:1:2::1")), limit_key(ip("2001:db8:1:3::1")));
        assert_eq!(limit_key(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
    }

    #[test]
    fn limiter_allows_the_quota_then_says_how_long_to_wait() {
        let clock = FakeRelativeClock::default();
        let limiter = IpLimiter::with_clock(3, clock.clone()).unwrap();
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        let wait = limiter.check(a).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert_eq!(limiter.check(ip("192.0.2.2")), Ok(()), "another client is not affected");
        clock.advance(Duration::from_secs(20));
        assert_eq!(limiter.check(a), Ok(()));
        assert!(IpLimiter::with_clock(0, clock).is_none());
    }

    #[test]
    fn limiter_memory_shrinks_after_the_window() {
        let clock = FakeRelativeClock::default();
        let limiter = IpLimiter::with_clock(100, clock.clone()).unwrap();
        for i in 0..100_000u32 {
            limiter.check(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))).unwrap();
        }
        assert_eq!(limiter.len(), 100_000);
        limiter.purge();
        assert_eq!(limiter.len(), 100_000, "states inside the window are kept");
        clock.advance(Duration::from_secs(61));
        limiter.purge();
        assert_eq!(limiter.len(), 0);
    }

    #[test]
    fn failures_block_then_expire() {
        let f: AuthFailures = AuthFailures::new(3, Duration::from_secs(900));
        let t = Instant::now();
        let a = ip("192.0.2.1");
        assert_eq!(f.record_failure(a, t), None);
        assert_eq!(f.record_failure(a, t), None);
        assert_eq!(f.blocked(a, t), None);
        assert_eq!(f.record_failure(a, t), Some(Duration::from_secs(900)));
        assert_eq!(f.blocked(a, t + Duration::from_secs(100)), Some(Duration::from_secs(800)));
        f.record_success(a);
        assert!(f.blocked(a, t).is_some(), "a good key does not lift a block");
        assert_eq!(f.blocked(a, t + Duration::from_secs(901)), None);
        assert_eq!(f.blocked(ip("192.0.2.2"), t), None);
        f.purge(t + Duration::from_secs(901));
        assert!(f.is_empty());
        assert_eq!(AuthFailures::<IpAddr>::new(0, Duration::from_secs(1)).record_failure(a, t), None);
    }

    #[test]
    fn failure_counts_reset_after_the_window_and_on_success() {
        let f: AuthFailures = AuthFailures::new(2, Duration::from_secs(60));
        let t = Instant::now();
        let a = ip("192.0.2.1");
        f.record_failure(a, t);
        assert_eq!(f.record_failure(a, t + Duration::from_secs(61)), None, "the first failure expired");
        f.record_success(a);
        assert_eq!(f.record_failure(a, t + Duration::from_secs(62)), None);
        assert!(f.record_failure(a, t + Duration::from_secs(63)).is_some());
    }

    #[test]
    fn failure_table_is_bounded() {
        let f: AuthFailures = AuthFailures::new(5, Duration::from_secs(900));
        let t = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 10) {
            f.record_failure(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), t);
        }
        assert!(f.len() <= MAX_TRACKED);
        f.purge(t + Duration::from_secs(901));
        assert!(f.is_empty());
    }
}
