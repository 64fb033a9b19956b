//! Sums (and maxima) over long slices with eight independent accumulators. A plain
//! `iter().sum()` of `f32` is one serial chain of additions (floating-point addition is not associative, so the
//! compiler keeps the order); eight partial sums fit one vector register and run eight times
//! as wide. The result differs from the serial sum only by rounding. Always inlined, so a kernel
//! compiled with AVX2 ([`super::dispatch`]) runs them at its width.

/// Number of independent partial sums.
pub const LANES: usize = 8;

/// The sum of `x`.
#[inline(always)]
pub fn sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    total(acc) + rest
}

/// The dot product of `a` and `b` over their common length.
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    total(acc) + rest
}

/// The larger of `a` and `b`, keeping `a` when `b` is NaN: one `max` instruction, where
/// `f32::max` also orders NaNs, which costs a compare and a blend and keeps a fold serial.
#[inline(always)]
pub fn larger(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// The largest magnitude in `x` (0 for an empty slice; NaNs are passed over).
#[inline(always)]
pub fn max_abs(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let rest = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |a, v| larger(a, v.abs()));
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a = larger(*a, v.abs());
        }
    }
    acc.iter().fold(rest, |a, &v| larger(a, v))
}

/// The sum of the partial sums, pairwise.
#[inline(always)]
pub fn total(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length from 0 to 40 (whole chunks and every remainder) against f64 sums.
    #[test]
    fn sums_and_dots_match_f64_references_at_every_length() {
        let a: Vec<f32> = (0..40)
            .map(|i| ((i * 37 % 17) as f32 - 8.0) * 0.13)
            .collect();
        let b: Vec<f32> = (0..40)
            .map(|i| ((i * 11 % 13) as f32 - 6.0) * 0.07)
            .collect();
        for n in 0..=40 {
            let s: f64 = a[..n].iter().map(|&v| v as f64).sum();
            let d: f64 = a[..n]
                .iter()
                .zip(&b)
                .map(|(&x, &y)| x as f64 * y as f64)
                .sum();
            assert!((sum(&a[..n]) as f64 - s).abs() < 1e-5, "sum {n}");
            assert!((dot(&a[..n], &b) as f64 - d).abs() < 1e-5, "dot {n}");
            let m = a[..n].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert_eq!(max_abs(&a[..n]), m, "max {n}");
        }
    }
}
