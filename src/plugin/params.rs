//! The plugin's parameters: IDs, ranges and units. Smoothing happens in the engine, which
//! glides every audible change (see `engine::GAIN_GLIDE_MS`). IDs are frozen (a test pins them):
//! changing one breaks every saved DAW project and automation lane.

use std::sync::Arc;

use nice_plug::plugin::ParamValue;
use nice_plug::prelude::*;

use super::watched::Watched;
use crate::analysis::{ReferenceProfile, Targets};
use crate::controls::{self, Controls};
use crate::editor::EditorSize;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeParam {
    #[id = "adaptive"]
    Adaptive,
    #[id = "reference"]
    Reference,
    #[id = "hybrid"]
    Hybrid,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetParam {
    #[id = "adaptive"]
    Adaptive,
    #[id = "gentle"]
    Gentle,
    #[id = "warm"]
    Warm,
    #[id = "bright"]
    Bright,
    #[id = "punchy"]
    Punchy,
    #[id = "live"]
    Live,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalysisParam {
    #[id = "continuous"]
    Continuous,
    #[id = "learn"]
    Learn,
    #[id = "hold"]
    Hold,
}

/// Every parameter of Auralis, grouped as the host shows them, and the state saved beside them.
#[derive(Params)]
pub struct AuralisParams {
    /// The targets frozen by the Hold analysis mode, so a reopened project (and a bounce of it)
    /// uses them from its first sample.
    #[persist = "held-targets"]
    pub held_targets: Watched<Option<Targets>>,
    /// What Learn has learned so far (kept while learning), so that Hold holds it even after
    /// the project was reopened or the plugin re-activated at another sample rate.
    #[persist = "learned-targets"]
    pub learned_targets: Watched<Option<Targets>>,
    /// The reference track's profile for Reference and Hybrid modes.
    #[persist = "reference"]
    pub reference_profile: Watched<Option<ReferenceProfile>>,
    /// The editor's size, so a project reopens it as it was left.
    #[persist = "editor-size"]
    pub editor_size: Watched<EditorSize>,

    #[nested(group = "Mastering")]
    pub mastering: MasteringParams,
    #[nested(group = "Loudness")]
    pub loudness: LoudnessParams,
    #[nested(group = "Tone")]
    pub tone: ToneParams,
    #[nested(group = "Dynamics")]
    pub dynamics: DynamicsParams,
    #[nested(group = "Stereo")]
    pub stereo: StereoParams,
    #[nested(group = "Reference Match")]
    pub reference: ReferenceParams,
    #[nested(group = "Limiter")]
    pub limiter: LimiterParams,
    #[nested(group = "Output")]
    pub output: OutputParams,
}

#[derive(Params)]
pub struct MasteringParams {
    #[id = "mode"]
    pub mode: EnumParam<ModeParam>,
    #[id = "preset"]
    pub preset: EnumParam<PresetParam>,
    #[id = "analysis"]
    pub analysis: EnumParam<AnalysisParam>,
    #[id = "blend"]
    pub hybrid_blend: FloatParam,
    #[id = "intensity"]
    pub intensity: FloatParam,
}

#[derive(Params)]
pub struct LoudnessParams {
    #[id = "tgt_auto"]
    pub from_preset: BoolParam,
    #[id = "target"]
    pub target: FloatParam,
    #[id = "in_gain"]
    pub input_gain: FloatParam,
}

#[derive(Params)]
pub struct ToneParams {
    #[id = "eq_on"]
    pub enabled: BoolParam,
    #[id = "eq_amt"]
    pub amount: FloatParam,
    #[id = "tilt"]
    pub tilt: FloatParam,
}

#[derive(Params)]
pub struct DynamicsParams {
    #[id = "dyn_on"]
    pub enabled: BoolParam,
    #[id = "dyn_amt"]
    pub amount: FloatParam,
    #[id = "multiband"]
    pub multiband: BoolParam,
}

#[derive(Params)]
pub struct StereoParams {
    #[id = "st_on"]
    pub enabled: BoolParam,
    #[id = "width"]
    pub width: FloatParam,
    #[id = "mono_bass"]
    pub mono_bass: FloatParam,
}

#[derive(Params)]
pub struct ReferenceParams {
    #[id = "ref_tone"]
    pub tone: FloatParam,
    #[id = "ref_loud"]
    pub loudness: FloatParam,
    #[id = "ref_width"]
    pub width: FloatParam,
    #[id = "ref_dyn"]
    pub dynamics: FloatParam,
}

#[derive(Params)]
pub struct LimiterParams {
    #[id = "lev_on"]
    pub leveler: BoolParam,
    #[id = "lim_on"]
    pub enabled: BoolParam,
    #[id = "ceiling"]
    pub ceiling: FloatParam,
    #[id = "lim_rel"]
    pub release: FloatParam,
    #[id = "lim_auto"]
    pub auto_release: BoolParam,
    #[id = "max_gr"]
    pub max_limiting: FloatParam,
}

#[derive(Params)]
pub struct OutputParams {
    #[id = "out_gain"]
    pub gain: FloatParam,
    #[id = "bypass"]
    pub bypass: BoolParam,
}

/// Range of the target loudness, in LUFS.
pub fn target_loudness_range() -> FloatRange {
    FloatRange::Linear {
        min: -30.0,
        max: -6.0,
    }
}

/// Range of the input trim, in dB.
pub fn input_gain_range() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 24.0,
    }
}

