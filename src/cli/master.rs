//! Mastering one input, in two passes over it: the whole file is analysed first (so the
//! settings are held from the first sample), then rendered through the very engine the plugin
//! runs. Between the two, the leveler's gain is calibrated on excerpts kept by pass 1 (see
//! [`auralis::learn::calibration`]: the chain is not linear, the limiter takes back part of any boost), so the
//! one render usually lands on the target. A render that still misses it by more than
//! [`LOUDNESS_TOLERANCE_LU`] is corrected and rendered again, never past Max Limiting as the
//! render measured it: a render whose limiter took more (peaks the excerpts missed) is taken
//! back to it, and the leveler is then reported capped.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, Result};
use indicatif::ProgressBar;

use super::cache;
use super::dither::Dither;
use super::encode::{AtomicWavWriter, OutputFormat};
use super::plot::PlotData;
use super::report::{BandGain, FileReport, Limiting, Loudness};
use super::source::Input;
use super::tags::Tags;
use auralis::analysis::corridor::place;
use auralis::analysis::loudness::LoudnessMeter;
use auralis::analysis::targets::{adaptive_corridor, LevelerReason};
use auralis::analysis::{Listener, ReferenceProfile, Targets};
use auralis::controls::Controls;
use auralis::dsp::bark;
use auralis::learn::calibration::LIMITING_TOLERANCE_DB;
use auralis::learn::{self, Heard};
use auralis::session::Session;
use ebur128::EbuR128;

/// Frames read and processed at a time (the engine's block; with held targets the output does
/// not depend on it).
pub const BLOCK: usize = learn::BLOCK;
/// A render within this many LU of the target is final.
pub const LOUDNESS_TOLERANCE_LU: f32 = 0.2;
/// Renders at most, the first included.
pub const MAX_RENDERS: u32 = 4;

/// One file to master.
#[derive(Clone, Debug)]
pub struct Job {
    pub input: Input,
    pub output: PathBuf,
    pub controls: Controls,
    pub reference: Option<ReferenceProfile>,
    pub format: OutputFormat,
    pub dither: Dither,
    pub force: bool,
    /// Where to draw the master's picture (`--plot`), if anywhere.
    pub plot: Option<PathBuf>,
    /// Where pass 1's analyses are kept (`--cache`), if anywhere.
    pub cache: Option<PathBuf>,
}

/// What pass 1 found: what the whole input sounded like, and how decoding went.
pub struct Analysis {
    pub heard: Heard,
    pub non_finite_samples: u64,
    pub skipped_packets: u64,
    /// The track's BS.1770 meter, for an album (see [`album_meter`]).
    pub album_meter: Option<EbuR128>,
    /// With `--cache`: whether this came from the cache.
    pub cached: Option<bool>,
}

/// Pass 1: listens to the whole input with `controls`' choices (see [`auralis::learn::listen`]).
pub fn analyse(input: &Input, controls: &Controls, bar: &ProgressBar) -> Result<Analysis> {
    analyse_metered(input, controls, bar, false)
}

/// [`analyse`], also metering the track for an album when `album` (see [`album_meter`]).
pub fn analyse_metered(
    input: &Input,
    controls: &Controls,
    bar: &ProgressBar,
    album: bool,
) -> Result<Analysis> {
    let mut pass = input.open()?;
    let (sample_rate, channels) = (pass.sample_rate(), pass.channels());
    let mut album_meter = album
        .then(|| album_meter(sample_rate, channels))
        .transpose()?;
    let meter = &mut album_meter;
    bar.set_length(pass.frames_hint().unwrap_or(0) * 2);
    let heard = learn::listen(
        sample_rate,
        channels,
        controls,
        |b| {
            let n = pass.read(b)?;
            if let Some(m) = meter.as_mut() {
                let block: Vec<&[f32]> = b.iter().map(|c| &c[..n]).collect();
                m.add_frames_planar_f32(&block)
                    .map_err(|e| anyhow!("loudness meter: {e:?}"))?;
            }
            Ok(n)
        },
        |n| bar.inc(n),
    )
    .map_err(|e| anyhow!("{}: {e}", input.name()))?;
    Ok(Analysis {
        heard,
        non_finite_samples: pass.nonfinite_samples(),
        skipped_packets: pass.skipped_packets(),
        album_meter,
        cached: None,
    })
}

