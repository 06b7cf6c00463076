//! The real actix app over the engine's in-memory ports, driven over HTTP.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;
#[macro_use]
mod people_support;

mod api;
mod docs;
mod flows;
mod guards;
mod people;
mod reports;
mod roles;