/// Range of the EQ tilt, in dB at the spectrum's ends.
pub fn tilt_range() -> FloatRange {
    FloatRange::Linear {
        min: -6.0,
        max: 6.0,
    }
}

/// Range of the stereo width, in percent (100 % = unchanged).
pub fn width_range() -> FloatRange {
    FloatRange::Linear {
        min: 0.0,
        max: 200.0,
    }
}

/// Range of the mono-bass frequency, in Hz (0 = off).
pub fn mono_bass_range() -> FloatRange {
    FloatRange::Skewed {
        min: 0.0,
        max: 500.0,
        factor: FloatRange::skew_factor(-1.0),
    }
}

/// Range of the true-peak ceiling, in dBTP.
pub fn ceiling_range() -> FloatRange {
    FloatRange::Linear {
        min: -6.0,
        max: 0.0,
    }
}

/// Range of the limiter release, in ms.
pub fn release_range() -> FloatRange {
    FloatRange::Skewed {
        min: 1.0,
        max: 1000.0,
        factor: FloatRange::skew_factor(-2.0),
    }
}

/// Range of the most limiting the leveler may ask for, in dB.
pub fn max_limiting_range() -> FloatRange {
    FloatRange::Linear {
        min: 0.0,
        max: 12.0,
    }
}

/// Range of the output gain, in dB. It stops at 0 dB so the output never exceeds the ceiling.
pub fn output_gain_range() -> FloatRange {
    FloatRange::Linear {
        min: -24.0,
        max: 0.0,
    }
}

/// A 0-100 % parameter stored as a 0..1 fraction.
fn percent(name: &str, default: f32) -> FloatParam {
    FloatParam::new(name, default, FloatRange::Linear { min: 0.0, max: 1.0 })
        .with_unit(" %")
        .with_step_size(0.001)
        .with_value_to_string(formatters::v2s_f32_percentage(1))
        .with_string_to_value(formatters::s2v_f32_percentage())
}

/// A parameter in decibels (or a decibel-like unit) with a numeric text field.
fn decibels(name: &str, default: f32, range: FloatRange, unit: &'static str) -> FloatParam {
    FloatParam::new(name, default, range)
        .with_unit(unit)
        .with_step_size(0.1)
        .with_value_to_string(formatters::v2s_f32_rounded(1))
}

/// What nice-plug takes to turn typed text into a plain value.
type TextToValue = Arc<dyn Fn(&str) -> Option<f32> + Send + Sync>;

/// Reads a frequency typed as "120", "120 Hz" or "off" (0 Hz, which switches mono bass off).
fn hz_or_off_from_text() -> TextToValue {
    Arc::new(move |s| {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            Some(0.0)
        } else {
            s.trim_end_matches(|c: char| c.is_alphabetic() || c == ' ')
                .parse()
                .ok()
        }
    })
}

