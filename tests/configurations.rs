//! Every configuration a host may choose, through the BUILT CLAP bundle (see `clap_host.rs`):
//! sample rates from 8 kHz to 384 kHz, blocks from 1 to 16384 samples and varying within a run,
//! mono and stereo, a thousand activations, and 32 instances processing at once.

mod common;

use std::sync::Barrier;

use common::*;

/// The default true-peak ceiling, -1 dBTP, as a sample value.
const CEILING: f32 = 0.891_250_9;
/// The limiter bounds the true peak, so samples stay under the ceiling; this allows for rounding.
const CEILING_TOLERANCE: f32 = 1e-4;

const SAMPLE_RATES: [f64; 9] = [
    8_000.0, 11_025.0, 22_050.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0, 192_000.0, 384_000.0,
];
const MAX_BLOCK: u32 = 16_384;

/// Block sizes for one run: 300 single samples, a list of awkward and large sizes, then sizes
/// drawn log-uniformly from 1..=16384 (seeded).
fn block_sizes(seed: u32) -> Vec<usize> {
    let mut sizes = vec![1; 300];
    sizes.extend([2, 3, 16, 64, 100, 511, 512, 513, 1024, 4096, 8192, 16_384]);
    let mut noise = noise_source(seed);
    sizes.extend((0..400).map(|_| {
        let octaves = (noise() + 0.5) * 14.0; // 2^0 ..= 2^14
        (2f32.powf(octaves) as usize).clamp(1, MAX_BLOCK as usize)
    }));
    sizes
}

/// Masters `seconds` of music at `sample_rate` on `channels` in varying blocks and checks the
/// output: finite, under the ceiling, and not silent once the analysis has settled.
fn master_cleanly(plugin: &mut Plugin, sample_rate: f64, channels: usize, seconds: f64) {
    let context = format!("{sample_rate} Hz, {channels} channel(s)");
    let mut processor = plugin.activate_with(sample_rate, MAX_BLOCK, channels);
    let len = (seconds * sample_rate) as usize;
    let input = music(len, sample_rate, channels);
    let sizes = block_sizes(sample_rate as u32 ^ channels as u32);
    let output = processor.render(&input, &sizes, |_, _| Vec::new());
    plugin.deactivate(processor);
    if let Some(bad) = first_non_finite(&output) {
        panic!("{context}: {bad}");
    }
    let peak = peak(&output);
    assert!(
        peak <= CEILING + CEILING_TOLERANCE,
        "{context}: peak {peak} above the ceiling {CEILING}"
    );
    let half = len / 2..;
    for c in 0..channels {
        let ratio = rms_of(&output[c][half.clone()]) / rms_of(&input[c][half.clone()]);
        assert!(
            ratio > 0.25,
            "{context}: channel {c} nearly silent (output/input RMS {ratio:.3})"
        );
    }
}

#[test]
fn every_sample_rate_block_size_and_channel_count_masters_cleanly() {
    let mut plugin = Plugin::new();
    for sample_rate in SAMPLE_RATES {
        for channels in [2, 1] {
            master_cleanly(&mut plugin, sample_rate, channels, 2.0);
        }
    }
}

/// The same instance switched between mono and stereo and across rates, as a host reconfiguring
/// a track does, in offline rendering too.
#[test]
fn offline_rendering_at_every_rate_and_channel_count_masters_cleanly() {
    let mut plugin = Plugin::new();
    plugin.set_offline();
    for sample_rate in [8_000.0, 44_100.0, 384_000.0] {
        for channels in [1, 2] {
            master_cleanly(&mut plugin, sample_rate, channels, 2.0);
        }
    }
}

/// Threads of this process (Linux).
fn task_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Resident memory of this process, kB (Linux).
fn resident_kb() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Set in the child process of `a_thousand_activations_leak_no_thread_or_memory`.
const CYCLES_CHILD: &str = "AURALIS_CYCLES_CHILD";

