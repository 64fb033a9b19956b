//! The audio thread's units: pure, allocation-free after construction, no plugin framework.
//!
//! Every unit follows one shape (after LSP's DSP units):
//! - `new(max_sample_rate, max_block, channels)` allocates everything it will ever need;
//! - `set_sample_rate(fs)` and `set_*` setters only store values and mark what must be recomputed;
//! - `process(&mut self, channels: &mut [&mut [f32]])` works in place on per-channel contiguous
//!   slices of at most `max_block` samples, allocates nothing, and recomputes first if needed;
//! - `latency()` in samples, and `reset()` to clear all state.
//!
//! A non-finite input sample never reaches the output nor sticks in a state: the unit silences
//! it, resets its state and recovers within one block.

pub mod bark;
pub mod bark_eq;
pub mod biquad;
pub mod cascade;
pub mod compressor;
pub mod crossover;
pub mod delay_line;
pub mod dispatch;
pub mod k_weighting;
pub mod lanes;
pub mod leveler;
pub mod multiband;
pub mod oversampler;
pub mod sanitize;
pub mod sliding_max;
pub mod smoothed_gain;
pub mod stereo;
pub mod tone_meter;
pub mod true_peak_limiter;

/// The bass hold of the dynamics stages, in seconds: one period of 20 Hz. A detector that holds
/// its level this long sees a whole cycle of any bass note, so a steady low tone reads as a
/// steady level and the gain does not ripple with its waveform.
pub const BASS_HOLD_S: f32 = 0.05;

/// The most channels any unit processes (stereo).
pub const MAX_CHANNELS: usize = 2;

/// Converts decibels to a linear gain.
#[inline]
pub fn db_to_gain(db: f32) -> f32 {
    10.0f32.powf(db * 0.05)
}

/// Converts a linear gain to decibels, floored at -200 dB.
#[inline]
pub fn gain_to_db(gain: f32) -> f32 {
    20.0 * gain.max(1.0e-10).log10()
}
