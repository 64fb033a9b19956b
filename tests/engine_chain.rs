//! The engine as a whole: latency, dry path, switches and the intensity mix, on signals made here.

use auralis::controls::tilt_curve;
use auralis::engine::{CompressorSettings, Engine, Settings};

const FS: f32 = 48_000.0;

/// A stereo test signal: two unrelated sines plus a little deterministic noise.
fn programme(len: usize) -> [Vec<f32>; 2] {
    let mut seed = 0x2545_f491_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed as f32 / u32::MAX as f32 - 0.5) * 0.1
    };
    let l = (0..len)
        .map(|n| 0.5 * (n as f32 * 0.031).sin() + noise())
        .collect();
    let r = (0..len)
        .map(|n| 0.4 * (n as f32 * 0.017 + 1.0).sin() + noise())
        .collect();
    [l, r]
}

/// Runs `input` through `engine` in blocks of `block` samples.
fn run(engine: &mut Engine, input: &[Vec<f32>; 2], block: usize) -> [Vec<f32>; 2] {
    let [mut l, mut r] = input.clone();
    for (cl, cr) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        engine.process(&mut [cl, cr]);
    }
    [l, r]
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn neutral_chain_is_a_pure_delay_whatever_the_block_size() {
    let input = programme(20_000);
    for block in [1, 17, 64, 512, 4096, 8192] {
        let mut engine = Engine::new(FS, 512, 2);
        let latency = engine.latency();
        // At least the limiter's 2 ms lookahead.
        assert!(
            latency >= (0.002 * FS).round() as usize,
            "latency {latency}"
        );
        let out = run(&mut engine, &input, block);
        for c in 0..2 {
            assert!(out[c][..latency].iter().all(|&x| x == 0.0));
            assert_eq!(
                max_diff(&out[c][latency..], &input[c][..input[c].len() - latency]),
                0.0,
                "block {block}, channel {c}"
            );
        }
    }
}

#[test]
fn latency_is_where_an_impulse_comes_out() {
    for fs in [44_100.0, 48_000.0, 96_000.0] {
        let mut engine = Engine::new(fs, 512, 1);
        let mut x = vec![0.0f32; 4096];
        x[100] = 0.5;
        engine.process(&mut [&mut x]);
        let peak = x
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
            .unwrap()
            .0;
        assert_eq!(peak - 100, engine.latency(), "fs {fs}");
    }
}

#[test]
fn zero_intensity_and_bypass_give_the_delayed_dry_signal() {
    let input = programme(12_000);
    for which in ["intensity", "bypass"] {
        let mut engine = Engine::new(FS, 512, 2);
        let mut s = Settings::neutral();
        s.input_gain_db = 6.0; // the wet path differs from the dry one
        match which {
            "intensity" => s.intensity = 0.0,
            _ => s.bypass = true,
        }
        engine.set_settings(&s);
        engine.settle();
        let out = run(&mut engine, &input, 333);
        let lat = engine.latency();
        for c in 0..2 {
            let d = max_diff(&out[c][lat..], &input[c][..input[c].len() - lat]);
            assert!(d < 1e-6, "{which}: {d}");
        }
    }
}

#[test]
fn bypass_gain_scales_the_aligned_dry_signal_and_nothing_else() {
    let input = programme(12_000);
    let g = 10f32.powf(-7.5 / 20.0);
    let mut engine = Engine::new(FS, 512, 2);
    let mut s = Settings::neutral();
    s.input_gain_db = 6.0; // the wet path differs from the dry one
    s.bypass = true;
    s.bypass_gain_db = -7.5;
    engine.set_settings(&s);
    engine.settle();
    let out = run(&mut engine, &input, 333);
    let lat = engine.latency();
    for c in 0..2 {
        assert!(out[c][..lat].iter().all(|&x| x == 0.0));
        for n in lat..input[c].len() {
            let want = g * input[c][n - lat];
            assert!((out[c][n] - want).abs() < 1e-6, "channel {c}, n {n}");
        }
    }
    // Not bypassed, the gain is ignored: the intensity mix blends the input as it came.
    let mut s = Settings::neutral();
    s.intensity = 0.0;
    s.bypass_gain_db = -7.5;
    let mut engine = Engine::new(FS, 512, 2);
    engine.set_settings(&s);
    engine.settle();
    let out = run(&mut engine, &input, 333);
    for c in 0..2 {
        let d = max_diff(&out[c][lat..], &input[c][..input[c].len() - lat]);
        assert_eq!(d, 0.0, "channel {c}");
    }
}

