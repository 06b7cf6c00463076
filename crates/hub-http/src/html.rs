//! The OAuth pages staff see in their browser, as the spec shows them. Every dynamic value is
//! HTML-escaped.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;

use crate::error::Rendered;

/// Escapes `&`, `<`, `>`, `"` and `'`.
pub(crate) fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, body: String) -> HttpResponse {
    let mut res = HttpResponse::build(status).insert_header(ContentType::html()).body(body);
    res.extensions_mut().insert(Rendered);
    res
}

/// "Successfully connected!" for `store_code`.
pub(crate) fn success(store_code: &str) -> HttpResponse {
    page(
        StatusCode::OK,
        format!(
            "<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title>TikTok Connection Successful</title>\n</head>\n<body>\n  <h1>✅ Successfully connected!</h1>\n  <p>Your TikTok account has been connected to store: {}</p>\n  <p>You can close this window now.</p>\n</body>\n</html>\n",
            escape(store_code)
        ),
    )
}

/// "Connection failed" with `message` (one of the hub's own, never TikTok's text) and the
/// request id to quote to support, which finds the cause in the log.
pub(crate) fn failure(status: StatusCode, message: &str, request_id: Option<&str>) -> HttpResponse {
    let reference = request_id.map_or_else(String::new, |id| format!("  <p>Reference: {}</p>\n", escape(id)));
    page(
        status,
        format!(
            "<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title>Connection Failed</title>\n</head>\n<body>\n  <h1>❌ Connection failed</h1>\n  <p>Error: {}</p>\n  <p>Please try again or contact support{}.</p>\n{reference}</body>\n</html>\n",
            escape(message),
            if request_id.is_some() { ", quoting the reference below" } else { "" }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#x27;y&#x27;&lt;/script&gt;"
        );
        assert_eq!(escape("store_01"), "store_01");
    }
}
