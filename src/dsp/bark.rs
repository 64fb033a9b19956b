//! The 25 critical bands (Bark scale) shared by the EQ and the analysis.
//!
//! Band edges after Zwicker (1961), "Subdivision of the audible frequency range into critical
//! bands", with the first band widened down to 20 Hz and the last one up to 20 kHz.

/// Number of critical bands.
pub const BANDS: usize = 25;

/// Band edges in Hz: band `i` spans `EDGES[i]..EDGES[i + 1]`.
pub const EDGES: [f32; BANDS + 1] = [
    20.0, 100.0, 200.0, 300.0, 400.0, 510.0, 630.0, 770.0, 920.0, 1080.0, 1270.0, 1480.0, 1720.0,
    2000.0, 2320.0, 2700.0, 3150.0, 3700.0, 4400.0, 5300.0, 6400.0, 7700.0, 9500.0, 12000.0,
    15500.0, 20000.0,
];

/// The centre of band `i`: the geometric mean of its edges.
pub fn centre(band: usize) -> f32 {
    (EDGES[band] * EDGES[band + 1]).sqrt()
}

/// All band centres in Hz.
pub fn centres() -> [f32; BANDS] {
    std::array::from_fn(centre)
}

/// How many bands lie entirely below `nyquist_fraction * sample_rate / 2`: the bands a filter can
/// realise at this sample rate. Bands whose centre reaches past 0.45 * fs are dropped.
pub fn usable_bands(sample_rate: f32) -> usize {
    (0..BANDS)
        .take_while(|&b| centre(b) < 0.45 * sample_rate)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_rise_and_centres_sit_inside() {
        for b in 0..BANDS {
            assert!(EDGES[b] < EDGES[b + 1]);
            let c = centre(b);
            assert!(c > EDGES[b] && c < EDGES[b + 1], "band {b}: {c}");
        }
    }

    #[test]
    fn low_sample_rates_drop_the_top_bands() {
        assert_eq!(usable_bands(48_000.0), BANDS);
        // At 8 kHz only bands whose centre is under 3.6 kHz remain.
        let n = usable_bands(8_000.0);
        assert!(centre(n - 1) < 3_600.0 && centre(n) >= 3_600.0);
    }
}
