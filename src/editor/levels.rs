//! The editor's own loudness meters of the chain's input and output, from the stereo frames the
//! audio thread hands over (see [`super::meters`]), measured with the project's
//! [`LoudnessMeter`] (BS.1770 / EBU R 128 through `ebur128`, true peak by the limiter's 4x
//! interpolator) on the editor's thread.
//!
//! The output's meters are what the editor shows for the output; both sides together give the
//! gain [`super::compare`] plays the input at. That gain is the difference of the two sides'
//! loudness over the last [`MATCH_SECONDS`]: the mean K-weighted energy of the 400 ms blocks
//! (one every 100 ms) above the -70 LUFS absolute gate. Short-term (3 s) loudness swings with
//! every phrase; integrated loudness remembers settings changed long ago; ten seconds follow
//! the current settings and are steady on music.
//!
//! Both sides are measured only while the editor draws (the audio thread feeds it only then),
//! over the same stretches of audio, and pause while Compare is engaged, so the output measured
//! is always the processed one.

use crate::analysis::loudness::{LoudnessMeter, LoudnessReading, ABSOLUTE_GATE_LUFS};

use super::meters::StereoFrame;

/// How much loudness history the compare gain is formed from, seconds.
pub const MATCH_SECONDS: usize = 10;
/// The loudness meter's step, and the history's: 100 ms.
const STEPS_PER_SECOND: usize = 10;
const HISTORY: usize = MATCH_SECONDS * STEPS_PER_SECOND;

/// One side's meter, with its recent momentary loudness.
struct Side {
    meter: LoudnessMeter,
    /// Planar samples waiting for a full 100 ms step.
    pending: [Vec<f32>; 2],
    /// Momentary loudness at each of the last steps, LUFS, oldest overwritten first.
    history: [f32; HISTORY],
    next: usize,
    steps: usize,
}

impl Side {
    fn new(sample_rate: u32, step: usize) -> Self {
        Self {
            meter: LoudnessMeter::new(sample_rate, 2),
            pending: [Vec::with_capacity(step), Vec::with_capacity(step)],
            history: [f32::NEG_INFINITY; HISTORY],
            next: 0,
            steps: 0,
        }
    }

    fn push(&mut self, frame: StereoFrame, step: usize) {
        self.pending[0].push(frame[0]);
        self.pending[1].push(frame[1]);
        if self.pending[0].len() == step {
            let [l, r] = &mut self.pending;
            self.meter.add(&[&l[..], &r[..]]);
            l.clear();
            r.clear();
            self.history[self.next] = self.meter.momentary();
            self.next = (self.next + 1) % HISTORY;
            self.steps += 1;
        }
    }

    /// The mean loudness of the gated steps in the history, LUFS.
    fn recent_lufs(&self) -> Option<f32> {
        let (sum, n) = self
            .history
            .iter()
            .filter(|&&l| l > ABSOLUTE_GATE_LUFS)
            .fold((0.0f64, 0usize), |(s, n), &l| {
                (s + 10f64.powf(l as f64 / 10.0), n + 1)
            });
        (n > 0).then(|| (10.0 * (sum / n as f64).log10()) as f32)
    }

    fn reset(&mut self) {
        self.meter.reset();
        self.pending.iter_mut().for_each(Vec::clear);
        self.history = [f32::NEG_INFINITY; HISTORY];
        self.next = 0;
        self.steps = 0;
    }
}

/// The input's and the output's meters.
pub struct Levels {
    sample_rate: f32,
    step: usize,
    input: Side,
    output: Side,
}

impl Levels {
    pub fn new(sample_rate: f32) -> Self {
        let rate = sample_rate.round().max(8_000.0) as u32;
        // The meter's own 100 ms step, so each history entry is one fresh reading.
        let step = (rate as usize + 5) / 10;
        Self {
            sample_rate,
            step,
            input: Side::new(rate, step),
            output: Side::new(rate, step),
        }
    }

