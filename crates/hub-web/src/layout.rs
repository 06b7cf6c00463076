//! The page shell: `lang`, a skip link, the navigation the person's role allows, who is
//! signed in with a sign-out button, the stylesheet, the print stylesheet and the script —
//! all from `/dashboard/assets/`, nothing inline.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use maud::{DOCTYPE, Markup, html};

use crate::assets::url;
use crate::routes;
use crate::viewer::Viewer;

/// The Content-Security-Policy of every page: our own files only, no inline script or
/// style, no plugins, no framing, forms only back to us.
pub const CSP: &str =
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Which section of the navigation a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Stores,
    Videos,
    Sync,
    Audit,
    People,
}

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · TikTok Hub" }
            link rel="icon" href=(url("icon.svg")) type="image/svg+xml";
            link rel="stylesheet" href=(url("app.css"));
            link rel="stylesheet" href=(url("print.css")) media="print";
            script src=(url("app.js")) defer {}
        }
    }
}

/// A page for a signed-in person.
pub fn page(viewer: &Viewer, section: Section, title: &str, content: Markup) -> Markup {
    let items: Vec<(Section, &str, &str)> = [
        Some((Section::Overview, "Overview", routes::HOME)),
        Some((Section::Stores, "Stores", routes::STORES)),
        Some((Section::Videos, "Videos", routes::VIDEOS)),
        viewer.chain_wide().then_some((Section::Sync, "Sync", routes::SYNC)),
        viewer.can_admin().then_some((Section::Audit, "Audit log", routes::AUDIT)),
        viewer.can_admin().then_some((Section::People, "People", routes::PEOPLE)),
    ]
    .into_iter()
    .flatten()
    .collect();
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(routes::HOME) { img src=(url("icon.svg")) alt=""; "TikTok Hub" }
                    nav.main aria-label="Main" {
                        ul {
                            @for (s, label, href) in &items {
                                li { a href=(href) aria-current=[(*s == section).then_some("page")] { (label) } }
                            }
                        }
                    }
                    div.who {
                        span { (viewer.name) " · " (viewer.role_label()) }
                        form method="post" action=(routes::LOGOUT) {
                            input type="hidden" name="csrf_token" value=(viewer.csrf);
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.bottom { "Times in " (viewer.tz_name) ". Figures are read from the nightly sync." }
            }
        }
    }
}

/// A page without the navigation (sign-in, errors).
pub fn bare(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { (content) }
        }
    }
}

/// An HTML answer: never cached (it shows someone's data), with the dashboard's CSP.
pub fn html_response(status: StatusCode, body: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body.into_string())
}

/// A 200 page.
pub fn ok(body: Markup) -> HttpResponse {
    html_response(StatusCode::OK, body)
}

/// After a form post: see the result at `to` (303).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// A connection status as a label with text and colour.
pub fn status_badge(status: Option<hub_domain::ConnectionStatus>) -> Markup {
    use hub_domain::ConnectionStatus as S;
    let (class, text) = match status {
        None => ("idle", "Never connected".to_owned()),
        Some(S::Connected) => ("ok", "Connected".to_owned()),
        Some(S::Disconnected) => ("idle", "Disconnected".to_owned()),
        Some(S::NeedReconnect(r)) => {
            ("bad", format!("Needs reconnect ({})", r.as_str().to_lowercase().replace('_', " ")))
        }
    };
    html! { span class=(format!("badge {class}")) { (text) } }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::tests::viewer;
    use hub_domain::Role;

    #[test]
    fn the_shell_is_labelled_and_links_only_what_the_role_may_open() {
        let html = |role| page(&viewer(role), Section::Stores, "Stores", html! { p { "x" } }).into_string();
        let admin = html(Role::Admin);
        assert!(admin.contains(r#"<html lang="en">"#));
        assert!(admin.contains(r##"href="#main""##), "a skip link");
        assert!(admin.contains(routes::AUDIT));
        assert!(!html(Role::Operator).contains(routes::AUDIT));
        assert!(admin.contains(r#"<a href="/dashboard/stores" aria-current="page">"#), "{admin}");
        assert!(admin.contains(r#"name="csrf_token" value="tok-123""#), "sign-out is a form with the token");
        for inline in ["<style", "style=", "<script>", "onclick", "javascript:"] {
            assert!(!admin.contains(inline), "{inline}: nothing inline (CSP)");
        }
        assert!(admin.contains(r#"<script src="/dashboard/assets/app."#));
    }
}
