//! The `auralis` command end to end, on files these tests synthesize: loudness and true peak of
//! the masters (measured by `ebur128`), lengths, formats, safety of inputs and outputs, batches,
//! and parity with the plugin's offline path.

use std::path::Path;
use std::process::{Command, Output};

use auralis::analysis::{AnalysisMode, Listener, Targets};
use auralis::controls::Controls;
use auralis::session::Session;

#[path = "support/flac.rs"]
mod flac;

use flac::write_flac;

const BIN: &str = env!("CARGO_BIN_EXE_auralis");

/// A programme-like stereo (or mono) signal: drums-ish noise bursts, a bass line and a pad,
/// quiet (about -26 LUFS) and darker than any preset.
fn programme(sample_rate: u32, seconds: f32, channels: usize) -> Vec<Vec<f32>> {
    let fs = sample_rate as f32;
    let n = (seconds * fs) as usize;
    let mut seed = 0xdead_beef_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let beat = (fs * 0.5) as usize;
    let mut out = vec![Vec::with_capacity(n); channels];
    let mut lp = 0.0f32;
    for i in 0..n {
        let t = i as f32 / fs;
        let env = (-((i % beat) as f32) / (0.04 * fs)).exp();
        lp += 0.05 * (noise() - lp);
        let hit = 0.4 * env * lp;
        let bass = 0.1 * (std::f32::consts::TAU * 55.0 * t).sin();
        let pad = 0.03 * (std::f32::consts::TAU * 330.0 * t).sin();
        for (c, ch) in out.iter_mut().enumerate() {
            let side = if c == 0 { 1.0 } else { -1.0 };
            ch.push(hit + bass + pad * (1.0 + 0.3 * side));
        }
    }
    out
}

enum Format {
    Int16,
    Int24,
    Float32,
    Flac16,
}

fn write_input(path: &Path, signal: &[Vec<f32>], sample_rate: u32, format: Format) {
    let channels = signal.len();
    let frames = signal[0].len();
    let interleaved = |scale: f32| -> Vec<i32> {
        (0..frames)
            .flat_map(|i| signal.iter().map(move |c| (c[i] * scale).round() as i32))
            .collect()
    };
    match format {
        Format::Flac16 => write_flac(path, signal, sample_rate),
        Format::Int16 | Format::Int24 => {
            let bits = if matches!(format, Format::Int16) {
                16
            } else {
                24
            };
            let spec = hound::WavSpec {
                channels: channels as u16,
                sample_rate,
                bits_per_sample: bits,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(path, spec).unwrap();
            for s in interleaved(((1i32 << (bits - 1)) - 1) as f32) {
                w.write_sample(s).unwrap();
            }
            w.finalize().unwrap();
        }
        Format::Float32 => {
            let spec = hound::WavSpec {
                channels: channels as u16,
                sample_rate,
                bits_per_sample: 32,
                sample_format: hound::SampleFormat::Float,
            };
            let mut w = hound::WavWriter::create(path, spec).unwrap();
            for i in 0..frames {
                for c in signal {
                    w.write_sample(c[i]).unwrap();
                }
            }
            w.finalize().unwrap();
        }
    }
}

/// A 16-bit FLAC file of VERBATIM (uncompressed) subframes: valid FLAC that needs no encoder.
/// Reads a WAV as planar f32, with its sample rate.
fn read_wav(path: &Path) -> (Vec<Vec<f32>>, u32) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let ch = spec.channels as usize;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 * scale)
                .collect()
        }
    };
    let mut planar = vec![Vec::new(); ch];
    for (i, s) in samples.into_iter().enumerate() {
        planar[i % ch].push(s);
    }
    (planar, spec.sample_rate)
}

/// Integrated loudness (LUFS) and true peak (dBTP) by the `ebur128` crate.
fn measure(signal: &[Vec<f32>], sample_rate: u32) -> (f64, f64) {
    let mode = ebur128::Mode::I | ebur128::Mode::TRUE_PEAK;
    let mut m = ebur128::EbuR128::new(signal.len() as u32, sample_rate, mode).unwrap();
    let planar: Vec<&[f32]> = signal.iter().map(|c| c.as_slice()).collect();
    m.add_frames_planar_f32(&planar).unwrap();
    let tp = (0..signal.len() as u32)
        .map(|c| m.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    (m.loudness_global().unwrap(), 20.0 * tp.log10())
}

fn auralis(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run auralis")
}

/// Runs `auralis` and asserts it succeeded (its stderr in the message if not).
fn auralis_ok(args: &[&str]) -> Output {
    let run = auralis(args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    run
}

fn hash(path: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read(path).unwrap().hash(&mut h);
    h.finish()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn masters_land_on_the_loudness_target_under_the_ceiling_at_full_length() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "int16-stereo-44k.wav",
            44_100,
            2,
            Format::Int16,
            "-14",
            "-1",
        ),
        (
            "float-mono-48k.wav",
            48_000,
            1,
            Format::Float32,
            "-16",
            "-1",
        ),
        (
            "int24-stereo-96k.wav",
            96_000,
            2,
            Format::Int24,
            "-12",
            "-0.5",
        ),
        (
            "flac-stereo-48k.flac",
            48_000,
            2,
            Format::Flac16,
            "-14",
            "-2",
        ),
    ];
    for (name, rate, channels, format, target, ceiling) in cases {
        let input = dir.path().join(name);
        let signal = programme(rate, 12.0, channels);
        write_input(&input, &signal, rate, format);
        let before = hash(&input);
        let output = dir.path().join(format!("{name}.out.wav"));
        let report = dir.path().join(format!("{name}.json"));
        let run = auralis(&[
            "master",
            s(&input),
            "-o",
            s(&output),
            "--target-lufs",
            target,
            "--ceiling",
            ceiling,
            "--format",
            "wav32f",
            "--report",
            s(&report),
        ]);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert_eq!(hash(&input), before, "{name}: the input changed");
        let (out, out_rate) = read_wav(&output);
        assert_eq!(out_rate, rate, "{name}");
        assert_eq!(out.len(), channels, "{name}");
        assert_eq!(out[0].len(), signal[0].len(), "{name}: length");
        let (lufs, tp) = measure(&out, rate);
        let (target, ceiling): (f64, f64) = (target.parse().unwrap(), ceiling.parse().unwrap());
        assert!(
            (lufs - target).abs() <= 0.3,
            "{name}: {lufs:.2} LUFS, target {target}"
        );
        assert!(
            tp <= ceiling,
            "{name}: true peak {tp:.2} dBTP over {ceiling}"
        );
        // The calibration on excerpts found the gain before the render: one render sufficed.
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let file = &report["files"][0];
        assert_eq!(file["renders"], 1, "{name}: {file}");
        assert!(file["calibration_rounds"].as_u64().unwrap() >= 1, "{name}");
    }
}

