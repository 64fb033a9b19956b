//! `auralis analyze FILE`: the loudness report and the 25-value fingerprint of a file.

use std::process::ExitCode;

use anyhow::Result;
use indicatif::ProgressBar;
use serde::Serialize;

use super::master::analyse;
use super::source::Input;
use super::AnalyzeArgs;
use auralis::analysis::fingerprint::NAMES;
use auralis::analysis::Fingerprint;
use auralis::controls::Controls;

#[derive(Serialize)]
struct AnalyzeReport {
    file: String,
    sample_rate: u32,
    channels: usize,
    seconds: f64,
    integrated_lufs: f32,
    lra_lu: f32,
    true_peak_dbtp: f32,
    plr_db: f32,
    correlation: f32,
    tilt_db_per_octave: f32,
    fingerprint: Fingerprint,
}

pub fn run(args: &AnalyzeArgs) -> Result<ExitCode> {
    let input = Input::File(args.file.clone());
    let a = analyse(&input, &Controls::default(), &ProgressBar::hidden())?;
    let h = &a.heard;
    let m = &h.measured;
    let report = AnalyzeReport {
        file: input.name(),
        sample_rate: h.sample_rate,
        channels: h.channels,
        seconds: h.frames as f64 / h.sample_rate as f64,
        integrated_lufs: m.integrated_lufs,
        lra_lu: m.lra_lu,
        true_peak_dbtp: m.true_peak_dbtp,
        plr_db: m.true_peak_dbtp - m.integrated_lufs,
        correlation: m.correlation,
        tilt_db_per_octave: m.tilt_db_per_oct,
        fingerprint: h.fingerprint,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{}: {:.1} s, {} Hz, {} channel{}\n  integrated {:.1} LUFS, LRA {:.1} LU, true peak \
             {:.1} dBTP, PLR {:.1} dB, correlation {:.2}, tilt {:.2} dB/oct\n  fingerprint:",
            report.file,
            report.seconds,
            report.sample_rate,
            report.channels,
            if report.channels == 1 { "" } else { "s" },
            report.integrated_lufs,
            report.lra_lu,
            report.true_peak_dbtp,
            report.plr_db,
            report.correlation,
            report.tilt_db_per_octave,
        );
        for (name, value) in NAMES.iter().zip(h.fingerprint.to_array()) {
            println!("    {name:<28} {value:>10.3}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
