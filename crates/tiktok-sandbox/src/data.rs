//! Deterministic generated data: accounts, their videos and every count, as pure
//! functions of (seed, account, video, day). Nothing per video is stored: an
//! account keeps a handful of numbers and everything else is computed on demand.

use std::collections::HashMap;

/// One year: the span of the initial history before the anchor.
const HISTORY_SECS: i64 = 365 * 86_400;

/// SplitMix64 finaliser.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a tuple of words.
#[inline]
pub(crate) fn h(parts: &[u64]) -> u64 {
    let mut acc = 0x5151_7CC1_B727_220Au64;
    for &p in parts {
        acc = mix(acc ^ p);
    }
    acc
}

/// Uniform in [0, 1).
#[inline]
fn unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

// Domain tags, so different quantities do not share hash streams.
const T_ACCOUNT: u64 = 1;
const T_VIDEO: u64 = 2;
const T_VIDEO_DAY: u64 = 3;
const T_ACCOUNT_DAY: u64 = 4;
const T_ID_MASK: u64 = 5;
const T_PAGE: u64 = 6;
const T_OPEN_ID: u64 = 7;
const T_UNION_ID: u64 = 8;

/// The static part of an account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub index: usize,
    pub open_id: String,
    pub union_id: String,
    pub display_name: String,
    pub username: String,
    pub bio_description: String,
    pub is_verified: bool,
    /// Number of videos posted in the year before the anchor (0 = never posts).
    #[cfg_attr(not(test), allow(dead_code))]
    pub initial_videos: u32,
    /// Seconds between consecutive video slots (0 when the account never posts).
    slot_secs: i64,
    /// create_time slot origin (Unix seconds).
    slot_origin: i64,
    followers_base: f64,
    followers_per_day: f64,
    following_base: i64,
    /// Typical views of a video of this account.
    popularity: f64,
}

/// A generated video at a given sandbox day.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VideoData {
    pub id: u64,
    pub create_time: i64,
    pub duration: i64,
    pub width: i64,
    pub height: i64,
    pub title: String,
    pub description: String,
    pub like_count: i64,
    pub comment_count: i64,
    pub share_count: i64,
    pub view_count: i64,
}

/// All generated data of one sandbox.
#[derive(Debug)]
pub(crate) struct Dataset {
    pub seed: u64,
    pub accounts: Vec<Account>,
    /// Unix day where the account growth curves start (a year before the anchor).
    growth_origin_day: i64,
    by_open_id: HashMap<String, usize>,
}

const BIOS: [&str; 6] = [
    "Handmade goods, shipped daily 📦",
    "Your favourite little shop. New drops every Friday.",
    "Small batch, big love. Link in bio.",
    "Vintage finds & restocks",
    "Official store account",
    "",
];

const TOPICS: [&str; 8] = [
    "new arrivals",
    "unboxing",
    "behind the scenes",
    "restock alert",
    "how we pack your order",
    "customer favourite",
    "styling tips",
    "weekend sale",
];

impl Dataset {
    pub fn generate(seed: u64, accounts: usize, mean_videos: u32, anchor_unix: i64) -> Dataset {
        let mean = f64::from(mean_videos);
        let accounts: Vec<Account> = (0..accounts)
            .map(|i| {
                let r = |k: u64| h(&[seed, T_ACCOUNT, i as u64, k]);
                // Video count: some 0, most tens, a few hundreds; mean ≈ `mean`.
                let u = unit(r(1));
                let v = unit(r(2));
                let initial = if mean_videos == 0 || u < 0.06 {
                    0.0
                } else if u < 0.10 {
                    mean * (4.0 + 4.0 * v)
                } else {
                    mean * (0.25 + 1.19 * v)
                };
                let initial = (initial.round() as u32).min(HISTORY_SECS as u32);
                let slot_secs = if initial == 0 { 0 } else { HISTORY_SECS / i64::from(initial) };
                let slot_origin =
                    anchor_unix - HISTORY_SECS + if slot_secs > 0 { (r(3) % slot_secs as u64) as i64 } else { 0 };
                // Followers: heavy-tailed, 100 .. ~1M.
                let fu = unit(r(4));
                let followers_base = 10f64.powf(2.0 + 4.0 * fu * fu).floor();
                let followers_per_day = 1.0 + followers_base * (0.0002 + 0.0013 * unit(r(5)));
                let popularity = (followers_base * (0.2 + 2.0 * unit(r(6)))).max(50.0);
                let hex = |t: u64| format!("{:016x}{:016x}", h(&[seed, t, i as u64, 0]), h(&[seed, t, i as u64, 1]));
                Account {
                    index: i,
                    open_id: format!("-000{}", &hex(T_OPEN_ID)[..28]),
                    union_id: format!("u.{}", hex(T_UNION_ID)),
                    display_name: format!("Sandbox Store {i:04}"),
                    username: format!("sandbox_store_{i:04}"),
                    bio_description: BIOS[(r(7) % BIOS.len() as u64) as usize].to_string(),
                    is_verified: unit(r(8)) < 0.05,
                    initial_videos: initial,
                    slot_secs,
                    slot_origin,
                    followers_base,
                    followers_per_day,
                    following_base: 5 + (r(9) % 400) as i64,
                    popularity,
                }
            })
            .collect();
        let by_open_id = accounts.iter().map(|a| (a.open_id.clone(), a.index)).collect();
        Dataset { seed, accounts, growth_origin_day: (anchor_unix - HISTORY_SECS).div_euclid(86_400), by_open_id }
    }

