//! Loudness calibration before the render: the chain's loudness is not linear in the leveler's
//! gain (the compressor and the limiter take back part of any boost), so pass 1 keeps a few
//! evenly spaced excerpts of the input and the leveler gain is tuned on them, through the very
//! engine of the render, until their output lands on the target. The one full render then
//! usually lands within a tenth of a LU; a miss is still corrected by rendering again.
//!
//! The excerpts are kept with a bounded memory whatever the file's length and whether or not
//! its length is known beforehand: the input is cut into slots of one excerpt's length, every
//! `stride`-th slot is kept, and when more than [`Excerpts::max_kept`] are held every other one
//! is dropped and the stride doubles. Each excerpt starts with a warm-up (processed, not
//! measured) so the compressor and limiter enter its measured part in a realistic state.
//!
//! The whole output's loudness is estimated as the whole input's (measured in pass 1) plus the
//! change the chain makes on the excerpts: `I(out) ≈ I(in) + I(out_excerpts) − I(in_excerpts)`.

use anyhow::Result;

use crate::analysis::loudness::LoudnessMeter;
use crate::analysis::{Listener, Measured, Targets};
use crate::controls::Controls;
use crate::dsp::true_peak_limiter::SAFETY_MARGIN_DB;
use crate::session::Session;

/// Seconds of warm-up at the start of each excerpt.
pub const WARMUP_SECONDS: f32 = 0.5;
/// Seconds measured in each excerpt.
pub const MEASURED_SECONDS: f32 = 1.5;
/// Most excerpts kept (fewer at high sample rates, see [`MAX_FRAMES`]).
pub const MAX_EXCERPTS: usize = 12;
/// Most frames held in all the excerpts together (per channel), before the halving.
pub const MAX_FRAMES: usize = 1 << 21;
/// The calibration stops when the excerpts' estimate is this close to the goal, in LU.
pub const CALIBRATION_TOLERANCE_LU: f32 = 0.05;
/// Most calibration rounds (each processes every excerpt once).
pub const MAX_ROUNDS: usize = 5;
/// The most the calibration moves the leveler's gain from where the analysis put it, either
/// way, dB.
pub const MAX_CORRECTION_DB: f32 = 24.0;
/// How far the limiter's deepest reduction on the excerpts may exceed Max Limiting before the
/// calibration takes the gain back, dB.
pub const LIMITING_TOLERANCE_DB: f32 = 0.5;

struct Excerpt {
    slot: u64,
    audio: Vec<Vec<f32>>,
}

/// Evenly spaced excerpts of a stream, in bounded memory.
pub struct Excerpts {
    channels: usize,
    warmup: usize,
    length: usize,
    max_kept: usize,
    stride: u64,
    /// Frames seen so far.
    position: u64,
    kept: Vec<Excerpt>,
    /// The excerpt being filled, if its slot is kept.
    filling: Option<Excerpt>,
}

impl Excerpts {
    pub fn new(sample_rate: u32, channels: usize) -> Self {
        let warmup = (WARMUP_SECONDS * sample_rate as f32) as usize;
        let length = warmup + (MEASURED_SECONDS * sample_rate as f32) as usize;
        Self {
            channels,
            warmup,
            length,
            max_kept: (MAX_FRAMES / length).clamp(4, MAX_EXCERPTS),
            stride: 1,
            position: 0,
            kept: Vec::new(),
            filling: None,
        }
    }

    /// The most excerpts held at the end.
    #[cfg(test)]
    pub fn max_kept(&self) -> usize {
        self.max_kept
    }

    /// Number of complete excerpts held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// Adds the next frames of the stream (planar, `channels` slices of equal length).
    pub fn push(&mut self, block: &[&[f32]]) {
        let n = block.first().map_or(0, |c| c.len());
        let mut done = 0;
        while done < n {
            let slot = self.position / self.length as u64;
            let offset = (self.position % self.length as u64) as usize;
            let take = (self.length - offset).min(n - done);
            if offset == 0 && slot.is_multiple_of(self.stride) {
                self.filling = Some(Excerpt {
                    slot,
                    audio: vec![Vec::with_capacity(self.length); self.channels],
                });
            }
            if let Some(e) = self.filling.as_mut() {
                for (dst, src) in e.audio.iter_mut().zip(block) {
                    dst.extend_from_slice(&src[done..done + take]);
                }
            }
            done += take;
            self.position += take as u64;
            if offset + take == self.length {
                if let Some(e) = self.filling.take() {
                    self.kept.push(e);
                    if self.kept.len() > self.max_kept {
                        self.stride *= 2;
                        let stride = self.stride;
                        self.kept.retain(|e| e.slot.is_multiple_of(stride));
                    }
                }
            }
        }
    }

