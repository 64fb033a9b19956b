//! The spectrum view: input and output spectra on a log-frequency axis over the 25 Bark bands,
//! with the analysis's target per band, and behind them the tonal corridor adaptive mode keeps
//! the music in (shaded, with its centre line), aligned to the input where it fits best: where
//! the input's steps leave the shade, the adaptive EQ corrects.
//!
//! The audio thread only copies samples into a ring while the editor is open; the FFTs run here,
//! on the editor's thread, at most once per editor frame.

use std::sync::Arc;

use egui::{Color32, Pos2, Rect, Stroke, Ui};
use realfft::{RealFftPlanner, RealToComplex};

use super::axes::{self, Axes};
use super::theme;
use crate::analysis::corridor::place;
use crate::analysis::targets::adaptive_corridor;
use crate::analysis::{AnalysisConfig, Targets};
use crate::dsp::bark::{self, BANDS};

/// FFT length: 11.7 Hz bins at 48 kHz.
pub const FFT_SIZE: usize = 4096;
/// Points drawn across the frequency axis.
pub const POINTS: usize = 192;
/// Levels below this are drawn at the floor, dB.
pub const FLOOR_DB: f32 = -100.0;
/// A new spectrum once this many new samples arrived (75 % overlap).
const HOP: usize = FFT_SIZE / 4;
/// How fast a falling level decays, per update (rises are immediate).
const FALL: f32 = 0.75;

/// One signal's spectrum, from samples handed in as they arrive.
pub struct Spectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// The last `FFT_SIZE` samples, circular.
    history: Vec<f32>,
    write: usize,
    since_update: usize,
    scratch_in: Vec<f32>,
    scratch_out: Vec<realfft::num_complex::Complex<f32>>,
    /// Power per FFT bin, smoothed.
    power: Vec<f32>,
    /// Level at each of [`POINTS`] log-spaced frequencies, dB.
    pub display_db: [f32; POINTS],
    /// Mean level per Bark band, dB.
    pub bands_db: [f32; BANDS],
}

impl Spectrum {
    pub fn new(planner: &mut RealFftPlanner<f32>) -> Self {
        let fft = planner.plan_fft_forward(FFT_SIZE);
        let window: Vec<f32> = (0..FFT_SIZE)
            .map(|i| {
                let t = i as f32 / FFT_SIZE as f32;
                0.5 - 0.5 * (std::f32::consts::TAU * t).cos()
            })
            .collect();
        Self {
            scratch_in: fft.make_input_vec(),
            scratch_out: fft.make_output_vec(),
            fft,
            window,
            history: vec![0.0; FFT_SIZE],
            write: 0,
            since_update: 0,
            power: vec![0.0; FFT_SIZE / 2 + 1],
            display_db: [FLOOR_DB; POINTS],
            bands_db: [FLOOR_DB; BANDS],
        }
    }

    /// Takes one sample.
    pub fn push(&mut self, x: f32) {
        self.history[self.write] = if x.is_finite() { x } else { 0.0 };
        self.write = (self.write + 1) % FFT_SIZE;
        self.since_update += 1;
    }

    /// Recomputes the spectrum at `sample_rate` if enough new samples arrived. Returns whether
    /// it did.
    pub fn update(&mut self, sample_rate: f32) -> bool {
        if self.since_update < HOP {
            return false;
        }
        self.since_update = 0;
        for (i, x) in self.scratch_in.iter_mut().enumerate() {
            *x = self.history[(self.write + i) % FFT_SIZE] * self.window[i];
        }
        if self
            .fft
            .process(&mut self.scratch_in, &mut self.scratch_out)
            .is_err()
        {
            return false;
        }
        // A full-scale sine reads 0 dB: the window's coherent gain is 1/2.
        let norm = (2.0 / (0.5 * FFT_SIZE as f32)).powi(2);
        for (p, c) in self.power.iter_mut().zip(&self.scratch_out) {
            let now = c.norm_sqr() * norm;
            *p = if now > *p {
                now
            } else {
                *p * FALL + now * (1.0 - FALL)
            };
        }
        self.resample(sample_rate);
        true
    }

