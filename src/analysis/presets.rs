//! Preset target curves and preferences.
//!
//! A tonal curve is a band-density shape in dB over the 25 Bark bands (only its shape matters:
//! the EQ removes the mean level difference). Each curve is a power-law tilt around 1 kHz, a gentle
//! roll-off below 35 Hz and above 14 kHz, plus a few log-Gaussian bumps. The base tilt of about
//! -4.5 dB/octave in density follows the long-term average spectra of commercial popular music
//! (Pestana, Ma, Reiss, Barbosa & Black 2013, "Spectral characteristics of popular commercial
//! recordings 1950-2010", AES 135th Convention), which fall somewhat faster than pink noise.

use serde::{Deserialize, Serialize};

use super::config::Preset;
use crate::dsp::bark::{self, BANDS};

/// A log-Gaussian bump: `gain_db * exp(-0.5 (log2(f / centre_hz) / width_oct)^2)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bump {
    /// Centre frequency, Hz.
    pub centre_hz: f32,
    /// Gain at the centre, dB.
    pub gain_db: f32,
    /// Standard deviation, octaves.
    pub width_oct: f32,
}

const NO_BUMP: Bump = Bump {
    centre_hz: 1000.0,
    gain_db: 0.0,
    width_oct: 1.0,
};

/// Everything a preset asks for.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PresetSpec {
    /// Loudness target, LUFS.
    pub target_lufs: f32,
    /// Density tilt of the tonal curve, dB/octave around 1 kHz.
    pub tilt_db_per_oct: f32,
    /// Shape details on top of the tilt.
    pub bumps: [Bump; 3],
    /// Scale of the EQ correction, 0..1 (gentle presets correct less).
    pub eq_scale: f32,
    /// Ratio used for very dynamic material (dense material gets little of it).
    pub max_ratio: f32,
    /// Scale of the compression, 0..1.
    pub comp_scale: f32,
    /// Preferred stereo width (1 = unchanged).
    pub width: f32,
}

const fn bump(centre_hz: f32, gain_db: f32, width_oct: f32) -> Bump {
    Bump {
        centre_hz,
        gain_db,
        width_oct,
    }
}

impl PresetSpec {
    /// The specification of `preset`.
    pub const fn of(preset: Preset) -> Self {
        match preset {
            Preset::Adaptive => Self {
                target_lufs: -14.0,
                tilt_db_per_oct: -4.5,
                bumps: [NO_BUMP; 3],
                eq_scale: 1.0,
                max_ratio: 2.5,
                comp_scale: 1.0,
                width: 1.0,
            },
            Preset::Gentle => Self {
                target_lufs: -16.0,
                tilt_db_per_oct: -4.5,
                bumps: [bump(3000.0, -0.5, 1.0), NO_BUMP, NO_BUMP],
                eq_scale: 0.6,
                max_ratio: 1.8,
                comp_scale: 0.6,
                width: 1.0,
            },
            Preset::Warm => Self {
                target_lufs: -13.0,
                tilt_db_per_oct: -5.2,
                bumps: [bump(150.0, 1.5, 1.2), bump(8000.0, -1.0, 1.5), NO_BUMP],
                eq_scale: 1.0,
                max_ratio: 2.5,
                comp_scale: 1.0,
                width: 0.95,
            },
            Preset::Bright => Self {
                target_lufs: -12.0,
                tilt_db_per_oct: -3.8,
                bumps: [bump(3500.0, 1.0, 1.0), bump(12000.0, 1.5, 1.0), NO_BUMP],
                eq_scale: 1.0,
                max_ratio: 3.0,
                comp_scale: 1.0,
                width: 1.05,
            },
            Preset::Punchy => Self {
                target_lufs: -14.0,
                tilt_db_per_oct: -4.5,
                bumps: [
                    bump(80.0, 2.0, 0.8),
                    bump(400.0, -1.0, 1.0),
                    bump(3000.0, 1.0, 1.0),
                ],
                eq_scale: 1.0,
                max_ratio: 3.5,
                comp_scale: 1.0,
                width: 1.0,
            },
            Preset::Live => Self {
                target_lufs: -13.5,
                tilt_db_per_oct: -4.2,
                bumps: [bump(250.0, -0.5, 1.5), NO_BUMP, NO_BUMP],
                eq_scale: 0.8,
                max_ratio: 1.6,
                comp_scale: 0.6,
                width: 1.15,
            },
        }
    }

    /// The tonal curve (band density, dB, mean not meaningful).
    pub fn tonal_curve(&self) -> [f32; BANDS] {
        tilt_curve(self.tilt_db_per_oct, &self.bumps)
    }
}

/// A tilted curve with bumps and the sub/air roll-offs.
pub fn tilt_curve(tilt_db_per_oct: f32, bumps: &[Bump]) -> [f32; BANDS] {
    std::array::from_fn(|b| {
        let f = bark::centre(b);
        let mut g = tilt_db_per_oct * (f / 1000.0).log2();
        g -= 12.0 * (35.0 / f).log2().max(0.0);
        g -= 6.0 * (f / 14_000.0).log2().max(0.0);
        for k in bumps {
            let x = (f / k.centre_hz).log2() / k.width_oct;
            g += k.gain_db * (-0.5 * x * x).exp();
        }
        g
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_their_loudness_and_distinct_curves() {
        let lufs: Vec<f32> = Preset::ALL
            .iter()
            .map(|p| PresetSpec::of(*p).target_lufs)
            .collect();
        assert_eq!(lufs, vec![-14.0, -16.0, -13.0, -12.0, -14.0, -13.5]);
        let bright = PresetSpec::of(Preset::Bright).tonal_curve();
        let warm = PresetSpec::of(Preset::Warm).tonal_curve();
        // Bright has relatively more top (band 22, ~11 kHz) over the mids (band 8) than warm.
        assert!(bright[22] - bright[8] > warm[22] - warm[8] + 3.0);
    }
}
