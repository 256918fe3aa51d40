//! Server-rendered SVG charts (plotters), embedded inline in the pages.

use chrono::NaiveDate;
use plotters::prelude::*;

use crate::domain::{Breakdown, DailyTotal};

const BLUE: RGBColor = RGBColor(11, 87, 208);
const RED: RGBColor = RGBColor(164, 14, 38);
const GRID: RGBColor = RGBColor(216, 222, 228);
const INK: RGBColor = RGBColor(27, 31, 36);

fn major(amount: i64, exponent: u32) -> f64 {
    amount as f64 / 10f64.powi(exponent as i32)
}

/// Keeps labels to plain characters: they come from staff-entered data and
/// end up inside the SVG markup.
fn label(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '<' | '>' | '&' | '"' | '\''))
        .take(30)
        .collect()
}

fn axis_number(v: f64) -> String {
    let abs = v.abs();
    if abs >= 1_000_000.0 {
        format!("{:.1}M", v / 1_000_000.0)
    } else if abs >= 1_000.0 {
        format!("{:.0}k", v / 1_000.0)
    } else {
        format!("{v:.0}")
    }
}

/// Adds an accessible name to the SVG root.
fn titled(svg: String, title: &str) -> String {
    let title = label(title);
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{title}\" "),
        1,
    )
    .replacen('>', &format!("><title>{title}</title>"), 1)
}

/// Daily gross (line) and refunds (bars) over the given days.
pub fn daily(days: &[DailyTotal], currency: &str, exponent: u32) -> String {
    let mut svg = String::new();
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return svg;
    };
    let max = days
        .iter()
        .map(|d| major(d.gross.max(d.refunded), exponent))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let (from, to): (NaiveDate, NaiveDate) = (first.date, last.date);
    {
        let root = SVGBackend::with_string(&mut svg, (960, 320)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(
                format!("Daily gross and refunds ({currency})"),
                ("sans-serif", 18).into_font().color(&INK),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(from..to.succ_opt().unwrap_or(to), 0.0..max);
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let _ = chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.5))
            .bold_line_style(GRID)
            .x_labels(8)
            .y_labels(6)
            .x_label_formatter(&|d| d.format("%b %d").to_string())
            .y_label_formatter(&|v| axis_number(*v))
            .x_desc("Day (UTC)")
            .y_desc(currency)
            .label_style(("sans-serif", 12).into_font().color(&INK))
            .draw();
        let _ = chart
            .draw_series(days.iter().filter(|d| d.refunded > 0).map(|d| {
                Rectangle::new(
                    [
                        (d.date, 0.0),
                        (
                            d.date.succ_opt().unwrap_or(d.date),
                            major(d.refunded, exponent),
                        ),
                    ],
                    RED.mix(0.8).filled(),
                )
            }))
            .map(|s| {
                s.label("Refunded")
                    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], RED.filled()))
            });
        let _ = chart
            .draw_series(LineSeries::new(
                days.iter().map(|d| (d.date, major(d.gross, exponent))),
                BLUE.stroke_width(2),
            ))
            .map(|s| {
                s.label("Gross").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 12, y)], BLUE.stroke_width(2))
                })
            });
        let _ = chart
            .configure_series_labels()
            .border_style(GRID)
            .background_style(WHITE.mix(0.9))
            .label_font(("sans-serif", 12).into_font().color(&INK))
            .position(SeriesLabelPosition::UpperLeft)
            .draw();
        let _ = root.present();
    }
    titled(svg, &format!("Daily gross and refunds in {currency}"))
}

/// Horizontal bars of gross by one dimension (method, campaign).
pub fn breakdown(
    rows: &[(String, Breakdown)],
    title: &str,
    currency: &str,
    exponent: u32,
) -> String {
    let mut svg = String::new();
    if rows.is_empty() {
        return svg;
    }
    let rows: Vec<(String, f64)> = rows
        .iter()
        .take(12)
        .map(|(k, b)| (label(k), major(b.gross, exponent)))
        .collect();
    let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let height = 60 + 28 * rows.len() as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (560, height)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let n = rows.len() as i32;
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16).into_font().color(&INK))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(130)
            .build_cartesian_2d(0.0..max, (0..n).into_segmented());
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let _ = chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID.mix(0.5))
            .bold_line_style(GRID)
            .x_labels(5)
            .x_label_formatter(&|v| axis_number(*v))
            // The largest bar on top: row i is drawn at n - 1 - i.
            .y_label_formatter(&|seg| match seg {
                SegmentValue::CenterOf(i) if *i < n => names
                    .get((n - 1 - *i) as usize)
                    .cloned()
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc(format!("Gross ({currency})"))
            .label_style(("sans-serif", 12).into_font().color(&INK))
            .draw();
        let _ = chart.draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            let i = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (*v, SegmentValue::Exact(i + 1)),
                ],
                BLUE.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }));
        let _ = root.present();
    }
    titled(svg, title)
}

