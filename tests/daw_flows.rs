//! A DAW's flows around the analysis, through the BUILT CLAP bundle (see `clap_host.rs`): hosts
//! re-activate a plugin around every offline export and switch between realtime and offline
//! rendering; what the analysis learned belongs to the instance and must survive all of it.
//!
//! The reference is the command's pass 1 (`auralis::learn`) over the same audio: Learn over a
//! whole pass, then Hold, must hold exactly the targets the command renders with (before its
//! loudness calibration).

mod common;

use auralis::analysis::targets::Motion;
use auralis::analysis::Targets;
use auralis::controls::Controls;
use auralis::learn;
use common::*;

const SAMPLE_RATE: f64 = 48_000.0;

/// Programme-like audio: a quiet, dull intro, then a louder, brighter body with a beat, so
/// that an analysis that stops early (or forgets the start) holds different targets.
fn programme(seconds: f64) -> Stereo {
    let len = (seconds * SAMPLE_RATE) as usize;
    let intro = (4.0 * SAMPLE_RATE) as usize;
    let mut noise = noise_source(0x5eed_1234);
    let (mut l, mut r) = (Vec::with_capacity(len), Vec::with_capacity(len));
    let (mut a, mut b) = (0.0f32, 0.0f32);
    let k = (std::f64::consts::TAU * 300.0 / SAMPLE_RATE) as f32;
    for n in 0..len {
        let t = n as f64 / SAMPLE_RATE;
        let (x, y) = (noise(), noise());
        a += k * (x - a);
        b += k * (y - b);
        if n < intro {
            l.push(0.1 * a);
            r.push(0.1 * (0.7 * a + 0.3 * b));
        } else {
            let beat = (-((t * 2.0).fract() as f32) * 12.0).exp();
            let bass = (std::f64::consts::TAU * 55.0 * t).sin() as f32;
            l.push(0.25 * a + 0.08 * x + 0.2 * beat * bass);
            r.push(0.25 * (0.7 * a + 0.3 * b) + 0.08 * y + 0.2 * beat * bass);
        }
    }
    [l, r]
}

/// The command's pass 1 over `audio`, and the targets it holds.
fn command_targets(audio: &Stereo) -> Targets {
    let mut pos = 0;
    let heard = learn::listen(
        SAMPLE_RATE as u32,
        2,
        &Controls::default(),
        |buf| {
            let n = (audio[0].len() - pos).min(buf[0].len());
            for (b, a) in buf.iter_mut().zip(audio) {
                b[..n].copy_from_slice(&a[pos..pos + n]);
            }
            pos += n;
            Ok(n)
        },
        |_| {},
    )
    .unwrap();
    learn::held_targets(&heard, &Controls::default(), None)
}

/// A saved state's persisted field `key` (nice-plug's CLAP state: an 8-byte length, JSON).
fn saved_targets(plugin: &mut Plugin, key: &str) -> Option<Targets> {
    let state = plugin.save_state();
    let json: serde_json::Value = serde_json::from_slice(&state[8..]).expect("JSON state");
    let text = json["fields"][key].as_str().expect("the field is saved");
    serde_json::from_str(text).expect("targets")
}

fn analysis_value(plugin: &mut Plugin, step: f64) -> (Param, f64) {
    let analysis = plugin.param("Analysis");
    // Continuous, Learn, Hold: nice-plug's stepped values 0..=2.
    let value = analysis.min + step * (analysis.max - analysis.min) / 2.0;
    (analysis, value)
}

/// An offline pass (a host's export) of `audio` in blocks of `block`, with Analysis set to
/// `value` at its first sample.
fn offline_pass(
    plugin: &mut Plugin,
    sample_rate: f64,
    audio: &Stereo,
    block: usize,
    analysis: &Param,
    value: f64,
) {
    plugin.set_offline();
    let mut processor = plugin.activate(sample_rate);
    let set = Automation {
        at: 0,
        param: analysis,
        value,
    };
    processor.process_in_blocks(audio, &[block], &[set]);
    plugin.deactivate(processor);
}

