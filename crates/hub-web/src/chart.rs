//! Line charts drawn on the server as inline SVG: no chart library, no script. Every chart
//! of the dashboard goes through [`LineChart`], so a metric has the same colour everywhere
//! (its [`Metric`] names a CSS class), the value axis starts where the data makes sense
//! (a "nice" range around the data, not forced to zero), each day has a tooltip (`<title>`),
//! and a text summary is there for screen readers (and for print).

use chrono::NaiveDate;
use maud::{Markup, html};

use crate::format::{compact, signed, thousands};

/// A metric's identity: its label and the CSS class that colours it on every page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Followers,
    Likes,
    Views,
}

impl Metric {
    pub fn label(self) -> &'static str {
        match self {
            Self::Followers => "Followers",
            Self::Likes => "Likes",
            Self::Views => "Video views",
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Self::Followers => "m-followers",
            Self::Likes => "m-likes",
            Self::Views => "m-views",
        }
    }
}

/// One day's value; `None` when the day has no data (the line breaks there).
pub type Point = (NaiveDate, Option<i64>);

/// A line chart of one metric over days.
#[derive(Debug, Clone)]
pub struct LineChart {
    /// Unique on the page (used for the ids the SVG's labels point at).
    pub id: String,
    pub metric: Metric,
    /// Oldest first.
    pub points: Vec<Point>,
}

const W: f64 = 720.0;
const H: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 28.0;

/// The value axis: from `lo` to `hi` in steps of `step` (1, 2 or 5 times a power of ten).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
}

impl Axis {
    /// About five steps that hold `min..=max`; a flat line gets a range around it.
    pub fn nice(min: i64, max: i64) -> Self {
        let (min, max) = (min as f64, max as f64);
        let span = if max > min { max - min } else { (max.abs() * 0.1).max(4.0) };
        let raw = span / 5.0;
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
        let (mut lo, mut hi) = ((min / step).floor() * step, (max / step).ceil() * step);
        if hi <= lo {
            lo -= step * 2.0;
            hi += step * 2.0;
        }
        // Counts are never negative: don't draw below zero.
        if lo < 0.0 && min >= 0.0 {
            lo = 0.0;
        }
        Self { lo, hi, step }
    }

    /// The tick values, low to high.
    pub fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as i64;
        (0..=n).map(|i| self.lo + i as f64 * self.step).collect()
    }
}

impl LineChart {
    pub fn new(id: impl Into<String>, metric: Metric, points: Vec<Point>) -> Self {
        Self { id: id.into(), metric, points }
    }

