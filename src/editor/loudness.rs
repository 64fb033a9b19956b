//! Loudness of the chain's input (as the analysis hears it) beside its output's (as the editor
//! measures it, see [`super::levels`]): momentary, short-term and integrated against the target,
//! loudness range, true peak against the ceiling; and the input's stereo correlation.

use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, Ui};

use super::theme;
use crate::analysis::loudness::LoudnessReading;
use crate::analysis::targets::Measured;

/// The loudness bars' span, LUFS.
pub const LUFS_RANGE: (f32, f32) = (-40.0, 0.0);
/// The true-peak bar's span, dBTP.
pub const PEAK_RANGE: (f32, f32) = (-30.0, 3.0);
/// Below this a level reads as silence.
const SILENT: f32 = -99.0;

/// A level as text, or a dash for silence.
pub fn level_text(v: f32, unit: &str) -> String {
    if v.is_finite() && v > SILENT {
        format!("{v:.1} {unit}")
    } else {
        format!("-- {unit}")
    }
}

/// Width of a row's name, and of a value's text.
const NAME_W: f32 = 74.0;
const VALUE_W: f32 = 70.0;
const ROW_H: f32 = 20.0;

/// One meter in `cell`: a horizontal bar over `range` with a marker at `mark`, the value in
/// text at its right.
fn bar(
    ui: &Ui,
    cell: Rect,
    value: f32,
    range: (f32, f32),
    mark: Option<f32>,
    text: String,
    color: Color32,
) {
    let painter = ui.painter_at(cell);
    let track = Rect::from_min_max(
        Pos2::new(cell.left(), cell.top() + 4.0),
        Pos2::new(cell.right() - VALUE_W, cell.bottom() - 4.0),
    );
    let x = |v: f32| {
        let t = ((v - range.0) / (range.1 - range.0)).clamp(0.0, 1.0);
        track.left() + t * track.width()
    };
    painter.rect_filled(track, 2.0, theme::METER_BG);
    if value.is_finite() && value > range.0 {
        painter.rect_filled(
            Rect::from_min_max(track.left_top(), Pos2::new(x(value), track.bottom())),
            2.0,
            color,
        );
    }
    if let Some(m) = mark {
        let mx = x(m);
        painter.line_segment(
            [
                Pos2::new(mx, cell.top() + 1.0),
                Pos2::new(mx, cell.bottom() - 1.0),
            ],
            Stroke::new(2.0, theme::TARGET),
        );
    }
    painter.text(
        Pos2::new(cell.right(), cell.center().y),
        Align2::RIGHT_CENTER,
        text,
        FontId::monospace(11.0),
        ui.visuals().text_color(),
    );
}

/// One row: its name, then a cell for the input and one for the output.
fn row(ui: &mut Ui, name: &str, cells: impl FnOnce(&Ui, Rect, Rect)) {
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), ROW_H),
        egui::Sense::hover(),
    );
    ui.painter_at(rect).text(
        Pos2::new(rect.left(), rect.center().y),
        Align2::LEFT_CENTER,
        name,
        FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
    let gap = 8.0;
    let w = (rect.width() - NAME_W - gap) / 2.0;
    let left = rect.left() + NAME_W;
    let input = Rect::from_min_max(
        Pos2::new(left, rect.top()),
        Pos2::new(left + w, rect.bottom()),
    );
    let output = Rect::from_min_max(
        Pos2::new(left + w + gap, rect.top()),
        Pos2::new(rect.right(), rect.bottom()),
    );
    cells(ui, input, output);
}

/// One side's readings, as the panel draws them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Side {
    pub momentary: f32,
    pub short_term: f32,
    pub integrated: f32,
    pub lra: f32,
    pub true_peak: f32,
}

impl Side {
    /// The input as the analysis measures it.
    pub fn of_measured(m: &Measured) -> Self {
        Self {
            momentary: m.momentary_lufs,
            short_term: m.short_term_lufs,
            integrated: m.integrated_lufs,
            lra: m.lra_lu,
            true_peak: m.true_peak_dbtp,
        }
    }

    /// A side the editor measured with its own meter.
    pub fn of_reading(r: &LoudnessReading) -> Self {
        Self {
            momentary: r.momentary,
            short_term: r.short_term,
            integrated: r.integrated,
            lra: r.range,
            true_peak: r.true_peak,
        }
    }
}

/// The loudness range bar's span, LU.
pub const LRA_RANGE: (f32, f32) = (0.0, 20.0);