/// Max Limiting holds on the whole render, not only on the excerpts the calibration measures:
/// a loud burst in a stretch no excerpt keeps (40 s make 20 excerpt slots, of which every other
/// one is kept) would have the limiter take several dB more than Max Limiting at the loudness
/// target. The render takes
/// the gain back until the limiter's deepest reduction is within Max Limiting (4 dB), and the
/// report says the leveler is capped, with the shortfall the output shows.
#[test]
fn a_burst_the_excerpts_miss_is_still_limited_within_max_limiting() {
    let dir = tempfile::tempdir().unwrap();
    let rate = 44_100;
    let mut signal = programme(rate, 40.0, 2);
    let peak = signal
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |a, &x| a.max(x.abs()));
    // 50 ms of 3 kHz (where the EQ stays near 0 dB) at 11 dB over the programme's peak,
    // 23 s in (the twelfth slot).
    let burst = 3.5 * peak;
    for ch in signal.iter_mut() {
        for i in 0..(rate as usize / 20) {
            let t = i as f32 / rate as f32;
            ch[23 * rate as usize + i] += burst * (std::f32::consts::TAU * 3000.0 * t).sin();
        }
    }
    let input = dir.path().join("burst.wav");
    write_input(&input, &signal, rate, Format::Float32);
    let output = dir.path().join("out.wav");
    let report = dir.path().join("r.json");
    auralis_ok(&[
        "master",
        s(&input),
        "-o",
        s(&output),
        "--target-lufs",
        "-14",
        "--format",
        "wav32f",
        "--report",
        s(&report),
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let file = &json["files"][0];
    let deepest = file["limiting"]["max_reduction_db"].as_f64().unwrap();
    assert!(deepest <= 4.5, "the limiter took {deepest:.1} dB: {file}");
    assert!(file["renders"].as_u64().unwrap() >= 2, "{file}");
    let targets = reported_targets(&report);
    assert_eq!(
        targets.reasons.leveler,
        auralis::analysis::targets::LevelerReason::CappedByLimiter
    );
    let (lufs, tp) = measure(&read_wav(&output).0, rate);
    assert!(tp <= -1.0, "{tp} dBTP");
    let shortfall = -14.0 - lufs;
    assert!(shortfall > 0.3, "{lufs} LUFS");
    let reported = file["loudness_shortfall_db"].as_f64().unwrap();
    assert!(
        (reported - shortfall).abs() < 0.1,
        "{reported} vs {shortfall}"
    );
}

#[test]
fn sixteen_and_twenty_four_bit_outputs_are_written_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 6.0, 2), 44_100, Format::Float32);
    for (format, bits) in [("wav16", 16), ("wav24", 24), ("wav32f", 32)] {
        let out = dir.path().join(format!("{format}.wav"));
        auralis_ok(&["master", s(&input), "-o", s(&out), "--format", format]);
        assert_eq!(
            hound::WavReader::open(&out).unwrap().spec().bits_per_sample,
            bits
        );
    }
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 4.0, 2), 44_100, Format::Int16);
    let out = dir.path().join("out.wav");
    std::fs::write(&out, b"precious").unwrap();
    let run = auralis(&["master", s(&input), "-o", s(&out)]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    auralis_ok(&["master", s(&input), "-o", s(&out), "--force"]);
    assert!(hound::WavReader::open(&out).is_ok());
    // And an input is never an output, forced or not.
    let run = auralis(&["master", s(&input), "-o", s(&input), "--force"]);
    assert!(!run.status.success());
}

#[test]
fn a_corrupt_file_fails_clearly_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_input(&good, &programme(44_100, 4.0, 2), 44_100, Format::Int16);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.wav");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2 + 1]).unwrap();
    let garbage = dir.path().join("garbage.wav");
    std::fs::write(&garbage, b"RIFF\x10\x00\x00\x00not audio at all").unwrap();
    let empty = dir.path().join("empty.flac");
    std::fs::write(&empty, b"").unwrap();
    let out_dir = dir.path().join("out");
    let run = auralis(&[
        "master",
        s(&truncated),
        s(&good),
        s(&garbage),
        s(&empty),
        "--out-dir",
        s(&out_dir),
        "--jobs",
        "2",
    ]);
    assert!(!run.status.success(), "a batch with failures must fail");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stdout.contains("1 mastered, 3 failed"), "{stdout}");
    for bad in ["truncated.wav", "garbage.wav", "empty.flac"] {
        let line = stderr.lines().find(|l| l.contains(bad));
        assert!(line.is_some(), "no message naming {bad}: {stderr}");
    }
    // Only the good file's master, and no temporary files.
    let mut made: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["good.mastered.wav"]);
}

#[test]
fn the_demo_masters_a_built_in_mix() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    auralis_ok(&[
        "master",
        "--demo",
        "--out-dir",
        s(dir.path()),
        "--report",
        s(&report),
    ]);
    let (original, rate) = read_wav(&dir.path().join("auralis-demo.original.wav"));
    let (master, _) = read_wav(&dir.path().join("auralis-demo.mastered.wav"));
    let (before, _) = measure(&original, rate);
    let (after, tp) = measure(&master, rate);
    assert!(before < -20.0, "the demo should start quiet: {before}");
    assert!((after + 14.0).abs() <= 0.3, "{after}");
    assert!(tp <= -1.0, "{tp}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["files"].as_array().unwrap().len(), 1);
    assert!(json["files"][0]["realtime_factor"].as_f64().unwrap() > 0.0);
}