    fn resample(&mut self, sample_rate: f32) {
        let freqs = axes::log_frequencies::<POINTS>();
        let ratio = (axes::HIGH_HZ / axes::LOW_HZ).powf(0.5 / (POINTS - 1) as f32);
        let nyquist = 0.5 * sample_rate;
        for (d, &f) in self.display_db.iter_mut().zip(&freqs) {
            *d = if f < nyquist {
                to_db(peak_power(
                    &self.power,
                    f / ratio,
                    (f * ratio).min(nyquist),
                    sample_rate,
                ))
            } else {
                FLOOR_DB
            };
        }
        for b in 0..BANDS {
            let (lo, hi) = (bark::EDGES[b], bark::EDGES[b + 1].min(nyquist));
            self.bands_db[b] = if lo < nyquist {
                to_db(mean_power(&self.power, lo, hi, sample_rate))
            } else {
                FLOOR_DB
            };
        }
    }
}

/// The bins of `power` between `lo` and `hi` Hz (the nearest one if none falls inside).
fn bins(power: &[f32], lo: f32, hi: f32, sample_rate: f32) -> &[f32] {
    let bin_hz = sample_rate / FFT_SIZE as f32;
    let last = power.len() - 1;
    let a = ((lo / bin_hz).ceil() as usize).min(last);
    let b = ((hi / bin_hz).floor() as usize).min(last);
    if b >= a {
        &power[a..=b]
    } else {
        let nearest = ((0.5 * (lo + hi) / bin_hz).round() as usize).min(last);
        &power[nearest..=nearest]
    }
}

/// The loudest bin between `lo` and `hi` Hz: a drawn point keeps a tone's peak level.
fn peak_power(power: &[f32], lo: f32, hi: f32, sample_rate: f32) -> f32 {
    bins(power, lo, hi, sample_rate)
        .iter()
        .fold(0.0, |m, &p| m.max(p))
}

/// The mean bin between `lo` and `hi` Hz: a Bark band's level on the same scale as the curve.
fn mean_power(power: &[f32], lo: f32, hi: f32, sample_rate: f32) -> f32 {
    let b = bins(power, lo, hi, sample_rate);
    b.iter().sum::<f32>() / b.len() as f32
}

fn to_db(power: f32) -> f32 {
    (10.0 * power.max(1.0e-12).log10()).max(FLOOR_DB)
}

/// Draws input, output and target over the Bark bands into `rect`, over the corridor `config`
/// gives the measured music.
pub fn draw(
    ui: &Ui,
    rect: Rect,
    input: &Spectrum,
    output: &Spectrum,
    targets: &Targets,
    config: &AnalysisConfig,
) {
    let axes = Axes::new(rect, -96.0, 0.0);
    let painter = ui.painter_at(rect);
    axes.draw_grid(&painter, 12.0, " dB");
    let usable = targets.measured.usable_bands as usize;
    if targets.measured.gated_seconds > 0.0 {
        draw_corridor(&painter, &axes, input, targets, config, usable);
    }

    // The 25 Bark bands, shaded alternately, with the input's level per band as a step and the
    // analysis's target (the input's band level moved by the EQ gain it asks for) as a tick.
    for b in 0..BANDS {
        let (x0, x1) = (axes.x(bark::EDGES[b]), axes.x(bark::EDGES[b + 1]));
        if b % 2 == 0 {
            painter.rect_filled(
                Rect::from_x_y_ranges(x0..=x1, rect.y_range()),
                0.0,
                theme::BAND_SHADE,
            );
        }
        let level = input.bands_db[b];
        if level <= FLOOR_DB {
            continue;
        }
        let y = axes.y(level);
        painter.line_segment(
            [Pos2::new(x0, y), Pos2::new(x1, y)],
            Stroke::new(1.0, theme::INPUT.gamma_multiply(0.6)),
        );
        if b < usable || usable == 0 {
            let yt = axes.y(level + targets.eq_gains_db[b]);
            painter.line_segment(
                [Pos2::new(x0 + 1.0, yt), Pos2::new(x1 - 1.0, yt)],
                Stroke::new(2.5, theme::TARGET),
            );
        }
    }

    let freqs = axes::log_frequencies::<POINTS>();
    let curve = |s: &Spectrum| {
        freqs
            .iter()
            .zip(s.display_db)
            .map(|(&f, d)| (f, d))
            .collect::<Vec<_>>()
    };
    axes.draw_curve(
        &painter,
        curve(input).into_iter(),
        Stroke::new(1.2, theme::INPUT),
    );
    axes.draw_curve(
        &painter,
        curve(output).into_iter(),
        Stroke::new(1.6, theme::OUTPUT),
    );
    legend(
        &painter,
        &axes,
        &[
            ("Input", theme::INPUT),
            ("Output", theme::OUTPUT),
            ("Target per Bark band", theme::TARGET),
            ("Corridor", theme::CORRIDOR_CENTRE),
        ],
    );
}

