//! Distortion of steady tones, measured: the power of chosen frequencies against a tone's.
//!
//! Not an audio-thread unit (it plans an FFT and allocates): the yardstick the distortion tests
//! and `benches/limiter.rs` hold the dynamics stages to. Over a span holding a whole number of
//! periods of every tone, a rectangular-window FFT puts each tone exactly on its bin, so nothing
//! leaks and the floor is the arithmetic's (below −250 dB in f64), not a window's sidelobes.

/// The power of the bins at `freqs` (Hz), summed, over the power at `reference` (Hz), in dB, on
/// the last `seconds` of `x` at sample rate `fs`. Choose `seconds` so that every tone completes
/// whole periods in it (e.g. 4 s for 50 Hz, 60 Hz and 7 kHz). Floored at −300 dB.
pub fn tone_ratio_db(x: &[f32], fs: f32, seconds: f32, freqs: &[f32], reference: f32) -> f64 {
    let n = ((seconds * fs).round() as usize).min(x.len());
    let tail = &x[x.len() - n..];
    let mut plan = realfft::RealFftPlanner::<f64>::new();
    let fft = plan.plan_fft_forward(n);
    let mut input: Vec<f64> = tail.iter().map(|&v| v as f64).collect();
    let mut spec = fft.make_output_vec();
    fft.process(&mut input, &mut spec)
        .expect("buffers sized by the plan");
    let bin = |f: f32| {
        let k = (f as f64 * n as f64 / fs as f64).round() as usize;
        spec.get(k).map_or(0.0, |c| c.norm_sqr())
    };
    let sum: f64 = freqs.iter().map(|&f| bin(f)).sum();
    (10.0 * (sum / bin(reference)).log10()).max(-300.0)
}

/// Harmonics 2..=10 of `fundamental` against it, in dB (the THD of a pure tone).
pub fn harmonics_db(x: &[f32], fs: f32, seconds: f32, fundamental: f32) -> f64 {
    let harmonics: Vec<f32> = (2..=10).map(|k| fundamental * k as f32).collect();
    tone_ratio_db(x, fs, seconds, &harmonics, fundamental)
}

/// The SMPTE intermodulation figure: the sidebands `high ± k·low` (k = 1..=6) against `high`, dB.
pub fn smpte_sidebands_db(x: &[f32], fs: f32, seconds: f32, low: f32, high: f32) -> f64 {
    let sidebands: Vec<f32> = (1..=6)
        .flat_map(|k| [high - low * k as f32, high + low * k as f32])
        .collect();
    tone_ratio_db(x, fs, seconds, &sidebands, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_known_harmonic_and_a_clean_tone() {
        let fs = 48_000.0;
        let tau = std::f64::consts::TAU;
        // A 50 Hz tone with a third harmonic at -60 dB (amplitude 1e-3).
        let x: Vec<f32> = (0..(fs as usize * 2))
            .map(|j| {
                let t = j as f64 / fs as f64;
                ((tau * 50.0 * t).sin() + 1e-3 * (tau * 150.0 * t).sin()) as f32
            })
            .collect();
        let thd = harmonics_db(&x, fs, 1.0, 50.0);
        assert!((thd + 60.0).abs() < 0.01, "{thd}");
        let clean: Vec<f32> = (0..fs as usize)
            .map(|j| (tau * 50.0 * j as f64 / fs as f64).sin() as f32)
            .collect();
        assert!(harmonics_db(&clean, fs, 1.0, 50.0) < -130.0);
    }
}
