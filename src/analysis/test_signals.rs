//! Deterministic test signals synthesised in the tests.

/// A sine of peak amplitude `level_db` dBFS.
pub fn sine(fs: u32, freq: f32, level_db: f32, seconds: f32) -> Vec<f32> {
    let a = 10f32.powf(level_db / 20.0);
    let n = (fs as f32 * seconds) as usize;
    (0..n)
        .map(|i| a * (2.0 * std::f64::consts::PI * freq as f64 * i as f64 / fs as f64).sin() as f32)
        .collect()
}

/// xorshift64* uniform noise generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        (v as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// White noise, uniform with peak `amp`.
pub fn white(seed: u64, n: usize, amp: f32) -> Vec<f32> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| amp * r.next()).collect()
}

/// Pink noise by Paul Kellet's refined filter (-3 dB/octave within ±0.05 dB above ~10 Hz),
/// scaled to `amp` times the raw output.
pub fn pink(seed: u64, n: usize, amp: f32) -> Vec<f32> {
    let mut r = Rng::new(seed);
    let mut b = [0.0f32; 7];
    (0..n)
        .map(|_| {
            let w = r.next();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.153852;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
            b[6] = w * 0.115926;
            amp * out * 0.11
        })
        .collect()
}

/// Cascaded one-pole low-pass (`order` passes) at `fc` Hz.
pub fn lowpass(x: &[f32], fs: u32, fc: f32, order: usize) -> Vec<f32> {
    let a = 1.0 - (-2.0 * std::f32::consts::PI * fc / fs as f32).exp();
    let mut y = x.to_vec();
    for _ in 0..order {
        let mut s = 0.0f32;
        for v in y.iter_mut() {
            s += a * (*v - s);
            *v = s;
        }
    }
    y
}

/// A click track: 5 ms decaying noise bursts at `bpm`.
pub fn clicks(fs: u32, bpm: f32, seconds: f32) -> Vec<f32> {
    let n = (fs as f32 * seconds) as usize;
    let period = (fs as f32 * 60.0 / bpm) as usize;
    let burst = (fs as usize) / 200;
    let mut r = Rng::new(7);
    let mut out = vec![0.0f32; n];
    let mut start = 0;
    while start < n {
        for i in 0..burst.min(n - start) {
            out[start + i] = 0.5 * r.next() * (-(i as f32) / (burst as f32 / 4.0)).exp();
        }
        start += period;
    }
    out
}

/// Stationary noise of `n` samples (a power of two) whose power density follows `density_db(f)`
/// (dB, any offset): one inverse FFT of random phases with that magnitude per bin, scaled to an
/// RMS of `rms`.
pub fn shaped_noise(
    seed: u64,
    n: usize,
    fs: u32,
    rms: f32,
    density_db: impl Fn(f32) -> f32,
) -> Vec<f32> {
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let ifft = planner.plan_fft_inverse(n);
    let mut spectrum = ifft.make_input_vec();
    let mut r = Rng::new(seed);
    for (k, z) in spectrum.iter_mut().enumerate() {
        let f = k as f32 * fs as f32 / n as f32;
        if k == 0 || k == n / 2 || f < 10.0 {
            *z = realfft::num_complex::Complex::new(0.0, 0.0);
            continue;
        }
        let mag = 10f32.powf(density_db(f) / 20.0);
        let phase = std::f32::consts::PI * r.next();
        *z = realfft::num_complex::Complex::new(mag * phase.cos(), mag * phase.sin());
    }
    let mut out = ifft.make_output_vec();
    ifft.process(&mut spectrum, &mut out).unwrap();
    let ms = out.iter().map(|x| x * x).sum::<f32>() / n as f32;
    let k = rms / ms.sqrt().max(1e-30);
    out.iter_mut().for_each(|x| *x *= k);
    out
}

/// Interpolates per-band values (at the Bark band centres) linearly in log-frequency, held
/// beyond the outer centres.
pub fn band_curve(values: &[f32; crate::dsp::bark::BANDS], f: f32) -> f32 {
    use crate::dsp::bark::{centre, BANDS};
    if f <= centre(0) {
        return values[0];
    }
    for b in 0..BANDS - 1 {
        let (lo, hi) = (centre(b), centre(b + 1));
        if f <= hi {
            let x = (f / lo).ln() / (hi / lo).ln();
            return values[b] + x * (values[b + 1] - values[b]);
        }
    }
    values[BANDS - 1]
}