/// Silence in realtime blocks until the saved held targets appear (the threaded analysis
/// answers Hold a moment later); returns them.
fn wait_for_held(plugin: &mut Plugin, processor: &mut Processor) -> Targets {
    let silence = vec![0.0f32; 512];
    for _ in 0..400 {
        processor.process([&silence, &silence], &[]);
        if let Some(t) = saved_targets(plugin, "held-targets") {
            return t;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("Hold never saved its targets");
}

fn assert_same_targets(held: &Targets, expected: &Targets, context: &str) {
    assert_eq!(held.reasons.motion, Motion::Held, "{context}");
    for (b, (x, y)) in held
        .eq_gains_db
        .iter()
        .zip(&expected.eq_gains_db)
        .enumerate()
    {
        assert!((x - y).abs() < 1e-4, "{context}: band {b}: {x} vs {y}");
    }
    for (name, x, y) in [
        ("leveler", held.leveler_gain_db, expected.leveler_gain_db),
        ("ratio", held.comp_ratio, expected.comp_ratio),
        (
            "threshold",
            held.comp_threshold_db,
            expected.comp_threshold_db,
        ),
        ("width", held.width, expected.width),
    ] {
        assert!((x - y).abs() < 1e-4, "{context}: {name}: {x} vs {y}");
    }
}

/// Learn during an offline export, the host re-activates the plugin in realtime afterwards
/// (as Ardour does), the user engages Hold: Hold holds what the export learned, which is
/// what the command holds for the same audio; the next export renders with it from sample 0.
#[test]
fn learn_during_an_export_then_hold_after_the_reactivation_holds_what_was_learned() {
    let audio = programme(24.0);
    let expected = command_targets(&audio);
    assert!(expected.leveler_gain_db.abs() > 1.0, "{expected:?}");

    let mut plugin = Plugin::new();
    let (analysis, learn) = analysis_value(&mut plugin, 1.0);
    // The export: offline, Learn from its first sample.
    offline_pass(&mut plugin, SAMPLE_RATE, &audio, 4096, &analysis, learn);
    // Back to realtime; transport stopped (silence), the user holds.
    let mut plugin_rt = plugin;
    plugin_rt.set_realtime();
    let mut processor = plugin_rt.activate(SAMPLE_RATE);
    let (_, hold) = analysis_value(&mut plugin_rt, 2.0);
    let silence = vec![0.0f32; 512];
    let event = |v: f64| {
        vec![clack_host::events::event_types::ParamValueEvent::new(
            0,
            analysis.id,
            clack_host::prelude::Pckn::match_all(),
            v,
        )]
    };
    processor.process([&silence, &silence], &event(hold));
    let held = wait_for_held(&mut plugin_rt, &mut processor);
    plugin_rt.deactivate(processor);
    assert_same_targets(&held, &expected, "held after the re-activation");

    // Two more exports in Hold: identical, and mastered from the first block.
    let mut bounce = || {
        plugin_rt.set_offline();
        let mut processor = plugin_rt.activate(SAMPLE_RATE);
        let out = processor.process_in_blocks(&audio, &[1024], &[]);
        plugin_rt.deactivate(processor);
        out
    };
    let first = bounce();
    let second = bounce();
    assert_eq!(first, second, "two Hold bounces differ");
    let gain = 10f64.powf(held.leveler_gain_db as f64 / 20.0);
    let early = 4_800..9_600;
    let ratio = rms_of(&first[0][early.clone()]) / rms_of(&audio[0][early]);
    assert!(
        (ratio / gain).log10().abs() * 20.0 < 3.0,
        "first 0.2 s not held: gain {ratio:.2} vs {gain:.2}"
    );
}

/// Learn across re-activations and realtime/offline switches keeps learning: half the music
/// in an offline pass, the other half in a realtime one, each in its own activation, holds what
/// one pass over the whole would.
#[test]
fn learn_keeps_learning_across_activations_and_process_modes() {
    let audio = programme(24.0);
    let expected = command_targets(&audio);
    let half = audio[0].len() / 2;
    let first: Stereo = [audio[0][..half].to_vec(), audio[1][..half].to_vec()];
    let rest: Stereo = [audio[0][half..].to_vec(), audio[1][half..].to_vec()];

    let mut plugin = Plugin::new();
    let (analysis, learn) = analysis_value(&mut plugin, 1.0);
    let (_, hold) = analysis_value(&mut plugin, 2.0);
    offline_pass(&mut plugin, SAMPLE_RATE, &first, 4096, &analysis, learn);
    // Realtime: fed at a pace the analysis thread keeps up with (a 1 s ring).
    plugin.set_realtime();
    let mut processor = plugin.activate(SAMPLE_RATE);
    for (l, r) in rest[0].chunks(512).zip(rest[1].chunks(512)) {
        processor.process([l, r], &[]);
        std::thread::sleep(std::time::Duration::from_micros(300));
    }
    // Let the thread drain what it has, then deactivate (it analyses what is left first).
    plugin.deactivate(processor);
    let learned = saved_targets(&mut plugin, "learned-targets");
    assert!(learned.is_some(), "nothing learned saved");
    // Hold engaged while the plugin is inactive, seen at the next activation's first block.
    offline_pass(&mut plugin, SAMPLE_RATE, &first, 512, &analysis, hold);
    let held = saved_targets(&mut plugin, "held-targets").expect("held targets saved");
    assert_same_targets(&held, &expected, "learned over two activations");
}

/// What was learned survives a reopened project and an activation at another sample rate:
/// the saved state keeps it, and Hold then holds it although the new activation has heard
/// nothing yet.
#[test]
fn learned_targets_survive_a_reload_and_a_sample_rate_change() {
    let audio = programme(20.0);
    let expected = command_targets(&audio);
    let mut plugin = Plugin::new();
    let (analysis, learn) = analysis_value(&mut plugin, 1.0);
    let (_, hold) = analysis_value(&mut plugin, 2.0);
    offline_pass(&mut plugin, SAMPLE_RATE, &audio, 4096, &analysis, learn);
    let state = plugin.save_state();

    // Reopened in a new instance at 44.1 kHz, still in Learn: it hears 5 s of other music
    // (less than what was learned, which it must not drop for it), then the user holds.
    let mut reopened = Plugin::new();
    reopened.load_state(&state);
    reopened.set_offline();
    let mut processor = reopened.activate(44_100.0);
    let other = programme(5.0);
    processor.process_in_blocks(&other, &[512], &[]);
    let silence = vec![0.0f32; 1024];
    let set_hold = Automation {
        at: 0,
        param: &analysis,
        value: hold,
    };
    processor.process_in_blocks(&[silence.clone(), silence.clone()], &[512], &[set_hold]);
    reopened.deactivate(processor);
    let held = saved_targets(&mut reopened, "held-targets").expect("held targets saved");
    assert_same_targets(&held, &expected, "after a reload at 44.1 kHz");

    // The same instance that learned, re-activated at 96 kHz: its analysis restarts at the new
    // rate, what it learned at 48 kHz is what Hold holds.
    let mut processor = plugin.activate(96_000.0);
    let set_hold = Automation {
        at: 0,
        param: &analysis,
        value: hold,
    };
    processor.process_in_blocks(&[silence.clone(), silence], &[512], &[set_hold]);
    plugin.deactivate(processor);
    let held = saved_targets(&mut plugin, "held-targets").expect("held targets saved");
    assert_same_targets(&held, &expected, "after a re-activation at 96 kHz");
}

/// The plugin tells the host its tail: the chain's latency (the limiter's lookahead), so a
/// host renders that much past the end of the region.
#[test]
fn the_tail_reported_to_the_host_is_the_latency() {
    use clack_extensions::tail::{PluginTail, TailLength};
    let mut plugin = Plugin::new();
    let tail: PluginTail = plugin
        .instance
        .plugin_handle()
        .get_extension()
        .expect("no tail extension");
    let mut processor = plugin.activate(SAMPLE_RATE);
    let latency = plugin.latency();
    assert!(latency > 0);
    let block = vec![0.1f32; 256];
    processor.process([&block, &block], &[]);
    let reported = tail.get(&processor.audio.plugin_handle());
    assert_eq!(reported, TailLength::Finite(latency as u32));
    plugin.deactivate(processor);
}
