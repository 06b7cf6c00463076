//! A connect link, shown once: the link in a read-only field with a copy button, and its QR
//! code so staff can open it on their phone. It is the answer to a POST (never in a URL the
//! browser keeps in its history), and never cached.

use actix_web::{HttpResponse, web};
use hub_domain::StoreCode;
use hub_engine::{ConnectError, ConnectLink};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::error::WebError;
use crate::format::local;
use crate::layout::{self, Section};
use crate::routes;
use crate::state::WebState;
use crate::viewer::Viewer;

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

pub(crate) fn render(viewer: &Viewer, code: &str, link: &ConnectLink, tz: &chrono_tz::Tz) -> Markup {
    let qr = crate::qr::svg(&link.url);
    let content = html! {
        div.notice role="note" {
            "This link is shown once. Send it to the store's staff now; it works once and until "
            strong { (local(link.expires_at, tz)) } "."
        }
        section.card.connect-link aria-label="Connect link" data-copy-scope {
            div {
                label for="connect-url" { "Connect link" }
                input #connect-url type="text" readonly value=(link.url);
                div.actions {
                    button type="button" data-copy="connect-url" hidden { "Copy link" }
                    a href=(routes::store(code)) { "Back to the store" }
                }
                p role="status" aria-live="polite" {}
                p.hint { "Staff open it on the phone that has the store's TikTok app, sign in to TikTok and allow every permission." }
            }
            @if let Some(svg) = qr {
                figure.qr {
                    div role="img" aria-label="QR code of the connect link" { (PreEscaped(svg)) }
                    figcaption { "Scan with the phone's camera" }
                }
            }
        }
    };
    layout::page(viewer, Section::Stores, &format!("Connect link for {code}"), content)
}

/// `POST /dashboard/stores/{code}/connect-link` (operators).
pub(crate) async fn issue(
    state: web::Data<WebState>,
    viewer: Viewer,
    code: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    viewer.check_csrf(&state, &form.csrf_token).await?;
    viewer.require_operator()?;
    let code = StoreCode::parse(&code).map_err(|_| WebError::NotFound)?;
    let link = match state.engine.connect().issue_link(&viewer.actor, &code).await {
        Ok(link) => link,
        Err(ConnectError::StoreNotFound) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    Ok(layout::ok(render(&viewer, code.as_str(), &link, &state.tz)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use hub_domain::Role;

    #[test]
    fn the_link_comes_with_a_copy_button_and_a_qr_code() {
        let link = ConnectLink {
            url: "https://hub.example.com/connect/tiktok?store_code=s1&invite=abc123".into(),
            expires_at: chrono::DateTime::parse_from_rfc3339("2026-12-06T00:00:00Z").unwrap().into(),
        };
        let html = render(&viewer(Role::Operator), "s1", &link, &chrono_tz::UTC).into_string();
        assert!(html.contains(r#"value="https://hub.example.com/connect/tiktok?store_code=s1&amp;invite=abc123""#));
        assert!(html.contains(r#"data-copy="connect-url""#));
        assert!(html.contains("<svg"), "the QR code is inline SVG");
        assert!(html.contains("2026-12-06 00:00"));
    }
}