    /// The measured parts' input loudness (gated integrated, LUFS) and true peak (dBTP).
    fn input_measure(&self, sample_rate: u32) -> (f64, f32) {
        let mut meter = LoudnessMeter::new(sample_rate, self.channels).max_peak_only();
        for e in &self.kept {
            let parts: Vec<&[f32]> = e.audio.iter().map(|c| &c[self.warmup..]).collect();
            meter.add(&parts);
        }
        (meter.integrated() as f64, meter.true_peak_db())
    }

    /// The measured parts' loudness after the chain with `targets` (gated integrated, LUFS),
    /// the limiter's deepest gain reduction over them (dB, positive) and their true peak
    /// (dBTP).
    fn output_measure(
        &self,
        sample_rate: u32,
        controls: &Controls,
        targets: &Targets,
    ) -> (f64, f32, f32) {
        const BLOCK: usize = super::BLOCK;
        let mut meter = LoudnessMeter::new(sample_rate, self.channels).max_peak_only();
        let mut buffers = vec![vec![0.0f32; BLOCK]; self.channels];
        let mut limiting = 0.0f32;
        for e in &self.kept {
            let mut session = Session::new(
                sample_rate as f32,
                BLOCK,
                self.channels,
                *controls,
                Listener::Fixed(*targets),
            );
            // Output frame `k` is input frame `k - latency`: the measured part comes out
            // `latency` frames late, so silence follows the excerpt to push it out.
            let latency = session.latency();
            let (from, to) = (self.warmup + latency, self.length + latency);
            let mut pos = 0;
            while pos < to {
                // A block ends where the measured part starts, so the limiter's reduction of
                // each block belongs wholly to the warm-up or to the measured part (with held
                // targets the output does not depend on the blocks).
                let end = if pos < from { from } else { to };
                let n = BLOCK.min(end - pos);
                for (b, c) in buffers.iter_mut().zip(&e.audio) {
                    let have = c.len().saturating_sub(pos).min(n);
                    b[..have].copy_from_slice(&c[pos..pos + have]);
                    b[have..n].fill(0.0);
                }
                {
                    let mut block: Vec<&mut [f32]> =
                        buffers.iter_mut().map(|b| &mut b[..n]).collect();
                    session.process(&mut block);
                }
                if pos >= from {
                    let parts: Vec<&[f32]> = buffers.iter().map(|x| &x[..n]).collect();
                    meter.add(&parts);
                    limiting = limiting.max(session.engine().limiter_reduction_db());
                }
                pos += n;
            }
        }
        (meter.integrated() as f64, limiting, meter.true_peak_db())
    }
}

/// What the calibration found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    /// The leveler gain to render with, dB.
    pub leveler_gain_db: f32,
    /// The whole output's estimated loudness at that gain, LUFS.
    pub estimate_lufs: f32,
    /// Rounds run (0: no excerpts or nothing measurable; the gain is unchanged).
    pub rounds: usize,
    /// The gain was held back because the limiter took more than Max Limiting on the
    /// excerpts: the goal is out of reach within it.
    pub held_by_limiter: bool,
}

