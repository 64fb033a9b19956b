//! Every DSP unit and the whole engine allocate nothing in `process` or their setters after
//! construction, with their settings changed every block (counting global allocator; the
//! plugin-level proof through nice-plug's `assert_process_allocs` is `tests/process_allocs.rs`).

use auralis::dsp::bark_eq::BarkEq;
use auralis::dsp::compressor::{Compressor, Detection};
use auralis::dsp::leveler::Leveler;
use auralis::dsp::multiband::MultibandCompressor;
use auralis::dsp::stereo::StereoImager;
use auralis::dsp::true_peak_limiter::TruePeakLimiter;
use auralis::engine::{Engine, Settings};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocs;

#[global_allocator]
static GLOBAL: counting_alloc::Counting = counting_alloc::Counting;

const FS: f32 = 48_000.0;
const MAX_BLOCK: usize = 1024;

/// Runs `step(block_index, channels)` over 400 blocks of varying sizes of loud noise with a NaN
/// now and then, after one warm-up block, and returns the allocations counted during the run.
fn count(mut step: impl FnMut(usize, &mut [&mut [f32]])) -> usize {
    let mut seed = 0x1234_5678u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed as f32 / u32::MAX as f32 - 0.5
    };
    let mut l = vec![0.0f32; MAX_BLOCK];
    let mut r = vec![0.0f32; MAX_BLOCK];
    let mut run = |b: usize, len: usize, step: &mut dyn FnMut(usize, &mut [&mut [f32]])| {
        for (x, y) in l[..len].iter_mut().zip(&mut r[..len]) {
            *x = 1.5 * noise();
            *y = 1.5 * noise();
        }
        if b % 37 == 5 {
            l[len / 2] = f32::NAN;
        }
        step(b, &mut [&mut l[..len], &mut r[..len]]);
    };
    run(0, MAX_BLOCK, &mut step);
    let before = allocs();
    for b in 1..=400 {
        let len = [1, 17, 64, 512, 1000, MAX_BLOCK][b % 6];
        run(b, len, &mut step);
    }
    allocs() - before
}

/// A setting that moves every block.
fn wobble(b: usize, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * ((b * 7919) % 101) as f32 / 100.0
}

#[test]
fn every_unit_processes_and_takes_new_settings_without_allocating() {
    let mut eq = BarkEq::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        let gains = std::array::from_fn(|k| wobble(b + k, -12.0, 12.0));
        eq.set_band_gains_db(&gains);
        eq.set_perceptual_amount(wobble(b, 0.0, 1.0));
        eq.process(c);
    });
    assert_eq!(n, 0, "Bark EQ");

    let mut comp = Compressor::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        comp.set_threshold_db(wobble(b, -40.0, 0.0));
        comp.set_ratio(wobble(b, 1.0, 10.0));
        comp.set_knee_db(wobble(b, 0.0, 12.0));
        comp.set_attack_ms(wobble(b, 1.0, 50.0));
        comp.set_release_ms(wobble(b, 20.0, 500.0));
        comp.set_detection(if b % 2 == 0 {
            Detection::Rms
        } else {
            Detection::Peak
        });
        comp.process(c);
    });
    assert_eq!(n, 0, "compressor");

    let mut mb = MultibandCompressor::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        mb.set_crossover_hz(wobble(b, 60.0, 300.0), wobble(b, 1_500.0, 6_000.0));
        for band in 0..3 {
            mb.set_band_threshold_db(band, wobble(b + band, -40.0, 0.0));
            mb.set_band_ratio(band, wobble(b + band, 1.0, 8.0));
        }
        mb.process(c);
    });
    assert_eq!(n, 0, "multiband");

    let mut stereo = StereoImager::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        stereo.set_band_widths(&[wobble(b, 0.0, 2.0); 3]);
        stereo.set_mono_bass_hz(if b % 3 == 0 {
            0.0
        } else {
            wobble(b, 40.0, 300.0)
        });
        stereo.process(c);
    });
    assert_eq!(n, 0, "stereo imager");

    let mut limiter = TruePeakLimiter::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        limiter.set_ceiling_db(wobble(b, -6.0, 0.0));
        limiter.set_lookahead_ms(wobble(b, 1.0, 5.0));
        limiter.set_release_ms(wobble(b, 10.0, 500.0));
        limiter.set_auto_release(b % 2 == 0);
        limiter.process(c);
    });
    assert_eq!(n, 0, "true-peak limiter");

    let mut leveler = Leveler::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        leveler.set_correction_db(wobble(b, -20.0, 20.0));
        leveler.process(c);
    });
    assert_eq!(n, 0, "leveler");
}

#[test]
fn the_whole_engine_takes_new_settings_every_block_without_allocating() {
    let mut engine = Engine::new(FS, MAX_BLOCK, 2);
    let n = count(|b, c| {
        let mut s = Settings::neutral();
        s.eq_gains_db = std::array::from_fn(|k| wobble(b + k, -6.0, 6.0));
        s.eq_enabled = b % 5 != 0;
        s.dynamics_enabled = b % 7 != 0;
        s.multiband = b % 2 == 0;
        s.compressor.threshold_db = wobble(b, -30.0, 0.0);
        s.compressor.ratio = wobble(b, 1.0, 6.0);
        s.stereo_enabled = b % 3 != 0;
        s.width = wobble(b, 0.0, 2.0);
        s.mono_bass_hz = wobble(b, 0.0, 200.0);
        s.leveler_gain_db = wobble(b, -10.0, 10.0);
        s.limiter_enabled = b % 11 != 0;
        s.ceiling_db = wobble(b, -3.0, 0.0);
        s.intensity = wobble(b, 0.0, 1.0);
        s.bypass = b % 13 == 0;
        engine.set_settings(&s);
        engine.process(c);
        assert!(c.iter().all(|ch| ch.iter().all(|v| v.is_finite())));
    });
    assert_eq!(n, 0, "engine");
}

/// The counter works: a unit that allocated would be caught.
#[test]
fn the_counter_sees_an_allocation() {
    let n = count(|b, c| {
        if b == 3 {
            std::hint::black_box(vec![0u8; 16]);
        }
        c[0][0] = 0.0;
    });
    assert_eq!(n, 1);
}
