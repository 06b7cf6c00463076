//! The finishing step of the served OpenAPI 3 document, and the `Allow` table of 405 answers.
//!
//! paperclip's OpenAPI 2 model has no `pattern`, `minimum`, `maximum`, `minLength` or
//! `additionalProperties: false` on schemas, and it writes every parameter's type from the
//! Rust type alone (`String`, `u32`). The server is stricter than that, so the document is
//! finished here with what the server enforces, taken from the same constants the
//! validators use:
//!
//! - parameters, by name (`crate::params::rule`): `store_code` (path and query), `days`,
//!   `limit`, `id`, `action`, the report dates, `format` and the other report options; the
//!   others are opaque tokens whose validity no schema can state (the connect link's
//!   `invite`, TikTok's `code`, the signed `state`) or TikTok's own free text, and a test
//!   fails on any new parameter that is in neither list;
//! - query parameters the handlers require although their type is an `Option` (so they can
//!   answer their own message): [`REQUIRED_QUERY`];
//! - request bodies: `additionalProperties: false` (unknown fields are refused) and the
//!   rules of each field ([`body_rule`]);
//! - optional properties are `nullable` (see `routes::docs::mark_nullable`);
//! - documented examples: the spec's example store `store_jakarta_01` for every `store_code`
//!   and the spec's example bodies.

use hub_domain::{DisplayName, Email, KeyName, Password, PersonName, PicContact, StoreCode, StoreGroup, StoreName};
use serde_json::{Value, json};

use crate::allow::METHODS;

/// The spec's example store, used as the documented example of every `store_code`.
pub const STORE_CODE_EXAMPLE: &str = "store_jakarta_01";

/// Unicode `White_Space`, what `str::trim` and `char::is_whitespace` remove (inclusive ranges).
pub(crate) const WHITESPACE: &[(u32, u32)] = &[
    (0x09, 0x0D),
    (0x20, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
];

/// Unicode `Cc`, what `char::is_control` refuses (inclusive ranges).
pub(crate) const CONTROL: &[(u32, u32)] = &[(0x00, 0x1F), (0x7F, 0x9F)];

/// Query parameters that are `Option`s in Rust (so the handler can answer its own message)
/// but that the handler requires: (path, name).
pub(crate) const REQUIRED_QUERY: &[(&str, &str)] = &[("/connect/tiktok", "store_code"), ("/auth/url", "store_code")];

/// A character class body (`\u0009-\u000D\u0020…`) from inclusive ranges.
fn class(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|&(lo, hi)| if lo == hi { format!("\\u{lo:04X}") } else { format!("\\u{lo:04X}-\\u{hi:04X}") })
        .collect()
}

/// `[A-Za-z0-9_-]{1,50}`, what `StoreCode::parse` accepts.
pub(crate) fn store_code_pattern() -> String {
    format!("^[A-Za-z0-9_-]{{1,{}}}$", StoreCode::MAX_LEN)
}

/// What `bounded_text` of the domain accepts: any amount of white space around 1–`max`
/// characters that start and end with a non-space and hold no control character. With
/// `optional`, white space alone (or nothing) is accepted too (it reads as "none").
pub(crate) fn text_pattern(max: usize, optional: bool) -> String {
    let ws = class(WHITESPACE);
    let ctl = class(CONTROL);
    let (edge, inner, space) = (format!("[^{ws}{ctl}]"), format!("[^{ctl}]"), format!("[{ws}]"));
    let body = format!("{edge}(?:{inner}{{0,{}}}{edge})?{space}*", max.saturating_sub(2));
    if optional { format!("^{space}*(?:{body})?$") } else { format!("^{space}*{body}$") }
}

fn store_code_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": StoreCode::MAX_LEN,
        "pattern": store_code_pattern(),
        "example": STORE_CODE_EXAMPLE,
    })
}

/// `[A-Za-z0-9_-]{1,50}`, what `StoreGroup::parse` accepts.
fn group_schema() -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": StoreGroup::MAX_LEN,
        "pattern": format!("^[A-Za-z0-9_-]{{1,{}}}$", StoreGroup::MAX_LEN),
        "example": "north",
    })
}

