//! The real actix app over the engine's in-memory ports, driven over HTTP.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;

mod api;
mod docs;
mod flows;
mod guards;
mod reports;
