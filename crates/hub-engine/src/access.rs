//! The one store check of every use case that names a store: the store exists (and, as roles
//! arrive, the actor may see it). A store the actor may not see answers the same as a store
//! that does not exist.

use std::sync::Arc;

use hub_domain::{Store, StoreCode};
use hub_ports::{RepoError, StoreRepo};

use crate::actor::Actor;

/// Why a named store cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreMissing {
    NotFound,
    Storage(RepoError),
}

/// The store check.
#[derive(Clone)]
pub(crate) struct StoreAccess {
    stores: Arc<dyn StoreRepo>,
}

impl StoreAccess {
    pub(crate) fn new(stores: Arc<dyn StoreRepo>) -> Self {
        Self { stores }
    }

    /// The store `code`, if `actor` may use it.
    pub(crate) async fn require(&self, _actor: &Actor, code: &StoreCode) -> Result<Store, StoreMissing> {
        match self.stores.get(code).await {
            Ok(Some(store)) => Ok(store),
            Ok(None) => Err(StoreMissing::NotFound),
            Err(e) => Err(StoreMissing::Storage(e)),
        }
    }
}
