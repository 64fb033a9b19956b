//! A value that glides linearly to its target over a given number of samples. Used for every
//! stage's click-free bypass, the intensity (dry/wet) mix, the host bypass and the trims.

#[derive(Clone, Copy, Debug)]
pub struct Glide {
    value: f32,
    target: f32,
    /// Change per sample while gliding.
    step: f32,
}

impl Glide {
    /// A glide resting at `value`.
    pub fn new(value: f32) -> Self {
        Self {
            value,
            target: value,
            step: 0.0,
        }
    }

    /// Glides from the current value to `target` in `samples` samples.
    pub fn set_target(&mut self, target: f32, samples: usize) {
        if target != self.target {
            self.target = target;
            self.step = (target - self.value).abs() / samples.max(1) as f32;
        }
    }

    /// Jumps to the target at once (on reset or activation).
    pub fn settle(&mut self) {
        self.value = self.target;
    }

    pub fn value(&self) -> f32 {
        self.value
    }

    pub fn target(&self) -> f32 {
        self.target
    }

    pub fn is_gliding(&self) -> bool {
        self.value != self.target
    }

    /// Fills `out` with the next `out.len()` values of the glide.
    #[inline]
    pub fn fill(&mut self, out: &mut [f32]) {
        if !self.is_gliding() {
            out.fill(self.value);
            return;
        }
        // One addition per sample, carried across calls: the sequence of values is the same
        // however the audio is split into blocks, which keeps offline renders deterministic.
        let (t, s) = (self.target, self.step);
        let mut v = self.value;
        for x in out.iter_mut() {
            v = if t > v {
                (v + s).min(t)
            } else {
                (v - s).max(t)
            };
            *x = v;
        }
        self.value = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glides_linearly_and_stops_at_target() {
        let mut x = Glide::new(0.0);
        x.set_target(1.0, 4);
        let mut out = [0.0; 6];
        x.fill(&mut out);
        assert_eq!(out, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]);
        assert!(!x.is_gliding());
        x.set_target(0.5, 2);
        let mut out = [0.0; 3];
        x.fill(&mut out);
        assert_eq!(out, [0.75, 0.5, 0.5]);
    }

    #[test]
    fn the_same_glide_whatever_the_block_split() {
        let mut a = Glide::new(0.1);
        let mut b = Glide::new(0.1);
        a.set_target(0.9, 1000);
        b.set_target(0.9, 1000);
        let mut whole = vec![0.0; 1200];
        a.fill(&mut whole);
        let mut split = vec![0.0; 1200];
        for chunk in split.chunks_mut(7) {
            b.fill(chunk);
        }
        assert_eq!(whole, split);
    }
}
