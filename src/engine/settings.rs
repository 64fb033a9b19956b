//! The engine's plain settings: everything the chain needs, in engineering units, with no
//! knowledge of plugin parameters or command-line flags.

use crate::dsp::bark::BANDS;

/// One complete set of engine settings. `Copy`, so it can be handed to the audio thread whole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub input_gain_db: f32,

    pub eq_enabled: bool,
    /// The EQ request per Bark band, in dB.
    pub eq_gains_db: [f32; BANDS],

    pub dynamics_enabled: bool,
    /// Three-band compression instead of wideband.
    pub multiband: bool,
    /// The wideband compressor.
    pub compressor: CompressorSettings,
    /// The multiband compressor's low, mid and high bands.
    pub bands: [CompressorSettings; 3],

    pub stereo_enabled: bool,
    pub width: f32,
    pub mono_bass_hz: f32,

    pub leveler_enabled: bool,
    /// The loudness correction the leveler glides to, in dB.
    pub leveler_gain_db: f32,

    pub limiter_enabled: bool,
    pub ceiling_db: f32,
    pub limiter_release_ms: f32,
    pub limiter_auto_release: bool,

    pub output_gain_db: f32,
    /// Dry/wet of the whole chain, 0..1.
    pub intensity: f32,
    /// Host bypass: the output is the latency-compensated input.
    pub bypass: bool,
    /// The gain of that bypassed input, dB (0 for a host bypass; the editor's Compare sets the
    /// processed output's loudness over the input's). Glides like the other gains.
    pub bypass_gain_db: f32,
}

impl Settings {
    /// Settings under which every stage is transparent: the chain is a pure delay.
    pub fn neutral() -> Self {
        Self {
            input_gain_db: 0.0,
            eq_enabled: true,
            eq_gains_db: [0.0; BANDS],
            dynamics_enabled: true,
            multiband: false,
            compressor: CompressorSettings::neutral(),
            bands: [CompressorSettings::neutral(); 3],
            stereo_enabled: true,
            width: 1.0,
            mono_bass_hz: 0.0,
            leveler_enabled: true,
            leveler_gain_db: 0.0,
            limiter_enabled: true,
            ceiling_db: 0.0,
            limiter_release_ms: 100.0,
            limiter_auto_release: false,
            output_gain_db: 0.0,
            intensity: 1.0,
            bypass: false,
            bypass_gain_db: 0.0,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::neutral()
    }
}

/// One compressor's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompressorSettings {
    pub threshold_db: f32,
    /// Input dB over the threshold per output dB; 1 = no compression.
    pub ratio: f32,
    pub knee_db: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
}

impl CompressorSettings {
    /// A compressor that does nothing.
    pub fn neutral() -> Self {
        Self {
            threshold_db: 0.0,
            ratio: 1.0,
            knee_db: 6.0,
            attack_ms: 20.0,
            release_ms: 200.0,
        }
    }
}