#[test]
fn analyze_prints_loudness_and_the_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let signal = programme(48_000, 8.0, 2);
    write_input(&input, &signal, 48_000, Format::Float32);
    let run = auralis_ok(&["analyze", s(&input), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let (lufs, _) = measure(&signal, 48_000);
    let reported = json["integrated_lufs"].as_f64().unwrap();
    assert!((reported - lufs).abs() < 0.1, "{reported} vs {lufs}");
    assert_eq!(json["fingerprint"].as_object().unwrap().len(), 25);
    assert!(json["fingerprint"]["tempo_bpm"].as_f64().unwrap() > 100.0);
}

#[test]
fn the_cli_render_is_the_plugins_offline_render_with_the_same_held_targets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let signal = programme(44_100, 8.0, 2);
    write_input(&input, &signal, 44_100, Format::Float32);
    let out = dir.path().join("out.wav");
    let report = dir.path().join("r.json");
    auralis_ok(&[
        "master",
        s(&input),
        "-o",
        s(&out),
        "--format",
        "wav32f",
        "--report",
        s(&report),
    ]);
    let targets = reported_targets(&report);

    // The plugin in an offline bounce: an inline analysis in Hold mode, holding the targets
    // restored from a saved project, in host blocks of 333 samples.
    let plugin = offline_render(&signal, Controls::default(), targets);
    let (cli, _) = read_wav(&out);
    let worst = largest_difference(&cli, &plugin);
    assert!(worst <= 1e-6, "largest difference {worst}");
}

/// The plugin in an offline bounce of stereo `signal` at 44.1 kHz: an inline analysis in Hold
/// mode, holding `targets` as restored from a saved project, in host blocks of 333 samples,
/// with the plugin's parameters reading as `controls`. Aligned: the latency is dropped.
fn offline_render(signal: &[Vec<f32>], controls: Controls, targets: Targets) -> Vec<Vec<f32>> {
    let controls = Controls {
        analysis: AnalysisMode::Hold,
        ..controls
    };
    let mut session = Session::new(44_100.0, 512, 2, controls, Listener::inline(44_100.0, 2));
    session.hold(targets);
    let latency = session.latency();
    let [mut l, mut r]: [Vec<f32>; 2] = [signal[0].clone(), signal[1].clone()];
    l.extend(std::iter::repeat_n(0.0, latency));
    r.extend(std::iter::repeat_n(0.0, latency));
    for (a, b) in l.chunks_mut(333).zip(r.chunks_mut(333)) {
        session.process(&mut [a, b]);
    }
    vec![l[latency..].to_vec(), r[latency..].to_vec()]
}

fn largest_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a[0].len(), b[0].len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

/// The held targets a master's JSON report gives.
fn reported_targets(report: &Path) -> Targets {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    serde_json::from_value(json["files"][0]["targets"].clone()).unwrap()
}

#[test]
fn set_and_settings_reach_the_engine_as_the_plugins_parameters_do() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let signal = programme(44_100, 8.0, 2);
    write_input(&input, &signal, 44_100, Format::Float32);
    let out = dir.path().join("out.wav");
    let report = dir.path().join("r.json");
    // Half the controls from a settings file, half on the command line, in the plugin's units.
    let file = dir.path().join("settings.json");
    std::fs::write(
        &file,
        r#"{"eq_amt": 40, "multiband": "on", "width": 110, "mono_bass": 120, "lim_auto": false}"#,
    )
    .unwrap();
    auralis_ok(&[
        "master",
        s(&input),
        "-o",
        s(&out),
        "--format",
        "wav32f",
        "--report",
        s(&report),
        "--settings",
        s(&file),
        "--set",
        "tilt=2",
        "--set",
        "lim_rel=30 ms",
        "--set",
        "in_gain=-2",
        "--set",
        "dyn_amt=90",
        // Loud enough that the limiter works (and its release shows).
        "--set",
        "tgt_auto=off",
        "--set",
        "target=-9",
        // --set wins over the file.
        "--set",
        "width=120",
    ]);
    let targets = reported_targets(&report);
    // The same parameters in the plugin, by their plain values.
    let controls = Controls {
        eq_amount: 0.4,
        multiband: true,
        width: 1.2,
        mono_bass_hz: 120.0,
        limiter_auto_release: false,
        tilt_db: 2.0,
        limiter_release_ms: 30.0,
        input_gain_db: -2.0,
        dynamics_amount: 0.9,
        loudness_from_preset: false,
        target_lufs: -9.0,
        ..Controls::default()
    };
    let plugin = offline_render(&signal, controls, targets);
    let (cli, _) = read_wav(&out);
    let worst = largest_difference(&cli, &plugin);
    assert!(worst <= 1e-6, "largest difference {worst}");
    // And each setting mattered. Those the engine applies: taking any one back to its default
    // changes the output.
    let d = Controls::default();
    let without: [(&str, Controls); 6] = [
        (
            "multiband",
            Controls {
                multiband: d.multiband,
                ..controls
            },
        ),
        (
            "width",
            Controls {
                width: d.width,
                ..controls
            },
        ),
        (
            "mono_bass",
            Controls {
                mono_bass_hz: d.mono_bass_hz,
                ..controls
            },
        ),
        (
            "lim_auto",
            Controls {
                limiter_auto_release: d.limiter_auto_release,
                ..controls
            },
        ),
        (
            "tilt",
            Controls {
                tilt_db: d.tilt_db,
                ..controls
            },
        ),
        (
            "lim_rel",
            Controls {
                limiter_release_ms: d.limiter_release_ms,
                ..controls
            },
        ),
    ];
    // Not Input Gain: the leveler takes the trim back out (see `Controls::settings`), and on this
    // programme, healthy for its family, nothing before the leveler is level-dependent (the
    // compressor's ratio is 1), so the trim is exactly compensated; the parity above holds with
    // it at -2 dB.
    for (id, other) in without {
        let apart = largest_difference(&cli, &offline_render(&signal, other, targets));
        assert!(apart > 1e-4, "{id} changed the output by only {apart}");
    }
    // The one the analysis reads here (EQ Amount): at 0 it turns the adaptive EQ off.
    let default_report = dir.path().join("default.json");
    let default_out = dir.path().join("default.wav");
    let run = auralis(&[
        "master",
        s(&input),
        "-o",
        s(&default_out),
        "--report",
        s(&default_report),
    ]);
    assert!(run.status.success());
    let default_targets = reported_targets(&default_report);
    let flat_report = dir.path().join("flat.json");
    let run = auralis(&[
        "master",
        s(&input),
        "-o",
        s(&dir.path().join("flat.wav")),
        "--report",
        s(&flat_report),
        "--set",
        "eq_amt=0",
    ]);
    assert!(run.status.success());
    let size = |t: &Targets| t.eq_gains_db.iter().map(|g| g.abs()).sum::<f32>();
    let flat = size(&reported_targets(&flat_report));
    assert!(
        size(&default_targets) > 1.0 && flat < 1e-3,
        "EQ {flat} at 0 % against {} at the default",
        size(&default_targets)
    );
    // Dynamics Amount scales only the compression that material over its family's healthy
    // range asks for; this programme is healthy, so its ratio is 1 at any amount (the scaling is
    // `analysis::targets`'s test `dynamics_over_the_familys_range_ask_for_compression_in_proportion`).
    assert_eq!(targets.comp_ratio, 1.0);
}

