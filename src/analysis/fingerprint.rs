//! A 25-value description of a piece of music, for display, logging and preset suggestion.
//!
//! Sources of each value: band shares and spectral shape from [`spectrum`](super::spectrum)
//! (slow averages over active frames), loudness from [`loudness`](super::loudness) (BS.1770
//! integrated), dynamics from [`dynamics`](super::dynamics), tempo from
//! [`rhythm`](super::rhythm) and the image from [`stereo_image`](super::stereo_image).

use serde::{Deserialize, Serialize};

/// Number of values in a fingerprint.
pub const LEN: usize = 25;

/// Twenty-five named descriptors. Units are in each field's doc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Share of power in 20-60 Hz, 0..1 (the seven shares sum to 1).
    pub sub_20_60: f32,
    /// Share of power in 60-250 Hz, 0..1.
    pub bass_60_250: f32,
    /// Share of power in 250-500 Hz, 0..1.
    pub low_mid_250_500: f32,
    /// Share of power in 500 Hz-2 kHz, 0..1.
    pub mid_500_2k: f32,
    /// Share of power in 2-4 kHz, 0..1.
    pub upper_mid_2k_4k: f32,
    /// Share of power in 4-8 kHz, 0..1.
    pub presence_4k_8k: f32,
    /// Share of power in 8-20 kHz, 0..1.
    pub air_8k_20k: f32,
    /// Integrated loudness, LUFS (BS.1770-4).
    pub loudness_lufs: f32,
    /// Mean crest factor (peak to RMS over 1 s blocks), dB.
    pub crest_db: f32,
    /// Power 20-250 Hz over power 250 Hz-4 kHz, dB.
    pub bass_mid_ratio_db: f32,
    /// Tempo, BPM (60..200; 0 = unknown).
    pub tempo_bpm: f32,
    /// Normalised onset autocorrelation at the beat period, 0..1.
    pub rhythm_stability: f32,
    /// Onsets per second of active signal.
    pub transient_density: f32,
    /// Share of time below -60 dBFS, 0..1.
    pub silence_ratio: f32,
    /// Spectral centroid, Hz.
    pub centroid_hz: f32,
    /// 85 % spectral roll-off, Hz.
    pub rolloff_hz: f32,
    /// Spectral flatness (Wiener entropy), 0..1.
    pub flatness: f32,
    /// Share of power in tonal spectral peaks, 0..1.
    pub harmonic_ratio: f32,
    /// Mean Pearson correlation of consecutive chroma vectors, -1..1 (noise ~0, a held chord ~1).
    pub pitch_stability: f32,
    /// Largest pitch-class share of the chroma, 1/12..1.
    pub chroma_energy: f32,
    /// Standard deviation of block crest factors, dB.
    pub dynamic_range_variation_db: f32,
    /// Standard deviation of short-term loudness, LU.
    pub loudness_variation_lu: f32,
    /// `exp(-sd/6 dB)` of block peak levels, 0..1.
    pub peak_consistency: f32,
    /// Side share of the energy `S^2 / (M^2 + S^2)`, 0..1 (0 = mono).
    pub stereo_width: f32,
    /// Phase correlation, -1..1.
    pub phase_correlation: f32,
}

/// Field names in [`Fingerprint::to_array`] order.
pub const NAMES: [&str; LEN] = [
    "sub_20_60",
    "bass_60_250",
    "low_mid_250_500",
    "mid_500_2k",
    "upper_mid_2k_4k",
    "presence_4k_8k",
    "air_8k_20k",
    "loudness_lufs",
    "crest_db",
    "bass_mid_ratio_db",
    "tempo_bpm",
    "rhythm_stability",
    "transient_density",
    "silence_ratio",
    "centroid_hz",
    "rolloff_hz",
    "flatness",
    "harmonic_ratio",
    "pitch_stability",
    "chroma_energy",
    "dynamic_range_variation_db",
    "loudness_variation_lu",
    "peak_consistency",
    "stereo_width",
    "phase_correlation",
];

impl Fingerprint {
    /// The values in [`NAMES`] order.
    pub fn to_array(&self) -> [f32; LEN] {
        [
            self.sub_20_60,
            self.bass_60_250,
            self.low_mid_250_500,
            self.mid_500_2k,
            self.upper_mid_2k_4k,
            self.presence_4k_8k,
            self.air_8k_20k,
            self.loudness_lufs,
            self.crest_db,
            self.bass_mid_ratio_db,
            self.tempo_bpm,
            self.rhythm_stability,
            self.transient_density,
            self.silence_ratio,
            self.centroid_hz,
            self.rolloff_hz,
            self.flatness,
            self.harmonic_ratio,
            self.pitch_stability,
            self.chroma_energy,
            self.dynamic_range_variation_db,
            self.loudness_variation_lu,
            self.peak_consistency,
            self.stereo_width,
            self.phase_correlation,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;
    use crate::analysis::Analyzer;

    #[test]
    fn fingerprint_of_a_sine_and_its_json_round_trip() {
        let x = sine(48_000, 1000.0, -10.0, 10.0);
        let mut a = Analyzer::new(48_000.0, 2);
        a.push(&[&x, &x]);
        let f = a.fingerprint();
        let shares = &f.to_array()[..7];
        assert!((shares.iter().sum::<f32>() - 1.0).abs() < 1.0e-3);
        assert!(f.mid_500_2k > 0.99, "{f:?}");
        assert!((f.loudness_lufs + 10.0).abs() < 0.2);
        assert!((f.phase_correlation - 1.0).abs() < 1.0e-3 && f.stereo_width < 1.0e-3);
        assert!(f.harmonic_ratio > 0.9 && f.chroma_energy > 0.9, "{f:?}");
        let json = serde_json::to_string(&f).unwrap();
        for name in NAMES {
            assert!(json.contains(name), "{name}");
        }
        let back: Fingerprint = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
    }
}