impl Default for AuralisParams {
    fn default() -> Self {
        let d = Controls::default();
        Self {
            held_targets: Watched::new(None),
            learned_targets: Watched::new(None),
            reference_profile: Watched::new(None),
            editor_size: Watched::new(EditorSize::default()),
            mastering: MasteringParams {
                mode: EnumParam::new("Mode", ModeParam::Adaptive),
                preset: EnumParam::new("Preset", PresetParam::Adaptive),
                analysis: EnumParam::new("Analysis", AnalysisParam::Continuous),
                hybrid_blend: percent("Hybrid Blend", d.hybrid_blend),
                intensity: percent("Intensity", d.intensity),
            },
            loudness: LoudnessParams {
                from_preset: BoolParam::new("Preset Loudness", d.loudness_from_preset),
                target: decibels(
                    "Target Loudness",
                    d.target_lufs,
                    target_loudness_range(),
                    " LUFS",
                ),
                input_gain: decibels("Input Gain", d.input_gain_db, input_gain_range(), " dB"),
            },
            tone: ToneParams {
                enabled: BoolParam::new("EQ", d.eq_enabled),
                amount: percent("EQ Amount", d.eq_amount),
                tilt: decibels("Tilt", d.tilt_db, tilt_range(), " dB"),
            },
            dynamics: DynamicsParams {
                enabled: BoolParam::new("Dynamics", d.dynamics_enabled),
                amount: percent("Dynamics Amount", d.dynamics_amount),
                multiband: BoolParam::new("Multiband", d.multiband),
            },
            stereo: StereoParams {
                enabled: BoolParam::new("Stereo", d.stereo_enabled),
                width: FloatParam::new("Width", d.width * 100.0, width_range())
                    .with_unit(" %")
                    .with_step_size(0.1)
                    .with_value_to_string(formatters::v2s_f32_rounded(1)),
                mono_bass: FloatParam::new("Mono Bass", d.mono_bass_hz, mono_bass_range())
                    .with_unit(" Hz")
                    .with_step_size(1.0)
                    .with_value_to_string(formatters::v2s_f32_rounded(0))
                    .with_string_to_value(hz_or_off_from_text()),
            },
            reference: ReferenceParams {
                tone: percent("Match Tone", d.match_tone),
                loudness: percent("Match Loudness", d.match_loudness),
                width: percent("Match Width", d.match_width),
                dynamics: percent("Match Dynamics", d.match_dynamics),
            },
            limiter: LimiterParams {
                leveler: BoolParam::new("Leveler", d.leveler_enabled),
                enabled: BoolParam::new("Limiter", d.limiter_enabled),
                ceiling: decibels("Ceiling", d.ceiling_dbtp, ceiling_range(), " dBTP"),
                release: FloatParam::new("Release", d.limiter_release_ms, release_range())
                    .with_unit(" ms")
                    .with_step_size(0.1)
                    .with_value_to_string(formatters::v2s_f32_rounded(1)),
                auto_release: BoolParam::new("Auto Release", d.limiter_auto_release),
                max_limiting: decibels(
                    "Max Limiting",
                    d.max_limiting_db,
                    max_limiting_range(),
                    " dB",
                ),
            },
            output: OutputParams {
                gain: decibels("Output Gain", d.output_gain_db, output_gain_range(), " dB"),
                bypass: BoolParam::new("Bypass", false).make_bypass(),
            },
        }
    }
}

impl From<ModeParam> for controls::Mode {
    fn from(m: ModeParam) -> Self {
        match m {
            ModeParam::Adaptive => controls::Mode::Adaptive,
            ModeParam::Reference => controls::Mode::Reference,
            ModeParam::Hybrid => controls::Mode::Hybrid,
        }
    }
}

impl From<PresetParam> for controls::Preset {
    fn from(p: PresetParam) -> Self {
        match p {
            PresetParam::Adaptive => controls::Preset::Adaptive,
            PresetParam::Gentle => controls::Preset::Gentle,
            PresetParam::Warm => controls::Preset::Warm,
            PresetParam::Bright => controls::Preset::Bright,
            PresetParam::Punchy => controls::Preset::Punchy,
            PresetParam::Live => controls::Preset::Live,
        }
    }
}

impl From<AnalysisParam> for controls::AnalysisMode {
    fn from(a: AnalysisParam) -> Self {
        match a {
            AnalysisParam::Continuous => controls::AnalysisMode::Continuous,
            AnalysisParam::Learn => controls::AnalysisMode::Learn,
            AnalysisParam::Hold => controls::AnalysisMode::Hold,
        }
    }
}

