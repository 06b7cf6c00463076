//! Passwords people choose: the rules a new password must meet. Hashing is the engine's.

use crate::error::DomainError;
use crate::secret::Secret;

/// Common passwords, lower case, one a line (lines starting with `#` are comments). The source
/// is named in the file's header: John the Ripper's `password.lst` (Openwall, public domain).
const COMMON: &str = include_str!("../data/common-passwords.txt");

/// A password that meets the rules (see [`Password::parse`]). Never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password(Secret<String>);

impl Password {
    /// The fewest characters accepted.
    pub const MIN_CHARS: usize = 12;
    /// The most characters accepted (hashing cost stays bounded).
    pub const MAX_CHARS: usize = 256;
    /// The fewest different characters accepted.
    pub const MIN_DISTINCT: usize = 5;

    /// Checks a new password: 12–256 characters, at least 5 different ones, and neither a
    /// common password nor a common password followed by digits or punctuation
    /// (`password2024!`), compared in lower case. Messages name the field `password` and never
    /// repeat the value.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(DomainError::invalid("password", "must be at least 12 characters"));
        }
        if chars > Self::MAX_CHARS {
            return Err(DomainError::invalid("password", "must be at most 256 characters"));
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < Self::MIN_DISTINCT {
            return Err(DomainError::invalid("password", "must hold at least 5 different characters"));
        }
        if is_common(raw) {
            return Err(DomainError::invalid(
                "password",
                "is too common: choose a longer phrase that is not on lists of leaked passwords",
            ));
        }
        Ok(Self(Secret::new(raw.to_owned())))
    }

    /// The password itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// Whether `raw` (in lower case), or what is left of it once trailing digits and punctuation
/// are cut, is on the list of common passwords; digits and punctuation alone count as common.
pub fn is_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    let listed = |p: &str| COMMON.lines().any(|l| !l.starts_with('#') && l == p);
    core.is_empty() || listed(&lower) || listed(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules() {
        let cases: &[(&str, Result<(), &str>)] = &[
            ("correct horse battery staple 9", Ok(())),
            ("Tr0ub4dor&3-extended", Ok(())),
            ("short", Err("must be at least 12 characters")),
            ("", Err("must be at least 12 characters")),
            ("aaaaaaaaaaaaaaaa", Err("at least 5 different")),
            ("abababababababab", Err("at least 5 different")),
            ("password1234", Err("too common")),
            ("Password2024!!", Err("too common")),
            ("iloveyou123456", Err("too common")),
            ("1234567890123", Err("too common")),
            ("qwertyuiopasdfgh", Ok(())),
        ];
        for (raw, want) in cases {
            match (Password::parse(raw), want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(part)) => {
                    assert_eq!(e.field(), "password");
                    assert!(e.to_string().contains(part), "{raw:?}: {e}");
                    assert!(raw.is_empty() || !e.to_string().contains(raw), "the message never repeats it");
                }
                (got, want) => panic!("{raw:?}: got {got:?}, want {want:?}"),
            }
        }
        assert!(Password::parse(&"x1y2z3w4v5".repeat(26)).is_err(), "over 256 characters");
    }

    #[test]
    fn the_list_is_loaded_and_never_printed() {
        assert!(COMMON.lines().filter(|l| !l.starts_with('#')).count() > 3000);
        assert!(is_common("letmein") && is_common("LetMeIn!!!"));
        let p = Password::parse("correct horse battery staple 9").unwrap();
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }
}
