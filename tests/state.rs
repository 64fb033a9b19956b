//! Saved states through the real CLAP state extension of the BUILT bundle (see `clap_host.rs`):
//! an old project, a newer Auralis's project, damaged and hostile blobs, and a fuzzer. Whatever
//! the blob, loading it never crashes; what can be read is kept, what cannot takes its default
//! (`src/plugin/state.rs` documents the rules), and the plugin processes finite audio after it.
//!
//! `tests/fixtures/state-0.1.0.json` is the state Auralis 0.1.0 (main before the hardening
//! branch) saved with every parameter away from its default, held targets and a reference
//! profile; `write_old_version_fixture` (ignored) wrote it.
//!
//! The fuzzer runs `AURALIS_STATE_FUZZ_CASES` cases (default 100,000).

mod common;

use std::cell::RefCell;

use auralis::analysis::{ReferenceProfile, Targets};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/state-0.1.0.json"
);

/// nice-plug's CLAP state: an 8-byte little-endian length, then the JSON.
fn blob(json: &[u8]) -> Vec<u8> {
    let mut bytes = (json.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(json);
    bytes
}

fn blob_of(value: &Value) -> Vec<u8> {
    blob(&serde_json::to_vec(value).unwrap())
}

fn fixture() -> Value {
    let text = std::fs::read_to_string(FIXTURE).expect("state fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// What `plugin` saves now, as JSON.
fn saved(plugin: &mut Plugin) -> Value {
    let bytes = plugin.save_state();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(len, bytes.len() - 8, "state length prefix");
    serde_json::from_slice(&bytes[8..]).expect("saved state is JSON")
}

/// Every parameter's string id with its default, as a fresh instance saves them.
fn defaults() -> Value {
    saved(&mut Plugin::new())["params"].clone()
}

/// Every parameter's CLAP value is finite and inside its range.
fn assert_values_in_range(plugin: &mut Plugin, context: &str) {
    for param in plugin.params() {
        let v = plugin.value(&param);
        assert!(
            v.is_finite() && v >= param.min && v <= param.max,
            "{context}: {} = {v} outside {}..{}",
            param.name,
            param.min,
            param.max
        );
    }
}

/// Activates `plugin`, masters two seconds of music and checks the output is finite and, with
/// `under_full_scale`, never above full scale (whatever the state, the limiter's ceiling is
/// at most 0 dBTP; only Output Gain after it, or Bypass, could pass it).
fn assert_masters_cleanly(plugin: &mut Plugin, context: &str) {
    masters_cleanly(plugin, context, true);
}

fn masters_cleanly(plugin: &mut Plugin, context: &str, under_full_scale: bool) {
    let sample_rate = 48_000.0;
    let mut processor = plugin.activate(sample_rate);
    let input = music(2 * 48_000, sample_rate);
    let out = processor.process_in_blocks(&input, &[512], &[]);
    plugin.deactivate(processor);
    for (c, channel) in out.iter().enumerate() {
        if let Some(n) = channel.iter().position(|x| !x.is_finite()) {
            panic!("{context}: channel {c} sample {n} is {}", channel[n]);
        }
        let peak = channel.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        assert!(
            !under_full_scale || peak <= 1.0,
            "{context}: channel {c} peaks at {peak}"
        );
    }
}

/// A loud two-tone programme with a beat and some noise.
fn music(len: usize, sample_rate: f64) -> Stereo {
    let mut seed = 0x2545_f491_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let mut out: Stereo = [Vec::with_capacity(len), Vec::with_capacity(len)];
    for n in 0..len {
        let t = n as f64 / sample_rate;
        let beat = (0.6 + 0.4 * (std::f64::consts::TAU * 2.0 * t).sin()) as f32;
        let a = (std::f64::consts::TAU * 110.0 * t).sin() as f32;
        let b = (std::f64::consts::TAU * 1760.0 * t).sin() as f32;
        out[0].push(beat * (0.5 * a + 0.2 * b) + 0.05 * noise());
        out[1].push(beat * (0.45 * a - 0.2 * b) + 0.05 * noise());
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The fixture.

/// Writes the old-version fixture from the bundle under test. Run once against the bundle of
/// the version the fixture stands for:
/// `AURALIS_CLAP=/path/to/0.1.0/Auralis.clap cargo test --test state -- --ignored write_old`
#[test]
#[ignore]
fn write_old_version_fixture() {
    let sample_rate = 48_000.0;
    let mut plugin = Plugin::new();
    plugin.set_offline();
    let params = plugin.params();
    let mut processor = plugin.activate(sample_rate);
    // The analysis listens, then every parameter moves away from its default (Analysis to Hold,
    // so the targets in force are saved with the project).
    processor.process_in_blocks(&music(8 * 48_000, sample_rate), &[4096], &[]);
    let automation: Vec<_> = params
        .iter()
        .map(|param| Automation {
            at: 0,
            param,
            value: if param.is_stepped() {
                if param.default >= (param.min + param.max) / 2.0 {
                    param.min
                } else {
                    param.max
                }
            } else if param.default >= (param.min + param.max) / 2.0 {
                param.min + 0.25 * (param.max - param.min)
            } else {
                param.min + 0.75 * (param.max - param.min)
            },
        })
        .collect();
    processor.process_in_blocks(&music(8192, sample_rate), &[4096], &automation);
    plugin.deactivate(processor);
    // A reference profile reaches the plugin only with a state (the editor and a project set
    // it): give it one the way a project does, and save again.
    let reference_track = music(10 * 48_000, sample_rate);
    let reference =
        ReferenceProfile::analyse(48_000.0, &[&reference_track[0], &reference_track[1]]);
    let mut state = saved(&mut plugin);
    state["fields"]["reference"] = Value::String(serde_json::to_string(&Some(reference)).unwrap());
    plugin.load_state(&blob_of(&state));
    let state = saved(&mut plugin);
    assert_ne!(state["fields"]["held-targets"], "null", "no held targets");
    let text = serde_json::to_string_pretty(&state).unwrap() + "\n";
    std::fs::create_dir_all(std::path::Path::new(FIXTURE).parent().unwrap()).unwrap();
    std::fs::write(FIXTURE, text).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Round trips.

/// An old project (the fixture) loads every parameter, the held targets and the reference
/// profile; saved again and loaded into another instance, nothing changes.
#[test]
fn old_version_state_round_trips_every_parameter_held_targets_and_reference() {
    let old = fixture();
    let defaults = defaults();
    let params = old["params"].as_object().unwrap();
    assert_eq!(params.len(), 29, "the fixture has every parameter");
    for (id, value) in params {
        assert_ne!(
            &defaults[id], value,
            "{id} is at its default in the fixture"
        );
    }
    let held: Option<Targets> =
        serde_json::from_str(old["fields"]["held-targets"].as_str().unwrap()).unwrap();
    let reference: Option<ReferenceProfile> =
        serde_json::from_str(old["fields"]["reference"].as_str().unwrap()).unwrap();
    assert!(held.is_some() && reference.is_some());

    let mut first = Plugin::new();
    first.load_state(&blob_of(&old));
    let once = saved(&mut first);
    assert_eq!(once["params"], old["params"], "parameters after loading");
    assert_fields_kept(&once, &old, "held targets and reference after loading");

    let mut second = Plugin::new();
    second.load_state(&first.save_state());
    let twice = saved(&mut second);
    assert_eq!(twice, once, "a second round trip changed the state");
    let held_again: Option<Targets> =
        serde_json::from_str(twice["fields"]["held-targets"].as_str().unwrap()).unwrap();
    let reference_again: Option<ReferenceProfile> =
        serde_json::from_str(twice["fields"]["reference"].as_str().unwrap()).unwrap();
    assert_eq!(held_again, held);
    assert_eq!(reference_again, reference);
    assert_masters_cleanly(&mut second, "restored old project");
}

/// Every field `old` saved is saved again unchanged; the fields it predates (the editor's size,
/// added with the editor) are the instance's own, its defaults for a new instance.
fn assert_fields_kept(loaded: &Value, old: &Value, what: &str) {
    let fields = old["fields"].as_object().expect("fields");
    for (key, value) in fields {
        assert_eq!(&loaded["fields"][key], value, "{what}: {key}");
    }
    let extra: Vec<&String> = loaded["fields"]
        .as_object()
        .expect("fields")
        .keys()
        .filter(|k| !fields.contains_key(*k))
        .collect();
    assert_eq!(
        extra,
        ["editor-size", "learned-targets"],
        "{what}: fields the old state lacks"
    );
    assert_eq!(loaded["fields"]["learned-targets"], "null", "{what}");
    let size: auralis::editor::EditorSize =
        serde_json::from_str(loaded["fields"]["editor-size"].as_str().unwrap()).unwrap();
    assert_eq!(size, auralis::editor::EditorSize::default(), "{what}");
}

/// A state from a newer Auralis: unknown parameters and fields are ignored, a field in a richer
/// shape keeps what this version reads, everything known is loaded.
#[test]
fn future_version_state_loads_what_this_version_understands() {
    let old = fixture();
    let mut future = old.clone();
    future["version"] = json!("7.3.0");
    future["params"]["spectral_tilt_v7"] = json!({"f32": 0.25});
    future["params"]["new_menu"] = json!({"string": "shiny"});
    future["fields"]["editor-layout"] = json!("{\"zoom\":2}");
    // Held targets with members this version does not know.
    let mut held: Value =
        serde_json::from_str(old["fields"]["held-targets"].as_str().unwrap()).unwrap();
    held["transient_shaper_db"] = json!(3.0);
    future["fields"]["held-targets"] = Value::String(held.to_string());

    let mut plugin = Plugin::new();
    assert!(plugin.try_load_state(&blob_of(&future)), "refused");
    let loaded = saved(&mut plugin);
    assert_eq!(loaded["params"], old["params"]);
    assert_fields_kept(&loaded, &old, "fields of a newer state");
    assert_eq!(loaded["version"], json!(env!("CARGO_PKG_VERSION")));
}

// ---------------------------------------------------------------------------------------------
// Damaged and hostile states.

/// Parameters and fields that cannot be read take their defaults; everything else is kept.
#[test]
fn unreadable_entries_take_their_defaults_and_readable_ones_are_kept() {
    let old = fixture();
    let defaults = defaults();
    let mut damaged = old.clone();
    let p = &mut damaged["params"];
    p["mode"] = json!({"string": "no-such-mode"});
    p["preset"] = json!({"i32": 99});
    p["width"] = json!({"string": "wide"});
    p["ceiling"] = json!({"f32": 1e39}); // Beyond f32: infinity.
    p["bypass"] = json!({"f32": 1.0});
    p.as_object_mut().unwrap().remove("out_gain");
    damaged["fields"]["held-targets"] = json!("{\"eq_gains_db\": [1, 2,");
    damaged["fields"]["reference"] = json!("[\"not\", \"a\", \"profile\"]");

    let mut plugin = Plugin::new();
    assert!(plugin.try_load_state(&blob_of(&damaged)), "refused");
    let loaded = saved(&mut plugin);
    let bad = ["mode", "preset", "width", "ceiling", "bypass", "out_gain"];
    for (id, value) in old["params"].as_object().unwrap() {
        let expected = if bad.contains(&id.as_str()) {
            &defaults[id]
        } else {
            value
        };
        assert_eq!(&loaded["params"][id], expected, "{id}");
    }
    assert_eq!(loaded["fields"]["held-targets"], json!("null"));
    assert_eq!(loaded["fields"]["reference"], json!("null"));
    assert_masters_cleanly(&mut plugin, "damaged state");
}

/// Held targets and a reference with absurd but representable numbers are clamped to what the
/// analysis produces: the chain stays finite and under the ceiling.
#[test]
fn hostile_held_targets_and_reference_still_master_cleanly() {
    let old = fixture();
    let mut hostile = old.clone();
    let mut held: Value =
        serde_json::from_str(old["fields"]["held-targets"].as_str().unwrap()).unwrap();
    held["leveler_gain_db"] = json!(90_000.0);
    held["comp_ratio"] = json!(-5.0);
    held["comp_threshold_db"] = json!(500.0);
    held["width"] = json!(1e5);
    for gain in held["eq_gains_db"].as_array_mut().unwrap() {
        *gain = json!(1e5);
    }
    hostile["fields"]["held-targets"] = Value::String(held.to_string());
    let mut reference: Value =
        serde_json::from_str(old["fields"]["reference"].as_str().unwrap()).unwrap();
    reference["integrated_lufs"] = json!(400.0);
    reference["weight"] = json!(-1.0);
    reference["side_mid_ratio"] = json!(0.0);
    hostile["fields"]["reference"] = Value::String(reference.to_string());
    for analysis in ["continuous", "hold"] {
        for mode in ["adaptive", "reference", "hybrid"] {
            hostile["params"]["analysis"] = json!({ "string": analysis });
            hostile["params"]["mode"] = json!({ "string": mode });
            hostile["params"]["bypass"] = json!({"bool": false});
            hostile["params"]["lim_on"] = json!({"bool": true});
            hostile["params"]["ceiling"] = json!({"f32": -1.0});
            hostile["params"]["out_gain"] = json!({"f32": 0.0});
            let mut plugin = Plugin::new();
            plugin.load_state(&blob_of(&hostile));
            assert_masters_cleanly(&mut plugin, &format!("hostile state, {analysis}, {mode}"));
        }
    }
}

/// Blobs that are not a state at all: refused (the host is told), the instance keeps its
/// defaults, and it masters cleanly afterwards.
#[test]
fn empty_truncated_and_garbage_blobs_are_refused_and_defaults_kept() {
    let json = serde_json::to_vec(&fixture()).unwrap();
    let mut blobs: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("three bytes".into(), vec![1, 2, 3]),
        ("length only".into(), blob(b"")),
        ("huge length".into(), {
            let mut b = u64::MAX.to_le_bytes().to_vec();
            b.extend_from_slice(&json);
            b
        }),
        ("length past the end".into(), {
            let mut b = ((json.len() + 100) as u64).to_le_bytes().to_vec();
            b.extend_from_slice(&json[..json.len() / 2]);
            b
        }),
        ("no length prefix".into(), json.clone()),
        ("not JSON".into(), blob(b"<xml>preset</xml>")),
        ("JSON null".into(), blob(b"null")),
        ("JSON array".into(), blob(b"[1,2,3]")),
        (
            "no params".into(),
            blob(b"{\"version\":\"0.1.0\",\"fields\":{}}"),
        ),
        (
            "params not a map".into(),
            blob(b"{\"params\":7,\"fields\":{}}"),
        ),
        (
            "NaN".into(),
            blob(b"{\"params\":{\"gain\":{\"f32\":NaN}},\"fields\":{}}"),
        ),
    ];
    for cut in [1, 9, 100, json.len() / 3, json.len() / 2, json.len() - 1] {
        blobs.push((format!("truncated to {cut} bytes"), blob(&json[..cut])));
    }
    let mut seed = 0x9e37_79b9_u32;
    for i in 0..20 {
        let len = 1 + (i * 97) % 3000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        blobs.push((format!("{len} random bytes"), bytes.clone()));
        blobs.push((format!("{len} random bytes after a length"), blob(&bytes)));
    }
    let defaults = defaults();
    for (name, bytes) in &blobs {
        let mut plugin = Plugin::new();
        assert!(!plugin.try_load_state(bytes), "{name}: accepted");
        assert_eq!(
            saved(&mut plugin)["params"],
            defaults,
            "{name}: not defaults"
        );
    }
    let mut plugin = Plugin::new();
    for (_, bytes) in &blobs {
        plugin.try_load_state(bytes);
    }
    masters_cleanly(&mut plugin, "after every garbage blob", false);
}

/// Set in the child process of `repairs_are_logged_with_their_reason`.
const LOG_CHILD: &str = "AURALIS_STATE_LOG_CHILD";

/// Every repair is logged (in the release bundle) with its reason. nice-plug's logger reads
/// `NICE_LOG` once, when the library loads: hence a child process.
#[test]
fn repairs_are_logged_with_their_reason() {
    if std::env::var_os(LOG_CHILD).is_some() {
        let mut damaged = fixture();
        damaged["version"] = json!("7.3.0");
        damaged["params"]["mode"] = json!({"string": "no-such-mode"});
        damaged["fields"]["held-targets"] = json!("{\"eq_gains_db\": [1, 2,");
        let mut plugin = Plugin::new();
        assert!(plugin.try_load_state(&blob_of(&damaged)));
        // The file logger writes from its own thread, and is not flushed at exit: wait for it.
        let log = std::env::var_os("NICE_LOG").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("held-targets unreadable"))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("auralis.log");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["repairs_are_logged_with_their_reason", "--exact"])
        .env(LOG_CHILD, "1")
        .env("NICE_LOG", &log)
        .status()
        .expect("cannot run the child process");
    assert!(status.success(), "child: {status}");
    let text = std::fs::read_to_string(&log).expect("no log written");
    for expected in [
        "state written by Auralis 7.3.0",
        "parameter \"mode\": no menu entry \"no-such-mode\": default",
        "held-targets unreadable (",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not logged in:\n{text}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The fuzzer.

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
            .prop_map(|x| json!(x)),
        prop_oneof![
            Just(1e39),
            Just(-1e39),
            Just(3.4e38),
            Just(1e-45),
            Just(-0.0)
        ]
        .prop_map(|x| json!(x)),
        "[a-z_-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z0-9_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One way to damage a state.
#[derive(Debug, Clone)]
enum Damage {
    /// Bytes of the JSON text: (position fraction, new byte).
    Bytes(Vec<(f64, u8)>),
    /// Cut the JSON text at a fraction of its length.
    Truncate(f64),
    /// Replace one parameter's value (by index) with any JSON.
    Param(usize, Value),
    /// Replace one parameter's value inside its type tag.
    ParamInner(usize, Value),
    /// Replace a member of the held targets or the reference (by index) with any JSON.
    FieldMember(bool, usize, Value),
    /// Replace a whole top-level entry ("version", "params", "fields", or a field).
    Entry(usize, Value),
    /// A wrong length prefix.
    Length(u64),
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    // Mostly damage that still parses as JSON, so most cases reach Auralis's own repairs.
    let one = prop_oneof![
        1 => prop::collection::vec((0.0..1.0f64, any::<u8>()), 1..8).prop_map(Damage::Bytes),
        1 => (0.0..1.0f64).prop_map(Damage::Truncate),
        4 => (0..40usize, any_json()).prop_map(|(i, v)| Damage::Param(i, v)),
        4 => (0..40usize, any_json()).prop_map(|(i, v)| Damage::ParamInner(i, v)),
        4 => (any::<bool>(), 0..40usize, any_json())
            .prop_map(|(f, i, v)| Damage::FieldMember(f, i, v)),
        2 => (0..6usize, any_json()).prop_map(|(i, v)| Damage::Entry(i, v)),
        1 => any::<u64>().prop_map(Damage::Length),
    ];
    prop::collection::vec(one, 1..4)
}

fn apply(base: &Value, damages: &[Damage]) -> Vec<u8> {
    let mut state = base.clone();
    let mut length = None;
    let mut text_edits = Vec::new();
    for d in damages {
        match d {
            Damage::Param(i, v) | Damage::ParamInner(i, v) => {
                let params = state["params"].as_object_mut();
                if let Some(params) = params {
                    if let Some(key) = params.keys().nth(i % params.len().max(1)).cloned() {
                        let entry = params.get_mut(&key).unwrap();
                        match (d, entry.as_object_mut()) {
                            (Damage::ParamInner(..), Some(tagged)) if !tagged.is_empty() => {
                                let tag = tagged.keys().next().unwrap().clone();
                                tagged.insert(tag, v.clone());
                            }
                            _ => *entry = v.clone(),
                        }
                    }
                }
            }
            Damage::FieldMember(held, i, v) => {
                let key = if *held { "held-targets" } else { "reference" };
                if let Some(text) = state["fields"][key].as_str() {
                    if let Ok(Value::Object(mut members)) = serde_json::from_str::<Value>(text) {
                        if let Some(member) = members.keys().nth(i % members.len().max(1)).cloned()
                        {
                            members.insert(member, v.clone());
                        }
                        state["fields"][key] = Value::String(Value::Object(members).to_string());
                    }
                }
            }
            Damage::Entry(i, v) => {
                let key = ["version", "params", "fields"].get(*i);
                match key {
                    Some(key) => state[*key] = v.clone(),
                    None => {
                        let field = ["held-targets", "reference", "unknown"][i - 3];
                        if let Some(fields) = state["fields"].as_object_mut() {
                            let text = if v.is_string() {
                                v.clone()
                            } else {
                                Value::String(v.to_string())
                            };
                            fields.insert(field.into(), text);
                        }
                    }
                }
            }
            Damage::Length(n) => length = Some(*n),
            Damage::Bytes(_) | Damage::Truncate(_) => text_edits.push(d),
        }
    }
    let mut json = serde_json::to_vec(&state).unwrap();
    for d in text_edits {
        match d {
            Damage::Bytes(edits) => {
                for (at, byte) in edits {
                    let n = json.len();
                    if n > 0 {
                        json[((at * n as f64) as usize).min(n - 1)] = *byte;
                    }
                }
            }
            Damage::Truncate(at) => json.truncate((at * json.len() as f64) as usize),
            _ => unreachable!(),
        }
    }
    let mut bytes = length.unwrap_or(json.len() as u64).to_le_bytes().to_vec();
    bytes.extend(json);
    bytes
}

/// Set in the child process of `fuzzed_states_never_crash_and_leave_parameters_in_range`.
const FUZZ_CHILD: &str = "AURALIS_STATE_FUZZ_CHILD";

/// Damaged states, `AURALIS_STATE_FUZZ_CASES` of them (100,000 by default), through the real
/// state extension of one instance, as a host loading preset after preset: never a crash, every
/// parameter finite and in range after each, the state saved then loads back, and the instance
/// masters cleanly at the end. In a
/// child process whose plugin log goes to a file (a repair is logged per damaged entry), whose
/// last lines are shown.
#[test]
fn fuzzed_states_never_crash_and_leave_parameters_in_range() {
    if std::env::var_os(FUZZ_CHILD).is_none() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auralis.log");
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "fuzzed_states_never_crash_and_leave_parameters_in_range",
                "--exact",
                "--nocapture",
            ])
            .env(FUZZ_CHILD, "1")
            .env("NICE_LOG", &log)
            .output()
            .expect("cannot run the child process");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<_> = text.lines().collect();
        eprintln!(
            "{}\n{} log lines; the last:\n{}",
            String::from_utf8_lossy(&output.stderr),
            lines.len(),
            lines[lines.len().saturating_sub(5)..].join("\n")
        );
        assert!(output.status.success(), "fuzzing: {}", output.status);
        return;
    }
    let cases: u32 = std::env::var("AURALIS_STATE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let base = fixture();
    let plugin = RefCell::new(Plugin::new());
    let accepted = RefCell::new(0u32);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    runner
        .run(&damage(), |damages| {
            let bytes = apply(&base, &damages);
            let mut plugin = plugin.borrow_mut();
            if plugin.try_load_state(&bytes) {
                *accepted.borrow_mut() += 1;
            }
            for param in plugin.params() {
                let v = plugin.value(&param);
                if !(v.is_finite() && v >= param.min && v <= param.max) {
                    return Err(TestCaseError::fail(format!(
                        "{} = {v} outside {}..{}",
                        param.name, param.min, param.max
                    )));
                }
            }
            // What a host does next: save the project. The saved state must load back.
            let again = plugin.save_state();
            if !plugin.try_load_state(&again) {
                return Err(TestCaseError::fail("the saved state does not load"));
            }
            Ok(())
        })
        .unwrap();
    let mut plugin = plugin.into_inner();
    assert_values_in_range(&mut plugin, "after fuzzing");
    masters_cleanly(&mut plugin, "after fuzzing", false);
    eprintln!(
        "{cases} fuzzed states in {:.1} s, {} accepted",
        started.elapsed().as_secs_f64(),
        accepted.into_inner()
    );
}
