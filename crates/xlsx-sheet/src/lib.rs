//! The one XLSX writer of every spreadsheet export, the API's and the dashboard's.
//!
//! [`SheetWriter`] writes rows in order with `rust_xlsxwriter`'s constant-memory mode: each
//! finished row goes to a temporary file, so memory stays bounded whatever the row count, and
//! [`SheetWriter::finish`] streams the zip container to any `Write` (no seeking). A sheet has a
//! frozen bold header row, an autofilter over its rows and column widths from its longest
//! cells. Numbers, booleans, dates and date-times are typed cells (dates with a date format);
//! text is always written as an inline string (`write_string`), never as a formula, so `=1+1`
//! stays the text `=1+1`. A sheet holds at most 1,048,575 data rows (Excel's limit); further
//! rows continue on a new sheet with the same header (`Export 2`, `Export 3`, …).

use std::io::Write;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// The content type of an XLSX download.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Data rows on one sheet (Excel's 1,048,576 rows less the header).
pub const MAX_DATA_ROWS: u32 = 1_048_575;

/// The longest text Excel keeps in a cell (UTF-16 units); longer text is cut there.
const MAX_TEXT: usize = 32_767;

/// Column widths (in characters) are the longest cell's length plus padding, within these.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// Integers beyond 15 digits lose precision as spreadsheet numbers; they are written as text.
const MAX_EXACT: f64 = 999_999_999_999_999.0;

/// Why a spreadsheet could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("the spreadsheet could not be written: {0}")]
    Xlsx(#[from] XlsxError),
}

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Number(f64),
    Bool(bool),
    Date(NaiveDate),
    /// A moment in UTC (or a local wall-clock time, as the export states it).
    DateTime(NaiveDateTime),
    Text(String),
}

impl Cell {
    /// A number, or text when it would not survive as a spreadsheet number (over 15 digits,
    /// such as TikTok's video ids, or not finite).
    pub fn number(n: f64) -> Self {
        if n.is_finite() && (n.fract() != 0.0 || n.abs() <= MAX_EXACT) {
            Self::Number(n)
        } else {
            Self::Text(n.to_string())
        }
    }

    /// An integer: a number up to 15 digits, else its digits as text (nothing is rounded).
    pub fn int(n: i64) -> Self {
        if n.unsigned_abs() <= MAX_EXACT as u64 {
            #[allow(clippy::cast_precision_loss)] // exact: at most 15 digits
            Self::Number(n as f64)
        } else {
            Self::Text(n.to_string())
        }
    }

    /// Text as a typed cell when it is exactly a date (`2026-01-24`) or a date-time
    /// (RFC 3339, converted to UTC, or `2026-01-24 13:05[:07]`); otherwise text.
    pub fn infer(text: &str) -> Self {
        let b = text.as_bytes();
        let date_like = b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit);
        if date_like {
            if b.len() == 10 {
                if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                    return Self::Date(d);
                }
            } else if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
                return Self::DateTime(t.naive_utc());
            } else if let Some(t) =
                ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"].iter().find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
            {
                return Self::DateTime(t);
            }
        }
        Self::Text(text.to_owned())
    }

    /// The width it takes, in characters (for the column widths).
    fn width(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::Number(n) => n.to_string().len(),
            Self::Bool(_) => 5,
            Self::Date(_) => 10,
            Self::DateTime(_) => 19,
            Self::Text(s) => s.lines().map(|l| l.chars().count()).max().unwrap_or(0),
        }
    }
}

/// A workbook being written row by row (see the module's documentation).
pub struct SheetWriter {
    workbook: Workbook,
    name: String,
    header: Vec<String>,
    sheet: Worksheet,
    /// Full sheets, in order.
    done: Vec<Worksheet>,
    /// The next row of the current sheet (the header is row 0).
    row: u32,
    rows: u64,
    /// Data rows per sheet ([`MAX_DATA_ROWS`]; fewer in tests).
    per_sheet: u32,
    widths: Vec<usize>,
    bold: Format,
    date: Format,
    datetime: Format,
}

impl SheetWriter {
    /// A workbook whose first sheet is named `name` (at most 28 characters) with `header`.
    pub fn new(name: &str, header: &[&str]) -> Result<Self, SheetError> {
        let mut workbook = Workbook::new();
        let sheet = workbook.new_worksheet_with_constant_memory()?;
        let mut w = Self {
            workbook,
            name: name.to_owned(),
            header: header.iter().map(|&h| h.to_owned()).collect(),
            sheet,
            done: Vec::new(),
            row: 0,
            rows: 0,
            per_sheet: MAX_DATA_ROWS,
            widths: header.iter().map(|h| h.chars().count() + 3).collect(),
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        };
        w.start_sheet(name.to_owned())?;
        Ok(w)
    }

