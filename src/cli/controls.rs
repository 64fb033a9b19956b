//! Every control of the plugin on the command line: `--set ID=VALUE` and `--settings FILE.json`,
//! by the plugin's frozen parameter IDs and in the units the plugin shows (`eq_amt=40` is 40 %,
//! `width=110` is 110 %, `multiband=on`, `preset=warm`).
//!
//! The list of controls, their ranges, units and defaults is not written here: it is read from
//! the plugin's own parameters ([`AuralisParams`]), and a value is turned into a control by the
//! parameter's own text parsing and then [`AuralisParams::controls`], exactly as a host typing
//! the value into the plugin would. So the command and the plugin cannot disagree on what an ID
//! means.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use auralis::controls::Controls;
use auralis::plugin::params::{saved_value, AuralisParams};
use nice_plug::params::internals::ParamPtr;
use nice_plug::params::{InternalParamMut as _, Params};
use nice_plug::plugin::ParamValue;

/// A command line that cannot work as given: printed on one line, exit status 2 (as clap's own
/// usage errors), and nothing is written.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

/// What kind of value a control takes.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A number from `min` to `max` in `unit`, as the plugin shows it.
    Number { min: f32, max: f32, unit: String },
    /// On or off.
    Switch,
    /// One of these entries (lower case, as typed).
    Menu(Vec<String>),
}

/// One control of the plugin, as `auralis settings --list` prints it.
#[derive(Clone, Debug)]
pub struct Control {
    pub id: String,
    pub name: String,
    pub group: String,
    pub kind: Kind,
    /// The default as the plugin shows it.
    pub default: String,
}

impl Control {
    /// The valid values, for the list and for error messages.
    pub fn choices(&self) -> String {
        match &self.kind {
            Kind::Number { min, max, unit } => format!("{min} to {max}{unit}"),
            Kind::Switch => "on or off".to_owned(),
            Kind::Menu(entries) => entries.join(", "),
        }
    }
}

/// Reads a number as shown by the plugin ("-14.0", "40 %", "100.0 ms"): the leading number.
fn leading_number(text: &str) -> Option<f32> {
    let text = text.trim();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().ok()
}

/// The control `ptr` points to.
///
/// # Safety
/// `ptr` must point to a live parameter.
unsafe fn describe(id: &str, group: &str, ptr: ParamPtr) -> Control {
    unsafe {
        let shown = |normalized: f32| ptr.normalized_value_to_string(normalized, false);
        let kind = match ptr {
            ParamPtr::FloatParam(_) => Kind::Number {
                // The ends as the plugin shows them, in its units (a fraction shows as percent).
                min: leading_number(&shown(0.0)).unwrap_or(f32::NAN),
                max: leading_number(&shown(1.0)).unwrap_or(f32::NAN),
                unit: ptr.unit().to_owned(),
            },
            ParamPtr::BoolParam(_) => Kind::Switch,
            _ => {
                let last = ptr.step_count().unwrap_or(0);
                Kind::Menu(
                    (0..=last)
                        .map(|i| shown(i as f32 / last.max(1) as f32).to_lowercase())
                        .collect(),
                )
            }
        };
        let default = match kind {
            Kind::Switch if ptr.default_normalized_value() > 0.5 => "on".to_owned(),
            Kind::Switch => "off".to_owned(),
            Kind::Menu(_) => shown(ptr.default_normalized_value()).to_lowercase(),
            Kind::Number { .. } => {
                ptr.normalized_value_to_string(ptr.default_normalized_value(), true)
            }
        };
        Control {
            id: id.to_owned(),
            name: ptr.name().to_owned(),
            group: group.to_owned(),
            kind,
            default,
        }
    }
}

/// Every control of the plugin, in the plugin's order.
pub fn list() -> Vec<Control> {
    let params = AuralisParams::default();
    params
        .param_map()
        .into_iter()
        // SAFETY: `ptr` points into `params`, alive for this whole function.
        .map(|(id, ptr, group)| unsafe { describe(&id, &group, ptr) })
        .collect()
}

