//! Loading a saved state defensively. nice-plug parses the blob into a [`PluginState`] and hands
//! it to [`Plugin::filter_state`](nice_plug::prelude::Plugin::filter_state) before applying it;
//! [`repair`] runs there and makes every entry one that loads as the user would expect:
//!
//! - a parameter that is missing, of the wrong type, not finite or an unknown menu entry takes
//!   its default (nice-plug alone would keep whatever the instance held before);
//! - an unknown parameter (a newer Auralis's) is dropped;
//! - a persisted field (held targets, reference profile) that does not parse, or holds numbers a
//!   float cannot carry, is cleared to its default (none); a readable one is clamped to the
//!   ranges the analysis itself produces;
//! - a state written by a newer Auralis loads what this version understands.
//!
//! Each repair is logged with its reason (`nice_warn!`, in release builds too). A blob that is not
//! a JSON state at all (empty, truncated, garbage) never reaches this point: nice-plug refuses it
//! and the host keeps the instance as it was (its defaults for a new one); nice-plug logs the
//! parse error in debug builds, and the CLAP/VST3 call returns failure to the host.
//!
//! The format version is the Auralis version that wrote the state ([`PluginState::version`]):
//! today's format is the first, so nothing needs migrating yet.
//!
//! The other way, [`saved_state`] makes the state an instance with given controls and saved
//! fields would save (what `auralis learn` writes into presets), and [`to_json`] and
//! [`clap_stream`] frame it as nice-plug's VST3 and CLAP wrappers do.

use nice_plug::params::internals::ParamPtr;
use nice_plug::params::{Param, Params};
use nice_plug::plugin::{ParamValue, Plugin, PluginState};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::params::{self, AuralisParams};
use super::Auralis;
use crate::analysis::{ReferenceProfile, Targets};
use crate::controls::Controls;
use crate::editor::EditorSize;
use crate::learn::calibration;

/// Key of the held targets among the persisted fields.
pub const HELD_TARGETS_KEY: &str = "held-targets";
/// Key of what Learn has learned so far among the persisted fields.
pub const LEARNED_TARGETS_KEY: &str = "learned-targets";
/// Key of the reference profile among the persisted fields.
pub const REFERENCE_KEY: &str = "reference";
/// Key of the editor's size among the persisted fields.
pub const EDITOR_SIZE_KEY: &str = "editor-size";
/// Largest editor side kept from a state, logical pixels.
const MAX_EDITOR_SIDE: u32 = 16_384;
/// Largest magnitude accepted for any number inside a persisted field: far beyond any real
/// measurement (dB, LUFS, ratios), and far from where `f32` overflows.
const MAX_FIELD_MAGNITUDE: f64 = 1.0e6;
/// Largest leveler gain held targets may carry, dB: the analysis asks for at most 24 dB either
/// way (see `analysis::targets`), and calibrating a whole file's targets (`auralis learn`, the
/// command's master) moves that by up to [`calibration::MAX_CORRECTION_DB`] more: a mix at
/// -42 LUFS needs some 28 dB to reach -14 LUFS.
const MAX_LEVELER_DB: f32 = 24.0 + calibration::MAX_CORRECTION_DB;
/// Compressor settings a held target may carry.
const MAX_COMP_RATIO: f32 = 20.0;
const MIN_COMP_THRESHOLD_DB: f32 = -120.0;

/// Makes `state` safe and complete to load (see the module's documentation). Returns what was
/// repaired, one reason per entry; each is also logged.
pub fn repair(state: &mut PluginState) -> Vec<String> {
    let mut reasons = Vec::new();
    let ours = env!("CARGO_PKG_VERSION");
    if is_newer(&state.version, ours) {
        reasons.push(format!(
            "state written by Auralis {} (this is {ours}): loading what this version understands",
            state.version
        ));
    }
    repair_params(state, &mut reasons);
    repair_field::<Targets>(state, HELD_TARGETS_KEY, clamp_targets, &mut reasons);
    repair_field::<Targets>(state, LEARNED_TARGETS_KEY, clamp_targets, &mut reasons);
    repair_field::<ReferenceProfile>(state, REFERENCE_KEY, |_| {}, &mut reasons);
    repair_editor_size(state, &mut reasons);
    for reason in &reasons {
        nice_plug::nice_warn!("Auralis state: {reason}");
    }
    reasons
}

