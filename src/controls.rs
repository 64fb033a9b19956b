//! The user's choices as plain values: what the plugin's parameters and the CLI's flags both
//! translate into. Nothing here knows about a plugin framework.

use crate::analysis::presets::PresetSpec;
use crate::analysis::targets::LevelerReason;
pub use crate::analysis::{AnalysisConfig, AnalysisMode, MasteringMode as Mode, Preset, Targets};
use crate::dsp::bark::{self, BANDS};
use crate::engine::{CompressorSettings, Settings};

/// Where the multiband compressor splits its three bands, in Hz.
pub const MULTIBAND_SPLITS_HZ: [f32; 2] = [120.0, 2_500.0];
/// The compressor's ballistics on the master bus.
pub const COMP_ATTACK_MS: f32 = 20.0;
pub const COMP_RELEASE_MS: f32 = 200.0;
pub const COMP_KNEE_DB: f32 = 6.0;

/// The largest EQ gain the chain applies, either way, in dB.
pub const MAX_EQ_DB: f32 = 12.0;

/// The most the editor's Compare lifts or lowers the input to match the output, in dB.
pub const MAX_COMPARE_DB: f32 = 24.0;

/// The multiband compressor's bands get the wideband compressor's ratio and a threshold that
/// follows each band's share of the measured level, so a band is compressed as much as its own
/// level warrants rather than by the level of the whole mix.
fn multiband_settings(wide: &CompressorSettings, targets: &Targets) -> [CompressorSettings; 3] {
    let power = &targets.measured.band_power;
    let total: f32 = power.iter().sum();
    std::array::from_fn(|band| {
        let (lo, hi) = match band {
            0 => (0.0, MULTIBAND_SPLITS_HZ[0]),
            1 => (MULTIBAND_SPLITS_HZ[0], MULTIBAND_SPLITS_HZ[1]),
            _ => (MULTIBAND_SPLITS_HZ[1], f32::MAX),
        };
        let share: f32 = (0..BANDS)
            .filter(|&b| (lo..hi).contains(&bark::centre(b)))
            .map(|b| power[b])
            .sum();
        let offset_db = if total > 0.0 && share > 0.0 {
            (10.0 * (share / total).log10()).max(-24.0)
        } else {
            0.0
        };
        CompressorSettings {
            threshold_db: wide.threshold_db + offset_db,
            ..*wide
        }
    })
}

/// The tilt's pivot: the geometric middle of 20 Hz - 20 kHz.
pub const TILT_PIVOT_HZ: f32 = 632.5;

/// A spectral tilt as per-band EQ gains: `tilt_db` at 20 kHz, `-tilt_db` at 20 Hz, straight in
/// dB over log-frequency through 0 dB at the pivot.
pub fn tilt_curve(tilt_db: f32) -> [f32; BANDS] {
    let span = (20_000.0 / TILT_PIVOT_HZ).log2();
    std::array::from_fn(|b| tilt_db * (bark::centre(b) / TILT_PIVOT_HZ).log2() / span)
}

/// Every user control as a plain value, in the units shown to the user.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Controls {
    pub mode: Mode,
    pub preset: Preset,
    pub analysis: AnalysisMode,
    /// Hybrid mode: 0 = all preset, 1 = all reference.
    pub hybrid_blend: f32,
    /// Dry/wet of the whole chain, 0..1.
    pub intensity: f32,

    /// When true the preset's loudness is the target, otherwise `target_lufs`.
    pub loudness_from_preset: bool,
    pub target_lufs: f32,
    pub input_gain_db: f32,

    pub eq_enabled: bool,
    /// Adaptive EQ: the gentle pull toward the corridor's centre line, 0..1; what lies outside
    /// the corridor is corrected in full above 0, and 0 is off (see `analysis::corridor`).
    pub eq_amount: f32,
    /// Spectral tilt in dB at 20 kHz relative to the 632 Hz pivot (mirrored at 20 Hz).
    pub tilt_db: f32,

    pub dynamics_enabled: bool,
    /// Scales how much compression the analysis asks for, 0..1.
    pub dynamics_amount: f32,
    pub multiband: bool,

    pub stereo_enabled: bool,
    /// Stereo width, 1 = unchanged, 0 = mono, 2 = twice the side level.
    pub width: f32,
    /// Below this frequency the signal is made mono; 0 = off.
    pub mono_bass_hz: f32,

    /// Reference mode: how much of each component to match, 0..1.
    pub match_tone: f32,
    pub match_loudness: f32,
    pub match_width: f32,
    pub match_dynamics: f32,

    pub leveler_enabled: bool,
    pub limiter_enabled: bool,
    pub ceiling_dbtp: f32,
    pub limiter_release_ms: f32,
    pub limiter_auto_release: bool,
    /// The most gain reduction the leveler may ask of the limiter before it stops pushing.
    pub max_limiting_db: f32,

    pub output_gain_db: f32,
    pub bypass: bool,
    /// The editor's Compare, engaged: the output is the latency-compensated input at this gain
    /// (dB, the processed output's loudness over the input's), so the processing can be judged
    /// at equal loudness. Not a parameter and never saved; the host's bypass wins over it.
    pub compare_gain_db: Option<f32>,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            mode: Mode::Adaptive,
            preset: Preset::Adaptive,
            analysis: AnalysisMode::Continuous,
            hybrid_blend: 0.5,
            intensity: 1.0,
            loudness_from_preset: true,
            target_lufs: -14.0,
            input_gain_db: 0.0,
            eq_enabled: true,
            eq_amount: 0.7,
            tilt_db: 0.0,
            dynamics_enabled: true,
            dynamics_amount: 0.5,
            multiband: false,
            stereo_enabled: true,
            width: 1.0,
            mono_bass_hz: 0.0,
            match_tone: 1.0,
            match_loudness: 1.0,
            match_width: 0.5,
            match_dynamics: 0.5,
            leveler_enabled: true,
            limiter_enabled: true,
            ceiling_dbtp: -1.0,
            limiter_release_ms: 100.0,
            limiter_auto_release: true,
            max_limiting_db: 4.0,
            output_gain_db: 0.0,
            bypass: false,
            compare_gain_db: None,
        }
    }
}

