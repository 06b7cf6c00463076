//! What every JSON answer shares: times as RFC 3339 with milliseconds and `Z`, and the
//! `{"success":true,"data":…}` envelope.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// `{"success":true}`: an acknowledgement.
#[derive(Debug, serde::Serialize, paperclip::actix::Apiv2Schema)]
pub struct Ack {
    /// Always `true`.
    pub success: bool,
}

/// `2026-01-24T02:00:00.000Z`.
pub(crate) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(t))
}

pub(crate) fn opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&rfc3339(t)),
        None => s.serialize_none(),
    }
}

/// Wraps `data` in `{"success":true,"data":…}` (and `count` for lists).
macro_rules! envelope {
    ($(#[$doc:meta])* $name:ident, $data:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, Apiv2Schema)]
        pub struct $name {
            /// Always `true`.
            pub success: bool,
            pub data: $data,
        }

        impl $name {
            pub fn new(data: $data) -> Self {
                Self { success: true, data }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, list $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Serialize, Apiv2Schema)]
        pub struct $name {
            /// Always `true`.
            pub success: bool,
            pub data: Vec<$item>,
            /// Items in `data`.
            pub count: usize,
        }

        impl $name {
            pub fn new(data: Vec<$item>) -> Self {
                Self { success: true, count: data.len(), data }
            }
        }
    };
}
pub(crate) use envelope;

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_have_millis_and_z() {
        let t = Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap();
        assert_eq!(rfc3339(&t), "2026-01-24T02:00:00.000Z");
    }
}
