//! Realtime factors: seconds of 44.1 kHz stereo audio processed per second of one core, for
//! each DSP unit and for the whole chain with every stage active.
//!
//! ```sh
//! cargo bench --bench realtime                        # every unit and the whole chain
//! cargo bench --bench realtime -- chain multiband      # only the names with both words
//! cargo bench --bench realtime -- noise                # denormal-range against normal noise
//! ```
//!
//! Each figure is the best of several runs over 60 s of programme-like audio in 512-sample
//! blocks (the plugin's internal block size), timed by the thread's CPU time (what one core
//! spends; a busy machine then costs little beyond shared caches), so the spread stays small.

use std::f32::consts::TAU;
use std::hint::black_box;

use auralis::analysis::Listener;
use auralis::controls::tilt_curve;
use auralis::controls::Controls;
use auralis::dsp::bark_eq::BarkEq;
use auralis::dsp::compressor::Compressor;
use auralis::dsp::multiband::MultibandCompressor;
use auralis::dsp::stereo::StereoImager;
use auralis::dsp::true_peak_limiter::TruePeakLimiter;
use auralis::engine::{CompressorSettings, Engine, Settings};
use auralis::session::Session;

const FS: f32 = 44_100.0;
const SECONDS: usize = 60;
const BLOCK: usize = 512;
const RUNS: usize = 5;

/// Programme-like stereo audio: a few tones, a decaying noise burst every beat.
fn programme() -> [Vec<f32>; 2] {
    let n = SECONDS * FS as usize;
    let mut seed = 0x9e37_79b9_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let beat = (FS * 0.5) as usize;
    let mut l = Vec::with_capacity(n);
    let mut r = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f32 / FS;
        let env = (-((i % beat) as f32) / (0.05 * FS)).exp();
        let tones = 0.2 * (TAU * 55.0 * t).sin() + 0.1 * (TAU * 440.0 * t).sin();
        let hit = 0.5 * env * noise();
        l.push(tones + hit + 0.02 * noise());
        r.push(tones * 0.9 - hit * 0.8 + 0.02 * noise());
    }
    [l, r]
}

/// Runs `process` over the programme in blocks and returns the best realtime factor.
fn measure(name: &str, input: &[Vec<f32>; 2], mut process: impl FnMut(&mut [&mut [f32]])) -> f64 {
    if !selected(name) {
        return 0.0;
    }
    let mut best = f64::MAX;
    for _ in 0..RUNS {
        let [mut l, mut r] = input.clone();
        let start = cpu_seconds();
        for (cl, cr) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            process(&mut [cl, cr]);
        }
        best = best.min(cpu_seconds() - start);
        black_box((&l, &r));
    }
    let factor = SECONDS as f64 / best;
    println!("{name:<40} {factor:>9.0}x realtime");
    factor
}

/// CPU time of this thread in seconds: what one core spent, unaffected by time spent waiting
/// for the core while other work runs on the machine.
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec to write into; the clock id is a constant of the OS.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime");
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Whether `name` contains every word given on the command line (case-insensitive), e.g.
/// `cargo bench --bench realtime -- chain multiband`; no words select everything.
fn selected(name: &str) -> bool {
    let name = name.to_lowercase();
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .all(|w| name.contains(&w.to_lowercase()))
}

/// Settings with every stage doing real work.
fn busy_settings(multiband: bool) -> Settings {
    let mut s = Settings::neutral();
    s.eq_gains_db = tilt_curve(3.0);
    for (b, g) in s.eq_gains_db.iter_mut().enumerate() {
        *g += if b % 2 == 0 { 1.5 } else { -1.0 };
    }
    s.multiband = multiband;
    s.compressor = CompressorSettings {
        threshold_db: -24.0,
        ratio: 2.5,
        ..CompressorSettings::neutral()
    };
    s.bands = [s.compressor; 3];
    s.width = 1.3;
    s.mono_bass_hz = 120.0;
    s.input_gain_db = 2.0;
    s.output_gain_db = -0.5;
    s.ceiling_db = -1.0;
    s.leveler_gain_db = 6.0; // the limiter works
    s.intensity = 0.9;
    s
}

/// White noise at `amplitude` (peak), independent on each side.
fn noise(amplitude: f32) -> [Vec<f32>; 2] {
    let n = SECONDS * FS as usize;
    let mut seed = 0x2545_f491_u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed as f32 / u32::MAX as f32 - 0.5) * 2.0 * amplitude
    };
    [
        (0..n).map(|_| next()).collect(),
        (0..n).map(|_| next()).collect(),
    ]
}

/// Denormal-range noise (peaks at 2e-38: most samples subnormal) costs what normal noise does,
/// through the whole chain and through a session (the chain and the inline analysis).
fn denormal_against_normal() {
    let normal = noise(0.3);
    let denormal = noise(2.0e-38);
    let subnormal = denormal[0].iter().filter(|x| x.is_subnormal()).count();
    println!(
        "denormal-range noise: {:.0} % of samples subnormal",
        100.0 * subnormal as f64 / denormal[0].len() as f64
    );
    for (name, input) in [
        ("normal noise", &normal),
        ("denormal-range noise", &denormal),
    ] {
        let mut engine = Engine::new(FS, BLOCK, 2);
        engine.set_settings(&busy_settings(false));
        engine.settle();
        measure(&format!("Whole chain, {name}"), input, |c| {
            engine.process(c)
        });
        let mut session = Session::new(FS, BLOCK, 2, Controls::default(), Listener::inline(FS, 2));
        measure(&format!("Session + inline analysis, {name}"), input, |c| {
            session.process(c)
        });
    }
}

fn main() {
    println!("44.1 kHz stereo, {BLOCK}-sample blocks, best of {RUNS} runs over {SECONDS} s");
    let input = programme();

    let mut eq = BarkEq::new(FS, BLOCK, 2);
    eq.set_perceptual_amount(0.0);
    eq.set_band_gains_db(&busy_settings(false).eq_gains_db);
    measure("Bark EQ (25 bands active)", &input, |c| eq.process(c));

    let mut comp = Compressor::new(FS, BLOCK, 2);
    comp.set_threshold_db(-24.0);
    comp.set_ratio(2.5);
    measure("Compressor (wideband)", &input, |c| comp.process(c));

    let mut mb = MultibandCompressor::new(FS, BLOCK, 2);
    for band in 0..3 {
        mb.set_band_threshold_db(band, -30.0);
        mb.set_band_ratio(band, 2.5);
    }
    measure("Multiband compressor (3 bands)", &input, |c| mb.process(c));

    let mut stereo = StereoImager::new(FS, BLOCK, 2);
    stereo.set_band_widths(&[1.3; 3]);
    stereo.set_mono_bass_hz(120.0);
    measure("Stereo imager (width + mono bass)", &input, |c| {
        stereo.process(c)
    });

    let mut limiter = TruePeakLimiter::new(FS, BLOCK, 2);
    limiter.set_sample_rate(FS);
    limiter.set_lookahead_ms(2.0);
    limiter.set_ceiling_db(-6.0); // the programme peaks near 0 dBFS: limiting all along
    limiter.set_auto_release(true);
    measure("True-peak limiter (4x, auto release)", &input, |c| {
        limiter.process(c)
    });

    for multiband in [false, true] {
        let mut engine = Engine::new(FS, BLOCK, 2);
        engine.set_settings(&busy_settings(multiband));
        engine.settle();
        let name = if multiband {
            "Whole chain, multiband"
        } else {
            "Whole chain, wideband"
        };
        measure(name, &input, |c| engine.process(c));
    }
    denormal_against_normal();
}
