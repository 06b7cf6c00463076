//! The store import's file, for the adapters that take uploads (the API's
//! `POST /admin/stores/import` and the dashboard's import page): the `file` part of a
//! `multipart/form-data` body, and its CSV read into rows for [`crate::Reports::import_stores`]
//! (the `csv` crate). One reader, so both doors accept and refuse the same files.
//!
//! Multipart is parsed here rather than with a framework's extractor: the import is
//! all-or-nothing, so the whole file is needed before anything is written and is held in
//! memory anyway ([`MAX_UPLOAD`] at most); what remains is finding one part between
//! boundaries, which is short and tested below.

use hub_domain::{DomainError, NewStore, optional_group};

/// The largest upload accepted for an import.
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

/// The columns of the import file, as the template writes them (`pic_contact` and
/// `store_group` may be left out).
pub const COLUMNS: [&str; 5] = ["store_code", "store_name", "pic_name", "pic_contact", "store_group"];

/// The rows of an import file, and whether it has a `store_group` column (without one, updated
/// stores keep their group).
#[derive(Debug)]
pub struct ImportFile {
    pub rows: Vec<Result<NewStore, DomainError>>,
    pub with_groups: bool,
}

/// Why an upload is not an import file at all (the message starts with `file`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FileError(pub String);

impl FileError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The import template: the header and one example row, as CSV.
pub fn template() -> String {
    let mut out = String::new();
    for row in [COLUMNS, ["store_jakarta_01", "Store Jakarta Pusat", "John Doe", "john@example.com", "jakarta"]] {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            hub_domain::csv::push_cell(&mut out, cell, true);
        }
        out.push_str("\r\n");
    }
    out
}

/// The `boundary` parameter of a `multipart/form-data` content type.
fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (from..=hay.len() - needle.len()).find(|&i| &hay[i..i + needle.len()] == needle)
}

/// The `name` of a part's `Content-Disposition: form-data; name="…"` header.
fn part_name(headers: &str) -> Option<String> {
    headers.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if !k.trim().eq_ignore_ascii_case("content-disposition") {
            return None;
        }
        v.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim() == "name").then(|| v.trim().trim_matches('"').to_owned())
        })
    })
}

/// The bytes of the part named `field` of a multipart body.
pub fn multipart_field<'a>(body: &'a [u8], content_type: &str, field: &str) -> Result<&'a [u8], FileError> {
    let malformed = || FileError::new("file: the multipart body is malformed");
    let boundary = boundary(content_type).ok_or_else(malformed)?;
    let delimiter = format!("--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0).ok_or_else(malformed)?;
    loop {
        let after = at + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Err(FileError::new(format!("file is required (a multipart field named {field:?})")));
        }
        let headers_start = find(body, b"\r\n", after).ok_or_else(malformed)? + 2;
        let headers_end = find(body, b"\r\n\r\n", headers_start - 2).ok_or_else(malformed)?;
        let content_start = headers_end + 4;
        let next = find(body, format!("\r\n{delimiter}").as_bytes(), content_start).ok_or_else(malformed)?;
        let headers = String::from_utf8_lossy(&body[headers_start.min(headers_end)..headers_end]);
        if part_name(&headers).as_deref() == Some(field) {
            return Ok(&body[content_start..next]);
        }
        at = next + 2;
    }
}

/// The records of CSV text (RFC 4180: quoted fields may hold `,` `"` and line breaks; blank
/// lines are skipped). Rows may have any number of fields: [`parse_rows`] checks them.
fn records(text: &str) -> Result<Vec<Vec<String>>, FileError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect()).map_err(|e| {
                let line = e.position().map_or(1, csv::Position::line);
                FileError::new(format!("file is not valid CSV (line {line})"))
            })
        })
        .collect()
}

/// [`parse_file`]'s rows.
#[cfg(test)]
fn parse_rows(file: &[u8], max_rows: usize) -> Result<Vec<Result<NewStore, DomainError>>, FileError> {
    parse_file(file, max_rows).map(|f| f.rows)
}

