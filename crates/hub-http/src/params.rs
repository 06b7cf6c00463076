//! Query parameters: how each is read and validated (every error names the field), and the
//! schema rules the OpenAPI document states for it, from the same constants.

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::NaiveDate;
use hub_domain::{StoreCode, StoreSort, VideoSort, parse_report_date};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::error::ApiError;

/// The range and default of a whole-number query parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
    pub default: u32,
}

/// `days`: 1–365, default 30.
pub(crate) const DAYS: Bounds = Bounds { field: "days", min: 1, max: 365, default: 30 };
/// `limit`: 1–500, default 50.
pub(crate) const LIMIT: Bounds = Bounds { field: "limit", min: 1, max: 500, default: 50 };
/// `limit` of the top-videos report: 1–100, default 20.
pub(crate) const TOP_LIMIT: Bounds = Bounds { field: "limit", min: 1, max: 100, default: 20 };
/// `offset` of the store report.
pub(crate) const OFFSET: Bounds = Bounds { field: "offset", min: 0, max: 1_000_000, default: 0 };
/// The longest audit `action` filter.
pub(crate) const ACTION_MAX_LEN: usize = 64;
/// What an audit `actor` filter looks like: `key:<12 hex>`, `user:<id>`, `apikey:<12 hex>`,
/// `system`, `cli`, `store-staff` or `anonymous`.
pub(crate) const ACTOR_PATTERN: &str =
    "^(key:[0-9a-f]{12}|apikey:[0-9a-f]{12}|user:[1-9][0-9]{0,18}|system|cli|store-staff|anonymous)$";

/// An audit `actor` filter (see [`ACTOR_PATTERN`]).
pub(crate) fn actor(raw: &str) -> Result<String, ApiError> {
    let hex12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let ok = match raw.split_once(':') {
        Some(("key" | "apikey", fp)) => hex12(fp),
        Some(("user", id)) => {
            id.len() <= 19 && !id.starts_with('0') && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
        }
        Some(_) => false,
        None => matches!(raw, "system" | "cli" | "store-staff" | "anonymous"),
    };
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::invalid(
            "actor must be key:<12 hex>, apikey:<12 hex>, user:<id>, system, cli, store-staff or anonymous",
        ))
    }
}

/// A user's or key's id in the path: a positive whole number.
#[derive(Debug, Clone, Copy)]
pub struct IdParam(pub i64);

impl<'de> Deserialize<'de> for IdParam {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(IdParam)
            .ok_or_else(|| serde::de::Error::custom("id must be a positive whole number"))
    }
}

impl paperclip::v2::schema::Apiv2Schema for IdParam {
    fn raw_schema() -> paperclip::v2::models::DefaultSchemaRaw {
        paperclip::v2::models::DefaultSchemaRaw {
            data_type: Some(paperclip::v2::models::DataType::Integer),
            format: Some(paperclip::v2::models::DataTypeFormat::Int64),
            description: Some("The id".into()),
            ..Default::default()
        }
    }
}

/// An optional whole number within `b`; the error names the field.
pub(crate) fn bounded(raw: Option<&str>, b: Bounds) -> Result<Option<u32>, ApiError> {
    raw.map(|r| {
        r.parse::<u32>()
            .ok()
            .filter(|n| (b.min..=b.max).contains(n))
            .ok_or_else(|| ApiError::invalid(format!("{} must be a whole number from {} to {}", b.field, b.min, b.max)))
    })
    .transpose()
}

fn deserialize_bounded<'de, D: Deserializer<'de>>(d: D, b: Bounds) -> Result<Option<u32>, D::Error> {
    let raw = String::deserialize(d)?;
    bounded(Some(&raw), b).map_err(|e| serde::de::Error::custom(e.message))
}

/// `days`: 1–365 (a serde `deserialize_with`).
pub(crate) fn days<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    deserialize_bounded(d, DAYS)
}

/// `limit`: 1–500 (a serde `deserialize_with`).
pub(crate) fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    deserialize_bounded(d, LIMIT)
}

/// A store code from the path or the query, validated by the domain.
pub(crate) fn store_code(raw: &str) -> Result<StoreCode, ApiError> {
    Ok(StoreCode::parse(raw)?)
}

/// An optional `YYYY-MM-DD` report date.
pub(crate) fn date(raw: Option<&str>, field: &'static str) -> Result<Option<NaiveDate>, ApiError> {
    Ok(raw.map(|r| parse_report_date(r, field)).transpose()?)
}

/// `true` or `false` (absent: `false`).
pub(crate) fn flag(raw: Option<&str>, field: &str) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(format!("{field} must be true or false"))),
    }
}

/// An audit `action` filter: 1–64 lowercase letters, dots or underscores.
pub(crate) fn action(raw: &str) -> Result<String, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= ACTION_MAX_LEN
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ApiError::invalid("action must be 1-64 lowercase letters, dots or underscores"))
    }
}

