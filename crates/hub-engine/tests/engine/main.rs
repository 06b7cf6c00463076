//! The engine's port-level tests: the use cases over the in-memory ports of
//! `hub_engine::testing`, and mockall mocks where a test checks how a port is called.

mod connect;
mod lease;
mod lifecycle;
mod locks;
mod people;
mod recovery;
mod retention;
mod sync;
mod system;
