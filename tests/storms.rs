//! Automation storms through the BUILT CLAP bundle (see `clap_host.rs`): every parameter changed
//! in every block, at random samples inside the blocks, for a minute of audio. The output stays
//! finite and never clicks: no sample-to-sample jump stands out of the music.
//! (`process_allocs.rs` runs a storm through the allocation-asserting build.)

mod common;

use common::*;

const SAMPLE_RATE: f64 = 48_000.0;

/// Tonal music without noise, so that a click cannot hide in it: a bass line and a chord (55 to
/// 330 Hz) under a slow beat, peaking around -6 dBFS.
fn smooth_music(len: usize) -> Vec<Vec<f32>> {
    let tone = |hz: f64, n: usize| (std::f64::consts::TAU * hz * n as f64 / SAMPLE_RATE).sin();
    let mut out = vec![Vec::with_capacity(len), Vec::with_capacity(len)];
    for n in 0..len {
        let beat = 0.7 + 0.3 * tone(1.5, n);
        let bass = 0.2 * tone(55.0, n) + 0.1 * tone(110.0, n);
        let chord = 0.07 * (tone(220.0, n) + tone(277.2, n) + tone(329.6, n));
        out[0].push((beat * (bass + chord)) as f32);
        out[1].push((beat * (0.9 * bass - chord)) as f32);
    }
    out
}

/// The largest jump between neighbouring samples relative to the signal's peak.
fn relative_jump(x: &[f32]) -> f32 {
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let jump = x.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
    jump / peak
}

/// For each sample, its jump from the previous one divided by the output's peak within
/// `window` samples around it (floored at `floor`): the largest such ratio and where.
fn worst_local_jump(x: &[f32], window: usize, floor: f32) -> (f32, usize) {
    // Local peaks by a sliding maximum over blocks of `window` (peak of the block and its
    // neighbours covers at least `window` samples each side).
    let blocks: Vec<f32> = x
        .chunks(window)
        .map(|c| c.iter().fold(0.0f32, |m, v| m.max(v.abs())))
        .collect();
    let mut worst = (0.0f32, 0);
    for n in 1..x.len() {
        let b = n / window;
        let local = blocks[b.saturating_sub(1)..(b + 2).min(blocks.len())]
            .iter()
            .fold(floor, |m, &v| m.max(v));
        let ratio = (x[n] - x[n - 1]).abs() / local;
        if ratio > worst.0 {
            worst = (ratio, n);
        }
    }
    worst
}

/// A minute of music at 48 kHz in blocks of varying size, with every parameter (bypass, modes,
/// presets, switches, gains, ceiling, limiter release...) set to a random value at a random
/// sample of every block, a quarter of them twice. The output is finite, and no
/// sample-to-sample jump exceeds `K` times the music's own largest jump, both relative to the
/// level around them (2 ms either side).
///
/// Why `K` = 8. The input's largest relative jump, J (2π·f/fs for its highest tone, 330 Hz:
/// about 0.024), is what a gain stage passes on. The storm also reaches the dynamics at their
/// fastest (limiter release 1 ms, compressors at full amount): their gain moves by a few per
/// cent per sample, and the harmonics they add reach 1-2 kHz. Measured: the largest jump is
/// 0.15-0.16 of the local level (6-6.7 J; the analysis thread's timing varies it between runs),
/// a smooth 1.5 kHz wave under heavy limiting (its first differences change gradually: no
/// step). A click, a step of a sizeable part of the level in
/// one sample, is far above: before the mono-bass crossfade, this storm measured 0.85 (35 J).
/// Each parameter alone, flipped between its extremes, stays within 4 J (the next test;
/// measured 1.7 J).
#[test]
fn a_minute_of_every_parameter_changing_every_block_never_clicks() {
    const K: f32 = 8.0;
    let mut plugin = Plugin::new();
    let params = plugin.params();
    let input = smooth_music(60 * SAMPLE_RATE as usize);
    let input_jump = relative_jump(&input[0]).max(relative_jump(&input[1]));

    let mut storm = Storm::new(params.clone(), 0x5eed_0001);
    let mut processor = plugin.activate_with(SAMPLE_RATE, 8192, 2);
    let sizes = [480, 64, 1000, 37, 512, 256, 2048, 1];
    let output = processor.render(&input, &sizes, |_, len| storm.events(len));
    plugin.deactivate(processor);

    if let Some(bad) = first_non_finite(&output) {
        panic!("automation storm: {bad}");
    }
    // 2 ms around each sample; below -80 dBFS only an absolute jump of 1e-4 counts.
    for (c, channel) in output.iter().enumerate() {
        let (worst, at) = worst_local_jump(channel, 96, 1e-4);
        eprintln!(
            "channel {c}: largest relative jump {worst:.3} at sample {at} (input's {input_jump:.3}, \
             bound {:.3})",
            K * input_jump
        );
        assert!(
            worst <= K * input_jump,
            "channel {c}: a click at sample {at} ({:.2} s): jump {worst:.3} of the local level, \
             more than {K} × the music's {input_jump:.3}",
            at as f64 / SAMPLE_RATE
        );
    }
}

/// The same storm, but one parameter at a time switching between its extremes every block
/// (the hardest changes, each on its own): no click from any single parameter.
#[test]
fn each_parameter_flipped_between_its_extremes_every_block_never_clicks() {
    const K: f32 = 4.0;
    let mut plugin = Plugin::new();
    let params = plugin.params();
    let input = smooth_music(2 * SAMPLE_RATE as usize);
    let input_jump = relative_jump(&input[0]).max(relative_jump(&input[1]));
    let mut most = 0.0f32;
    for param in &params {
        let mut processor = plugin.activate_with(SAMPLE_RATE, 8192, 2);
        let mut high = false;
        let output = processor.render(&input, &[512, 300], |_, len| {
            high = !high;
            let value = if high { param.max } else { param.min };
            vec![clack_host::events::event_types::ParamValueEvent::new(
                (len / 2) as u32,
                param.id,
                clack_host::prelude::Pckn::match_all(),
                value,
            )]
        });
        plugin.deactivate(processor);
        if let Some(bad) = first_non_finite(&output) {
            panic!("{}: {bad}", param.name);
        }
        for (c, channel) in output.iter().enumerate() {
            let (worst, at) = worst_local_jump(channel, 96, 1e-4);
            most = most.max(worst);
            assert!(
                worst <= K * input_jump,
                "{} flipping: channel {c} clicks at sample {at}: jump {worst:.3} of the local \
                 level, more than {K} × the music's {input_jump:.3}",
                param.name
            );
        }
        // Back to defaults for the next parameter.
        let mut processor = plugin.activate_with(SAMPLE_RATE, 8192, 2);
        let defaults: Vec<_> = params
            .iter()
            .map(|p| {
                clack_host::events::event_types::ParamValueEvent::new(
                    0,
                    p.id,
                    clack_host::prelude::Pckn::match_all(),
                    p.default,
                )
            })
            .collect();
        processor.process_in_place(&[&input[0][..64], &input[1][..64]], &defaults);
        plugin.deactivate(processor);
    }
    eprintln!("largest relative jump {most:.3} (input's {input_jump:.3})");
}
