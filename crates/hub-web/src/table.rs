//! A table as both a page shows it and its CSV and XLSX exports of exactly those rows: each
//! cell has its plain text (the CSV's) and, optionally, richer markup (a link, a label). The
//! XLSX is written by `xlsx_sheet`, the API's writer: numeric cells are numbers, a text that is
//! exactly a date or a date-time (the page's local times) a date cell, any other text a string
//! (never a formula).

use actix_web::HttpResponse;
use actix_web::http::header;
use maud::{Markup, html};

/// One cell.
pub struct Cell {
    /// The text (the CSV cell, and the page's when there is no markup).
    pub text: String,
    /// Numbers are right-aligned and never neutralised in the CSV.
    pub numeric: bool,
    pub markup: Option<Markup>,
}

impl Cell {
    pub fn text(t: impl Into<String>) -> Self {
        Self { text: t.into(), numeric: false, markup: None }
    }

    /// A number shown with thousands separators, written plain in the CSV; empty when `None`.
    pub fn num(v: Option<i64>) -> Self {
        Self {
            text: v.map_or_else(String::new, |v| v.to_string()),
            numeric: true,
            markup: Some(crate::widgets::num(v)),
        }
    }

    /// A number shown as `markup`, written as `text` in the CSV.
    pub fn num_with(text: String, markup: Markup) -> Self {
        Self { text, numeric: true, markup: Some(markup) }
    }

    pub fn rich(text: impl Into<String>, markup: Markup) -> Self {
        Self { text: text.into(), numeric: false, markup: Some(markup) }
    }
}

/// A column header; `sort` is the link that sorts by it (with `aria-sort` when it is the
/// current order).
pub struct Column {
    pub label: &'static str,
    pub numeric: bool,
    pub sort: Option<(String, Option<&'static str>)>,
}

impl Column {
    pub fn new(label: &'static str, numeric: bool) -> Self {
        Self { label, numeric, sort: None }
    }
}

/// A spreadsheet form of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    Csv,
    Xlsx,
}

impl Export {
    /// `csv` or `xlsx`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// A table of rows.
pub struct Table {
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn render(&self) -> Markup {
        html! {
            div.table-wrap tabindex="0" role="region" aria-label=(self.caption) {
                table {
                    caption.sr-only { (self.caption) }
                    thead {
                        tr {
                            @for c in &self.columns {
                                th.num[c.numeric] scope="col" aria-sort=[c.sort.as_ref().and_then(|s| s.1)] {
                                    @if let Some((href, _)) = &c.sort { a href=(href) { (c.label) } } @else { (c.label) }
                                }
                            }
                        }
                    }
                    tbody {
                        @for row in &self.rows {
                            tr {
                                @for cell in row {
                                    td.num[cell.numeric] {
                                        @if let Some(m) = &cell.markup { (m) } @else { (cell.text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// RFC 4180 text; text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'`
    /// so a spreadsheet does not run them.
    pub fn csv(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, cells: &mut dyn Iterator<Item = (&str, bool)>| {
            for (i, (text, numeric)) in cells.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                hub_domain::csv::push_cell(out, text, !numeric);
            }
            out.push_str("\r\n");
        };
        line(&mut out, &mut self.columns.iter().map(|c| (c.label, false)));
        for row in &self.rows {
            line(&mut out, &mut row.iter().map(|c| (c.text.as_str(), c.numeric)));
        }
        out
    }

    /// The workbook: the columns' labels as the header, then the rows.
    pub fn xlsx(&self) -> Result<Vec<u8>, xlsx_sheet::SheetError> {
        let header: Vec<&str> = self.columns.iter().map(|c| c.label).collect();
        let mut sheet = xlsx_sheet::SheetWriter::new("Export", &header)?;
        for row in &self.rows {
            sheet.push(row.iter().map(|c| match (c.text.as_str(), c.numeric) {
                ("", _) => xlsx_sheet::Cell::Empty,
                (t, true) => {
                    t.parse::<f64>().map_or_else(|_| xlsx_sheet::Cell::Text(t.to_owned()), xlsx_sheet::Cell::number)
                }
                (t, false) => xlsx_sheet::Cell::infer(t),
            }))?;
        }
        sheet.to_bytes()
    }

    /// The table as a download named `stem` plus the form's extension.
    pub fn download(&self, export: Export, stem: &str) -> Result<HttpResponse, crate::WebError> {
        let (kind, body) = match export {
            Export::Csv => ("text/csv; charset=utf-8", self.csv().into_bytes()),
            Export::Xlsx => (xlsx_sheet::CONTENT_TYPE, self.xlsx().map_err(crate::WebError::internal)?),
        };
        let name = format!("{stem}.{}", export.extension());
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, kind))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_holds_the_rows_on_screen_safely() {
        let t = Table {
            caption: "Stores".into(),
            columns: vec![Column::new("Store", false), Column::new("Followers", true)],
            rows: vec![
                vec![Cell::text("=HYPERLINK(\"x\")"), Cell::num(Some(-5))],
                vec![Cell::text("Ann, \"Jr\""), Cell::num(None)],
            ],
        };
        assert_eq!(t.csv(), "Store,Followers\r\n\"'=HYPERLINK(\"\"x\"\")\",-5\r\n\"Ann, \"\"Jr\"\"\",\r\n");
        let html = t.render().into_string();
        assert!(html.contains(r#"<td class="num">-5</td>"#), "{html}");
        assert!(html.contains("=HYPERLINK(&quot;x&quot;)"), "{html}");
    }

    #[test]
    fn the_xlsx_holds_the_same_rows_typed() {
        use calamine::{Data, Reader, Xlsx};
        let t = Table {
            caption: "Stores".into(),
            columns: vec![Column::new("Store", false), Column::new("Followers", true), Column::new("Last sync", false)],
            rows: vec![
                vec![Cell::text("=HYPERLINK(\"x\")"), Cell::num(Some(-5)), Cell::text("2026-01-24 13:05")],
                vec![Cell::text("Ann"), Cell::num(None), Cell::text("never")],
                vec![Cell::text("Bo"), Cell::num_with("0.1250".into(), html! { "12.5%" }), Cell::text("")],
            ],
        };
        let bytes = t.xlsx().unwrap();
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("Export").unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        let s = |t: &str| Data::String(t.into());
        assert_eq!(rows[0], [s("Store"), s("Followers"), s("Last sync")]);
        assert_eq!(rows[1][..2], [s("=HYPERLINK(\"x\")"), Data::Float(-5.0)]);
        let Data::DateTime(at) = &rows[1][2] else { panic!("not a date: {:?}", rows[1][2]) };
        assert_eq!(at.as_datetime().unwrap().to_string(), "2026-01-24 13:05:00");
        assert_eq!(rows[2], [s("Ann"), Data::Empty, s("never")]);
        assert_eq!(rows[3], [s("Bo"), Data::Float(0.125), Data::Empty]);
        let res = t.download(Export::Xlsx, "stores").unwrap();
        assert_eq!(res.headers().get("content-type").unwrap(), xlsx_sheet::CONTENT_TYPE);
        assert_eq!(res.headers().get("content-disposition").unwrap(), "attachment; filename=\"stores.xlsx\"");
    }
}
