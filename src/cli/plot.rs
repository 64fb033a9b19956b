//! `--plot`: a picture of what a master did, one PNG of [`WIDTH`] x [`HEIGHT`] pixels in four
//! panels: the long-term Bark spectrum before and after, the EQ applied, short-term loudness
//! over time (input, output and the target), and the limiter's and the compressor's gain
//! reduction over time. Drawn by `plotters` on its bitmap backend; the text is set in the
//! Ubuntu Light font egui already ships (`epaint_default_fonts`), so no system font is needed.

use std::path::Path;
use std::sync::{Arc, Once};

use anyhow::{anyhow, Context, Result};
use ebur128::EbuR128;
use plotters::prelude::*;
use realfft::{RealFftPlanner, RealToComplex};

use super::report::BandGain;
use auralis::dsp::bark::{self, BANDS};

/// The picture's size in pixels.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 900;
/// The time series' step, seconds.
const STEP_SECONDS: f64 = 0.5;
/// Samples per spectrum frame (no overlap: a long-term average needs no more).
const FFT_SIZE: usize = 4096;

/// The long-term power per Bark band of a signal (its channels summed to mono).
struct BarkSpectrum {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    pending: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    /// Band of each FFT bin (`BANDS` for none).
    band_of_bin: Vec<usize>,
    power: [f64; BANDS],
    frames: u64,
}

impl BarkSpectrum {
    fn new(sample_rate: u32) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT_SIZE);
        let window = (0..FFT_SIZE)
            .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FFT_SIZE as f32).cos())
            .collect();
        let band_of_bin = (0..=FFT_SIZE / 2)
            .map(|k| {
                let hz = k as f32 * sample_rate as f32 / FFT_SIZE as f32;
                (0..BANDS)
                    .find(|&b| hz >= bark::EDGES[b] && hz < bark::EDGES[b + 1])
                    .unwrap_or(BANDS)
            })
            .collect();
        BarkSpectrum {
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            fft,
            window,
            pending: Vec::with_capacity(FFT_SIZE),
            band_of_bin,
            power: [0.0; BANDS],
            frames: 0,
        }
    }

    fn add(&mut self, channels: &[&[f32]]) {
        let scale = 1.0 / channels.len() as f32;
        for i in 0..channels[0].len() {
            self.pending
                .push(channels.iter().map(|c| c[i]).sum::<f32>() * scale);
            if self.pending.len() == FFT_SIZE {
                for ((x, &p), &w) in self.input.iter_mut().zip(&self.pending).zip(&self.window) {
                    *x = p * w;
                }
                self.pending.clear();
                if self
                    .fft
                    .process(&mut self.input, &mut self.spectrum)
                    .is_ok()
                {
                    for (c, &b) in self.spectrum.iter().zip(&self.band_of_bin) {
                        if b < BANDS {
                            self.power[b] += c.norm_sqr() as f64;
                        }
                    }
                    self.frames += 1;
                }
            }
        }
    }

    /// Mean power per band, dB (relative: before and after are measured alike).
    fn levels_db(&self) -> [f32; BANDS] {
        let frames = self.frames.max(1) as f64;
        std::array::from_fn(|b| (10.0 * (self.power[b] / frames + 1e-20).log10()) as f32)
    }
}

/// What a render shows over time, gathered block by block for the picture.
pub struct PlotData {
    spectrum_in: BarkSpectrum,
    spectrum_out: BarkSpectrum,
    meter_in: EbuR128,
    meter_out: EbuR128,
    step: u64,
    since: u64,
    limiter_max: f32,
    compressor_max: f32,
    seconds: Vec<f64>,
    loudness_in: Vec<f64>,
    loudness_out: Vec<f64>,
    limiter_db: Vec<f64>,
    compressor_db: Vec<f64>,
}

fn meter(sample_rate: u32, channels: usize) -> Result<EbuR128> {
    EbuR128::new(channels as u32, sample_rate, ebur128::Mode::S)
        .map_err(|e| anyhow!("loudness meter: {e:?}"))
}

impl PlotData {
    pub fn new(sample_rate: u32, channels: usize) -> Result<Self> {
        Ok(PlotData {
            spectrum_in: BarkSpectrum::new(sample_rate),
            spectrum_out: BarkSpectrum::new(sample_rate),
            meter_in: meter(sample_rate, channels)?,
            meter_out: meter(sample_rate, channels)?,
            step: (STEP_SECONDS * sample_rate as f64) as u64,
            since: 0,
            limiter_max: 0.0,
            compressor_max: 0.0,
            seconds: Vec::new(),
            loudness_in: Vec::new(),
            loudness_out: Vec::new(),
            limiter_db: Vec::new(),
            compressor_db: Vec::new(),
        })
    }

    /// A block of the input, as read (before the chain).
    pub fn add_input(&mut self, block: &[&[f32]]) {
        self.spectrum_in.add(block);
        let _ = self.meter_in.add_frames_planar_f32(block);
    }

    /// A block of the output, with the gain reductions at its end (dB, positive).
    pub fn add_output(&mut self, block: &[&[f32]], limiter_db: f32, compressor_db: f32) {
        self.spectrum_out.add(block);
        let _ = self.meter_out.add_frames_planar_f32(block);
        self.limiter_max = self.limiter_max.max(limiter_db);
        self.compressor_max = self.compressor_max.max(compressor_db);
        self.since += block[0].len() as u64;
        if self.since >= self.step {
            self.since = 0;
            let at = self.seconds.len() as f64 * STEP_SECONDS;
            let short_term = |m: &EbuR128| m.loudness_shortterm().unwrap_or(f64::NEG_INFINITY);
            self.seconds.push(at);
            self.loudness_in.push(short_term(&self.meter_in));
            self.loudness_out.push(short_term(&self.meter_out));
            self.limiter_db.push(self.limiter_max as f64);
            self.compressor_db.push(self.compressor_max as f64);
            self.limiter_max = 0.0;
            self.compressor_max = 0.0;
        }
    }

