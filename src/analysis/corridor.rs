//! Tonal corridors: the range of long-term balance real productions of a style family span, per
//! Bark band, and the broad EQ that brings a mix back inside one.
//!
//! A corridor is a low and a high edge per band, in band density (dB) relative to the shape's
//! mean over the bands from 100 Hz to 12 kHz (Bark bands 1..=22). The figures are measured (see
//! [`FAMILIES`] for the corpus), not drawn: the 10th and 90th percentiles of the tracks' shapes,
//! widened to at least [`MIN_HALF_WIDTH_DB`] either side of their middle.
//!
//! The music's family is weighed from its crest factor ([`family_weights`]); the families'
//! corridors are blended by those weights and widened toward their union as far as the weights
//! are undecided ([`blend_families`]).
//!
//! The rules ([`corridor_eq`]):
//! - the music's shape is aligned to the corridor (moved to where it fits best: the least total
//!   excess over the present bands of 100 Hz-12 kHz), then each band's **excess** is how far it lies outside
//!   (positive: below the low edge, a boost; negative: above the high edge, a cut). Inside, the
//!   excess is zero: a finished master inside its corridor is left alone;
//! - the correction is **broad**: in a few rounds, what still lies outside is smoothed twice over
//!   neighbouring bands (1/4, 1/2, 1/4) and added, so the gain is a sum of smooth bumps and the
//!   curvature between neighbours stays limited; the whole is scaled down to a total budget
//!   ([`BUDGET_DB`], the mean |gain| over the bands);
//! - **content-aware**: a band more than [`ABSENT_DB`] under the low edge is one the source does
//!   not have (a lossy-coded or low-passed top, a high-passed bottom, a band at the noise floor):
//!   it is never boosted, nor is a band where the deficit plunges faster than
//!   [`ROLL_OFF_DB_PER_OCT`] from its neighbour (a filter's skirt), nor anything beyond either (above at the top, below
//!   at the bottom): the target rolls off with the source's bandwidth.

use serde::{Deserialize, Serialize};

use super::targets::Measured;
use crate::dsp::bark::{self, BANDS};

/// The bands the shapes are normalised over: 100 Hz to 12 kHz.
pub const NORM_BANDS: std::ops::RangeInclusive<usize> = 1..=22;
/// A corridor is at least this wide either side of its middle, dB.
pub const MIN_HALF_WIDTH_DB: f32 = 1.0;
/// A band this far under the corridor's low edge is absent from the source, dB.
pub const ABSENT_DB: f32 = 20.0;
/// A deficit growing faster than this away from 1 kHz, between neighbouring band centres, is a
/// roll-off (a filter's skirt: a broad 10 dB shelf bends at most about 7 dB/octave): the
/// source's bandwidth ends there, dB/octave.
pub const ROLL_OFF_DB_PER_OCT: f32 = 12.0;
/// How far the best fit is searched either side of the mean-to-middle offset, and its step, dB.
const ALIGN_RANGE_DB: f32 = 12.0;
const ALIGN_STEP_DB: f32 = 0.05;
/// Rounds of broad correction (each smooths what is still outside and adds it).
const ROUNDS: usize = 4;
/// Mean |gain| over the bands the corridor EQ may spend, dB.
pub const BUDGET_DB: f32 = 3.0;
/// The band holding 1 kHz, from which the source's bandwidth is searched both ways.
const MID_BAND: usize = 8;

/// Low and high edges per band, dB relative to the shape's mean over [`NORM_BANDS`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Corridor {
    pub low_db: [f32; BANDS],
    pub high_db: [f32; BANDS],
}

impl Corridor {
    /// The middle of the corridor per band.
    pub fn middle(&self) -> [f32; BANDS] {
        std::array::from_fn(|b| 0.5 * (self.low_db[b] + self.high_db[b]))
    }

