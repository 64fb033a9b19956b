//! Targets: what the engine should do, and the pure rules deriving them.
//!
//! [`derive`](fn@derive) maps a [`Measured`] summary, the [`AnalysisConfig`] and an optional
//! [`ReferenceProfile`] to raw (unsmoothed) [`Targets`]; [`RateLimits::step`] moves the published
//! targets toward them at bounded speeds. Both are pure and allocation-free.
//!
//! Rules:
//! - **EQ** (adaptive) keeps the music inside its tonal corridor ([`super::corridor`]): the range
//!   real productions of its style family span per band, the families weighed from the music's
//!   dynamics, moved by the preset's bias and the user's tilt. What lies clearly outside is
//!   brought back to the corridor's centre line in full, by broad moves within a budget, never
//!   boosting a band the source does not have; EQ Amount (times the preset's EQ scale) scales
//!   only the gentle pull inside the corridor; clamped to ±`eq_max_db`.
//! - **Compression** by the same families ([`super::corridor::over_dynamic`]): music whose crest
//!   factor, loudness range and PLR lie inside its family's range is healthy and gets ratio 1;
//!   beyond, `d` (0..1) grows with the largest excess over the family's 90th percentile and the
//!   ratio is `1 + (max_ratio - 1) d` scaled by the amounts. The threshold sits above the
//!   programme loudness by a share of the crest factor, `L + max(1, crest (0.6 - 0.3 d))` dB, on
//!   the compressor's input.
//! - **Leveler** first, the least processing that reaches the loudness target:
//!   `target - programme loudness - ΔL_eq`, where `ΔL_eq` estimates the loudness change
//!   of the EQ from the band powers. The limiter would then reduce `peak + gain - ceiling` dB; the
//!   gain stops where that reaches `max_limiter_gr_db`, and the rest is the reported shortfall.
//!   The peak used is the analyser's robust true-peak envelope.
//! - **Compression for loudness**, the third resort: when the capped leveler would leave more
//!   than [`LOUDNESS_GAP_TOLERANCE_DB`] of the target unreached and the compressor is allowed
//!   (its amount above 0), the ratio rises just enough that its expected peak-to-loudness
//!   reduction closes the gap ([`loudness_compression`]), at most [`MAX_LOUDNESS_RATIO`], and the
//!   cap rises by that reduction. What even that cannot close is still the shortfall.
//! - **Width** is the preset's preference times the user's, never widened when the phase
//!   correlation is below 0.3 (mono compatibility), and narrowed toward 1 when it is negative.
//! - **Reference** mode aims at the profile's curve, loudness, side/mid ratio and crest with the
//!   per-component amounts; the width and the compression only beyond what the tonal difference
//!   alone explains ([`REF_WIDTH_TOLERANCE`], [`REF_CREST_TOLERANCE_DB`]); **hybrid** blends the adaptive and reference results linearly. The
//!   tonal match ([`eq_matching`]) is the whole difference in every usable band, scaled by Match
//!   Tone only (not by EQ Amount, not smoothed, not weighted): 100 % undoes a broad shelf.

use serde::{Deserialize, Serialize};

use super::config::{AnalysisConfig, MasteringMode, Preset};
use super::corridor::{blend_families, corridor_eq, family_weights, over_dynamic, place, Corridor};
pub use super::measured::Measured;
use super::presets::PresetSpec;
use super::reference::ReferenceProfile;
use crate::dsp::bark::{self, BANDS};

/// Why the EQ is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EqReason {
    /// Not enough gated signal yet: flat.
    NotEnoughData,
    /// EQ amount is zero.
    Off,
    /// Moving toward the preset's tonal curve (states saved before the corridors).
    TowardPreset,
    /// Adaptive: the music lies inside its corridor; only the gentle pull toward the centre
    /// line (EQ Amount) moves it.
    InsideCorridor,
    /// Adaptive: some bands lie outside the corridor; they are brought back toward its centre
    /// line.
    BackIntoCorridor,
    /// Moving toward the reference's tonal curve.
    TowardReference,
    /// Blend of both.
    TowardHybrid,
    /// Reference or hybrid mode without a reference: fell back to the preset.
    NoReferenceUsedPreset,
}

/// Why the compressor is set as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompReason {
    /// Not enough gated signal yet: ratio 1.
    NotEnoughData,
    /// Dynamics amount is zero.
    Off,
    /// Dense, low-crest material: a light touch (states saved before the family rule).
    DenseMaterial,
    /// Moderately dynamic material (states saved before the family rule).
    ModerateDynamics,
    /// Very dynamic material: the preset's full ratio (states saved before the family rule).
    WideDynamics,
    /// Crest factor, loudness range and PLR lie inside the family's range: ratio 1.
    HealthyDynamics,
    /// More dynamic than the family's range: compressed in proportion to the excess.
    OverDynamic,
    /// Crest matched toward the reference.
    MatchReference,
    /// The reference is as dynamic as this material or more: ratio 1.
    ReferenceMoreDynamic,
    /// The leveler alone could not reach the loudness target within Max Limiting: compressed
    /// just enough to take the missing peak-to-loudness out ([`loudness_compression`]).
    ForLoudness,
}

/// Why the leveler gain is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LevelerReason {
    /// Not enough gated signal yet: 0 dB.
    NotEnoughData,
    /// Full way to the loudness target.
    TowardTarget,
    /// Stopped where the limiter would exceed its maximum gain reduction.
    CappedByLimiter,
    /// Reference loudness matching amount is zero.
    Off,
}

/// Why the width is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WidthReason {
    /// Preset and user preference.
    Preference,
    /// Widening refused: the phase correlation is low.
    MonoSafety,
    /// Matched toward the reference's side/mid ratio.
    MatchReference,
}