/// Draws the loudness panel: the input as the analysis hears it (`input`, with its
/// correlation) beside the output the editor measures (`output`; `paused` while Compare plays
/// the input instead). `target_lufs` is where the leveler aims; `ceiling_dbtp` is the limiter's
/// ceiling. Returns whether the user asked to reset the output's integrated loudness, range and
/// true peak.
pub fn draw(
    ui: &mut Ui,
    input: &Side,
    output: &Side,
    correlation: f32,
    paused: bool,
    target_lufs: f32,
    ceiling_dbtp: f32,
) -> bool {
    ui.strong("Loudness");
    row(ui, "", |ui, i, o| {
        let painter = ui.painter();
        let head = |r: Rect, t: &str, c: Color32| {
            painter.text(
                r.left_center(),
                Align2::LEFT_CENTER,
                t,
                FontId::proportional(12.0),
                c,
            );
        };
        head(i, "Input", theme::INPUT);
        head(
            o,
            if paused { "Output (paused)" } else { "Output" },
            theme::OUTPUT,
        );
    });
    let lufs = |ui: &mut Ui, name: &str, v: fn(&Side) -> f32| {
        row(ui, name, |ui, i, o| {
            for (cell, side) in [(i, input), (o, output)] {
                let v = v(side);
                let color = theme::LOUDNESS;
                bar(
                    ui,
                    cell,
                    v,
                    LUFS_RANGE,
                    Some(target_lufs),
                    level_text(v, "LUFS"),
                    color,
                );
            }
        })
    };
    lufs(ui, "Momentary", |s| s.momentary);
    lufs(ui, "Short-term", |s| s.short_term);
    lufs(ui, "Integrated", |s| s.integrated);
    row(ui, "LRA", |ui, i, o| {
        for (cell, side) in [(i, input), (o, output)] {
            let text = if side.lra.is_finite() {
                format!("{:.1} LU", side.lra)
            } else {
                "-- LU".to_owned()
            };
            bar(ui, cell, side.lra, LRA_RANGE, None, text, theme::LOUDNESS);
        }
    });
    row(ui, "True peak", |ui, i, o| {
        for (cell, side) in [(i, input), (o, output)] {
            let over = side.true_peak > ceiling_dbtp;
            bar(
                ui,
                cell,
                side.true_peak,
                PEAK_RANGE,
                Some(ceiling_dbtp),
                level_text(side.true_peak, "dBTP"),
                if over { theme::WARN } else { theme::LOUDNESS },
            );
        }
    });
    // Correlation (the input's): the bar grows from 0 toward -1 or +1.
    row(ui, "Correlation", |ui, i, _| {
        let painter = ui.painter_at(i);
        let track = Rect::from_min_max(
            Pos2::new(i.left(), i.top() + 4.0),
            Pos2::new(i.right() - VALUE_W, i.bottom() - 4.0),
        );
        painter.rect_filled(track, 2.0, theme::METER_BG);
        let c = if correlation.is_finite() {
            correlation.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let mid = track.center().x;
        let end = mid + 0.5 * track.width() * c;
        let color = if c < 0.0 { theme::WARN } else { theme::EQ };
        painter.rect_filled(
            Rect::from_x_y_ranges(mid.min(end)..=mid.max(end), track.y_range()),
            0.0,
            color,
        );
        painter.line_segment(
            [
                Pos2::new(mid, i.top() + 1.0),
                Pos2::new(mid, i.bottom() - 1.0),
            ],
            Stroke::new(1.0, theme::GRID_ZERO),
        );
        painter.text(
            Pos2::new(i.right(), i.center().y),
            Align2::RIGHT_CENTER,
            format!("{c:+.2}"),
            FontId::monospace(11.0),
            ui.visuals().text_color(),
        );
    });
    ui.horizontal(|ui| {
        ui.label(format!(
            "Target {target_lufs:.1} LUFS   Ceiling {ceiling_dbtp:.1} dBTP"
        ));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.small_button("Reset")
                .on_hover_text("Starts the output's integrated loudness, range and true peak over")
                .clicked()
        })
        .inner
    })
    .inner
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_reads_as_a_dash() {
        assert_eq!(level_text(-200.0, "LUFS"), "-- LUFS");
        assert_eq!(level_text(f32::NEG_INFINITY, "dBTP"), "-- dBTP");
        assert_eq!(level_text(-14.04, "LUFS"), "-14.0 LUFS");
    }
}