    /// The corridor moved by `offset_db` per band (a preset's bias, the user's tilt).
    pub fn shifted(&self, offset_db: &[f32; BANDS]) -> Self {
        Self {
            low_db: std::array::from_fn(|b| self.low_db[b] + offset_db[b]),
            high_db: std::array::from_fn(|b| self.high_db[b] + offset_db[b]),
        }
    }

    /// Blend of corridors with weights (edges averaged).
    pub fn blend(items: &[(Corridor, f32)]) -> Self {
        let total: f32 = items.iter().map(|(_, w)| w.max(0.0)).sum::<f32>().max(1e-9);
        let mut out = Corridor {
            low_db: [0.0; BANDS],
            high_db: [0.0; BANDS],
        };
        for (c, w) in items {
            let k = w.max(0.0) / total;
            for b in 0..BANDS {
                out.low_db[b] += k * c.low_db[b];
                out.high_db[b] += k * c.high_db[b];
            }
        }
        out
    }
}

/// A style family: its corridor and the dynamics typical of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Family {
    pub name: &'static str,
    pub corridor: Corridor,
    /// Median crest factor of the family's tracks (the analysis's measure), dB.
    pub crest_db: f32,
}

include!("corridor_data.rs");

/// Spread of a family's crest factors around its median for [`family_weights`], dB.
pub const CREST_SPREAD_DB: f32 = 3.0;

/// How much each family fits the music, summing to 1: a soft nearest match of the music's
/// crest factor to the families' medians (Gaussian weights, [`CREST_SPREAD_DB`]). On the
/// measured corpus the two families' medians are within 0.3 dB of each other, so the weights
/// stay near one half each: the corridor in use is close to the families' union (see
/// [`blend_families`]).
pub fn family_weights(m: &Measured) -> [f32; FAMILIES.len()] {
    let logits: [f32; FAMILIES.len()] = std::array::from_fn(|i| {
        let x = (m.crest_db - FAMILIES[i].crest_db) / CREST_SPREAD_DB;
        -0.5 * x * x
    });
    let top = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let w = logits.map(|l| (l - top).exp());
    let total: f32 = w.iter().sum();
    w.map(|x| x / total)
}

/// The corridor for the music: the families' corridors blended by [`family_weights`] (see
/// [`blend_families`]).
pub fn corridor_for(m: &Measured) -> Corridor {
    blend_families(&family_weights(m))
}

/// The families' corridors blended by `weights` (summing to 1), widened toward their union as
/// far as the weights are undecided: an even split keeps every family's range (the music is not
/// held to a family it may not belong to), all the weight on one family gives its own.
pub fn blend_families(weights: &[f32; FAMILIES.len()]) -> Corridor {
    // A fixed array, not a Vec: this runs in the offline render's audio callback.
    let items: [(Corridor, f32); FAMILIES.len()] =
        std::array::from_fn(|i| (FAMILIES[i].corridor, weights[i]));
    let blend = Corridor::blend(&items);
    let most = weights.iter().cloned().fold(0.0f32, f32::max);
    let n = FAMILIES.len() as f32;
    // 0 when one family has all the weight, 1 at an even split.
    let undecided = ((1.0 - most) / (1.0 - 1.0 / n)).clamp(0.0, 1.0);
    let low_all: [f32; BANDS] = std::array::from_fn(|b| {
        FAMILIES
            .iter()
            .map(|f| f.corridor.low_db[b])
            .fold(f32::INFINITY, f32::min)
    });
    let high_all: [f32; BANDS] = std::array::from_fn(|b| {
        FAMILIES
            .iter()
            .map(|f| f.corridor.high_db[b])
            .fold(f32::NEG_INFINITY, f32::max)
    });
    Corridor {
        low_db: std::array::from_fn(|b| {
            blend.low_db[b] + undecided * (low_all[b] - blend.low_db[b])
        }),
        high_db: std::array::from_fn(|b| {
            blend.high_db[b] + undecided * (high_all[b] - blend.high_db[b])
        }),
    }
}