#[test]
fn switching_to_a_gained_bypass_and_back_glides_without_steps() {
    // DC makes a step visible between neighbouring samples; the wet path is 6 dB hotter than
    // the dry one and the bypass is 9 dB quieter still.
    let mut engine = Engine::new(FS, 512, 1);
    let mut s = Settings::neutral();
    s.input_gain_db = 6.0;
    engine.set_settings(&s);
    engine.settle();
    let mut x = vec![0.25f32; 48_000];
    let (first, rest) = x.split_at_mut(9_600);
    engine.process(&mut [first]);
    s.bypass = true;
    s.bypass_gain_db = -9.0;
    engine.set_settings(&s);
    let (second, third) = rest.split_at_mut(19_200);
    engine.process(&mut [second]);
    s.bypass = false;
    engine.set_settings(&s);
    engine.process(&mut [third]);
    let lat = engine.latency();
    let wet = 0.25 * 10f32.powf(6.0 / 20.0);
    let dry = 0.25 * 10f32.powf(-9.0 / 20.0);
    assert!((x[9_000] - wet).abs() < 1e-5, "before: {}", x[9_000]);
    assert!((x[28_000] - dry).abs() < 1e-5, "bypassed: {}", x[28_000]);
    assert!((x[47_000] - wet).abs() < 1e-5, "after: {}", x[47_000]);
    // Both moves take the 20 ms glide (960 samples): no step larger than the whole move spread
    // over it, with room for the crossfade's curvature.
    let max_jump = x[lat..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    let even = (wet - dry) / 960.0;
    assert!(
        max_jump < 3.0 * even,
        "largest step {max_jump}, even {even}"
    );
    // And it does move within the glide, not later.
    assert!((x[9_600 + 960 + 10] - dry).abs() < 1e-5);
}

#[test]
fn half_intensity_blends_dry_and_wet_in_phase() {
    let input = programme(12_000);
    let mut engine = Engine::new(FS, 512, 2);
    let mut s = Settings::neutral();
    s.input_gain_db = 20.0 * 1.5f32.log10(); // wet = 1.5 x dry, still under the ceiling
    s.intensity = 0.5;
    engine.set_settings(&s);
    engine.settle();
    let out = run(&mut engine, &input, 100);
    let lat = engine.latency();
    // 0.5 * x + 0.5 * 1.5x = 1.25x, only if the dry path is aligned with the wet one.
    for c in 0..2 {
        for n in lat..input[c].len() {
            let want = 1.25 * input[c][n - lat];
            assert!((out[c][n] - want).abs() < 1e-5, "n {n}");
        }
    }
}

#[test]
fn gain_changes_glide_without_steps() {
    // A DC input makes any gain step visible as a jump between neighbouring samples.
    let mut engine = Engine::new(FS, 512, 1);
    let mut s = Settings::neutral();
    s.output_gain_db = -24.0;
    engine.set_settings(&s);
    let mut x = vec![0.5f32; 4800];
    engine.process(&mut [&mut x]);
    let lat = engine.latency();
    let max_jump = x[lat..]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    // A 20 ms glide straight in dB over -24 dB takes 0.025 dB steps: 0.5 * (1 - 10^(-0.025/20))
    // = 0.0014 at the most.
    assert!(max_jump < 0.0015, "largest step {max_jump}");
    let settled = x[x.len() - 1];
    assert!((settled - 0.5 * 10f32.powf(-24.0 / 20.0)).abs() < 1e-6);
}

#[test]
fn non_finite_input_never_reaches_the_output() {
    let mut engine = Engine::new(FS, 512, 2);
    let mut l = vec![0.25f32; 2048];
    let mut r = vec![0.25f32; 2048];
    l[10] = f32::NAN;
    r[500] = f32::INFINITY;
    l[1500] = f32::NEG_INFINITY;
    engine.process(&mut [&mut l, &mut r]);
    assert!(l.iter().chain(r.iter()).all(|x| x.is_finite()));
}

#[test]
fn mono_engine_leaves_extra_channels_alone() {
    let mut engine = Engine::new(FS, 64, 1);
    let mut a = vec![0.5f32; 256];
    let mut b = vec![0.5f32; 256];
    engine.process(&mut [&mut a, &mut b]);
    assert!(b.iter().all(|&x| x == 0.5));
    assert_eq!(a[engine.latency()], 0.5);
    assert_eq!(a[engine.latency() - 1], 0.0);
}

/// Settings with every stage doing something audible.
fn busy_settings() -> Settings {
    let mut s = Settings::neutral();
    s.eq_gains_db = tilt_curve(4.0);
    s.compressor = CompressorSettings {
        threshold_db: -20.0,
        ratio: 3.0,
        ..CompressorSettings::neutral()
    };
    s.bands = [s.compressor; 3];
    s.width = 1.4;
    s.mono_bass_hz = 120.0;
    s.input_gain_db = 3.0;
    s.leveler_gain_db = 4.0;
    s.ceiling_db = -1.0;
    s
}

#[test]
fn active_chain_gives_identical_output_whatever_the_block_size() {
    let input = programme(30_000);
    let render = |block: usize, multiband: bool, auto: bool| {
        let mut engine = Engine::new(FS, 512, 2);
        let mut s = busy_settings();
        s.multiband = multiband;
        s.limiter_auto_release = auto;
        engine.set_settings(&s);
        engine.settle();
        run(&mut engine, &input, block)
    };
    for (multiband, auto) in [(false, false), (true, false), (false, true)] {
        let reference = render(4096, multiband, auto);
        for block in [1, 64, 333] {
            let out = render(block, multiband, auto);
            for c in 0..2 {
                let first = out[c].iter().zip(&reference[c]).position(|(a, b)| a != b);
                assert_eq!(
                    first, None,
                    "block {block}, multiband {multiband}, auto release {auto}, channel {c}"
                );
            }
        }
        // And the stages really did something.
        assert!(max_diff(&reference[0][200..], &input[0][..input[0].len() - 200]) > 0.05);
    }
}

#[test]
fn switching_stages_mid_stream_does_not_click() {
    // A quiet sine: the largest natural step between samples is small, so a click shows.
    let n = 48_000;
    let sine: Vec<f32> = (0..n)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 200.0 * i as f32 / FS).sin())
        .collect();
    let natural = 0.3 * 2.0 * std::f32::consts::PI * 200.0 / FS;
    let mut engine = Engine::new(FS, 512, 2);
    let mut s = busy_settings();
    s.eq_gains_db = tilt_curve(-6.0);
    engine.set_settings(&s);
    engine.settle();
    let (mut l, mut r) = (sine.clone(), sine.clone());
    for (i, (cl, cr)) in l.chunks_mut(480).zip(r.chunks_mut(480)).enumerate() {
        // Toggle a different stage every 10 ms.
        match i % 6 {
            0 => s.eq_enabled = !s.eq_enabled,
            1 => s.dynamics_enabled = !s.dynamics_enabled,
            2 => s.multiband = !s.multiband,
            3 => s.leveler_enabled = !s.leveler_enabled,
            4 => s.limiter_enabled = !s.limiter_enabled,
            _ => s.stereo_enabled = !s.stereo_enabled,
        }
        engine.set_settings(&s);
        engine.process(&mut [cl, cr]);
    }
    let worst = l
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max);
    // The EQ's low end is 6 dB up at most (x2), the input trim +3 dB (x1.41): anything beyond
    // that bound is a discontinuity.
    assert!(
        worst < natural * 2.0 * 1.42 * 1.1,
        "worst step {worst}, natural {natural}"
    );
}

