//! `auralis master --album` on a real record, with and without `--cache`.
//!
//! ```sh
//! cargo bench --bench album                 # the three tracks in /work/shared/audio
//! AURALIS_ALBUM_DIR=~/music/record cargo bench --bench album
//! ```
//!
//! Times, as wall seconds of the whole command (decode, analyse, decide, render, encode), an
//! album of every audio file in the folder: without a cache; with an empty cache (the analysis
//! runs and is stored); and again with the cache filled (pass 1's analysis skipped). Checks
//! that the cached album's files are the uncached album's, byte for byte. The music is not a
//! test dependency: with no such folder the bench says so and stops.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_auralis");

fn tracks(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| ["ogg", "flac", "wav", "mp3", "aiff"].contains(&e))
        })
        .collect();
    files.sort();
    files
}

/// Runs the album into `out`, with `extra` flags; the wall seconds.
fn album(tracks: &[PathBuf], out: &Path, extra: &[&str]) -> f64 {
    let started = Instant::now();
    let status = Command::new(BIN)
        .args(["master", "--album", "--force", "--out-dir"])
        .arg(out)
        .args(tracks)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run auralis");
    assert!(status.success(), "auralis master --album failed");
    started.elapsed().as_secs_f64()
}

fn main() {
    let dir = std::env::var_os("AURALIS_ALBUM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/audio"));
    let tracks = tracks(&dir);
    if tracks.is_empty() {
        println!(
            "album: no audio files in {} (set AURALIS_ALBUM_DIR)",
            dir.display()
        );
        return;
    }
    let work = tempfile::tempdir().expect("temporary folder");
    let cache = work.path().join("cache");
    let cache_flag = cache.to_str().expect("a UTF-8 path");
    let (plain, cold, warm) = (
        work.path().join("plain"),
        work.path().join("cold"),
        work.path().join("warm"),
    );
    let without = album(&tracks, &plain, &[]);
    let empty = album(&tracks, &cold, &["--cache", cache_flag]);
    let filled = album(&tracks, &warm, &["--cache", cache_flag]);
    for t in &tracks {
        let name = format!("{}.mastered.wav", t.file_stem().unwrap().to_string_lossy());
        let a = std::fs::read(plain.join(&name)).unwrap();
        let b = std::fs::read(warm.join(&name)).unwrap();
        assert!(a == b, "{name}: the cached master differs");
    }
    println!(
        "album of {} tracks in {}: {without:.2} s without a cache, {empty:.2} s with an empty \
         one, {filled:.2} s from the cache ({:.0} % of the uncached time); cached masters \
         identical",
        tracks.len(),
        dir.display(),
        100.0 * filled / without
    );
}