/// Whether the targets are moving, and if not why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Motion {
    /// Following the music.
    Following,
    /// Frozen: silence (short-term below -70 LUFS).
    FrozenSilence,
    /// Frozen: a quiet passage (short-term below -50 LUFS or 20 LU under the programme).
    FrozenQuiet,
    /// Hold mode.
    Held,
    /// Learn mode has converged and locked (states saved before Learn stopped locking).
    Locked,
    /// Learn mode: following while integrating everything heard, until Hold.
    Learning,
}

/// The reasons behind each setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reasons {
    /// EQ.
    pub eq: EqReason,
    /// Compressor.
    pub comp: CompReason,
    /// Leveler.
    pub leveler: LevelerReason,
    /// Width.
    pub width: WidthReason,
    /// Motion of the whole set.
    pub motion: Motion,
}

impl EqReason {
    /// Why, in a few words (for the report and the editor).
    pub fn why(self) -> &'static str {
        match self {
            EqReason::NotEnoughData => "waiting for enough music",
            EqReason::Off => "off",
            EqReason::TowardPreset => "toward the preset's curve",
            EqReason::InsideCorridor => {
                "inside its style's tonal corridor: left nearly alone (a gentle pull toward \
                 the centre line, by EQ Amount)"
            }
            EqReason::BackIntoCorridor => {
                "outside its style's tonal corridor: the bands outside are brought back toward \
                 its centre line"
            }
            EqReason::TowardReference => "toward the reference",
            EqReason::TowardHybrid => "toward a preset/reference blend",
            EqReason::NoReferenceUsedPreset => "no reference loaded: toward the preset",
        }
    }
}

impl CompReason {
    /// Why, in a few words (for the report and the editor).
    pub fn why(self) -> &'static str {
        match self {
            CompReason::NotEnoughData => "waiting for enough music",
            CompReason::Off => "off",
            CompReason::DenseMaterial => "dense material: light",
            CompReason::ModerateDynamics => "moderate dynamics",
            CompReason::WideDynamics => "wide dynamics: firmer",
            CompReason::HealthyDynamics => {
                "crest, loudness range and PLR healthy for its style: not compressed"
            }
            CompReason::OverDynamic => {
                "more dynamic than its style's range: compressed in proportion to the excess"
            }
            CompReason::MatchReference => "matching the reference's density",
            CompReason::ReferenceMoreDynamic => "reference is more dynamic: none",
            CompReason::ForLoudness => {
                "compressed just enough to reach the loudness target within Max Limiting"
            }
        }
    }
}

impl LevelerReason {
    /// Why, in a few words (for the report and the editor).
    pub fn why(self) -> &'static str {
        match self {
            LevelerReason::NotEnoughData => "waiting for enough music",
            LevelerReason::TowardTarget => {
                "gain to the loudness target; the limiter stays within Max Limiting"
            }
            LevelerReason::CappedByLimiter => {
                "held back: more gain would limit deeper than Max Limiting allows"
            }
            LevelerReason::Off => "off",
        }
    }
}

impl WidthReason {
    /// Why, in a few words (for the report and the editor).
    pub fn why(self) -> &'static str {
        match self {
            WidthReason::Preference => "as set",
            WidthReason::MonoSafety => "narrowed for mono safety",
            WidthReason::MatchReference => "matching the reference",
        }
    }
}

impl Reasons {
    /// Each stage's name and why it does what it does, in chain order.
    pub fn why(&self) -> [(&'static str, &'static str); 4] {
        [
            ("EQ", self.eq.why()),
            ("compressor", self.comp.why()),
            ("leveler", self.leveler.why()),
            ("width", self.width.why()),
        ]
    }
}

/// Everything the engine needs, fixed-size and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// EQ gain per Bark band, dB (0 for bands unusable at this rate).
    pub eq_gains_db: [f32; BANDS],
    /// Compressor threshold on its input, dBFS.
    pub comp_threshold_db: f32,
    /// Compressor ratio (1 = off).
    pub comp_ratio: f32,
    /// Gain toward the loudness target, applied before the limiter, dB.
    pub leveler_gain_db: f32,
    /// Stereo width (1 = unchanged, 0 = mono).
    pub width: f32,
    /// Loudness the leveler could not reach without over-driving the limiter, dB (>= 0).
    pub loudness_shortfall_db: f32,
    /// Loudness aimed at, LUFS.
    pub target_lufs: f32,
    /// What was measured.
    pub measured: Measured,
    /// Why.
    pub reasons: Reasons,
    /// How much the measurements can be trusted, 0..1 (gated signal collected).
    pub confidence: f32,
    /// Learn mode has locked these targets.
    pub locked: bool,
    /// Where held targets came from (states saved before it existed read as learned; the
    /// default is not written, so such states save as they were).
    #[serde(default, skip_serializing_if = "Origin::is_listening")]
    pub origin: Origin,
}

impl Origin {
    fn is_listening(&self) -> bool {
        *self == Origin::Listening
    }
}

/// Where a set of targets came from, for the editor and the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// The analysis, listening to what the plugin played (Continuous, or Learn while playing).
    #[default]
    Listening,
    /// The command's pass 1 over a whole file, run from the editor ("learn from a file").
    File,
    /// A preset written by `auralis learn` from a file.
    Preset,
}

impl Targets {
    /// No processing: flat EQ, ratio 1, leveler 0 dB, width 1.
    pub const fn neutral() -> Self {
        Self {
            eq_gains_db: [0.0; BANDS],
            comp_threshold_db: 0.0,
            comp_ratio: 1.0,
            leveler_gain_db: 0.0,
            width: 1.0,
            loudness_shortfall_db: 0.0,
            target_lufs: -14.0,
            measured: Measured::empty(),
            reasons: Reasons {
                eq: EqReason::NotEnoughData,
                comp: CompReason::NotEnoughData,
                leveler: LevelerReason::NotEnoughData,
                width: WidthReason::Preference,
                motion: Motion::Following,
            },
            confidence: 0.0,
            locked: false,
            origin: Origin::Listening,
        }
    }
}

impl Default for Targets {
    fn default() -> Self {
        Self::neutral()
    }
}