/// Pass 1 of `job`, from its `--cache` when it holds a sound entry for this audio (see
/// [`super::cache`]), otherwise run (and stored there). `album`: also meter the track.
pub fn pass_one(job: &Job, bar: &ProgressBar, album: bool) -> Result<Analysis> {
    let Some(dir) = &job.cache else {
        return analyse_metered(&job.input, &job.controls, bar, album);
    };
    let meter: &dyn Fn(u32, usize) -> Result<EbuR128> = &album_meter;
    let mut hashed = cache::hash(&job.input, bar, album.then_some(meter))?;
    match cache::load(dir, &hashed) {
        Some((measured, fingerprint)) => Ok(Analysis {
            heard: hashed.heard(measured, fingerprint),
            non_finite_samples: hashed.non_finite_samples,
            skipped_packets: hashed.skipped_packets,
            album_meter: hashed.album_meter,
            cached: Some(true),
        }),
        None => {
            bar.set_position(0);
            let mut analysis = analyse_metered(&job.input, &job.controls, bar, album)?;
            if let Err(e) = cache::store(dir, &hashed.key, &analysis.heard) {
                // The master does not depend on the cache: say so, and go on.
                eprintln!("auralis: {}: not cached: {e:#}", job.input.name());
            }
            analysis.cached = Some(false);
            Ok(analysis)
        }
    }
}

/// A BS.1770 meter of integrated loudness and loudness range (the `ebur128` crate), for an
/// album's tracks: several such meters gate together as the tracks played in a row.
pub fn album_meter(sample_rate: u32, channels: usize) -> Result<EbuR128> {
    EbuR128::new(
        channels as u32,
        sample_rate,
        ebur128::Mode::I | ebur128::Mode::LRA,
    )
    .map_err(|e| anyhow!("loudness meter: {e:?}"))
}

/// One render's result, its output not yet committed.
struct Render {
    writer: AtomicWavWriter,
    after: Loudness,
    limiting: Limiting,
    eq: Vec<BandGain>,
}

/// Pass 2: renders `input` through a session holding `targets`, measuring the result (also on
/// `album`, when given).
fn render(
    job: &Job,
    targets: &Targets,
    frames: u64,
    bar: &ProgressBar,
    mut album: Option<&mut EbuR128>,
    mut plot: Option<&mut PlotData>,
) -> Result<Render> {
    let mut pass = job.input.open()?;
    let (sample_rate, channels) = (pass.sample_rate(), pass.channels());
    let mut session = Session::new(
        sample_rate as f32,
        BLOCK,
        channels,
        job.controls,
        Listener::Fixed(*targets),
    );
    let mut writer = match job.input.path() {
        Some(input) => AtomicWavWriter::create_for_input(
            input,
            &job.output,
            sample_rate,
            channels,
            job.format,
            job.force,
            &Tags::read(input),
        )?,
        None => AtomicWavWriter::create(&job.output, sample_rate, channels, job.format, job.force)?,
    };
    writer.set_dither(job.dither);
    // The analysis's meter: K-weighting by `ebur128`, gated loudness and range, true peak by
    // the limiter's 4x interpolator (BS.1770-4 Annex 2), only the highest peak wanted.
    let mut meter = LoudnessMeter::new(sample_rate, channels).max_peak_only();
    let mut buffers = vec![vec![0.0f32; BLOCK]; channels];
    // The chain delays the audio by its latency: drop that much from the start of the output
    // and feed as much silence at the end, so the master is as long as the input, aligned.
    let mut skip = session.latency();
    let (mut read, mut written) = (0u64, 0u64);
    let mut stats = LimitingStats::default();
    while written < frames {
        let mut n = if read < frames {
            pass.read(&mut buffers)?
        } else {
            0
        };
        if n == 0 {
            // Past the input's end: silence, to flush the latency.
            n = BLOCK;
            for b in buffers.iter_mut() {
                b.fill(0.0);
            }
        } else {
            read += n as u64;
        }
        if let Some(p) = plot.as_deref_mut() {
            let block: Vec<&[f32]> = buffers.iter().map(|b| &b[..n]).collect();
            p.add_input(&block);
        }
        {
            let mut block: Vec<&mut [f32]> = buffers.iter_mut().map(|b| &mut b[..n]).collect();
            session.process(&mut block);
        }
        stats.add(session.engine().limiter_reduction_db());
        let from = skip.min(n);
        skip -= from;
        let take = ((n - from) as u64).min(frames - written) as usize;
        if take > 0 {
            let out: Vec<&[f32]> = buffers.iter().map(|b| &b[from..from + take]).collect();
            writer.write(&out)?;
            meter.add(&out);
            if let Some(p) = plot.as_deref_mut() {
                let engine = session.engine();
                p.add_output(
                    &out,
                    engine.limiter_reduction_db(),
                    engine.compressor_reduction_db(),
                );
            }
            if let Some(m) = album.as_deref_mut() {
                m.add_frames_planar_f32(&out)
                    .map_err(|e| anyhow!("loudness meter: {e:?}"))?;
            }
            written += take as u64;
            bar.inc(take as u64);
        }
    }
    let reading = meter.reading();
    let (integrated, true_peak_dbtp) = (reading.integrated, reading.true_peak);
    let engine = session.engine();
    Ok(Render {
        writer,
        after: Loudness {
            integrated_lufs: integrated,
            lra_lu: reading.range,
            true_peak_dbtp,
            plr_db: true_peak_dbtp - integrated,
        },
        limiting: stats.finish(),
        eq: (0..bark::BANDS)
            .map(|b| BandGain {
                centre_hz: bark::centre(b),
                gain_db: engine.eq_response_db(bark::centre(b)),
            })
            .collect(),
    })
}