    fn values(&self) -> impl Iterator<Item = (usize, NaiveDate, i64)> + '_ {
        self.points.iter().enumerate().filter_map(|(i, (d, v))| v.map(|v| (i, *d, v)))
    }

    /// The value axis, or `None` without any value.
    pub fn axis(&self) -> Option<Axis> {
        let min = self.values().map(|(_, _, v)| v).min()?;
        let max = self.values().map(|(_, _, v)| v).max()?;
        Some(Axis::nice(min, max))
    }

    fn x(&self, i: usize) -> f64 {
        let n = self.points.len().saturating_sub(1).max(1) as f64;
        LEFT + (W - LEFT - RIGHT) * i as f64 / n
    }

    fn y(axis: &Axis, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) * (1.0 - (v - axis.lo) / (axis.hi - axis.lo))
    }

    /// The line's path: one `M` per run of days with data, `L` within it.
    pub fn path(&self, axis: &Axis) -> String {
        let mut d = String::new();
        let mut pen_down = false;
        for (i, (_, v)) in self.points.iter().enumerate() {
            match v {
                Some(v) => {
                    let cmd = if pen_down { 'L' } else { 'M' };
                    if !d.is_empty() {
                        d.push(' ');
                    }
                    d.push_str(&format!("{cmd}{:.1},{:.1}", self.x(i), Self::y(axis, *v as f64)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        d
    }

    /// One sentence for screen readers: first and last value, the change, the high and low.
    pub fn summary(&self) -> String {
        let label = self.metric.label();
        let mut values = self.values();
        let Some((_, first_day, first)) = values.next() else {
            return format!("{label}: no data in this range yet.");
        };
        let (mut last_day, mut last, mut hi, mut lo) = (first_day, first, first, first);
        for (_, d, v) in values {
            (last_day, last) = (d, v);
            hi = hi.max(v);
            lo = lo.min(v);
        }
        let missing = self.points.iter().filter(|(_, v)| v.is_none()).count();
        let gap = if missing > 0 { format!(" {missing} days have no data.") } else { String::new() };
        format!(
            "{label}: {} on {first_day}, {} on {last_day} ({}); high {}, low {}.{gap}",
            thousands(first),
            thousands(last),
            signed(last - first),
            thousands(hi),
            thousands(lo)
        )
    }

    /// The chart: an SVG with its title and summary, or an empty state.
    pub fn render(&self) -> Markup {
        let title_id = format!("{}-title", self.id);
        let desc_id = format!("{}-desc", self.id);
        let summary = self.summary();
        let Some(axis) = self.axis() else {
            return html! {
                figure.chart.empty id=(self.id) {
                    figcaption { (self.metric.label()) }
                    p.empty-state { "No data in this range yet: charts fill in after the first nightly sync." }
                }
            };
        };
        let label_every = (self.points.len() / 6).max(1);
        let column = (W - LEFT - RIGHT) / self.points.len().max(1) as f64;
        html! {
            figure.chart id=(self.id) {
                figcaption id=(title_id) { (self.metric.label()) }
                svg class=(format!("line-chart {}", self.metric.class())) viewBox=(format!("0 0 {W} {H}"))
                    role="img" aria-labelledby=(title_id) aria-describedby=(desc_id) {
                    g.grid {
                        @for t in axis.ticks() {
                            @let y = Self::y(&axis, t);
                            line x1=(LEFT) x2=(W - RIGHT) y1=(format!("{y:.1}")) y2=(format!("{y:.1}")) {}
                            text.tick x=(LEFT - 6.0) y=(format!("{:.1}", y + 4.0)) text-anchor="end" { (compact(t as i64)) }
                        }
                    }
                    g.days {
                        @for (i, (day, _)) in self.points.iter().enumerate() {
                            @let last = i + 1 == self.points.len();
                            // The last day's label always; others only where they don't crowd it.
                            @if last || (i % label_every == 0 && (self.points.len() - 1 - i) >= label_every / 2) {
                                @let anchor = if last { "end" } else if i == 0 { "start" } else { "middle" };
                                // Every other label is minor: a phone shows the first, the last and every second one.
                                @let class = if !last && i > 0 && (i / label_every) % 2 == 1 { "tick minor" } else { "tick" };
                                text class=(class) x=(format!("{:.1}", self.x(i))) y=(H - 8.0) text-anchor=(anchor) {
                                    (day.format("%b %-d"))
                                }
                            }
                        }
                    }
                    path.line d=(self.path(&axis)) {}
                    g.hits {
                        @for (i, day, v) in self.values() {
                            rect x=(format!("{:.1}", self.x(i) - column / 2.0)) y=(TOP) width=(format!("{column:.1}"))
                                height=(H - TOP - BOTTOM) {
                                title { (day) ": " (thousands(v)) }
                            }
                        }
                    }
                }
                p.sr-only id=(desc_id) { (summary) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(i: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + chrono::Duration::days(i)
    }

    fn chart(values: &[Option<i64>]) -> LineChart {
        LineChart::new("c", Metric::Followers, values.iter().enumerate().map(|(i, v)| (day(i as i64), *v)).collect())
    }

    #[test]
    fn the_axis_holds_the_data_in_nice_steps() {
        let a = Axis::nice(1_020, 1_480);
        assert_eq!((a.lo, a.hi, a.step), (1000.0, 1500.0, 100.0));
        assert!(a.lo <= 1020.0 && a.hi >= 1480.0);
        assert_eq!(a.ticks(), vec![1000.0, 1100.0, 1200.0, 1300.0, 1400.0, 1500.0]);
        // Not forced to zero: a chain of millions that grows a little still shows its growth.
        let a = Axis::nice(23_900_000, 24_100_000);
        assert!(a.lo >= 23_800_000.0 && a.hi <= 24_200_000.0, "{a:?}");
        // A flat line gets room around it, never below zero.
        let a = Axis::nice(0, 0);
        assert_eq!(a.lo, 0.0);
        assert!(a.hi > 0.0);
        let a = Axis::nice(500, 500);
        assert!(a.lo < 500.0 && a.hi > 500.0, "{a:?}");
    }

    #[test]
    fn the_line_maps_days_left_to_right_and_values_bottom_to_top() {
        let c = chart(&[Some(100), Some(200), Some(300)]);
        let axis = c.axis().unwrap();
        let path = c.path(&axis);
        let coords: Vec<(f64, f64)> = path
            .split(' ')
            .map(|p| {
                let (x, y) = p[1..].split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(coords.len(), 3);
        assert_eq!(coords[0].0, LEFT);
        assert_eq!(coords[2].0, W - RIGHT);
        assert!(coords[0].1 > coords[1].1 && coords[1].1 > coords[2].1, "higher values are drawn higher: {path}");
        assert!(path.starts_with('M') && !path[1..].contains('M'));
    }

    #[test]
    fn days_without_data_break_the_line() {
        let c = chart(&[Some(1), Some(2), None, Some(4), Some(5)]);
        let path = c.path(&c.axis().unwrap());
        assert_eq!(path.matches('M').count(), 2, "{path}");
        assert_eq!(path.matches('L').count(), 2, "{path}");
        assert!(c.summary().contains("1 days have no data"), "{}", c.summary());
    }

    #[test]
    fn the_summary_reads_the_change_high_and_low() {
        let c = chart(&[Some(1_000), Some(1_500), Some(1_204)]);
        assert_eq!(c.summary(), "Followers: 1,000 on 2026-11-01, 1,204 on 2026-11-03 (+204); high 1,500, low 1,000.");
        assert_eq!(chart(&[None, None]).summary(), "Followers: no data in this range yet.");
    }

    #[test]
    fn the_svg_is_labelled_coloured_and_has_a_tooltip_per_day() {
        let html = chart(&[Some(10), Some(20)]).render().into_string();
        assert!(html.contains(r#"role="img""#));
        assert!(html.contains(r#"aria-labelledby="c-title""#) && html.contains(r#"id="c-title""#));
        assert!(html.contains(r#"aria-describedby="c-desc""#) && html.contains(r#"id="c-desc""#));
        assert!(html.contains("line-chart m-followers"));
        assert_eq!(html.matches("<title>").count(), 2);
        assert!(html.contains("<title>2026-11-02: 20</title>"));
        assert!(!html.contains("style="), "no inline style: the CSP forbids it");
    }

    #[test]
    fn no_data_renders_an_empty_state_not_an_empty_svg() {
        let html = chart(&[None]).render().into_string();
        assert!(!html.contains("<svg"));
        assert!(html.contains("after the first nightly sync"));
    }
}