#[test]
fn bad_control_ids_and_values_fail_in_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 1.0, 2), 44_100, Format::Int16);
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&bad_file, r#"{"width": 300}"#).unwrap();
    let out_dir = dir.path().join("masters");
    let cases: [(&[&str], &str); 5] = [
        (&["--set", "eq_amount=40"], "eq_amt"),
        (&["--set", "eq_amt=140"], "0 to 100 %"),
        (&["--set", "multiband=maybe"], "on or off"),
        (
            &["--set", "preset=loud"],
            "adaptive, gentle, warm, bright, punchy, live",
        ),
        (&["--settings", s(&bad_file)], "0 to 200 %"),
    ];
    for (flags, named) in cases {
        let mut args = vec!["master", s(&input), "--out-dir", s(&out_dir)];
        args.extend_from_slice(flags);
        let run = auralis(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{flags:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{flags:?}: {stderr}");
        assert!(stderr.contains(named), "{flags:?}: {stderr}");
        assert!(!out_dir.exists(), "{flags:?} created the output folder");
    }
    assert_eq!(listing(dir.path()), ["bad.json", "in.wav"]);
}

#[test]
fn settings_list_prints_every_control_with_its_range_and_default() {
    let run = auralis(&["settings", "--list"]);
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(text.lines().count(), 29, "{text}");
    let line = |id: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no {id} in {text}"))
            .to_owned()
    };
    assert!(line("eq_amt").contains("0 to 100 %"));
    assert!(line("eq_amt").contains("(default 70.0 %)"));
    assert!(line("ceiling").contains("-6 to 0 dBTP"));
    assert!(line("multiband").contains("on or off"));
    assert!(line("mode").contains("adaptive, reference, hybrid"));
}

#[test]
fn references_are_matched_in_loudness_and_several_are_blended() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mix.wav");
    let signal = programme(48_000, 10.0, 2);
    write_input(&input, &signal, 48_000, Format::Float32);
    // Two references: the same music, 6 and 10 dB louder.
    let mut refs = Vec::new();
    let mut levels = Vec::new();
    for (i, gain_db) in [6.0f32, 10.0].iter().enumerate() {
        let g = 10f32.powf(gain_db / 20.0);
        let louder: Vec<Vec<f32>> = signal
            .iter()
            .map(|c| c.iter().map(|x| x * g).collect())
            .collect();
        levels.push(measure(&louder, 48_000).0);
        let path = dir.path().join(format!("ref{i}.wav"));
        write_input(&path, &louder, 48_000, Format::Float32);
        refs.push(path);
    }
    let out = dir.path().join("out.wav");
    auralis_ok(&[
        "master",
        s(&input),
        "-o",
        s(&out),
        "--reference",
        s(&refs[0]),
        "--reference",
        s(&refs[1]),
        "--format",
        "wav32f",
    ]);
    let (master, rate) = read_wav(&out);
    let (lufs, tp) = measure(&master, rate);
    // Equal weights: the blend's loudness is the mean of the two references'.
    let want = (levels[0] + levels[1]) / 2.0;
    assert!(
        (lufs - want).abs() <= 0.3,
        "{lufs:.2} LUFS, references {levels:?}"
    );
    assert!(tp <= -1.0, "{tp}");
    // Without a reference, reference mode is refused.
    let run = auralis(&[
        "master",
        s(&input),
        "-o",
        s(&out),
        "--force",
        "--mode",
        "reference",
    ]);
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("--reference"));
}

/// The component state inside a `.vstpreset` (see src/cli/vstpreset.rs): after the 48-byte
/// header, up to the chunk list the header points to.
fn vstpreset_component(bytes: &[u8]) -> &[u8] {
    assert_eq!(&bytes[..4], b"VST3");
    let list_at = i64::from_le_bytes(bytes[40..48].try_into().unwrap()) as usize;
    assert_eq!(&bytes[list_at..list_at + 4], b"List");
    &bytes[48..list_at]
}

