//! Adapter tests: every repository against a real PostgreSQL, one fresh database per test
//! (`hub_postgres::testing::TestDb`). One test binary, to keep link time down.

mod accounts;
mod audit;
mod connect;
mod health;
mod lifecycle;
mod limits;
mod lock;
mod notify;
mod people;
mod pool;
mod reports;
mod retention;
mod schema;
mod snapshots;
mod stores;
mod support;
mod sync;
mod tls;