impl AuralisParams {
    /// The current parameter values as plain controls. Smoothed parameters report their target:
    /// the engine glides to it with its own smoothers.
    pub fn controls(&self) -> Controls {
        let m = &self.mastering;
        let l = &self.limiter;
        Controls {
            mode: m.mode.value().into(),
            preset: m.preset.value().into(),
            analysis: m.analysis.value().into(),
            hybrid_blend: m.hybrid_blend.value(),
            intensity: m.intensity.value(),
            loudness_from_preset: self.loudness.from_preset.value(),
            target_lufs: self.loudness.target.value(),
            input_gain_db: self.loudness.input_gain.value(),
            eq_enabled: self.tone.enabled.value(),
            eq_amount: self.tone.amount.value(),
            tilt_db: self.tone.tilt.value(),
            dynamics_enabled: self.dynamics.enabled.value(),
            dynamics_amount: self.dynamics.amount.value(),
            multiband: self.dynamics.multiband.value(),
            stereo_enabled: self.stereo.enabled.value(),
            width: self.stereo.width.value() / 100.0,
            mono_bass_hz: self.stereo.mono_bass.value(),
            match_tone: self.reference.tone.value(),
            match_loudness: self.reference.loudness.value(),
            match_width: self.reference.width.value(),
            match_dynamics: self.reference.dynamics.value(),
            leveler_enabled: l.leveler.value(),
            limiter_enabled: l.enabled.value(),
            ceiling_dbtp: l.ceiling.value(),
            limiter_release_ms: l.release.value(),
            limiter_auto_release: l.auto_release.value(),
            max_limiting_db: l.max_limiting.value(),
            output_gain_db: self.output.gain.value(),
            bypass: self.output.bypass.value(),
            // The editor's Compare is no parameter: the plugin sets it from the editor.
            compare_gain_db: None,
        }
    }
}

/// The menu entry of enum `E` whose control is `value`, by its frozen ID as nice-plug saves it.
fn menu_id<E: Enum, C: PartialEq>(value: C, control: impl Fn(E) -> C) -> &'static str {
    let index = (0..E::variants().len())
        .find(|&i| control(E::from_index(i)) == value)
        .expect("every control has a menu entry");
    E::ids().expect("menus have frozen IDs")[index]
}