/// Tunes `targets.leveler_gain_db` so the excerpts' estimate of the whole output lands on
/// `goal` LUFS; `whole_input` is what pass 1 measured of the whole input (its integrated
/// loudness and true peak are used). With `no_boost` the gain never rises above where it
/// starts. Secant steps on the measured loudness, so the compressor's and limiter's
/// nonlinearity is followed; the gain moves at most ±[`MAX_CORRECTION_DB`] from its start.
///
/// Max Limiting is measured, not only estimated. The limiter's deepest reduction on the
/// excerpts, deepened by as much as the whole input's true peak exceeds theirs (a peak they do
/// not hold), may exceed `controls.max_limiting_db` by at most [`LIMITING_TOLERANCE_DB`]:
/// beyond, the gain may rise no further than where that excess is taken back (the deepest
/// reduction of a lookahead limiter follows the gain before it dB for dB), and the result says
/// so ([`Calibration::held_by_limiter`]).
pub fn calibrate(
    excerpts: &Excerpts,
    sample_rate: u32,
    controls: &Controls,
    targets: &Targets,
    whole_input: &Measured,
    goal: f32,
    no_boost: bool,
) -> Result<Calibration> {
    let (whole_input_lufs, whole_input_peak_dbtp) =
        (whole_input.integrated_lufs, whole_input.true_peak_dbtp);
    let start = targets.leveler_gain_db;
    let unchanged = Calibration {
        leveler_gain_db: start,
        estimate_lufs: f32::NAN,
        rounds: 0,
        held_by_limiter: false,
    };
    if excerpts.is_empty() || !whole_input_lufs.is_finite() || whole_input_lufs < -70.0 {
        return Ok(unchanged);
    }
    let (input, excerpt_peak_dbtp) = excerpts.input_measure(sample_rate);
    if input.is_nan() || input < -70.0 {
        return Ok(unchanged);
    }
    // The whole input's loudest peak may lie outside the excerpts: by as much as it exceeds
    // theirs, the render's limiter is expected to reach deeper than theirs (the peak before the
    // limiter is the output's true peak, or the threshold plus the reduction where it limits).
    let unheard_db = if whole_input_peak_dbtp.is_finite() && excerpt_peak_dbtp.is_finite() {
        (whole_input_peak_dbtp - excerpt_peak_dbtp).max(0.0)
    } else {
        0.0
    };
    let threshold_dbtp = controls.ceiling_dbtp - SAFETY_MARGIN_DB;
    let estimate = |gain: f32| -> (f32, f32) {
        let mut t = *targets;
        t.leveler_gain_db = gain;
        let (out, limiting, out_peak) = excerpts.output_measure(sample_rate, controls, &t);
        let before_limiter = if limiting > 0.0 {
            threshold_dbtp + limiting
        } else {
            out_peak
        };
        let whole_limiting = if controls.limiter_enabled && unheard_db > 0.0 {
            (before_limiter + unheard_db - threshold_dbtp).max(limiting)
        } else {
            limiting
        };
        (
            (whole_input_lufs as f64 + out - input) as f32,
            whole_limiting,
        )
    };
    let reach = MAX_CORRECTION_DB;
    let (lo, mut hi) = (start - reach, if no_boost { start } else { start + reach });
    let allowed = controls.max_limiting_db.max(0.0);
    let mut held_by_limiter = false;
    // Lowers `hi` to where the limiter takes Max Limiting, when it takes clearly more at `gain`.
    let bound = |gain: f32, limiting: f32, hi: &mut f32, held: &mut bool| {
        if limiting > allowed + LIMITING_TOLERANCE_DB {
            *hi = hi.min(gain - (limiting - allowed)).max(lo);
            *held = true;
        }
    };
    let mut gain = start;
    let (mut est, mut limiting_db) = estimate(gain);
    bound(gain, limiting_db, &mut hi, &mut held_by_limiter);
    let mut rounds = 1;
    let mut previous: Option<(f32, f32)> = None;
    while rounds < MAX_ROUNDS && est.is_finite() {
        let miss = goal - est;
        let over = gain > hi + 1e-3;
        if !over
            && (miss.abs() <= CALIBRATION_TOLERANCE_LU
                || ((no_boost || held_by_limiter) && miss > 0.0 && gain >= hi - 1e-3))
        {
            break;
        }
        // The loudness rises by at most 1 dB per dB of gain (less where the limiter works):
        // a secant slope from the last two points, kept within [0.2, 1].
        let slope = match previous {
            Some((g0, e0)) if (gain - g0).abs() > 1e-3 => {
                ((est - e0) / (gain - g0)).clamp(0.2, 1.0)
            }
            _ => 1.0,
        };
        let next = (gain + miss / slope).clamp(lo, hi);
        if (next - gain).abs() < 1e-3 {
            break;
        }
        previous = Some((gain, est));
        gain = next;
        (est, limiting_db) = estimate(gain);
        bound(gain, limiting_db, &mut hi, &mut held_by_limiter);
        rounds += 1;
    }
    if gain > hi + 1e-3 {
        // Out of rounds above the bound: one more, at it.
        gain = hi;
        (est, _) = estimate(gain);
        rounds += 1;
    }
    if !est.is_finite() {
        return Ok(unchanged);
    }
    Ok(Calibration {
        leveler_gain_db: gain,
        estimate_lufs: est,
        rounds,
        held_by_limiter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, from: u64) -> Vec<f32> {
        (0..n as u64).map(|i| (from + i) as f32).collect()
    }

    /// Excerpts stay evenly spaced, whole, and bounded however long the stream and however it
    /// is cut into blocks.
    #[test]
    fn excerpts_are_evenly_spaced_whole_slots_in_bounded_memory() {
        let fs = 1_000;
        for block in [1usize, 37, 512, 10_000] {
            let mut x = Excerpts::new(fs, 1);
            let length = x.length as u64;
            let total = 100 * length + 123;
            let mut pos = 0u64;
            while pos < total {
                let n = (block as u64).min(total - pos) as usize;
                x.push(&[&ramp(n, pos)]);
                pos += n as u64;
            }
            assert!(x.len() <= x.max_kept());
            assert!(x.len() >= x.max_kept() / 2, "{} kept", x.len());
            let slots: Vec<u64> = x.kept.iter().map(|e| e.slot).collect();
            let step = slots[1] - slots[0];
            assert!(slots.windows(2).all(|w| w[1] - w[0] == step), "{slots:?}");
            assert_eq!(slots[0], 0);
            assert!(slots.last().unwrap() + step >= 100 - step, "{slots:?}");
            for e in &x.kept {
                assert_eq!(e.audio[0], ramp(x.length, e.slot * length), "block {block}");
            }
        }
    }

    #[test]
    fn a_stream_shorter_than_one_excerpt_keeps_none() {
        let mut x = Excerpts::new(44_100, 2);
        let a = vec![0.1f32; 1_000];
        x.push(&[&a, &a]);
        assert!(x.is_empty());
    }
}
