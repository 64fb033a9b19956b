//! Loudness as the analysis hears it (the chain's input): momentary, short-term and integrated
//! against the target, loudness range, true peak against the ceiling, stereo correlation.

use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, Ui};

use super::theme;
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

/// One row: name, a horizontal bar over `range` with a marker at `mark`, the value in text.
#[allow(clippy::too_many_arguments)]
fn bar(
    ui: &mut Ui,
    name: &str,
    value: f32,
    range: (f32, f32),
    mark: Option<f32>,
    text: String,
    color: Color32,
) {
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 20.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let name_w = 78.0;
    let value_w = 80.0;
    let track = Rect::from_min_max(
        Pos2::new(rect.left() + name_w, rect.top() + 4.0),
        Pos2::new(rect.right() - value_w, rect.bottom() - 4.0),
    );
    let x = |v: f32| {
        let t = ((v - range.0) / (range.1 - range.0)).clamp(0.0, 1.0);
        track.left() + t * track.width()
    };
    painter.text(
        Pos2::new(rect.left(), rect.center().y),
        Align2::LEFT_CENTER,
        name,
        FontId::proportional(12.0),
        ui.visuals().text_color(),
    );
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
                Pos2::new(mx, rect.top() + 1.0),
                Pos2::new(mx, rect.bottom() - 1.0),
            ],
            Stroke::new(2.0, theme::TARGET),
        );
    }
    painter.text(
        Pos2::new(rect.right(), rect.center().y),
        Align2::RIGHT_CENTER,
        text,
        FontId::monospace(11.0),
        ui.visuals().text_color(),
    );
}

/// Draws the loudness panel. `target_lufs` is where the leveler aims; `ceiling_dbtp` is the
/// limiter's ceiling.
pub fn draw(ui: &mut Ui, m: &Measured, target_lufs: f32, ceiling_dbtp: f32) {
    ui.strong("Loudness (input, as the analysis hears it)");
    let lufs = |ui: &mut Ui, name: &str, v: f32| {
        bar(
            ui,
            name,
            v,
            LUFS_RANGE,
            Some(target_lufs),
            level_text(v, "LUFS"),
            theme::LOUDNESS,
        )
    };
    lufs(ui, "Momentary", m.momentary_lufs);
    lufs(ui, "Short-term", m.short_term_lufs);
    lufs(ui, "Integrated", m.integrated_lufs);
    let over = m.true_peak_dbtp > ceiling_dbtp;
    bar(
        ui,
        "True peak",
        m.true_peak_dbtp,
        PEAK_RANGE,
        Some(ceiling_dbtp),
        level_text(m.true_peak_dbtp, "dBTP"),
        if over { theme::WARN } else { theme::LOUDNESS },
    );
    // Correlation: the bar grows from 0 toward -1 or +1.
    {
        let (rect, _) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), 20.0), egui::Sense::hover());
        let painter = ui.painter_at(rect);
        let track = Rect::from_min_max(
            Pos2::new(rect.left() + 78.0, rect.top() + 4.0),
            Pos2::new(rect.right() - 80.0, rect.bottom() - 4.0),
        );
        painter.text(
            Pos2::new(rect.left(), rect.center().y),
            Align2::LEFT_CENTER,
            "Correlation",
            FontId::proportional(12.0),
            ui.visuals().text_color(),
        );
        painter.rect_filled(track, 2.0, theme::METER_BG);
        let c = if m.correlation.is_finite() {
            m.correlation.clamp(-1.0, 1.0)
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
                Pos2::new(mid, rect.top() + 1.0),
                Pos2::new(mid, rect.bottom() - 1.0),
            ],
            Stroke::new(1.0, theme::GRID_ZERO),
        );
        painter.text(
            Pos2::new(rect.right(), rect.center().y),
            Align2::RIGHT_CENTER,
            format!("{c:+.2}"),
            FontId::monospace(11.0),
            ui.visuals().text_color(),
        );
    }
    ui.label(format!(
        "Target {target_lufs:.1} LUFS   LRA {:.1} LU   Ceiling {ceiling_dbtp:.1} dBTP",
        m.lra_lu
    ));
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