/// The normalized value `text` sets the control `ptr` points to, or why it cannot.
///
/// # Safety
/// `ptr` must point to a live parameter.
unsafe fn normalized(control: &Control, ptr: ParamPtr, text: &str) -> Result<f32, String> {
    let text = text.trim();
    let bad = || {
        format!(
            "{}={text}: {} takes {}",
            control.id,
            control.name,
            control.choices()
        )
    };
    match &control.kind {
        Kind::Switch => match text.to_ascii_lowercase().as_str() {
            "on" | "true" | "1" | "yes" => Ok(1.0),
            "off" | "false" | "0" | "no" => Ok(0.0),
            _ => Err(bad()),
        },
        Kind::Menu(entries) => {
            let index = entries
                .iter()
                .position(|e| e.eq_ignore_ascii_case(text))
                .ok_or_else(bad)?;
            Ok(index as f32 / (entries.len() - 1).max(1) as f32)
        }
        Kind::Number { min, max, .. } => {
            // The plugin's own parsing (its units: "40" is 40 % of a fraction, "off" is 0 Hz).
            // SAFETY: by this function's contract.
            let n = unsafe { ptr.string_to_normalized_value(text) }.ok_or_else(bad)?;
            // That parsing clamps to the range; a number typed outside it is an error here.
            if let Some(v) = leading_number(text) {
                if !(v >= *min && v <= *max) {
                    return Err(bad());
                }
            }
            Ok(n)
        }
    }
}

/// The `ID=VALUE` pairs of `--set` and of a `--settings` file (the file first, so `--set` wins),
/// checked against the plugin's controls.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pairs: Vec<(String, String)>,
}

impl Settings {
    /// Reads `--settings FILE.json` (a JSON object of ID to value: numbers, strings or booleans)
    /// and the `--set` pairs after it.
    pub fn gather(file: Option<&Path>, sets: &[String]) -> anyhow::Result<Self> {
        let mut pairs = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
            let object: BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&text).map_err(|e| {
                    usage(format!(
                        "{}: not a JSON object of control IDs to values: {e}",
                        path.display()
                    ))
                })?;
            for (id, value) in object {
                let text = match value {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Bool(b) => (if b { "on" } else { "off" }).to_owned(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => {
                        return Err(usage(format!(
                            "{}: {id}: {other} is not a number, a string or true/false",
                            path.display()
                        )))
                    }
                };
                pairs.push((id, text));
            }
        }
        for set in sets {
            let (id, value) = set.split_once('=').ok_or_else(|| {
                usage(format!(
                    "--set {set}: write ID=VALUE (`auralis settings --list` shows the IDs)"
                ))
            })?;
            pairs.push((id.trim().to_owned(), value.trim().to_owned()));
        }
        let settings = Self { pairs };
        // Checked now, so a bad value fails before anything is read or written.
        settings.apply(&Controls::default())?;
        Ok(settings)
    }

    /// True if the control `id` is set.
    pub fn sets(&self, id: &str) -> bool {
        self.pairs.iter().any(|(i, _)| i == id)
    }

    /// `base` with these settings applied, through the plugin's parameters: each loaded with
    /// `base`'s value, then each set one typed in, then read back as controls.
    pub fn apply(&self, base: &Controls) -> anyhow::Result<Controls> {
        let params = AuralisParams::default();
        let map = params.param_map();
        for (id, ptr, _) in &map {
            let value = saved_value(id, base).expect("every parameter has a saved value");
            // SAFETY: `ptr` points into `params`, alive for this whole function.
            unsafe { load(*ptr, &value) };
        }
        for (id, text) in &self.pairs {
            let Some((_, ptr, group)) = map.iter().find(|(i, _, _)| i == id) else {
                let ids: Vec<&str> = map.iter().map(|(i, _, _)| i.as_str()).collect();
                return Err(usage(format!(
                    "--set {id}: no such control; the controls are {}",
                    ids.join(", ")
                )));
            };
            // SAFETY: as above.
            unsafe {
                let control = describe(id, group, *ptr);
                let n = normalized(&control, *ptr, text).map_err(usage)?;
                ptr._internal_set_normalized_value(n);
            }
        }
        let mut controls = params.controls();
        // The flags reach beyond the plugin's ranges (`--ceiling -12`, `--target-lufs -35`):
        // their values stand unless `--set` names the same control.
        if !self.sets("ceiling") {
            controls.ceiling_dbtp = base.ceiling_dbtp;
        }
        if !self.sets("target") {
            controls.target_lufs = base.target_lufs;
        }
        controls.compare_gain_db = base.compare_gain_db;
        Ok(controls)
    }
}

