//! The TikTok adapter: [`TikTokClient`] implements [`hub_ports::TikTokApi`] over Login Kit
//! OAuth (`/v2/oauth/token/`, `/v2/oauth/revoke/`) and the Display API v2 (`/v2/user/info/`,
//! `/v2/video/list/`, `/v2/video/query/`).
//!
//! What it owns, so the engine never has to:
//! - **Both envelopes, decided by the body.** Flat OAuth answers (errors often with HTTP
//!   200) and the v2 `{"data","error":{"code"}}` envelope go through one decoder
//!   (`decode.rs`); the mapping to [`hub_ports::TikTokError`] is in the README.
//! - **A client-side budget per endpoint.** TikTok allows 600 requests per sliding minute
//!   per data endpoint. Each of `user/info`, `video/list` and `video/query` has its own
//!   GCRA limiter (governor) of `rate_limit_per_min` per minute with a burst of `burst`
//!   (defaults 570 and 10); token and revoke calls share one generous budget. GCRA lets
//!   through at most `burst` requests at once and then one every `60 s / rate`, so any
//!   60-second window — wherever it starts — holds at most `burst + rate` requests:
//!   `rate + burst ≤ 600` therefore means no window TikTok can look at exceeds 600. Every
//!   attempt, retries included, waits for the budget.
//! - **Retries** of rate limits and transient failures (429, 5xx, `server_error`,
//!   `temporarily_unavailable`, `internal_error`, timeouts, connection errors), at most
//!   `max_retries` times, sleeping a uniform random time in
//!   `[0, min(backoff_cap, backoff_base · 2^retry)]` (full jitter). Nothing else is retried.
//!   The token endpoint is not idempotent (codes are single use, refresh tokens may rotate
//!   and replaying a rotated one can kill the grant), so it retries only failures the server
//!   certainly did not act on: connection refused, 429, 503 or an explicit error code.
//! - **No secrets in output.** Tokens and the client secret travel only in form bodies and
//!   the `Authorization` header; errors, logs and `Debug` never show them (and error texts
//!   are scrubbed of them in case TikTok ever echoes one).
//!
//! Observability: [`TikTokClient::stats`] returns per-endpoint counters ([`ClientStats`]),
//! and every attempt logs one `tracing::debug!` event (`endpoint`, `attempt`, `status`,
//! `duration_ms`, `log_id`, `outcome`).

mod answers;
mod client;
mod config;
mod decode;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod shared;
mod stats;

pub use client::{MAX_QUERY_IDS, SCOPES, TOKEN_BUDGET_PER_WINDOW, TikTokClient, USER_FIELDS, VIDEO_FIELDS};
pub use config::{BuildError, DEFAULT_API_BASE_URL, DEFAULT_AUTH_BASE_URL, TikTokConfig};
pub use stats::{ClientStats, EndpointStats};