/// The state nice-plug saves for an instance whose parameters read as `controls`, holding
/// `held` targets and the `reference` profile (nothing learned, the editor at its default
/// size): every parameter of [`AuralisParams`] by its ID, every persisted field as the
/// parameters serialise it, and the plugin's version, as nice-plug's `serialize_object` builds
/// them.
pub fn saved_state(
    controls: &Controls,
    held: Option<Targets>,
    reference: Option<ReferenceProfile>,
) -> PluginState {
    let instance = AuralisParams::default();
    instance.held_targets.set(held);
    instance.reference_profile.set(reference);
    let params = instance
        .param_map()
        .into_iter()
        .map(|(id, _, _)| {
            let value = params::saved_value(&id, controls)
                .unwrap_or_else(|| panic!("parameter {id:?} has no saved value"));
            (id, value)
        })
        .collect();
    PluginState {
        version: Auralis::VERSION.to_owned(),
        params,
        fields: instance.serialize_fields(),
    }
}

/// The values in `state` that its parameters cannot hold: a host moving such a parameter, or
/// showing it, would see its range's end instead. One line per value, naming the parameter.
pub fn out_of_range(state: &PluginState) -> Vec<String> {
    let instance = AuralisParams::default();
    let mut found = Vec::new();
    for (id, ptr, _) in instance.param_map() {
        if let (ParamPtr::FloatParam(p), Some(ParamValue::F32(v))) = (ptr, state.params.get(&id)) {
            // SAFETY: `p` points into `instance`, alive for this whole function.
            let (name, unit, lo, hi) = unsafe {
                (
                    (*p).name(),
                    (*p).unit(),
                    (*p).preview_plain(0.0),
                    (*p).preview_plain(1.0),
                )
            };
            if !(lo..=hi).contains(v) {
                found.push(format!(
                    "{name} {v}{unit} is outside the plugin's range, {lo}{unit} to {hi}{unit}"
                ));
            }
        }
    }
    found
}

/// The state as nice-plug's VST3 `IComponent::getState` writes it: the JSON, nothing around it
/// (Auralis builds nice-plug without its `zstd` feature).
pub fn to_json(state: &PluginState) -> Vec<u8> {
    serde_json::to_vec(state).expect("a plugin state serialises")
}

