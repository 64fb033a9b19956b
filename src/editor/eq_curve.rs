//! The EQ curve actually applied: the response of the engine's own realised sections, evaluated
//! with the same `dsp` code the engine uses, and the gain each Bark band asked for.

use egui::{Pos2, Rect, Stroke, Ui};

use super::axes::{self, Axes};
use super::meters::MeterFrame;
use super::spectrum::legend;
use super::theme;
use crate::dsp::bark::{self, BANDS};
use crate::dsp::biquad::{phi, BiquadCoeffs};

/// Points drawn across the frequency axis.
pub const POINTS: usize = 256;
/// The plot's range, dB either way.
pub const RANGE_DB: f32 = 12.0;

/// The cascade's response in dB at `hz` (the same sum as `BarkEq::response_db`).
pub fn response_db(sections: &[BiquadCoeffs; BANDS], sample_rate: f32, hz: f32) -> f32 {
    if hz >= 0.5 * sample_rate {
        return 0.0;
    }
    let p = phi(hz as f64, sample_rate as f64);
    let power: f64 = sections
        .iter()
        .filter(|c| !c.is_identity())
        .map(|c| c.power_at_phi(p))
        .product();
    (10.0 * power.max(1.0e-30).log10()) as f32
}

/// The applied response at [`POINTS`] log-spaced frequencies (flat when the EQ is switched out).
pub fn curve(frame: &MeterFrame) -> [(f32, f32); POINTS] {
    let freqs = axes::log_frequencies::<POINTS>();
    std::array::from_fn(|i| {
        let db = if frame.eq_active {
            response_db(&frame.eq_sections, frame.sample_rate, freqs[i])
        } else {
            0.0
        };
        (freqs[i], db)
    })
}

pub fn draw(ui: &Ui, rect: Rect, frame: &MeterFrame) {
    let axes = Axes::new(rect, -RANGE_DB, RANGE_DB);
    let painter = ui.painter_at(rect);
    axes.draw_grid(&painter, 6.0, " dB");
    for b in 0..BANDS {
        let x = axes.x(bark::centre(b));
        let y = axes.y(frame.eq_request_db[b]);
        painter.circle_stroke(Pos2::new(x, y), 2.5, Stroke::new(1.0, theme::TARGET));
    }
    let color = if frame.eq_active {
        theme::EQ
    } else {
        theme::EQ.gamma_multiply(0.3)
    };
    axes.draw_curve(&painter, curve(frame).into_iter(), Stroke::new(2.0, color));
    let title = if frame.eq_active {
        "EQ applied"
    } else {
        "EQ applied (switched off)"
    };
    legend(
        &painter,
        &axes,
        &[(title, color), ("Asked for per Bark band", theme::TARGET)],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Settings};

    #[test]
    fn the_drawn_curve_is_the_engines_own_response() {
        let mut engine = Engine::new(48_000.0, 512, 2);
        let mut settings = Settings::neutral();
        settings.eq_gains_db = std::array::from_fn(|b| if b % 5 == 0 { 4.0 } else { -2.0 });
        engine.set_settings(&settings);
        let mut l = vec![0.0f32; 48_000];
        let mut r = vec![0.0f32; 48_000];
        engine.process(&mut [&mut l, &mut r]);
        let sections = engine.eq_sections();
        let mut largest = 0.0f32;
        for hz in [30.0, 100.0, 440.0, 1_000.0, 3_000.0, 9_000.0, 15_000.0] {
            let want = engine.eq_response_db(hz);
            let got = response_db(&sections, engine.sample_rate(), hz);
            assert!((want - got).abs() < 1.0e-3, "{hz} Hz: {got} vs {want}");
            largest = largest.max(got.abs());
        }
        assert!(largest > 1.0, "the EQ should be doing something");
    }
}
