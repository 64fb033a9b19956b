//! A whole mastering session (analysis + engine), as the plugin and the CLI run it.

use auralis::analysis::{AnalysisMode, Listener, Targets};
use auralis::controls::Controls;
use auralis::session::Session;

const FS: f32 = 44_100.0;

/// A dull, quiet stereo mix: noise falling 12 dB per octave above 100 Hz (four times as steep as
/// pink noise, darker than the tonal corridors of real productions, whose highs fall 6-8 dB per
/// octave) with a slow beat, around -30 dBFS RMS.
fn dull_mix(seconds: f32) -> [Vec<f32>; 2] {
    let n = (seconds * FS) as usize;
    let mut seed = 0x1357_9bdf_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let (mut l, mut r) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut lp_l, mut lp_r) = (0.0f32, 0.0f32);
    let (mut lp2_l, mut lp2_r) = (0.0f32, 0.0f32);
    for i in 0..n {
        let beat = 1.0 + 0.5 * (std::f32::consts::TAU * 2.0 * i as f32 / FS).sin();
        // Two one-pole low passes around 100 Hz: little top end.
        lp_l += 0.015 * (noise() - lp_l);
        lp_r += 0.015 * (noise() - lp_r);
        lp2_l += 0.015 * (lp_l - lp2_l);
        lp2_r += 0.015 * (lp_r - lp2_r);
        l.push(4.0 * beat * lp2_l);
        r.push(4.0 * beat * (0.7 * lp2_l + 0.3 * lp2_r));
    }
    [l, r]
}

fn render(session: &mut Session, input: &[Vec<f32>; 2], block: usize) -> [Vec<f32>; 2] {
    let [mut l, mut r] = input.clone();
    for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        session.process(&mut [a, b]);
    }
    [l, r]
}

fn integrated_lufs(signal: &[Vec<f32>; 2]) -> f64 {
    let mut m = ebur128::EbuR128::new(2, FS as u32, ebur128::Mode::I).unwrap();
    m.add_frames_planar_f32(&[&signal[0], &signal[1]]).unwrap();
    m.loudness_global().unwrap()
}

#[test]
fn offline_render_is_bit_identical_whatever_the_block_size() {
    let input = dull_mix(12.0);
    let offline = |block: usize| {
        let mut s = Session::new(FS, 512, 2, Controls::default(), Listener::inline(FS, 2));
        let out = render(&mut s, &input, block);
        (out, *s.targets())
    };
    let (reference, targets) = offline(4096);
    // The analysis really moved the chain during the render.
    assert!(
        targets.leveler_gain_db > 3.0,
        "{:?}",
        targets.leveler_gain_db
    );
    for block in [64, 4096, 1000, 1] {
        let (out, t) = offline(block);
        for c in 0..2 {
            let first = out[c].iter().zip(&reference[c]).position(|(a, b)| a != b);
            assert_eq!(first, None, "block {block}, channel {c}");
        }
        assert_eq!(format!("{t:?}"), format!("{targets:?}"));
    }
}

#[test]
fn adaptive_mastering_brightens_and_raises_a_dull_quiet_mix() {
    let input = dull_mix(30.0);
    let mut s = Session::new(FS, 512, 2, Controls::default(), Listener::inline(FS, 2));
    let out = render(&mut s, &input, 512);
    let t = *s.targets();
    // Dull: the balance tips toward the top (the corridor EQ is not mean-free: it may cut the
    // excess of lows rather than lift the top, the leveler restores the level), and the lows
    // are not lifted.
    let top: f32 = t.eq_gains_db[20..].iter().sum::<f32>() / 5.0;
    let low: f32 = t.eq_gains_db[..5].iter().sum::<f32>() / 5.0;
    assert!(top > low + 3.0 && low <= 0.0, "top {top}, low {low}");
    // Quiet: the last 10 s are much louder than the input's, toward the -14 LUFS target.
    let tail = |x: &[Vec<f32>; 2]| [x[0][20 * 44_100..].to_vec(), x[1][20 * 44_100..].to_vec()];
    let before = integrated_lufs(&tail(&input));
    let after = integrated_lufs(&tail(&out));
    assert!(
        after > before + 6.0,
        "before {before:.1}, after {after:.1} LUFS"
    );
}

#[test]
fn held_targets_apply_from_the_first_sample() {
    let input = dull_mix(2.0);
    let mut held = Targets::neutral();
    held.leveler_gain_db = 6.0;
    let controls = Controls {
        analysis: AnalysisMode::Hold,
        leveler_enabled: true,
        ..Controls::default()
    };
    // As the plugin does on activation with held targets from a saved project.
    let mut s = Session::new(FS, 512, 2, controls, Listener::inline(FS, 2));
    s.hold(held);
    let out = render(&mut s, &input, 256);
    let lat = s.latency();
    // From the first output sample the level is +6 dB (the leveler does not glide in).
    let gain = 10f32.powf(6.0 / 20.0);
    for n in lat..lat + 2000 {
        let want = input[0][n - lat] * gain;
        assert!(
            (out[0][n] - want).abs() < 1e-4,
            "n {n}: {} vs {want}",
            out[0][n]
        );
    }
    // And the analysis keeps holding them while it listens.
    assert_eq!(s.targets().leveler_gain_db, 6.0);
}

/// With held settings a bounce that starts from silence is the same samples however long the
/// plugin ran before it and however the host cuts its blocks: the first sound after a rest
/// restarts the chain and its control grid (Ardour renders exports with the running realtime
/// activation, after a pre-roll of its own).
#[test]
fn held_bounces_from_silence_do_not_depend_on_what_ran_before() {
    let music = dull_mix(6.0);
    let mut held = Targets::neutral();
    held.leveler_gain_db = 12.0; // into the limiter: its control-rate release is at work
    held.comp_ratio = 3.0;
    held.comp_threshold_db = -30.0;
    held.eq_gains_db[3] = 4.0;
    let bounce = |before: usize, blocks: &[usize]| {
        let mut s = Session::new(FS, 512, 2, Controls::default(), Listener::Fixed(held));
        let latency = s.latency();
        // Whatever ran before: other music, then the pre-roll's silence.
        let other = dull_mix(1.3);
        render(&mut s, &other, 300);
        let silence = vec![0.0f32; before];
        render(&mut s, &[silence.clone(), silence], 256);
        let [mut l, mut r] = music.clone();
        l.resize(l.len() + latency, 0.0);
        r.resize(r.len() + latency, 0.0);
        let mut start = 0;
        for &b in blocks.iter().cycle() {
            if start >= l.len() {
                break;
            }
            let end = (start + b).min(l.len());
            s.process(&mut [&mut l[start..end], &mut r[start..end]]);
            start = end;
        }
        (l, r)
    };
    let (l0, r0) = bounce(3_000, &[1024]);
    assert!(l0.iter().any(|x| x.abs() > 0.1), "no audio out");
    for (before, blocks) in [(7_777, &[333, 1024, 77][..]), (44_100, &[4096])] {
        let (l, r) = bounce(before, blocks);
        assert_eq!(
            l, l0,
            "left, {before} silent frames before, blocks {blocks:?}"
        );
        assert_eq!(r, r0, "right");
    }
}
