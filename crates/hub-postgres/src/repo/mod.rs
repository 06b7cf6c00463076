//! Every repository port of `hub-ports`, implemented on [`crate::Db`].

mod accounts;
mod audit;
mod connect;
mod events;
mod health;
mod keys;
mod lifecycle;
mod limits;
mod notify;
mod people;
pub(crate) mod reports;
mod retention;
pub(crate) mod snapshots;
pub(crate) mod stores;
pub(crate) mod sync;