/// Where the music sits against a corridor.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The music's shape aligned to the corridor, dB per band.
    pub shape_db: [f32; BANDS],
    /// How far each band lies outside (positive: under the low edge), dB.
    pub excess_db: [f32; BANDS],
    /// Bands the source has (not absent, within its bandwidth).
    pub present: [bool; BANDS],
}

/// Steps of the best-fit search either side of the mean-to-middle offset, and the number of
/// offsets it tries.
const ALIGN_STEPS: i32 = (ALIGN_RANGE_DB / ALIGN_STEP_DB) as i32;
const ALIGN_OFFSETS: usize = 2 * ALIGN_STEPS as usize + 1;

/// The levels moved by the offset that fits them best in the corridor: the least total excess
/// over the present bands of 100 Hz-12 kHz (searched in [`ALIGN_STEP_DB`] steps from the
/// mean-to-middle offset), the middle of the offsets that reach it (a shape that fits inside
/// sits as centrally as it can).
///
/// The totals of every offset are summed band by band over the whole grid, the bands in order
/// (so each total is the sum of its bands in the same order as one band loop per offset would
/// take): a branch-free loop over the offsets that vectorises. The analysis derives targets
/// every hop, and this search, offset by offset, was half of a whole `auralis master`'s time.
fn aligned(levels: &[f32; BANDS], corridor: &Corridor, present: &[bool; BANDS]) -> [f32; BANDS] {
    let middle = corridor.middle();
    let (mut sum, mut n) = (0.0f32, 0usize);
    for b in NORM_BANDS {
        if present[b] {
            sum += middle[b] - levels[b];
            n += 1;
        }
    }
    let centre = if n > 0 { sum / n as f32 } else { 0.0 };
    let offsets: [f32; ALIGN_OFFSETS] =
        std::array::from_fn(|k| centre + (k as i32 - ALIGN_STEPS) as f32 * ALIGN_STEP_DB);
    let mut totals = [0.0f32; ALIGN_OFFSETS];
    for b in NORM_BANDS.filter(|&b| present[b]) {
        let (level, low, high) = (levels[b], corridor.low_db[b], corridor.high_db[b]);
        for (t, &o) in totals.iter_mut().zip(&offsets) {
            let v = level + o;
            // |excess_of(v, low, high)|, as a selection.
            *t += if v < low {
                low - v
            } else if v > high {
                v - high
            } else {
                0.0
            };
        }
    }
    let (mut best, mut first, mut last) = (f32::INFINITY, centre, centre);
    for (&e, &o) in totals.iter().zip(&offsets) {
        if e < best - 1e-4 {
            (best, first, last) = (e, o, o);
        } else if e <= best + 1e-4 {
            last = o;
        }
    }
    let offset = 0.5 * (first + last);
    std::array::from_fn(|b| levels[b] + offset)
}