/// Every file in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn learn_writes_one_state_in_either_container_and_keeps_existing_presets() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mix.wav");
    write_input(&input, &programme(44_100, 6.0, 2), 44_100, Format::Int16);
    let (vst3, clap) = (
        dir.path().join("mix.vstpreset"),
        dir.path().join("mix.clapstate"),
    );
    for preset in [&vst3, &clap] {
        let run = auralis_ok(&["learn", s(&input), "-o", s(preset), "--preset", "warm"]);
        assert!(String::from_utf8_lossy(&run.stdout).contains("Analysis = Hold"));
    }
    // The same state in both: the VST3 component state is the CLAP stream after its length.
    let (v, c) = (std::fs::read(&vst3).unwrap(), std::fs::read(&clap).unwrap());
    assert!(vstpreset_component(&v) == &c[8..], "not the same state");
    let json: serde_json::Value = serde_json::from_slice(&c[8..]).unwrap();
    assert_eq!(json["params"]["preset"]["string"], "warm");
    assert_eq!(json["params"]["analysis"]["string"], "hold");
    // Written through a temporary file renamed into place: nothing else is left beside them.
    assert_eq!(
        listing(dir.path()),
        ["mix.clapstate", "mix.vstpreset", "mix.wav"]
    );

    // An existing preset is kept unless forced.
    std::fs::write(&vst3, b"precious").unwrap();
    let run = auralis(&["learn", s(&input), "-o", s(&vst3)]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("--force"));
    assert_eq!(std::fs::read(&vst3).unwrap(), b"precious");
    let run = auralis(&[
        "learn",
        s(&input),
        "-o",
        s(&vst3),
        "--preset",
        "warm",
        "--force",
    ]);
    assert!(run.status.success());
    assert!(
        std::fs::read(&vst3).unwrap() == v,
        "not the same preset again"
    );
    assert_eq!(
        listing(dir.path()),
        ["mix.clapstate", "mix.vstpreset", "mix.wav"]
    );
}

#[test]
fn learn_refuses_what_it_cannot_write_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mix.wav");
    write_input(&input, &programme(44_100, 2.0, 2), 44_100, Format::Int16);
    let one_line = |run: &Output| {
        let err = String::from_utf8_lossy(&run.stderr).into_owned();
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    };
    // Usage errors: exit status 2, before any work.
    let unknown = dir.path().join("mix.fxp");
    let run = auralis(&["learn", s(&input), "-o", s(&unknown)]);
    assert_eq!(run.status.code(), Some(2));
    let err = one_line(&run);
    assert!(
        err.contains("mix.fxp") && err.contains(".vstpreset"),
        "{err}"
    );
    let preset = dir.path().join("x.vstpreset");
    let run = auralis(&["learn", s(&input), "-o", s(&preset), "--target-lufs", "-35"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(one_line(&run).contains("Target Loudness -35 LUFS"));
    // The input is never overwritten, and an input that is not audio fails clearly.
    let run = auralis(&["learn", s(&input), "-o", s(&input), "--force"]);
    assert!(!run.status.success());
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"not audio at all").unwrap();
    let run = auralis(&["learn", s(&junk), "-o", s(&preset)]);
    assert_eq!(run.status.code(), Some(1));
    assert!(one_line(&run).contains("junk.wav"));
    assert_eq!(listing(dir.path()), ["junk.wav", "mix.wav"]);
}

/// Decodes any file `auralis` reads (through the same symphonia decoder), planar.
fn decode(path: &Path) -> (Vec<Vec<f32>>, u32) {
    let mut reader = auralis::audio_file::AudioReader::open(path).unwrap();
    let mut out = vec![Vec::new(); reader.channels()];
    let mut block = vec![vec![0.0f32; 4096]; reader.channels()];
    loop {
        let n = reader.read(&mut block).unwrap();
        if n == 0 {
            break;
        }
        for (o, b) in out.iter_mut().zip(&block) {
            o.extend_from_slice(&b[..n]);
        }
    }
    (out, reader.sample_rate())
}

/// The title, artist, album and track number symphonia reads from `path`.
fn read_tags(path: &Path) -> [Option<String>; 4] {
    use symphonia::core::meta::StandardTagKey as K;
    let file = std::fs::File::open(path).unwrap();
    let stream = symphonia::core::io::MediaSourceStream::new(Box::new(file), Default::default());
    let mut probed = symphonia::default::get_probe()
        .format(
            &Default::default(),
            stream,
            &Default::default(),
            &Default::default(),
        )
        .unwrap();
    let mut found: [Option<String>; 4] = Default::default();
    let revision = probed.format.metadata().current().cloned();
    for tag in revision.iter().flat_map(|r| r.tags().to_vec()) {
        let slot = match tag.std_key {
            Some(K::TrackTitle) => 0,
            Some(K::Artist) => 1,
            Some(K::Album) => 2,
            Some(K::TrackNumber) => 3,
            _ => continue,
        };
        // RIFF INFO values end in NUL, which symphonia keeps.
        found[slot] = Some(tag.value.to_string().trim_end_matches('\0').to_owned());
    }
    found
}