/// Seconds of gated signal before any target moves.
pub const MIN_GATED_SECONDS: f32 = 3.0;
/// How many times faster the leveler may come down than rise.
pub const LEVELER_DOWN_FACTOR: f32 = 3.0;
/// How many times faster than the steady speeds the targets may move with nothing heard yet.
pub const FAST_START: f32 = 10.0;
/// Seconds of gated signal for full confidence.
pub const FULL_CONFIDENCE_SECONDS: f32 = 15.0;

/// EQ gains matching the measured band levels to a reference's shape: the whole difference in
/// every usable band (`d_b = target_b - measured_b` less its mean), times `scale`, clamped to
/// ±`max_db`. No smoothing and no band weights: a reference is matched as it is.
pub fn eq_matching(
    measured: &[f32; BANDS],
    target: &[f32; BANDS],
    usable: usize,
    scale: f32,
    max_db: f32,
) -> [f32; BANDS] {
    let n = usable.min(BANDS);
    let mut out = [0.0f32; BANDS];
    if n == 0 {
        return out;
    }
    let mean = (0..n).map(|b| target[b] - measured[b]).sum::<f32>() / n as f32;
    for b in 0..n {
        out[b] = ((target[b] - measured[b] - mean) * scale).clamp(-max_db, max_db);
    }
    out
}

/// Estimated loudness change of applying `gains` to a signal with `band_power`, dB.
pub fn eq_loudness_change(band_power: &[f32; BANDS], gains: &[f32; BANDS]) -> f32 {
    let before: f32 = band_power.iter().sum();
    if before <= 1.0e-20 {
        return 0.0;
    }
    let after: f32 = band_power
        .iter()
        .zip(gains)
        .map(|(p, g)| p * 10f32.powf(0.1 * g))
        .sum();
    10.0 * (after / before).log10()
}

struct Part {
    eq: [f32; BANDS],
    eq_reason: EqReason,
    threshold: f32,
    ratio: f32,
    comp_reason: CompReason,
    target_lufs: f32,
    loudness_amount: f32,
    width: f32,
    width_reason: WidthReason,
}

/// The user's extra tilt: `tilt * log2(f / 1 kHz)` per band centre.
fn user_tilt(cfg: &AnalysisConfig) -> [f32; BANDS] {
    std::array::from_fn(|b| cfg.tilt_db_per_oct * (bark::centre(b) / 1000.0).log2())
}

/// The corridor adaptive mode keeps the music in: the style families' corridors blended from
/// the music's dynamics ([`family_weights`]), moved by the preset's bias (its tonal curve less the
/// Adaptive preset's) and the user's tilt.
pub fn adaptive_corridor(m: &Measured, cfg: &AnalysisConfig) -> Corridor {
    let curve = PresetSpec::of(cfg.preset).tonal_curve();
    let neutral = PresetSpec::of(Preset::Adaptive).tonal_curve();
    let tilt = user_tilt(cfg);
    let bias: [f32; BANDS] = std::array::from_fn(|b| curve[b] - neutral[b] + tilt[b]);
    blend_families(&family_weights(m)).shifted(&bias)
}

fn adaptive_part(m: &Measured, cfg: &AnalysisConfig) -> Part {
    let spec = PresetSpec::of(cfg.preset);
    let eq_amount = cfg.eq_amount.clamp(0.0, 1.0) * spec.eq_scale;
    let usable = m.usable_bands as usize;
    let weights = family_weights(m);
    let corridor = adaptive_corridor(m, cfg);
    let placement = place(&m.band_levels_db, &corridor, usable);
    let eq = corridor_eq(
        &placement,
        &corridor,
        usable,
        eq_amount,
        cfg.eq_max_db.abs(),
    );
    // Dynamics by the same families: compress only what lies over the family's range.
    let d = over_dynamic(m, &weights);
    let amount = cfg.dynamics_amount.clamp(0.0, 1.0) * spec.comp_scale;
    let ratio = 1.0 + (spec.max_ratio - 1.0) * d * amount;
    let comp_reason = if amount <= 0.0 {
        CompReason::Off
    } else if d <= 0.0 {
        CompReason::HealthyDynamics
    } else {
        CompReason::OverDynamic
    };
    let threshold = m.programme_lufs + (m.crest_db * (0.6 - 0.3 * d)).max(1.0);
    let mut width = spec.width * cfg.width_preference.max(0.0);
    let mut width_reason = WidthReason::Preference;
    if width > 1.0 && m.correlation < 0.3 {
        width = 1.0;
        width_reason = WidthReason::MonoSafety;
    }
    if m.correlation < 0.0 {
        width = width.min(1.0 + 0.5 * m.correlation);
        width_reason = WidthReason::MonoSafety;
    }
    Part {
        eq,
        eq_reason: if eq_amount <= 0.0 {
            EqReason::Off
        } else if placement.excess_db.iter().all(|e| *e == 0.0) {
            EqReason::InsideCorridor
        } else {
            EqReason::BackIntoCorridor
        },
        threshold,
        ratio,
        comp_reason,
        target_lufs: cfg.target_override().unwrap_or(spec.target_lufs),
        loudness_amount: 1.0,
        width,
        width_reason,
    }
}

/// How far the side/mid amplitude ratio may differ from the reference's before reference mode
/// changes the width, as a share. The broadband ratio moves with the tonal balance (the side
/// sits higher in frequency than the mid, whose bass is mostly mono): a broad 6 dB bass shelf
/// moves it by up to about 20 %, and the tonal match undoes that difference by itself.
pub const REF_WIDTH_TOLERANCE: f32 = 0.25;
/// How much denser than the reference (crest factor, dB) the music may be before reference
/// mode compresses: a broad EQ alone moves the crest factor by a few dB (taking 6 dB of bass
/// off a dense mix raises it by up to about 3.5 dB), and the tonal match undoes that itself.
pub const REF_CREST_TOLERANCE_DB: f32 = 3.5;

