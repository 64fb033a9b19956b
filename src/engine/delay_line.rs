//! A fixed-capacity multi-channel delay, for stages' lookahead and the dry path.

use crate::dsp::MAX_CHANNELS;

pub struct DelayLine {
    buffers: [Vec<f32>; MAX_CHANNELS],
    delay: usize,
    write: usize,
}

impl DelayLine {
    pub fn new(max_delay: usize) -> Self {
        Self {
            buffers: std::array::from_fn(|_| vec![0.0; max_delay + 1]),
            delay: 0,
            write: 0,
        }
    }

    pub fn set_delay(&mut self, delay: usize) {
        self.delay = delay.min(self.buffers[0].len() - 1);
    }

    pub fn delay(&self) -> usize {
        self.delay
    }

    pub fn reset(&mut self) {
        for b in &mut self.buffers {
            b.fill(0.0);
        }
        self.write = 0;
    }

    /// Delays `channels` in place.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if self.delay == 0 {
            return;
        }
        let len = self.buffers[0].len();
        let start = self.write;
        for (ch, buf) in channels.iter_mut().zip(self.buffers.iter_mut()) {
            let mut w = start;
            let mut r = (start + len - self.delay) % len;
            for x in ch.iter_mut() {
                buf[w] = *x;
                *x = buf[r];
                w += 1;
                if w == len {
                    w = 0;
                }
                r += 1;
                if r == len {
                    r = 0;
                }
            }
        }
        let n = channels.first().map_or(0, |c| c.len());
        self.write = (start + n) % len;
    }
}
