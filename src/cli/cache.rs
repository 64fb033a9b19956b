//! `--cache DIR`: pass 1's measurements kept per input, so that mastering the same audio again
//! with other settings skips the analysis.
//!
//! An entry is keyed by a SHA-256 of the decoded audio (sample rate, channel count and every
//! sample's bits, so a re-encoded or re-tagged file with the same audio hits, and any change to
//! the audio misses) and by [`ANALYSIS_VERSION`] with the Auralis version. It holds what the
//! analyser measured over the whole input (the [`Measured`] features and the [`Fingerprint`]):
//! those depend on the audio alone, not on the controls (the controls turn them into targets
//! afterwards), which `tests/cli.rs` checks by comparing a cached master with other settings
//! against an uncached one. The excerpts the loudness calibration renders are cut again while
//! the audio is hashed (the same decoding pass), so an entry stays a few kilobytes.
//!
//! An entry that does not parse, names another version or key, or does not match the audio's
//! length is never trusted: it is ignored, the analysis runs, and the entry is rewritten
//! (atomically, as every output).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use ebur128::EbuR128;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::encode::write_atomically;
use super::source::Input;
use auralis::analysis::{Fingerprint, Measured};
use auralis::learn::{Excerpts, Heard};

/// Bumped whenever the analysis would measure the same audio differently: older entries then
/// miss.
pub const ANALYSIS_VERSION: u32 = 1;

/// One input's cached pass 1.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    analysis_version: u32,
    auralis_version: String,
    key: String,
    sample_rate: u32,
    channels: usize,
    frames: u64,
    measured: Measured,
    fingerprint: Fingerprint,
}

/// What one decoding pass over the input found: its key, and all but the measurements.
pub struct Hashed {
    pub key: String,
    sample_rate: u32,
    channels: usize,
    frames: u64,
    excerpts: Excerpts,
    pub non_finite_samples: u64,
    pub skipped_packets: u64,
    /// The meter given to [`hash`], having heard the whole input.
    pub album_meter: Option<EbuR128>,
}

/// Decodes `input` once: hashes its audio and cuts the calibration's excerpts (as pass 1 does),
/// feeding it to `album_meter` (made by `meter` for the input's rate and channels) if given.
pub fn hash(
    input: &Input,
    bar: &ProgressBar,
    meter: Option<&dyn Fn(u32, usize) -> Result<EbuR128>>,
) -> Result<Hashed> {
    let mut pass = input.open()?;
    let (sample_rate, channels) = (pass.sample_rate(), pass.channels());
    let mut album_meter = meter.map(|m| m(sample_rate, channels)).transpose()?;
    bar.set_length(pass.frames_hint().unwrap_or(0) * 2);
    let mut sha = Sha256::new();
    sha.update(sample_rate.to_le_bytes());
    sha.update((channels as u32).to_le_bytes());
    let mut excerpts = Excerpts::new(sample_rate, channels);
    // The block pass 1 reads in (the excerpts do not depend on it, but it keeps them alike).
    let mut buffers = vec![vec![0.0f32; 8192]; channels];
    let mut bytes = Vec::new();
    let mut frames = 0u64;
    loop {
        let n = pass.read(&mut buffers)?;
        if n == 0 {
            break;
        }
        bytes.clear();
        for i in 0..n {
            for b in &buffers {
                bytes.extend_from_slice(&b[i].to_bits().to_le_bytes());
            }
        }
        sha.update(&bytes);
        let block: Vec<&[f32]> = buffers.iter().map(|b| &b[..n]).collect();
        excerpts.push(&block);
        if let Some(m) = album_meter.as_mut() {
            m.add_frames_planar_f32(&block)
                .map_err(|e| anyhow!("loudness meter: {e:?}"))?;
        }
        frames += n as u64;
        bar.inc(n as u64);
    }
    let key: String = sha.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Hashed {
        key,
        sample_rate,
        channels,
        frames,
        excerpts,
        non_finite_samples: pass.nonfinite_samples(),
        skipped_packets: pass.skipped_packets(),
        album_meter,
    })
}

fn entry_path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("{key}.json"))
}

/// The measurements of a sound entry for `hashed` in `dir`, if there is one.
pub fn load(dir: &Path, hashed: &Hashed) -> Option<(Measured, Fingerprint)> {
    let text = std::fs::read_to_string(entry_path(dir, &hashed.key)).ok()?;
    let e: Entry = serde_json::from_str(&text).ok()?;
    let sound = e.analysis_version == ANALYSIS_VERSION
        && e.auralis_version == env!("CARGO_PKG_VERSION")
        && e.key == hashed.key
        && (e.sample_rate, e.channels, e.frames)
            == (hashed.sample_rate, hashed.channels, hashed.frames)
        && hashed.frames > 0;
    sound.then_some((e.measured, e.fingerprint))
}

impl Hashed {
    /// What pass 1 would have heard: the cached measurements with this decoding's excerpts.
    pub fn heard(&mut self, measured: Measured, fingerprint: Fingerprint) -> Heard {
        Heard {
            sample_rate: self.sample_rate,
            channels: self.channels,
            frames: self.frames,
            measured,
            fingerprint,
            excerpts: std::mem::replace(
                &mut self.excerpts,
                Excerpts::new(self.sample_rate, self.channels),
            ),
        }
    }
}

/// Stores what pass 1 `heard` as the entry for `key` in `dir` (replacing a stale one).
pub fn store(dir: &Path, key: &str, heard: &Heard) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let entry = Entry {
        analysis_version: ANALYSIS_VERSION,
        auralis_version: env!("CARGO_PKG_VERSION").to_owned(),
        key: key.to_owned(),
        sample_rate: heard.sample_rate,
        channels: heard.channels,
        frames: heard.frames,
        measured: heard.measured,
        fingerprint: heard.fingerprint,
    };
    let json = serde_json::to_string(&entry)?;
    write_atomically(&entry_path(dir, key), json.as_bytes(), true)
}
