//! What the engine asks of each stage in its chain, and the click-free bypass around it.

use super::glide::Glide;

/// A stage of the chain: processes per-channel slices in place.
pub trait Stage {
    fn process(&mut self, channels: &mut [&mut [f32]]);
    fn reset(&mut self);
}

/// Switches a zero-latency stage in and out with a short linear crossfade between its input and
/// its output, so any stage can be toggled while the music plays.
pub struct Switch {
    on: Glide,
    fade_samples: usize,
}

impl Switch {
    pub fn new(enabled: bool, fade_samples: usize) -> Self {
        Self {
            on: Glide::new(if enabled { 1.0 } else { 0.0 }),
            fade_samples,
        }
    }

    pub fn set_enabled(&mut self, enabled: bool) {
        self.on
            .set_target(if enabled { 1.0 } else { 0.0 }, self.fade_samples);
    }

    pub fn settle(&mut self) {
        self.on.settle();
    }

    /// Runs `stage` over `channels`, crossfading with the unprocessed signal while the switch
    /// moves. `dry` and `ramp` are scratch space at least as long as the block.
    pub fn run<S: Stage>(
        &mut self,
        stage: &mut S,
        channels: &mut [&mut [f32]],
        dry: &mut [Vec<f32>],
        ramp: &mut [f32],
    ) {
        let n = channels.first().map_or(0, |c| c.len());
        if !self.on.is_gliding() {
            if self.on.value() == 1.0 {
                stage.process(channels);
            }
            return;
        }
        if self.on.value() == 0.0 {
            // Switching on from fully off: start from a clean state, not a stale one.
            stage.reset();
        }
        for (d, ch) in dry.iter_mut().zip(channels.iter()) {
            d[..n].copy_from_slice(ch);
        }
        stage.process(channels);
        let ramp = &mut ramp[..n];
        self.on.fill(ramp);
        for (d, ch) in dry.iter().zip(channels.iter_mut()) {
            for ((y, &x), &g) in ch.iter_mut().zip(&d[..n]).zip(ramp.iter()) {
                *y = x + (*y - x) * g;
            }
        }
    }
}
