//! The scheduler over the engine's in-memory ports.

// The helpers first: their macros are used by the test modules.
#[macro_use]
mod support;

mod scheduler;