/// The value nice-plug saves for the parameter `id` of an instance whose parameters read as
/// `c` (the inverse of [`AuralisParams::controls`]; a test checks both directions on every
/// parameter). `None` for an ID Auralis does not have.
pub fn saved_value(id: &str, c: &Controls) -> Option<ParamValue> {
    use ParamValue::{Bool, F32};
    let menu = |id: &str| Some(ParamValue::String(id.to_owned()));
    match id {
        "mode" => menu(menu_id::<ModeParam, _>(c.mode, controls::Mode::from)),
        "preset" => menu(menu_id::<PresetParam, _>(c.preset, controls::Preset::from)),
        "analysis" => menu(menu_id::<AnalysisParam, _>(
            c.analysis,
            controls::AnalysisMode::from,
        )),
        "blend" => Some(F32(c.hybrid_blend)),
        "intensity" => Some(F32(c.intensity)),
        "tgt_auto" => Some(Bool(c.loudness_from_preset)),
        "target" => Some(F32(c.target_lufs)),
        "in_gain" => Some(F32(c.input_gain_db)),
        "eq_on" => Some(Bool(c.eq_enabled)),
        "eq_amt" => Some(F32(c.eq_amount)),
        "tilt" => Some(F32(c.tilt_db)),
        "dyn_on" => Some(Bool(c.dynamics_enabled)),
        "dyn_amt" => Some(F32(c.dynamics_amount)),
        "multiband" => Some(Bool(c.multiband)),
        "st_on" => Some(Bool(c.stereo_enabled)),
        "width" => Some(F32(c.width * 100.0)),
        "mono_bass" => Some(F32(c.mono_bass_hz)),
        "ref_tone" => Some(F32(c.match_tone)),
        "ref_loud" => Some(F32(c.match_loudness)),
        "ref_width" => Some(F32(c.match_width)),
        "ref_dyn" => Some(F32(c.match_dynamics)),
        "lev_on" => Some(Bool(c.leveler_enabled)),
        "lim_on" => Some(Bool(c.limiter_enabled)),
        "ceiling" => Some(F32(c.ceiling_dbtp)),
        "lim_rel" => Some(F32(c.limiter_release_ms)),
        "lim_auto" => Some(Bool(c.limiter_auto_release)),
        "max_gr" => Some(F32(c.max_limiting_db)),
        "out_gain" => Some(F32(c.output_gain_db)),
        "bypass" => Some(Bool(c.bypass)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The frozen parameter IDs. Adding a parameter appends here; changing or removing one
    /// breaks saved projects and must never happen.
    const FROZEN_IDS: [&str; 29] = [
        "mode",
        "preset",
        "analysis",
        "blend",
        "intensity",
        "tgt_auto",
        "target",
        "in_gain",
        "eq_on",
        "eq_amt",
        "tilt",
        "dyn_on",
        "dyn_amt",
        "multiband",
        "st_on",
        "width",
        "mono_bass",
        "ref_tone",
        "ref_loud",
        "ref_width",
        "ref_dyn",
        "lev_on",
        "lim_on",
        "ceiling",
        "lim_rel",
        "lim_auto",
        "max_gr",
        "out_gain",
        "bypass",
    ];

    #[test]
    fn parameter_ids_are_frozen() {
        let params = AuralisParams::default();
        let ids: Vec<String> = params
            .param_map()
            .into_iter()
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(ids, FROZEN_IDS.map(String::from).to_vec());
    }

    /// Sets the parameter `ptr` points to as nice-plug does when it loads a state.
    ///
    /// # Safety
    /// `ptr` must point to a live parameter.
    unsafe fn load_value(ptr: ParamPtr, value: &ParamValue) {
        use nice_plug::params::InternalParamMut;
        unsafe {
            let known = match (ptr, value) {
                (ParamPtr::FloatParam(p), ParamValue::F32(v)) => {
                    (*p)._internal_set_plain_value(*v);
                    true
                }
                (ParamPtr::BoolParam(p), ParamValue::Bool(v)) => {
                    (*p)._internal_set_plain_value(*v);
                    true
                }
                (ParamPtr::EnumParam(p), ParamValue::String(id)) => (*p).set_from_id(id),
                _ => false,
            };
            assert!(known, "{value:?} cannot be loaded into {ptr:?}");
        }
    }

    /// [`saved_value`] is the inverse of [`AuralisParams::controls`] on every parameter: the
    /// values saved for controls that all differ from the defaults, loaded into a new instance,
    /// read back as those controls. (No `..Default::default()`: a new control must be added
    /// here.)
    #[test]
    fn saved_values_load_back_as_the_same_controls() {
        let c = Controls {
            mode: controls::Mode::Hybrid,
            preset: controls::Preset::Punchy,
            analysis: controls::AnalysisMode::Hold,
            hybrid_blend: 0.25,
            intensity: 0.75,
            loudness_from_preset: false,
            target_lufs: -12.5,
            input_gain_db: -3.0,
            eq_enabled: false,
            eq_amount: 0.4,
            tilt_db: 1.5,
            dynamics_enabled: false,
            dynamics_amount: 0.8,
            multiband: true,
            stereo_enabled: false,
            width: 1.5,
            mono_bass_hz: 120.0,
            match_tone: 0.3,
            match_loudness: 0.6,
            match_width: 0.9,
            match_dynamics: 0.1,
            leveler_enabled: false,
            limiter_enabled: false,
            ceiling_dbtp: -0.5,
            limiter_release_ms: 250.0,
            limiter_auto_release: false,
            max_limiting_db: 6.0,
            output_gain_db: -2.0,
            bypass: true,
            compare_gain_db: None,
        };
        let params = AuralisParams::default();
        for (id, ptr, _) in params.param_map() {
            let value = saved_value(&id, &c).unwrap_or_else(|| panic!("{id}: no saved value"));
            // SAFETY: `ptr` points into `params`, alive for the whole test.
            unsafe { load_value(ptr, &value) };
        }
        assert_eq!(params.controls(), c);
        assert!(saved_value("no-such-parameter", &c).is_none());
    }

    #[test]
    fn default_parameters_give_default_controls() {
        assert_eq!(AuralisParams::default().controls(), Controls::default());
    }

    #[test]
    fn values_print_with_their_units() {
        let p = AuralisParams::default();
        let text = |param: &FloatParam, v: f32| {
            param.normalized_value_to_string(param.preview_normalized(v), true)
        };
        assert_eq!(text(&p.loudness.target, -14.0), "-14.0 LUFS");
        assert_eq!(text(&p.limiter.ceiling, -1.0), "-1.0 dBTP");
        assert_eq!(text(&p.limiter.release, 100.0), "100.0 ms");
        assert_eq!(text(&p.mastering.intensity, 0.5), "50.0 %");
        assert_eq!(text(&p.stereo.mono_bass, 0.0), "0 Hz");
        assert_eq!(text(&p.stereo.mono_bass, 120.0), "120 Hz");
        assert_eq!(text(&p.limiter.max_limiting, 4.0), "4.0 dB");
    }

    #[test]
    fn typed_values_parse_back() {
        let p = AuralisParams::default();
        let parse = |param: &FloatParam, s: &str| {
            param
                .string_to_normalized_value(s)
                .map(|n| param.preview_plain(n))
        };
        assert_eq!(parse(&p.mastering.intensity, "25%"), Some(0.25));
        assert_eq!(parse(&p.stereo.mono_bass, "off"), Some(0.0));
        assert!((parse(&p.stereo.mono_bass, "150 Hz").unwrap() - 150.0).abs() < 0.01);
        assert!((parse(&p.limiter.ceiling, "-0.3").unwrap() + 0.3).abs() < 1e-6);
    }
}
