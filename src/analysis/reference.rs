//! [`ReferenceProfile`]: the few numbers reference mode needs from one or several tracks.
//!
//! A profile holds the tonal shape (band density, dB, mean removed over the usable bands),
//! BS.1770 integrated loudness, loudness range, crest factor and stereo image. Profiles of
//! several tracks blend with weights: curves, loudness and crest average in dB, side/mid ratios
//! and correlations linearly.

use serde::{Deserialize, Serialize};

use super::measured::Measured;
use crate::dsp::bark::BANDS;

/// A reference track (or blend of tracks) to match.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceProfile {
    /// Tonal shape: band density in dB with its mean over the usable bands removed.
    pub curve_db: [f32; BANDS],
    /// Bands meaningful in `curve_db`.
    pub usable_bands: u8,
    /// Integrated loudness, LUFS.
    pub integrated_lufs: f32,
    /// Loudness range, LU.
    pub lra_lu: f32,
    /// Mean crest factor, dB.
    pub crest_db: f32,
    /// Side/mid energy ratio.
    pub side_mid_ratio: f32,
    /// Phase correlation.
    pub correlation: f32,
    /// Spectral tilt, dB/octave.
    pub tilt_db_per_oct: f32,
    /// Total weight of the tracks blended into this profile (1 for one track).
    pub weight: f32,
}

impl ReferenceProfile {
    /// The profile of what an analyser has measured.
    pub fn from_measured(m: &Measured) -> Self {
        let n = (m.usable_bands as usize).clamp(1, BANDS);
        let mean = m.band_levels_db[..n].iter().sum::<f32>() / n as f32;
        let curve_db = std::array::from_fn(|b| {
            if b < n {
                m.band_levels_db[b] - mean
            } else {
                0.0
            }
        });
        Self {
            curve_db,
            usable_bands: n as u8,
            integrated_lufs: m.integrated_lufs,
            lra_lu: m.lra_lu,
            crest_db: m.crest_db,
            side_mid_ratio: m.side_mid_ratio,
            correlation: m.correlation,
            tilt_db_per_oct: m.tilt_db_per_oct,
            weight: 1.0,
        }
    }

    /// Weighted blend of profiles (weights >= 0; `None` if the weights sum to zero).
    pub fn blend(items: &[(ReferenceProfile, f32)]) -> Option<Self> {
        let total: f32 = items.iter().map(|(_, w)| w.max(0.0)).sum();
        if total <= 0.0 {
            return None;
        }
        let mut out = Self {
            curve_db: [0.0; BANDS],
            usable_bands: BANDS as u8,
            integrated_lufs: 0.0,
            lra_lu: 0.0,
            crest_db: 0.0,
            side_mid_ratio: 0.0,
            correlation: 0.0,
            tilt_db_per_oct: 0.0,
            weight: 0.0,
        };
        for (p, w) in items {
            let k = w.max(0.0) / total;
            if k == 0.0 {
                continue;
            }
            for (o, c) in out.curve_db.iter_mut().zip(&p.curve_db) {
                *o += k * c;
            }
            out.usable_bands = out.usable_bands.min(p.usable_bands);
            out.integrated_lufs += k * p.integrated_lufs;
            out.lra_lu += k * p.lra_lu;
            out.crest_db += k * p.crest_db;
            out.side_mid_ratio += k * p.side_mid_ratio;
            out.correlation += k * p.correlation;
            out.tilt_db_per_oct += k * p.tilt_db_per_oct;
            out.weight += w.max(0.0) * p.weight;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::config::{AnalysisConfig, MasteringMode};
    use crate::analysis::test_signals::*;
    use crate::analysis::Analyzer;

    #[test]
    fn blend_weights_and_json() {
        let mut a = ReferenceProfile::from_measured(&Measured::empty());
        a.integrated_lufs = -10.0;
        a.curve_db[3] = 2.0;
        let mut b = a;
        b.integrated_lufs = -20.0;
        b.curve_db[3] = -2.0;
        let m = ReferenceProfile::blend(&[(a, 3.0), (b, 1.0)]).unwrap();
        assert!((m.integrated_lufs + 12.5).abs() < 1.0e-4);
        assert!((m.curve_db[3] - 1.0).abs() < 1.0e-4);
        assert!(ReferenceProfile::blend(&[(a, 0.0)]).is_none());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<ReferenceProfile>(&json).unwrap(), m);
    }

    /// Matching a track to its own profile changes (almost) nothing.
    #[test]
    fn matching_a_reference_to_itself_is_neutral() {
        let l = pink(11, 48_000 * 30, 0.3);
        let r = pink(12, 48_000 * 30, 0.3);
        let reference = ReferenceProfile::analyse(48_000.0, &[&l, &r]);
        let mut a = Analyzer::new(48_000.0, 2);
        a.set_config(AnalysisConfig {
            mode: MasteringMode::Reference,
            ..AnalysisConfig::default()
        });
        a.set_reference(Some(reference));
        a.push(&[&l, &r]);
        let t = a.targets();
        assert!(t.confidence >= 1.0);
        for (b, g) in t.eq_gains_db.iter().enumerate() {
            assert!(g.abs() <= 0.5, "band {b}: {g}");
        }
        assert!(
            t.leveler_gain_db.abs() <= 0.5,
            "leveler {}",
            t.leveler_gain_db
        );
        assert!((t.width - 1.0).abs() < 0.02, "width {}", t.width);
        assert!(t.comp_ratio < 1.05, "ratio {}", t.comp_ratio);
    }
}
