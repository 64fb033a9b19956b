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

use crate::analysis::targets::{
    compressor_serves_loudness, derive_with, eq_loudness_change, loudness_compression, CompReason,
    LevelerReason, LOUDNESS_GAP_TOLERANCE_DB,
};
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
    // Measures only: the settings are derived once, from the whole pass ([`held_targets`]).
    let mut analyzer = Analyzer::new(sample_rate as f32, channels).measure_only();
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
    held_targets_with(heard, controls, reference, true)
}

/// [`held_targets`], with the compression for loudness (the third resort) or without it
/// (see [`derive_with`]).
fn held_targets_with(
    heard: &Heard,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
    compress_for_loudness: bool,
) -> Targets {
    let mut config = controls.analysis_config();
    config.analysis_mode = AnalysisMode::Hold;
    let mut t = derive_with(&heard.measured, &config, reference, compress_for_loudness);
    t.locked = true;
    t.reasons.motion = crate::analysis::targets::Motion::Held;
    t
}

/// The held targets with the leveler calibrated on the excerpts (see [`calibrate_leveler`]),
/// and the calibration's rounds.
pub fn calibrated_targets(
    heard: &Heard,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
) -> Result<(Targets, usize)> {
    let mut targets = held_targets(heard, controls, reference);
    let rounds = calibrate_leveler(heard, controls, reference, &mut targets)?;
    Ok((targets, rounds))
}

/// Whether the leveler must stay where the analysis capped it: with the limiter on, Max
/// Limiting is measured on the excerpts (and the render), and the analysis's estimate of where
/// the leveler reaches it is only the calibration's start; with it off, that estimate is all
/// there is between the peaks and the ceiling.
pub fn held_by_estimate(controls: &Controls, targets: &Targets) -> bool {
    !controls.limiter_enabled && targets.reasons.leveler == LevelerReason::CappedByLimiter
}

/// The least a compressor for loudness must bring the excerpts closer to the target to be
/// kept, LU: the loudness target's tolerance. Less is within what the excerpts cannot see: the
/// fastest peaks of the whole file, which the compressor's detector lets through and the
/// leveler's extra gain then pushes into the limiter.
pub const COMPRESSOR_GAIN_MIN_LU: f32 = 0.3;

