//! CSV exports: RFC 4180 text, spreadsheet formula injection neutralised, streamed page by page.
//!
//! A row is the JSON shape of the same item (its DTO), flattened: the header holds the JSON
//! field names (nested objects as `parent.child`), numbers and booleans are written as they
//! are, a list is joined with `;`, a null is an empty cell. Only text cells are neutralised:
//! one starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so a spreadsheet shows it
//! as text instead of running it; numbers we write (negative ones too) stay numbers.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures::{Stream, StreamExt, stream};
use serde::Serialize;
use serde_json::Value;

/// Appends one text cell: neutralised, then quoted when it holds `,` `"` CR or LF.
pub(crate) fn push_text(out: &mut String, s: &str) {
    hub_domain::csv::push_cell(out, s, true);
}

/// Appends one cell of a JSON value.
pub(crate) fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => push_text(out, s),
        Value::Array(items) => push_text(out, &joined(items)),
        // A nested object where a column expects a value: its JSON text.
        Value::Object(_) => push_text(out, &v.to_string()),
    }
}

/// A list's cell: its items joined with `;` (a null item is empty).
pub(crate) fn joined(items: &[Value]) -> String {
    let texts: Vec<String> = items
        .iter()
        .map(|i| match i {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect();
    texts.join(";")
}

/// The value at a dotted path (`latestUserStats.followerCount`); null when absent.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').try_fold(v, |v, key| v.get(key)).unwrap_or(&Value::Null)
}

/// Appends the header line.
pub(crate) fn push_header(out: &mut String, columns: &[&str]) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_text(out, c);
    }
    out.push_str("\r\n");
}

/// Appends one row: the columns' values of `item`'s JSON shape.
pub(crate) fn push_row(out: &mut String, columns: &[&str], item: &impl Serialize) {
    let v = serde_json::to_value(item).unwrap_or(Value::Null);
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_value(out, at(&v, c));
    }
    out.push_str("\r\n");
}

/// Every dotted path of an object's leaves (for tests: a column list matches its DTO).
#[cfg(test)]
pub(crate) fn leaf_paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = v {
        for (k, child) in map {
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            if child.is_object() { leaf_paths(child, &path, out) } else { out.push(path) }
        }
    }
}

/// A `200 text/csv` download of `filename` whose body is the header, then each page of
/// `pages` (converted by `row`) as it arrives. An error after the first byte ends the body
/// early (the client sees a truncated transfer), and is logged.
pub(crate) fn download<T, D, E, S>(
    filename: &str,
    columns: &'static [&'static str],
    pages: S,
    row: fn(T) -> D,
) -> HttpResponse
where
    T: 'static,
    D: Serialize + 'static,
    E: std::error::Error + 'static,
    S: Stream<Item = Result<Vec<T>, E>> + 'static,
{
    let mut head = String::new();
    push_header(&mut head, columns);
    let body = stream::once(async move { Ok::<_, E>(Bytes::from(head)) }).chain(pages.map(move |page| {
        let page = page.inspect_err(|e| tracing::error!(error = %e, "CSV export failed midway"))?;
        let mut out = String::with_capacity(page.len() * 160);
        for item in page {
            push_row(&mut out, columns, &row(item));
        }
        Ok(Bytes::from(out))
    }));
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cell(v: Value) -> String {
        let mut out = String::new();
        push_value(&mut out, &v);
        out
    }

    #[test]
    fn cells_are_quoted_and_neutralised() {
        let cases: &[(Value, &str)] = &[
            (json!("plain"), "plain"),
            (json!(""), ""),
            (json!("a,b"), "\"a,b\""),
            (json!("say \"hi\""), "\"say \"\"hi\"\"\""),
            (json!("line\nbreak"), "\"line\nbreak\""),
            (json!("cr\rhere"), "\"cr\rhere\""),
            (json!("=1+2"), "'=1+2"),
            (json!("+1"), "'+1"),
            (json!("-1"), "'-1"),
            (json!("@SUM(A1)"), "'@SUM(A1)"),
            (json!("\tTab"), "'\tTab"),
            (json!("\rCR"), "\"'\rCR\""),
            (json!("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""),
            (json!("a=b"), "a=b"),
            (json!(-5), "-5"),
            (json!(-0.25), "-0.25"),
            (json!(7300000000000000123i64), "7300000000000000123"),
            (json!(true), "true"),
            (json!(null), ""),
            (json!(["2026-01-02", "2026-01-05"]), "2026-01-02;2026-01-05"),
        ];
        for (v, want) in cases {
            assert_eq!(cell(v.clone()), *want, "{v}");
        }
    }

    #[test]
    fn rows_follow_the_columns() {
        let mut out = String::new();
        push_header(&mut out, &["a", "b.c", "d"]);
        push_row(&mut out, &["a", "b.c", "d"], &json!({"a": 1, "b": {"c": "x,y"}, "d": null}));
        push_row(&mut out, &["a", "b.c", "d"], &json!({"a": -2, "b": null}));
        assert_eq!(out, "a,b.c,d\r\n1,\"x,y\",\r\n-2,,\r\n");
    }
}
