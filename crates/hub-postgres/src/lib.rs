//! The PostgreSQL adapter: connection pool, embedded migrations, and (soon) every repository.

mod migrate;
mod pool;

pub use migrate::{MIGRATIONS, reset_schema, run_migrations};
pub use pool::{Db, DbConfig, PgError};
