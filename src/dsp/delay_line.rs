//! A multi-channel, fixed-capacity integer delay: `y[n] = x[n - d]`.
//!
//! One ring buffer per channel, sized in `new` to `max_delay + max_block` so that a whole block can
//! be written before the delayed block is read back: each block costs two `memcpy`-like copies in
//! and two out, whatever the delay. Used for the latency-compensated dry path and inside the
//! lookahead limiter.

use super::sanitize;

/// A delay of a whole number of samples, the same on every channel.
pub struct DelayLine {
    rings: Vec<Vec<f32>>,
    max_delay: usize,
    max_block: usize,
    delay: usize,
    write: usize,
}

impl DelayLine {
    /// A delay line for up to `max_delay` samples on `channels` channels, processing blocks of at
    /// most `max_block` samples (longer blocks are processed in pieces).
    pub fn new(max_delay: usize, max_block: usize, channels: usize) -> Self {
        let max_block = max_block.max(1);
        let len = max_delay + max_block;
        Self {
            rings: (0..channels).map(|_| vec![0.0; len]).collect(),
            max_delay,
            max_block,
            delay: 0,
            write: 0,
        }
    }

    /// Sets the delay in samples, clamped to the capacity. The buffer keeps its contents, so a
    /// change reads older (already written) samples rather than garbage.
    pub fn set_delay(&mut self, samples: usize) {
        self.delay = samples.min(self.max_delay);
    }

    /// The delay in samples.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// The largest delay this line can hold.
    pub fn max_delay(&self) -> usize {
        self.max_delay
    }

    /// The latency this unit adds: its delay.
    pub fn latency(&self) -> usize {
        self.delay
    }

    /// Clears the stored samples.
    pub fn reset(&mut self) {
        for r in self.rings.iter_mut() {
            r.fill(0.0);
        }
        self.write = 0;
    }

    /// Delays every channel in place. Non-finite input is silenced and the line is cleared first.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        if !sanitize::all_finite(channels) {
            sanitize::replace_non_finite(channels);
            self.reset();
        }
        let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let mut start = 0;
        while start < len {
            let n = (len - start).min(self.max_block);
            let write = self.write;
            for (ring, ch) in self.rings.iter_mut().zip(channels.iter_mut()) {
                Self::run(ring, write, self.delay, &mut ch[start..start + n]);
            }
            let rlen = self.max_delay + self.max_block;
            self.write = (write + n) % rlen;
            start += n;
        }
    }

    /// Delays one channel's contiguous slice through its ring (the caller owns the ring).
    #[inline]
    fn run(ring: &mut [f32], write: usize, delay: usize, block: &mut [f32]) {
        let rlen = ring.len();
        let n = block.len();
        // Write the block at `write`, wrapping once at most.
        let first = n.min(rlen - write);
        ring[write..write + first].copy_from_slice(&block[..first]);
        ring[..n - first].copy_from_slice(&block[first..]);
        // Read `n` samples starting `delay` samples before the write position.
        let read = (write + rlen - delay) % rlen;
        let first = n.min(rlen - read);
        block[..first].copy_from_slice(&ring[read..read + first]);
        block[first..].copy_from_slice(&ring[..n - first]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `signal` through `line` in blocks of the given sizes (cycled) and returns the output.
    fn run_blocks(line: &mut DelayLine, signal: &[f32], sizes: &[usize]) -> Vec<Vec<f32>> {
        let mut l = signal.to_vec();
        let mut r: Vec<f32> = signal.iter().map(|x| -x).collect();
        let mut pos = 0;
        let mut k = 0;
        while pos < signal.len() {
            let n = sizes[k % sizes.len()].min(signal.len() - pos);
            let (a, b) = (&mut l[pos..pos + n], &mut r[pos..pos + n]);
            line.process(&mut [a, b]);
            pos += n;
            k += 1;
        }
        vec![l, r]
    }

    #[test]
    fn impulse_comes_out_exactly_delay_samples_later_across_odd_blocks() {
        for &delay in &[0usize, 1, 7, 64, 127, 300] {
            let mut line = DelayLine::new(300, 64, 2);
            line.set_delay(delay);
            let mut sig = vec![0.0f32; 1000];
            sig[123] = 1.0;
            sig[500] = 0.5;
            let out = run_blocks(&mut line, &sig, &[13, 1, 64, 37, 5]);
            for (i, (&l, &r)) in out[0].iter().zip(&out[1]).enumerate() {
                let want = if i == 123 + delay {
                    1.0
                } else if i == 500 + delay {
                    0.5
                } else {
                    0.0
                };
                assert_eq!(l, want, "delay {delay} at {i}");
                assert_eq!(r, -want, "delay {delay} at {i}");
            }
        }
    }

    #[test]
    fn blocks_longer_than_max_block_are_split_and_still_exact() {
        let mut line = DelayLine::new(50, 16, 2);
        line.set_delay(50);
        let sig: Vec<f32> = (0..400).map(|i| i as f32).collect();
        let out = run_blocks(&mut line, &sig, &[100, 3]);
        for (i, &y) in out[0].iter().enumerate() {
            let want = if i >= 50 { (i - 50) as f32 } else { 0.0 };
            assert_eq!(y, want);
        }
    }

    #[test]
    fn delay_is_clamped_to_capacity() {
        let mut line = DelayLine::new(10, 8, 1);
        line.set_delay(99);
        assert_eq!(line.latency(), 10);
    }

    #[test]
    fn non_finite_input_is_silenced_and_state_cleared() {
        let mut line = DelayLine::new(4, 8, 1);
        line.set_delay(4);
        let mut a = [1.0f32; 8];
        line.process(&mut [&mut a]);
        let mut b = [f32::NAN, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0];
        line.process(&mut [&mut b]);
        // The line was cleared, so the old ones are gone and the NaN became 0.
        assert_eq!(b, [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0]);
    }
}
