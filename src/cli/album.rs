//! `auralis master --album`: the given files are one record, mastered with one decision for
//! its tone and one for its loudness, as a mastering engineer sequences an album.
//!
//! - **Loudness.** The album's integrated loudness is BS.1770's over all the tracks gated
//!   together (as if played in a row: `ebur128`'s `loudness_global_multiple`). Every track is
//!   moved by the same amount, the one that takes the album to the target, so each keeps its
//!   loudness relative to the others: track `i` aims at `L_i + (target - L_album)`. A track
//!   that cannot get there without the limiter taking more than Max Limiting (`max_gr`) stays
//!   short of it, and the report says by how much.
//! - **Tone.** The tracks' measurements are pooled into the record's (band levels, dynamics
//!   and width weighted by each track's gated duration), and the analysis decides one EQ for
//!   that record in its corridor ([`auralis::analysis::corridor`]). Every track gets that EQ;
//!   a track that, with it, still leaves the record's corridor gets the corridor's own
//!   correction for the bands it leaves, beyond what the record itself would still be asked
//!   there, and nothing elsewhere: tracks of the record's own balance get the record's EQ
//!   alone. (Adaptive mode; with a reference
//!   every track is matched to the reference on its own, as without `--album`.)
//!
//! Dynamics and width stay per track: the analysis decides them from each track.

use anyhow::{anyhow, Result};
use ebur128::EbuR128;
use serde::Serialize;

use super::master::{Analysis, Job};
use super::report::FileReport;
use auralis::analysis::corridor::{corridor_eq, place};
use auralis::analysis::presets::PresetSpec;
use auralis::analysis::targets::{adaptive_corridor, derive, LevelerReason};
use auralis::analysis::{AnalysisMode, MasteringMode, Measured, Targets};
use auralis::dsp::bark::BANDS;
use auralis::learn::{self, calibrate_leveler};

/// One track's pass 1, with its BS.1770 meter.
pub struct Track {
    pub analysis: Analysis,
    pub meter: EbuR128,
}

impl Track {
    /// The track of a pass 1 run with an album meter.
    pub fn new(mut analysis: Analysis) -> Self {
        let meter = analysis
            .album_meter
            .take()
            .expect("an album's pass 1 meters each track");
        Track { analysis, meter }
    }
}

/// What the record's decisions give one track.
pub struct TrackPlan {
    /// The job, its loudness target set to the track's place in the album.
    pub job: Job,
    pub targets: Targets,
    pub calibration_rounds: usize,
    /// The track's own tonal correction on top of the record's EQ, largest band, dB.
    pub correction_db: f32,
}

/// The record's decisions.
pub struct Plan {
    pub tracks: Vec<TrackPlan>,
    pub album_before_lufs: f64,
    pub album_before_lra: f64,
    pub target_lufs: f32,
    /// The EQ decided for the whole record, dB per band.
    pub record_eq_db: [f32; BANDS],
}

/// The album's loudness over `meters` gated together, and its loudness range.
pub fn album_loudness<'a>(meters: impl Iterator<Item = &'a EbuR128> + Clone) -> Result<(f64, f64)> {
    let integrated = EbuR128::loudness_global_multiple(meters.clone())
        .map_err(|e| anyhow!("album loudness: {e:?}"))?;
    let range =
        EbuR128::loudness_range_multiple(meters).map_err(|e| anyhow!("album loudness: {e:?}"))?;
    Ok((integrated, range))
}

/// The record's measurements: each track's weighted by its gated duration (the time a listener
/// hears it), in dB for levels, as they are for ratios; loudness and range are the album's.
fn record_measured(tracks: &[Track], album_lufs: f32, album_lra: f32) -> Measured {
    let heard: Vec<&Measured> = tracks.iter().map(|t| &t.analysis.heard.measured).collect();
    let weights: Vec<f32> = heard.iter().map(|m| m.gated_seconds.max(1e-3)).collect();
    let total: f32 = weights.iter().sum();
    let mean = |f: &dyn Fn(&Measured) -> f32| -> f32 {
        heard
            .iter()
            .zip(&weights)
            .map(|(m, w)| f(m) * w)
            .sum::<f32>()
            / total
    };
    let mut m = *heard[0];
    m.band_levels_db = std::array::from_fn(|b| mean(&|m| m.band_levels_db[b]));
    m.band_power = std::array::from_fn(|b| mean(&|m| m.band_power[b]));
    m.crest_db = mean(&|m| m.crest_db);
    m.correlation = mean(&|m| m.correlation);
    m.side_mid_ratio = mean(&|m| m.side_mid_ratio);
    m.tilt_db_per_oct = mean(&|m| m.tilt_db_per_oct);
    m.integrated_lufs = album_lufs;
    m.programme_lufs = album_lufs;
    m.lra_lu = album_lra;
    m.true_peak_dbtp = heard
        .iter()
        .map(|m| m.true_peak_dbtp)
        .fold(f32::MIN, f32::max);
    m.peak_envelope_dbtp = heard
        .iter()
        .map(|m| m.peak_envelope_dbtp)
        .fold(f32::MIN, f32::max);
    m.gated_seconds = heard.iter().map(|m| m.gated_seconds).sum();
    m.usable_bands = heard.iter().map(|m| m.usable_bands).min().unwrap_or(0);
    m
}

