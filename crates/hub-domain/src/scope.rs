//! TikTok scopes the hub asks for, and the check of what a user actually granted.

/// A TikTok scope name.
pub type Scope = &'static str;

/// Scopes the hub requests and needs: without any of them a store cannot be synced.
pub const REQUIRED_SCOPES: [Scope; 3] = ["user.info.basic", "user.info.stats", "video.list"];

/// Splits TikTok's comma-separated scope list (`scopes` on the callback, `scope` on the token
/// answer), trimming blanks and dropping empties and duplicates, keeping order.
pub fn parse_scopes(raw: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// The required scopes that `granted` lacks, in [`REQUIRED_SCOPES`] order.
pub fn missing_scopes<S: AsRef<str>>(granted: &[S]) -> Vec<Scope> {
    REQUIRED_SCOPES.into_iter().filter(|need| !granted.iter().any(|g| g.as_ref() == *need)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn missing_table() {
        let cases: &[(&str, &[&str])] = &[
            ("user.info.basic,user.info.stats,video.list", &[]),
            ("video.list, user.info.stats ,user.info.basic,", &[]),
            ("user.info.basic", &["user.info.stats", "video.list"]),
            ("user.info.basic,video.list", &["user.info.stats"]),
            ("", &["user.info.basic", "user.info.stats", "video.list"]),
            ("user.info.basic,user.info.profile,video.list,user.info.stats", &[]),
        ];
        for (raw, want) in cases {
            assert_eq!(missing_scopes(&parse_scopes(raw)), *want, "{raw:?}");
        }
    }

    proptest! {
        #[test]
        fn parse_never_yields_blanks_or_duplicates(raw in "[a-z., ]{0,80}") {
            let got = parse_scopes(&raw);
            for (i, s) in got.iter().enumerate() {
                prop_assert!(!s.is_empty());
                prop_assert_eq!(s.trim(), s.as_str());
                prop_assert!(!got[..i].contains(s));
            }
        }
    }
}
