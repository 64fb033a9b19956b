//! Learning a whole recording, as the command's pass 1 does and as the editor's "learn from a
//! file" and `auralis learn` do: the analysis hears everything (as Learn mode hears it), the
//! rules are applied once to the whole pass's measurements (the held targets), and the leveler's
//! gain is calibrated through the engine on excerpts kept while listening (see
//! [`calibration`]), so a render with the held targets lands on the loudness target.
//!
//! Sits beside [`crate::session`]: it drives the same engine, and the command, the plugin's
//! editor and the tests call it alike.

pub mod calibration;

use std::path::Path;

use anyhow::{bail, Result};

use crate::analysis::targets::{derive, LevelerReason};
use crate::analysis::{AnalysisMode, Analyzer, Fingerprint, Measured, ReferenceProfile, Targets};
use crate::audio_file::AudioReader;
use crate::controls::Controls;
pub use calibration::{calibrate, Calibration, Excerpts};

/// Frames processed at a time by the calibration (with held targets the output does not
/// depend on it).
pub const BLOCK: usize = 4096;

/// What listening to a whole recording found.
pub struct Heard {
    pub sample_rate: u32,
    pub channels: usize,
    pub frames: u64,
    pub measured: Measured,
    pub fingerprint: Fingerprint,
    /// Evenly spaced excerpts, for the loudness calibration.
    pub excerpts: Excerpts,
}

/// Listens to a whole recording with `controls`' choices, as Learn mode hears it (integrated
/// loudness, whole-pass averages). `read` fills planar buffers and returns the frames read (0
/// at the end); `progress` is told how many frames each read brought.
pub fn listen(
    sample_rate: u32,
    channels: usize,
    controls: &Controls,
    mut read: impl FnMut(&mut [Vec<f32>]) -> Result<usize>,
    mut progress: impl FnMut(u64),
) -> Result<Heard> {
    let mut analyzer = Analyzer::new(sample_rate as f32, channels);
    let mut config = controls.analysis_config();
    config.analysis_mode = AnalysisMode::Learn;
    analyzer.set_config(config);
    let mut excerpts = Excerpts::new(sample_rate, channels);
    let mut buffers = vec![vec![0.0f32; 8192]; channels];
    let mut frames = 0u64;
    loop {
        let n = read(&mut buffers)?;
        if n == 0 {
            break;
        }
        let block: Vec<&[f32]> = buffers.iter().map(|b| &b[..n]).collect();
        analyzer.push(&block);
        excerpts.push(&block);
        frames += n as u64;
        progress(n as u64);
    }
    if frames == 0 {
        bail!("no audio");
    }
    Ok(Heard {
        sample_rate,
        channels,
        frames,
        measured: analyzer.measured(),
        fingerprint: analyzer.fingerprint(),
        excerpts,
    })
}

/// The settings for the whole recording: the analysis's rules applied once to the whole pass's
/// measurements (no rate limits: nothing needs to glide when the end is known). The same
/// function Hold applies to what Learn heard ([`Analyzer::learned`]).
pub fn held_targets(
    heard: &Heard,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
) -> Targets {
    let mut config = controls.analysis_config();
    config.analysis_mode = AnalysisMode::Hold;
    let mut t = derive(&heard.measured, &config, reference);
    t.locked = true;
    t.reasons.motion = crate::analysis::targets::Motion::Held;
    t
}

/// The held targets with the leveler calibrated on the excerpts (see [`calibrate`]), and the
/// calibration's rounds.
pub fn calibrated_targets(
    heard: &Heard,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
) -> Result<(Targets, usize)> {
    let mut targets = held_targets(heard, controls, reference);
    if !controls.leveler_enabled || targets.reasons.leveler == LevelerReason::Off {
        return Ok((targets, 0));
    }
    let capped = targets.reasons.leveler == LevelerReason::CappedByLimiter;
    let calibration = calibrate(
        &heard.excerpts,
        heard.sample_rate,
        controls,
        &targets,
        heard.measured.integrated_lufs,
        targets.target_lufs,
        capped,
    )?;
    targets.leveler_gain_db = calibration.leveler_gain_db;
    Ok((targets, calibration.rounds))
}

/// Learns a whole audio file: decodes it, listens, and returns the calibrated held targets
/// (what the command's two-pass master renders with) and what was heard.
pub fn learn_file(
    path: &Path,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
) -> Result<(Targets, Heard)> {
    let mut reader = AudioReader::open(path)?;
    let (sample_rate, channels) = (reader.sample_rate(), reader.channels());
    let heard = listen(sample_rate, channels, controls, |b| reader.read(b), |_| {})?;
    let (targets, _) = calibrated_targets(&heard, controls, reference)?;
    Ok((targets, heard))
}
