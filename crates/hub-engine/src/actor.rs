//! Who asks: the [`Actor`] of every use case lives in the domain (it carries the domain's
//! role and store scope); the engine re-exports it.

pub use hub_domain::{Actor, Principal};