/// Sets the parameter `ptr` points to as nice-plug does when it loads a state.
///
/// # Safety
/// `ptr` must point to a live parameter.
unsafe fn load(ptr: ParamPtr, value: &ParamValue) {
    unsafe {
        match (ptr, value) {
            (ParamPtr::FloatParam(p), ParamValue::F32(v)) => {
                (*p)._internal_set_plain_value(*v);
            }
            (ParamPtr::BoolParam(p), ParamValue::Bool(v)) => {
                (*p)._internal_set_plain_value(*v);
            }
            (ParamPtr::EnumParam(p), ParamValue::String(id)) => {
                (*p).set_from_id(id);
            }
            _ => {}
        }
    }
}

/// `auralis settings --list`: every control with its range, unit and default, one a line.
pub fn print_list() {
    let controls = list();
    let width = controls.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for c in &controls {
        println!(
            "{:<width$}  {:<18} {:<16} {}  (default {})",
            c.id,
            c.name,
            c.group,
            c.choices(),
            c.default
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[&str]) -> anyhow::Result<Controls> {
        let sets: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
        Settings::gather(None, &sets)?.apply(&Controls::default())
    }

    fn error(pairs: &[&str]) -> String {
        let e = set(pairs).unwrap_err();
        assert!(e.is::<UsageError>(), "{e}");
        e.to_string()
    }

    #[test]
    fn the_list_is_the_plugins_parameters_with_their_ranges_and_defaults() {
        let list = list();
        assert_eq!(list.len(), 29);
        let by_id = |id: &str| list.iter().find(|c| c.id == id).unwrap().clone();
        let eq = by_id("eq_amt");
        assert_eq!(
            eq.kind,
            Kind::Number {
                min: 0.0,
                max: 100.0,
                unit: " %".into()
            }
        );
        assert_eq!(eq.default, "70.0 %");
        let target = by_id("target");
        assert_eq!(target.choices(), "-30 to -6 LUFS");
        assert_eq!(by_id("width").choices(), "0 to 200 %");
        assert_eq!(by_id("multiband").kind, Kind::Switch);
        assert_eq!(by_id("multiband").default, "off");
        assert_eq!(
            by_id("preset").kind,
            Kind::Menu(
                ["adaptive", "gentle", "warm", "bright", "punchy", "live"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }

    #[test]
    fn values_are_read_in_the_plugins_units() {
        let c = set(&[
            "eq_amt=40",
            "multiband=on",
            "width=110",
            "preset=Warm",
            "lim_rel=250 ms",
            "mono_bass=off",
            "target=-12",
            "tgt_auto=off",
        ])
        .unwrap();
        assert!((c.eq_amount - 0.4).abs() < 1e-6);
        assert!(c.multiband);
        assert!((c.width - 1.1).abs() < 1e-6);
        assert_eq!(c.preset, auralis::controls::Preset::Warm);
        assert!((c.limiter_release_ms - 250.0).abs() < 1e-3);
        assert_eq!(c.mono_bass_hz, 0.0);
        assert_eq!((c.target_lufs, c.loudness_from_preset), (-12.0, false));
        // What was not set keeps its value.
        assert_eq!(c.tilt_db, Controls::default().tilt_db);
        assert_eq!(set(&[]).unwrap(), Controls::default());
    }

    #[test]
    fn flags_beyond_the_plugins_ranges_stand_unless_set() {
        let base = Controls {
            ceiling_dbtp: -9.0,
            ..Controls::default()
        };
        let none = Settings::default();
        assert_eq!(none.apply(&base).unwrap().ceiling_dbtp, -9.0);
        let s = Settings::gather(None, &["ceiling=-0.5".to_owned()]).unwrap();
        assert_eq!(s.apply(&base).unwrap().ceiling_dbtp, -0.5);
    }

    #[test]
    fn bad_ids_and_values_name_the_valid_choices() {
        let e = error(&["eq_amount=40"]);
        assert!(e.contains("no such control") && e.contains("eq_amt"), "{e}");
        let e = error(&["eq_amt=140"]);
        assert!(e.contains("0 to 100 %"), "{e}");
        let e = error(&["ceiling=-7"]);
        assert!(e.contains("-6 to 0 dBTP"), "{e}");
        let e = error(&["multiband=maybe"]);
        assert!(e.contains("on or off"), "{e}");
        let e = error(&["preset=loud"]);
        assert!(e.contains("adaptive, gentle, warm"), "{e}");
        let e = error(&["width=wide"]);
        assert!(e.contains("0 to 200 %"), "{e}");
        let e = error(&["width"]);
        assert!(e.contains("ID=VALUE"), "{e}");
        for e in [error(&["eq_amt=140"]), error(&["preset=loud"])] {
            assert!(!e.contains('\n'));
        }
    }
}
