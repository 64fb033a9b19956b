//! Gain reduction per compressor band and for the limiter, as meters with a short history.

use egui::{Align2, FontId, Pos2, Rect, Stroke, Ui};

use super::meters::MeterFrame;
use super::theme;

/// Editor frames kept per meter: a few seconds at the editor's frame rate.
pub const HISTORY: usize = 180;
/// The meters' full scale, dB of reduction (mastering rarely takes more).
pub const SCALE_DB: f32 = 6.0;

/// The meters, in the order drawn.
pub const METERS: [&str; 5] = ["Wideband", "Low", "Mid", "High", "Limiter"];

/// The recent gain reductions of every meter, newest last.
pub struct Reductions {
    history: [[f32; HISTORY]; METERS.len()],
    next: usize,
    last_sequence: u64,
}

impl Default for Reductions {
    fn default() -> Self {
        Self {
            history: [[0.0; HISTORY]; METERS.len()],
            next: 0,
            last_sequence: u64::MAX,
        }
    }
}

impl Reductions {
    /// Takes the newest frame (once per editor frame; a frame seen before adds nothing).
    pub fn push(&mut self, frame: &MeterFrame) {
        if frame.sequence == self.last_sequence {
            return;
        }
        self.last_sequence = frame.sequence;
        let now = [
            frame.compressor_gr_db,
            frame.band_gr_db[0],
            frame.band_gr_db[1],
            frame.band_gr_db[2],
            frame.limiter_gr_db,
        ];
        for (h, v) in self.history.iter_mut().zip(now) {
            h[self.next] = if v.is_finite() { v.max(0.0) } else { 0.0 };
        }
        self.next = (self.next + 1) % HISTORY;
    }

    /// The newest value of meter `m`.
    pub fn current(&self, m: usize) -> f32 {
        self.history[m][(self.next + HISTORY - 1) % HISTORY]
    }

    /// Meter `m`'s history, oldest first.
    pub fn history(&self, m: usize) -> impl Iterator<Item = f32> + '_ {
        (0..HISTORY).map(move |i| self.history[m][(self.next + i) % HISTORY])
    }
}

/// Draws one row per meter: name, a strip chart of the history (reduction grows downward), the
/// current value as a bar and in dB.
pub fn draw(ui: &mut Ui, reductions: &Reductions, frame: &MeterFrame) {
    ui.strong("Gain reduction");
    let in_use = |m: usize| match m {
        0 => !frame.multiband,
        1..=3 => frame.multiband,
        _ => true,
    };
    for (m, name) in METERS.iter().enumerate() {
        let label = match m {
            0 => "Compressor",
            1 => "Low band",
            2 => "Mid band",
            3 => "High band",
            _ => name,
        };
        ui.horizontal(|ui| {
            let (rect, _) = ui
                .allocate_exact_size(egui::vec2(ui.available_width(), 26.0), egui::Sense::hover());
            let painter = ui.painter_at(rect);
            let name_w = 78.0;
            let value_w = 58.0;
            let chart = Rect::from_min_max(
                Pos2::new(rect.left() + name_w, rect.top() + 2.0),
                Pos2::new(rect.right() - value_w, rect.bottom() - 2.0),
            );
            let text_color = if in_use(m) {
                ui.visuals().text_color()
            } else {
                ui.visuals().weak_text_color()
            };
            painter.text(
                Pos2::new(rect.left(), rect.center().y),
                Align2::LEFT_CENTER,
                label,
                FontId::proportional(12.0),
                text_color,
            );
            painter.rect_filled(chart, 2.0, theme::METER_BG);
            let n = HISTORY as f32;
            let points: Vec<Pos2> = reductions
                .history(m)
                .enumerate()
                .map(|(i, gr)| {
                    Pos2::new(
                        chart.left() + chart.width() * i as f32 / (n - 1.0),
                        chart.top() + chart.height() * (gr / SCALE_DB).min(1.0),
                    )
                })
                .collect();
            painter.add(egui::Shape::line(
                points,
                Stroke::new(1.2, theme::REDUCTION.gamma_multiply(0.8)),
            ));
            let now = reductions.current(m);
            let bar = Rect::from_min_max(
                Pos2::new(chart.right() + 3.0, chart.top()),
                Pos2::new(
                    chart.right() + 9.0,
                    chart.top() + chart.height() * (now / SCALE_DB).min(1.0),
                ),
            );
            painter.rect_filled(bar, 0.0, theme::REDUCTION);
            painter.text(
                Pos2::new(rect.right(), rect.center().y),
                Align2::RIGHT_CENTER,
                format!("{:.1} dB", if now < 0.05 { 0.0 } else { -now }),
                FontId::monospace(11.0),
                text_color,
            );
        });
    }
    ui.label(format!(
        "Leveler {:+.1} dB  (meters 0 to -{SCALE_DB:.0} dB)",
        frame.leveler_db
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_newest_values_in_order() {
        let mut r = Reductions::default();
        for i in 0..(HISTORY as u64 + 5) {
            r.push(&MeterFrame {
                sequence: i,
                limiter_gr_db: i as f32,
                ..MeterFrame::default()
            });
        }
        // The same frame read twice is not a new point.
        r.push(&MeterFrame {
            sequence: HISTORY as u64 + 4,
            limiter_gr_db: 999.0,
            ..MeterFrame::default()
        });
        let h: Vec<f32> = r.history(4).collect();
        assert_eq!(h.len(), HISTORY);
        assert_eq!(h[0], 5.0);
        assert_eq!(*h.last().unwrap(), HISTORY as f32 + 4.0);
        assert_eq!(r.current(4), HISTORY as f32 + 4.0);
    }
}
