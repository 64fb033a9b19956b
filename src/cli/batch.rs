//! `auralis master`: plans the outputs, masters the files in parallel (one per core, or
//! `--jobs`), shows progress on a terminal, prints each file's report and the failures.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

use super::album::{self, AlbumReport, Track};
use super::encode::AtomicWavWriter;
use super::master::{self, Job};
use super::paths::{plan_outputs_as, OutputSpec};
use super::report::{Failure, FileReport, RunReport};
use super::source::{Input, DEMO_SAMPLE_RATE, DEMO_SECONDS};
use super::MasterArgs;
use auralis::analysis::MasteringMode;

/// Runs `auralis master`.
pub fn run(args: &MasterArgs) -> Result<ExitCode> {
    let controls = args.choices.controls()?;
    if controls.mode != MasteringMode::Adaptive && args.choices.references.is_empty() {
        bail!("--mode reference and --mode hybrid need at least one --reference FILE");
    }
    let (inputs, outputs) = plan(args)?;
    let single = inputs.len() == 1;
    let reference = master::reference_profile(&args.choices.references)?;
    let jobs: Vec<Job> = inputs
        .into_iter()
        .zip(outputs)
        .map(|(input, output)| Job {
            plot: plot_path(args.plot.as_deref().map(Path::new), &output, single),
            input,
            output,
            controls,
            reference,
            format: args.format,
            dither: args.dither,
            force: args.force,
            cache: args.cache.clone(),
        })
        .collect();

    let progress = MultiProgress::with_draw_target(if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let overall = progress.add(ProgressBar::new(jobs.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} files")
            .unwrap()
            .progress_chars("=> "),
    );
    overall.set_prefix("mastering");
    let file_style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {percent:>3}% {msg}")
        .unwrap()
        .progress_chars("=> ");

    let threads = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start the worker threads")?;
    let new_bar = |job: &Job| {
        let bar = progress.add(ProgressBar::new(0));
        bar.set_style(file_style.clone());
        bar.set_prefix("file");
        bar.set_message(job.input.name());
        bar
    };
    let mut album_report = None;
    let results: Vec<(Input, Result<FileReport>)> = if args.album {
        let bars: Vec<ProgressBar> = jobs.iter().map(new_bar).collect();
        let (results, album) = pool.install(|| master_album(&jobs, &bars, &overall));
        album_report = album;
        results
    } else {
        pool.install(|| {
            jobs.par_iter()
                .map(|job| {
                    let bar = progress.add(ProgressBar::new(0));
                    bar.set_style(file_style.clone());
                    bar.set_prefix("file");
                    bar.set_message(job.input.name());
                    // A panic on one file (a decoder's bug) fails that file, not the batch.
                    let result =
                        super::panics::guard(&job.input.name(), || master::master(job, &bar));
                    bar.finish_and_clear();
                    overall.inc(1);
                    (job.input.clone(), result)
                })
                .collect()
        })
    };
    overall.finish_and_clear();

    let mut report = RunReport {
        files: Vec::new(),
        failures: Vec::new(),
        album: album_report,
    };
    for (input, result) in results {
        match result {
            Ok(file) => {
                println!("{}", file.summary());
                match file.analysis_cached {
                    Some(true) => println!("  analysis: from the cache"),
                    Some(false) => println!("  analysis: run, and stored in the cache"),
                    None => {}
                }
                report.files.push(file);
            }
            Err(e) => {
                eprintln!("auralis: {e:#}");
                report.failures.push(Failure::new(&input, &e));
            }
        }
    }
    if let Some(album) = &report.album {
        println!("{}", album.summary());
    }
    println!(
        "{} mastered, {} failed",
        report.files.len(),
        report.failures.len()
    );
    for f in &report.failures {
        println!("  failed: {}: {}", f.input, f.error);
    }
    if let Some(path) = &args.report {
        write_json_atomically(path, &report)?;
    }
    Ok(if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Masters `jobs` as one record (see [`album`]): every track's pass 1, the record's decisions,
/// then every track's pass 2. A track that cannot be read fails the record: no track is
/// written, since the others' decisions depended on it.
fn master_album(
    jobs: &[Job],
    bars: &[ProgressBar],
    overall: &ProgressBar,
) -> (Vec<(Input, Result<FileReport>)>, Option<AlbumReport>) {
    let started = Instant::now();
    let passes: Vec<Result<Track>> = jobs
        .par_iter()
        .zip(bars)
        .map(|(job, bar)| {
            super::panics::guard(&job.input.name(), || {
                master::pass_one(job, bar, true).map(Track::new)
            })
        })
        .collect();
    let fail_all = |why: &dyn Fn(usize) -> anyhow::Error| {
        for bar in bars {
            bar.finish_and_clear();
        }
        let results = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| (job.input.clone(), Err(why(i))))
            .collect();
        (results, None)
    };
    if let Some(broken) = passes.iter().position(Result::is_err) {
        let name = jobs[broken].input.name();
        let mut passes = passes;
        let error = passes.swap_remove(broken).err().expect("an error");
        let line = format!("{error:#}");
        return fail_all(&|i| {
            if i == broken {
                anyhow::anyhow!("{line}")
            } else {
                anyhow::anyhow!(
                    "{}: not mastered: the album's track {name} failed",
                    jobs[i].input.name()
                )
            }
        });
    }
    let tracks: Vec<Track> = passes.into_iter().map(|p| p.expect("checked")).collect();
    let plan = match album::plan(jobs, &tracks) {
        Ok(plan) => plan,
        Err(e) => {
            let line = format!("{e:#}");
            return fail_all(&|i| anyhow::anyhow!("{}: album: {line}", jobs[i].input.name()));
        }
    };
    let rendered: Vec<(Result<FileReport>, Option<ebur128::EbuR128>)> = plan
        .tracks
        .par_iter()
        .zip(&tracks)
        .zip(bars)
        .map(|((p, track), bar)| {
            let h = &track.analysis.heard;
            let mut meter = match master::album_meter(h.sample_rate, h.channels) {
                Ok(m) => m,
                Err(e) => return (Err(e), None),
            };
            let result = super::panics::guard(&p.job.input.name(), || {
                master::render_and_report(
                    &p.job,
                    &track.analysis,
                    p.targets,
                    p.calibration_rounds,
                    started,
                    bar,
                    Some(&mut meter),
                )
            });
            bar.finish_and_clear();
            overall.inc(1);
            (result, Some(meter))
        })
        .collect();
    let mut files = Vec::new();
    let mut meters = Vec::new();
    let mut results = Vec::new();
    for ((result, meter), job) in rendered.into_iter().zip(jobs) {
        if let (Ok(file), Some(m)) = (&result, meter) {
            files.push(file.clone());
            meters.push(m);
        }
        results.push((job.input.clone(), result));
    }
    let report = (files.len() == jobs.len())
        .then(|| AlbumReport::new(&plan, &files, &meters))
        .and_then(|r| r.map_err(|e| eprintln!("auralis: {e:#}")).ok());
    (results, report)
}

/// Where `--plot` draws a master written to `output`: the named file for a single input,
/// otherwise beside the output (`<output>.png`).
fn plot_path(plot: Option<&Path>, output: &Path, single: bool) -> Option<PathBuf> {
    plot.map(|p| {
        if single && !p.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            output.with_extension("png")
        }
    })
}

/// The inputs and where each master goes.
fn plan(args: &MasterArgs) -> Result<(Vec<Input>, Vec<PathBuf>)> {
    if args.demo {
        let dir = args.out_dir.clone().unwrap_or_else(|| PathBuf::from("."));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write_demo_original(&dir.join("auralis-demo.original.wav"), args.force)?;
        return Ok((
            vec![Input::Demo],
            vec![dir.join("auralis-demo.mastered.wav")],
        ));
    }
    let spec = match (&args.output, &args.out_dir) {
        (Some(file), None) => OutputSpec::File(file),
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            OutputSpec::Dir(dir)
        }
        _ => bail!("say where the masters go: -o OUT (one input) or --out-dir DIR"),
    };
    let outputs = plan_outputs_as(&args.inputs, spec, args.format.extension())?;
    let inputs = args.inputs.iter().cloned().map(Input::File).collect();
    Ok((inputs, outputs))
}

/// The demo mix as it is, beside its master, to compare.
fn write_demo_original(path: &Path, force: bool) -> Result<()> {
    let mut pass = Input::Demo.open()?;
    let mut buffers = vec![vec![0.0f32; (DEMO_SECONDS * DEMO_SAMPLE_RATE as f32) as usize]; 2];
    let n = pass.read(&mut buffers)?;
    let mut w = AtomicWavWriter::create(
        path,
        DEMO_SAMPLE_RATE,
        2,
        super::encode::OutputFormat::Wav24,
        force,
    )?;
    w.write(&[&buffers[0][..n], &buffers[1][..n]])?;
    w.finish()
}

/// Writes `value` as JSON to a temporary file beside `path`, then renames it into place.
fn write_json_atomically(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    super::encode::write_atomically(path, json.as_bytes(), true)
}
