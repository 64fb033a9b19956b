//! A log-frequency by decibel plot area, shared by the spectrum and the EQ curve.

use egui::{Align2, Color32, FontId, Painter, Pos2, Rect, Stroke};

use super::theme;

/// The plotted frequency span, Hz.
pub const LOW_HZ: f32 = 20.0;
pub const HIGH_HZ: f32 = 20_000.0;

/// Maps frequency (log) and level (dB) to points inside `rect`.
#[derive(Clone, Copy, Debug)]
pub struct Axes {
    pub rect: Rect,
    pub db_min: f32,
    pub db_max: f32,
}

impl Axes {
    pub fn new(rect: Rect, db_min: f32, db_max: f32) -> Self {
        Self {
            rect,
            db_min,
            db_max,
        }
    }

    pub fn x(&self, hz: f32) -> f32 {
        let t = (hz.max(1.0) / LOW_HZ).log10() / (HIGH_HZ / LOW_HZ).log10();
        self.rect.left() + t * self.rect.width()
    }

    /// The frequency at horizontal position `x`.
    pub fn hz(&self, x: f32) -> f32 {
        let t = (x - self.rect.left()) / self.rect.width();
        LOW_HZ * (HIGH_HZ / LOW_HZ).powf(t)
    }

    pub fn y(&self, db: f32) -> f32 {
        let t = (db.clamp(self.db_min, self.db_max) - self.db_min) / (self.db_max - self.db_min);
        self.rect.bottom() - t * self.rect.height()
    }

    pub fn point(&self, hz: f32, db: f32) -> Pos2 {
        Pos2::new(self.x(hz), self.y(db))
    }

    /// Background, frequency grid (with labels along the bottom) and level grid every
    /// `db_step` dB (labels on the left).
    pub fn draw_grid(&self, painter: &Painter, db_step: f32, unit: &str) {
        painter.rect_filled(self.rect, 2.0, theme::PLOT_BG);
        let grid = Stroke::new(1.0, theme::GRID);
        let font = FontId::proportional(10.0);
        for hz in [
            20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0,
        ] {
            let x = self.x(hz);
            painter.line_segment(
                [
                    Pos2::new(x, self.rect.top()),
                    Pos2::new(x, self.rect.bottom()),
                ],
                grid,
            );
            let label = if hz >= 1_000.0 {
                format!("{}k", hz / 1_000.0)
            } else {
                format!("{hz}")
            };
            let anchor = if hz >= HIGH_HZ {
                Align2::RIGHT_BOTTOM
            } else {
                Align2::LEFT_BOTTOM
            };
            painter.text(
                Pos2::new(x + 2.0, self.rect.bottom() - 1.0),
                anchor,
                label,
                font.clone(),
                theme::AXIS_TEXT,
            );
        }
        // The lowest line is left out: its label would sit on the frequency labels.
        let mut db = (self.db_min / db_step).floor() * db_step + db_step;
        while db <= self.db_max {
            let y = self.y(db);
            let stroke = if db == 0.0 {
                Stroke::new(1.0, theme::GRID_ZERO)
            } else {
                grid
            };
            painter.line_segment(
                [
                    Pos2::new(self.rect.left(), y),
                    Pos2::new(self.rect.right(), y),
                ],
                stroke,
            );
            painter.text(
                Pos2::new(self.rect.left() + 2.0, y),
                Align2::LEFT_CENTER,
                format!("{db:+.0}{unit}"),
                font.clone(),
                theme::AXIS_TEXT,
            );
            db += db_step;
        }
    }

    /// A polyline through `(hz, db)` points, clipped to the plot.
    pub fn draw_curve(
        &self,
        painter: &Painter,
        points: impl Iterator<Item = (f32, f32)>,
        stroke: Stroke,
    ) {
        let pts: Vec<Pos2> = points.map(|(hz, db)| self.point(hz, db)).collect();
        painter
            .with_clip_rect(self.rect)
            .add(egui::Shape::line(pts, stroke));
    }

    /// A title in the plot's top-left corner.
    pub fn title(&self, painter: &Painter, text: &str, color: Color32) {
        painter.text(
            self.rect.left_top() + egui::vec2(40.0, 3.0),
            Align2::LEFT_TOP,
            text,
            FontId::proportional(12.0),
            color,
        );
    }
}

/// `count` frequencies spaced evenly on the log axis from [`LOW_HZ`] to [`HIGH_HZ`].
pub fn log_frequencies<const N: usize>() -> [f32; N] {
    std::array::from_fn(|i| LOW_HZ * (HIGH_HZ / LOW_HZ).powf(i as f32 / (N - 1) as f32))
}