/// The schema rules of field `name` of request body `schema`.
pub(crate) fn body_rule(schema: &str, name: &str) -> Option<Value> {
    let text = |max: usize, optional: bool| {
        let mut v = json!({ "type": "string", "pattern": text_pattern(max, optional) });
        if !optional {
            v["minLength"] = json!(1);
        }
        v
    };
    Some(match name {
        "store_code" => store_code_schema(),
        "store_name" => text(StoreName::MAX_CHARS, false),
        "pic_name" => text(PersonName::MAX_CHARS, false),
        "pic_contact" => text(PicContact::MAX_CHARS, true),
        "store_group" => group_schema(),
        "store_groups" => json!({ "type": "array", "minItems": 1, "items": group_schema() }),
        // What `Email::parse` accepts: printable ASCII without `@` or space around one `@`, a
        // dot inside the domain.
        "email" => json!({
            "type": "string",
            "minLength": 5,
            "maxLength": Email::MAX_LEN,
            "pattern": "^[!-?A-~]{1,64}@[!-?A-~]+\\.[!-?A-~]+$",
            "example": "ops@example.com",
        }),
        // The login form takes any text: a wrong one is a 401, not a 400.
        "password" if schema == "LoginBody" => json!({ "type": "string", "maxLength": 1024 }),
        "password" => json!({
            "type": "string",
            "minLength": Password::MIN_CHARS,
            "maxLength": Password::MAX_CHARS,
            "description": "At least 12 characters (5 different), not a common password or one followed by digits.",
        }),
        "name" if schema == "CreateKeyBody" => text(KeyName::MAX_CHARS, false),
        "name" => text(DisplayName::MAX_CHARS, false),
        "role" => json!({ "type": "string", "enum": ["viewer", "operator", "admin"] }),
        "expires_in_days" => json!({
            "type": "integer", "format": "int32", "minimum": 1, "maximum": hub_engine::MAX_KEY_DAYS,
        }),
        _ => return None,
    })
}

/// The documented example of a request body, by schema name.
fn body_example(schema: &str) -> Option<Value> {
    match schema {
        "CreateStoreBody" => Some(json!({
            "store_code": STORE_CODE_EXAMPLE,
            "store_name": "Store Jakarta Pusat",
            "pic_name": "John Doe",
            "pic_contact": "john@example.com",
        })),
        "SyncRunBody" => Some(json!({ "store_code": STORE_CODE_EXAMPLE, "job": "user", "wait": true })),
        "UpdateStoreBody" => Some(json!({ "pic_name": "Jane Doe", "store_group": "jakarta" })),
        "CreateUserBody" => Some(json!({
            "email": "ops@example.com",
            "name": "Ops Lead",
            "role": "operator",
            "store_groups": null,
            "password": "correct horse battery staple 9",
        })),
        "UpdateUserBody" => Some(json!({ "role": "viewer" })),
        "CreateKeyBody" => Some(json!({ "name": "BI export", "role": "viewer", "expires_in_days": 90 })),
        _ => None,
    }
}

/// Merges `rule`'s keys into `schema` (keeping its description and `nullable`).
fn merge(schema: &mut Value, rule: Value) {
    if let (Value::Object(target), Value::Object(rule)) = (schema, rule) {
        target.extend(rule);
    }
}

/// Adds what the server enforces to the OpenAPI 3 document (see the module's doc).
pub(crate) fn constrain(spec: &mut Value) {
    let mut body_schemas = Vec::new();
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(item) = item else { continue };
            for (method, op) in item.iter_mut() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                if let Some(Value::Array(params)) = op.get_mut("parameters") {
                    for p in params.iter_mut() {
                        let name = p["name"].as_str().unwrap_or_default().to_owned();
                        if let Some(rule) = crate::params::rule(path, &name, store_code_schema, group_schema) {
                            merge(&mut p["schema"], rule);
                        }
                        if p["in"] == "query" && REQUIRED_QUERY.contains(&(path.as_str(), name.as_str())) {
                            p["required"] = Value::Bool(true);
                        }
                    }
                }
                let body_ref = op
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/components/schemas/"));
                if let Some(name) = body_ref {
                    body_schemas.push(name.to_owned());
                }
            }
        }
    }
    document_csv(spec);
    for name in body_schemas {
        let Some(schema) = spec.pointer_mut(&format!("/components/schemas/{name}")) else { continue };
        schema["additionalProperties"] = Value::Bool(false);
        if name.starts_with("Update") {
            // A change must name at least one field.
            schema["minProperties"] = json!(1);
        }
        if let Some(Value::Object(props)) = schema.get_mut("properties") {
            for (field, prop) in props.iter_mut() {
                if let Some(rule) = body_rule(&name, field) {
                    merge(prop, rule);
                }
            }
        }
        if let Some(example) = body_example(&name) {
            schema["example"] = example;
        }
    }
}