/// The form an answer takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    /// `format=json|csv|xlsx`; without it, `Accept: text/csv` asks for CSV and the XLSX
    /// content type for XLSX.
    pub(crate) fn of(format: Option<&str>, req: &HttpRequest) -> Result<Self, ApiError> {
        let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok());
        Self::parse(format, accept)
    }

    pub(crate) fn parse(format: Option<&str>, accept: Option<&str>) -> Result<Self, ApiError> {
        match format {
            Some("csv") => Ok(Self::Csv),
            Some("json") => Ok(Self::Json),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(_) => Err(ApiError::invalid("format must be json, csv or xlsx")),
            None => {
                let accept = accept.map(str::to_ascii_lowercase).unwrap_or_default();
                Ok(if accept.contains("text/csv") {
                    Self::Csv
                } else if accept.contains(xlsx_sheet::CONTENT_TYPE) {
                    Self::Xlsx
                } else {
                    Self::Json
                })
            }
        }
    }

    /// A spreadsheet export (CSV or XLSX), or `None` for JSON.
    pub(crate) fn sheet(self) -> Option<crate::export::Sheet> {
        match self {
            Self::Json => None,
            Self::Csv => Some(crate::export::Sheet::Csv),
            Self::Xlsx => Some(crate::export::Sheet::Xlsx),
        }
    }
}

fn bounded_schema(b: Bounds) -> Value {
    json!({ "type": "integer", "format": "int32", "minimum": b.min, "maximum": b.max, "default": b.default })
}

fn one_of(names: &[&str], default: &str) -> Value {
    json!({ "type": "string", "enum": names, "default": default })
}

/// The schema rules of query parameter `name` of the operation at `path` (the document's
/// finishing step merges them in); `None` for the free-form ones (the connect link's
/// `invite`, TikTok's `code` and `state`, TikTok's own texts).
pub(crate) fn rule(
    path: &str,
    name: &str,
    store_code_schema: impl FnOnce() -> Value,
    group_schema: impl FnOnce() -> Value,
) -> Option<Value> {
    let top_videos = path == "/admin/reports/videos/top";
    Some(match name {
        "store_code" => store_code_schema(),
        "store_group" => group_schema(),
        "days" => bounded_schema(DAYS),
        "limit" if top_videos => bounded_schema(TOP_LIMIT),
        "limit" => bounded_schema(LIMIT),
        "offset" => bounded_schema(OFFSET),
        // A run id: a positive i64.
        "id" => json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX }),
        "actor" => json!({
            "type": "string",
            "maxLength": 26,
            "pattern": ACTOR_PATTERN,
            "example": "user:1",
        }),
        "action" => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": ACTION_MAX_LEN,
            "pattern": format!("^[a-z_.]{{1,{ACTION_MAX_LEN}}}$"),
            "example": "store.create",
        }),
        "date" | "from" | "to" => json!({
            "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "example": "2026-01-24",
        }),
        "format" => one_of(&["json", "csv", "xlsx"], "json"),
        "include" => json!({ "type": "string", "enum": ["archived"] }),
        "order" => one_of(&["desc", "asc"], "desc"),
        "all" | "dry_run" => one_of(&["true", "false"], "false"),
        "on_conflict" => one_of(&["fail", "skip", "update"], "fail"),
        "sort" if top_videos => one_of(&VideoSort::ALL.map(VideoSort::as_str), "views"),
        "sort" => one_of(&StoreSort::ALL.map(StoreSort::as_str), "followers"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_wanted_by_format_or_accept() {
        assert_eq!(Format::parse(Some("csv"), None), Ok(Format::Csv));
        assert_eq!(Format::parse(Some("json"), Some("text/csv")), Ok(Format::Json));
        assert_eq!(Format::parse(None, Some("text/csv, */*")), Ok(Format::Csv));
        assert_eq!(Format::parse(None, Some("application/json")), Ok(Format::Json));
        assert_eq!(Format::parse(None, None), Ok(Format::Json));
        assert_eq!(Format::parse(Some("xlsx"), Some("text/csv")), Ok(Format::Xlsx));
        assert_eq!(Format::parse(None, Some(xlsx_sheet::CONTENT_TYPE)), Ok(Format::Xlsx));
        for bad in ["xml", "XLSX", "xls", ""] {
            assert_eq!(
                Format::parse(Some(bad), None).unwrap_err().message,
                "format must be json, csv or xlsx",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn numbers_name_their_field() {
        assert_eq!(bounded(None, DAYS), Ok(None));
        assert_eq!(bounded(Some("7"), DAYS), Ok(Some(7)));
        for bad in ["0", "366", "-1", "x", "", "7.5"] {
            assert_eq!(bounded(Some(bad), DAYS).unwrap_err().message, "days must be a whole number from 1 to 365");
        }
        assert_eq!(bounded(Some("0"), OFFSET), Ok(Some(0)));
        assert!(action("store.create").is_ok());
        assert!(action("Store").is_err() && action("").is_err() && action(&"a".repeat(65)).is_err());
        for ok in ["key:0123456789ab", "apikey:abcdef012345", "user:7", "system", "cli", "store-staff", "anonymous"] {
            assert!(actor(ok).is_ok(), "{ok}");
        }
        for bad in ["key:0123", "user:0", "user:x", "user:", "root", "apikey:ABCDEF012345", "KEY:0123456789ab"] {
            assert!(actor(bad).is_err(), "{bad}");
        }
    }
}
