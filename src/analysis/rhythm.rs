//! Tempo and rhythm stability from the autocorrelation of the spectral-flux onset signal.
//!
//! The onset strength (half-wave rectified Bark-band flux, see [`spectrum`](super::spectrum))
//! is kept for the last [`WINDOW_S`] seconds. Every half second its mean-removed autocorrelation
//! `r(tau)` is evaluated over the lags of 60..200 BPM, weighted by a log-Gaussian tempo prior
//! centred on 120 BPM with a one-octave deviation (Ellis 2007, "Beat tracking by dynamic
//! programming", J. New Music Research 36(1)), the best lag refined by parabolic interpolation,
//! and `tempo = 60 * frame_rate / lag`. The normalised autocorrelation `r(tau) / r(0)` is
//! averaged over successive windows (one-pole, weight 0.2) before the peak is picked. Rhythm
//! stability is that averaged value at the chosen lag (0 = no periodicity, 1 = a perfectly
//! periodic onset pattern).
//!
//! Onsets for the transient density are peaks of the flux above its running mean plus 1.5
//! running standard deviations, at least 50 ms apart.

use super::one_pole;

/// Length of the onset history, seconds.
pub const WINDOW_S: f32 = 8.0;
/// Slowest tempo considered, BPM.
pub const MIN_BPM: f32 = 60.0;
/// Fastest tempo considered, BPM.
pub const MAX_BPM: f32 = 200.0;

/// Streaming tempo estimator fed one onset value per hop.
pub struct Rhythm {
    frame_rate: f32,
    env: Vec<f32>,
    pos: usize,
    filled: usize,
    lin: Vec<f32>,
    acf_avg: Vec<f32>,
    min_lag: usize,
    max_lag: usize,
    update_every: usize,
    counter: usize,
    tempo: f32,
    stability: f32,
    estimates: u32,
    stats_a: f32,
    mean: f32,
    var: f32,
    prev: [f32; 2],
    since_onset: usize,
    min_gap: usize,
}

impl Rhythm {
    /// An estimator receiving `frame_rate` onset values per second.
    pub fn new(frame_rate: f32) -> Self {
        let len = (WINDOW_S * frame_rate).ceil() as usize;
        let max_lag = (60.0 / MIN_BPM * frame_rate).ceil() as usize + 1;
        Self {
            frame_rate,
            env: vec![0.0; len],
            pos: 0,
            filled: 0,
            lin: vec![0.0; len],
            min_lag: ((60.0 / MAX_BPM * frame_rate).floor() as usize).max(2),
            acf_avg: vec![0.0; max_lag + 2],
            max_lag,
            update_every: ((0.5 * frame_rate).round() as usize).max(1),
            counter: 0,
            tempo: 0.0,
            stability: 0.0,
            estimates: 0,
            stats_a: one_pole(1.0 / frame_rate, 2.0),
            mean: 0.0,
            var: 0.0,
            prev: [0.0; 2],
            since_onset: usize::MAX / 2,
            min_gap: ((0.05 * frame_rate).round() as usize).max(1),
        }
    }

    /// Adds one onset-strength value. Returns true if an onset was detected (one frame late).
    pub fn push(&mut self, flux: f32) -> bool {
        let flux = if flux.is_finite() { flux.max(0.0) } else { 0.0 };
        self.env[self.pos] = flux;
        self.pos = (self.pos + 1) % self.env.len();
        self.filled = (self.filled + 1).min(self.env.len());

        // Peak picking on the previous value, against statistics that exclude it.
        let [p2, p1] = self.prev;
        let threshold = self.mean + 1.5 * self.var.sqrt();
        self.since_onset = self.since_onset.saturating_add(1);
        let onset = p1 > threshold && p1 >= p2 && p1 > flux && self.since_onset >= self.min_gap;
        if onset {
            self.since_onset = 0;
        }
        let d = p1 - self.mean;
        self.mean += self.stats_a * d;
        self.var += self.stats_a * (d * d - self.var);
        self.prev = [p1, flux];

        self.counter += 1;
        if self.counter >= self.update_every {
            self.counter = 0;
            self.estimate();
        }
        onset
    }