/// Vertical bars of one amount per period (a month, a year), oldest on the
/// left; `rows` are (label, amount in minor units). A period's amount may
/// be negative (refunds of earlier gifts), so the axis starts below zero
/// when one is.
pub fn bars(rows: &[(String, i64)], title: &str, currency: &str, exponent: u32) -> String {
    let mut svg = String::new();
    if rows.is_empty() {
        return svg;
    }
    let mut rows: Vec<(String, f64)> = rows
        .iter()
        .map(|(k, v)| (label(k), major(*v, exponent)))
        .collect();
    // A lone period is drawn between two blank ones: an axis of one
    // segment has no width in plotters.
    if rows.len() == 1 {
        rows.insert(0, (String::new(), 0.0));
        rows.push((String::new(), 0.0));
    }
    let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max).max(1.0) * 1.1;
    let min = rows.iter().map(|r| r.1).fold(0.0f64, f64::min) * 1.1;
    let n = rows.len() as i32;
    {
        let root = SVGBackend::with_string(&mut svg, (960, 300)).into_drawing_area();
        let _ = root.fill(&WHITE);
        let chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18).into_font().color(&INK))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d((0..n - 1).into_segmented(), min..max);
        let Ok(mut chart) = chart else {
            return String::new();
        };
        let names: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let _ = chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID.mix(0.5))
            .bold_line_style(GRID)
            // One label per bar up to 24 bars; plotters thins them beyond.
            .x_labels(rows.len().min(24))
            .y_labels(6)
            .x_label_formatter(&|seg| match seg {
                SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&|v| axis_number(*v))
            .y_desc(currency)
            .label_style(("sans-serif", 12).into_font().color(&INK))
            .draw();
        let _ = chart.draw_series(rows.iter().enumerate().map(|(i, (_, v))| {
            let i = i as i32;
            let color = if *v < 0.0 { RED } else { BLUE };
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                color.filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }));
        let _ = root.present();
    }
    titled(svg, title)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_titles_and_no_markup_from_labels() {
        let day = |d: u32, gross: i64, refunded: i64| DailyTotal {
            date: NaiveDate::from_ymd_opt(2026, 5, d).unwrap(),
            count: 1,
            gross,
            refunded,
        };
        let svg = daily(
            &[day(1, 1000, 0), day(2, 250_000, 500), day(3, 0, 0)],
            "USD",
            2,
        );
        assert!(svg.starts_with("<svg role=\"img\""), "{}", &svg[..80]);
        assert!(svg.contains("<title>Daily gross and refunds in USD</title>"));
        assert!(svg.contains("Day (UTC)"));
        assert!(
            svg.contains("<polyline") || svg.contains("<path"),
            "a line is drawn"
        );
        let b = Breakdown {
            count: 1,
            gross: 5000,
            refunded: 0,
            net: 5000,
        };
        let svg = breakdown(
            &[("<script>x</script>".into(), b), ("card".into(), b)],
            "By method",
            "USD",
            2,
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("card"));
        assert_eq!(daily(&[], "USD", 2), "");
    }

    #[test]
    fn bars_draw_one_rectangle_per_period_with_their_labels() {
        let rows = [
            ("Jan 2026".to_owned(), 12_000),
            ("Feb 2026".to_owned(), 0),
            ("Mar <b>".to_owned(), -500),
        ];
        let svg = bars(&rows, "Recurring revenue (USD)", "USD", 2);
        assert!(svg.starts_with("<svg role=\"img\""));
        assert!(svg.contains("<title>Recurring revenue (USD)</title>"));
        assert!(svg.contains("Jan 2026") && svg.contains("Feb 2026"));
        assert!(!svg.contains("<b>"));
        // The background, then a bar for each of the three periods, each
        // a third of the plot wide (no empty segment at the end).
        let widths: Vec<i64> = svg
            .lines()
            .filter(|l| l.contains("<rect") && l.contains(&format!("fill=\"#{}\"", "0B57D0")))
            .map(|l| {
                l.split("width=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        assert_eq!(widths.len(), 2, "two blue bars: {svg}");
        assert!(widths.iter().all(|w| *w > 250), "{widths:?}");
        assert!(svg.contains("fill=\"#A40E26\""), "the negative one red");
        let one = bars(&rows[..1], "One month", "USD", 2);
        assert!(
            one.contains("Jan 2026") && !one.contains("width=\"-"),
            "{one}"
        );
        assert_eq!(bars(&[], "x", "USD", 2), "");
    }
}
