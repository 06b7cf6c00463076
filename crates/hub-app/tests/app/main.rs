//! End-to-end tests of the real `tiktok-hub` binary over PostgreSQL and the TikTok sandbox.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;

mod browser;
mod budget;
mod e2e;
mod exports;
mod flood;
mod instances;
mod lifecycle;
mod locks;
mod notify;
mod people;
mod recovery;
mod storm;