/// Adds a RIFF `LIST`/`INFO` chunk of `(id, text)` entries ahead of a WAV file's data chunk.
fn tag_wav(path: &Path, entries: &[(&[u8; 4], &str)]) {
    let bytes = std::fs::read(path).unwrap();
    let data = bytes.windows(4).position(|w| w == b"data").unwrap();
    let mut info = b"INFO".to_vec();
    for (id, text) in entries {
        let mut t = text.as_bytes().to_vec();
        t.push(0);
        info.extend_from_slice(*id);
        info.extend_from_slice(&(t.len() as u32).to_le_bytes());
        if t.len() % 2 == 1 {
            t.push(0);
        }
        info.extend_from_slice(&t);
    }
    let mut out = bytes[..data].to_vec();
    out.extend_from_slice(b"LIST");
    out.extend_from_slice(&(info.len() as u32).to_le_bytes());
    out.extend_from_slice(&info);
    out.extend_from_slice(&bytes[data..]);
    let riff = (out.len() - 8) as u32;
    out[4..8].copy_from_slice(&riff.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

#[test]
fn flac_masters_are_the_wav_masters_within_the_quantisation_step() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    // Longer than a few FLAC frames, and not a whole number of them.
    write_input(&input, &programme(44_100, 3.3, 2), 44_100, Format::Float32);
    let render = |format: &str, name: &str| {
        let out = dir.path().join(name);
        let run = auralis(&["master", s(&input), "-o", s(&out), "--format", format]);
        assert!(
            run.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        decode(&out)
    };
    let (exact, rate) = render("wav32f", "exact.wav");
    for (format, bits) in [("flac16", 16), ("flac24", 24)] {
        let (flac, flac_rate) = render(format, &format!("{format}.flac"));
        assert_eq!(flac_rate, rate);
        assert_eq!(flac[0].len(), exact[0].len(), "{format}: length");
        // TPDF dither of at most 1 LSB, then rounding by half of one.
        let lsb = 1.0 / (1u32 << (bits - 1)) as f32;
        let worst = largest_difference(&flac, &exact);
        assert!(worst <= 1.5 * lsb + 1e-7, "{format}: {} LSB", worst / lsb);
        // Dithered, not truncated: the error's RMS is that of TPDF plus rounding (1/2 LSB).
        let n = (flac[0].len() * 2) as f64;
        let rms = (flac
            .iter()
            .zip(&exact)
            .flat_map(|(a, b)| a.iter().zip(b))
            .map(|(a, b)| ((a - b) as f64 / lsb as f64).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        assert!((0.4..0.6).contains(&rms), "{format}: error RMS {rms} LSB");
    }
    // The same dither as WAV: the 16-bit FLAC and WAV masters hold the same samples.
    let (wav16, _) = render("wav16", "w16.wav");
    let (flac16, _) = decode(&dir.path().join("flac16.flac"));
    assert_eq!(largest_difference(&wav16, &flac16), 0.0);
}

#[test]
fn tags_are_carried_from_the_input_into_flac_and_wav_masters() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 1.5, 2), 44_100, Format::Int24);
    tag_wav(
        &input,
        &[
            (b"INAM", "Blue in Green"),
            (b"IART", "The Synthetic Quartet"),
            (b"IPRD", "Kind of Noise"),
            (b"IPRT", "3"),
        ],
    );
    let want = [
        Some("Blue in Green".to_owned()),
        Some("The Synthetic Quartet".to_owned()),
        Some("Kind of Noise".to_owned()),
        Some("3".to_owned()),
    ];
    assert_eq!(read_tags(&input), want, "the input's own tags");
    let out_dir = dir.path().join("masters");
    for format in ["flac24", "wav24"] {
        let run = auralis(&[
            "master",
            s(&input),
            "--out-dir",
            s(&out_dir),
            "--format",
            format,
        ]);
        assert!(
            run.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    for name in ["in.mastered.flac", "in.mastered.wav"] {
        let out = out_dir.join(name);
        assert_eq!(read_tags(&out), want, "{name}");
    }
    // Still a WAV hound reads (it skips the LIST chunk), of the input's length.
    let (wav, _) = read_wav(&out_dir.join("in.mastered.wav"));
    assert_eq!(wav[0].len(), (1.5 * 44_100.0) as usize);
}

/// The error's power (mean square, full scale 1) below `low_hz` and above `high_hz`, from a
/// Hann-windowed 8192-point average periodogram of `error` at 44.1 kHz.
fn error_band_powers(error: &[f32], low_hz: f64, high_hz: f64) -> (f64, f64) {
    use realfft::RealFftPlanner;
    const N: usize = 8192;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N);
    let window: Vec<f64> = (0..N)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / N as f64).cos())
        .collect();
    let mut power = vec![0.0f64; N / 2 + 1];
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    for frame in error.chunks_exact(N) {
        for ((x, &e), w) in input.iter_mut().zip(frame).zip(&window) {
            *x = e as f64 * w;
        }
        fft.process(&mut input, &mut spectrum).unwrap();
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p += c.norm_sqr();
        }
    }
    let hz = |bin: usize| bin as f64 * 44_100.0 / N as f64;
    let low = (1..power.len())
        .filter(|&b| hz(b) < low_hz)
        .map(|b| power[b])
        .sum();
    let high = (1..power.len())
        .filter(|&b| hz(b) > high_hz)
        .map(|b| power[b])
        .sum();
    (low, high)
}

#[test]
fn shaped_dither_moves_the_error_from_below_4_khz_to_above_10_khz() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 4.0, 2), 44_100, Format::Float32);
    let render = |extra: &[&str], name: &str| {
        let out = dir.path().join(name);
        let mut args = vec!["master", s(&input), "-o", s(&out)];
        args.extend_from_slice(extra);
        let run = auralis(&args);
        assert!(
            run.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        out
    };
    let (exact, _) = read_wav(&render(&["--format", "wav32f"], "exact.wav"));
    let bands = |path: &Path| {
        let (master, _) = read_wav(path);
        let error: Vec<f32> = master[0]
            .iter()
            .zip(&exact[0])
            .map(|(a, b)| a - b)
            .collect();
        error_band_powers(&error, 4_000.0, 10_000.0)
    };
    let tpdf = bands(&render(&["--format", "wav16"], "tpdf.wav"));
    let shaped_path = render(&["--format", "wav16", "--dither", "shaped"], "shaped.wav");
    let shaped = bands(&shaped_path);
    let db = |a: f64, b: f64| 10.0 * (a / b).log10();
    let (low_db, high_db) = (db(shaped.0, tpdf.0), db(shaped.1, tpdf.1));
    println!("shaped against TPDF: {low_db:.1} dB below 4 kHz, {high_db:+.1} dB above 10 kHz");
    // Wannamaker's filter: some 12-25 dB less below 4 kHz, far more above 14 kHz.
    assert!(low_db < -10.0, "below 4 kHz: {low_db:.1} dB against TPDF");
    assert!(high_db > 6.0, "above 10 kHz: {high_db:.1} dB against TPDF");
    // Seeded: the same bounce again is the same file.
    let again = render(&["--format", "wav16", "--dither", "shaped"], "again.wav");
    assert_eq!(hash(&again), hash(&shaped_path));
    // No dither: rounding only, the error is within half an LSB.
    let (plain, _) = read_wav(&render(
        &["--format", "wav16", "--dither", "none"],
        "none.wav",
    ));
    let worst = largest_difference(&plain, &exact);
    assert!(worst <= 0.5 / 32_768.0 + 1e-7, "{} LSB", worst * 32_768.0);
}

