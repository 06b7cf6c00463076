//! The body of `POST /admin/stores/import`: a `multipart/form-data` upload (field `file`) or a
//! bare `text/csv` body, read whole (up to [`MAX_BODY`]) and parsed into rows by the engine's
//! reader ([`hub_engine::import_file`], shared with the dashboard).

use actix_web::http::StatusCode;
use futures::StreamExt;
#[cfg(feature = "fuzzing")]
use hub_domain::{DomainError, NewStore};
use hub_engine::import_file::{self, ImportFile};

use crate::error::{ApiError, Code};

/// The largest upload accepted (this route only; the other routes keep the global limit).
pub(crate) const MAX_BODY: usize = import_file::MAX_UPLOAD;

/// Reads the whole body, refusing more than [`MAX_BODY`] bytes (413).
pub(crate) async fn read_body(mut payload: actix_web::web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid(format!("The request body could not be read: {e}")))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidRequest,
                format!("file is larger than {MAX_BODY} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The rows of a whole request body: the `file` part of a multipart body or a bare CSV body.
#[cfg(feature = "fuzzing")]
pub(crate) fn body_rows(body: &[u8], content_type: &str) -> Result<Vec<Result<NewStore, DomainError>>, ApiError> {
    body_file(body, content_type).map(|f| f.rows)
}

/// The rows of a whole request body and whether it has a group column.
pub(crate) fn body_file(body: &[u8], content_type: &str) -> Result<ImportFile, ApiError> {
    let invalid = |e: import_file::FileError| ApiError::invalid(e.0);
    let kind = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let file = match kind.as_str() {
        "multipart/form-data" => import_file::multipart_field(body, content_type, "file").map_err(invalid)?,
        "text/csv" => body,
        _ => return Err(ApiError::invalid("file is required: send multipart/form-data with a field named file")),
    };
    import_file::parse_file(file, hub_engine::MAX_IMPORT_ROWS).map_err(invalid)
}