    fn estimate(&mut self) {
        let n = self.filled;
        if n < 2 * self.max_lag {
            return;
        }
        let len = self.env.len();
        let start = (self.pos + len - n) % len;
        let mut mean = 0.0f32;
        for i in 0..n {
            self.lin[i] = self.env[(start + i) % len];
            mean += self.lin[i];
        }
        mean /= n as f32;
        for v in &mut self.lin[..n] {
            *v -= mean;
        }
        let x = &self.lin[..n];
        let acf = |lag: usize| -> f32 { crate::dsp::lanes::dot(&x[..n - lag], &x[lag..]) };
        let r0 = acf(0);
        if r0 <= 1.0e-9 {
            return;
        }
        // Average the normalised autocorrelation over successive windows: the peak is then
        // picked on a stable curve instead of averaging tempi (which would mix octave choices).
        self.estimates = self.estimates.saturating_add(1);
        let a = 0.2f32.max(1.0 / self.estimates as f32);
        let top = (self.max_lag + 1).min(n - 1);
        for lag in self.min_lag - 1..=top {
            let r = acf(lag) / r0;
            self.acf_avg[lag] += a * (r - self.acf_avg[lag]);
        }
        let centre = 60.0 / 120.0 * self.frame_rate;
        let r = &self.acf_avg;
        let mut best = (0usize, f32::MIN);
        for lag in self.min_lag..top {
            let octaves = (lag as f32 / centre).log2();
            let w = (-0.5 * octaves * octaves).exp();
            // Only local maxima of the averaged autocorrelation are candidate beat periods.
            if r[lag] >= r[lag - 1] && r[lag] >= r[lag + 1] && w * r[lag] > best.1 {
                best = (lag, w * r[lag]);
            }
        }
        if best.0 == 0 || r[best.0] <= 0.0 {
            self.stability = 0.0;
            return;
        }
        let (l, c, h) = (r[best.0 - 1], r[best.0], r[best.0 + 1]);
        let denom = l - 2.0 * c + h;
        let delta = if denom.abs() > 1.0e-12 {
            (0.5 * (l - h) / denom).clamp(-0.5, 0.5)
        } else {
            0.0
        };
        let lag = best.0 as f32 + delta;
        self.tempo = (60.0 * self.frame_rate / lag).clamp(MIN_BPM, MAX_BPM);
        self.stability = c.clamp(0.0, 1.0);
    }

    /// Current tempo estimate, BPM (0 until enough onsets were seen).
    pub fn tempo_bpm(&self) -> f32 {
        self.tempo
    }

    /// Rhythm stability 0..1.
    pub fn stability(&self) -> f32 {
        self.stability
    }

    /// Clears all state.
    pub fn reset(&mut self) {
        self.env.fill(0.0);
        self.acf_avg.fill(0.0);
        self.pos = 0;
        self.filled = 0;
        self.counter = 0;
        self.tempo = 0.0;
        self.stability = 0.0;
        self.estimates = 0;
        self.mean = 0.0;
        self.var = 0.0;
        self.prev = [0.0; 2];
        self.since_onset = usize::MAX / 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spectrum::Spectrum;
    use crate::analysis::test_signals::*;

    fn tempo_of(x: &[f32]) -> (f32, f32) {
        let mut s = Spectrum::new(48_000.0, 2048, 512);
        let mut r = Rhythm::new(48_000.0 / 512.0);
        for start in (0..x.len() - 2048).step_by(512) {
            s.process(&x[start..start + 2048], true);
            r.push(s.frame.flux);
        }
        (r.tempo_bpm(), r.stability())
    }

    #[test]
    fn click_track_at_120_bpm_reads_120() {
        let (t, st) = tempo_of(&clicks(48_000, 120.0, 20.0));
        assert!((t - 120.0).abs() < 2.0, "tempo {t}");
        assert!(st > 0.5, "stability {st}");
    }

    #[test]
    fn click_tracks_at_90_and_174_bpm_read_their_tempo() {
        for bpm in [90.0f32, 174.0] {
            let (t, _) = tempo_of(&clicks(48_000, bpm, 20.0));
            assert!((t - bpm).abs() < 2.0, "{bpm}: tempo {t}");
        }
    }

    #[test]
    fn noise_has_low_rhythm_stability() {
        let (_, st) = tempo_of(&white(3, 48_000 * 20, 0.5));
        assert!(st < 0.3, "stability {st}");
    }
}
