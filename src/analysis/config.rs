//! The user's choices, as one `Copy` value the plugin maps its parameters onto.

use serde::{Deserialize, Serialize};

/// What the targets move the music toward.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MasteringMode {
    /// The selected [`Preset`]'s tonal curve and loudness.
    #[default]
    Adaptive,
    /// A [`ReferenceProfile`](super::ReferenceProfile)'s curve and loudness.
    Reference,
    /// A blend of both, weighted by [`AnalysisConfig::hybrid_blend`].
    Hybrid,
}

/// The preset whose tonal curve, loudness and dynamics preferences adaptive mode aims at
/// (see [`presets`](super::presets)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Preset {
    /// Balanced modern master, -14 LUFS.
    #[default]
    Adaptive,
    /// Light touch, -16 LUFS.
    Gentle,
    /// Fuller lows, softer highs, -13 LUFS.
    Warm,
    /// Forward presence and air, -12 LUFS.
    Bright,
    /// Tight lows and transients, -14 LUFS.
    Punchy,
    /// Open dynamics and wide image, -13.5 LUFS.
    Live,
}

impl Preset {
    /// All presets in order.
    pub const ALL: [Preset; 6] = [
        Preset::Adaptive,
        Preset::Gentle,
        Preset::Warm,
        Preset::Bright,
        Preset::Punchy,
        Preset::Live,
    ];
}

/// How the analysis follows the music over time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnalysisMode {
    /// Targets keep following the music (rate-limited).
    #[default]
    Continuous,
    /// Targets converge, then lock once enough gated loudness has been collected.
    Learn,
    /// Targets stay where they are.
    Hold,
}

/// The user's choices. All fields are plain values; out-of-range values are clamped on use.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfig {
    /// Adaptive, reference or hybrid.
    pub mode: MasteringMode,
    /// Preset used in adaptive and hybrid modes.
    pub preset: Preset,
    /// Continuous, learn or hold.
    pub analysis_mode: AnalysisMode,
    /// Loudness target in LUFS; `NaN` means "use the preset's" (or the reference's).
    pub target_lufs: f32,
    /// Limiter ceiling, dBTP (typically -1).
    pub ceiling_dbtp: f32,
    /// Most gain reduction the limiter may be asked to do, dB (positive).
    pub max_limiter_gr_db: f32,
    /// Adaptive EQ: how far the music is pulled toward its corridor's centre line inside the
    /// corridor, 0..1 (what lies outside is corrected in full whenever this is above 0; 0 turns
    /// the adaptive EQ off; see [`super::corridor`]).
    pub eq_amount: f32,
    /// Largest EQ gain magnitude, dB (positive; 6 by default).
    pub eq_max_db: f32,
    /// Extra user tilt added to the target curve, dB/octave around 1 kHz.
    pub tilt_db_per_oct: f32,
    /// How much of the computed compression is applied, 0..1 (0 = ratio 1).
    pub dynamics_amount: f32,
    /// Width preference multiplying the preset's (1 = the preset's, 0 = mono, 2 = twice).
    pub width_preference: f32,
    /// Hybrid blend, 0 = all adaptive, 1 = all reference.
    pub hybrid_blend: f32,
    /// Reference matching amount for the tonal curve, 0..1.
    pub ref_tone: f32,
    /// Reference matching amount for loudness, 0..1.
    pub ref_loudness: f32,
    /// Reference matching amount for width, 0..1.
    pub ref_width: f32,
    /// Reference matching amount for dynamics, 0..1.
    pub ref_dynamics: f32,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            mode: MasteringMode::Adaptive,
            preset: Preset::Adaptive,
            analysis_mode: AnalysisMode::Continuous,
            target_lufs: f32::NAN,
            ceiling_dbtp: -1.0,
            max_limiter_gr_db: 4.0,
            eq_amount: 1.0,
            eq_max_db: 6.0,
            tilt_db_per_oct: 0.0,
            dynamics_amount: 1.0,
            width_preference: 1.0,
            hybrid_blend: 0.5,
            ref_tone: 1.0,
            ref_loudness: 1.0,
            ref_width: 1.0,
            ref_dynamics: 1.0,
        }
    }
}

impl AnalysisConfig {
    /// The loudness override, if any (`None` when `target_lufs` is NaN or not finite).
    pub fn target_override(&self) -> Option<f32> {
        self.target_lufs.is_finite().then_some(self.target_lufs)
    }
}
