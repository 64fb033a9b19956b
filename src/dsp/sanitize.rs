//! Guards every unit uses against non-finite input and denormal states.

/// True if every sample of every channel is finite.
#[inline]
pub fn all_finite(channels: &[&mut [f32]]) -> bool {
    channels
        .iter()
        .all(|ch| ch.iter().fold(true, |ok, x| ok & x.is_finite()))
}

/// Replaces NaN and infinite samples with silence. Returns true if any was found.
///
/// The usual case, every sample finite, is found by [`all_finite`], whose loop vectorises; only
/// a block holding a non-finite sample goes through the replacement loop.
pub fn replace_non_finite(channels: &mut [&mut [f32]]) -> bool {
    if all_finite(channels) {
        return false;
    }
    let mut found = false;
    for ch in channels.iter_mut() {
        for x in ch.iter_mut() {
            if !x.is_finite() {
                *x = 0.0;
                found = true;
            }
        }
    }
    found
}

/// Flushes a filter or envelope state to zero when it has decayed into the denormal range.
#[inline]
pub fn flush_denormal(x: f32) -> f32 {
    if x.abs() < 1.0e-20 {
        0.0
    } else {
        x
    }
}

/// Flushes a double-precision state to zero below the audible floor.
#[inline]
pub fn flush_denormal_f64(x: f64) -> f64 {
    if x.abs() < 1.0e-30 {
        0.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_samples_are_silenced_and_reported() {
        let mut a = [0.5, f32::NAN, -1.0];
        let mut b = [f32::INFINITY, 0.25, f32::NEG_INFINITY];
        let mut chans: [&mut [f32]; 2] = [&mut a, &mut b];
        assert!(!all_finite(&chans));
        assert!(replace_non_finite(&mut chans));
        assert!(all_finite(&chans));
        assert_eq!(a, [0.5, 0.0, -1.0]);
        assert_eq!(b, [0.0, 0.25, 0.0]);
    }

    #[test]
    fn denormals_flush_and_normal_values_stay() {
        assert_eq!(flush_denormal(1.0e-30), 0.0);
        assert_eq!(flush_denormal(1.0e-3), 1.0e-3);
        assert_eq!(flush_denormal_f64(-1.0e-35), 0.0);
    }
}
