//! Small pieces several pages share: a figure, a change, the period picker.

use maud::{Markup, html};

use crate::format::{change, thousands, trend};

/// A figure or a dash when there is none.
pub(crate) fn num(v: Option<i64>) -> Markup {
    match v {
        Some(v) => html! { (thousands(v)) },
        None => html! { span title="no data" { "–" } },
    }
}

/// A change with its arrow class: `+1,204 (+2.1%)`, or a dash.
pub(crate) fn delta(d: Option<i64>, base: Option<i64>) -> Markup {
    match d {
        Some(d) => html! { span class=(trend(d)) { (change(d, base)) } },
        None => html! { span.flat title="no data to compare" { "–" } },
    }
}

/// The range picker's choices (days).
pub(crate) const RANGES: [u32; 4] = [7, 30, 90, 365];

/// A range picker form (GET) with `days` selected; `extra` hidden fields keep the page's
/// other parameters.
pub(crate) fn range_picker(action: &str, days: u32, extra: &[(&str, String)]) -> Markup {
    html! {
        form.range method="get" action=(action) {
            @for (name, value) in extra { input type="hidden" name=(name) value=(value); }
            label for="days" { "Period" }
            div.actions {
                select #days name="days" data-autosubmit {
                    @for d in RANGES {
                        option value=(d) selected[d == days] { "Last " (d) " days" }
                    }
                }
                button.secondary type="submit" { "Show" }
            }
        }
    }
}

/// A parsed `days` parameter: one of [`RANGES`], else 30.
pub(crate) fn days_param(raw: Option<u32>) -> u32 {
    raw.filter(|d| RANGES.contains(d)).unwrap_or(30)
}
