//! Stores: the retail outlets whose TikTok accounts the hub follows.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::DomainError;
use crate::group::StoreGroup;

/// A store's code: 1–50 ASCII letters, digits, `_` or `-`. The primary key of a store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreCode(String);

impl StoreCode {
    /// The longest code accepted.
    pub const MAX_LEN: usize = 50;
    const EXPECTED: &'static str = "must be 1-50 alphanumeric characters with underscores or hyphens";

    /// Parses a store code, rejecting anything outside `[A-Za-z0-9_-]{1,50}`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(DomainError::invalid("store_code", Self::EXPECTED)) }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for StoreCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Parses free text of 1..=`max` characters that is not blank and holds no control characters.
pub(crate) fn bounded_text(
    raw: &str,
    max: usize,
    field: &'static str,
    expected: &'static str,
) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    let ok = !trimmed.is_empty() && trimmed.chars().count() <= max && !trimmed.chars().any(char::is_control);
    if ok { Ok(trimmed.to_owned()) } else { Err(DomainError::invalid(field, expected)) }
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:literal, $expected:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Parses the value: trimmed, 1..=MAX_CHARS characters, no control characters.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                bounded_text(raw, $max, $field, $expected).map(Self)
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A store's display name (`store_name`): 1–255 characters.
    StoreName, "store_name", 255, "must be 1-255 characters"
);
text_newtype!(
    /// The person in charge of a store (`pic_name`): 1–255 characters.
    PersonName, "pic_name", 255, "must be 1-255 characters"
);
text_newtype!(
    /// How to reach the person in charge (`pic_contact`): 1–255 characters when given.
    PicContact, "pic_contact", 255, "must be at most 255 characters"
);

/// An optional contact: empty or blank means "none", as in the original service.
fn contact(raw: Option<&str>) -> Result<Option<PicContact>, DomainError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(c) => Ok(Some(PicContact::parse(c)?)),
    }
}

/// An optional group: empty means "none".
pub fn optional_group(raw: Option<&str>) -> Result<Option<StoreGroup>, DomainError> {
    match raw {
        None | Some("") => Ok(None),
        Some(g) => Ok(Some(StoreGroup::parse(g)?)),
    }
}

/// A validated request to create a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStore {
    pub code: StoreCode,
    pub name: StoreName,
    pub pic_name: PersonName,
    pub pic_contact: Option<PicContact>,
    /// The store's group (a region, for example); `None`: no group.
    pub group: Option<StoreGroup>,
}

impl NewStore {
    /// Validates raw fields, reporting the first invalid one (in the API's field order). The
    /// store has no group (see [`NewStore::with_group`]).
    pub fn parse(code: &str, name: &str, pic_name: &str, pic_contact: Option<&str>) -> Result<Self, DomainError> {
        Ok(Self {
            code: StoreCode::parse(code)?,
            name: StoreName::parse(name)?,
            pic_name: PersonName::parse(pic_name)?,
            pic_contact: contact(pic_contact)?,
            group: None,
        })
    }

    /// The same store in `group`.
    #[must_use]
    pub fn with_group(mut self, group: Option<StoreGroup>) -> Self {
        self.group = group;
        self
    }
}

/// Changes to a store (`PATCH /admin/stores/{store_code}`); `None` keeps a field as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoreChange {
    pub name: Option<StoreName>,
    pub pic_name: Option<PersonName>,
    /// `Some(None)` removes the contact.
    pub pic_contact: Option<Option<PicContact>>,
    /// `Some(None)` removes the store from its group.
    pub group: Option<Option<StoreGroup>>,
}

impl StoreChange {
    /// Validates raw fields (`None`: unchanged; for the contact and group, `Some(None)` or an
    /// empty text: removed).
    pub fn parse(
        name: Option<&str>,
        pic_name: Option<&str>,
        pic_contact: Option<Option<&str>>,
        group: Option<Option<&str>>,
    ) -> Result<Self, DomainError> {
        Ok(Self {
            name: name.map(StoreName::parse).transpose()?,
            pic_name: pic_name.map(PersonName::parse).transpose()?,
            pic_contact: pic_contact.map(contact).transpose()?,
            group: group.map(optional_group).transpose()?,
        })
    }

    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A store as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    pub code: StoreCode,
    pub name: String,
    pub pic_name: String,
    pub pic_contact: Option<String>,
    pub group: Option<StoreGroup>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn store_code_table() {
        let cases: &[(&str, bool)] = &[
            ("store_jakarta_01", true),
            ("A-b_9", true),
            ("x", true),
            (&"a".repeat(50), true),
            (&"a".repeat(51), false),
            ("", false),
            ("has space", false),
            ("dot.ted", false),
            ("slash/", false),
            ("ünïcode", false),
            ("emoji😀", false),
            ("semi;colon", false),
        ];
        for (raw, ok) in cases {
            assert_eq!(StoreCode::parse(raw).is_ok(), *ok, "{raw:?}");
        }
    }

    #[test]
    fn store_code_error_names_field() {
        let err = StoreCode::parse("bad code").unwrap_err();
        assert_eq!(err.field(), "store_code");
        assert_eq!(err.to_string(), "store_code must be 1-50 alphanumeric characters with underscores or hyphens");
    }

    #[test]
    fn new_store_reports_first_bad_field() {
        type Case<'a> = ((&'a str, &'a str, &'a str, Option<&'a str>), Result<(), &'a str>);
        let cases: &[Case<'_>] = &[
            (("s1", "Store", "Ann", None), Ok(())),
            (("s1", "Store", "Ann", Some("  ")), Ok(())),
            (("s 1", "Store", "Ann", None), Err("store_code")),
            (("s1", "   ", "Ann", None), Err("store_name")),
            (("s1", "Store", "", None), Err("pic_name")),
            (("s1", "Store", "Ann", Some(&*"c".repeat(256))), Err("pic_contact")),
            (("s1", "Tab\tname", "Ann", None), Err("store_name")),
        ];
        for ((c, n, p, k), want) in cases {
            let got = NewStore::parse(c, n, p, *k).map(|_| ()).map_err(|e| e.field());
            assert_eq!(got, *want, "{c:?} {n:?} {p:?} {k:?}");
        }
    }

    proptest! {
        #[test]
        fn valid_codes_round_trip(raw in "[A-Za-z0-9_-]{1,50}") {
            let code = StoreCode::parse(&raw).unwrap();
            prop_assert_eq!(code.as_str(), raw.as_str());
            prop_assert_eq!(StoreCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn parse_accepts_exactly_the_grammar(raw in "\\PC{0,60}") {
            let grammar = !raw.is_empty() && raw.len() <= 50
                && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            prop_assert_eq!(StoreCode::parse(&raw).is_ok(), grammar);
        }

        #[test]
        fn names_are_trimmed_and_bounded(raw in "\\PC{0,300}") {
            match StoreName::parse(&raw) {
                Ok(name) => {
                    prop_assert_eq!(name.as_str(), raw.trim());
                    prop_assert!(!name.as_str().is_empty());
                    prop_assert!(name.as_str().chars().count() <= 255);
                }
                Err(e) => {
                    let t = raw.trim();
                    prop_assert!(t.is_empty() || t.chars().count() > 255 || t.chars().any(char::is_control));
                    prop_assert_eq!(e.field(), "store_name");
                }
            }
        }
    }
}