fn reference_part(m: &Measured, cfg: &AnalysisConfig, r: &ReferenceProfile) -> Part {
    let mut curve = r.curve_db;
    let tilt = user_tilt(cfg);
    for (c, t) in curve.iter_mut().zip(&tilt) {
        *c += t;
    }
    let usable = (m.usable_bands.min(r.usable_bands)) as usize;
    // Match Tone alone scales the match: EQ Amount scales the adaptive curve, not a reference.
    let tone = cfg.ref_tone.clamp(0.0, 1.0);
    let eq = eq_matching(&m.band_levels_db, &curve, usable, tone, cfg.eq_max_db.abs());
    // Compress only as far as the reference is denser: each dB of excess crest beyond what the
    // tonal difference alone explains asks 0.15 of ratio.
    let excess = m.crest_db - r.crest_db - REF_CREST_TOLERANCE_DB;
    let amount = cfg.ref_dynamics.clamp(0.0, 1.0) * cfg.dynamics_amount.clamp(0.0, 1.0);
    let (ratio, comp_reason) = if amount <= 0.0 {
        (1.0, CompReason::Off)
    } else if excess > 0.5 {
        (
            1.0 + (0.15 * excess).min(3.0) * amount,
            CompReason::MatchReference,
        )
    } else {
        (1.0, CompReason::ReferenceMoreDynamic)
    };
    let threshold = m.programme_lufs + (0.5 * r.crest_db).max(1.0);
    let ref_width = if m.side_mid_ratio > 1.0e-6 {
        let w = (r.side_mid_ratio / m.side_mid_ratio).sqrt().clamp(0.0, 2.0);
        // Only what lies beyond the tolerance is a width difference.
        1.0 + (w - 1.0).signum() * ((w - 1.0).abs() - REF_WIDTH_TOLERANCE).max(0.0)
    } else {
        1.0
    };
    let a = cfg.ref_width.clamp(0.0, 1.0);
    let width = (1.0 - a + a * ref_width) * cfg.width_preference.max(0.0);
    Part {
        eq,
        eq_reason: EqReason::TowardReference,
        threshold,
        ratio,
        comp_reason,
        target_lufs: cfg.target_override().unwrap_or(r.integrated_lufs),
        loudness_amount: cfg.ref_loudness.clamp(0.0, 1.0),
        width,
        width_reason: WidthReason::MatchReference,
    }
}

/// How far under the loudness target the capped leveler may leave the music before the
/// compressor is asked to close the gap, dB.
pub const LOUDNESS_GAP_TOLERANCE_DB: f32 = 0.1;
/// The firmest ratio the compressor takes to reach the loudness target.
pub const MAX_LOUDNESS_RATIO: f32 = 3.0;
/// Share of the static curve's peak reduction, `(1 - 1/R)(peak - threshold)`, that the
/// compressor takes out of the peak-to-loudness ratio. Its detector is a 10 ms RMS with a 20 ms
/// attack: the fastest peaks pass and the loud passages come down with their peaks. Measured
/// through the engine on pink noise (3-8 %) and pink noise with a slow 6 dB swing (8-15 %),
/// threshold at the programme loudness to 6 dB above, ratios 1.5-3; the lower end of music's,
/// so the limiter is not asked for more than Max Limiting.
pub const LOUDNESS_COMP_EFFECT: f32 = 0.1;

/// The compressor setting that closes a loudness `gap` (dB) the capped leveler leaves: the
/// given `threshold` and `ratio` when they already compress (ratio above 1), otherwise a
/// threshold at the compressor's input loudness `input_lufs`; the ratio is the least, between
/// `ratio` and [`MAX_LOUDNESS_RATIO`], whose expected peak-to-loudness reduction
/// `LOUDNESS_COMP_EFFECT (1 - 1/R)(peak - threshold)` reaches the gap. Returns the threshold,
/// the ratio and that reduction (dB), all relative to the peak `peak_dbtp` at the compressor's
/// input.
pub fn loudness_compression(
    gap: f32,
    threshold: f32,
    ratio: f32,
    input_lufs: f32,
    peak_dbtp: f32,
) -> (f32, f32, f32) {
    let threshold = if ratio > 1.0 { threshold } else { input_lufs };
    let span = LOUDNESS_COMP_EFFECT * (peak_dbtp - threshold);
    let reduction = |r: f32| span.max(0.0) * (1.0 - 1.0 / r);
    if span <= 0.0 {
        return (threshold, ratio, 0.0);
    }
    let share = gap / span;
    let needed = if share < 1.0 {
        1.0 / (1.0 - share)
    } else {
        f32::INFINITY
    };
    let r = needed.clamp(ratio.max(1.0), MAX_LOUDNESS_RATIO.max(ratio));
    (threshold, r, reduction(r))
}

/// Whether the compressor may be asked to close a loudness gap (the third resort): the user
/// lets it work (Dynamics on, its amount above 0) and the rules have not turned it off.
pub fn compressor_serves_loudness(cfg: &AnalysisConfig, reason: CompReason) -> bool {
    cfg.dynamics_amount > 0.0 && reason != CompReason::Off
}

/// Raw targets for the measurements and config (no rate limiting, no motion state).
pub fn derive(m: &Measured, cfg: &AnalysisConfig, reference: Option<&ReferenceProfile>) -> Targets {
    derive_with(m, cfg, reference, true)
}

