//! The rule of one CSV cell in every export (the API's and the dashboard's): RFC 4180 quoting,
//! and spreadsheet formula injection neutralised.

/// Appends one cell: a `text` cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading
/// `'` (a spreadsheet shows it instead of running it; numbers we write stay numbers), then any
/// cell holding `,` `"` CR or LF is quoted with its `"` doubled.
pub fn push_cell(out: &mut String, s: &str, text: bool) {
    let neutralise = text && matches!(s.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    let quote = s.contains([',', '"', '\r', '\n']);
    if quote {
        out.push('"');
    }
    if neutralise {
        out.push('\'');
    }
    if quote {
        for c in s.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::push_cell;

    #[test]
    fn text_is_neutralised_and_quoted_numbers_only_quoted() {
        for (s, text, want) in [
            ("=1+2", true, "'=1+2"),
            ("a,\"b\"", true, "\"a,\"\"b\"\"\""),
            ("-5", false, "-5"),
            ("-5", true, "'-5"),
            ("1,204", false, "\"1,204\""),
            ("plain", true, "plain"),
        ] {
            let mut out = String::new();
            push_cell(&mut out, s, text);
            assert_eq!(out, want, "{s:?} text={text}");
        }
    }
}
