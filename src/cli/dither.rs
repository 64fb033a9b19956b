//! How a master is dithered when it is reduced to 16 or 24 bits: TPDF (the default), TPDF
//! noise-shaped away from the ear's most sensitive band (16-bit only), or none (plain rounding).
//!
//! Shaping is error feedback: each sample's total error (rounding plus dither) is filtered and
//! subtracted from the next samples before they are rounded, so the error that reaches the file
//! is the white error through the noise transfer function `1 - sum(c[k] z^-k)`. The filter is
//! the 9-tap F-weighted one of R. A. Wannamaker, "Psychoacoustically Optimal Noise Shaping",
//! J. Audio Eng. Soc. 40(7/8), 1992, pp. 611-620, designed for 44.1 kHz (the same coefficients
//! SoX's `dither -s f-weighted` uses): it takes the error 12 to 25 dB below TPDF's from 0 to
//! 6 kHz (most, 25 dB, at 3 kHz, where hearing is keenest) and lifts it above 14 kHz, where it
//! is least audible (+21 dB at 18 kHz, +27 dB at 22 kHz). At
//! 48 kHz the same filter runs with its curve 9 % higher in frequency, still right for the ear.
//! At other rates it would be wrong (at 96 kHz its lift starts inside the audible band's top
//! octave, at 32 kHz its notch would sit at 3 kHz and its lift at 9 kHz), so there `shaped`
//! falls back to TPDF ([`Dither::effective`]).
//!
//! The dither's generator is seeded with a constant, so a bounce is reproducible bit for bit;
//! the error feedback is deterministic.

/// The dither the user asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Dither {
    /// Triangular (TPDF) dither, ±1 LSB, white.
    #[default]
    Tpdf,
    /// TPDF dither, noise-shaped (16-bit outputs at 44.1 and 48 kHz; TPDF otherwise).
    Shaped,
    /// No dither: rounding only.
    None,
}

/// Wannamaker's 9-tap F-weighted error-feedback coefficients for 44.1 kHz (see the module's
/// documentation).
pub const F_WEIGHTED_44K: [f64; 9] = [
    2.412, -3.370, 3.937, -4.174, 3.353, -2.205, 1.281, -0.569, 0.0847,
];

impl Dither {
    /// What is applied for a file of `bits` at `sample_rate`: shaping only for 16 bits at
    /// 44.1 or 48 kHz, TPDF in its place otherwise.
    pub fn effective(self, bits: u16, sample_rate: u32) -> Dither {
        match self {
            Dither::Shaped if bits == 16 && (44_100..=48_000).contains(&sample_rate) => {
                Dither::Shaped
            }
            Dither::Shaped => Dither::Tpdf,
            other => other,
        }
    }
}

/// The error feedback of one channel.
#[derive(Clone, Debug, Default)]
pub struct NoiseShaper {
    /// Past total errors, newest first, in LSB.
    errors: [f64; F_WEIGHTED_44K.len()],
}

impl NoiseShaper {
    /// The value to dither and round, for sample `x` (in LSB): `x` less the filtered past
    /// errors.
    #[inline]
    pub fn target(&self, x: f64) -> f64 {
        let feedback: f64 = F_WEIGHTED_44K
            .iter()
            .zip(&self.errors)
            .map(|(c, e)| c * e)
            .sum();
        x - feedback
    }

    /// Records the total error (dither and rounding, so both are shaped) of the sample just
    /// quantised: `rounded` (the dithered target rounded, before clipping to the integer range,
    /// so a clipped sample cannot make the loop unstable) less `target`.
    #[inline]
    pub fn record(&mut self, rounded: f64, target: f64) {
        let last = self.errors.len() - 1;
        self.errors.copy_within(0..last, 1);
        self.errors[0] = rounded - target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// |1 - sum(c[k] e^{-jwk})| in dB at `hz` for 44.1 kHz.
    fn ntf_db(hz: f64) -> f64 {
        let w = std::f64::consts::TAU * hz / 44_100.0;
        let (mut re, mut im) = (1.0, 0.0);
        for (k, c) in F_WEIGHTED_44K.iter().enumerate() {
            let phase = w * (k + 1) as f64;
            re -= c * phase.cos();
            im += c * phase.sin();
        }
        10.0 * (re * re + im * im).log10()
    }

    #[test]
    fn the_filter_lowers_the_error_where_hearing_is_keenest_and_lifts_it_above() {
        for hz in [2_000.0, 3_000.0, 4_000.0, 5_000.0] {
            assert!(ntf_db(hz) < -10.0, "{hz} Hz: {:.1} dB", ntf_db(hz));
        }
        assert!(ntf_db(3_000.0) < -24.0);
        for hz in [18_000.0, 20_000.0, 22_000.0] {
            assert!(ntf_db(hz) > 20.0, "{hz} Hz: {:.1} dB", ntf_db(hz));
        }
    }

    #[test]
    fn shaping_is_only_for_16_bits_at_44_1_and_48_khz() {
        assert_eq!(Dither::Shaped.effective(16, 44_100), Dither::Shaped);
        assert_eq!(Dither::Shaped.effective(16, 48_000), Dither::Shaped);
        assert_eq!(Dither::Shaped.effective(16, 96_000), Dither::Tpdf);
        assert_eq!(Dither::Shaped.effective(24, 44_100), Dither::Tpdf);
        assert_eq!(Dither::None.effective(16, 44_100), Dither::None);
    }

    #[test]
    fn the_loop_stays_bounded_on_a_full_scale_square() {
        let mut shaper = NoiseShaper::default();
        let mut worst = 0.0f64;
        for i in 0..100_000 {
            let x = if (i / 50) % 2 == 0 {
                40_000.0
            } else {
                -40_000.0
            };
            let t = shaper.target(x);
            let rounded = t.round();
            shaper.record(rounded, t);
            worst = worst.max((t - x).abs());
        }
        // Errors are at most half an LSB, so the feedback is at most the taps' absolute sum.
        let bound: f64 = F_WEIGHTED_44K.iter().map(|c| c.abs()).sum::<f64>() * 0.5;
        assert!(worst <= bound + 1e-9, "{worst}");
    }
}