/// [`derive`](fn@derive), with the compression for loudness (the third resort) or without it:
/// a caller that measures the chain (the command's calibration, `learn::calibrate_leveler`)
/// compares both.
pub fn derive_with(
    m: &Measured,
    cfg: &AnalysisConfig,
    reference: Option<&ReferenceProfile>,
    compress_for_loudness: bool,
) -> Targets {
    let mut t = Targets::neutral();
    t.measured = *m;
    t.confidence = (m.gated_seconds / FULL_CONFIDENCE_SECONDS).clamp(0.0, 1.0);
    if m.gated_seconds < MIN_GATED_SECONDS {
        t.target_lufs = cfg
            .target_override()
            .unwrap_or(PresetSpec::of(cfg.preset).target_lufs);
        return t;
    }
    let adaptive = adaptive_part(m, cfg);
    let p = match (cfg.mode, reference) {
        (MasteringMode::Adaptive, _) => adaptive,
        (MasteringMode::Reference, Some(r)) => reference_part(m, cfg, r),
        (MasteringMode::Hybrid, Some(r)) => {
            let rp = reference_part(m, cfg, r);
            let k = cfg.hybrid_blend.clamp(0.0, 1.0);
            let mix = |a: f32, b: f32| a + k * (b - a);
            Part {
                eq: std::array::from_fn(|b| mix(adaptive.eq[b], rp.eq[b])),
                eq_reason: EqReason::TowardHybrid,
                threshold: mix(adaptive.threshold, rp.threshold),
                ratio: mix(adaptive.ratio, rp.ratio),
                comp_reason: if k < 0.5 {
                    adaptive.comp_reason
                } else {
                    rp.comp_reason
                },
                target_lufs: mix(adaptive.target_lufs, rp.target_lufs),
                loudness_amount: mix(adaptive.loudness_amount, rp.loudness_amount),
                width: mix(adaptive.width, rp.width),
                width_reason: if k < 0.5 {
                    adaptive.width_reason
                } else {
                    rp.width_reason
                },
            }
        }
        (_, None) => {
            let mut a = adaptive;
            a.eq_reason = EqReason::NoReferenceUsedPreset;
            a
        }
    };
    t.eq_gains_db = p.eq;
    t.reasons.eq = p.eq_reason;
    t.comp_ratio = p.ratio.max(1.0);
    t.comp_threshold_db = p.threshold.min(0.0);
    t.reasons.comp = p.comp_reason;
    t.width = p.width.clamp(0.0, 2.0);
    t.reasons.width = p.width_reason;
    t.target_lufs = p.target_lufs;

    let eq_change = eq_loudness_change(&m.band_power, &t.eq_gains_db);
    let desired =
        (p.loudness_amount * (p.target_lufs - m.programme_lufs) - eq_change).clamp(-24.0, 24.0);
    let mut gr_cap =
        cfg.ceiling_dbtp + cfg.max_limiter_gr_db.max(0.0) - (m.peak_envelope_dbtp + eq_change);
    // The third resort: the compressor takes out what the leveler and the limiter cannot.
    let compressor_allowed =
        compress_for_loudness && compressor_serves_loudness(cfg, p.comp_reason);
    if p.loudness_amount > 0.0 && compressor_allowed && desired - gr_cap > LOUDNESS_GAP_TOLERANCE_DB
    {
        let gap = desired - gr_cap;
        let (threshold, ratio, reduction) = loudness_compression(
            gap,
            t.comp_threshold_db,
            t.comp_ratio,
            m.programme_lufs + eq_change,
            m.peak_envelope_dbtp + eq_change,
        );
        if ratio > t.comp_ratio {
            t.reasons.comp = CompReason::ForLoudness;
        }
        t.comp_threshold_db = threshold.min(0.0);
        t.comp_ratio = ratio;
        // Closed: the leveler goes all the way (not held back by a rounding).
        gr_cap = if reduction >= gap - 1.0e-3 {
            desired
        } else {
            gr_cap + reduction
        };
    }
    if p.loudness_amount <= 0.0 {
        t.leveler_gain_db = -eq_change;
        t.reasons.leveler = LevelerReason::Off;
    } else if desired > gr_cap {
        t.leveler_gain_db = gr_cap.max(-24.0);
        t.loudness_shortfall_db = desired - t.leveler_gain_db;
        t.reasons.leveler = LevelerReason::CappedByLimiter;
    } else {
        t.leveler_gain_db = desired;
        t.reasons.leveler = LevelerReason::TowardTarget;
    }
    t
}

/// Maximum speeds of the published targets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimits {
    /// EQ gains, dB/s.
    pub eq_db_per_s: f32,
    /// Compressor threshold, dB/s.
    pub threshold_db_per_s: f32,
    /// Compressor ratio, 1/s.
    pub ratio_per_s: f32,
    /// Leveler, dB/s.
    pub leveler_db_per_s: f32,
    /// Width, 1/s.
    pub width_per_s: f32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            eq_db_per_s: 1.0,
            threshold_db_per_s: 2.0,
            ratio_per_s: 0.25,
            leveler_db_per_s: 1.0,
            width_per_s: 0.05,
        }
    }
}

fn toward(cur: f32, goal: f32, max_step: f32) -> f32 {
    cur + (goal - cur).clamp(-max_step, max_step)
}

impl RateLimits {
    /// Moves `current`'s settings toward `raw` for `dt` seconds; everything else (measured,
    /// reasons, shortfall, confidence) is taken from `raw`.
    pub fn step(&self, current: &Targets, raw: &Targets, dt: f32) -> Targets {
        let mut t = *raw;
        for b in 0..BANDS {
            t.eq_gains_db[b] = toward(
                current.eq_gains_db[b],
                raw.eq_gains_db[b],
                self.eq_db_per_s * dt,
            );
        }
        // A threshold of 0 dBFS at ratio 1 is "off": jump the threshold when the ratio is 1.
        t.comp_threshold_db = if current.comp_ratio <= 1.0 && current.comp_threshold_db >= 0.0 {
            raw.comp_threshold_db
        } else {
            toward(
                current.comp_threshold_db,
                raw.comp_threshold_db,
                self.threshold_db_per_s * dt,
            )
        };
        t.comp_ratio = toward(current.comp_ratio, raw.comp_ratio, self.ratio_per_s * dt);
        // The leveler may come down faster than it rises: louder material arriving must not
        // be pushed into the limiter for long; rising slowly keeps quiet passages from pumping.
        let down = raw.leveler_gain_db < current.leveler_gain_db;
        let speed = self.leveler_db_per_s * if down { LEVELER_DOWN_FACTOR } else { 1.0 };
        t.leveler_gain_db = toward(current.leveler_gain_db, raw.leveler_gain_db, speed * dt);
        t.width = toward(current.width, raw.width, self.width_per_s * dt);
        t
    }