/// BS.1770 integrated loudness of `tracks` played in a row (all gated together), by `ebur128`.
fn album_lufs(tracks: &[Vec<Vec<f32>>], sample_rate: u32) -> f64 {
    let meters: Vec<ebur128::EbuR128> = tracks
        .iter()
        .map(|t| {
            let mut m =
                ebur128::EbuR128::new(t.len() as u32, sample_rate, ebur128::Mode::I).unwrap();
            let planar: Vec<&[f32]> = t.iter().map(|c| c.as_slice()).collect();
            m.add_frames_planar_f32(&planar).unwrap();
            m
        })
        .collect();
    ebur128::EbuR128::loudness_global_multiple(meters.iter()).unwrap()
}

#[test]
fn an_album_lands_on_the_target_and_its_tracks_keep_their_differences() {
    let dir = tempfile::tempdir().unwrap();
    // Three tracks of different lengths, 9 dB apart from the quietest to the loudest.
    let mut inputs = Vec::new();
    let mut signals = Vec::new();
    for (i, (seconds, gain_db)) in [(6.0f32, -5.0f32), (8.0, 0.0), (5.0, 4.0)]
        .iter()
        .enumerate()
    {
        let g = 10f32.powf(gain_db / 20.0);
        let signal: Vec<Vec<f32>> = programme(44_100, *seconds, 2)
            .into_iter()
            .map(|c| c.into_iter().map(|x| x * g).collect())
            .collect();
        let path = dir.path().join(format!("track{}.wav", i + 1));
        write_input(&path, &signal, 44_100, Format::Float32);
        inputs.push(path);
        signals.push(signal);
    }
    let out_dir = dir.path().join("album");
    let report = dir.path().join("album.json");
    let mut args = vec!["master", "--album", "--out-dir", s(&out_dir)];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend([
        "--target-lufs",
        "-18",
        "--format",
        "wav32f",
        "--report",
        s(&report),
    ]);
    auralis_ok(&args);
    let before: Vec<f64> = signals.iter().map(|t| measure(t, 44_100).0).collect();
    let masters: Vec<Vec<Vec<f32>>> = (1..=3)
        .map(|i| read_wav(&out_dir.join(format!("track{i}.mastered.wav"))).0)
        .collect();
    let after: Vec<f64> = masters.iter().map(|t| measure(t, 44_100).0).collect();
    let album = album_lufs(&masters, 44_100);
    println!("album {album:.2} LUFS; tracks {before:.2?} -> {after:.2?}");
    assert!((album - -18.0).abs() <= 0.3, "album at {album:.2} LUFS");
    for i in 0..3 {
        for j in i + 1..3 {
            let (was, is) = (before[i] - before[j], after[i] - after[j]);
            assert!(
                (was - is).abs() <= 0.5,
                "tracks {i} and {j}: {was:.2} LU apart before, {is:.2} after"
            );
        }
    }
    // The report gives the album and every track: loudness, range and true peak.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let reported = json["album"]["after"]["integrated_lufs"].as_f64().unwrap();
    assert!(
        (reported - album).abs() < 0.05,
        "{reported} against {album}"
    );
    let tracks = json["album"]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 3);
    for t in tracks {
        for key in ["integrated_lufs", "lra_lu", "true_peak_dbtp"] {
            assert!(t["after"][key].as_f64().unwrap().is_finite(), "{key}: {t}");
        }
        assert!(t["after"]["true_peak_dbtp"].as_f64().unwrap() <= -1.0 + 0.05);
    }
    assert!(json["album"]["after"]["lra_lu"]
        .as_f64()
        .unwrap()
        .is_finite());
    // The same music at three levels: one tonal balance, so the record's EQ alone.
    for t in tracks {
        let own = t["tonal_correction_db"].as_f64().unwrap();
        assert!(
            own < 0.5,
            "a track of the record's balance corrected by {own} dB"
        );
    }

    // Pushed loud with little limiting allowed, the loudest track cannot reach its place: it
    // stays short, and the report and the summary say so.
    let loud_dir = dir.path().join("loud");
    let loud_report = dir.path().join("loud.json");
    let mut args = vec!["master", "--album", "--out-dir", s(&loud_dir)];
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend([
        "--target-lufs",
        "-10",
        "--set",
        "max_gr=1",
        "--report",
        s(&loud_report),
    ]);
    let run = auralis(&args);
    assert!(run.status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&loud_report).unwrap()).unwrap();
    let short = json["album"]["tracks"][2]["limited_short_lu"].as_f64();
    assert!(short.is_some_and(|s| s > 0.3), "{}", json["album"]);
    assert!(String::from_utf8_lossy(&run.stdout).contains("Max Limiting reached"));
}

/// The width and height in a PNG file's header, after checking its signature.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn plot_draws_a_picture_of_each_master() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    write_input(&a, &programme(44_100, 4.0, 2), 44_100, Format::Int16);
    write_input(&b, &programme(48_000, 3.0, 1), 48_000, Format::Int16);
    // One input: the named file.
    let picture = dir.path().join("a.png");
    let out = dir.path().join("a.out.wav");
    auralis_ok(&["master", s(&a), "-o", s(&out), "--plot", s(&picture)]);
    assert_eq!(png_size(&picture), (1200, 900));
    // Drawn, not blank: four panels of curves and text compress to tens of kilobytes.
    assert!(std::fs::metadata(&picture).unwrap().len() > 20_000);
    // Several: one beside each output.
    let out_dir = dir.path().join("masters");
    auralis_ok(&["master", s(&a), s(&b), "--out-dir", s(&out_dir), "--plot"]);
    assert_eq!(
        listing(&out_dir),
        [
            "a.mastered.png",
            "a.mastered.wav",
            "b.mastered.png",
            "b.mastered.wav"
        ]
    );
    for name in ["a.mastered.png", "b.mastered.png"] {
        assert_eq!(png_size(&out_dir.join(name)), (1200, 900));
    }
}