    pub fn account_index(&self, open_id: &str) -> Option<usize> {
        self.by_open_id.get(open_id).copied()
    }

    /// create_time of video `k` (0 = the account's oldest).
    #[inline]
    pub fn create_time(&self, a: &Account, k: u64) -> i64 {
        let jitter = (h(&[self.seed, T_VIDEO, a.index as u64, k, 0]) % a.slot_secs.max(1) as u64) as i64;
        a.slot_origin + k as i64 * a.slot_secs + jitter
    }

    /// Number of videos with create_time ≤ t (the videos visible at t are 0..count).
    pub fn count_at(&self, a: &Account, t: i64) -> u64 {
        if a.slot_secs == 0 || t < a.slot_origin {
            return 0;
        }
        let slot = ((t - a.slot_origin) / a.slot_secs) as u64;
        if self.create_time(a, slot) <= t { slot + 1 } else { slot }
    }

    /// The 19-digit id of video `k`: create_time in the high 32 bits (as TikTok's
    /// ids), the account index (masked) in the low 32 bits.
    pub fn video_id(&self, a: &Account, k: u64) -> u64 {
        let ct = self.create_time(a, k);
        let check = h(&[self.seed, T_VIDEO, a.index as u64, k, 1]) & 0xff;
        let low = ((check << 24) | a.index as u64) ^ (h(&[self.seed, T_ID_MASK, ct as u64]) & 0xffff_ffff);
        ((ct as u64) << 32) | low
    }

    /// Decodes an id into (account index, k); `None` when it is not a sandbox video id.
    pub fn decode_video_id(&self, id: u64) -> Option<(usize, u64)> {
        let ct = (id >> 32) as i64;
        let low = (id & 0xffff_ffff) ^ (h(&[self.seed, T_ID_MASK, ct as u64]) & 0xffff_ffff);
        let index = (low & 0x00ff_ffff) as usize;
        let a = self.accounts.get(index)?;
        if a.slot_secs == 0 || ct < a.slot_origin {
            return None;
        }
        let k = ((ct - a.slot_origin) / a.slot_secs) as u64;
        (self.video_id(a, k) == id).then_some((index, k))
    }

    /// Whether the "page" that starts at video `top` is a short one (~10 %).
    pub fn short_page(&self, a: &Account, top: u64) -> bool {
        h(&[self.seed, T_PAGE, a.index as u64, top]).is_multiple_of(10)
    }

    /// The video `k` of account `a` as it looks on Unix day `day`.
    pub fn video(&self, a: &Account, k: u64, day: i64) -> VideoData {
        let r = |t: u64| h(&[self.seed, T_VIDEO, a.index as u64, k, t]);
        let create_time = self.create_time(a, k);
        let (views, like_r, comment_r, share_r) = self.video_growth(a, k, create_time, day);
        let portrait = unit(r(10)) < 0.85;
        let topic = TOPICS[(r(11) % TOPICS.len() as u64) as usize];
        VideoData {
            id: self.video_id(a, k),
            create_time,
            duration: 5 + (r(12) % 176) as i64,
            width: if portrait { 1080 } else { 1920 },
            height: if portrait { 1920 } else { 1080 },
            title: format!("{} — {} #{}", a.display_name, topic, k + 1),
            description: format!("{} — {} #{} #shop #smallbusiness #{}", a.display_name, topic, k + 1, a.username),
            like_count: (views * like_r) as i64,
            comment_count: (views * comment_r) as i64,
            share_count: (views * share_r) as i64,
            view_count: views as i64,
        }
    }