/// Places measured band levels (density, dB) in a corridor, over the first `usable` bands.
pub fn place(levels: &[f32; BANDS], corridor: &Corridor, usable: usize) -> Placement {
    let n = usable.min(BANDS);
    let mut present: [bool; BANDS] = std::array::from_fn(|b| b < n);
    let mut shape = aligned(levels, corridor, &present);
    // Twice: the bands found absent no longer pull the alignment down.
    for _ in 0..2 {
        let mut absent: [bool; BANDS] =
            std::array::from_fn(|b| b >= n || shape[b] < corridor.low_db[b] - ABSENT_DB);
        // Beyond the first absent band on either side of 1 kHz the source has nothing to lift.
        // So is a band where the level plunges: its deficit under the low edge grows faster
        // than ROLL_OFF_DB_PER_OCT from its neighbour toward 1 kHz (a low-pass's or
        // high-pass's skirt; a broad shelf bends far more gently).
        let deficit = |b: usize| corridor.low_db[b] - shape[b];
        let plunges = |b: usize, toward: usize| {
            let octaves = (bark::centre(b) / bark::centre(toward)).log2().abs();
            deficit(b) > 0.0 && (deficit(b) - deficit(toward)) / octaves > ROLL_OFF_DB_PER_OCT
        };
        for (b, a) in absent.iter_mut().enumerate().take(n).skip(MID_BAND + 1) {
            *a |= plunges(b, b - 1);
        }
        for (b, a) in absent.iter_mut().enumerate().take(MID_BAND) {
            *a |= plunges(b, b + 1);
        }
        for b in MID_BAND..BANDS {
            if absent[b] {
                absent[b..].iter_mut().for_each(|a| *a = true);
                break;
            }
        }
        for b in (0..MID_BAND).rev() {
            if absent[b] {
                absent[..=b].iter_mut().for_each(|a| *a = true);
                break;
            }
        }
        present = std::array::from_fn(|b| !absent[b]);
        shape = aligned(levels, corridor, &present);
    }
    let excess = std::array::from_fn(|b| {
        if b >= n {
            0.0
        } else if shape[b] < corridor.low_db[b] {
            corridor.low_db[b] - shape[b]
        } else if shape[b] > corridor.high_db[b] {
            corridor.high_db[b] - shape[b]
        } else {
            0.0
        }
    });
    Placement {
        shape_db: shape,
        excess_db: excess,
        present,
    }
}

/// One pass of (1/4, 1/2, 1/4) over the first `n` bands, ends held.
fn smooth(x: &[f32; BANDS], n: usize) -> [f32; BANDS] {
    let mut out = [0.0; BANDS];
    for b in 0..n {
        let l = x[b.saturating_sub(1)];
        let r = x[(b + 1).min(n - 1)];
        out[b] = 0.25 * l + 0.5 * x[b] + 0.25 * r;
    }
    out
}

fn excess_of(level: f32, low: f32, high: f32) -> f32 {
    if level < low {
        low - level
    } else if level > high {
        high - level
    } else {
        0.0
    }
}

