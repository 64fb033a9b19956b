//! Tonal corridors: the range of long-term balance real productions of a style family span, per
//! Bark band, and the broad EQ that brings a mix back inside one.
//!
//! A corridor is a low and a high edge per band and a centre line, in band density (dB)
//! relative to the shape's mean over the bands from 100 Hz to 12 kHz (Bark bands 1..=22). The
//! figures are measured (see [`FAMILIES`] for the corpus), not drawn: per family, the edges are
//! the 10th and 90th percentiles of the tracks' shapes, widened to at least
//! [`MIN_HALF_WIDTH_DB`] either side of their middle; the centre line is the tracks' median
//! shape. (The 25th-75th percentiles were measured too: held-out finished masters then lie
//! outside in too many bands, and the EQ did more harm than good.)
//!
//! The music's family is weighed from its dynamics ([`family_weights`]: crest factor, loudness
//! range and peak-to-loudness ratio against each family's medians and spreads); the families'
//! corridors are blended by those weights and widened toward their union as far as the weights
//! are undecided ([`blend_families`]).
//!
//! The rules ([`corridor_eq`]):
//! - the music's shape is aligned to the corridor (moved to where it fits best: the least total
//!   excess over the present bands of 100 Hz-12 kHz; of the offsets that reach it, the nearest to
//!   the centre line), then each band's **excess** is how far it
//!   lies outside (positive: below the low edge, a boost; negative: above the high edge, a cut).
//!   Inside, the excess is zero: a finished master inside its corridor is left (nearly) alone;
//! - what lies outside is corrected **in full** (to the edge), at any EQ Amount above zero: a
//!   balance outside the productions of its style is a fault, not a taste. (Aiming the bands
//!   outside at the centre line instead was measured and rejected: on the held-out corpus many
//!   finished masters sit outside their family's corridor in some bands, and pulling those to
//!   the centre line did more harm than it restored on `benches/restoration.rs`'s tracks);
//! - **EQ Amount** scales the gentle move inside the corridor: a band inside is pulled
//!   [`IN_CORRIDOR_PULL`] times EQ Amount of the way toward the centre line (the family's
//!   median shape; at the default 70 % 7 % of the way);
//! - the correction is **broad**: in a few rounds, what is still left of the aim is smoothed
//!   twice over neighbouring bands (1/4, 1/2, 1/4) and added, so the gain is a sum of smooth
//!   bumps and the curvature between neighbours stays limited; the whole is scaled down to a
//!   total budget ([`BUDGET_DB`], the mean |gain| over the bands);
//! - **content-aware**: a band more than [`ABSENT_DB`] under the low edge is one the source does
//!   not have (a lossy-coded or low-passed top, a high-passed bottom, a band at the noise floor):
//!   it is never boosted, nor is a band where the deficit plunges faster than
//!   [`ROLL_OFF_DB_PER_OCT`] from its neighbour (a filter's skirt), nor anything beyond either
//!   (above at the top, below at the bottom): the target rolls off with the source's bandwidth.
//!
//! The same families judge the dynamics ([`over_dynamic`]): music whose crest factor, loudness
//! range and peak-to-loudness ratio lie inside its family's range is healthy and is not
//! compressed; only what lies over the range asks for compression.

use serde::{Deserialize, Serialize};

use super::measured::Measured;
use crate::dsp::bark::{self, BANDS};
use crate::dsp::dispatch::avx2_dispatch;

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
/// Share of the way to the centre line a band inside the corridor is pulled at 100 % EQ Amount.
pub const IN_CORRIDOR_PULL: f32 = 0.1;
/// How far the best fit is searched either side of the mean-to-middle offset, and its step, dB.
const ALIGN_RANGE_DB: f32 = 12.0;
const ALIGN_STEP_DB: f32 = 0.05;
/// Rounds of broad correction (each smooths what is still left of the aim and adds it).
const ROUNDS: usize = 6;
/// Mean |gain| over the bands the corridor EQ may spend, dB.
pub const BUDGET_DB: f32 = 3.0;
/// The band holding 1 kHz, from which the source's bandwidth is searched both ways.
const MID_BAND: usize = 8;

/// Low and high edges and the centre line per band, dB relative to the shape's mean over
/// [`NORM_BANDS`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Corridor {
    pub low_db: [f32; BANDS],
    pub high_db: [f32; BANDS],
    /// Where the family's productions sit: their median shape (inside the edges).
    pub centre_db: [f32; BANDS],
}

impl Corridor {
    /// The middle of the corridor per band (half-way between the edges).
    pub fn middle(&self) -> [f32; BANDS] {
        std::array::from_fn(|b| 0.5 * (self.low_db[b] + self.high_db[b]))
    }

