//! The browser side of a session, shared by every driving adapter that signs people in
//! (`hub-http`'s `/auth/login`, `hub-web`'s sign-in page): the cookie's name and attributes,
//! the same-origin rule of unsafe requests, and what a sign-in attempt tells the failure
//! limits. Plain strings: no HTTP framework here.

/// The session cookie (opaque: 256 random bits, base64url).
pub const SESSION_COOKIE: &str = "hub_session";

/// The `Set-Cookie` value of a session cookie holding `token` for `max_age_secs` (`None`: the
/// one that removes it): `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure` behind https.
pub fn session_cookie(token: Option<(&str, i64)>, secure: bool) -> String {
    let (value, max_age) = token.unwrap_or(("", 0));
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax{secure}; Path=/; Max-Age={}", max_age.max(0))
}

/// Whether a request comes from `public_origin` (`https://hub.example.com`): its `Origin`
/// header when sent, else its `Referer`. The error names what failed (`origin`, `referer`,
/// `no_origin`), for the `auth.csrf` audit row.
pub fn same_origin(origin: Option<&[u8]>, referer: Option<&str>, public_origin: &str) -> Result<(), &'static str> {
    let public_origin = public_origin.trim_end_matches('/');
    if let Some(o) = origin {
        return if o == public_origin.as_bytes() { Ok(()) } else { Err("origin") };
    }
    match referer {
        Some(r) if r == public_origin || r.starts_with(&format!("{public_origin}/")) => Ok(()),
        Some(_) => Err("referer"),
        None => Err("no_origin"),
    }
}

/// A sign-in attempt made outside `hub-http` (the dashboard's sign-in page), put in the
/// answer's extensions so the HTTP adapter counts it toward the address's and the account's
/// auth-failure block, like its own `/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInAttempt {
    /// The email as typed (the account's key in the block).
    pub email: String,
    pub succeeded: bool,
}

/// Who is calling, as the HTTP adapter saw it (its request id, the client address through the
/// trusted proxies), put in the request's extensions for a mounted adapter's pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

/// Put in a sign-in request's extensions by the HTTP adapter when the address is blocked or
/// over its sign-in rate: the page refuses without checking the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInBlocked {
    pub retry_after_secs: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_behind_https() {
        assert_eq!(
            session_cookie(Some(("abc", 60)), true),
            "hub_session=abc; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60"
        );
        assert_eq!(session_cookie(None, false), "hub_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    }

    #[test]
    fn same_origin_prefers_the_origin_header() {
        let o = "https://hub.example.com";
        assert_eq!(same_origin(Some(b"https://hub.example.com"), None, o), Ok(()));
        assert_eq!(same_origin(Some(b"https://evil.example.com"), Some("https://hub.example.com/"), o), Err("origin"));
        assert_eq!(same_origin(None, Some("https://hub.example.com/dashboard"), o), Ok(()));
        assert_eq!(same_origin(None, Some("https://hub.example.com.evil.example/"), o), Err("referer"));
        assert_eq!(same_origin(None, None, o), Err("no_origin"));
    }
}
