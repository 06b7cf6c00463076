//! Extractors and their settings: every malformed query, path or body becomes a 400
//! `INVALID_REQUEST` naming the field (413 for an oversized body), never a 500 and never a
//! silently applied default.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use hub_engine::Actor;
use paperclip::actix::{Apiv2Security, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Parameter, ParameterIn};
use paperclip::v2::schema::Apiv2Schema;
use serde_json::{Map, Value};

use crate::error::{ApiError, Code};

/// JSON bodies: size limit, content type and syntax errors in the envelope.
pub(crate) fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit).error_handler(move |err, _req| {
        let e = match err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::InvalidRequest,
                format!("Request body is larger than {limit} bytes"),
            ),
            JsonPayloadError::ContentType => {
                ApiError::invalid("The request body must be JSON (Content-Type: application/json)")
            }
            JsonPayloadError::Deserialize(e) => ApiError::invalid(format!("The request body is not valid JSON: {e}")),
            other => ApiError::invalid(format!("The request body could not be read: {other}")),
        };
        e.into()
    })
}

/// Query strings: the deserializers below name the field in their messages.
pub(crate) fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let msg = match err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::invalid(format!("Invalid query string: {msg}")).into()
    })
}

/// Path parameters.
pub(crate) fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let PathError::Deserialize(e) = err else {
            return ApiError::invalid("Invalid path parameter").into();
        };
        ApiError::invalid(format!("Invalid path parameter: {e}")).into()
    })
}

/// The caller of an admin route, authenticated by the guard (the `authn` module) from an API
/// key or a session cookie. Taking it in a handler both documents the security schemes (the
/// session cookie is added to the document by the `roles` module) and refuses a request the
/// guard did not let through. What the caller may do is the engine's decision.
#[derive(Apiv2Security)]
#[openapi(
    apiKey,
    alias = "apiKey",
    in = "header",
    name = "X-API-KEY",
    description = "A break-glass ADMIN_API_KEY (admin, every store) or a personal API key (tth_…, with its own role and store groups)."
)]
pub struct AdminKey(pub Actor);

impl FromRequest for AdminKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Actor>()
                .cloned()
                .map(AdminKey)
                .ok_or_else(|| ApiError::unauthorized("Missing API key: send it in the X-API-KEY header")),
        )
    }
}

/// A JSON request body parsed field by field, so that every error names its field.
pub(crate) trait FromBody: Sized {
    /// Whether an absent body means `{}`.
    const OPTIONAL: bool = false;
    /// The fields the body may hold.
    const FIELDS: &'static [&'static str];
    fn from_fields(fields: &Fields) -> Result<Self, ApiError>;
}

/// The fields of a JSON object body.
pub(crate) struct Fields(Map<String, Value>);

impl Fields {
    /// A string field; `null` and absent are `None`.
    pub(crate) fn string(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::invalid(format!("{name} must be a string"))),
        }
    }

    /// A string field that may be `null` on purpose: absent is `None`, `null` is `Some(None)`.
    pub(crate) fn nullable_string(&self, name: &str) -> Result<Option<Option<&str>>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s))),
            Some(_) => Err(ApiError::invalid(format!("{name} must be a string or null"))),
        }
    }

    /// A list of strings that may be `null` on purpose: absent is `None`, `null` is
    /// `Some(None)`.
    pub(crate) fn string_list(&self, name: &str) -> Result<Option<Option<Vec<&str>>>, ApiError> {
        let bad = || ApiError::invalid(format!("{name} must be a list of strings or null"));
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Array(items)) => {
                Ok(Some(Some(items.iter().map(|v| v.as_str().ok_or_else(bad)).collect::<Result<_, _>>()?)))
            }
            Some(_) => Err(bad()),
        }
    }

    /// A whole number from `min` to `max`; `null` and absent are `None`.
    pub(crate) fn whole(&self, name: &str, min: u32, max: u32) -> Result<Option<u32>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("{name} must be a whole number from {min} to {max}"))),
        }
    }

    /// A boolean field.
    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::invalid(format!("{name} must be true or false"))),
        }
    }
}

/// A JSON body of `T` (see [`FromBody`]).
pub(crate) struct JsonBody<T>(pub T);

pub(crate) fn parse_body<T: FromBody>(value: Value) -> Result<T, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::invalid("The request body must be a JSON object"));
    };
    if let Some(unknown) = map.keys().find(|k| !T::FIELDS.contains(&k.as_str())) {
        return Err(ApiError::invalid(format!(
            "Unknown field {unknown:?} in the request body; expected {}",
            T::FIELDS.join(", ")
        )));
    }
    T::from_fields(&Fields(map))
}

/// No body at all: no length (or length 0) and no chunked transfer.
fn body_absent(req: &HttpRequest) -> bool {
    let h = req.headers();
    let length = h.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    match length {
        Some("0") => true,
        Some(_) => false,
        None => !h.contains_key(header::TRANSFER_ENCODING) && !h.contains_key(header::CONTENT_TYPE),
    }
}

impl<T: FromBody + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if T::OPTIONAL && body_absent(req) {
            let parsed = parse_body::<T>(Value::Object(Map::new())).map(JsonBody).map_err(Into::into);
            return Box::pin(std::future::ready(parsed));
        }
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let value = json.await?.into_inner();
            Ok(JsonBody(parse_body::<T>(value)?))
        })
    }
}

impl<T: FromBody + Apiv2Schema> Apiv2Schema for JsonBody<T> {
    fn name() -> Option<String> {
        T::name()
    }

    fn raw_schema() -> DefaultSchemaRaw {
        T::raw_schema()
    }
}

impl<T: FromBody + Apiv2Schema + OperationModifier> OperationModifier for JsonBody<T> {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        let mut schema = T::schema_with_ref();
        schema.retain_ref();
        op.parameters.push(Either::Right(Parameter {
            in_: ParameterIn::Body,
            name: "body".into(),
            required: !T::OPTIONAL,
            schema: Some(schema),
            ..Default::default()
        }));
    }

    fn update_definitions(map: &mut BTreeMap<String, DefaultSchemaRaw>) {
        T::update_definitions(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Probe {
        name: String,
        flag: Option<bool>,
    }

    impl FromBody for Probe {
        const FIELDS: &'static [&'static str] = &["name", "flag"];
        fn from_fields(f: &Fields) -> Result<Self, ApiError> {
            let name = f.string("name")?.ok_or_else(|| ApiError::invalid("name is required"))?;
            Ok(Self { name: name.to_owned(), flag: f.bool("flag")? })
        }
    }

    #[test]
    fn body_errors_name_the_field() {
        let cases = [
            (serde_json::json!([]), "JSON object"),
            (serde_json::json!("x"), "JSON object"),
            (serde_json::json!({}), "name is required"),
            (serde_json::json!({"name": 1}), "name must be a string"),
            (serde_json::json!({"name": "a", "flag": "yes"}), "flag must be true or false"),
            (serde_json::json!({"name": "a", "nmae": "b"}), "\"nmae\""),
        ];
        for (body, want) in cases {
            let err = parse_body::<Probe>(body.clone()).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(err.message.contains(want), "{body}: {}", err.message);
        }
        let ok = parse_body::<Probe>(serde_json::json!({"name": "a", "flag": null})).unwrap();
        assert_eq!((ok.name.as_str(), ok.flag), ("a", None));
    }
}
