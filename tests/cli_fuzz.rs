//! Damaged input files never panic the `auralis` command: each is mastered (if it still decodes)
//! or reported on one line, and the rest of the batch completes. The files are made here: small
//! WAV (16/24-bit, float), FLAC, and MP3-, Ogg- and AIFF-like files, truncated, with bytes
//! flipped, with extreme header fields, or pure noise, from a seeded generator.
//!
//! `AURALIS_CLI_FUZZ_CASES` sets the number of damaged files (default 500, which include one that
//! panicked symphonia's WAV reader in debug builds before the command caught panics).

#[path = "support/flac.rs"]
mod flac;

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_auralis");

/// A seeded xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A short stereo or mono tone.
fn tone(frames: usize, channels: usize) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            (0..frames)
                .map(|n| 0.5 * (n as f32 * (0.03 + 0.01 * c as f32)).sin())
                .collect()
        })
        .collect()
}

fn wav(path: &Path, bits: u16, float: bool, channels: usize, rate: u32, frames: usize) {
    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let signal = tone(frames, channels);
    for n in 0..frames {
        for c in &signal {
            if float {
                w.write_sample(c[n]).unwrap();
            } else {
                let scale = ((1i64 << (bits - 1)) - 1) as f32;
                w.write_sample((c[n] * scale) as i32).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

/// Valid seed files, as bytes with their extension.
fn seeds(dir: &Path) -> Vec<(Vec<u8>, &'static str)> {
    let mut out = Vec::new();
    let frames = 12_000;
    for (i, (bits, float, channels, rate)) in [
        (16, false, 2, 44_100),
        (24, false, 1, 48_000),
        (32, true, 2, 22_050),
        (8, false, 1, 8_000),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.join(format!("seed{i}.wav"));
        wav(&path, bits, float, channels, rate, frames);
        out.push((std::fs::read(&path).unwrap(), "wav"));
    }
    let path = dir.join("seed.flac");
    flac::write_flac(&path, &tone(frames, 2), 44_100);
    out.push((std::fs::read(&path).unwrap(), "flac"));
    out
}

/// A file that only looks like `ext`: the magic, plausible headers, then noise.
fn lookalike(rng: &mut Rng) -> (Vec<u8>, &'static str) {
    match rng.below(3) {
        0 => {
            // ID3v2 tag, then MPEG-1 layer III frame headers over noise.
            let mut b = b"ID3\x03\x00\x00\x00\x00\x00\x0a".to_vec();
            b.extend(rng.bytes(10));
            for _ in 0..1 + rng.below(40) {
                b.extend([0xFF, 0xFB, 0x90, 0x64]);
                let len = rng.below(600);
                b.extend(rng.bytes(len));
            }
            (b, "mp3")
        }
        1 => {
            let mut b = Vec::new();
            for seq in 0..1 + rng.below(5) as u32 {
                b.extend(b"OggS\x00");
                b.push(if seq == 0 { 2 } else { 0 });
                b.extend(rng.bytes(8)); // granule
                b.extend([1, 0, 0, 0]); // serial
                b.extend(seq.to_le_bytes());
                b.extend(rng.bytes(4)); // CRC (wrong)
                let segments = 1 + rng.below(8);
                b.push(segments as u8);
                let sizes = rng.bytes(segments);
                let total: usize = sizes.iter().map(|&s| s as usize).sum();
                b.extend(&sizes);
                if seq == 0 {
                    b.extend(b"\x01vorbis");
                }
                b.extend(rng.bytes(total));
            }
            (b, "ogg")
        }
        _ => {
            let mut b = b"FORM".to_vec();
            b.extend(rng.bytes(4));
            b.extend(b"AIFFCOMM\x00\x00\x00\x12");
            b.extend(rng.bytes(18));
            b.extend(b"SSND");
            let len = rng.below(4000);
            b.extend((len as u32 + 8).to_be_bytes());
            b.extend([0; 8]);
            b.extend(rng.bytes(len));
            (b, "aiff")
        }
    }
}

/// One damaged file from `seeds`.
fn damaged(rng: &mut Rng, seeds: &[(Vec<u8>, &'static str)]) -> (Vec<u8>, &'static str, String) {
    let (seed, ext) = &seeds[rng.below(seeds.len())];
    let mut b = seed.clone();
    let kind = rng.below(7);
    let what = match kind {
        0 => {
            let at = rng.below(b.len());
            b.truncate(at);
            format!("truncated to {at}")
        }
        1 => {
            for _ in 0..1 + rng.below(20) {
                let at = rng.below(b.len());
                b[at] = rng.next() as u8;
            }
            "bytes changed".into()
        }
        2 => {
            // Header bytes (the first 64) set to extremes.
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(64.min(b.len()));
                b[at] = [0x00, 0xFF, 0x7F, 0x80][rng.below(4)];
            }
            "header extremes".into()
        }
        3 => {
            let at = rng.below(b.len());
            let len = rng.below(2000);
            let junk = rng.bytes(len);
            b.splice(at..at, junk);
            format!("{len} bytes inserted at {at}")
        }
        4 => {
            let from = rng.below(b.len());
            let to = (from + rng.below(5000)).min(b.len());
            b.drain(from..to);
            format!("bytes {from}..{to} removed")
        }
        5 => {
            let (l, ext) = lookalike(rng);
            return (l, ext, "lookalike".into());
        }
        _ => {
            let len = rng.below(5000);
            return (rng.bytes(len), ext, "noise".into());
        }
    };
    (b, ext, what)
}

/// Batches of damaged files, each with one good file: the command never panics (exit code 0 or
/// 1, never 101, no "panicked"), reports each failure on one line naming the file, masters the
/// good file every time, and leaves no temporary file.
#[test]
fn damaged_files_never_panic_the_command_and_the_batch_completes() {
    let cases: usize = std::env::var("AURALIS_CLI_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let seeds = seeds(dir.path());
    let good = dir.path().join("good.wav");
    wav(&good, 16, false, 2, 44_100, 12_000);
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let per_batch = 30;
    let mut failed_total = 0;
    let mut internal = Vec::new();
    let mut case = 0;
    while case < cases {
        let batch = dir.path().join(format!("batch{case}"));
        std::fs::create_dir(&batch).unwrap();
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for i in 0..per_batch.min(cases - case) {
            let (bytes, ext, what) = damaged(&mut rng, &seeds);
            let path = batch.join(format!("case{}.{ext}", case + i));
            std::fs::write(&path, bytes).unwrap();
            files.push((path, what));
        }
        case += files.len();
        let out_dir = batch.join("out");
        let mut args: Vec<&str> = vec!["master", "--out-dir", out_dir.to_str().unwrap()];
        args.extend(["--jobs", "2"]);
        args.push(good.to_str().unwrap());
        args.extend(files.iter().map(|(p, _)| p.to_str().unwrap()));
        let run = Command::new(BIN).args(&args).output().expect("run auralis");
        let stderr = String::from_utf8_lossy(&run.stderr);
        let code = run.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)) && !stderr.contains("panicked"),
            "batch {case}: exit {code:?}:\n{stderr}\nfiles: {files:?}"
        );
        assert!(
            out_dir.join("good.mastered.wav").is_file(),
            "batch {case}: the good file was not mastered:\n{stderr}"
        );
        internal.extend(
            stderr
                .lines()
                .filter(|l| l.contains("internal error"))
                .map(str::to_owned),
        );
        for (path, what) in &files {
            let name = path.file_name().unwrap().to_str().unwrap();
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let mastered = out_dir.join(format!("{stem}.mastered.wav")).is_file();
            let lines = stderr.lines().filter(|l| l.contains(name)).count();
            if mastered {
                assert_eq!(lines, 0, "{name} ({what}) mastered and reported:\n{stderr}");
            } else {
                failed_total += 1;
                assert_eq!(
                    lines, 1,
                    "{name} ({what}) neither mastered nor reported on one line:\n{stderr}"
                );
            }
        }
        for entry in std::fs::read_dir(&out_dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name.ends_with(".mastered.wav"),
                "batch {case}: {name} left behind"
            );
        }
    }
    eprintln!(
        "{cases} damaged files: {failed_total} reported ({} of them panics caught), the rest \
         mastered",
        internal.len()
    );
    for line in &internal {
        eprintln!("  {line}");
    }
}
