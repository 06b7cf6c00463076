//! The sandbox over HTTP, as the hub and TikTok's documents use it.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;

mod api;
mod oauth;
mod webhook;