    /// The corridor moved by `offset_db` per band (a preset's bias, the user's tilt).
    pub fn shifted(&self, offset_db: &[f32; BANDS]) -> Self {
        Self {
            low_db: std::array::from_fn(|b| self.low_db[b] + offset_db[b]),
            high_db: std::array::from_fn(|b| self.high_db[b] + offset_db[b]),
            centre_db: std::array::from_fn(|b| self.centre_db[b] + offset_db[b]),
        }
    }

    /// Blend of corridors with weights (edges and centre lines averaged).
    pub fn blend(items: &[(Corridor, f32)]) -> Self {
        let total: f32 = items.iter().map(|(_, w)| w.max(0.0)).sum::<f32>().max(1e-9);
        let mut out = Corridor {
            low_db: [0.0; BANDS],
            high_db: [0.0; BANDS],
            centre_db: [0.0; BANDS],
        };
        for (c, w) in items {
            let k = w.max(0.0) / total;
            for b in 0..BANDS {
                out.low_db[b] += k * c.low_db[b];
                out.high_db[b] += k * c.high_db[b];
                out.centre_db[b] += k * c.centre_db[b];
            }
        }
        out
    }
}

/// The spread of one measure over a family's tracks: 10th percentile, median, 90th.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub low: f32,
    pub median: f32,
    pub high: f32,
}

impl Spread {
    /// The standard deviation a normal distribution with this 10th-90th span has (the span
    /// is 2.56 sigma), floored at `min`.
    pub fn sigma(&self, min: f32) -> f32 {
        ((self.high - self.low) / 2.56).max(min)
    }
}

/// A style family: its corridor and the dynamics typical of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Family {
    pub name: &'static str,
    /// Edges (percentiles of the tracks' shapes), with the median as centre line.
    pub corridor: Corridor,
    /// Crest factor of the family's tracks (the analysis's measure), dB.
    pub crest_db: Spread,
    /// Loudness range, LU.
    pub lra_lu: Spread,
    /// Peak-to-loudness ratio (true peak less integrated loudness), dB.
    pub plr_db: Spread,
}

include!("corridor_data.rs");

/// The smallest spread [`family_weights`] assumes of a measure, in its unit (dB or LU).
pub const MIN_SIGMA: f32 = 1.0;

/// The music's peak-to-loudness ratio, dB.
pub fn plr_db(m: &Measured) -> f32 {
    m.true_peak_dbtp - m.integrated_lufs
}

