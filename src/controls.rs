//! The user's choices as plain values: what the plugin's parameters and the CLI's flags both
//! translate into. Nothing here knows about a plugin framework.

use crate::dsp::bark::{self, BANDS};
use crate::engine::Settings;

/// The tilt's pivot: the geometric middle of 20 Hz - 20 kHz.
pub const TILT_PIVOT_HZ: f32 = 632.5;

/// A spectral tilt as per-band EQ gains: `tilt_db` at 20 kHz, `-tilt_db` at 20 Hz, straight in
/// dB over log-frequency through 0 dB at the pivot.
pub fn tilt_curve(tilt_db: f32) -> [f32; BANDS] {
    let span = (20_000.0 / TILT_PIVOT_HZ).log2();
    std::array::from_fn(|b| tilt_db * (bark::centre(b) / TILT_PIVOT_HZ).log2() / span)
}

/// Which target the mastering moves toward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// Toward the chosen preset's tonal curve and loudness.
    #[default]
    Adaptive,
    /// Toward a reference track's tonal balance and loudness.
    Reference,
    /// A blend of the two.
    Hybrid,
}

/// The preset: a tonal curve, a loudness and dynamics/width preferences.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Preset {
    #[default]
    Adaptive,
    Gentle,
    Warm,
    Bright,
    Punchy,
    Live,
}

impl Preset {
    /// Every preset, in the order the plugin lists them.
    pub const ALL: [Preset; 6] = [
        Preset::Adaptive,
        Preset::Gentle,
        Preset::Warm,
        Preset::Bright,
        Preset::Punchy,
        Preset::Live,
    ];

    /// The integrated loudness this preset aims at, in LUFS.
    pub fn loudness_lufs(self) -> f32 {
        match self {
            Preset::Adaptive => -14.0,
            Preset::Gentle => -16.0,
            Preset::Warm => -13.0,
            Preset::Bright => -12.0,
            Preset::Punchy => -14.0,
            Preset::Live => -13.5,
        }
    }
}

/// How the analysis follows the music.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum AnalysisMode {
    /// Targets follow the music.
    #[default]
    Continuous,
    /// Targets converge while playing, then lock once the analysis is confident.
    Learn,
    /// Targets are frozen (and saved with the plugin state).
    Hold,
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
    /// Scales the adaptive EQ gains, 0..1.
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
        }
    }
}

impl Controls {
    /// The loudness the chain aims at, in LUFS.
    pub fn target_loudness(&self) -> f32 {
        if self.loudness_from_preset {
            self.preset.loudness_lufs()
        } else {
            self.target_lufs
        }
    }

    /// The engine settings these controls ask for. The adaptive parts (EQ curve, compression,
    /// loudness correction) come from the analysis; until it lands they stay neutral.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::neutral();
        s.input_gain_db = self.input_gain_db;
        s.eq_enabled = self.eq_enabled;
        s.eq_gains_db = tilt_curve(self.tilt_db);
        s.dynamics_enabled = self.dynamics_enabled;
        s.stereo_enabled = self.stereo_enabled;
        s.width = self.width;
        s.mono_bass_hz = self.mono_bass_hz;
        s.leveler_enabled = self.leveler_enabled;
        s.limiter_enabled = self.limiter_enabled;
        s.ceiling_db = self.ceiling_dbtp;
        s.limiter_release_ms = self.limiter_release_ms;
        s.limiter_auto_release = self.limiter_auto_release;
        s.output_gain_db = self.output_gain_db;
        s.intensity = self.intensity;
        s.bypass = self.bypass;
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
        c.loudness_from_preset = false;
        c.target_lufs = -9.5;
        assert_eq!(c.target_loudness(), -9.5);
    }
}
