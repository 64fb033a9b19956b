//! The whole master against one true-peak limiter: `auralis master IN -o OUT --jobs 1` and x42's
//! dpl limiter (true peak on) streamed by Debian's `lv2file` over the same file, side by side in
//! one run on one core (`taskset -c 1`), the median of 3 wall times each, interleaved.
//!
//! ```sh
//! cargo bench --bench master_speed
//! ```
//!
//! The input is the three tracks of `../shared/audio` (real music, 44.1 kHz stereo) one after
//! the other, written as a 32-bit float WAV. The bench installs `lv2file` and `x42-plugins` with
//! apt when they are missing (tests never need them). The figure is the ratio of the two times;
//! nothing is asserted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_auralis");
const X42: &str = "http://gareus.org/oss/lv2/dpl#stereo";
const ROUNDS: usize = 3;

fn x42_available() -> bool {
    let have = || {
        Command::new("lv2file")
            .arg("-l")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(X42))
            .unwrap_or(false)
    };
    if have() {
        return true;
    }
    eprintln!("installing lv2file and x42-plugins with apt-get ...");
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-q", "lv2file", "x42-plugins"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    have()
}

/// The shared tracks one after the other, as a float WAV; returns its path and duration (s).
fn input(dir: &Path) -> Option<(PathBuf, f64)> {
    let audio = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/audio");
    let mut tracks: Vec<PathBuf> = std::fs::read_dir(&audio)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ogg"))
        .collect();
    tracks.sort();
    let path = dir.join("record.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).ok()?;
    let mut frames = 0usize;
    for t in &tracks {
        let (rate, ch) = common::decode(t);
        if rate != 44_100 {
            eprintln!("{}: {rate} Hz, skipped", t.display());
            continue;
        }
        let right = ch.get(1).unwrap_or(&ch[0]);
        for (&l, &r) in ch[0].iter().zip(right) {
            w.write_sample(l).ok()?;
            w.write_sample(r).ok()?;
        }
        frames += ch[0].len();
    }
    w.finalize().ok()?;
    (frames > 0).then_some((path, frames as f64 / 44_100.0))
}

/// Wall time of `cmd` pinned to core 1, in seconds; panics with its stderr if it fails.
fn timed(program: &str, args: &[&str]) -> f64 {
    let start = Instant::now();
    let out = Command::new("taskset")
        .args(["-c", "1", program])
        .args(args)
        .output()
        .expect("taskset runs");
    let t = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    t
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = common::target_dir().join("master-speed");
    std::fs::create_dir_all(&dir).unwrap();
    let Some((record, seconds)) = input(&dir) else {
        eprintln!("no tracks in ../shared/audio: nothing to measure");
        return;
    };
    let peer = x42_available();
    if !peer {
        eprintln!("lv2file or x42-plugins unavailable: Auralis alone");
    }
    let rec = record.to_str().unwrap();
    let out = dir.join("mastered.wav");
    let x42_out = dir.join("x42.wav");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let _ = std::fs::remove_file(&out);
        ours.push(timed(
            BIN,
            &["master", rec, "-o", out.to_str().unwrap(), "--jobs", "1"],
        ));
        if peer {
            let _ = std::fs::remove_file(&x42_out);
            theirs.push(timed(
                "lv2file",
                &[
                    "-i",
                    rec,
                    "-o",
                    x42_out.to_str().unwrap(),
                    "-p",
                    "gain:0",
                    "-p",
                    "threshold:-1",
                    "-p",
                    "truepeak:1",
                    "--ignore-clipping",
                    X42,
                ],
            ));
        }
    }
    println!(
        "{:.1} min of 44.1 kHz stereo, one core, median of {ROUNDS}",
        seconds / 60.0
    );
    let a = median(ours);
    println!(
        "auralis master --jobs 1     {a:>6.2} s  ({:.0}x realtime)",
        seconds / a
    );
    if peer {
        let x = median(theirs);
        println!(
            "x42 dpl alone (TP on)       {x:>6.2} s  ({:.0}x realtime)",
            seconds / x
        );
        println!(
            "whole master speed / x42 dpl speed: {:.2}x (goal 2x)",
            x / a
        );
    }
}
