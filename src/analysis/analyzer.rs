//! The streaming [`Analyzer`]: buffers pushed audio into fixed hops, runs every extractor once
//! per hop and keeps rate-limited [`Targets`] up to date.
//!
//! Hop and frame sizes depend only on the sample rate (512/2048 samples up to 64 kHz, doubled
//! per octave above), so results do not depend on how the audio is chunked: pushing the same
//! samples in blocks of 64 or 4096 gives bitwise identical targets.
//!
//! Allocation: everything is allocated in [`Analyzer::new`]. [`Analyzer::push`],
//! [`Analyzer::targets`], [`Analyzer::measured`], [`Analyzer::fingerprint`],
//! [`Analyzer::set_config`], [`Analyzer::set_reference`] and [`Analyzer::reset`] allocate
//! nothing: the `ebur128` meter runs in histogram mode (bounded memory, no growth), `realfft`
//! runs with preallocated scratch, and every other state is a fixed-size array or a `Vec` sized
//! in `new` (checked by a counting allocator in `tests/no_alloc.rs` of the scratch crate).
//!
//! Cost: 5 minutes of 48 kHz stereo take about 1.2 s of CPU in release on the development
//! machine; a little over half of it is `ebur128` (4x oversampled true peak ~27 %, 400 ms gating
//! blocks every 100 ms ~15 %, K-weighting ~12 %).

use super::config::{AnalysisConfig, AnalysisMode};
use super::dynamics::Dynamics;
use super::fingerprint::Fingerprint;
use super::loudness::{LoudnessMeter, ABSOLUTE_GATE_LUFS};
use super::measured::Measured;
use super::reference::ReferenceProfile;
use super::rhythm::Rhythm;
use super::spectrum::{density_db, tilt_db_per_oct, Spectrum, RANGES};
use super::stereo_image::StereoImage;
use super::targets::{derive, Motion, RateLimits, Targets, MIN_GATED_SECONDS};
use super::{one_pole, power_to_db};
use crate::dsp::lanes;
use crate::dsp::MAX_CHANNELS;

/// Short-term loudness under which the targets freeze as a quiet passage, LUFS.
pub const QUIET_GATE_LUFS: f32 = -50.0;
/// A passage this many LU under the programme loudness also freezes the targets.
pub const RELATIVE_QUIET_LU: f32 = 20.0;
/// Short-term loudness this far under the programme loudness does not count in its average, LU
/// (BS.1770's relative gate).
pub const RELATIVE_GATE_LU: f32 = 10.0;
/// Short-term loudness this far above the programme loudness raises the programme to this far
/// under it at once, LU (a short-term reading rarely sits more than 3-4 LU above a song's
/// integrated loudness).
pub const JUMP_LU: f32 = 4.0;
/// With nothing heard the leveler boosts at most this much, dB; the limit opens linearly to
/// the full range as confidence grows. A quiet intro is not yet the programme.
pub const EARLY_BOOST_DB: f32 = 6.0;
/// Time constant of the continuous programme-loudness average, seconds.
pub const PROGRAMME_TAU_S: f32 = 30.0;
/// Time constant with which the robust peak envelope decays toward lower block peaks, seconds.
pub const PEAK_RELEASE_TAU_S: f32 = 20.0;

/// Of this pass's learned targets and an earlier pass's, the one that heard more music.
fn prefer(own: Option<Targets>, prior: Option<Targets>) -> Option<Targets> {
    match (own, prior) {
        (Some(o), Some(p)) if o.measured.gated_seconds < p.measured.gated_seconds => Some(p),
        (o, p) => o.or(p),
    }
}

/// Hop size in samples for a sample rate.
pub fn hop_for(sample_rate: f32) -> usize {
    if sample_rate <= 64_000.0 {
        512
    } else if sample_rate <= 128_000.0 {
        1024
    } else {
        2048
    }
}

/// Streaming analyser. See the module docs.
pub struct Analyzer {
    sample_rate: f32,
    channels: usize,
    hop: usize,
    frame_rate: f32,
    buf: [Vec<f32>; MAX_CHANNELS],
    fill: usize,
    mono: Vec<f32>,
    loudness: LoudnessMeter,
    spectrum: Spectrum,
    stereo: StereoImage,
    dynamics: Dynamics,
    rhythm: Rhythm,
    config: AnalysisConfig,
    reference: Option<ReferenceProfile>,
    limits: RateLimits,
    programme_energy: f32,
    programme_n: u32,
    programme_a: f32,
    hops_per_block: usize,
    block_hops: usize,
    block_peak: f32,
    block_active: bool,
    peak_env_db: f32,
    peak_a: f32,
    gated_hops: u64,
    hops_seen: u64,
    targets: Targets,
    /// What Learn learned in this pass, refreshed every hop while learning.
    learned: Option<Targets>,
    /// What an earlier pass learned (a previous activation at another rate, a reloaded
    /// project): held by Hold until this pass has learned something of its own.
    prior: Option<Targets>,
    /// Measures without deriving targets each hop (see [`Analyzer::measure_only`]).
    measure_only: bool,
}

