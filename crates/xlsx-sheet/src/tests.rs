use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use chrono::NaiveDate;

use super::*;

fn read(bytes: &[u8]) -> Vec<(String, Vec<Vec<Data>>)> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("an xlsx file");
    book.worksheets().into_iter().map(|(name, range)| (name, range.rows().map(<[Data]>::to_vec).collect())).collect()
}

fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).expect("a zip container");
    let mut text = String::new();
    zip.by_name(name).expect(name).read_to_string(&mut text).expect("utf-8");
    text
}

fn date(d: &Data) -> Option<chrono::NaiveDateTime> {
    match d {
        Data::DateTime(t) => t.as_datetime(),
        _ => None,
    }
}

#[test]
fn cells_are_typed_and_text_is_never_a_formula() {
    let mut w = SheetWriter::new("Export", &["name", "count", "day", "at", "ok"]).unwrap();
    let at = NaiveDate::from_ymd_opt(2026, 1, 24).unwrap().and_hms_milli_opt(13, 5, 7, 250).unwrap();
    let rows = [
        vec![Cell::Text("=1+1".into()), Cell::int(-5), Cell::infer("2026-01-24"), Cell::DateTime(at), Cell::Bool(true)],
        vec![
            Cell::Text("=HYPERLINK(\"http://x\",\"y\")".into()),
            Cell::number(0.25),
            Cell::Empty,
            Cell::infer("2026-01-24T13:05:07.250Z"),
            Cell::Bool(false),
        ],
        vec![Cell::Text("=cmd|' /C calc'!A0".into()), Cell::int(7_300_000_000_000_000_123), Cell::infer("not a date")],
    ];
    for r in rows {
        w.push(r).unwrap();
    }
    assert_eq!(w.rows(), 3);
    let bytes = w.to_bytes().unwrap();
    let sheets = read(&bytes);
    assert_eq!(sheets.len(), 1);
    let (name, rows) = &sheets[0];
    assert_eq!(name, "Export");
    let header: Vec<Data> = ["name", "count", "day", "at", "ok"].iter().map(|h| Data::String((*h).into())).collect();
    assert_eq!(rows[0], header);
    assert_eq!(rows[1][0], Data::String("=1+1".into()));
    assert_eq!(rows[1][1], Data::Float(-5.0));
    assert_eq!(date(&rows[1][2]), NaiveDate::from_ymd_opt(2026, 1, 24).unwrap().and_hms_opt(0, 0, 0));
    assert_eq!(date(&rows[1][3]).map(|t| t.and_utc().timestamp_millis()), Some(at.and_utc().timestamp_millis()));
    assert_eq!(rows[1][4], Data::Bool(true));
    assert_eq!(rows[2][0], Data::String("=HYPERLINK(\"http://x\",\"y\")".into()));
    assert_eq!(rows[2][1], Data::Float(0.25));
    assert_eq!(rows[2][2], Data::Empty);
    assert_eq!(date(&rows[2][3]).map(|t| t.and_utc().timestamp_millis()), Some(at.and_utc().timestamp_millis()));
    assert_eq!(rows[3][1], Data::String("7300000000000000123".into()));
    assert_eq!(rows[3][2], Data::String("not a date".into()));
    let xml = part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!xml.contains("<f>"), "a formula was written: {xml}");
    assert!(xml.contains(r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#), "{xml}");
    assert!(xml.contains(r#"<autoFilter ref="A1:E4"/>"#), "{xml}");
    assert!(xml.contains("<cols>"), "{xml}");
    assert!(part(&bytes, "xl/styles.xml").contains("<b/>"), "no bold font");
}

#[test]
fn text_is_inferred_only_when_it_is_exactly_a_date() {
    let d = NaiveDate::from_ymd_opt(2026, 2, 3).unwrap();
    let cases = [
        ("2026-02-03", Cell::Date(d)),
        ("2026-02-03T04:05:06Z", Cell::DateTime(d.and_hms_opt(4, 5, 6).unwrap())),
        ("2026-02-03T04:05:06+02:00", Cell::DateTime(d.and_hms_opt(2, 5, 6).unwrap())),
        ("2026-02-03 04:05", Cell::DateTime(d.and_hms_opt(4, 5, 0).unwrap())),
        ("2026-02-30", Cell::Text("2026-02-30".into())),
        ("2026-02-03;2026-02-04", Cell::Text("2026-02-03;2026-02-04".into())),
        ("12345", Cell::Text("12345".into())),
        ("", Cell::Text(String::new())),
    ];
    for (text, want) in cases {
        assert_eq!(Cell::infer(text), want, "{text:?}");
    }
    assert_eq!(Cell::int(999_999_999_999_999), Cell::Number(999_999_999_999_999.0));
    assert_eq!(Cell::int(-1_000_000_000_000_000), Cell::Text("-1000000000000000".into()));
    assert_eq!(Cell::number(f64::NAN), Cell::Text("NaN".into()));
}

#[test]
fn long_text_is_cut_to_what_a_cell_holds() {
    let long = "é".repeat(MAX_TEXT + 10);
    assert_eq!(cut(long).chars().count(), MAX_TEXT);
    let mut w = SheetWriter::new("Export", &["text"]).unwrap();
    w.push([Cell::Text("x".repeat(40_000))]).unwrap();
    let rows = &read(&w.to_bytes().unwrap())[0].1;
    assert_eq!(rows[1][0].to_string().len(), MAX_TEXT);
}

#[test]
fn an_empty_export_has_its_header() {
    let bytes = SheetWriter::new("Export", &["a", "b"]).unwrap().to_bytes().unwrap();
    assert_eq!(read(&bytes)[0].1, vec![vec![Data::String("a".into()), Data::String("b".into())]]);
    assert!(part(&bytes, "xl/worksheets/sheet1.xml").contains(r#"<autoFilter ref="A1:B1"/>"#));
}

#[test]
fn rows_past_a_full_sheet_continue_on_the_next_with_the_header() {
    let mut w = SheetWriter::new("Export", &["n"]).unwrap();
    w.per_sheet = 2;
    for n in 1..=5 {
        w.push([Cell::int(n)]).unwrap();
    }
    let sheets = read(&w.to_bytes().unwrap());
    let names: Vec<&str> = sheets.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(names, ["Export", "Export 2", "Export 3"]);
    let column = |i: usize| sheets[i].1.iter().map(|r| r[0].to_string()).collect::<Vec<_>>();
    assert_eq!(column(0), ["n", "1", "2"]);
    assert_eq!(column(1), ["n", "3", "4"]);
    assert_eq!(column(2), ["n", "5"]);
}