/// The broad EQ bringing the placed music inside `corridor`, times `amount`, clamped to
/// ±`max_db` (see the module's rules): [`ROUNDS`] times, what still lies outside is smoothed
/// twice over neighbouring bands and added, never boosting an absent band.
pub fn corridor_eq(
    placement: &Placement,
    corridor: &Corridor,
    usable: usize,
    amount: f32,
    max_db: f32,
) -> [f32; BANDS] {
    let n = usable.min(BANDS);
    let mut out = [0.0f32; BANDS];
    if n == 0 {
        return out;
    }
    let mut g = [0.0f32; BANDS];
    for _ in 0..ROUNDS {
        let mut want: [f32; BANDS] = std::array::from_fn(|b| {
            if b < n {
                excess_of(
                    placement.shape_db[b] + g[b],
                    corridor.low_db[b],
                    corridor.high_db[b],
                )
            } else {
                0.0
            }
        });
        for (w, present) in want.iter_mut().zip(&placement.present).take(n) {
            if !present {
                *w = w.min(0.0);
            }
        }
        let step = smooth(&smooth(&want, n), n);
        for b in 0..n {
            g[b] += step[b];
            if !placement.present[b] {
                g[b] = g[b].min(0.0);
            }
        }
    }
    let spent = g[..n].iter().map(|x| x.abs()).sum::<f32>() / n as f32;
    let k = if spent > BUDGET_DB {
        BUDGET_DB / spent
    } else {
        1.0
    };
    for b in 0..n {
        out[b] = (g[b] * k * amount).clamp(-max_db, max_db);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The best-fit search as first written, one offset at a time: the reference of the
    /// vectorised [`aligned`].
    fn aligned_offset_by_offset(
        levels: &[f32; BANDS],
        corridor: &Corridor,
        present: &[bool; BANDS],
    ) -> [f32; BANDS] {
        let total_excess = |offset: f32| -> f32 {
            NORM_BANDS
                .filter(|&b| present[b])
                .map(|b| {
                    excess_of(levels[b] + offset, corridor.low_db[b], corridor.high_db[b]).abs()
                })
                .sum()
        };
        let middle = corridor.middle();
        let (mut sum, mut n) = (0.0f32, 0usize);
        for b in NORM_BANDS {
            if present[b] {
                sum += middle[b] - levels[b];
                n += 1;
            }
        }
        let centre = if n > 0 { sum / n as f32 } else { 0.0 };
        let steps = (ALIGN_RANGE_DB / ALIGN_STEP_DB) as i32;
        let (mut best, mut first, mut last) = (f32::INFINITY, centre, centre);
        for i in -steps..=steps {
            let o = centre + i as f32 * ALIGN_STEP_DB;
            let e = total_excess(o);
            if e < best - 1e-4 {
                (best, first, last) = (e, o, o);
            } else if e <= best + 1e-4 {
                last = o;
            }
        }
        let offset = 0.5 * (first + last);
        std::array::from_fn(|b| levels[b] + offset)
    }

    #[test]
    fn the_vectorised_best_fit_is_exactly_the_offset_by_offset_search() {
        let mut seed = 0x1234_5678_u32;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as f32 / u32::MAX as f32
        };
        let mut moved = 0;
        for case in 0..2_000 {
            let family = &FAMILIES[case % FAMILIES.len()].corridor;
            // Shapes from inside the corridor to far outside it, tilted, with some bands absent
            // and, now and then, the corridor narrowed to a line.
            let spread = [0.5, 3.0, 12.0, 30.0][case % 4];
            let tilt = 4.0 * (next() - 0.5);
            let levels: [f32; BANDS] = std::array::from_fn(|b| {
                family.middle()[b] + spread * (next() - 0.5) + tilt * (b as f32 - 12.0) / 12.0 - 7.0
            });
            let corridor = if case % 7 == 0 {
                Corridor {
                    low_db: family.middle(),
                    high_db: family.middle(),
                }
            } else {
                *family
            };
            let present: [bool; BANDS] = std::array::from_fn(|_| next() > 0.15);
            let fast = aligned(&levels, &corridor, &present);
            let reference = aligned_offset_by_offset(&levels, &corridor, &present);
            assert_eq!(fast, reference, "case {case}");
            moved += usize::from(fast != levels);
        }
        assert!(moved > 1_000, "the cases must move the shapes ({moved})");
    }

    #[test]
    fn an_undecided_family_keeps_every_familys_range_and_a_clear_one_its_own() {
        let even = blend_families(&[0.5, 0.5]);
        let dense = blend_families(&[1.0, 0.0]);
        for b in 0..BANDS {
            let (f0, f1) = (&FAMILIES[0].corridor, &FAMILIES[1].corridor);
            assert!((even.low_db[b] - f0.low_db[b].min(f1.low_db[b])).abs() < 1e-4);
            assert!((even.high_db[b] - f0.high_db[b].max(f1.high_db[b])).abs() < 1e-4);
            assert_eq!(dense.low_db[b], f0.low_db[b]);
            assert_eq!(dense.high_db[b], f0.high_db[b]);
        }
    }

    #[test]
    fn the_family_nearer_in_crest_weighs_more() {
        let mut m = Measured::empty();
        let (c0, c1) = (FAMILIES[0].crest_db, FAMILIES[1].crest_db);
        m.crest_db = c0 + 3.0 * (c0 - c1).signum() * CREST_SPREAD_DB;
        let w = family_weights(&m);
        assert!(w[0] > w[1] && (w[0] + w[1] - 1.0).abs() < 1e-5, "{w:?}");
        m.crest_db = 0.5 * (c0 + c1);
        let w = family_weights(&m);
        assert!((w[0] - 0.5).abs() < 1e-5, "{w:?}");
    }
}