#[test]
fn a_cached_analysis_gives_the_same_master_and_a_damaged_one_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_input(&input, &programme(44_100, 6.0, 2), 44_100, Format::Int24);
    let cache = dir.path().join("cache");
    let report = dir.path().join("r.json");
    let run = |out: &str, extra: &[&str]| -> (std::path::PathBuf, Option<bool>) {
        let out = dir.path().join(out);
        let mut args = vec![
            "master",
            s(&input),
            "-o",
            s(&out),
            "--force",
            "--report",
            s(&report),
        ];
        args.extend_from_slice(extra);
        let run = auralis(&args);
        assert!(
            run.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        (out, json["files"][0]["analysis_cached"].as_bool())
    };
    let with_cache = ["--cache", s(&cache)];
    let (first, cached) = run("first.wav", &with_cache);
    assert_eq!(cached, Some(false));
    let entries = listing(&cache);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (second, cached) = run("second.wav", &with_cache);
    assert_eq!(cached, Some(true));
    assert_eq!(hash(&first), hash(&second), "the cached master differs");

    // Other settings from the same cache entry: the same master as without any cache.
    let other = [
        "--preset",
        "warm",
        "--set",
        "eq_amt=30",
        "--set",
        "dyn_amt=80",
    ];
    let mut cached_args = other.to_vec();
    cached_args.extend_from_slice(&with_cache);
    let (from_cache, cached) = run("other-cached.wav", &cached_args);
    assert_eq!(cached, Some(true));
    let (fresh, cached) = run("other-fresh.wav", &other);
    assert_eq!(cached, None);
    assert_eq!(
        hash(&from_cache),
        hash(&fresh),
        "cached measurements depend on the settings"
    );

    // A damaged entry is ignored, the analysis runs, and the entry is rewritten.
    let entry = cache.join(&entries[0]);
    std::fs::write(&entry, b"{\"analysis_version\": 1, \"key\": \"trunc").unwrap();
    let (third, cached) = run("third.wav", &with_cache);
    assert_eq!(cached, Some(false));
    assert_eq!(hash(&third), hash(&first));
    let rewritten: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    assert_eq!(rewritten["analysis_version"], 1);
    assert_eq!(run("fourth.wav", &with_cache).1, Some(true));
}

#[test]
fn an_album_from_the_cache_is_the_same_album() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (i, gain) in [0.5f32, 1.0].iter().enumerate() {
        let signal: Vec<Vec<f32>> = programme(44_100, 4.0, 2)
            .into_iter()
            .map(|c| c.into_iter().map(|x| x * gain).collect())
            .collect();
        let path = dir.path().join(format!("t{i}.wav"));
        write_input(&path, &signal, 44_100, Format::Int24);
        inputs.push(path);
    }
    let cache = dir.path().join("cache");
    let run = |out: &str| {
        let out_dir = dir.path().join(out);
        let report = dir.path().join(format!("{out}.json"));
        let mut args = vec!["master", "--album", "--out-dir", s(&out_dir)];
        args.extend(inputs.iter().map(|p| s(p)));
        args.extend(["--cache", s(&cache), "--report", s(&report)]);
        auralis_ok(&args);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let cached: Vec<Option<bool>> = (0..2)
            .map(|i| json["files"][i]["analysis_cached"].as_bool())
            .collect();
        let hashes: Vec<u64> = (0..2)
            .map(|i| hash(&out_dir.join(format!("t{i}.mastered.wav"))))
            .collect();
        (
            cached,
            hashes,
            json["album"]["after"]["integrated_lufs"].as_f64(),
        )
    };
    let (cached, first, album) = run("first");
    assert_eq!(cached, [Some(false), Some(false)]);
    let (cached, second, album_again) = run("second");
    assert_eq!(cached, [Some(true), Some(true)]);
    assert_eq!(first, second);
    assert_eq!(album, album_again);
}

#[test]
fn an_album_corrects_the_track_that_leaves_the_records_balance() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    // Two tracks of one balance, and a third with a loud hiss over the same music.
    for i in 0..3 {
        let mut seed = 0x1234_5678_u32;
        let signal: Vec<Vec<f32>> = programme(44_100, 5.0, 2)
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|x| {
                        seed ^= seed << 13;
                        seed ^= seed >> 17;
                        seed ^= seed << 5;
                        let hiss = seed as f32 / u32::MAX as f32 - 0.5;
                        x + if i == 2 { 0.08 * hiss } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        let path = dir.path().join(format!("t{i}.wav"));
        write_input(&path, &signal, 44_100, Format::Float32);
        inputs.push(path);
    }
    let report = dir.path().join("r.json");
    let mut args = vec!["master", "--album", "--out-dir"];
    let out_dir = dir.path().join("out");
    args.push(s(&out_dir));
    args.extend(inputs.iter().map(|p| s(p)));
    args.extend(["--report", s(&report)]);
    auralis_ok(&args);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let own: Vec<f64> = (0..3)
        .map(|i| {
            json["album"]["tracks"][i]["tonal_correction_db"]
                .as_f64()
                .unwrap()
        })
        .collect();
    println!("own tonal corrections {own:.2?} dB");
    // The record is a third hiss: the hissing track lies further from its balance than the two
    // others (which, alike, get alike corrections), by more than a dB in its largest band.
    assert!(own[2] > 1.0, "{own:?}");
    assert!(own[2] > own[0].max(own[1]) + 1.0, "{own:?}");
    assert!((own[0] - own[1]).abs() < 0.01, "{own:?}");
}