/// CSV in and out: every operation with a `format` parameter also answers `text/csv`
/// (`?format=csv`) and the XLSX content type (`?format=xlsx`, a binary file), and the store import takes a multipart upload (field `file`) or a bare
/// CSV body — what paperclip cannot say about handlers that read the raw request.
fn document_csv(spec: &mut Value) {
    let csv = serde_json::json!({ "schema": { "type": "string" } });
    let xlsx = serde_json::json!({ "schema": { "type": "string", "format": "binary" } });
    if let Some(Value::Object(paths)) = spec.get_mut("paths") {
        for item in paths.values_mut() {
            let Value::Object(item) = item else { continue };
            for (method, op) in item.iter_mut() {
                let has_format = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == "format" && p["in"] == "query"));
                if method == "get" && has_format && op["responses"]["200"].is_object() {
                    op["responses"]["200"]["content"]["text/csv"] = csv.clone();
                    op["responses"]["200"]["content"][xlsx_sheet::CONTENT_TYPE] = xlsx.clone();
                }
            }
        }
    }
    if let Some(op) = spec.pointer_mut("/paths/~1auth~1login/post") {
        let mut login = json!({
            "type": "object",
            "required": ["email", "password"],
            "additionalProperties": false,
            "properties": { "email": { "type": "string" }, "password": { "type": "string" } },
            "example": { "email": "ops@example.com", "password": "correct horse battery staple 9" },
        });
        for field in ["email", "password"] {
            if let Some(rule) = body_rule("LoginBody", field) {
                merge(&mut login["properties"][field], rule);
            }
        }
        // A form may also carry other fields (a dashboard's csrf_token).
        let mut form = login.clone();
        form["additionalProperties"] = Value::Bool(true);
        op["requestBody"] = json!({
            "required": true,
            "description": "The email and password, as JSON or as a form.",
            "content": {
                "application/json": { "schema": login },
                "application/x-www-form-urlencoded": { "schema": form },
            },
        });
    }
    if let Some(op) = spec.pointer_mut("/paths/~1admin~1stores~1import/post") {
        op["requestBody"] = serde_json::json!({
            "required": true,
            "description": "The stores as CSV (`store_code,store_name,pic_name,pic_contact,store_group`, the last two optional): a multipart upload with a field named `file`, or the CSV itself as the body.",
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": { "file": { "type": "string", "format": "binary" } },
                    },
                },
                "text/csv": { "schema": { "type": "string" } },
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
        ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&u32::from(c)))
    }

    #[test]
    fn character_classes_are_rusts() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(in_ranges(WHITESPACE, c), c.is_whitespace(), "{:04X}", u32::from(c));
            assert_eq!(in_ranges(CONTROL, c), c.is_control(), "{:04X}", u32::from(c));
        }
    }

    #[test]
    fn patterns_read_as_expected() {
        assert_eq!(store_code_pattern(), "^[A-Za-z0-9_-]{1,50}$");
        let p = text_pattern(255, false);
        assert!(p.starts_with("^[\\u0009-\\u000D\\u0020\\u0085"), "{p}");
        assert!(p.contains("{0,253}"), "{p}");
        assert!(text_pattern(255, true).ends_with(")?$"));
    }

    #[test]
    fn bodies_and_parameters_get_their_rules() {
        let mut spec = json!({
            "paths": {
                "/x/{store_code}": { "post": {
                    "parameters": [
                        { "in": "path", "name": "store_code", "required": true, "schema": { "type": "string" } },
                        { "in": "query", "name": "days", "schema": { "type": "integer", "description": "d" } },
                    ],
                    "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CreateStoreBody" } } } }
                }},
                "/auth/url": { "get": { "parameters": [
                    { "in": "query", "name": "store_code", "schema": { "type": "string" } },
                    { "in": "query", "name": "invite", "schema": { "type": "string" } },
                ]}},
            },
            "components": { "schemas": { "CreateStoreBody": { "type": "object", "properties": {
                "store_code": { "type": "string" },
                "pic_contact": { "type": "string", "nullable": true },
            }}}}
        });
        constrain(&mut spec);
        let params = &spec["paths"]["/x/{store_code}"]["post"]["parameters"];
        assert_eq!(params[0]["schema"]["pattern"], "^[A-Za-z0-9_-]{1,50}$");
        assert_eq!(params[1]["schema"]["maximum"], 365);
        assert_eq!(params[1]["schema"]["description"], "d");
        let auth = &spec["paths"]["/auth/url"]["get"]["parameters"];
        assert_eq!(auth[0]["required"], true);
        assert!(auth[1].get("required").is_none());
        assert!(auth[1]["schema"].get("pattern").is_none());
        let body = &spec["components"]["schemas"]["CreateStoreBody"];
        assert_eq!(body["additionalProperties"], false);
        assert_eq!(body["properties"]["pic_contact"]["nullable"], true);
        assert!(body["properties"]["pic_contact"]["pattern"].is_string());
        assert_eq!(body["example"]["store_code"], STORE_CODE_EXAMPLE);
    }
}