    /// Draws the picture into `path`, atomically (a hidden temporary file renamed into place).
    pub fn draw(&self, path: &Path, title: &str, target_lufs: f32, eq: &[BandGain]) -> Result<()> {
        register_font();
        let name = path
            .file_name()
            .with_context(|| format!("{}: no file name", path.display()))?;
        let tmp = path.with_file_name(format!(
            ".{}.auralis-{}.tmp.png",
            name.to_string_lossy(),
            std::process::id()
        ));
        let drawn = self.draw_into(&tmp, title, target_lufs, eq);
        let result = drawn.and_then(|()| {
            std::fs::rename(&tmp, path)
                .with_context(|| format!("{}: cannot move the picture into place", path.display()))
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn draw_into(&self, path: &Path, title: &str, target_lufs: f32, eq: &[BandGain]) -> Result<()> {
        let failed = |e: &dyn std::fmt::Display| anyhow!("{}: cannot draw: {e}", path.display());
        let root = BitMapBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        let root = root
            .titled(title, ("sans-serif", 24))
            .map_err(|e| failed(&e))?;
        let panels = root.split_evenly((2, 2));
        let centres: Vec<f32> = (0..BANDS).map(bark::centre).collect();
        let (before, after) = (self.spectrum_in.levels_db(), self.spectrum_out.levels_db());

        // 1. The long-term Bark spectrum, before and after.
        let top = before.iter().chain(&after).fold(f32::MIN, |a, &b| a.max(b)) + 6.0;
        let mut chart = ChartBuilder::on(&panels[0])
            .caption("Long-term Bark spectrum", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d((20f32..20_000f32).log_scale(), (top - 80.0)..top)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_desc("Hz")
            .y_desc("dB")
            .draw()
            .map_err(|e| failed(&e))?;
        for (levels, colour, label) in [(&before, BLUE, "before"), (&after, RED, "after")] {
            chart
                .draw_series(LineSeries::new(
                    centres.iter().zip(levels.iter()).map(|(&f, &l)| (f, l)),
                    colour.stroke_width(2),
                ))
                .map_err(|e| failed(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .draw()
            .map_err(|e| failed(&e))?;

        // 2. The EQ applied.
        let reach = eq.iter().fold(3.0f32, |a, g| a.max(g.gain_db.abs() + 1.0));
        let mut chart = ChartBuilder::on(&panels[1])
            .caption("EQ applied", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d((20f32..20_000f32).log_scale(), -reach..reach)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_desc("Hz")
            .y_desc("dB")
            .draw()
            .map_err(|e| failed(&e))?;
        chart
            .draw_series(LineSeries::new(
                eq.iter().map(|g| (g.centre_hz, g.gain_db)),
                GREEN.stroke_width(2),
            ))
            .map_err(|e| failed(&e))?;

        // 3. Short-term loudness over time.
        let end = self
            .seconds
            .last()
            .copied()
            .unwrap_or(0.0)
            .max(STEP_SECONDS);
        let finite = |v: &[f64]| {
            v.iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect::<Vec<_>>()
        };
        let all: Vec<f64> = finite(&self.loudness_in)
            .into_iter()
            .chain(finite(&self.loudness_out))
            .chain([target_lufs as f64])
            .collect();
        let high = all.iter().fold(f64::MIN, |a, &b| a.max(b)) + 3.0;
        let low = all.iter().fold(f64::MAX, |a, &b| a.min(b)).max(high - 60.0) - 3.0;
        let mut chart = ChartBuilder::on(&panels[2])
            .caption("Short-term loudness", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end, low..high)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("LUFS")
            .draw()
            .map_err(|e| failed(&e))?;
        let target = [(0.0, target_lufs as f64), (end, target_lufs as f64)];
        for (points, colour, label) in [
            (self.series(&self.loudness_in), BLUE, "input"),
            (self.series(&self.loudness_out), RED, "output"),
            (target.to_vec(), BLACK, "target"),
        ] {
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)))
                .map_err(|e| failed(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .draw()
            .map_err(|e| failed(&e))?;

        // 4. Gain reduction over time.
        let most = self
            .limiter_db
            .iter()
            .chain(&self.compressor_db)
            .fold(1.0f64, |a, &b| a.max(b + 0.5));
        let mut chart = ChartBuilder::on(&panels[3])
            .caption("Gain reduction", ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end, 0.0..most)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_desc("s")
            .y_desc("dB")
            .draw()
            .map_err(|e| failed(&e))?;
        for (values, colour, label) in [
            (&self.limiter_db, RED, "limiter"),
            (&self.compressor_db, MAGENTA, "compressor"),
        ] {
            chart
                .draw_series(LineSeries::new(self.series(values), colour.stroke_width(2)))
                .map_err(|e| failed(&e))?
                .label(label)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .draw()
            .map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
        Ok(())
    }

    /// `values` against time, the silent (not finite) ones left out.
    fn series(&self, values: &[f64]) -> Vec<(f64, f64)> {
        self.seconds
            .iter()
            .copied()
            .zip(values.iter().copied())
            .filter(|(_, v)| v.is_finite())
            .collect()
    }
}

/// Registers the font the pictures use, once.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is egui's own, known good: it cannot fail to parse.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}