    fn start_sheet(&mut self, name: String) -> Result<(), SheetError> {
        self.sheet.set_name(name)?;
        for (col, h) in (0u16..).zip(&self.header) {
            self.sheet.write_string_with_format(0, col, h, &self.bold)?;
        }
        self.sheet.set_freeze_panes(1, 0)?;
        self.row = 1;
        Ok(())
    }

    /// Autofilter and column widths of the current sheet.
    fn close_sheet(&mut self) -> Result<(), SheetError> {
        let last_col = u16::try_from(self.header.len().max(1) - 1).unwrap_or(u16::MAX);
        self.sheet.autofilter(0, 0, self.row - 1, last_col)?;
        for (col, w) in (0u16..).zip(&self.widths) {
            #[allow(clippy::cast_precision_loss)] // a small width
            self.sheet.set_column_width(col, (*w).clamp(MIN_WIDTH, MAX_WIDTH) as f64)?;
        }
        Ok(())
    }

    /// Appends one row; cells past the header's columns are dropped.
    pub fn push(&mut self, cells: impl IntoIterator<Item = Cell>) -> Result<(), SheetError> {
        if self.row > self.per_sheet {
            self.close_sheet()?;
            let next = self.workbook.new_worksheet_with_constant_memory()?;
            self.done.push(std::mem::replace(&mut self.sheet, next));
            let name = format!("{} {}", self.name, self.done.len() + 1);
            self.start_sheet(name)?;
        }
        let row = self.row;
        for ((col, cell), width) in (0u16..).zip(cells).zip(self.widths.iter_mut()) {
            *width = (*width).max(cell.width() + 2);
            match cell {
                Cell::Empty => {}
                Cell::Number(n) => {
                    self.sheet.write_number(row, col, n)?;
                }
                Cell::Bool(b) => {
                    self.sheet.write_boolean(row, col, b)?;
                }
                Cell::Date(d) => {
                    self.sheet.write_datetime_with_format(row, col, excel_date(d)?, &self.date)?;
                }
                Cell::DateTime(t) => {
                    let at = excel_date(t.date())?.and_hms_milli(
                        u16::try_from(t.hour()).unwrap_or(0),
                        u8::try_from(t.minute()).unwrap_or(0),
                        u8::try_from(t.second()).unwrap_or(0),
                        u16::try_from(t.nanosecond() / 1_000_000).unwrap_or(0).min(999),
                    )?;
                    self.sheet.write_datetime_with_format(row, col, at, &self.datetime)?;
                }
                Cell::Text(s) => {
                    self.sheet.write_string(row, col, cut(s))?;
                }
            }
        }
        self.row += 1;
        self.rows += 1;
        Ok(())
    }

    /// Data rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the workbook (a zip container) to `out`, streaming; returns the data rows.
    pub fn finish<W: Write + Send>(mut self, out: W) -> Result<u64, SheetError> {
        self.close_sheet()?;
        for sheet in self.done.drain(..) {
            self.workbook.push_worksheet(sheet);
        }
        let last = std::mem::replace(&mut self.sheet, Worksheet::new());
        self.workbook.push_worksheet(last);
        self.workbook.save_to_writer(out)?;
        Ok(self.rows)
    }

    /// The whole workbook in memory (small tables only: the dashboard's pages).
    pub fn to_bytes(self) -> Result<Vec<u8>, SheetError> {
        let mut out = Vec::new();
        self.finish(&mut out)?;
        Ok(out)
    }
}

/// A date as the spreadsheet's (years 1900-9999; others are refused by the writer).
fn excel_date(d: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(d.year()).map_err(|_| XlsxError::DateTimeRangeError(d.to_string()))?;
    ExcelDateTime::from_ymd(year, u8::try_from(d.month()).unwrap_or(1), u8::try_from(d.day()).unwrap_or(1))
}

/// Text cut to what a cell holds.
fn cut(mut s: String) -> String {
    if s.encode_utf16().count() > MAX_TEXT {
        let mut units = 0;
        let end = s
            .char_indices()
            .find(|(_, c)| {
                units += c.len_utf16();
                units > MAX_TEXT
            })
            .map_or(s.len(), |(i, _)| i);
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests;
