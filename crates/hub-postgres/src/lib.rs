//! The PostgreSQL adapter: connection pool, embedded migrations, every repository port of
//! `hub-ports` implemented on [`Db`], and an advisory-lock [`hub_ports::JobLock`].
//!
//! No diesel type crosses the seam except through [`Db::conn`]: repository calls return
//! [`hub_ports::RepoError`].

mod error;
mod lock;
mod migrate;
mod models;
mod people_rows;
mod pool;
mod repo;
pub mod schema;
#[cfg(feature = "test-support")]
pub mod testing;
mod tls;

pub use error::PgError;
pub use lock::JOB_LOCK_NAMESPACE;
pub use migrate::{MIGRATIONS, reset_schema, run_migrations};
pub use pool::{Db, DbConfig, check_url, execute_batch, query_i64};
pub use repo::snapshots::{MAX_BIND_PARAMS, USER_ROWS_PER_STATEMENT, VIDEO_ROWS_PER_STATEMENT};
pub use tls::SslMode;
