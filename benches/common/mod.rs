//! What the real-music benchmarks share: decoding a file, and the corpus the restoration and
//! corridor benchmarks use (Debian packages of finished productions, installed when missing,
//! never committed), with the Python helper (`benches/restoration.py`) in a virtual environment
//! of its own under the target directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use auralis::audio_file::AudioReader;

/// A whole audio file decoded to planar f32: its sample rate and one vector per channel.
pub fn decode(path: &Path) -> (u32, Vec<Vec<f32>>) {
    let mut reader = AudioReader::open(path).expect("readable audio");
    let channels = reader.channels();
    let mut out = vec![Vec::new(); channels];
    let mut buf = vec![vec![0.0f32; 8192]; channels];
    loop {
        let n = reader.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for (o, b) in out.iter_mut().zip(&buf) {
            o.extend_from_slice(&b[..n]);
        }
    }
    (reader.sample_rate(), out)
}

/// Orchestral productions (Ogg Vorbis).
pub const WESNOTH: &str = "/usr/share/games/wesnoth/1.16/data/core/music";
/// Electronic productions (Opus).
pub const WARZONE: &str = "/usr/share/games/warzone2100/music";

/// Wesnoth tracks (orchestral) and Warzone 2100 tracks (electronic) the restoration bench
/// takes, evenly spaced in each sorted list.
pub const WESNOTH_TRACKS: usize = 6;
pub const WARZONE_TRACKS: usize = 4;

pub fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{:?}: {e}", cmd.get_program()));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

/// `<target>`: a bench binary runs from `<target>/release/deps/`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Installs the corpus's Debian packages if missing (`apt-get install -y`).
pub fn ensure_packages() {
    for package in ["wesnoth-1.16-music", "warzone2100-music"] {
        if !succeeds(Command::new("dpkg").args(["-s", package])) {
            eprintln!("installing {package} (apt-get install -y)");
            run(Command::new("apt-get")
                .args(["install", "-y", package])
                .env("DEBIAN_FRONTEND", "noninteractive"));
        }
    }
}

/// The helper's Python, with Matchering 2 (and through it soundfile), installed if missing.
pub fn ensure_python(target: &Path) -> PathBuf {
    let venv = target.join("restoration-venv");
    let python = venv.join("bin/python");
    if !succeeds(Command::new(&python).args(["-c", "import matchering"])) {
        eprintln!("installing matchering into {}", venv.display());
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv));
        run(Command::new(&python).args(["-m", "pip", "install", "-q", "matchering"]));
    }
    python
}

pub fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/restoration.py")
}

fn list(dir: &Path, ext: &str, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                if !skip.iter().any(|s| name.contains(s)) {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}

/// Every orchestral track (jingles and menus left out), sorted.
pub fn orchestral() -> Vec<PathBuf> {
    list(
        Path::new(WESNOTH),
        "ogg",
        &["defeat", "victory", "silence", "main_menu"],
    )
}

/// Every electronic track (menus left out), sorted.
pub fn electronic() -> Vec<PathBuf> {
    list(Path::new(WARZONE), "opus", &["menu"])
}

/// `count` files of a sorted list, evenly spaced.
pub fn evenly(files: &[PathBuf], count: usize) -> Vec<PathBuf> {
    let n = files.len();
    let count = count.min(n);
    (0..count).map(|i| files[i * n / count].clone()).collect()
}

/// The restoration bench's tracks.
pub fn bench_tracks() -> Vec<PathBuf> {
    let mut files = evenly(&orchestral(), WESNOTH_TRACKS);
    files.extend(evenly(&electronic(), WARZONE_TRACKS));
    files
}

/// Cuts the middle `seconds` of each source into `dir` as float WAV (see the helper); returns
/// the excerpts written (sources shorter than `seconds` are skipped).
pub fn excerpts(python: &Path, seconds: f32, dir: &Path, sources: &[PathBuf]) -> Vec<PathBuf> {
    let out = Command::new(python)
        .arg(helper())
        .arg("excerpt")
        .arg(seconds.to_string())
        .arg(dir)
        .args(sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect()
}