/// Decides the record's loudness and tone for `jobs` (in order) from their pass 1.
pub fn plan(jobs: &[Job], tracks: &[Track]) -> Result<Plan> {
    let controls = jobs[0].controls;
    let reference = jobs[0].reference.as_ref();
    let (album_lufs, album_lra) = album_loudness(tracks.iter().map(|t| &t.meter))?;
    let target = controls.target_loudness();
    let offset = target - album_lufs as f32;

    let mut config = controls.analysis_config();
    config.analysis_mode = AnalysisMode::Hold;
    let record = record_measured(tracks, album_lufs as f32, album_lra as f32);
    let adaptive = controls.mode == MasteringMode::Adaptive;
    let record_eq = derive(&record, &config, reference).eq_gains_db;
    let corridor = adaptive_corridor(&record, &config);
    let amount = config.eq_amount.clamp(0.0, 1.0) * PresetSpec::of(config.preset).eq_scale;
    let max_db = config.eq_max_db.abs();
    // What the corridor would still ask of the record itself once it has its EQ (the EQ
    // amount leaves part of the way undone): a track is corrected only beyond that.
    let record_usable = record.usable_bands as usize;
    let record_with_eq: [f32; BANDS] =
        std::array::from_fn(|b| record.band_levels_db[b] + record_eq[b]);
    let record_rest = corridor_eq(
        &place(&record_with_eq, &corridor, record_usable),
        &corridor,
        record_usable,
        amount,
        max_db,
    );

    let mut plans = Vec::with_capacity(jobs.len());
    for (job, track) in jobs.iter().zip(tracks) {
        let heard = &track.analysis.heard;
        let own_lufs = track
            .meter
            .loudness_global()
            .map_err(|e| anyhow!("{}: loudness: {e:?}", job.input.name()))?
            as f32;
        let mut job = job.clone();
        job.controls.loudness_from_preset = false;
        job.controls.target_lufs = own_lufs + offset;
        let mut targets = learn::held_targets(heard, &job.controls, reference);
        let mut correction_db = 0.0f32;
        if adaptive {
            // The record's EQ, and where the track with it still leaves the record's corridor,
            // the corridor's correction there.
            let usable = heard.measured.usable_bands as usize;
            let with_record: [f32; BANDS] =
                std::array::from_fn(|b| heard.measured.band_levels_db[b] + record_eq[b]);
            let placement = place(&with_record, &corridor, usable);
            let asked = corridor_eq(&placement, &corridor, usable, amount, max_db);
            // Only in the bands where the track, with the record's EQ, leaves the corridor,
            // and only what it asks beyond what the record itself still would.
            let correction: [f32; BANDS] = std::array::from_fn(|b| {
                if placement.excess_db[b] != 0.0 {
                    asked[b] - record_rest[b]
                } else {
                    0.0
                }
            });
            targets.eq_gains_db =
                std::array::from_fn(|b| (record_eq[b] + correction[b]).clamp(-max_db, max_db));
            correction_db = correction.iter().fold(0.0f32, |a, c| a.max(c.abs()));
        }
        let rounds = calibrate_leveler(heard, &job.controls, reference, &mut targets)?;
        plans.push(TrackPlan {
            job,
            targets,
            calibration_rounds: rounds,
            correction_db,
        });
    }
    Ok(Plan {
        tracks: plans,
        album_before_lufs: album_lufs,
        album_before_lra: album_lra,
        target_lufs: target,
        record_eq_db: record_eq,
    })
}

