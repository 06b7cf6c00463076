//! The store import body (`POST /admin/stores/import`): hub-http's multipart reader, CSV parser
//! and header/row validation. Input: byte 0 picks the content type, the rest is the body.
//! Asserted: no panic; a refused file is a 400 `INVALID_REQUEST`; never more than the row
//! limit; every accepted row is a valid store.

#![no_main]

use hub_domain::{NewStore, StoreGroup};
use hub_http::Code;
use hub_http::fuzzing::{MAX_IMPORT_ROWS, store_import};
use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: [&str; 5] = [
    "text/csv",
    "text/csv; charset=utf-8",
    "multipart/form-data; boundary=XyZ",
    "multipart/form-data; boundary=\"b\"",
    "application/json",
];

fuzz_target!(|data: &[u8]| {
    let [pick, body @ ..] = data else { return };
    let content_type = CONTENT_TYPES[usize::from(*pick) % CONTENT_TYPES.len()];
    match store_import(content_type, body) {
        Ok(rows) => {
            assert!(rows.len() <= MAX_IMPORT_ROWS);
            for s in rows.iter().flatten() {
                let again = NewStore::parse(
                    s.code.as_str(),
                    s.name.as_str(),
                    s.pic_name.as_str(),
                    s.pic_contact.as_ref().map(|c| c.as_str()),
                )
                .map(|n| {
                    n.with_group(
                        s.group.as_ref().map(|g| StoreGroup::parse(g.as_str()).expect("the group validates again")),
                    )
                });
                assert_eq!(again.as_ref(), Ok(s), "an imported row does not validate again");
            }
        }
        Err(e) => {
            assert_eq!(e.status.as_u16(), 400, "{e:?}");
            assert_eq!(e.code, Code::InvalidRequest, "{e:?}");
        }
    }
});