/// Parses an import file into rows: the header must name `store_code`, `store_name` and
/// `pic_name` (and may name `pic_contact` and `store_group`), in any order, and nothing else;
/// each data row is validated like `POST /admin/stores` (`NewStore::parse`, the group like
/// `store_group`; an empty group is none).
pub fn parse_file(file: &[u8], max_rows: usize) -> Result<ImportFile, FileError> {
    let text = std::str::from_utf8(file).map_err(|_| FileError::new("file must be UTF-8 text"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = records(text)?;
    let Some((header, data)) = records.split_first() else {
        return Err(FileError::new("file must start with the header store_code,store_name,pic_name,pic_contact"));
    };
    let mut index = [None; 5];
    for (i, name) in header.iter().enumerate() {
        let pos = COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
            FileError::new(format!("file has an unknown column {name:?}; expected {}", COLUMNS.join(",")))
        })?;
        if index[pos].replace(i).is_some() {
            return Err(FileError::new(format!("file names the column {name:?} twice")));
        }
    }
    if let Some(missing) = COLUMNS[..3].iter().zip(index).find(|(_, i)| i.is_none()) {
        return Err(FileError::new(format!("file has no {} column", missing.0)));
    }
    if data.len() > max_rows {
        return Err(FileError::new(format!("file must hold at most {max_rows} data rows")));
    }
    let rows = data
        .iter()
        .map(|r| {
            if r.len() != header.len() {
                return Err(DomainError::invalid("file", "row must have as many fields as the header"));
            }
            let get = |k: usize| index[k].map(|i| r[i].as_str());
            let store = NewStore::parse(get(0).unwrap_or(""), get(1).unwrap_or(""), get(2).unwrap_or(""), get(3))?;
            Ok(store.with_group(optional_group(get(4).map(str::trim))?))
        })
        .collect();
    Ok(ImportFile { rows, with_groups: index[4].is_some() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_table() {
        type Case<'a> = (&'a str, Vec<Vec<&'a str>>);
        let cases: &[Case<'_>] = &[
            ("a,b\r\n1,2\r\n", vec![vec!["a", "b"], vec!["1", "2"]]),
            ("a,b\n1,2", vec![vec!["a", "b"], vec!["1", "2"]]),
            ("a,b\n\n1,2\n\n", vec![vec!["a", "b"], vec!["1", "2"]]),
            ("\"x,y\",\"say \"\"hi\"\"\"\n", vec![vec!["x,y", "say \"hi\""]]),
            ("\"multi\nline\",2\n", vec![vec!["multi\nline", "2"]]),
            ("a,,c\n", vec![vec!["a", "", "c"]]),
            ("\"\",b", vec![vec!["", "b"]]),
            ("a,b\n1\n1,2,3\n", vec![vec!["a", "b"], vec!["1"], vec!["1", "2", "3"]]),
        ];
        for (text, want) in cases {
            let got = records(text).unwrap();
            let want: Vec<Vec<String>> = want.iter().map(|r| r.iter().map(|f| (*f).to_owned()).collect()).collect();
            assert_eq!(got, want, "{text:?}");
        }
    }

    #[test]
    fn an_open_quote_swallows_the_rest_and_the_row_is_refused() {
        let rows = parse_rows(b"store_code,store_name,pic_name\ns1,\"Open,Ann\ns2,Two,Bob\n", 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_ref().unwrap_err().field(), "file");
    }

    #[test]
    fn header_and_rows() {
        let file =
            parse_file(b"store_code,store_name,pic_name,store_group\ng1,G,Ann,north\ng2,G,Ann,\ng3,G,Ann,no way\n", 10)
                .unwrap();
        assert!(file.with_groups);
        assert_eq!(file.rows[0].as_ref().unwrap().group.as_ref().unwrap().as_str(), "north");
        assert_eq!(file.rows[1].as_ref().unwrap().group, None);
        assert_eq!(file.rows[2].as_ref().unwrap_err().field(), "store_group");
        assert!(!parse_file(b"store_code,store_name,pic_name\n", 10).unwrap().with_groups);
        let rows = parse_rows(b"\xef\xbb\xbfstore_name,store_code,pic_name\nA,a1,Ann\nB,b 2,Bob\nC,c3\n", 10).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].as_ref().unwrap().code.as_str(), "a1");
        assert_eq!(rows[1].as_ref().unwrap_err().field(), "store_code");
        assert_eq!(rows[2].as_ref().unwrap_err().field(), "file");
        let errs = [
            (&b"store_code,store_name,pic_name,extra\n"[..], "unknown column"),
            (b"store_code,store_name\n", "no pic_name column"),
            (b"store_code,store_code,pic_name\n", "twice"),
            (b"", "must start with the header"),
            (b"\xff\xfe", "UTF-8"),
        ];
        for (file, want) in errs {
            let e = parse_rows(file, 10).unwrap_err();
            assert!(e.0.contains(want), "{}", e.0);
            assert!(e.0.starts_with("file"), "{}", e.0);
        }
        let many = format!("store_code,store_name,pic_name\n{}", "a,b,c\n".repeat(3));
        assert!(parse_rows(many.as_bytes(), 2).unwrap_err().0.contains("at most 2"));
    }

    #[test]
    fn multipart_finds_the_file_part() {
        let ct = "multipart/form-data; boundary=XyZ";
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\n1,2\r\n\r\n--XyZ--\r\n";
        assert_eq!(multipart_field(body, ct, "file").unwrap(), b"a,b\r\n1,2\r\n");
        assert_eq!(multipart_field(body, ct, "note").unwrap(), b"hello");
        assert!(multipart_field(body, ct, "other").unwrap_err().0.contains("file is required"));
        assert!(multipart_field(body, "multipart/form-data", "file").unwrap_err().0.contains("malformed"));
        assert!(multipart_field(b"--XyZ\r\nbroken", ct, "file").unwrap_err().0.contains("malformed"));
        let quoted = "multipart/form-data; boundary=\"XyZ\"";
        assert_eq!(multipart_field(body, quoted, "file").unwrap(), b"a,b\r\n1,2\r\n");
    }
}