/// The corridor per band (fixed arrays, no allocation): moved onto the input's levels by the
/// offset that fits them best, as the analysis places the music ([`place`]).
fn draw_corridor(
    painter: &egui::Painter,
    axes: &Axes,
    input: &Spectrum,
    targets: &Targets,
    config: &AnalysisConfig,
    usable: usize,
) {
    let corridor = adaptive_corridor(&targets.measured, config);
    let n = if usable == 0 {
        BANDS
    } else {
        usable.min(BANDS)
    };
    if input.bands_db[..n].iter().any(|l| *l <= FLOOR_DB) {
        return;
    }
    let placed = place(&input.bands_db, &corridor, n);
    // The same offset in every band: shape = level + offset.
    let offset = placed.shape_db[n / 2] - input.bands_db[n / 2];
    for b in 0..n {
        let (x0, x1) = (axes.x(bark::EDGES[b]), axes.x(bark::EDGES[b + 1]));
        let (hi, lo) = (
            axes.y(corridor.high_db[b] - offset),
            axes.y(corridor.low_db[b] - offset),
        );
        painter.rect_filled(
            Rect::from_x_y_ranges(x0..=x1, hi..=lo),
            0.0,
            theme::CORRIDOR,
        );
        let yc = axes.y(corridor.centre_db[b] - offset);
        painter.line_segment(
            [Pos2::new(x0, yc), Pos2::new(x1, yc)],
            Stroke::new(1.0, theme::CORRIDOR_CENTRE),
        );
    }
}

/// Coloured names along the top of a plot.
pub fn legend(painter: &egui::Painter, axes: &Axes, items: &[(&str, Color32)]) {
    let mut x = axes.rect.left() + 44.0;
    let y = axes.rect.top() + 4.0;
    for (name, color) in items {
        painter.line_segment(
            [Pos2::new(x, y + 7.0), Pos2::new(x + 14.0, y + 7.0)],
            Stroke::new(2.0, *color),
        );
        let r = painter.text(
            Pos2::new(x + 18.0, y),
            egui::Align2::LEFT_TOP,
            *name,
            egui::FontId::proportional(12.0),
            *color,
        );
        x = r.right() + 14.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_scale_sine_peaks_near_0_db_at_its_frequency() {
        let mut planner = RealFftPlanner::new();
        let mut s = Spectrum::new(&mut planner);
        let fs = 48_000.0;
        for i in 0..FFT_SIZE {
            s.push((std::f32::consts::TAU * 1_000.0 * i as f32 / fs).sin());
        }
        assert!(s.update(fs));
        let band = (0..BANDS)
            .find(|&b| (bark::EDGES[b]..bark::EDGES[b + 1]).contains(&1_000.0))
            .unwrap();
        let loudest = (0..BANDS)
            .max_by(|&a, &b| s.bands_db[a].total_cmp(&s.bands_db[b]))
            .unwrap();
        assert_eq!(loudest, band);
        let peak = s.display_db.iter().cloned().fold(FLOOR_DB, f32::max);
        assert!((-3.0..=0.5).contains(&peak), "peak {peak} dB");
        assert!(s.display_db[0] < -60.0, "20 Hz reads {}", s.display_db[0]);
    }
}