impl Controls {
    /// The loudness the chain aims at, in LUFS.
    pub fn target_loudness(&self) -> f32 {
        if self.loudness_from_preset {
            PresetSpec::of(self.preset).target_lufs
        } else {
            self.target_lufs
        }
    }

    /// What the analysis needs to know of these controls. The user's tilt and width are applied
    /// on top of the analysis's targets (see [`Controls::settings`]), not fed into them.
    pub fn analysis_config(&self) -> AnalysisConfig {
        AnalysisConfig {
            mode: self.mode,
            preset: self.preset,
            analysis_mode: self.analysis,
            target_lufs: if self.loudness_from_preset {
                f32::NAN
            } else {
                self.target_lufs
            },
            ceiling_dbtp: self.ceiling_dbtp,
            max_limiter_gr_db: self.max_limiting_db,
            eq_amount: self.eq_amount,
            tilt_db_per_oct: 0.0,
            // The compressor switched off asks for no compression (nor for loudness).
            dynamics_amount: if self.dynamics_enabled {
                self.dynamics_amount
            } else {
                0.0
            },
            width_preference: 1.0,
            hybrid_blend: self.hybrid_blend,
            ref_tone: self.match_tone,
            ref_loudness: self.match_loudness,
            ref_width: self.match_width,
            ref_dynamics: self.match_dynamics,
            ..AnalysisConfig::default()
        }
    }

