//! Running maximum over the last `N` samples in O(1) amortised time per sample.
//!
//! The classic monotonic wedge (Lemire 2006, "Streaming maximum-minimum filter using no more than
//! three comparisons per element"): a double-ended queue holds the candidates for the maximum, in
//! arrival order with strictly decreasing values. A new sample pops every candidate it is not
//! smaller than from the back, then is pushed; the front is the maximum and leaves once it is
//! older than the window. Each sample is pushed and popped at most once. The deque lives in a
//! fixed ring buffer allocated in `new` (it never holds more than `N + 1` entries).
//!
//! [`SegmentMax`] computes the same running maximum with the van Herk / Gil-Werman scheme
//! (van Herk 1992, "A fast algorithm for local minimum and maximum filters on rectangular and
//! octagonal kernels"; Gil & Werman 1993): the stream is cut into segments of `N` samples; the
//! window ending at position `j` of the current segment is the union of the previous segment's
//! tail `j + 1 .. N` and the current segment's head `0 ..= j`, so its maximum is
//! `max(suffix_max_prev[j + 1], prefix_max_cur[j])`. A suffix pass once per segment and a prefix
//! scan cost about three comparisons per sample with no data-dependent branch, which is what the
//! limiter's hot loop wants; the wedge above has the better worst case per single sample.

/// The largest of `start` and the values of `x`, over eight lanes so that it vectorises (a
/// single running `max` is a serial chain the compiler keeps in order). The values are finite.
pub fn block_max(start: f32, x: &[f32]) -> f32 {
    let mut lanes = [start; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(c) {
            *l = l.max(v);
        }
    }
    let tail = chunks.remainder().iter().fold(start, |m, &v| m.max(v));
    lanes.iter().fold(tail, |m, &v| m.max(v))
}

/// A sliding-window maximum of a scalar stream.
pub struct SlidingMax {
    values: Vec<f32>,
    stamps: Vec<u64>,
    mask: usize,
    head: usize,
    len: usize,
    window: usize,
    max_window: usize,
    time: u64,
}

impl SlidingMax {
    /// A sliding maximum for windows of up to `max_window` samples (at least 1).
    pub fn new(max_window: usize) -> Self {
        let max_window = max_window.max(1);
        // One spare slot: a push may briefly hold `window + 1` entries before the front expires.
        let cap = (max_window + 1).next_power_of_two();
        Self {
            values: vec![0.0; cap],
            stamps: vec![0; cap],
            mask: cap - 1,
            head: 0,
            len: 0,
            window: max_window,
            max_window,
            time: 0,
        }
    }

    /// Sets the window length (clamped to `1..=max_window`) and clears the history.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.max_window);
        self.reset();
    }

    /// The window length in samples.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Forgets every sample seen: the next maximum covers only samples pushed after this.
    pub fn reset(&mut self) {
        self.head = 0;
        self.len = 0;
        self.time = 0;
    }

    /// Pushes `x` and returns the maximum of the last `window` samples pushed (fewer at the start).
    #[inline]
    pub fn push(&mut self, x: f32) -> f32 {
        let t = self.time;
        self.time = t + 1;
        // Drop candidates that the new sample dominates.
        while self.len > 0 {
            let back = (self.head + self.len - 1) & self.mask;
            if self.values[back] <= x {
                self.len -= 1;
            } else {
                break;
            }
        }
        let slot = (self.head + self.len) & self.mask;
        self.values[slot] = x;
        self.stamps[slot] = t;
        self.len += 1;
        // The front leaves once it is `window` samples old (at most one per push).
        if self.stamps[self.head] + self.window as u64 <= t {
            self.head = (self.head + 1) & self.mask;
            self.len -= 1;
        }
        self.values[self.head]
    }

    /// Pushes every sample of `input` and writes the running maximum after each into `out`.
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) {
        for (o, &x) in out.iter_mut().zip(input) {
            *o = self.push(x);
        }
    }
}