/// Tunes `targets`' leveler gain on the excerpts `heard` kept (see [`calibrate`]), unless the
/// leveler is off; returns the calibration's rounds.
///
/// The analysis's rule counts on the leveler's gain reaching the loudness target as long as
/// the limiter stays within Max Limiting, but the limiter also takes back loudness. When the
/// calibration stops at Max Limiting short of the goal, the compressor takes its part as the
/// third resort, by the analysis's own rule ([`loudness_compression`], `CompReason::ForLoudness`)
/// for the gap the excerpts show, and the calibration runs again; the compressor stays only if
/// that brings the excerpts more than [`COMPRESSOR_GAIN_MIN_LU`] closer. Where it still
/// stops there, the leveler is reported capped (`LevelerReason::CappedByLimiter`) with the
/// shortfall the excerpts show, and the render does not push past it; where the target is
/// reached, it is reported reached, wherever the analysis's estimate put the cap.
///
/// The compressor the analysis itself asks for loudness (from its estimate, which does not
/// count what the limiter takes back) is weighed the same way: the calibration starts without
/// it (the compressor's settings `derive_with` gives without the third resort, for `reference`),
/// and a compressor for loudness is kept only where the measurement shows it helps. A
/// compressor whose detector misses the fast peaks takes the loudness down and leaves the
/// deepest peak where it was, so with Max Limiting held it can leave the music quieter.
pub fn calibrate_leveler(
    heard: &Heard,
    controls: &Controls,
    reference: Option<&ReferenceProfile>,
    targets: &mut Targets,
) -> Result<usize> {
    if !controls.leveler_enabled || targets.reasons.leveler == LevelerReason::Off {
        return Ok(0);
    }
    let no_boost = held_by_estimate(controls, targets);
    let run = |targets: &Targets| {
        calibrate(
            &heard.excerpts,
            heard.sample_rate,
            controls,
            targets,
            &heard.measured,
            targets.target_lufs,
            no_boost,
        )
    };
    if controls.limiter_enabled && targets.reasons.comp == CompReason::ForLoudness {
        let plain = held_targets_with(heard, controls, reference, false);
        targets.comp_threshold_db = plain.comp_threshold_db;
        targets.comp_ratio = plain.comp_ratio;
        targets.reasons.comp = plain.reasons.comp;
    }
    let mut c = run(targets)?;
    let mut rounds = c.rounds;
    let gap = targets.target_lufs - c.estimate_lufs;
    if c.held_by_limiter
        && gap > LOUDNESS_GAP_TOLERANCE_DB
        && compressor_serves_loudness(&controls.analysis_config(), targets.reasons.comp)
    {
        let m = &heard.measured;
        let eq_change = eq_loudness_change(&m.band_power, &targets.eq_gains_db);
        let (threshold, ratio, _) = loudness_compression(
            gap,
            targets.comp_threshold_db,
            targets.comp_ratio,
            m.programme_lufs + eq_change,
            m.peak_envelope_dbtp + eq_change,
        );
        if ratio > targets.comp_ratio {
            let mut compressed = *targets;
            compressed.comp_threshold_db = threshold.min(0.0);
            compressed.comp_ratio = ratio;
            compressed.reasons.comp = CompReason::ForLoudness;
            compressed.leveler_gain_db = c.leveler_gain_db;
            let again = run(&compressed)?;
            rounds += again.rounds;
            // Kept only where it brings the music measurably closer: a compressor that leaves
            // the loudness where it was (fast peaks its detector does not follow) is
            // processing for nothing.
            if again.estimate_lufs > c.estimate_lufs + COMPRESSOR_GAIN_MIN_LU {
                *targets = compressed;
                c = again;
            }
        }
    }
    targets.leveler_gain_db = c.leveler_gain_db;
    if c.held_by_limiter {
        targets.reasons.leveler = LevelerReason::CappedByLimiter;
        targets.loudness_shortfall_db = (targets.target_lufs - c.estimate_lufs).max(0.0);
    } else if !no_boost
        && c.rounds > 0
        && (targets.target_lufs - c.estimate_lufs).abs() <= LOUDNESS_GAP_TOLERANCE_DB
    {
        // Reached within Max Limiting, wherever the analysis's estimate put the cap.
        targets.reasons.leveler = LevelerReason::TowardTarget;
        targets.loudness_shortfall_db = 0.0;
    }
    Ok(rounds)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::pink;
    use crate::analysis::Listener;
    use crate::controls::Mode;
    use crate::dsp::biquad::{BiquadCoeffs, StereoBiquad};
    use crate::session::Session;

    const FS: u32 = 44_100;

    fn stereo_pink(seconds: f32) -> Vec<Vec<f32>> {
        let n = (FS as f32 * seconds) as usize;
        vec![pink(31, n, 0.25), pink(32, n, 0.25)]
    }

    fn filtered(audio: &[Vec<f32>], coeffs: &[BiquadCoeffs]) -> Vec<Vec<f32>> {
        let mut out = audio.to_vec();
        for c in coeffs {
            let mut f = StereoBiquad::new(*c);
            let mut refs: Vec<&mut [f32]> = out.iter_mut().map(|c| c.as_mut_slice()).collect();
            f.process(&mut refs);
        }
        out
    }

    fn heard(audio: &[Vec<f32>], controls: &Controls) -> Heard {
        let mut at = 0;
        listen(
            FS,
            audio.len(),
            controls,
            |b| {
                let n = b[0].len().min(audio[0].len() - at);
                for (o, c) in b.iter_mut().zip(audio) {
                    o[..n].copy_from_slice(&c[at..at + n]);
                }
                at += n;
                Ok(n)
            },
            |_| {},
        )
        .unwrap()
    }

    /// Renders `audio` through a session holding `targets` (as the command's pass 2 does),
    /// latency removed.
    fn render(audio: &[Vec<f32>], controls: &Controls, targets: &Targets) -> Vec<Vec<f32>> {
        render_limited(audio, controls, targets).0
    }

    /// [`render`], and the limiter's deepest gain reduction, dB.
    fn render_limited(
        audio: &[Vec<f32>],
        controls: &Controls,
        targets: &Targets,
    ) -> (Vec<Vec<f32>>, f32) {
        let mut session = Session::new(
            FS as f32,
            BLOCK,
            audio.len(),
            *controls,
            Listener::Fixed(*targets),
        );
        let latency = session.latency();
        let frames = audio[0].len();
        let mut out: Vec<Vec<f32>> = audio
            .iter()
            .map(|c| {
                let mut v = c.clone();
                v.resize(frames + latency, 0.0);
                v
            })
            .collect();
        let mut start = 0;
        let mut deepest = 0.0f32;
        while start < frames + latency {
            let end = (start + BLOCK).min(frames + latency);
            let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
            session.process(&mut block);
            deepest = deepest.max(session.engine().limiter_reduction_db());
            start = end;
        }
        (
            out.iter_mut().map(|c| c.split_off(latency)).collect(),
            deepest,
        )
    }

    /// Pink noise whose loudness swings slowly by 6 dB, as music's passages do.
    fn swinging_pink(seconds: f32) -> Vec<Vec<f32>> {
        let swing = |i: usize| 10f32.powf(-0.15 * (1.0 + (0.7 * i as f32 / FS as f32).sin()));
        stereo_pink(seconds)
            .into_iter()
            .map(|c| c.iter().enumerate().map(|(i, v)| v * swing(i)).collect())
            .collect()
    }

    /// Default controls with a loudness target and Max Limiting 2 dB.
    fn loud(target_lufs: f32) -> Controls {
        Controls {
            loudness_from_preset: false,
            target_lufs,
            max_limiting_db: 2.0,
            ..Controls::default()
        }
    }

    /// The loudest target the analysis's rule says the leveler reaches with the limiter at Max
    /// Limiting ([`loud`]'s 2 dB), for what `h` heard.
    fn reachable_within_max_limiting(h: &Heard) -> f32 {
        let (m, c) = (h.measured, loud(-14.0));
        m.programme_lufs + c.ceiling_dbtp + c.max_limiting_db - m.peak_envelope_dbtp
    }

    /// Healthy dynamics and Max Limiting 2 dB (noise limited by 2 dB already gives back part of
    /// each further dB, which the analysis's rule does not count):
    /// - a target the leveler reaches with the limiter well within Max Limiting: not compressed;
    /// - half a dB under the loudest target the rule says the leveler reaches within it: the
    ///   limiter would take more, so compressed, less than the firmest ratio, and the render
    ///   lands on the target under the ceiling with the limiter within Max Limiting;
    /// - two dB over it: out of reach even at the firmest ratio; the leveler is reported capped
    ///   with the shortfall the render shows, and the limiter stays within Max Limiting.
    #[test]
    fn healthy_music_short_of_a_loud_target_is_compressed_just_enough_to_reach_it() {
        use crate::analysis::targets::{CompReason, MAX_LOUDNESS_RATIO};
        use calibration::LIMITING_TOLERANCE_DB;
        let audio = swinging_pink(20.0);
        let h = heard(&audio, &loud(-14.0));
        let c = loud(-14.0);
        let allowed = c.max_limiting_db + LIMITING_TOLERANCE_DB;
        let reachable = reachable_within_max_limiting(&h);
        let outcome = |goal: f32| {
            let controls = loud(goal);
            let (t, _) = calibrated_targets(&h, &controls, None).unwrap();
            let (rendered, deepest) = render_limited(&audio, &controls, &t);
            (t, heard(&rendered, &controls).measured, deepest)
        };

        let (within, out, deepest) = outcome(reachable - 1.5);
        assert_eq!(within.comp_ratio, 1.0, "{:?}", within.reasons);
        assert_eq!(within.reasons.comp, CompReason::HealthyDynamics);
        assert_eq!(within.reasons.leveler, LevelerReason::TowardTarget);
        assert!((out.integrated_lufs - (reachable - 1.5)).abs() <= 0.3);
        assert!(deepest <= c.max_limiting_db, "{deepest} dB");

        let goal = reachable - 0.5;
        let (t, out, deepest) = outcome(goal);
        assert_eq!(t.reasons.comp, CompReason::ForLoudness, "{:?}", t.reasons);
        assert_eq!(t.reasons.leveler, LevelerReason::TowardTarget);
        assert!(t.comp_ratio > 1.0 && t.comp_ratio < MAX_LOUDNESS_RATIO);
        assert!(
            (out.integrated_lufs - goal).abs() <= 0.3,
            "{} LUFS for {goal}",
            out.integrated_lufs
        );
        assert!(
            out.true_peak_dbtp <= c.ceiling_dbtp,
            "{} dBTP",
            out.true_peak_dbtp
        );
        assert!(deepest <= allowed, "limiter {deepest} dB");

        let goal = reachable + 2.0;
        let (t, out, deepest) = outcome(goal);
        assert_eq!(t.reasons.comp, CompReason::ForLoudness, "{:?}", t.reasons);
        assert_eq!(t.reasons.leveler, LevelerReason::CappedByLimiter);
        assert_eq!(t.comp_ratio, MAX_LOUDNESS_RATIO);
        let shortfall = goal - out.integrated_lufs;
        assert!(shortfall > 1.0, "{} LUFS for {goal}", out.integrated_lufs);
        assert!(
            (t.loudness_shortfall_db - shortfall).abs() <= 0.3,
            "reported {} dB, rendered {shortfall} dB short",
            t.loudness_shortfall_db
        );
        assert!(
            out.true_peak_dbtp <= c.ceiling_dbtp,
            "{} dBTP",
            out.true_peak_dbtp
        );
        assert!(deepest <= allowed, "limiter {deepest} dB");
    }

    /// Steady pink noise has no slow swing for a compressor to take out: on it the compressor's
    /// peak-to-loudness gain is a few per cent of its reduction, under what the analysis's rule
    /// counts on. Asked for a target 3 dB over what the leveler reaches within Max Limiting, the
    /// rule calls the compressor in; the measurement does not keep it, since it brings the
    /// loudness less than [`COMPRESSOR_GAIN_MIN_LU`] closer. The leveler is reported capped,
    /// and the render is no quieter than with the compressor.
    #[test]
    fn a_compressor_that_does_not_bring_the_loudness_closer_is_not_kept() {
        use crate::analysis::targets::CompReason;
        let audio = stereo_pink(20.0);
        let h = heard(&audio, &loud(-14.0));
        let m = h.measured;
        let controls = loud(reachable_within_max_limiting(&h) + 3.0);
        let asked = held_targets(&h, &controls, None);
        assert_eq!(
            asked.reasons.comp,
            CompReason::ForLoudness,
            "{:?}",
            asked.reasons
        );
        let (t, _) = calibrated_targets(&h, &controls, None).unwrap();
        assert_ne!(t.reasons.comp, CompReason::ForLoudness, "{:?}", t.reasons);
        assert_eq!(t.comp_ratio, 1.0);
        assert_eq!(t.reasons.leveler, LevelerReason::CappedByLimiter);
        // The analysis's compressor, calibrated the same way from its own start.
        let mut with_compressor = asked;
        let heard_with = super::calibration::calibrate(
            &h.excerpts,
            FS,
            &controls,
            &with_compressor,
            &m,
            controls.target_lufs,
            false,
        )
        .unwrap();
        with_compressor.leveler_gain_db = heard_with.leveler_gain_db;
        let plain = heard(&render(&audio, &controls, &t), &controls).measured;
        let compressed = heard(&render(&audio, &controls, &with_compressor), &controls).measured;
        assert!(
            plain.integrated_lufs > compressed.integrated_lufs - COMPRESSOR_GAIN_MIN_LU,
            "{} LUFS without, {} with the compressor",
            plain.integrated_lufs,
            compressed.integrated_lufs
        );
    }

    fn reference_controls() -> Controls {
        Controls {
            mode: Mode::Reference,
            ..Controls::default()
        }
    }

    /// Mean absolute difference of two profiles' shapes over the bands from 100 Hz to 12 kHz
    /// (Bark bands 1..=22), each normalised to its own mean there.
    fn shape_distance(a: &ReferenceProfile, b: &ReferenceProfile) -> f32 {
        let band = 1..=22;
        let mean = |p: &ReferenceProfile| band.clone().map(|k| p.curve_db[k]).sum::<f32>() / 22.0;
        let (ma, mb) = (mean(a), mean(b));
        band.clone()
            .map(|k| ((a.curve_db[k] - ma) - (b.curve_db[k] - mb)).abs())
            .sum::<f32>()
            / 22.0
    }

    #[test]
    fn reference_equal_to_the_input_asks_no_eq() {
        let audio = stereo_pink(20.0);
        let controls = reference_controls();
        let h = heard(&audio, &controls);
        let reference =
            ReferenceProfile::from_measured(&heard(&audio, &Controls::default()).measured);
        let t = held_targets(&h, &controls, Some(&reference));
        for (b, g) in t.eq_gains_db.iter().enumerate() {
            assert!(g.abs() <= 0.1, "band {b}: {g} dB");
        }
    }

    /// A broad shelf (and a level drop) is undone by reference mode at its default controls
    /// (Match Tone 100 %, EQ Amount 70 %): the rendered output's shape is within 0.2 dB (mean over
    /// 100 Hz-12 kHz) of the reference's.
    #[test]
    fn reference_mode_undoes_broad_shelves() {
        let original = stereo_pink(20.0);
        let fs = FS as f64;
        let controls = reference_controls();
        let reference =
            ReferenceProfile::from_measured(&heard(&original, &Controls::default()).measured);
        for (name, shelves) in [
            (
                "dull",
                vec![BiquadCoeffs::high_shelf(3000.0, 0.707, -6.0, fs)],
            ),
            (
                "thin",
                vec![BiquadCoeffs::low_shelf(250.0, 0.707, -6.0, fs)],
            ),
            (
                "tilted",
                vec![
                    BiquadCoeffs::low_shelf(200.0, 0.707, 3.0, fs),
                    BiquadCoeffs::high_shelf(2500.0, 0.707, -3.0, fs),
                ],
            ),
        ] {
            let mut degraded = filtered(&original, &shelves);
            for c in degraded.iter_mut() {
                for s in c.iter_mut() {
                    *s *= 0.5;
                }
            }
            let h = heard(&degraded, &controls);
            let before = ReferenceProfile::from_measured(&h.measured);
            let t = held_targets(&h, &controls, Some(&reference));
            let out = render(&degraded, &controls, &t);
            let after =
                ReferenceProfile::from_measured(&heard(&out, &Controls::default()).measured);
            let (was, is) = (
                shape_distance(&before, &reference),
                shape_distance(&after, &reference),
            );
            assert!(was > 0.5, "{name}: the shelf must be audible ({was} dB)");
            assert!(is <= 0.2, "{name}: {was:.2} dB -> {is:.2} dB");
        }
    }
}
