//! The audio thread never allocates: the plugin library built with nice-plug's
//! `assert_process_allocs` (debug build) aborts the process on any allocation inside `process`.
//! This test drives that library through every parameter's extremes, every step of every
//! stepped parameter (so every mode, preset and analysis mode), sample-accurate changes and
//! odd block sizes. Run it with:
//!
//! ```sh
//! cargo test --features assert_process_allocs --test process_allocs
//! ```
#![cfg(feature = "assert_process_allocs")]

mod common;

use std::path::PathBuf;

use clack_host::events::event_types::ParamValueEvent;
use clack_host::prelude::Pckn;
use common::*;

/// The library `cargo test --features assert_process_allocs` built next to this test binary.
fn debug_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let lib = dir.join("libauralis.so");
    assert!(lib.is_file(), "no plugin library at {}", lib.display());
    // A library built without the feature would pass this test without checking anything.
    let bytes = std::fs::read(&lib).unwrap();
    assert!(
        bytes.windows(13).any(|w| w == b"AllocDisabler"),
        "{} was not built with --features assert_process_allocs: run \
         cargo build --features assert_process_allocs first",
        lib.display()
    );
    lib
}

/// Every value worth visiting for a parameter: each step of a stepped one, else its two ends
/// and its middle.
fn extremes(param: &Param) -> Vec<f64> {
    if param.is_stepped() {
        (param.min as i64..=param.max as i64)
            .map(|v| v as f64)
            .collect()
    } else {
        vec![param.min, param.max, 0.5 * (param.min + param.max)]
    }
}

fn signal(len: usize, offset: usize) -> Stereo {
    let tone = |n: usize, step: f32| ((n + offset) as f32 * step).sin();
    [
        (0..len).map(|n| 0.9 * tone(n, 0.0613)).collect(),
        (0..len).map(|n| -0.7 * tone(n, 0.1071)).collect(),
    ]
}

#[test]
fn process_never_allocates_through_every_parameter_extreme() {
    let mut plugin = Plugin::from_entry(load_library(&debug_library()));
    let params = plugin.params();
    assert_eq!(params.len(), 29);
    for sample_rate in [44_100.0, 96_000.0] {
        let mut processor = plugin.activate(sample_rate);
        let mut position = 0;
        let mut blocks = [1usize, 64, 512, 4096, 17].into_iter().cycle();
        for param in &params {
            for value in extremes(param) {
                let len = blocks.next().unwrap();
                let input = signal(len, position);
                // The change lands inside the block: sample-accurate automation splits it.
                let event =
                    ParamValueEvent::new((len / 2) as u32, param.id, Pckn::match_all(), value);
                let out = processor.process([&input[0], &input[1]], &[event]);
                position += len;
                assert!(
                    out.iter().flatten().all(|x| x.is_finite()),
                    "{} = {value}: non-finite output",
                    param.name
                );
            }
        }
        // Everything at once, then back to defaults, over a few more blocks.
        let all_max: Vec<_> = params
            .iter()
            .map(|p| ParamValueEvent::new(0, p.id, Pckn::match_all(), p.max))
            .collect();
        let defaults: Vec<_> = params
            .iter()
            .map(|p| ParamValueEvent::new(3, p.id, Pckn::match_all(), p.default))
            .collect();
        for events in [&all_max[..], &defaults[..]] {
            let input = signal(2048, position);
            processor.process([&input[0], &input[1]], events);
            position += 2048;
        }
        plugin.deactivate(processor);
    }
}

/// An automation storm through the allocation-asserting build: every parameter set to a random
/// value at a random sample of every block (a quarter twice), in blocks of varying size, in
/// stereo then mono. Any allocation on the audio thread aborts the process.
#[test]
fn automation_storm_never_allocates() {
    let mut plugin = Plugin::from_entry(load_library(&debug_library()));
    let params = plugin.params();
    let sizes = [480, 64, 1000, 37, 512, 256, 2048, 1];
    for (channels, seconds) in [(2, 20), (1, 5)] {
        let sample_rate = 48_000.0;
        let input = music(seconds * 48_000, sample_rate, channels);
        let mut storm = Storm::new(params.clone(), 0x5eed_0002 + channels as u32);
        let mut processor = plugin.activate_with(sample_rate, 4096, channels);
        let output = processor.render(&input, &sizes, |_, len| storm.events(len));
        plugin.deactivate(processor);
        if let Some(bad) = first_non_finite(&output) {
            panic!("{channels} channel(s): {bad}");
        }
    }
}
