//! The engine's port-level tests: the use cases over the in-memory ports of
//! `hub_engine::testing`, and mockall mocks where a test checks how a port is called.

mod connect;
mod people;
mod recovery;
mod sync;
mod system;