    /// The speeds at a confidence (0..1): [`FAST_START`] times faster with nothing heard, the
    /// steady speeds at full confidence, in between linearly. A cold start is mastered within
    /// seconds, and the targets settle as the measurements firm up.
    pub fn at_confidence(&self, confidence: f32) -> Self {
        let k = 1.0 + (FAST_START - 1.0) * (1.0 - confidence.clamp(0.0, 1.0));
        Self {
            eq_db_per_s: self.eq_db_per_s * k,
            threshold_db_per_s: self.threshold_db_per_s * k,
            ratio_per_s: self.ratio_per_s * k,
            leveler_db_per_s: self.leveler_db_per_s * k,
            width_per_s: self.width_per_s * k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::presets::tilt_curve;
    use crate::dsp::bark::EDGES;

    fn measured_with_tilt(tilt: f32) -> Measured {
        let mut m = Measured::empty();
        m.band_levels_db = tilt_curve(tilt, &[]);
        m.band_power = std::array::from_fn(|b| {
            10f32.powf(m.band_levels_db[b] / 10.0) * (EDGES[b + 1] - EDGES[b]) * 1.0e-6
        });
        m.integrated_lufs = -20.0;
        m.programme_lufs = -20.0;
        m.true_peak_dbtp = -6.0;
        m.peak_envelope_dbtp = -6.0;
        m.crest_db = 12.0;
        m.lra_lu = 6.0;
        m.correlation = 0.8;
        m.side_mid_ratio = 0.1;
        m.gated_seconds = 20.0;
        m
    }

    #[test]
    fn bright_input_gets_cut_highs_and_dull_input_boosted_highs() {
        let cfg = AnalysisConfig::default();
        // Flat density is far brighter than any corridor; -13 dB/octave far duller (the
        // corridors' highs fall 6-8 dB/octave).
        // The corridor EQ is not mean-free (the leveler restores the level): judge the highs
        // against the lows (bands 1-4, 100-510 Hz).
        let bright = derive(&measured_with_tilt(0.0), &cfg, None);
        let dull = derive(&measured_with_tilt(-13.0), &cfg, None);
        let lows = |t: &Targets| t.eq_gains_db[1..5].iter().sum::<f32>() / 4.0;
        for b in 18..23 {
            let (up, down) = (
                bright.eq_gains_db[b] - lows(&bright),
                dull.eq_gains_db[b] - lows(&dull),
            );
            assert!(
                up < -1.0,
                "bright band {b}: {up} ({:?})",
                bright.eq_gains_db
            );
            assert!(down > 1.0, "dull band {b}: {down} ({:?})", dull.eq_gains_db);
        }
        assert!(bright.eq_gains_db.iter().all(|g| g.abs() <= 6.0));
    }

    #[test]
    fn corridor_centre_line_gives_flat_eq_whatever_the_level() {
        let cfg = AnalysisConfig::default();
        let mut m = Measured::empty();
        m.crest_db = 12.0;
        let curve = adaptive_corridor(&m, &cfg).centre_db;
        m.band_levels_db = std::array::from_fn(|b| curve[b] - 37.0);
        m.gated_seconds = 20.0;
        let t = derive(&m, &cfg, None);
        assert!(
            t.eq_gains_db.iter().all(|g| g.abs() < 1.0e-3),
            "{:?}",
            t.eq_gains_db
        );
    }

    #[test]
    fn loud_peaks_cap_the_leveler_and_report_the_shortfall() {
        // The compressor off: the leveler and the limiter alone.
        let cfg = AnalysisConfig {
            target_lufs: -8.0,
            dynamics_amount: 0.0,
            ..AnalysisConfig::default()
        };
        let mut m = measured_with_tilt(-4.5);
        m.peak_envelope_dbtp = -2.0;
        let t = derive(&m, &cfg, None);
        // Cap: ceiling -1 + 4 dB GR - peak -2 = +5 dB (plus the EQ's estimated change).
        assert_eq!(t.reasons.leveler, LevelerReason::CappedByLimiter);
        let eq_change = eq_loudness_change(&m.band_power, &t.eq_gains_db);
        assert!((t.leveler_gain_db - (5.0 - eq_change)).abs() < 1.0e-3);
        assert!(
            (t.loudness_shortfall_db - (12.0 - 5.0)).abs() < 1.0e-3,
            "{}",
            t.loudness_shortfall_db
        );
    }

    #[test]
    fn a_gap_the_capped_leveler_leaves_is_compressed_just_enough_to_close() {
        // Programme -20 LUFS, peaks -6 dBTP: the leveler reaches -11 LUFS (plus the EQ's
        // change) with the limiter at its 4 dB of Max Limiting.
        let m = measured_with_tilt(-4.5);
        let at = |target_lufs: f32, dynamics_amount: f32| {
            let cfg = AnalysisConfig {
                target_lufs,
                dynamics_amount,
                ..AnalysisConfig::default()
            };
            derive(&m, &cfg, None)
        };
        let healthy = at(-12.0, 0.5);
        assert_eq!(healthy.reasons.comp, CompReason::HealthyDynamics);
        let eq_change = eq_loudness_change(&m.band_power, &healthy.eq_gains_db);
        let reachable = -11.0;
        // Within reach: not compressed.
        let t = at(reachable - 0.05, 0.5);
        assert_eq!(t.comp_ratio, 1.0);
        assert_eq!(t.reasons.comp, CompReason::HealthyDynamics);
        assert_eq!(t.reasons.leveler, LevelerReason::TowardTarget);
        // Half a dB beyond: the ratio whose expected reduction, 0.1 (1 - 1/R) of the 14 dB
        // from the peaks to the threshold at the programme loudness, is that half dB.
        let span = LOUDNESS_COMP_EFFECT * 14.0;
        let t = at(reachable + 0.5, 0.5);
        assert_eq!(t.reasons.comp, CompReason::ForLoudness);
        assert!(
            (t.comp_ratio - 1.0 / (1.0 - 0.5 / span)).abs() < 1.0e-3,
            "{}",
            t.comp_ratio
        );
        assert!((t.comp_threshold_db - (-20.0 + eq_change)).abs() < 1.0e-3);
        assert_eq!(t.reasons.leveler, LevelerReason::TowardTarget);
        assert_eq!(t.loudness_shortfall_db, 0.0);
        assert!((t.leveler_gain_db - (reachable + 0.5 + 20.0 - eq_change)).abs() < 1.0e-3);
        // Three dB beyond: the firmest ratio, and the rest is still the shortfall.
        let t = at(reachable + 3.0, 0.5);
        assert_eq!(t.comp_ratio, MAX_LOUDNESS_RATIO);
        assert_eq!(t.reasons.leveler, LevelerReason::CappedByLimiter);
        let most = span * (1.0 - 1.0 / MAX_LOUDNESS_RATIO);
        assert!((t.loudness_shortfall_db - (3.0 - most)).abs() < 1.0e-3);
        // Dynamics Amount 0: never compressed, the whole gap reported.
        let t = at(reachable + 0.5, 0.0);
        assert_eq!(t.comp_ratio, 1.0);
        assert_eq!(t.reasons.comp, CompReason::Off);
        assert!((t.loudness_shortfall_db - 0.5).abs() < 1.0e-3);
    }

    #[test]
    fn compression_follows_dynamics() {
        let cfg = AnalysisConfig::default();
        let mut dense = measured_with_tilt(-4.5);
        dense.crest_db = 6.0;
        dense.lra_lu = 2.0;
        dense.true_peak_dbtp = dense.integrated_lufs + 7.0;
        let mut wide = dense;
        wide.crest_db = 20.0;
        wide.lra_lu = 15.0;
        wide.true_peak_dbtp = wide.integrated_lufs + 21.0;
        let d = derive(&dense, &cfg, None);
        let w = derive(&wide, &cfg, None);
        assert!(
            d.comp_ratio < 1.3 && w.comp_ratio > 2.4,
            "{} {}",
            d.comp_ratio,
            w.comp_ratio
        );
        assert_eq!(d.reasons.comp, CompReason::HealthyDynamics);
        assert_eq!(w.reasons.comp, CompReason::OverDynamic);
        let off = derive(
            &wide,
            &AnalysisConfig {
                dynamics_amount: 0.0,
                ..cfg
            },
            None,
        );
        assert_eq!(off.comp_ratio, 1.0);
    }

    #[test]
    fn healthy_dynamics_for_the_family_are_not_compressed_and_over_dynamic_material_is() {
        use crate::analysis::corridor::{family_weights, FAMILIES};
        let cfg = AnalysisConfig::default();
        for f in &FAMILIES {
            let mut m = measured_with_tilt(-4.5);
            m.crest_db = f.crest_db.median;
            m.lra_lu = f.lra_lu.median;
            m.true_peak_dbtp = m.integrated_lufs + f.plr_db.median;
            let t = derive(&m, &cfg, None);
            assert_eq!(t.comp_ratio, 1.0, "{}", f.name);
            assert_eq!(t.reasons.comp, CompReason::HealthyDynamics, "{}", f.name);
        }
        // The dense family's material with crest and PLR 3 dB over every family's range.
        let dense = &FAMILIES[0];
        let crest_high = FAMILIES.iter().map(|f| f.crest_db.high).fold(0.0, f32::max);
        let plr_high = FAMILIES.iter().map(|f| f.plr_db.high).fold(0.0, f32::max);
        let mut m = measured_with_tilt(-4.5);
        m.lra_lu = dense.lra_lu.median;
        m.crest_db = crest_high + 3.0;
        m.true_peak_dbtp = m.integrated_lufs + plr_high + 3.0;
        let t = derive(&m, &cfg, None);
        let w = family_weights(&m);
        assert!(t.comp_ratio > 1.5, "ratio {} (weights {w:?})", t.comp_ratio);
        assert_eq!(t.reasons.comp, CompReason::OverDynamic);
    }

    #[test]
    fn reference_width_and_density_are_matched_beyond_what_the_tone_explains() {
        let cfg = AnalysisConfig {
            mode: MasteringMode::Reference,
            ..AnalysisConfig::default()
        };
        let m = measured_with_tilt(-4.5);
        // A shelved copy's reference: side/mid 20 % off in amplitude, crest 2 dB lower.
        let mut r = ReferenceProfile::from_measured(&m);
        r.side_mid_ratio = m.side_mid_ratio * 1.2 * 1.2;
        r.crest_db = m.crest_db - 2.0;
        let t = derive(&m, &cfg, Some(&r));
        assert_eq!(t.width, 1.0);
        assert_eq!(t.comp_ratio, 1.0);
        // A reference half as wide and 8 dB denser: narrowed and compressed.
        r.side_mid_ratio = m.side_mid_ratio * 0.25;
        r.crest_db = m.crest_db - 8.0;
        let t = derive(&m, &cfg, Some(&r));
        assert!(
            (t.width - (0.5 + REF_WIDTH_TOLERANCE)).abs() < 1e-4,
            "{}",
            t.width
        );
        assert!(t.comp_ratio > 1.5, "{}", t.comp_ratio);
        assert_eq!(t.reasons.comp, CompReason::MatchReference);
    }

    #[test]
    fn rate_limits_bound_the_motion() {
        let mut raw = Targets::neutral();
        raw.eq_gains_db[3] = 5.0;
        raw.leveler_gain_db = -10.0;
        let lim = RateLimits::default();
        let t = lim.step(&Targets::neutral(), &raw, 0.5);
        assert_eq!(t.eq_gains_db[3], 0.5);
        // Down faster than up.
        assert_eq!(t.leveler_gain_db, -0.5 * LEVELER_DOWN_FACTOR);
        raw.leveler_gain_db = 10.0;
        assert_eq!(
            lim.step(&Targets::neutral(), &raw, 0.5).leveler_gain_db,
            0.5
        );
        // Ten times faster with nothing heard.
        let cold = lim.at_confidence(0.0).step(&Targets::neutral(), &raw, 0.5);
        assert!((cold.leveler_gain_db - 0.5 * FAST_START).abs() < 1e-5);
    }

    use crate::analysis::corridor::place;
    use crate::analysis::test_signals::{band_curve, lowpass, pink, shaped_noise, white};
    use crate::analysis::{AnalysisMode, Analyzer};
    use crate::dsp::biquad::{BiquadCoeffs, StereoBiquad};

    const FS: u32 = 48_000;
    const N: usize = 1 << 20;

    /// What the analysis's whole pass (as `auralis master` hears a file) measures of a signal.
    fn measure(l: &[f32], r: &[f32]) -> Measured {
        let mut a = Analyzer::new(FS as f32, 2);
        a.set_config(AnalysisConfig {
            analysis_mode: AnalysisMode::Learn,
            ..AnalysisConfig::default()
        });
        a.push(&[l, r]);
        a.measured()
    }

    /// Stereo noise whose band densities sit at `levels` (dB per band).
    fn noise_at(levels: &[f32; BANDS]) -> (Vec<f32>, Vec<f32>) {
        (
            shaped_noise(1, N, FS, 0.1, |f| band_curve(levels, f)),
            shaped_noise(2, N, FS, 0.1, |f| band_curve(levels, f)),
        )
    }

    /// The corridor's middle as a signal: noise of typical crest, shaped there.
    fn noise_in_corridor(cfg: &AnalysisConfig) -> (Vec<f32>, Vec<f32>) {
        let probe = pink(7, FS as usize * 10, 0.3);
        let corridor = adaptive_corridor(&measure(&probe, &probe), cfg);
        noise_at(&corridor.middle())
    }

    fn total_excess(levels: &[f32; BANDS], m: &Measured, cfg: &AnalysisConfig) -> f32 {
        let p = place(levels, &adaptive_corridor(m, cfg), m.usable_bands as usize);
        p.excess_db.iter().map(|e| e.abs()).sum()
    }

    #[test]
    fn a_spectrum_inside_its_corridor_is_left_alone() {
        let cfg = AnalysisConfig::default();
        let (l, r) = noise_in_corridor(&cfg);
        let m = measure(&l, &r);
        assert_eq!(total_excess(&m.band_levels_db, &m, &cfg), 0.0);
        let t = derive(&m, &cfg, None);
        for (b, g) in t.eq_gains_db.iter().enumerate() {
            assert!(g.abs() < 0.3, "band {b}: {g} dB ({:?})", t.eq_gains_db);
        }
    }

    #[test]
    fn a_broad_shelf_outside_the_corridor_is_corrected_within_a_fifth_of_its_excess() {
        let cfg = AnalysisConfig::default();
        for (name, shelf) in [
            (
                "dull",
                BiquadCoeffs::high_shelf(3000.0, 0.707, -15.0, FS as f64),
            ),
            (
                "bright",
                BiquadCoeffs::high_shelf(3000.0, 0.707, 15.0, FS as f64),
            ),
            (
                "thin",
                BiquadCoeffs::low_shelf(300.0, 0.707, -15.0, FS as f64),
            ),
        ] {
            let (mut l, mut r) = noise_in_corridor(&cfg);
            StereoBiquad::new(shelf).process(&mut [&mut l[..], &mut r[..]]);
            let m = measure(&l, &r);
            let before = total_excess(&m.band_levels_db, &m, &cfg);
            assert!(
                before > 3.0,
                "{name}: the shelf must leave the corridor ({before} dB)"
            );
            let t = derive(&m, &cfg, None);
            let after_levels = std::array::from_fn(|b| m.band_levels_db[b] + t.eq_gains_db[b]);
            let after = total_excess(&after_levels, &m, &cfg);
            assert!(
                after <= 0.2 * before,
                "{name}: excess {before:.2} dB -> {after:.2} dB ({:?})",
                t.eq_gains_db
            );
        }
    }

    #[test]
    fn low_passed_noise_gets_no_boost_above_its_cutoff() {
        let cfg = AnalysisConfig::default();
        let p = lowpass(&pink(8, FS as usize * 20, 1.0), FS, 4000.0, 8);
        let q = lowpass(&pink(9, FS as usize * 20, 1.0), FS, 4000.0, 8);
        let t = derive(&measure(&p, &q), &cfg, None);
        for b in (0..BANDS).filter(|&b| EDGES[b] >= 4400.0) {
            assert!(t.eq_gains_db[b] <= 0.0, "band {b}: {:?}", t.eq_gains_db);
        }
    }

    #[test]
    fn a_band_under_the_noise_floor_is_not_lifted() {
        // Music (pink noise) low-passed at 2 kHz over a white noise floor 60 dB under it: above
        // the cutoff the bands hold the floor only.
        let cfg = AnalysisConfig::default();
        let n = FS as usize * 20;
        let floor = white(10, n, 0.001);
        let mix = |seed| -> Vec<f32> {
            lowpass(&pink(seed, n, 1.0), FS, 2000.0, 8)
                .iter()
                .zip(&floor)
                .map(|(a, b)| a + b)
                .collect()
        };
        let (l, r) = (mix(11), mix(12));
        let m = measure(&l, &r);
        let corridor = adaptive_corridor(&m, &cfg);
        let p = place(&m.band_levels_db, &corridor, m.usable_bands as usize);
        let t = derive(&m, &cfg, None);
        for b in (0..BANDS).filter(|&b| EDGES[b] >= 3150.0) {
            assert!(!p.present[b], "band {b} is only the noise floor");
            assert!(t.eq_gains_db[b] <= 0.0, "band {b}: {:?}", t.eq_gains_db);
        }
    }
}
