//! The dashboard's URLs (the route table is `pages::config`).

pub const HOME: &str = "/dashboard/";
pub const LOGIN: &str = "/dashboard/login";
pub const LOGOUT: &str = "/dashboard/logout";
pub const STORES: &str = "/dashboard/stores";
pub const STORES_CSV: &str = "/dashboard/stores.csv";
pub const STORES_XLSX: &str = "/dashboard/stores.xlsx";
pub const NEW_STORE: &str = "/dashboard/stores/new";
pub const IMPORT: &str = "/dashboard/stores/import";
pub const IMPORT_TEMPLATE: &str = "/dashboard/stores/import/template";
pub const VIDEOS: &str = "/dashboard/videos";
pub const SYNC: &str = "/dashboard/sync";
pub const SYNC_LIVE: &str = "/dashboard/sync/live";
pub const SYNC_RUN: &str = "/dashboard/sync/run";
pub const AUDIT: &str = "/dashboard/audit";
pub const PEOPLE: &str = "/dashboard/people";
pub const NEW_PERSON: &str = "/dashboard/people/new";
pub const PEOPLE_KEYS: &str = "/dashboard/people/keys";
pub const NEW_KEY: &str = "/dashboard/people/keys/new";

/// `/dashboard/stores/{code}`.
pub fn store(code: &str) -> String {
    format!("{STORES}/{}", encode(code))
}

/// Percent-encodes a path segment or query value (everything but unreserved characters).
pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_keeps_codes_readable_and_escapes_the_rest() {
        assert_eq!(encode("store_01-a.b~"), "store_01-a.b~");
        assert_eq!(encode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
        assert_eq!(store("s 1"), "/dashboard/stores/s%201");
    }
}