/// True peak in dBTP of a stereo signal, by the `ebur128` crate's meter (an independent one).
fn true_peak_dbtp(signal: &[Vec<f32>; 2], fs: f32) -> f64 {
    let mut meter = ebur128::EbuR128::new(2, fs as u32, ebur128::Mode::TRUE_PEAK).expect("meter");
    meter
        .add_frames_planar_f32(&[&signal[0], &signal[1]])
        .expect("frames");
    let peak = (0..2)
        .map(|c| meter.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    20.0 * peak.log10()
}

#[test]
fn a_hot_chain_never_exceeds_the_ceiling() {
    for fs in [44_100.0, 48_000.0] {
        let input = programme(3 * fs as usize);
        for ceiling in [-1.0, -0.3] {
            let mut engine = Engine::new(fs, 512, 2);
            let mut s = busy_settings();
            s.ceiling_db = ceiling;
            s.leveler_gain_db = 12.0; // drive the limiter hard
            engine.set_settings(&s);
            engine.settle();
            let out = run(&mut engine, &input, 480);
            let tp = true_peak_dbtp(&out, fs);
            assert!(
                tp <= ceiling as f64 + 0.1,
                "fs {fs}, ceiling {ceiling}: {tp:.3} dBTP"
            );
            // And it is limiting, not just quiet.
            assert!(
                tp > ceiling as f64 - 1.0,
                "fs {fs}, ceiling {ceiling}: {tp:.3} dBTP"
            );
        }
    }
}

#[test]
fn neutral_chain_adds_no_distortion_to_a_sine() {
    // THD+N of a 1 kHz sine at -20 dBFS: what is left after removing the best-fitting 1 kHz
    // sine from the (latency-aligned) output, relative to the sine.
    let fs = 48_000.0f64;
    let n = 48_000;
    let amp = 0.1f64;
    let x: Vec<f32> = (0..n)
        .map(|i| (amp * (std::f64::consts::TAU * 1000.0 * i as f64 / fs).sin()) as f32)
        .collect();
    let mut engine = Engine::new(fs as f32, 512, 2);
    let (mut l, mut r) = (x.clone(), x.clone());
    engine.process(&mut [&mut l, &mut r]);
    let lat = engine.latency();
    let y = &l[lat + 4800..];
    let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (k, &v) in y.iter().enumerate() {
        let w = std::f64::consts::TAU * 1000.0 * (k + 4800) as f64 / fs;
        let (sn, cs) = w.sin_cos();
        ss += sn * sn;
        sc += sn * cs;
        cc += cs * cs;
        ys += v as f64 * sn;
        yc += v as f64 * cs;
    }
    let det = ss * cc - sc * sc;
    let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
    let residual: f64 = y
        .iter()
        .enumerate()
        .map(|(k, &v)| {
            let w = std::f64::consts::TAU * 1000.0 * (k + 4800) as f64 / fs;
            let e = v as f64 - (a * w.sin() + b * w.cos());
            e * e
        })
        .sum::<f64>()
        / y.len() as f64;
    let thd_n_db = 10.0 * (residual / (amp * amp / 2.0)).log10();
    eprintln!("neutral chain THD+N: {thd_n_db:.1} dB");
    assert!(thd_n_db < -100.0, "THD+N {thd_n_db:.1} dB");
}
