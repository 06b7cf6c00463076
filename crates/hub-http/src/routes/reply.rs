//! What the handlers share: the 404 of unknown paths, documented answers with several
//! statuses (the [`reply!`] macro), and JSON answers with a status of their own.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse};
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::Apiv2Schema;

use crate::error::ApiError;
use crate::export;
use crate::params::Format;

/// Unknown paths: 404 `NOT_FOUND` in the envelope.
pub(crate) async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("No route for {} {}", req.method(), req.path())))
}

/// A documented response without a JSON body (a redirect, an HTML page).
pub(crate) struct NoSchema;
impl Apiv2Schema for NoSchema {}
impl OperationModifier for NoSchema {
    fn update_definitions(_: &mut BTreeMap<String, DefaultSchemaRaw>) {}
}

/// Adds `status` with `T`'s schema (none for [`NoSchema`]) to an operation's responses.
pub(crate) fn document<T: Apiv2Schema>(op: &mut DefaultOperationRaw, status: u16, description: &str) {
    let mut schema = T::schema_with_ref();
    schema.retain_ref();
    let has_schema = schema.reference.is_some() || schema.data_type.is_some();
    op.responses.insert(
        status.to_string(),
        Either::Right(Response {
            description: Some(description.to_owned()),
            schema: has_schema.then_some(schema),
            ..Default::default()
        }),
    );
}

/// A handler's answer whose statuses (and their schemas) are declared for the OpenAPI
/// document, for answers that `Json`/`CreatedJson` cannot describe (several statuses, HTML,
/// redirects, cookies).
macro_rules! reply {
    ($(#[$doc:meta])* $name:ident { $($status:literal => $schema:ty : $desc:literal),+ $(,)? }) => {
        $(#[$doc])*
        pub(crate) struct $name(pub actix_web::HttpResponse);

        impl actix_web::Responder for $name {
            type Body = actix_web::body::BoxBody;

            fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
                self.0
            }
        }

        impl paperclip::v2::schema::Apiv2Schema for $name {}

        impl paperclip::actix::OperationModifier for $name {
            fn update_response(op: &mut paperclip::v2::models::DefaultOperationRaw) {
                $( $crate::routes::reply::document::<$schema>(op, $status, $desc); )+
            }

            fn update_definitions(
                map: &mut std::collections::BTreeMap<String, paperclip::v2::models::DefaultSchemaRaw>,
            ) {
                $( <$schema as paperclip::actix::OperationModifier>::update_definitions(map); )+
            }
        }
    };
}
pub(crate) use reply;

/// A JSON answer with a status other than 200 (the status is documented by the reply type).
/// Marked as rendered on purpose, so the request middleware keeps it as it is.
pub(crate) fn json_with(status: actix_web::http::StatusCode, body: &impl serde::Serialize) -> HttpResponse {
    let mut res = HttpResponse::build(status).json(body);
    res.extensions_mut().insert(crate::error::Rendered);
    res
}

/// A list in the asked `format`: its pages streamed as CSV or XLSX (a file named `stem` plus
/// the form's extension, `columns`, each item through `row`), or collected and wrapped by
/// `json`.
pub(crate) async fn list<T, D, E>(
    format: Format,
    stem: impl FnOnce() -> String,
    columns: &'static [&'static str],
    pages: hub_engine::Pages<T, E>,
    row: fn(T) -> D,
    json: impl FnOnce(Vec<D>) -> HttpResponse,
) -> Result<HttpResponse, ApiError>
where
    T: Send + 'static,
    D: serde::Serialize + 'static,
    E: std::error::Error + 'static,
    ApiError: From<E>,
{
    Ok(match format.sheet() {
        Some(sheet) => export::download(sheet, &stem(), columns, pages, row),
        None => json(hub_engine::collect(pages).await?.into_iter().map(row).collect()),
    })
}
