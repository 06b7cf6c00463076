//! A table as both a page shows it and its CSV export of exactly those rows: each cell has
//! its plain text (the CSV's) and, optionally, richer markup (a link, a label).

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

    /// The CSV as a download named `name`.
    pub fn csv_response(&self, name: &str) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(self.csv())
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
}
