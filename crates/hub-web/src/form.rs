//! Form fields validated on the server: each error next to its field, described for screen
//! readers, with what was typed kept.

use maud::{Markup, html};

/// A field's error: which field, and what to fix.
pub(crate) type FieldError = Option<(&'static str, String)>;

/// A labelled input (`kind`: `text`, `email`, `password`, `number`) with its hint and, when
/// `error` names it, its error.
pub(crate) fn input(
    label: &str,
    name: &'static str,
    kind: &str,
    value: &str,
    hint: &str,
    error: &FieldError,
    required: bool,
) -> Markup {
    let (err, described) = described(name, error);
    html! {
        div.field {
            label for=(name) { (label) @if !required { " (optional)" } }
            input #(name) type=(kind) name=(name) value=(value) required[required]
                aria-invalid=[err.map(|_| "true")] aria-describedby=(described);
            div.hint id=(format!("{name}-hint")) { (hint) }
            @if let Some(e) = err { div.error id=(format!("{name}-error")) { (e) } }
        }
    }
}

/// A labelled select of `(value, label)` choices with `selected` chosen.
pub(crate) fn select(
    label: &str,
    name: &'static str,
    choices: &[(&str, &str)],
    selected: &str,
    hint: &str,
    error: &FieldError,
) -> Markup {
    let (err, described) = described(name, error);
    html! {
        div.field {
            label for=(name) { (label) }
            select #(name) name=(name) aria-invalid=[err.map(|_| "true")] aria-describedby=(described) {
                @for (value, text) in choices { option value=(value) selected[*value == selected] { (text) } }
            }
            div.hint id=(format!("{name}-hint")) { (hint) }
            @if let Some(e) = err { div.error id=(format!("{name}-error")) { (e) } }
        }
    }
}

fn described<'a>(name: &str, error: &'a FieldError) -> (Option<&'a str>, String) {
    let err = error.as_ref().filter(|(f, _)| *f == name).map(|(_, m)| m.as_str());
    let hint_id = format!("{name}-hint");
    let described = if err.is_some() { format!("{hint_id} {name}-error") } else { hint_id };
    (err, described)
}

/// A domain error as a sentence next to its field: `store_code must be …` → `Store code
/// must be ….`
pub(crate) fn sentence(raw: &str) -> String {
    let text = raw.replacen('_', " ", 1);
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{}.", chars.as_str().trim_end_matches('.'))
}

/// A domain error, on its field.
pub(crate) fn on_field(e: &hub_domain::DomainError) -> FieldError {
    Some((e.field(), sentence(&e.to_string())))
}