    /// The engine settings for these controls and the analysis's current targets: the EQ curve
    /// is the targets' plus the user's tilt, the compressors and the leveler follow the targets,
    /// the width is the user's times the targets'.
    pub fn settings(&self, targets: &Targets) -> Settings {
        let mut s = Settings::neutral();
        s.input_gain_db = self.input_gain_db;
        s.eq_enabled = self.eq_enabled;
        let tilt = tilt_curve(self.tilt_db);
        s.eq_gains_db = std::array::from_fn(|b| {
            (targets.eq_gains_db[b] + tilt[b]).clamp(-MAX_EQ_DB, MAX_EQ_DB)
        });
        s.compressor = CompressorSettings {
            threshold_db: targets.comp_threshold_db,
            ratio: targets.comp_ratio.max(1.0),
            knee_db: COMP_KNEE_DB,
            attack_ms: COMP_ATTACK_MS,
            release_ms: COMP_RELEASE_MS,
        };
        s.bands = multiband_settings(&s.compressor, targets);
        // The analysis hears the music before the input trim, so once it asks for a loudness
        // correction the trim is taken back out of it: Input Gain then drives the chain harder
        // while the output stays on the loudness target.
        s.leveler_gain_db = match targets.reasons.leveler {
            LevelerReason::TowardTarget | LevelerReason::CappedByLimiter => {
                targets.leveler_gain_db - self.input_gain_db
            }
            LevelerReason::NotEnoughData | LevelerReason::Off => targets.leveler_gain_db,
        };
        s.dynamics_enabled = self.dynamics_enabled;
        s.multiband = self.multiband;
        s.stereo_enabled = self.stereo_enabled;
        s.width = (self.width * targets.width).clamp(0.0, 2.0);
        s.mono_bass_hz = self.mono_bass_hz;
        s.leveler_enabled = self.leveler_enabled;
        s.limiter_enabled = self.limiter_enabled;
        s.ceiling_db = self.ceiling_dbtp;
        s.limiter_release_ms = self.limiter_release_ms;
        s.limiter_auto_release = self.limiter_auto_release;
        s.output_gain_db = self.output_gain_db;
        s.intensity = self.intensity;
        s.bypass = self.bypass;
        if let (Some(db), false) = (self.compare_gain_db, self.bypass) {
            s.bypass = true;
            s.bypass_gain_db = if db.is_finite() {
                db.clamp(-MAX_COMPARE_DB, MAX_COMPARE_DB)
            } else {
                0.0
            };
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tilt_is_straight_on_a_log_axis_through_the_pivot() {
        let curve = tilt_curve(3.0);
        for (b, gain) in curve.iter().enumerate() {
            let octaves = (bark::centre(b) / TILT_PIVOT_HZ).log2();
            let per_octave = 3.0 / (20_000.0f32 / TILT_PIVOT_HZ).log2();
            assert!((gain - octaves * per_octave).abs() < 1e-5);
        }
        assert!(curve[0] < -2.0 && curve[BANDS - 1] > 2.8);
        assert_eq!(tilt_curve(0.0), [0.0; BANDS]);
    }

    #[test]
    fn loudness_target_comes_from_the_preset_unless_overridden() {
        let mut c = Controls {
            preset: Preset::Gentle,
            ..Controls::default()
        };
        assert_eq!(c.target_loudness(), -16.0);
        assert!(c.analysis_config().target_lufs.is_nan());
        c.loudness_from_preset = false;
        c.target_lufs = -9.5;
        assert_eq!(c.target_loudness(), -9.5);
        assert_eq!(c.analysis_config().target_lufs, -9.5);
    }

    #[test]
    fn compare_bypasses_at_its_gain_unless_the_host_bypasses() {
        let t = Targets::neutral();
        let s = Controls::default().settings(&t);
        assert!(!s.bypass);
        assert_eq!(s.bypass_gain_db, 0.0);
        let mut c = Controls {
            compare_gain_db: Some(-4.5),
            ..Controls::default()
        };
        let s = c.settings(&t);
        assert!(s.bypass);
        assert_eq!(s.bypass_gain_db, -4.5);
        c.compare_gain_db = Some(60.0);
        assert_eq!(c.settings(&t).bypass_gain_db, MAX_COMPARE_DB);
        c.compare_gain_db = Some(f32::NAN);
        assert_eq!(c.settings(&t).bypass_gain_db, 0.0);
        c.bypass = true;
        let s = c.settings(&t);
        assert!(s.bypass);
        assert_eq!(s.bypass_gain_db, 0.0);
    }

    #[test]
    fn neutral_targets_and_default_controls_leave_the_dynamics_alone() {
        let s = Controls::default().settings(&Targets::neutral());
        assert_eq!(s.compressor.ratio, 1.0);
        assert_eq!(s.leveler_gain_db, 0.0);
        assert_eq!(s.eq_gains_db, [0.0; BANDS]);
        assert_eq!(s.width, 1.0);
    }

    #[test]
    fn settings_follow_the_targets_plus_the_user_tilt_and_width() {
        let mut t = Targets::neutral();
        t.eq_gains_db = [1.0; BANDS];
        t.comp_threshold_db = -20.0;
        t.comp_ratio = 2.0;
        t.leveler_gain_db = 3.5;
        t.width = 1.2;
        let c = Controls {
            tilt_db: 2.0,
            width: 0.5,
            ..Controls::default()
        };
        let s = c.settings(&t);
        let tilt = tilt_curve(2.0);
        for (gain, t) in s.eq_gains_db.iter().zip(tilt) {
            assert!((gain - (1.0 + t)).abs() < 1e-6);
        }
        assert_eq!(
            (s.compressor.threshold_db, s.compressor.ratio),
            (-20.0, 2.0)
        );
        assert_eq!(s.leveler_gain_db, 3.5);
        assert!((s.width - 0.6).abs() < 1e-6);
    }

    #[test]
    fn the_multiband_switch_reaches_the_engine() {
        let t = Targets::neutral();
        assert!(!Controls::default().settings(&t).multiband);
        let c = Controls {
            multiband: true,
            ..Controls::default()
        };
        assert!(c.settings(&t).multiband);
    }

    #[test]
    fn each_multiband_threshold_follows_its_bands_share_of_the_level() {
        let mut t = Targets::neutral();
        t.comp_threshold_db = -20.0;
        t.comp_ratio = 2.0;
        // All the energy in one low band and one high band, equally.
        t.measured.band_power = [0.0; BANDS];
        t.measured.band_power[0] = 1.0; // 20-100 Hz: the low band
        t.measured.band_power[20] = 1.0; // 6.4-7.7 kHz: the high band
        let s = Controls::default().settings(&t);
        assert!((s.bands[0].threshold_db - (-20.0 - 3.0103)).abs() < 1e-3);
        assert!((s.bands[2].threshold_db - (-20.0 - 3.0103)).abs() < 1e-3);
        // No energy in the mid band: its threshold is not moved.
        assert_eq!(s.bands[1].threshold_db, -20.0);
    }
}