    /// Starts over at `sample_rate` if the chain's rate changed (a new activation).
    pub fn follow_rate(&mut self, sample_rate: f32) {
        if sample_rate != self.sample_rate && sample_rate > 0.0 {
            *self = Self::new(sample_rate);
        }
    }

    pub fn push_input(&mut self, frame: StereoFrame) {
        self.input.push(frame, self.step);
    }

    pub fn push_output(&mut self, frame: StereoFrame) {
        self.output.push(frame, self.step);
    }

    /// The output's momentary, short-term, integrated, range and maximum true peak.
    pub fn output(&self) -> LoudnessReading {
        self.output.meter.reading()
    }

    /// The input's, measured here over the same stretches as the output.
    pub fn input(&self) -> LoudnessReading {
        self.input.meter.reading()
    }

    /// The gain that brings the input to the output's loudness: the output's loudness minus the
    /// input's over the last [`MATCH_SECONDS`], dB. `None` until both sides have gated blocks.
    pub fn matched_gain_db(&self) -> Option<f32> {
        Some(self.output.recent_lufs()? - self.input.recent_lufs()?)
    }

    /// Seconds measured since the start or the last reset (the output side).
    pub fn seconds(&self) -> f32 {
        self.output.steps as f32 / STEPS_PER_SECOND as f32
    }

    /// Starts integrated loudness, range, true peak and the compare history over.
    pub fn reset(&mut self) {
        self.input.reset();
        self.output.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(len: usize, gain: f32) -> Vec<StereoFrame> {
        let mut seed = 7u32;
        (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let x = ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * gain;
                [x, -0.5 * x]
            })
            .collect()
    }

    #[test]
    fn the_matched_gain_is_the_loudness_difference_of_the_last_ten_seconds() {
        let mut levels = Levels::new(48_000.0);
        assert_eq!(levels.matched_gain_db(), None);
        // 20 s where the output is 3 dB louder, then 11 s where it is 6 dB quieter: only the
        // last ten seconds count (each 400 ms block reaches 300 ms before its step, so the
        // window spans 10.3 s).
        let g3 = 10f32.powf(3.0 / 20.0);
        let g6 = 10f32.powf(-6.0 / 20.0);
        for (i, f) in noise(48_000 * 31, 0.5).into_iter().enumerate() {
            levels.push_input(f);
            let g = if i < 48_000 * 20 { g3 } else { g6 };
            levels.push_output([f[0] * g, f[1] * g]);
        }
        let m = levels.matched_gain_db().unwrap();
        assert!((m + 6.0).abs() < 0.05, "matched {m}");
        // The output's integrated loudness remembers all 31 s: 20 s at +3 dB and 11 s at -6 dB
        // average 10 log10((20 * 2 + 11 / 4) / 31) = +1.4 dB over the input.
        let d = levels.output().integrated - levels.input().integrated;
        assert!((d - 1.40).abs() < 0.1, "integrated difference {d}");
        assert!((levels.seconds() - 31.0).abs() < 0.01);
        levels.reset();
        assert_eq!(levels.matched_gain_db(), None);
        assert!(levels.output().integrated < -100.0);
    }

    #[test]
    fn mono_frames_measure_as_one_channel() {
        // [x, 0] must read as BS.1770 mono: the same as the one channel, not 3 dB off. A 997 Hz
        // sine of peak 0.1 (-20 dBFS, mean square -23.0 dB) reads -23.0 LUFS in mono.
        let mut levels = Levels::new(48_000.0);
        let mut mono_meter = LoudnessMeter::new(48_000, 1);
        let x: Vec<f32> = (0..48_000 * 4)
            .map(|n| 0.1 * (n as f32 * 2.0 * std::f32::consts::PI * 997.0 / 48_000.0).sin())
            .collect();
        for &v in &x {
            levels.push_output([v, 0.0]);
        }
        mono_meter.add(&[&x]);
        let a = levels.output().integrated;
        let b = mono_meter.integrated();
        assert!((a - b).abs() < 0.01, "{a} vs {b}");
        assert!((a + 23.0).abs() < 0.2, "{a}");
    }
}
