//! Entry points for the fuzz targets of `crates/hub-fuzz` (feature `fuzzing`): request bodies
//! of the admin routes through the parsing and validation their handlers apply, without a
//! server.

use hub_domain::{DomainError, NewStore, StoreCode};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::parse_body;
use crate::import_file;
use crate::routes::stores::CreateStoreBody;
use crate::routes::sync::SyncRunBody;

/// What actix's JSON extractor does before the route sees the body.
fn json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("The request body is not valid JSON: {e}")))
}

/// `POST /admin/stores`: the body and the store it creates.
pub fn create_store(body: &[u8]) -> Result<NewStore, ApiError> {
    let b: CreateStoreBody = parse_body(json(body)?)?;
    b.validate()
}

/// What a `POST /admin/sync/run` body asks for.
#[derive(Debug)]
pub struct SyncRun {
    pub store: Option<StoreCode>,
    pub job: &'static str,
    pub wait: bool,
}

/// `POST /admin/sync/run`: the body, validated.
pub fn sync_run(body: &[u8]) -> Result<SyncRun, ApiError> {
    let req = parse_body::<SyncRunBody>(json(body)?)?.validate()?;
    Ok(SyncRun { store: req.store, job: req.selection.name(), wait: req.wait })
}

/// `POST /admin/stores/import`: a whole body of `content_type` (multipart or CSV) into rows.
pub fn store_import(content_type: &str, body: &[u8]) -> Result<Vec<Result<NewStore, DomainError>>, ApiError> {
    import_file::body_rows(body, content_type)
}

/// The most data rows an import may hold.
pub const MAX_IMPORT_ROWS: usize = hub_engine::MAX_IMPORT_ROWS;