/// How much each family fits the music, summing to 1: the likelihood of the music's crest
/// factor, loudness range and PLR under each family's (normal) spread of them. None of these
/// moves with a broad EQ or a level change, so a degraded copy of a track is judged the
/// family its original was.
pub fn family_weights(m: &Measured) -> [f32; FAMILIES.len()] {
    let plr = plr_db(m);
    let logits: [f32; FAMILIES.len()] = std::array::from_fn(|i| {
        let f = &FAMILIES[i];
        let z = |x: f32, s: &Spread| (x - s.median) / s.sigma(MIN_SIGMA);
        let (a, b, c) = (
            z(m.crest_db, &f.crest_db),
            z(m.lra_lu, &f.lra_lu),
            z(plr, &f.plr_db),
        );
        -0.5 * (a * a + b * b + c * c)
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
        centre_db: blend.centre_db,
    }
}

/// Crest factor over the family's 90th percentile that asks for the full ratio, dB.
pub const CREST_SPAN_DB: f32 = 4.0;
/// Loudness range over the family's 90th percentile that asks for the full ratio, LU.
pub const LRA_SPAN_LU: f32 = 6.0;
/// PLR over the family's 90th percentile that asks for the full ratio, dB.
pub const PLR_SPAN_DB: f32 = 4.0;

/// How far the music's dynamics lie over its family's healthy range, 0..1: each of crest
/// factor, loudness range and PLR against the weighted families' 90th percentile, in units of
/// [`CREST_SPAN_DB`], [`LRA_SPAN_LU`] and [`PLR_SPAN_DB`]; the largest counts. 0 is healthy
/// (inside the range: nothing to compress), 1 asks for the full ratio.
pub fn over_dynamic(m: &Measured, weights: &[f32; FAMILIES.len()]) -> f32 {
    let high = |f: fn(&Family) -> Spread| -> f32 {
        FAMILIES
            .iter()
            .zip(weights)
            .map(|(fam, w)| w * f(fam).high)
            .sum()
    };
    let crest = (m.crest_db - high(|f| f.crest_db)) / CREST_SPAN_DB;
    let lra = (m.lra_lu - high(|f| f.lra_lu)) / LRA_SPAN_LU;
    let plr = (plr_db(m) - high(|f| f.plr_db)) / PLR_SPAN_DB;
    crest.max(lra).max(plr).clamp(0.0, 1.0)
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
/// mean-to-middle offset), of the offsets that reach it the nearest to the centre line (a
/// shape that fits inside sits as near the centre line as it can).
///
/// The totals of the whole grid of offsets are summed together, each over its bands in band
/// order as one band loop per offset would (so the same sums), in a branch-free loop over the
/// offsets that vectorises ([`grid_totals`]). The analysis derives targets every hop, and this
/// search, offset by offset, was half of a whole `auralis master`'s time.
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
    // The present bands' (level, low edge, high edge), in band order.
    let mut bands = [[0.0f32; 3]; BANDS];
    let mut count = 0;
    for b in NORM_BANDS.filter(|&b| present[b]) {
        bands[count] = [levels[b], corridor.low_db[b], corridor.high_db[b]];
        count += 1;
    }
    let mut totals = [0.0f32; ALIGN_OFFSETS];
    grid_totals(&bands[..count], &offsets, &mut totals);
    let (mut best, mut first, mut last) = (f32::INFINITY, centre, centre);
    for (&e, &o) in totals.iter().zip(&offsets) {
        if e < best - 1e-4 {
            (best, first, last) = (e, o, o);
        } else if e <= best + 1e-4 {
            last = o;
        }
    }
    // Of the offsets that fit best, the one nearest the centre line (on average).
    let (mut to_centre, mut n) = (0.0f32, 0usize);
    for b in NORM_BANDS {
        if present[b] {
            to_centre += corridor.centre_db[b] - levels[b];
            n += 1;
        }
    }
    let to_centre = if n > 0 { to_centre / n as f32 } else { centre };
    let offset = to_centre.clamp(first, last);
    std::array::from_fn(|b| levels[b] + offset)
}

avx2_dispatch! {
    /// `totals[k]`: the total excess of the `bands` (level, low, high) moved by `offsets[k]`,
    /// summed in band order; SSE2 or AVX2, with identical results.
    fn grid_totals => grid_totals_kernel(
        bands: &[[f32; 3]],
        offsets: &[f32; ALIGN_OFFSETS],
        totals: &mut [f32; ALIGN_OFFSETS]
    );
}

/// [`grid_totals`], band by band over the whole grid (the loop over the offsets vectorises).
#[inline(always)]
fn grid_totals_kernel(
    bands: &[[f32; 3]],
    offsets: &[f32; ALIGN_OFFSETS],
    totals: &mut [f32; ALIGN_OFFSETS],
) {
    totals.fill(0.0);
    for &[level, low, high] in bands {
        for (t, &o) in totals.iter_mut().zip(offsets) {
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

/// What band `b` aims at, as a gain (see the module's rules): outside, the edge; inside,
/// `in_pull` of the way to the centre line.
fn aim(shape: f32, low: f32, high: f32, centre: f32, in_pull: f32) -> f32 {
    let centre = centre.clamp(low, high);
    if shape < low || shape > high {
        excess_of(shape, low, high)
    } else {
        in_pull * (centre - shape)
    }
}

/// The broad EQ bringing the placed music back inside `corridor`, and gently toward its
/// centre line (see the module's rules), clamped to ±`max_db`: what lies outside is corrected
/// in full,
/// `amount` (EQ Amount, 0..1) scales the pull inside; 0 is off (flat). [`ROUNDS`] times, what
/// is still left of the aim is smoothed twice over neighbouring bands and added, never
/// boosting an absent band.
pub fn corridor_eq(
    placement: &Placement,
    corridor: &Corridor,
    usable: usize,
    amount: f32,
    max_db: f32,
) -> [f32; BANDS] {
    let n = usable.min(BANDS);
    let mut out = [0.0f32; BANDS];
    if n == 0 || amount <= 0.0 {
        return out;
    }
    let in_pull = IN_CORRIDOR_PULL * amount.min(1.0);
    let want: [f32; BANDS] = std::array::from_fn(|b| {
        if b >= n {
            return 0.0;
        }
        let w = aim(
            placement.shape_db[b],
            corridor.low_db[b],
            corridor.high_db[b],
            corridor.centre_db[b],
            in_pull,
        );
        if placement.present[b] {
            w
        } else {
            w.min(0.0)
        }
    });
    let mut g = [0.0f32; BANDS];
    for _ in 0..ROUNDS {
        let left: [f32; BANDS] = std::array::from_fn(|b| if b < n { want[b] - g[b] } else { 0.0 });
        let step = smooth(&smooth(&left, n), n);
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
        out[b] = (g[b] * k).clamp(-max_db, max_db);
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
        let (mut to_centre, mut n) = (0.0f32, 0usize);
        for b in NORM_BANDS {
            if present[b] {
                to_centre += corridor.centre_db[b] - levels[b];
                n += 1;
            }
        }
        let to_centre = if n > 0 { to_centre / n as f32 } else { centre };
        let offset = to_centre.clamp(first, last);
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
                    centre_db: family.middle(),
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
            assert_eq!(dense.centre_db[b], f0.centre_db[b]);
        }
    }

    /// Music with a family's median dynamics.
    fn typical_of(f: &Family) -> Measured {
        let mut m = Measured::empty();
        m.crest_db = f.crest_db.median;
        m.lra_lu = f.lra_lu.median;
        m.integrated_lufs = -16.0;
        m.true_peak_dbtp = -16.0 + f.plr_db.median;
        m
    }

    #[test]
    fn the_family_nearer_in_dynamics_weighs_more_and_healthy_dynamics_ask_nothing() {
        for (i, f) in FAMILIES.iter().enumerate() {
            let m = typical_of(f);
            let w = family_weights(&m);
            assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{w:?}");
            assert!(w[i] > 0.5, "{}: {w:?}", f.name);
            assert_eq!(over_dynamic(&m, &w), 0.0, "{}", f.name);
        }
    }

    #[test]
    fn dynamics_over_the_familys_range_ask_for_compression_in_proportion() {
        let dense = &FAMILIES[0];
        let weights = std::array::from_fn(|i| if i == 0 { 1.0 } else { 0.0 });
        let mut m = typical_of(dense);
        m.crest_db = dense.crest_db.high + 0.5 * CREST_SPAN_DB;
        assert!((over_dynamic(&m, &weights) - 0.5).abs() < 1e-4);
        m.lra_lu = dense.lra_lu.high + 2.0 * LRA_SPAN_LU;
        assert_eq!(over_dynamic(&m, &weights), 1.0);
    }

    #[test]
    fn outside_aims_at_the_edge_inside_a_share_of_the_way_to_the_centre_line() {
        let (low, high, centre) = (-2.0, 2.0, 0.5);
        assert!((aim(-5.0, low, high, centre, 0.2) - 3.0).abs() < 1e-5);
        assert!((aim(4.0, low, high, centre, 0.2) + 2.0).abs() < 1e-5);
        assert_eq!(aim(-1.0, low, high, centre, 0.0), 0.0);
        assert!((aim(-1.0, low, high, centre, 0.2) - 0.3).abs() < 1e-5);
        // Continuous at the edges without a pull.
        assert!(aim(low - 1e-4, low, high, centre, 0.0).abs() < 1e-3);
        assert!(aim(high + 1e-4, low, high, centre, 0.0).abs() < 1e-3);
    }

    #[test]
    fn eq_amount_scales_the_pull_inside_not_the_correction_outside() {
        let corridor = FAMILIES[0].corridor;
        let n = BANDS;
        // Inside, off the centre line: the gain grows with EQ Amount, 0 is off.
        let inside: [f32; BANDS] = std::array::from_fn(|b| {
            corridor.centre_db[b] + 0.5 * (corridor.high_db[b] - corridor.centre_db[b])
        });
        let p = place(&inside, &corridor, n);
        let g = |amount: f32| corridor_eq(&p, &corridor, n, amount, 12.0);
        let mean_abs = |x: [f32; BANDS]| x.iter().map(|v| v.abs()).sum::<f32>() / n as f32;
        assert_eq!(g(0.0), [0.0; BANDS]);
        assert!(mean_abs(g(1.0)) > 1.5 * mean_abs(g(0.5)), "{:?}", g(1.0));
        // A broad fall above 2 kHz, 1.5 dB more per band (a shelf's slope, not a filter's
        // skirt), to 12 dB under the centre line: the same correction of what lies outside at
        // 30 % as at 100 % (within what the pull adds inside).
        let dull: [f32; BANDS] = std::array::from_fn(|b| {
            corridor.centre_db[b] - (1.5 * b.saturating_sub(12) as f32).min(12.0)
        });
        let p = place(&dull, &corridor, n);
        assert!(p.excess_db[18] > 3.0, "{:?}", p.excess_db);
        let (low, full) = (
            corridor_eq(&p, &corridor, n, 0.3, 12.0),
            corridor_eq(&p, &corridor, n, 1.0, 12.0),
        );
        let top = |x: &[f32; BANDS]| x[17..21].iter().sum::<f32>() / 4.0;
        assert!(top(&low) > 3.0, "{low:?}");
        assert!((top(&low) - top(&full)).abs() < 0.5, "{low:?} {full:?}");
    }
}