#[derive(Default)]
struct LimitingStats {
    max: f32,
    sum: f64,
    active: u64,
    blocks: u64,
}

impl LimitingStats {
    fn add(&mut self, reduction_db: f32) {
        self.max = self.max.max(reduction_db);
        self.sum += reduction_db as f64;
        self.active += u64::from(reduction_db > 0.1);
        self.blocks += 1;
    }

    fn finish(&self) -> Limiting {
        let blocks = self.blocks.max(1) as f64;
        Limiting {
            max_reduction_db: self.max,
            mean_reduction_db: (self.sum / blocks) as f32,
            active_share: (self.active as f64 / blocks) as f32,
        }
    }
}

/// Masters one job: analyse, render (correcting the loudness if needed), commit the output.
pub fn master(job: &Job, bar: &ProgressBar) -> Result<FileReport> {
    let started = Instant::now();
    let analysis = pass_one(job, bar, false)?;
    let (targets, calibration_rounds) =
        learn::calibrated_targets(&analysis.heard, &job.controls, job.reference.as_ref())?;
    render_and_report(
        job,
        &analysis,
        targets,
        calibration_rounds,
        started,
        bar,
        None,
    )
}

/// Pass 2 of a job whose pass 1 is done: renders with `targets` (correcting the loudness if
/// needed), commits the output and reports. `album` (when given) ends up metering the final
/// render.
pub fn render_and_report(
    job: &Job,
    analysis: &Analysis,
    mut targets: Targets,
    calibration_rounds: usize,
    started: Instant,
    bar: &ProgressBar,
    album: Option<&mut EbuR128>,
) -> Result<FileReport> {
    let heard = &analysis.heard;
    let goal = targets.target_lufs;

    let mut renders = 1;
    let fresh_meter = |album: &Option<&mut EbuR128>| -> Result<Option<EbuR128>> {
        album
            .as_ref()
            .map(|_| album_meter(heard.sample_rate, heard.channels))
            .transpose()
    };
    let fresh_plot = || -> Result<Option<PlotData>> {
        job.plot
            .as_ref()
            .map(|_| PlotData::new(heard.sample_rate, heard.channels))
            .transpose()
    };
    let mut meter = fresh_meter(&album)?;
    let mut plot = fresh_plot()?;
    let mut result = render(
        job,
        &targets,
        heard.frames,
        bar,
        meter.as_mut(),
        plot.as_mut(),
    )?;
    // Max Limiting, as this render measured it: a lookahead limiter's deepest reduction follows
    // the gain before it dB for dB.
    let allowed = job.controls.max_limiting_db.max(0.0);
    let limiter = job.controls.limiter_enabled;
    // Without the limiter, the analysis's estimate of Max Limiting is all that keeps the peaks
    // near the ceiling: never pushed past.
    let held_by_estimate = learn::held_by_estimate(&job.controls, &targets);
    // The render loop stopped at Max Limiting short of the target.
    let mut capped = false;
    while renders < MAX_RENDERS && job.controls.leveler_enabled {
        let miss = goal - result.after.integrated_lufs;
        if !miss.is_finite() {
            break;
        }
        let deepest = result.limiting.max_reduction_db;
        let step = if limiter && deepest > allowed + LIMITING_TOLERANCE_DB {
            // The whole file has peaks the excerpts missed: take the excess back.
            capped = true;
            miss.min(allowed - deepest)
        } else if miss.abs() <= LOUDNESS_TOLERANCE_LU || (held_by_estimate && miss > 0.0) {
            break;
        } else if limiter && miss > 0.0 && miss > allowed - deepest {
            // Never push past what Max Limiting allows.
            capped = true;
            let room = allowed - deepest;
            if room <= LOUDNESS_TOLERANCE_LU {
                break;
            }
            room
        } else {
            miss
        };
        targets.leveler_gain_db += step;
        bar.set_length(bar.length().unwrap_or(0) + heard.frames);
        // Discard the first render (and its temporary file) before writing the next one.
        drop(result);
        meter = fresh_meter(&album)?;
        plot = fresh_plot()?;
        result = render(
            job,
            &targets,
            heard.frames,
            bar,
            meter.as_mut(),
            plot.as_mut(),
        )?;
        renders += 1;
    }
    // What the render shows, whatever the calibration expected.
    let miss = goal - result.after.integrated_lufs;
    if limiter && (capped || targets.reasons.leveler == LevelerReason::CappedByLimiter) {
        if miss > LOUDNESS_TOLERANCE_LU {
            targets.reasons.leveler = LevelerReason::CappedByLimiter;
            targets.loudness_shortfall_db = miss;
        } else {
            targets.reasons.leveler = LevelerReason::TowardTarget;
            targets.loudness_shortfall_db = 0.0;
        }
    }
    let Render {
        writer,
        after,
        limiting,
        eq,
    } = result;
    if let (Some(slot), Some(m)) = (album, meter) {
        *slot = m;
    }
    let clipped_samples = writer.clipped_samples();
    writer.finish()?;
    if let (Some(path), Some(p)) = (&job.plot, &plot) {
        p.draw(path, &job.input.name(), goal, &eq)?;
    }

    let m = &heard.measured;
    let shortfall = goal - after.integrated_lufs;
    let wall = started.elapsed().as_secs_f64();
    let seconds = heard.frames as f64 / heard.sample_rate as f64;
    let settings = job.controls.settings(&targets);
    let corridor = adaptive_corridor(m, &job.controls.analysis_config());
    let placement = place(&m.band_levels_db, &corridor, m.usable_bands as usize);
    Ok(FileReport {
        input: job.input.name(),
        output: job.output.display().to_string(),
        sample_rate: heard.sample_rate,
        channels: heard.channels,
        frames: heard.frames,
        seconds,
        before: Loudness {
            integrated_lufs: m.integrated_lufs,
            lra_lu: m.lra_lu,
            true_peak_dbtp: m.true_peak_dbtp,
            plr_db: m.true_peak_dbtp - m.integrated_lufs,
        },
        after,
        target_lufs: goal,
        ceiling_dbtp: job.controls.ceiling_dbtp,
        loudness_shortfall_db: (shortfall > 0.3).then_some(shortfall),
        eq,
        compressor_threshold_db: settings.compressor.threshold_db,
        compressor_ratio: settings.compressor.ratio,
        leveler_gain_db: settings.leveler_gain_db,
        width: settings.width,
        limiting,
        corridor,
        placement,
        reasons: format!("{:?}", targets.reasons),
        targets,
        skipped_packets: analysis.skipped_packets,
        clipped_samples,
        renders,
        calibration_rounds: calibration_rounds as u32,
        non_finite_samples: analysis.non_finite_samples,
        wall_seconds: wall,
        realtime_factor: seconds / wall.max(1e-9),
        analysis_cached: analysis.cached,
    })
}

/// Builds a reference profile from files: each analysed whole, blended with equal weights.
pub fn reference_profile(files: &[PathBuf]) -> Result<Option<ReferenceProfile>> {
    let hidden = ProgressBar::hidden();
    let mut profiles = Vec::new();
    for file in files {
        let analysis = analyse(&Input::File(file.clone()), &Controls::default(), &hidden)?;
        profiles.push((
            ReferenceProfile::from_measured(&analysis.heard.measured),
            1.0,
        ));
    }
    Ok(ReferenceProfile::blend(&profiles))
}
