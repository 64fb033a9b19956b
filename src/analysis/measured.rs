//! [`Measured`]: what the analysis measured of the music, in fixed-size form. The value the
//! rules ([`super::targets`], [`super::corridor`]) and a reference profile
//! ([`super::reference`](mod@super::reference)) are made from; it depends on nothing else of the
//! analysis, so they all depend on it and not on each other.

use serde::{Deserialize, Serialize};

use crate::dsp::bark::BANDS;

/// What was measured, in fixed-size form.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// Gated integrated loudness since the start (or reset), LUFS.
    pub integrated_lufs: f32,
    /// Programme loudness the rules use: integrated in Learn/Hold, a leaky gated average of
    /// short-term loudness (about 30 s) in Continuous, LUFS.
    pub programme_lufs: f32,
    /// Short-term loudness (3 s), LUFS.
    pub short_term_lufs: f32,
    /// Momentary loudness (400 ms), LUFS.
    pub momentary_lufs: f32,
    /// Loudness range, LU.
    pub lra_lu: f32,
    /// Maximum true peak, dBTP.
    pub true_peak_dbtp: f32,
    /// Robust recent true-peak envelope used for headroom, dBTP.
    pub peak_envelope_dbtp: f32,
    /// Mean crest factor, dB.
    pub crest_db: f32,
    /// Phase correlation, -1..1.
    pub correlation: f32,
    /// Side/mid energy ratio (0 = mono).
    pub side_mid_ratio: f32,
    /// Slow band density levels, dB (see `spectrum::density_db`).
    pub band_levels_db: [f32; BANDS],
    /// Slow band power, mean-square per band (for loudness estimates).
    pub band_power: [f32; BANDS],
    /// Spectral tilt, dB/octave.
    pub tilt_db_per_oct: f32,
    /// Seconds of gated (active) signal analysed.
    pub gated_seconds: f32,
    /// Number of bands usable at this sample rate.
    pub usable_bands: u8,
}

impl Measured {
    /// Nothing measured yet.
    pub const fn empty() -> Self {
        Self {
            integrated_lufs: -200.0,
            programme_lufs: -200.0,
            short_term_lufs: -200.0,
            momentary_lufs: -200.0,
            lra_lu: 0.0,
            true_peak_dbtp: -200.0,
            peak_envelope_dbtp: -200.0,
            crest_db: 0.0,
            correlation: 1.0,
            side_mid_ratio: 0.0,
            band_levels_db: [-200.0; BANDS],
            band_power: [0.0; BANDS],
            tilt_db_per_oct: 0.0,
            gated_seconds: 0.0,
            usable_bands: BANDS as u8,
        }
    }
}