    /// (views, like ratio, comment ratio, share ratio). Views are non-decreasing in
    /// `day`: a saturating curve plus a linear tail of 0.2 %/day, plus a daily
    /// jitter smaller than the tail's daily step.
    #[inline]
    fn video_growth(&self, a: &Account, k: u64, create_time: i64, day: i64) -> (f64, f64, f64, f64) {
        let r = |t: u64| h(&[self.seed, T_VIDEO, a.index as u64, k, t]);
        let scale = a.popularity * 10f64.powf(2.0 * unit(r(20)) - 1.0);
        let tau = 1.0 + 6.0 * unit(r(21));
        let age_days = day - create_time.div_euclid(86_400);
        let age = age_days.max(0) as f64;
        let jitter = if age_days < 0 { 0.0 } else { unit(h(&[self.seed, T_VIDEO_DAY, a.index as u64, k, day as u64])) };
        let views =
            (scale * (1.0 - (-(age + 1.0) / tau).exp()) + scale * 0.002 * age + scale * 0.001 * jitter).floor() + 1.0;
        let like_r = 0.02 + 0.10 * unit(r(22));
        let comment_r = 0.001 + 0.01 * unit(r(23));
        let share_r = 0.0005 + 0.005 * unit(r(24));
        (views, like_r, comment_r, share_r)
    }

    /// Sum of the likes of the videos visible at `t`, on day `day`.
    pub fn likes_total(&self, a: &Account, t: i64, day: i64) -> i64 {
        let n = self.count_at(a, t);
        (0..n)
            .map(|k| {
                let ct = self.create_time(a, k);
                let (views, like_r, _, _) = self.video_growth(a, k, ct, day);
                (views * like_r) as i64
            })
            .sum()
    }

    pub fn follower_count(&self, a: &Account, day: i64) -> i64 {
        let d = (day - self.growth_origin_day).max(0) as f64;
        let jitter = 0.5 * unit(h(&[self.seed, T_ACCOUNT_DAY, a.index as u64, day as u64]));
        (a.followers_base + a.followers_per_day * (d + jitter)).floor() as i64
    }

    pub fn following_count(&self, a: &Account, day: i64) -> i64 {
        a.following_base + (day - self.growth_origin_day).max(0) / 45
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANCHOR: i64 = 1_780_000_000;

    #[test]
    fn ids_round_trip_and_have_19_digits() {
        let d = Dataset::generate(42, 50, 50, ANCHOR);
        let mut seen = std::collections::HashSet::new();
        for a in d.accounts.iter().filter(|a| a.initial_videos > 0) {
            for k in 0..(a.initial_videos as u64 + 5) {
                let id = d.video_id(a, k);
                assert_eq!(id.to_string().len(), 19, "{id}");
                assert_eq!(d.decode_video_id(id), Some((a.index, k)));
                assert_eq!(d.decode_video_id(id ^ (1 << 24)), None);
                assert!(seen.insert(id));
            }
        }
        assert!(d.decode_video_id(7_000_000_000_000_000_000).is_none());
    }

    #[test]
    fn create_times_strictly_increase_and_count_matches() {
        let d = Dataset::generate(7, 40, 50, ANCHOR);
        for a in &d.accounts {
            if a.initial_videos == 0 {
                assert_eq!(d.count_at(a, ANCHOR + 10 * HISTORY_SECS), 0);
                continue;
            }
            let n = a.initial_videos as u64 + 10;
            for k in 1..n {
                assert!(d.create_time(a, k) > d.create_time(a, k - 1));
            }
            for k in 0..n {
                let ct = d.create_time(a, k);
                assert_eq!(d.count_at(a, ct), k + 1);
                assert_eq!(d.count_at(a, ct - 1), k);
            }
            let c = d.count_at(a, ANCHOR) as i64;
            assert!((c - a.initial_videos as i64).abs() <= 1, "{c} vs {}", a.initial_videos);
        }
    }

    #[test]
    fn counts_never_decrease() {
        let d = Dataset::generate(3, 20, 30, ANCHOR);
        let day0 = ANCHOR / 86_400;
        for a in &d.accounts {
            for k in 0..a.initial_videos.min(10) as u64 {
                let mut prev = d.video(a, k, day0 - 400);
                for day in day0 - 399..day0 + 60 {
                    let v = d.video(a, k, day);
                    assert!(v.view_count >= prev.view_count);
                    assert!(v.like_count >= prev.like_count);
                    assert!(v.comment_count >= prev.comment_count);
                    assert!(v.share_count >= prev.share_count);
                    prev = v;
                }
            }
            let first = d.follower_count(a, day0 - 10);
            let mut f = first;
            for day in day0 - 9..day0 + 400 {
                let g = d.follower_count(a, day);
                assert!(g >= f);
                f = g;
            }
            assert!(f >= first + 200, "{first} -> {f}");
        }
    }

    #[test]
    fn video_count_distribution_is_realistic() {
        let d = Dataset::generate(42, 300, 50, ANCHOR);
        let counts: Vec<u32> = d.accounts.iter().map(|a| a.initial_videos).collect();
        let mean = counts.iter().map(|&c| f64::from(c)).sum::<f64>() / counts.len() as f64;
        assert!((42.0..58.0).contains(&mean), "mean {mean}");
        assert!(counts.contains(&0));
        assert!(counts.iter().any(|&c| c >= 200));
        let tens = counts.iter().filter(|&&c| (10..100).contains(&c)).count();
        assert!(tens > 200, "{tens}");
    }
}