/// The state as nice-plug's CLAP `state.save` writes it to the stream: the JSON's length as 8
/// little-endian bytes (CLAP streams do not say how long they are), then the JSON.
pub fn clap_stream(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

fn repair_params(state: &mut PluginState, reasons: &mut Vec<String>) {
    let defaults = AuralisParams::default();
    let map = defaults.param_map();
    state.params.retain(|id, _| {
        let known = map.iter().any(|(known, _, _)| known == id);
        if !known {
            reasons.push(format!("unknown parameter {id:?} ignored"));
        }
        known
    });
    for (id, ptr, _) in &map {
        // SAFETY: `ptr` points into `defaults`, alive for this whole function.
        let default = unsafe { default_value(*ptr) };
        match state.params.get(id) {
            None => {
                reasons.push(format!("parameter {id:?} missing: default"));
                state.params.insert(id.clone(), default);
            }
            Some(value) => {
                // SAFETY: as above.
                if let Err(why) = unsafe { check_value(*ptr, value) } {
                    reasons.push(format!("parameter {id:?}: {why}: default"));
                    state.params.insert(id.clone(), default);
                }
            }
        }
    }
}

/// The default of the parameter `ptr` points to, as nice-plug saves it.
///
/// # Safety
/// `ptr` must point to a live parameter.
unsafe fn default_value(ptr: ParamPtr) -> ParamValue {
    unsafe {
        match ptr {
            ParamPtr::FloatParam(p) => ParamValue::F32((*p).default_plain_value()),
            ParamPtr::IntParam(p) => ParamValue::I32((*p).default_plain_value()),
            ParamPtr::BoolParam(p) => ParamValue::Bool((*p).default_plain_value()),
            ParamPtr::EnumParam(p) => match (*p).unmodulated_plain_id() {
                Some(id) => ParamValue::String(id.to_owned()),
                None => ParamValue::I32((*p).default_plain_value()),
            },
        }
    }
}

/// Whether nice-plug can apply `value` to the parameter `ptr` points to.
///
/// # Safety
/// `ptr` must point to a live parameter (of a throwaway parameter set: enums are probed by
/// setting them).
unsafe fn check_value(ptr: ParamPtr, value: &ParamValue) -> Result<(), String> {
    unsafe {
        match (ptr, value) {
            (ParamPtr::FloatParam(_), ParamValue::F32(v)) if !v.is_finite() => {
                Err(format!("{v} is not a finite number"))
            }
            (ParamPtr::FloatParam(_), ParamValue::F32(_))
            | (ParamPtr::IntParam(_), ParamValue::I32(_))
            | (ParamPtr::BoolParam(_), ParamValue::Bool(_)) => Ok(()),
            (ParamPtr::EnumParam(p), ParamValue::I32(i)) => {
                if (0..(*p).len() as i32).contains(i) {
                    Ok(())
                } else {
                    Err(format!("no menu entry {i}"))
                }
            }
            (ParamPtr::EnumParam(p), ParamValue::String(id)) => {
                if (*p).set_from_id(id) {
                    Ok(())
                } else {
                    Err(format!("no menu entry {id:?}"))
                }
            }
            (_, value) => Err(format!("{value:?} is of the wrong type")),
        }
    }
}

/// The editor's size: missing (a state from before the editor) keeps the instance's; unreadable
/// takes the default; readable is brought within the sizes the layout works in.
fn repair_editor_size(state: &mut PluginState, reasons: &mut Vec<String>) {
    let Some(text) = state.fields.get(EDITOR_SIZE_KEY) else {
        return;
    };
    let size = match serde_json::from_str::<EditorSize>(text) {
        Ok(size) => {
            let mut kept = size.clamped();
            kept.width = kept.width.min(MAX_EDITOR_SIDE);
            kept.height = kept.height.min(MAX_EDITOR_SIDE);
            if kept != size {
                reasons.push(format!(
                    "{EDITOR_SIZE_KEY} {}x{} out of range: {}x{}",
                    size.width, size.height, kept.width, kept.height
                ));
            }
            kept
        }
        Err(e) => {
            reasons.push(format!("{EDITOR_SIZE_KEY} unreadable ({e}): default"));
            EditorSize::default()
        }
    };
    let text = serde_json::to_string(&size).expect("a size serialises");
    state.fields.insert(EDITOR_SIZE_KEY.to_owned(), text);
}

/// Checks the persisted field `key` holding an `Option<T>`: unreadable → none (the default),
/// readable → `clamp`ed; missing → none.
fn repair_field<T>(
    state: &mut PluginState,
    key: &str,
    clamp: impl Fn(&mut T),
    reasons: &mut Vec<String>,
) where
    T: DeserializeOwned + Serialize,
{
    let none = || serde_json::to_string(&None::<T>).expect("null serialises");
    let Some(text) = state.fields.get(key) else {
        reasons.push(format!("{key} missing: none"));
        state.fields.insert(key.to_owned(), none());
        return;
    };
    match parse_field::<T>(text) {
        Ok(Some(mut value)) => {
            clamp(&mut value);
            match serde_json::to_string(&Some(value)) {
                Ok(text) => {
                    state.fields.insert(key.to_owned(), text);
                }
                Err(e) => {
                    reasons.push(format!("{key} cannot be stored ({e}): none"));
                    state.fields.insert(key.to_owned(), none());
                }
            }
        }
        Ok(None) => {}
        Err(why) => {
            reasons.push(format!("{key} unreadable ({why}): none"));
            state.fields.insert(key.to_owned(), none());
        }
    }
}

fn parse_field<T: DeserializeOwned>(text: &str) -> Result<Option<T>, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(x) = largest_number(&value).filter(|x| x.is_nan() || *x > MAX_FIELD_MAGNITUDE) {
        return Err(format!("a number out of range ({x:e})"));
    }
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// The largest magnitude of any number in `value` (NaN if one is not finite).
fn largest_number(value: &serde_json::Value) -> Option<f64> {
    use serde_json::Value;
    match value {
        Value::Number(n) => Some(n.as_f64().map_or(f64::NAN, f64::abs)),
        Value::Array(items) => items.iter().filter_map(largest_number).reduce(max_nan),
        Value::Object(map) => map.values().filter_map(largest_number).reduce(max_nan),
        _ => None,
    }
}

fn max_nan(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Keeps held targets inside the ranges the analysis produces, so a hand-edited or damaged
/// project cannot drive the chain anywhere the analysis never would.
fn clamp_targets(t: &mut Targets) {
    t.leveler_gain_db = t.leveler_gain_db.clamp(-MAX_LEVELER_DB, MAX_LEVELER_DB);
    t.comp_ratio = t.comp_ratio.clamp(1.0, MAX_COMP_RATIO);
    t.comp_threshold_db = t.comp_threshold_db.clamp(MIN_COMP_THRESHOLD_DB, 0.0);
    t.width = t.width.clamp(0.0, 2.0);
    t.confidence = t.confidence.clamp(0.0, 1.0);
}

/// Whether version `a` is newer than `b` (dotted numbers; anything unparsable is not newer).
fn is_newer(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u64>> {
        v.split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().ok())
            .collect()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a > b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved_defaults() -> PluginState {
        let mut state = PluginState {
            version: env!("CARGO_PKG_VERSION").into(),
            params: Default::default(),
            fields: Default::default(),
        };
        assert!(
            !repair(&mut state).is_empty(),
            "an empty state needs repairs"
        );
        state
    }

    #[test]
    fn a_complete_state_needs_no_repair() {
        let mut state = saved_defaults();
        assert_eq!(repair(&mut state), Vec::<String>::new());
        assert_eq!(
            state.params.len(),
            AuralisParams::default().param_map().len()
        );
    }

    #[test]
    fn bad_entries_take_their_defaults_and_readable_ones_stay() {
        let mut state = saved_defaults();
        state
            .params
            .insert("out_gain".into(), ParamValue::F32(f32::INFINITY));
        state
            .params
            .insert("mode".into(), ParamValue::String("nope".into()));
        state.params.insert("bypass".into(), ParamValue::F32(1.0));
        state.params.insert("width".into(), ParamValue::F32(1.5));
        state
            .params
            .insert("from-the-future".into(), ParamValue::I32(3));
        state
            .fields
            .insert(HELD_TARGETS_KEY.into(), "{\"leveler_gain_db\":".into());
        let reasons = repair(&mut state);
        assert_eq!(reasons.len(), 5, "{reasons:?}");
        assert!(!state.params.contains_key("from-the-future"));
        assert_eq!(state.fields[HELD_TARGETS_KEY], "null");
        assert!(matches!(state.params["width"], ParamValue::F32(w) if w == 1.5));
    }

    /// A quiet mix's calibrated targets (more than the analysis's 24 dB) load as learned.
    #[test]
    fn a_quiet_mixs_calibrated_leveler_gain_is_kept() {
        let mut t = Targets::neutral();
        t.leveler_gain_db = 29.25;
        let mut state = saved_state(&Controls::default(), Some(t), None);
        assert!(repair(&mut state).is_empty());
        let held: Option<Targets> = serde_json::from_str(&state.fields[HELD_TARGETS_KEY]).unwrap();
        assert_eq!(held, Some(t));
    }

    #[test]
    fn held_targets_are_clamped_and_huge_numbers_refused() {
        let mut t = Targets::neutral();
        t.leveler_gain_db = 1.0e5;
        let mut state = saved_defaults();
        state.fields.insert(
            HELD_TARGETS_KEY.into(),
            serde_json::to_string(&Some(t)).unwrap(),
        );
        assert!(repair(&mut state).is_empty());
        let held: Option<Targets> = serde_json::from_str(&state.fields[HELD_TARGETS_KEY]).unwrap();
        assert_eq!(held.unwrap().leveler_gain_db, MAX_LEVELER_DB);

        let text = serde_json::to_string(&Some(t))
            .unwrap()
            .replace("100000.0", "1e39");
        state.fields.insert(HELD_TARGETS_KEY.into(), text);
        assert_eq!(repair(&mut state).len(), 1);
        assert_eq!(state.fields[HELD_TARGETS_KEY], "null");
    }

    /// The state saved for the default controls is the one a new instance saves: the repair
    /// (which fills in nice-plug's own defaults) finds nothing to change and nothing missing.
    #[test]
    fn the_saved_state_of_default_controls_is_a_new_instances() {
        let mut state = saved_state(&Controls::default(), None, None);
        let before = to_json(&state);
        assert_eq!(repair(&mut state), Vec::<String>::new());
        assert_eq!(to_json(&state), before);
        let text = String::from_utf8(before).unwrap();
        assert!(text.starts_with(&format!("{{\"version\":\"{}\"", Auralis::VERSION)));
        assert!(text.contains("\"analysis\":{\"string\":\"continuous\"}"));
        assert!(text.contains("\"held-targets\":\"null\""));
    }

    /// Held targets and the reference travel in their persisted fields as JSON strings.
    #[test]
    fn the_saved_state_holds_the_targets_and_the_controls() {
        let mut t = Targets::neutral();
        t.leveler_gain_db = 7.25;
        let controls = Controls {
            analysis: crate::controls::AnalysisMode::Hold,
            target_lufs: -12.5,
            ..Controls::default()
        };
        let state = saved_state(&controls, Some(t), None);
        let held: Option<Targets> = serde_json::from_str(&state.fields[HELD_TARGETS_KEY]).unwrap();
        assert_eq!(held, Some(t));
        assert!(matches!(&state.params["analysis"], ParamValue::String(s) if s == "hold"));
        assert!(matches!(state.params["target"], ParamValue::F32(v) if v == -12.5));
        let stream = clap_stream(&to_json(&state));
        assert_eq!(stream[..8], (stream.len() as u64 - 8).to_le_bytes());
    }

    #[test]
    fn values_the_parameters_cannot_hold_are_named() {
        let controls = Controls {
            target_lufs: -35.0,
            ..Controls::default()
        };
        assert!(out_of_range(&saved_state(&Controls::default(), None, None)).is_empty());
        let found = out_of_range(&saved_state(&controls, None, None));
        assert_eq!(
            found,
            ["Target Loudness -35 LUFS is outside the plugin's range, -30 LUFS to -6 LUFS"]
        );
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(is_newer("0.10.0", "0.9.3"));
        assert!(is_newer("1.0.0", "0.1.0"));
        assert!(!is_newer("0.1.0", "0.1.0"));
        assert!(!is_newer("", "0.1.0"));
        assert!(!is_newer("garbage", "0.1.0"));
    }

    /// The editor's size: an unreadable one takes the default, an absurd one is brought into
    /// range, a good one is kept, a missing one stays missing (the instance keeps its own).
    #[test]
    fn the_editor_size_is_repaired_or_kept() {
        let read = |state: &PluginState| -> EditorSize {
            serde_json::from_str(&state.fields[EDITOR_SIZE_KEY]).unwrap()
        };
        let mut state = saved_defaults();
        assert!(!state.fields.contains_key(EDITOR_SIZE_KEY));
        state
            .fields
            .insert(EDITOR_SIZE_KEY.into(), "{\"width\": \"wide\"}".into());
        assert_eq!(repair(&mut state).len(), 1);
        assert_eq!(read(&state), EditorSize::default());
        state.fields.insert(
            EDITOR_SIZE_KEY.into(),
            "{\"width\": 4000000000, \"height\": 3}".into(),
        );
        assert_eq!(repair(&mut state).len(), 1);
        let size = read(&state);
        assert_eq!(size.width, MAX_EDITOR_SIDE);
        assert_eq!(size, size.clamped());
        let good = EditorSize {
            width: size.clamped().width.min(1_500),
            height: EditorSize::default().height + 100,
        };
        state.fields.insert(
            EDITOR_SIZE_KEY.into(),
            serde_json::to_string(&good).unwrap(),
        );
        assert!(repair(&mut state).is_empty());
        assert_eq!(read(&state), good);
    }
}
