//! The JSON bodies of the admin routes (`POST /admin/stores`, `POST /admin/sync/run`) through
//! hub-http's field-by-field parsing and the domain's validation. Asserted: no panic; a refused
//! body is a 400 `INVALID_REQUEST` (never a 500); what is accepted is valid.

#![no_main]

use hub_domain::{NewStore, StoreCode, StoreGroup};
use hub_http::fuzzing::{create_store, sync_run};
use hub_http::{ApiError, Code};
use libfuzzer_sys::fuzz_target;

fn refused_as_bad_request(e: &ApiError) {
    assert_eq!(e.status.as_u16(), 400, "{e:?}");
    assert_eq!(e.code, Code::InvalidRequest, "{e:?}");
}

fuzz_target!(|data: &[u8]| {
    match create_store(data) {
        Ok(s) => {
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
            assert_eq!(again.as_ref(), Ok(&s), "a created store does not validate again");
        }
        Err(e) => refused_as_bad_request(&e),
    }
    match sync_run(data) {
        Ok(r) => {
            assert!(["all", "user", "video", "refresh_tokens"].contains(&r.job), "{r:?}");
            if let Some(code) = &r.store {
                assert!(StoreCode::parse(code.as_str()).is_ok());
            }
        }
        Err(e) => refused_as_bad_request(&e),
    }
});