/// Loudness, range and true peak of the album or of one of its tracks.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AlbumLoudness {
    pub integrated_lufs: f64,
    pub lra_lu: f64,
    pub true_peak_dbtp: f32,
}

/// One track's place in the album.
#[derive(Clone, Debug, Serialize)]
pub struct AlbumTrack {
    pub input: String,
    pub before: AlbumLoudness,
    pub after: AlbumLoudness,
    /// The track's loudness less the album's, before and after, LU.
    pub relative_before_lu: f64,
    pub relative_after_lu: f64,
    /// The track's own tonal correction on top of the record's EQ, largest band, dB.
    pub tonal_correction_db: f32,
    /// How far the track stays under its place, when Max Limiting stopped it, LU.
    pub limited_short_lu: Option<f32>,
}

/// The album as a whole.
#[derive(Clone, Debug, Serialize)]
pub struct AlbumReport {
    pub target_lufs: f32,
    pub before: AlbumLoudness,
    pub after: AlbumLoudness,
    /// The EQ decided for the whole record, dB per Bark band.
    pub record_eq_db: Vec<f32>,
    pub tracks: Vec<AlbumTrack>,
}

impl AlbumReport {
    /// The album's figures from the plan, the tracks' reports and their output meters.
    pub fn new(plan: &Plan, files: &[FileReport], outputs: &[EbuR128]) -> Result<Self> {
        let (after_lufs, after_lra) = album_loudness(outputs.iter())?;
        let peak = |f: &dyn Fn(&FileReport) -> f32| files.iter().map(f).fold(f32::MIN, f32::max);
        let tracks = files
            .iter()
            .zip(&plan.tracks)
            .map(|(f, p)| {
                let short = f.target_lufs - f.after.integrated_lufs;
                let limited = p.targets.reasons.leveler == LevelerReason::CappedByLimiter;
                AlbumTrack {
                    input: f.input.clone(),
                    before: AlbumLoudness {
                        integrated_lufs: f.before.integrated_lufs as f64,
                        lra_lu: f.before.lra_lu as f64,
                        true_peak_dbtp: f.before.true_peak_dbtp,
                    },
                    after: AlbumLoudness {
                        integrated_lufs: f.after.integrated_lufs as f64,
                        lra_lu: f.after.lra_lu as f64,
                        true_peak_dbtp: f.after.true_peak_dbtp,
                    },
                    relative_before_lu: f.before.integrated_lufs as f64 - plan.album_before_lufs,
                    relative_after_lu: f.after.integrated_lufs as f64 - after_lufs,
                    tonal_correction_db: p.correction_db,
                    limited_short_lu: (limited && short > 0.3).then_some(short),
                }
            })
            .collect();
        Ok(AlbumReport {
            target_lufs: plan.target_lufs,
            before: AlbumLoudness {
                integrated_lufs: plan.album_before_lufs,
                lra_lu: plan.album_before_lra,
                true_peak_dbtp: peak(&|f| f.before.true_peak_dbtp),
            },
            after: AlbumLoudness {
                integrated_lufs: after_lufs,
                lra_lu: after_lra,
                true_peak_dbtp: peak(&|f| f.after.true_peak_dbtp),
            },
            record_eq_db: plan.record_eq_db.to_vec(),
            tracks,
        })
    }

    /// The album's lines of the printed summary.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "album: loudness {:.1} -> {:.1} LUFS (target {:.1}), LRA {:.1} -> {:.1} LU, true peak {:.1} -> {:.1} dBTP",
            self.before.integrated_lufs,
            self.after.integrated_lufs,
            self.target_lufs,
            self.before.lra_lu,
            self.after.lra_lu,
            self.before.true_peak_dbtp,
            self.after.true_peak_dbtp,
        );
        for t in &self.tracks {
            s.push_str(&format!(
                "\n  {}: {:+.1} -> {:+.1} LU from the album, {:.1} LUFS, LRA {:.1} LU, true peak {:.1} dBTP, own EQ up to {:.1} dB",
                t.input,
                t.relative_before_lu,
                t.relative_after_lu,
                t.after.integrated_lufs,
                t.after.lra_lu,
                t.after.true_peak_dbtp,
                t.tonal_correction_db,
            ));
            if let Some(short) = t.limited_short_lu {
                s.push_str(&format!(
                    " (Max Limiting reached: {short:.1} LU short of its place)"
                ));
            }
        }
        s
    }
}
