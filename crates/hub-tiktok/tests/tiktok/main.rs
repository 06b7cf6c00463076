//! The TikTok client against the sandbox on a random local port.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;

mod canary;
mod display;
mod oauth;
mod shared;
