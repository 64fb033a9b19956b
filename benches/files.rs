//! Whole-file figures: the analysis alone, and the `auralis` command end to end.
//!
//! ```sh
//! cargo bench --bench files
//! ```
//!
//! - analysis of a 5-minute 48 kHz stereo track offline (seconds), and as a share of one core
//!   when it runs in realtime beside the audio;
//! - `auralis master` on a 5-minute 44.1 kHz stereo WAV (decode, analyse, render, encode), on one
//!   core and with `--jobs 2`, and a batch of 10 such files;
//! - peak memory of `auralis master` on a 10-minute track (measured by GNU time, Debian
//!   package `time`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use auralis::analysis::Analyzer;

const BIN: &str = env!("CARGO_BIN_EXE_auralis");

/// Programme-like stereo audio, sample by sample: beats, a bass line, a tone, noise.
struct Programme {
    fs: f32,
    i: usize,
    seed: u32,
}

impl Programme {
    fn new(sample_rate: u32) -> Self {
        Self {
            fs: sample_rate as f32,
            i: 0,
            seed: 0x2468_ace1,
        }
    }

    fn noise(&mut self) -> f32 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 17;
        self.seed ^= self.seed << 5;
        self.seed as f32 / u32::MAX as f32 - 0.5
    }

    fn next_frame(&mut self) -> [f32; 2] {
        let t = self.i as f32 / self.fs;
        let beat = (self.fs * 0.5) as usize;
        let env = (-((self.i % beat) as f32) / (0.04 * self.fs)).exp();
        let hit = 0.5 * env * self.noise();
        let tone = 0.15 * (std::f32::consts::TAU * 55.0 * t).sin()
            + 0.05 * (std::f32::consts::TAU * 440.0 * t).sin();
        self.i += 1;
        [
            hit + tone + 0.01 * self.noise(),
            hit * 0.8 + tone + 0.01 * self.noise(),
        ]
    }
}

/// Writes `seconds` of the programme as a 24-bit WAV, generated as it is written: the bench
/// process stays small, so the peak memory measured for the child is the child's own.
fn write_wav(path: &Path, seconds: f32, sample_rate: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut p = Programme::new(sample_rate);
    for _ in 0..(seconds * sample_rate as f32) as usize {
        for x in p.next_frame() {
            w.write_sample((x.clamp(-1.0, 1.0) * 8_388_607.0) as i32)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Runs the command under GNU time and returns (wall seconds, the command's own peak resident
/// memory in MiB, as `time` reports it).
fn run(args: &[&str]) -> (f64, f64) {
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(BIN)
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("run auralis under /usr/bin/time (Debian package `time`)");
    let wall = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "auralis failed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kib: f64 = stderr
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("peak memory from /usr/bin/time");
    (wall, kib / 1024.0)
}

fn main() {
    // The analysis, offline, over 5 minutes at 48 kHz.
    let mut p = Programme::new(48_000);
    let frames: Vec<[f32; 2]> = (0..300 * 48_000).map(|_| p.next_frame()).collect();
    let five: [Vec<f32>; 2] = [
        frames.iter().map(|f| f[0]).collect(),
        frames.iter().map(|f| f[1]).collect(),
    ];
    drop(frames);
    let mut best = f64::MAX;
    for _ in 0..3 {
        let mut a = Analyzer::new(48_000.0, 2);
        let start = Instant::now();
        for (l, r) in five[0].chunks(512).zip(five[1].chunks(512)) {
            a.push(&[l, r]);
        }
        std::hint::black_box(a.targets());
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("analysis of 5 min at 48 kHz stereo, offline     {best:>7.2} s");
    println!(
        "analysis in realtime at 48 kHz stereo           {:>7.2} % of one core",
        best / 300.0 * 100.0
    );
    drop(five);

    let dir = tempfile::tempdir().unwrap();
    let track = dir.path().join("track.wav");
    write_wav(&track, 300.0, 44_100);
    let t = |s: &Path| s.to_str().unwrap().to_string();
    let out = dir.path().join("out.wav");
    for jobs in ["1", "2"] {
        let (wall, mem) = run(&[
            "master",
            &t(&track),
            "-o",
            &t(&out),
            "--force",
            "--jobs",
            jobs,
        ]);
        println!(
            "auralis master, 5 min 44.1 kHz, --jobs {jobs}         {wall:>7.2} s ({:.0}x realtime, {mem:.0} MiB peak)",
            300.0 / wall
        );
    }
    let batch_dir = dir.path().join("batch");
    std::fs::create_dir_all(&batch_dir).unwrap();
    let mut names = Vec::new();
    for i in 0..10 {
        let p = batch_dir.join(format!("t{i}.wav"));
        std::fs::copy(&track, &p).unwrap();
        names.push(t(&p));
    }
    let masters = dir.path().join("masters");
    for jobs in ["1", "2"] {
        let mut args = vec!["master".to_string()];
        args.extend(names.iter().cloned());
        args.extend(["--out-dir", &t(&masters), "--force", "--jobs", jobs].map(String::from));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (wall, mem) = run(&args);
        println!(
            "auralis master, 10 x 5 min, --jobs {jobs}             {wall:>7.2} s ({:.0}x realtime, {mem:.0} MiB peak)",
            3000.0 / wall
        );
    }
    std::fs::remove_dir_all(&batch_dir).unwrap();
    std::fs::remove_dir_all(&masters).unwrap();

    let long = dir.path().join("long.wav");
    write_wav(&long, 600.0, 44_100);
    let (wall, mem) = run(&["master", &t(&long), "-o", &t(&out), "--force"]);
    println!(
        "auralis master, 10 min track                   {wall:>7.2} s, peak memory {mem:.0} MiB"
    );
}