/// Lives here, not in `reference`: the profile is a value made from [`Measured`], and only this
/// offline helper needs the analyser (keeps `reference` below `analyzer` and `targets`).
impl ReferenceProfile {
    /// Analyses a whole track offline (planar channels). Allocates (builds an [`Analyzer`]).
    pub fn analyse(sample_rate: f32, channels: &[&[f32]]) -> Self {
        let mut a = Analyzer::new(sample_rate, channels.len()).measure_only();
        a.push(channels);
        Self::from_measured(&a.measured())
    }
}

impl Analyzer {
    /// An analyser for `channels` (1 or 2; more are ignored) at `sample_rate` Hz.
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        let sample_rate = sample_rate.clamp(8_000.0, 768_000.0);
        let channels = channels.clamp(1, MAX_CHANNELS);
        let hop = hop_for(sample_rate);
        let fft_size = 4 * hop;
        let frame_rate = sample_rate / hop as f32;
        let hops_per_block = (frame_rate.round() as usize).max(1);
        Self {
            sample_rate,
            channels,
            hop,
            frame_rate,
            buf: std::array::from_fn(|_| vec![0.0; hop]),
            fill: 0,
            mono: vec![0.0; fft_size],
            loudness: LoudnessMeter::new(sample_rate.round() as u32, channels),
            spectrum: Spectrum::new(sample_rate, fft_size, hop),
            stereo: StereoImage::new(sample_rate, hop),
            dynamics: Dynamics::new(frame_rate),
            rhythm: Rhythm::new(frame_rate),
            config: AnalysisConfig::default(),
            reference: None,
            limits: RateLimits::default(),
            programme_energy: 0.0,
            programme_n: 0,
            programme_a: one_pole(1.0 / frame_rate, PROGRAMME_TAU_S),
            hops_per_block,
            block_hops: 0,
            block_peak: 0.0,
            block_active: false,
            peak_env_db: -200.0,
            peak_a: one_pole(hops_per_block as f32 / frame_rate, PEAK_RELEASE_TAU_S),
            gated_hops: 0,
            hops_seen: 0,
            targets: Targets::neutral(),
            learned: None,
            prior: None,
            measure_only: false,
        }
    }

    /// An analyser that only measures: [`Self::measured`] and [`Self::fingerprint`] as always,
    /// but no targets derived hop by hop (they stay neutral, nothing is learned). For whole-file
    /// passes whose caller derives the settings once from the end's measurements (the command's
    /// pass 1, a reference file): deriving twice a hop was half of such a pass's time.
    pub fn measure_only(mut self) -> Self {
        self.measure_only = true;
        self
    }

    /// The sample rate, Hz.
    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }
    /// The number of channels analysed.
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// The fixed hop, samples.
    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Sets the user's choices.
    ///
    /// - Entering Learn starts a fresh pass: every measurement is cleared and from then on
    ///   averaged over everything heard (plain means, integrated loudness), as the command's
    ///   pass 1 does over a whole file. Learn never locks early: it keeps learning until Hold.
    /// - Entering Hold from Learn holds the learned targets: the rules applied once to the whole
    ///   pass's measurements, without the glide that was still under way (so they equal the
    ///   command's held targets for the same audio). From Continuous, Hold keeps what plays.
    pub fn set_config(&mut self, config: AnalysisConfig) {
        let was = self.config.analysis_mode;
        let now = config.analysis_mode;
        self.config = config;
        if was == now {
            return;
        }
        match now {
            AnalysisMode::Learn => {
                // Learning anew: what an earlier pass learned gives way.
                self.reset_measurements();
                self.prior = None;
            }
            AnalysisMode::Hold if was == AnalysisMode::Learn => {
                if let Some(learned) = prefer(self.learn_now(), self.prior) {
                    self.targets = learned;
                }
            }
            _ => {}
        }
        if now == AnalysisMode::Hold {
            self.targets.reasons.motion = Motion::Held;
        }
        let whole_pass = now != AnalysisMode::Continuous;
        self.spectrum.set_whole_pass(whole_pass);
        self.stereo.set_whole_pass(whole_pass);
        self.dynamics.set_whole_pass(whole_pass);
    }

    /// What Learn has learned so far, as Hold would hold it: the rules applied to the whole
    /// pass's measurements, or what an earlier pass learned (see [`Analyzer::set_prior`]) while
    /// this pass has heard less music than it did: nothing learned is dropped for less.
    pub fn learned(&self) -> Option<Targets> {
        prefer(self.learned, self.prior)
    }

    /// What an earlier pass learned (set after the choices: entering Learn clears it), kept
    /// for Hold until this pass has heard as much.
    pub fn set_prior(&mut self, prior: Option<Targets>) {
        self.prior = prior;
    }

    /// The rules applied to this pass's measurements as Hold would hold them: the command's
    /// held targets after its pass 1.
    fn learn_now(&self) -> Option<Targets> {
        let m = self.measured();
        if m.gated_seconds < MIN_GATED_SECONDS {
            return None;
        }
        let mut config = self.config;
        config.analysis_mode = AnalysisMode::Hold;
        let mut t = derive(&m, &config, self.reference.as_ref());
        t.reasons.motion = Motion::Held;
        Some(t)
    }

    /// The current choices.
    pub fn config(&self) -> AnalysisConfig {
        self.config
    }
    /// Sets (or clears) the reference used in reference and hybrid modes.
    pub fn set_reference(&mut self, reference: Option<ReferenceProfile>) {
        self.reference = reference;
    }
    /// The reference in use.
    pub fn reference(&self) -> Option<ReferenceProfile> {
        self.reference
    }
    /// Sets the targets' maximum speeds.
    pub fn set_rate_limits(&mut self, limits: RateLimits) {
        self.limits = limits;
    }

    /// Analyses planar audio: `channels[c][i]`, all channels of equal length (a missing second
    /// channel repeats the first; extra channels are ignored). Non-finite samples count as 0.
    pub fn push(&mut self, channels: &[&[f32]]) {
        let Some(first) = channels.first() else {
            return;
        };
        let len = first.len();
        let mut pos = 0;
        while pos < len {
            let n = (self.hop - self.fill).min(len - pos);
            for c in 0..self.channels {
                let src = channels.get(c).copied().unwrap_or(first);
                let src = &src[pos.min(src.len())..(pos + n).min(src.len())];
                let dst = &mut self.buf[c][self.fill..self.fill + n];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = if s.is_finite() { *s } else { 0.0 };
                }
                // A shorter channel is padded with silence.
                for d in dst.iter_mut().skip(src.len()) {
                    *d = 0.0;
                }
            }
            self.fill += n;
            pos += n;
            if self.fill == self.hop {
                self.fill = 0;
                self.process_hop();
            }
        }
    }

    fn process_hop(&mut self) {
        let hop = self.hop;
        let [b0, b1] = &self.buf;
        let left = &b0[..hop];
        let right = if self.channels > 1 { &b1[..hop] } else { left };

        // Only the block's highest true peak is kept: stretches under the block's peak so far
        // need no interpolation.
        let block_tp = if self.channels > 1 {
            self.loudness.add_above(&[left, right], self.block_peak)
        } else {
            self.loudness.add_above(&[left], self.block_peak)
        };
        let short_term = self.loudness.short_term();
        let momentary = self.loudness.momentary();
        let programme = self.programme_lufs();
        // Silence shows within the 400 ms momentary window, quiet passages on the short-term.
        let silent = momentary < ABSOLUTE_GATE_LUFS || short_term < ABSOLUTE_GATE_LUFS;
        // What the long-term measures (spectrum, crest) hear: everything but silence and what
        // lies far under the programme. Relative only, so a mix turned down is measured as it
        // was: an absolute gate would drop a quiet orchestral passage from a copy 6 dB lower.
        let heard =
            !silent && (self.programme_n == 0 || short_term > programme - RELATIVE_QUIET_LU);
        // The targets also freeze under the absolute quiet gate.
        let active = heard && short_term > QUIET_GATE_LUFS;

        // Spectrum of the mid signal (L+R)/2 over the last fft_size samples.
        self.mono.copy_within(hop.., 0);
        let start = self.mono.len() - hop;
        for ((m, l), r) in self.mono[start..].iter_mut().zip(left).zip(right) {
            *m = 0.5 * (l + r);
        }
        let peak = lanes::max_abs(left).max(lanes::max_abs(right));
        let ms = (lanes::dot(left, left) + lanes::dot(right, right)) / (2 * hop) as f32;
        self.spectrum.process(&self.mono, heard);
        self.stereo.process(left, right, heard);
        let onset = self.rhythm.push(self.spectrum.frame.flux);
        // The 3 s short-term window is full only 3 s after the start (or a reset).
        self.hops_seen = self.hops_seen.saturating_add(1);
        let window_full = self.hops_seen as f32 >= 3.0 * self.frame_rate;
        let st = window_full.then_some(short_term);
        self.dynamics.process(peak, ms, st, heard, onset);

        if active {
            self.gated_hops += 1;
        }
        // The programme average leaves out what lies more than RELATIVE_GATE_LU under it, as
        // BS.1770's integrated loudness does: quiet passages would otherwise pull it down and
        // the leveler would push the loud ones over the target.
        let above_gate = self.programme_n == 0 || short_term > programme - RELATIVE_GATE_LU;
        // A section much louder than the programme so far (the body after a quiet intro)
        // raises the programme at once: the leveler must not push the loud part by what the
        // quiet one asked for while a long average slowly catches up.
        if active && window_full && self.programme_n > 0 && short_term > programme + JUMP_LU {
            self.programme_energy = 10f32.powf(0.1 * (short_term - JUMP_LU));
        }
        if active && window_full && above_gate {
            self.programme_n = self.programme_n.saturating_add(1);
            let a = self.programme_a.max(1.0 / self.programme_n as f32);
            self.programme_energy += a * (10f32.powf(0.1 * short_term) - self.programme_energy);
        }
        self.block_peak = self.block_peak.max(block_tp);
        self.block_active |= active;
        self.block_hops += 1;
        if self.block_hops == self.hops_per_block {
            if self.block_active {
                let p = crate::dsp::gain_to_db(self.block_peak);
                self.peak_env_db = if p > self.peak_env_db {
                    p
                } else {
                    self.peak_env_db + self.peak_a * (p - self.peak_env_db)
                };
            }
            self.block_hops = 0;
            self.block_peak = 0.0;
            self.block_active = false;
        }

        if !self.measure_only {
            self.update_targets(silent, active);
        }
    }

    fn programme_lufs(&self) -> f32 {
        if self.programme_n == 0 {
            // Until the 3 s window is full, the gated loudness of what was heard.
            self.loudness.integrated()
        } else {
            power_to_db(self.programme_energy)
        }
    }

    /// The current measurements.
    pub fn measured(&self) -> Measured {
        let usable = self.spectrum.usable_bands();
        let levels = density_db(&self.spectrum.band_slow);
        let integrated = self.loudness.integrated();
        let programme = match self.config.analysis_mode {
            AnalysisMode::Continuous => self.programme_lufs(),
            AnalysisMode::Learn | AnalysisMode::Hold => integrated,
        };
        Measured {
            integrated_lufs: integrated,
            programme_lufs: programme,
            short_term_lufs: self.loudness.short_term(),
            momentary_lufs: self.loudness.momentary(),
            lra_lu: self.loudness.range(),
            true_peak_dbtp: self.loudness.true_peak_db(),
            peak_envelope_dbtp: self.peak_env_db,
            crest_db: self.dynamics.crest_db(),
            correlation: self.stereo.correlation(),
            side_mid_ratio: self.stereo.side_mid_ratio(),
            band_levels_db: levels,
            band_power: self.spectrum.band_slow,
            tilt_db_per_oct: tilt_db_per_oct(&levels, usable),
            gated_seconds: self.gated_hops as f32 / self.frame_rate,
            usable_bands: usable as u8,
        }
    }

    fn update_targets(&mut self, silent: bool, active: bool) {
        let m = self.measured();
        let dt = 1.0 / self.frame_rate;
        let cur = self.targets;
        let motion = if self.config.analysis_mode == AnalysisMode::Hold {
            Motion::Held
        } else if silent {
            Motion::FrozenSilence
        } else if !active {
            Motion::FrozenQuiet
        } else if self.config.analysis_mode == AnalysisMode::Learn {
            Motion::Learning
        } else {
            Motion::Following
        };
        if self.config.analysis_mode == AnalysisMode::Learn {
            if let Some(learned) = self.learn_now() {
                self.learned = Some(learned);
            }
        }
        if matches!(motion, Motion::Following | Motion::Learning) {
            let mut raw = derive(&m, &self.config, self.reference.as_ref());
            let boost_limit = EARLY_BOOST_DB + (24.0 - EARLY_BOOST_DB) * raw.confidence;
            raw.leveler_gain_db = raw.leveler_gain_db.min(boost_limit);
            // Fast while little has been heard, settling to the steady speeds as confidence
            // grows (see `RateLimits::at_confidence`).
            let limits = self
                .limits
                .at_confidence(cur.confidence.min(raw.confidence));
            let mut next = limits.step(&cur, &raw, dt);
            next.locked = false;
            next.reasons.motion = motion;
            self.targets = next;
        } else if motion == Motion::Held {
            // Held targets stay exactly as held, measurements included (the multiband
            // thresholds follow the measured band powers): a held bounce is the same in any
            // mode and however the analysis thread is scheduled.
            self.targets.reasons.motion = motion;
        } else {
            self.targets.measured = m;
            self.targets.confidence =
                (m.gated_seconds / super::targets::FULL_CONFIDENCE_SECONDS).clamp(0.0, 1.0);
            self.targets.reasons.motion = motion;
        }
    }

    /// The current (rate-limited) targets.
    pub fn targets(&self) -> Targets {
        self.targets
    }

    /// Continues from `targets`: used to restore held targets saved with a project, so a bounce
    /// in hold mode uses them from its first sample.
    pub fn hold(&mut self, targets: Targets) {
        self.targets = targets;
        self.targets.reasons.motion = Motion::Held;
    }

    /// Starts learning afresh (clears the measurements, keeps the current targets playing).
    pub fn relearn(&mut self) {
        self.reset_measurements();
    }

    /// The 25-value fingerprint of what has been analysed.
    pub fn fingerprint(&self) -> Fingerprint {
        let s = &self.spectrum;
        let total: f32 = s.ranges_slow.iter().sum();
        let shares: [f32; RANGES] = std::array::from_fn(|r| {
            if total > 0.0 {
                s.ranges_slow[r] / total
            } else {
                0.0
            }
        });
        let bass = s.ranges_slow[0] + s.ranges_slow[1];
        let mid = s.ranges_slow[2] + s.ranges_slow[3] + s.ranges_slow[4];
        Fingerprint {
            sub_20_60: shares[0],
            bass_60_250: shares[1],
            low_mid_250_500: shares[2],
            mid_500_2k: shares[3],
            upper_mid_2k_4k: shares[4],
            presence_4k_8k: shares[5],
            air_8k_20k: shares[6],
            loudness_lufs: self.loudness.integrated(),
            crest_db: self.dynamics.crest_db(),
            bass_mid_ratio_db: power_to_db(bass) - power_to_db(mid),
            tempo_bpm: self.rhythm.tempo_bpm(),
            rhythm_stability: self.rhythm.stability(),
            transient_density: self.dynamics.transient_density(),
            silence_ratio: self.dynamics.silence_ratio(),
            centroid_hz: s.summary.centroid_hz,
            rolloff_hz: s.summary.rolloff_hz,
            flatness: s.summary.flatness,
            harmonic_ratio: s.summary.tonal_ratio,
            pitch_stability: s.summary.pitch_stability,
            chroma_energy: s.summary.chroma_focus,
            dynamic_range_variation_db: self.dynamics.dynamic_range_variation_db(),
            loudness_variation_lu: self.dynamics.loudness_variation_lu(),
            peak_consistency: self.dynamics.peak_consistency(),
            stereo_width: self.stereo.width(),
            phase_correlation: self.stereo.correlation(),
        }
    }

    /// Clears every measurement and returns the targets to neutral (keeps config and reference).
    pub fn reset(&mut self) {
        self.reset_measurements();
        self.targets = Targets::neutral();
    }

    /// Clears every measurement; the targets in force stay until the new ones move them.
    fn reset_measurements(&mut self) {
        self.fill = 0;
        self.mono.fill(0.0);
        self.loudness.reset();
        self.spectrum.reset();
        self.stereo.reset();
        self.dynamics.reset();
        self.rhythm.reset();
        self.programme_energy = 0.0;
        self.programme_n = 0;
        self.block_hops = 0;
        self.block_peak = 0.0;
        self.block_active = false;
        self.peak_env_db = -200.0;
        self.gated_hops = 0;
        self.hops_seen = 0;
        self.targets.confidence = 0.0;
        self.learned = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::config::Preset;
    use crate::analysis::targets::{EqReason, LevelerReason, Motion};
    use crate::analysis::test_signals::*;

    #[test]
    fn measuring_only_measures_exactly_what_the_full_analysis_does() {
        let l: Vec<f32> = pink(7, 48_000 * 6, 0.3)
            .iter()
            .zip(sine(48_000, 80.0, -12.0, 6.0))
            .map(|(a, b)| a + b)
            .collect();
        let r = pink(8, l.len(), 0.25);
        let cfg = AnalysisConfig {
            analysis_mode: AnalysisMode::Learn,
            ..AnalysisConfig::default()
        };
        let mut full = Analyzer::new(48_000.0, 2);
        let mut only = Analyzer::new(48_000.0, 2).measure_only();
        full.set_config(cfg);
        only.set_config(cfg);
        for (cl, cr) in l.chunks(1_000).zip(r.chunks(1_000)) {
            full.push(&[cl, cr]);
            only.push(&[cl, cr]);
        }
        assert_eq!(only.measured(), full.measured());
        assert_eq!(only.fingerprint(), full.fingerprint());
        // The full analysis derived and learned; the measuring one did not.
        assert!(full.learned().is_some());
        assert!(only.learned().is_none());
        assert_eq!(only.targets(), Targets::neutral());
        assert_ne!(full.targets(), Targets::neutral());
    }

    fn run(l: &[f32], r: &[f32], chunk: usize, cfg: AnalysisConfig) -> Analyzer {
        let mut a = Analyzer::new(48_000.0, 2);
        a.set_config(cfg);
        for (x, y) in l.chunks(chunk).zip(r.chunks(chunk)) {
            a.push(&[x, y]);
        }
        a
    }

    #[test]
    fn chunking_does_not_change_the_targets_bitwise() {
        let l = pink(1, 48_000 * 12, 0.5);
        let r = white(2, 48_000 * 12, 0.2);
        let cfg = AnalysisConfig::default();
        let a = run(&l, &r, 64, cfg).targets();
        let b = run(&l, &r, 4096, cfg).targets();
        let c = run(&l, &r, 1000, cfg).targets();
        assert!(a.measured.gated_seconds > 5.0);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!(format!("{a:?}"), format!("{c:?}"));
        let bits = |t: &Targets| -> Vec<u32> {
            let mut v: Vec<u32> = t.eq_gains_db.iter().map(|x| x.to_bits()).collect();
            v.extend(
                [
                    t.comp_threshold_db,
                    t.comp_ratio,
                    t.leveler_gain_db,
                    t.width,
                ]
                .map(f32::to_bits),
            );
            v
        };
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn white_noise_gets_its_highs_cut() {
        // (A dull mix is boosted only where it has the content: see the corridor tests in
        // `targets`.)
        let w = white(3, 48_000 * 20, 0.3);
        let w2 = white(4, 48_000 * 20, 0.3);
        let t = run(&w, &w2, 4096, AnalysisConfig::default()).targets();
        assert_eq!(t.reasons.eq, EqReason::BackIntoCorridor);
        for b in 18..23 {
            assert!(
                t.eq_gains_db[b] < -1.0,
                "white band {b}: {:?}",
                t.eq_gains_db
            );
        }
        assert!(t.eq_gains_db.iter().all(|g| g.abs() <= 6.0));
    }

    #[test]
    fn other_sample_rates_measure_alike() {
        for fs in [44_100u32, 96_000] {
            let p = pink(21, fs as usize * 12, 1.0);
            let mut a = Analyzer::new(fs as f32, 1);
            a.push(&[&p]);
            let m = a.measured();
            assert_eq!(a.hop(), if fs == 96_000 { 1024 } else { 512 });
            assert!(
                (m.tilt_db_per_oct + 3.0).abs() < 0.5,
                "{fs}: {}",
                m.tilt_db_per_oct
            );
            let s = sine(fs, 1000.0, -20.0, 5.0);
            let mut a = Analyzer::new(fs as f32, 2);
            a.push(&[&s, &s]);
            assert!((a.measured().integrated_lufs + 20.0).abs() < 0.1);
        }
    }

    #[test]
    fn silence_freezes_the_targets() {
        let x = pink(6, 48_000 * 10, 0.5);
        let mut a = run(&x, &x, 512, AnalysisConfig::default());
        // Silence is seen within the 400 ms momentary window.
        let z = vec![0.0f32; 48_000];
        a.push(&[&z, &z]);
        let before = a.targets();
        let z = vec![0.0f32; 48_000 * 5];
        a.push(&[&z, &z]);
        let after = a.targets();
        assert_eq!(after.reasons.motion, Motion::FrozenSilence);
        assert_eq!(before.eq_gains_db, after.eq_gains_db);
        assert_eq!(before.leveler_gain_db, after.leveler_gain_db);
        // A quiet passage 30 dB down freezes too (after the short-term window has seen it).
        let q: Vec<f32> = x.iter().map(|v| v * 0.03).collect();
        a.push(&[&q[..48_000 * 4], &q[..48_000 * 4]]);
        let before = a.targets();
        a.push(&[&q[48_000 * 4..], &q[48_000 * 4..]]);
        assert_eq!(a.targets().reasons.motion, Motion::FrozenQuiet);
        assert_eq!(before.leveler_gain_db, a.targets().leveler_gain_db);
    }

    #[test]
    fn targets_move_no_faster_than_the_rate_limits() {
        // Far under the target: the leveler moves as fast as it may, each hop.
        let x = pink(7, 48_000 * 20, 0.05);
        let mut a = Analyzer::new(48_000.0, 2);
        let limits = RateLimits::default();
        let dt = a.hop() as f32 / 48_000.0;
        let mut before = a.targets();
        let mut fastest = 0.0f32;
        for chunk in x.chunks(a.hop()) {
            a.push(&[chunk, chunk]);
            let after = a.targets();
            let step = (after.leveler_gain_db - before.leveler_gain_db).abs();
            let allowed = limits.at_confidence(before.confidence).leveler_db_per_s
                * dt
                * crate::analysis::targets::LEVELER_DOWN_FACTOR;
            assert!(step <= allowed * 1.0001 + 1e-6, "{step} > {allowed}");
            for (g, h) in after.eq_gains_db.iter().zip(&before.eq_gains_db) {
                let allowed = limits.at_confidence(before.confidence).eq_db_per_s * dt;
                assert!((g - h).abs() <= allowed * 1.0001 + 1e-6);
            }
            fastest = fastest.max(step / dt);
            before = after;
        }
        // Fast while little has been heard, the steady speed once confident.
        assert!(fastest > 5.0, "{fastest}");
        assert_eq!(limits.at_confidence(1.0), limits);
        assert!(before.leveler_gain_db > 15.0, "{}", before.leveler_gain_db);
    }

    #[test]
    fn learn_keeps_learning_the_whole_pass_and_hold_takes_what_it_learned() {
        // A quiet intro, then a louder and brighter body: Learn must not lock on the intro.
        let intro = lowpass(&pink(8, 48_000 * 8, 0.05), 48_000, 2_000.0, 2);
        let body = white(9, 48_000 * 30, 0.2);
        let cfg = AnalysisConfig {
            analysis_mode: AnalysisMode::Learn,
            preset: Preset::Gentle,
            ..AnalysisConfig::default()
        };
        let mut a = Analyzer::new(48_000.0, 2);
        a.set_config(cfg);
        a.push(&[&intro, &intro]);
        let after_intro = a.learned().expect("learned from the intro");
        a.push(&[&body, &body]);
        let t = a.targets();
        assert_eq!(t.reasons.motion, Motion::Learning);
        assert!(!t.locked);
        let learned = a.learned().unwrap();
        assert!(
            learned.leveler_gain_db < after_intro.leveler_gain_db - 6.0,
            "the body did not count: {} then {}",
            after_intro.leveler_gain_db,
            learned.leveler_gain_db
        );
        // Integrated over the whole pass, like BS.1770 over the whole file.
        let mut meter = LoudnessMeter::new(48_000, 2);
        meter.add(&[&intro, &intro]);
        meter.add(&[&body, &body]);
        assert!((learned.measured.programme_lufs - meter.integrated()).abs() < 0.05);
        // Hold takes the learned targets at once, not the glide still under way: exactly what
        // the rules give on the whole pass's measurements.
        a.set_config(AnalysisConfig {
            analysis_mode: AnalysisMode::Hold,
            ..cfg
        });
        let held = a.targets();
        assert_eq!(held.reasons.motion, Motion::Held);
        assert_eq!(held.eq_gains_db, learned.eq_gains_db);
        assert_eq!(held.leveler_gain_db, learned.leveler_gain_db);
        let hold_cfg = AnalysisConfig {
            analysis_mode: AnalysisMode::Hold,
            ..cfg
        };
        let direct = derive(&a.measured(), &hold_cfg, None);
        assert_eq!(direct.leveler_gain_db, held.leveler_gain_db);
        // Held targets do not move with more music.
        let y = white(10, 48_000 * 5, 0.5);
        a.push(&[&y, &y]);
        assert_eq!(a.targets().eq_gains_db, held.eq_gains_db);
        assert_eq!(a.targets().leveler_gain_db, held.leveler_gain_db);
        // Learning again starts a fresh pass.
        a.set_config(cfg);
        assert!(a.learned().is_none());

        // The spectrum is the mean of every active frame: 15 s of a dull mix still weigh
        // against the bright 15 s after them, where an 8 s one-pole has forgotten them.
        let dull = lowpass(&pink(12, 48_000 * 15, 0.5), 48_000, 1_000.0, 4);
        let bright = white(13, 48_000 * 15, 0.1);
        let mut learn = Analyzer::new(48_000.0, 2);
        learn.set_config(cfg);
        let mut follow = Analyzer::new(48_000.0, 2);
        for x in [&dull, &bright] {
            learn.push(&[x, x]);
            follow.push(&[x, x]);
        }
        let whole = learn.measured().band_levels_db;
        let last = follow.measured().band_levels_db;
        assert!(
            whole[5] - whole[20] > last[5] - last[20] + 3.0,
            "whole {whole:?} last {last:?}"
        );
    }

    #[test]
    fn a_cold_start_reaches_the_loudness_target_within_seconds() {
        // Steady programme 7 dB under the target (a mix under a finished master): the leveler
        // must get there within a few seconds (fast while confidence is low), then hold
        // steady without overshoot.
        // EQ off: the leveler alone (pink noise is brighter than the tonal corridors, and the
        // leveler would also make up for the EQ's cut of its highs).
        let cfg = AnalysisConfig {
            eq_amount: 0.0,
            ..AnalysisConfig::default()
        };
        let x = pink(11, 48_000 * 20, 0.33);
        let mut a = Analyzer::new(48_000.0, 2);
        a.set_config(cfg);
        let mut gains = Vec::new();
        for chunk in x.chunks(4800) {
            a.push(&[chunk, chunk]);
            gains.push(a.targets().leveler_gain_db);
        }
        let goal = derive(&a.measured(), &cfg, None).leveler_gain_db;
        assert!(goal > 5.0 && goal < EARLY_BOOST_DB + 2.0, "{goal}");
        let at = |s: f32| gains[(s * 10.0) as usize - 1];
        assert!((at(6.0) - goal).abs() < 1.0, "6 s: {} vs {goal}", at(6.0));
        let max = gains.iter().cloned().fold(f32::MIN, f32::max);
        assert!(max < goal + 1.0, "overshoot: {max} vs {goal}");
    }

    #[test]
    fn a_quiet_track_reaches_its_target_unless_the_limiter_would_overwork() {
        let no_eq = AnalysisConfig {
            eq_amount: 0.0,
            ..AnalysisConfig::default()
        };
        // Sine peaking at -20 dBFS on both channels: -20 LUFS, -20 dBTP. Target -14 is +6 dB,
        // peaks end at -14 dBTP: reachable.
        let s = sine(48_000, 1000.0, -20.0, 20.0);
        let t = run(&s, &s, 4096, no_eq).targets();
        assert!(
            (t.measured.integrated_lufs + 20.0).abs() < 0.1,
            "{}",
            t.measured.integrated_lufs
        );
        assert_eq!(t.reasons.leveler, LevelerReason::TowardTarget);
        assert_eq!(t.loudness_shortfall_db, 0.0);
        assert!((t.leveler_gain_db - (-14.0 - t.measured.programme_lufs)).abs() < 0.01);
        // Pink noise with a high crest and a -5 LUFS target, the compressor off: the limiter
        // would need far more than 4 dB, so the leveler stops at ceiling + 4 dB - peak and
        // reports the rest.
        let p = pink(3, 48_000 * 30, 0.4);
        let cfg = AnalysisConfig {
            target_lufs: -5.0,
            dynamics_amount: 0.0,
            ..no_eq
        };
        let t = run(&p, &p, 4096, cfg).targets();
        let m = t.measured;
        let cap = -1.0 + 4.0 - m.peak_envelope_dbtp;
        let desired = -5.0 - m.programme_lufs;
        assert_eq!(t.reasons.leveler, LevelerReason::CappedByLimiter, "{t:?}");
        assert!(desired > cap + 1.0, "{desired} {cap}");
        assert!(
            (t.leveler_gain_db - cap).abs() < 0.01,
            "{} vs {cap}",
            t.leveler_gain_db
        );
        assert!((t.loudness_shortfall_db - (desired - cap)).abs() < 0.01);
        assert!((m.peak_envelope_dbtp - m.true_peak_dbtp).abs() < 1.5);
    }
}
