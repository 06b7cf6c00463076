//! The two HTML pages of the consent flow, and SVG placeholders for images.

use std::fmt::Write as _;

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#161823}\
h1{font-size:1.4rem}.err{color:#b00020}button{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}\
select{font-size:1rem;max-width:100%}.note{color:#666;font-size:.85rem}";

pub(crate) fn error_page(message: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>TikTok sandbox — error</title><style>{STYLE}</style></head>\
<body><h1>TikTok sandbox</h1><p class=\"err\" id=\"error\">{}</p>\
<p class=\"note\">The request was not redirected because the client or redirect URI is not registered.</p></body></html>",
        escape(message)
    )
}

pub(crate) struct ConsentPage<'a> {
    /// Hidden fields carried to the decision form.
    pub hidden: Vec<(&'a str, &'a str)>,
    /// (index, display name, username, connected)
    pub accounts: Vec<(usize, &'a str, &'a str, bool)>,
    pub preselected: usize,
    /// (scope, checked, locked)
    pub scopes: Vec<(&'static str, bool, bool)>,
}

pub(crate) fn consent_page(p: &ConsentPage<'_>) -> String {
    let mut s = String::with_capacity(4096 + p.accounts.len() * 80);
    let _ = write!(
        s,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>TikTok sandbox — authorize</title><style>{STYLE}</style></head><body>\
<h1>TikTok sandbox: authorize this app</h1>\
<form method=\"post\" action=\"/v2/auth/authorize/decision\">"
    );
    for (k, v) in &p.hidden {
        let _ = write!(s, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v));
    }
    s.push_str("<p><label for=\"account\">Log in as</label><br><select id=\"account\" name=\"account\">");
    for (i, name, user, connected) in &p.accounts {
        let _ = write!(
            s,
            "<option value=\"{i}\"{}>{} (@{}){}</option>",
            if *i == p.preselected { " selected" } else { "" },
            escape(name),
            escape(user),
            if *connected { " — connected" } else { "" }
        );
    }
    s.push_str("</select></p><p>Allow the app to:</p><ul style=\"list-style:none;padding:0\">");
    for (scope, checked, locked) in &p.scopes {
        let _ = write!(
            s,
            "<li><label><input type=\"checkbox\" name=\"granted_scope\" value=\"{scope}\"{}{}> {scope}</label>{}</li>",
            if *checked { " checked" } else { "" },
            if *locked { " disabled" } else { "" },
            if *locked {
                format!("<input type=\"hidden\" name=\"granted_scope\" value=\"{scope}\">")
            } else {
                String::new()
            }
        );
    }
    s.push_str(
        "</ul><p><button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></p>\
<p class=\"note\">This is the TikTok API sandbox; no real account is involved.</p></form></body></html>",
    );
    s
}

/// A coloured placeholder image with a label.
pub(crate) fn placeholder_svg(seed: u64, label: &str, w: u32, h: u32) -> String {
    let hue = seed % 360;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
<rect width=\"100%\" height=\"100%\" fill=\"hsl({hue},60%,55%)\"/>\
<text x=\"50%\" y=\"50%\" font-family=\"sans-serif\" font-size=\"{}\" fill=\"#fff\" text-anchor=\"middle\" dominant-baseline=\"middle\">{}</text></svg>",
        (w.min(h) / 6).max(8),
        escape(label)
    )
}