/// A sliding-window maximum by segments (van Herk / Gil-Werman), branch-free per sample.
pub struct SegmentMax {
    /// The current segment's samples so far.
    seg: Vec<f32>,
    /// `suffix[j] = max(previous segment[j..window])`, with `suffix[window] = −∞`.
    suffix: Vec<f32>,
    prefix: f32,
    pos: usize,
    window: usize,
    max_window: usize,
    /// True while every sample of the current segment so far came from
    /// [`SegmentMax::process_constant`] with the value `uniform_value`.
    uniform: bool,
    uniform_value: f32,
}

impl SegmentMax {
    /// A sliding maximum for windows of up to `max_window` samples (at least 1).
    pub fn new(max_window: usize) -> Self {
        let max_window = max_window.max(1);
        let mut s = Self {
            seg: vec![0.0; max_window],
            suffix: vec![f32::NEG_INFINITY; max_window + 1],
            prefix: f32::NEG_INFINITY,
            pos: 0,
            window: max_window,
            max_window,
            uniform: false,
            uniform_value: 0.0,
        };
        s.reset();
        s
    }

    /// Sets the window length (clamped to `1..=max_window`) and clears the history.
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, self.max_window);
        self.reset();
    }

    /// The window length in samples.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Forgets every sample seen.
    pub fn reset(&mut self) {
        self.suffix.fill(f32::NEG_INFINITY);
        self.prefix = f32::NEG_INFINITY;
        self.pos = 0;
        self.uniform = false;
    }

    /// Closes a full segment: its suffix maxima become the lookback for the next one.
    fn close_segment(&mut self) {
        let w = self.window;
        let mut m = f32::NEG_INFINITY;
        self.suffix[w] = m;
        if self.uniform {
            // Every suffix of a constant segment has that maximum.
            self.suffix[..w].fill(self.uniform_value);
            self.uniform = false;
            self.prefix = f32::NEG_INFINITY;
            self.pos = 0;
            return;
        }
        for (s, &x) in self.suffix[..w].iter_mut().zip(&self.seg[..w]).rev() {
            m = m.max(x);
            *s = m;
        }
        self.prefix = f32::NEG_INFINITY;
        self.pos = 0;
    }

    /// Pushes every sample of `input` and writes the maximum of the last `window` samples
    /// (fewer at the start) after each into `out`. `out` may not alias `input`.
    pub fn process(&mut self, input: &[f32], out: &mut [f32]) {
        let len = input.len().min(out.len());
        if len > 0 {
            self.uniform = false;
        }
        let mut i = 0;
        while i < len {
            let pos = self.pos;
            let m = (self.window - pos).min(len - i);
            let mut prefix = self.prefix;
            let seg = &mut self.seg[pos..pos + m];
            let tail = &self.suffix[pos + 1..pos + 1 + m];
            for (((s, o), &x), &t) in seg
                .iter_mut()
                .zip(&mut out[i..i + m])
                .zip(&input[i..i + m])
                .zip(tail)
            {
                *s = x;
                prefix = prefix.max(x);
                *o = t.max(prefix);
            }
            self.prefix = prefix;
            self.pos += m;
            i += m;
            if self.pos == self.window {
                self.close_segment();
            }
        }
    }

    /// [`Self::process`] for `out.len()` samples that all equal `value`: the same output and
    /// state, without the per-sample scans (the limiter's blocks whose true peak stays under
    /// its threshold are floored to it, so they are constant).
    pub fn process_constant(&mut self, value: f32, out: &mut [f32]) {
        let len = out.len();
        let mut i = 0;
        while i < len {
            let pos = self.pos;
            if pos == 0 {
                (self.uniform, self.uniform_value) = (true, value);
            } else if self.uniform_value != value {
                self.uniform = false;
            }
            let m = (self.window - pos).min(len - i);
            self.seg[pos..pos + m].fill(value);
            let prefix = self.prefix.max(value);
            for (o, &t) in out[i..i + m]
                .iter_mut()
                .zip(&self.suffix[pos + 1..pos + 1 + m])
            {
                *o = t.max(prefix);
            }
            self.prefix = prefix;
            self.pos += m;
            i += m;
            if self.pos == self.window {
                self.close_segment();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn brute(xs: &[f32], i: usize, w: usize) -> f32 {
        let lo = (i + 1).saturating_sub(w);
        xs[lo..=i].iter().copied().fold(f32::NEG_INFINITY, f32::max)
    }

    #[test]
    fn matches_brute_force_on_random_streams() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for &w in &[1usize, 2, 3, 5, 16, 17, 100, 257] {
            let mut sm = SlidingMax::new(w);
            let xs: Vec<f32> = (0..5000)
                .map(|i| {
                    // Mix of noise, plateaus (ties) and monotone runs, the deque's hard cases.
                    match (i / 300) % 3 {
                        0 => rng.gen_range(-1.0..1.0),
                        1 => (rng.gen_range(0..4) as f32) * 0.25,
                        _ => ((i % 300) as f32) * if i % 600 < 300 { 1.0 } else { -1.0 },
                    }
                })
                .collect();
            for (i, &x) in xs.iter().enumerate() {
                assert_eq!(sm.push(x), brute(&xs, i, w), "window {w} at {i}");
            }
        }
    }

    #[test]
    fn segment_max_matches_brute_force_in_odd_blocks() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for &w in &[1usize, 2, 3, 16, 17, 100, 257] {
            let mut sm = SegmentMax::new(300);
            sm.set_window(w);
            let xs: Vec<f32> = (0..5000)
                .map(|i| match (i / 300) % 3 {
                    0 => rng.gen_range(-1.0..1.0),
                    1 => (rng.gen_range(0..4) as f32) * 0.25,
                    _ => ((i % 300) as f32) * if i % 600 < 300 { 1.0 } else { -1.0 },
                })
                .collect();
            let mut out = vec![0.0f32; xs.len()];
            let mut s = 0;
            let mut k = 0;
            while s < xs.len() {
                let e = (s + [1usize, 7, 64, 333][k % 4]).min(xs.len());
                sm.process(&xs[s..e], &mut out[s..e]);
                s = e;
                k += 1;
            }
            for (i, &o) in out.iter().enumerate() {
                assert_eq!(o, brute(&xs, i, w), "window {w} at {i}");
            }
        }
    }

    /// Constant stretches fed through `process_constant`, mixed with ordinary ones in odd
    /// blocks, give exactly what `process` gives on the same stream, and the brute force.
    #[test]
    fn constant_stretches_match_the_general_path_exactly() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(13);
        for &w in &[1usize, 2, 17, 100, 257] {
            let (mut general, mut mixed) = (SegmentMax::new(300), SegmentMax::new(300));
            general.set_window(w);
            mixed.set_window(w);
            let mut xs = Vec::new();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for k in 0..200 {
                let n = [1usize, 7, 64, 333, 300][k % 5];
                let constant = rng.gen_range(0..3) > 0;
                let level = [0.5f32, 0.5, 0.25, 1.0][rng.gen_range(0..4)];
                let block: Vec<f32> = (0..n)
                    .map(|_| {
                        if constant {
                            level
                        } else {
                            rng.gen_range(0.0..1.2)
                        }
                    })
                    .collect();
                let (mut oa, mut ob) = (vec![0.0; n], vec![0.0; n]);
                general.process(&block, &mut oa);
                if constant {
                    mixed.process_constant(level, &mut ob);
                } else {
                    mixed.process(&block, &mut ob);
                }
                xs.extend_from_slice(&block);
                a.extend(oa);
                b.extend(ob);
            }
            for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(x.to_bits(), y.to_bits(), "window {w} at {i}");
                assert_eq!(x, brute(&xs, i, w), "window {w} at {i}");
            }
        }
    }

    #[test]
    fn set_window_changes_length_and_clears() {
        let mut sm = SlidingMax::new(64);
        sm.push(10.0);
        sm.set_window(4);
        assert_eq!(sm.window(), 4);
        // The 10 was forgotten.
        assert_eq!(sm.push(1.0), 1.0);
        for x in [0.5, 0.25, 0.125] {
            assert_eq!(sm.push(x), 1.0);
        }
        // Four samples later the 1.0 has left the window.
        assert_eq!(sm.push(0.0), 0.5);
        sm.set_window(1000);
        assert_eq!(sm.window(), 64);
    }
}
