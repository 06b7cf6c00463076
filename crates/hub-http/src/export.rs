//! Spreadsheet exports: the same rows and columns as CSV (`crate::csv`) or as XLSX.
//!
//! An XLSX row is the item's JSON shape, flattened like the CSV's, as typed cells
//! ([`cell`]): numbers are numbers (integers over 15 digits stay text), booleans booleans, a
//! text that is exactly a date or an RFC 3339 time a date cell, a list its items joined with
//! `;`, and any other text a string cell, never a formula. The workbook is written by
//! `xlsx_sheet::SheetWriter` (constant memory: rows go to a temporary file) on a blocking
//! thread fed page by page through a bounded channel; its zip container is streamed to the
//! client in chunks as it is made. Memory stays bounded by a few pages and chunks, whatever
//! the row count. An error midway ends the body early (the client sees a truncated transfer),
//! and is logged once.

use std::io::{self, Write};

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use futures::{Stream, StreamExt, future, stream};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use xlsx_sheet::{Cell, SheetError, SheetWriter};

use crate::csv;

/// Pages in flight between the handler and the writer thread.
const PAGES_IN_FLIGHT: usize = 2;
/// Bytes of the zip container sent to the client at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks in flight between the writer thread and the client.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A spreadsheet form of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sheet {
    Csv,
    Xlsx,
}

/// A `200` download named `stem` plus the form's extension, whose rows are each page of
/// `pages` (converted by `row`) as it arrives.
pub(crate) fn download<T, D, E, S>(
    sheet: Sheet,
    stem: &str,
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
    match sheet {
        Sheet::Csv => csv::download(&format!("{stem}.csv"), columns, pages, row),
        Sheet::Xlsx => xlsx(&format!("{stem}.xlsx"), columns, pages, row),
    }
}

/// The typed cell of a JSON value.
pub(crate) fn cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Empty,
        Value::Bool(b) => Cell::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Cell::int(i),
            (None, Some(f)) if !n.is_u64() => Cell::number(f),
            _ => Cell::Text(n.to_string()),
        },
        Value::String(s) => Cell::infer(s),
        Value::Array(items) => Cell::Text(csv::joined(items)),
        // A nested object where a column expects a value: its JSON text.
        Value::Object(_) => Cell::Text(v.to_string()),
    }
}

/// One row's cells: the columns' values of `item`'s JSON shape.
fn cells(columns: &[&str], item: &impl Serialize) -> Vec<Cell> {
    let v = serde_json::to_value(item).unwrap_or(Value::Null);
    columns.iter().map(|c| cell(csv::at(&v, c))).collect()
}

/// What the handler sends the writer thread.
enum Batch {
    Rows(Vec<Vec<Cell>>),
    /// The pages failed: write nothing more.
    Failed,
}

fn xlsx<T, D, E, S>(filename: &str, columns: &'static [&'static str], pages: S, row: fn(T) -> D) -> HttpResponse
where
    T: 'static,
    D: Serialize + 'static,
    E: std::error::Error + 'static,
    S: Stream<Item = Result<Vec<T>, E>> + 'static,
{
    let (rows_tx, rows_rx) = mpsc::channel::<Batch>(PAGES_IN_FLIGHT);
    let (out_tx, out_rx) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || write_sheet(columns, rows_rx, out_tx));
    let feed = async move {
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            match page {
                Ok(items) => {
                    let rows = items.into_iter().map(|i| cells(columns, &row(i))).collect();
                    if rows_tx.send(Batch::Rows(rows)).await.is_err() {
                        break; // the writer stopped: its error follows in the output
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "XLSX export failed midway");
                    let _ = rows_tx.send(Batch::Failed).await;
                    return Err(io::Error::other("the export failed midway"));
                }
            }
        }
        Ok(())
    };
    let failed = stream::once(feed).filter_map(|r: io::Result<()>| future::ready(r.err().map(Err)));
    let output = stream::unfold(out_rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    HttpResponse::Ok()
        .content_type(xlsx_sheet::CONTENT_TYPE)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")))
        .streaming(failed.chain(output))
}

#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Sheet(#[from] SheetError),
    #[error("sending the file: {0}")]
    Io(#[from] io::Error),
}

/// The writer thread: rows in, zip chunks out.
fn write_sheet(
    columns: &'static [&'static str],
    mut rows: mpsc::Receiver<Batch>,
    out: mpsc::Sender<io::Result<Bytes>>,
) {
    let mut chunks = Chunks { tx: out.clone(), buf: Vec::with_capacity(CHUNK) };
    let result = (|| -> Result<Option<u64>, WriteError> {
        let mut sheet = SheetWriter::new("Export", columns)?;
        while let Some(batch) = rows.blocking_recv() {
            match batch {
                Batch::Rows(batch) => {
                    for r in batch {
                        sheet.push(r)?;
                    }
                }
                Batch::Failed => return Ok(None),
            }
        }
        if out.is_closed() {
            return Ok(None); // the client went away
        }
        let rows = sheet.finish(&mut chunks)?;
        chunks.flush()?;
        Ok(Some(rows))
    })();
    match result {
        Ok(Some(rows)) => tracing::debug!(rows, "XLSX export written"),
        Ok(None) => {}
        Err(_) if out.is_closed() => tracing::debug!("XLSX export abandoned by the client"),
        Err(e) => {
            tracing::error!(error = %e, "XLSX export failed");
            let _ = out.blocking_send(Err(io::Error::other("the export failed")));
        }
    }
}

/// The zip container, sent in chunks of [`CHUNK`] bytes.
struct Chunks {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn send(&mut self) -> io::Result<()> {
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for Chunks {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() { Ok(()) } else { self.send() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_become_typed_cells() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 24).unwrap();
        let cases: &[(Value, Cell)] = &[
            (json!(null), Cell::Empty),
            (json!(true), Cell::Bool(true)),
            (json!(-5), Cell::Number(-5.0)),
            (json!(0.25), Cell::Number(0.25)),
            (json!(7300000000000000123i64), Cell::Text("7300000000000000123".into())),
            (json!(u64::MAX), Cell::Text(u64::MAX.to_string())),
            (json!("=1+1"), Cell::Text("=1+1".into())),
            (json!("2026-01-24"), Cell::Date(d)),
            (json!("2026-01-24T13:05:07.000Z"), Cell::DateTime(d.and_hms_opt(13, 5, 7).unwrap())),
            (json!(["2026-01-02", "2026-01-05"]), Cell::Text("2026-01-02;2026-01-05".into())),
            (json!({"a": 1}), Cell::Text("{\"a\":1}".into())),
        ];
        for (v, want) in cases {
            assert_eq!(cell(v), *want, "{v}");
        }
        assert_eq!(
            cells(&["a", "b.c", "d"], &json!({"a": 1, "b": {"c": "x"}})),
            [Cell::Number(1.0), Cell::Text("x".into()), Cell::Empty]
        );
    }
}