/// A thousand activate / process / deactivate cycles, alternating sample rates and channel
/// counts, leave no thread behind (each activation starts an analysis thread, each deactivation
/// must join it) and no growing memory. In a child process, so that no other test's threads are
/// counted.
#[test]
fn a_thousand_activations_leak_no_thread_or_memory() {
    if std::env::var_os(CYCLES_CHILD).is_none() {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_thousand_activations_leak_no_thread_or_memory",
                "--exact",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(CYCLES_CHILD, "1")
            .status()
            .expect("cannot run the child process");
        assert!(status.success(), "child: {status}");
        return;
    }
    let mut plugin = Plugin::new();
    let input = music(256, 48_000.0, 2);
    let mut most_active = 0;
    let mut cycle = |i: usize| {
        let (sample_rate, channels) = [(48_000.0, 2), (44_100.0, 1), (96_000.0, 2)][i % 3];
        let mut processor = plugin.activate_with(sample_rate, 1024, channels);
        most_active = most_active.max(task_count());
        let slices: Vec<&[f32]> = input[..channels].iter().map(|c| &c[..]).collect();
        processor.process_in_place(&slices, &[]);
        assert!(
            processor.output.iter().flatten().all(|x| x.is_finite()),
            "cycle {i}: non-finite output"
        );
        plugin.deactivate(processor);
    };
    // The first cycles start nice-plug's own threads and fill the allocator's pools.
    for i in 0..100 {
        cycle(i);
    }
    let (tasks, rss) = (task_count(), resident_kb());
    for i in 100..1000 {
        cycle(i);
    }
    let (tasks_after, rss_after) = (task_count(), resident_kb());
    eprintln!(
        "threads {tasks} -> {tasks_after} ({most_active} while active), resident {rss} kB -> \
         {rss_after} kB"
    );
    // Each activation really started its analysis thread.
    assert!(most_active > tasks, "no analysis thread while active");
    assert_eq!(tasks_after, tasks, "threads left behind by 900 cycles");
    assert!(
        rss_after < rss + 16 * 1024,
        "resident memory grew from {rss} kB to {rss_after} kB over 900 cycles"
    );
}

/// 32 instances in one process, each on its own thread, processing at the same time. Half render
/// offline: each must be bit-identical to the same render done alone (no state shared between
/// instances). The other half run in realtime mode with their analysis threads: finite and under
/// the ceiling.
#[test]
fn thirty_two_instances_process_concurrently() {
    const INSTANCES: usize = 32;
    let sample_rate = 48_000.0;
    let input = music(3 * 48_000, sample_rate, 2);
    let sizes = [512, 77, 1024, 333];
    let render = |plugin: &mut Plugin, offline: bool| {
        if offline {
            plugin.set_offline();
        }
        let mut processor = plugin.activate_with(sample_rate, MAX_BLOCK, 2);
        let out = processor.render(&input, &sizes, |_, _| Vec::new());
        plugin.deactivate(processor);
        out
    };
    let alone = render(&mut Plugin::new(), true);
    let start = Barrier::new(INSTANCES);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..INSTANCES)
            .map(|i| {
                let (start, render, alone) = (&start, &render, &alone);
                scope.spawn(move || {
                    let mut plugin = Plugin::new();
                    start.wait();
                    let offline = i % 2 == 0;
                    let out = render(&mut plugin, offline);
                    if let Some(bad) = first_non_finite(&out) {
                        panic!("instance {i}: {bad}");
                    }
                    if offline {
                        assert!(out == *alone, "instance {i}: differs from the render alone");
                    }
                    let peak = peak(&out);
                    assert!(
                        peak <= CEILING + CEILING_TOLERANCE,
                        "instance {i}: peak {peak}"
                    );
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            h.join()
                .unwrap_or_else(|_| panic!("instance {i}'s thread panicked"));
        }
    });
}
