//! Charts drawn as inline SVG: nothing to load, prints cleanly.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::esc;
use crate::score::{DimensionScore, dimension_zh};

const COLORS: &[&str] = &[
    "#8b1a1a", "#2a6f97", "#0b6e4f", "#9a6700", "#6b4c9a", "#c2410c", "#0f766e", "#475569",
];

/// Department scores over runs: one line per department.
pub fn trend(points: &[(String, String, Option<f64>)], names: &BTreeMap<String, String>) -> String {
    let mut runs: Vec<&str> = points.iter().map(|p| p.0.as_str()).collect();
    runs.dedup();
    if runs.is_empty() {
        return String::new();
    }
    let (w, h, left, top, bottom) = (720.0, 260.0, 40.0, 10.0, 30.0);
    let plot_w = w - left - 150.0;
    let plot_h = h - top - bottom;
    let x = |i: usize| {
        left + if runs.len() == 1 {
            plot_w / 2.0
        } else {
            plot_w * i as f64 / (runs.len() - 1) as f64
        }
    };
    let y = |s: f64| top + plot_h * (1.0 - s / 100.0);
    let mut out = format!(
        "<svg role=img aria-label=\"trend\" viewBox=\"0 0 {w} {h}\" width=\"100%\" style=\"max-width:{w}px;background:#fff\">"
    );
    for s in [0.0, 60.0, 80.0, 90.0, 100.0] {
        let (x2, y0, ty) = (left + plot_w, y(s), y(s) + 4.0);
        let _ = write!(
            out,
            "<line x1=\"{left}\" x2=\"{x2}\" y1=\"{y0}\" y2=\"{y0}\" stroke=\"#e4e7eb\"/><text x=\"4\" y=\"{ty}\" font-size=\"11\">{s}</text>"
        );
    }
    let mut depts: Vec<&str> = points.iter().map(|p| p.1.as_str()).collect();
    depts.sort();
    depts.dedup();
    for (k, d) in depts.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let pts: Vec<String> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                points
                    .iter()
                    .find(|p| p.0 == *r && p.1 == *d)
                    .and_then(|p| p.2)
                    .map(|s| format!("{:.1},{:.1}", x(i), y(s)))
            })
            .collect();
        if pts.len() > 1 {
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>",
                pts.join(" ")
            );
        }
        for p in &pts {
            let (px, py) = p.split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                out,
                "<circle cx=\"{px}\" cy=\"{py}\" r=\"3\" fill=\"{color}\"/>"
            );
        }
        let name = names.get(*d).map(String::as_str).unwrap_or(d);
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            left + plot_w + 15.0,
            top + 16.0 * k as f64,
            left + plot_w + 30.0,
            top + 9.0 + 16.0 * k as f64,
            esc(name)
        );
    }
    let step = (runs.len() / 6).max(1);
    for (i, r) in runs.iter().enumerate().step_by(step) {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - 8.0,
            esc(r)
        );
    }
    out + "</svg>"
}

/// A dimension profile: one bar per dimension, grey when not assessable.
pub fn dimensions(dims: &[DimensionScore]) -> String {
    let (w, bar_h, gap, left) = (520.0, 18.0, 8.0, 90.0);
    let h = (bar_h + gap) * dims.len() as f64 + gap;
    let mut out = format!(
        "<svg role=img aria-label=\"dimensions\" viewBox=\"0 0 {w} {h}\" width=\"100%\" style=\"max-width:{w}px\">"
    );
    for (i, d) in dims.iter().enumerate() {
        let yy = gap + i as f64 * (bar_h + gap);
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"13\">{}</text>",
            yy + 13.0,
            dimension_zh(&d.dimension)
        );
        match d.score {
            Some(s) => {
                let color = if s >= 90.0 {
                    "#0b6e4f"
                } else if s >= 60.0 {
                    "#9a6700"
                } else {
                    "#b42318"
                };
                let _ = write!(
                    out,
                    "<rect x=\"{left}\" y=\"{yy}\" width=\"{:.1}\" height=\"{bar_h}\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{s:.2}</text>",
                    (w - left - 60.0) * s / 100.0,
                    left + (w - left - 60.0) * s / 100.0 + 4.0,
                    yy + 13.0
                );
            }
            None => {
                let _ = write!(
                    out,
                    "<rect x=\"{left}\" y=\"{yy}\" width=\"{:.1}\" height=\"{bar_h}\" fill=\"#e4e7eb\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#7b8794\">无法评估 not assessable</text>",
                    w - left - 60.0,
                    left + 6.0,
                    yy + 13.0
                );
            }
        }
    }
    out + "</svg>"
}
