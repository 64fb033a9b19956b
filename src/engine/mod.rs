//! The engine: the one place that knows the order of the chain and its total latency.
//!
//! ```text
//! input trim → EQ → dynamics → stereo → leveler → true-peak limiter (lookahead) → output trim
//!      └──────────── dry path, delayed by the chain's latency ─────────────┘ → intensity mix
//! ```
//!
//! Bypassed, the output is the dry path alone, at `bypass_gain_db` (0 dB for the host's
//! bypass; the editor's Compare plays the input at the output's loudness this way).
//!
//! The plugin, the command-line tool and the tests all drive this one engine with plain
//! [`Settings`]. [`Engine::process`] takes any block length, allocates nothing and never blocks.

mod glide;
mod settings;
mod stage;
mod stages;

pub use glide::Glide;
pub use settings::{CompressorSettings, Settings};
pub use stage::{Stage, Switch};

use crate::dsp::bark_eq::BarkEq;
use crate::dsp::compressor::Compressor;
use crate::dsp::delay_line::DelayLine;
use crate::dsp::leveler::Leveler;
use crate::dsp::multiband::MultibandCompressor;
use crate::dsp::smoothed_gain::SmoothedGain;
use crate::dsp::stereo::StereoImager;
use crate::dsp::true_peak_limiter::TruePeakLimiter;
use crate::dsp::{sanitize, MAX_CHANNELS};

/// Length of every click-free switch and bypass crossfade.
pub const SWITCH_FADE_MS: f32 = 10.0;
/// How fast the trims and the intensity glide to a new value.
pub const GAIN_GLIDE_MS: f32 = 20.0;
/// The most the leveler lifts or lowers the music, in dB.
pub const MAX_LEVELER_DB: f32 = 30.0;
/// The limiter's lookahead. Fixed, so the latency reported to the host never changes.
pub const LOOKAHEAD_MS: f32 = 2.0;

/// Per-channel scratch buffers, sized once in [`Engine::new`].
struct Scratch {
    /// The input, delayed by the chain's latency, for the intensity mix.
    dry: [Vec<f32>; MAX_CHANNELS],
    /// A stage's input while its switch crossfades.
    stage_dry: [Vec<f32>; MAX_CHANNELS],
    /// Per-sample gain or crossfade positions.
    ramp: Vec<f32>,
    /// The limiter's gain curve.
    limiter_gain: Vec<f32>,
}

/// The mastering chain.
pub struct Engine {
    sample_rate: f32,
    max_block: usize,
    channels: usize,
    settings: Settings,

    input_gain: SmoothedGain,
    eq: BarkEq,
    eq_switch: Switch,
    compressor: Compressor,
    compressor_switch: Switch,
    multiband: MultibandCompressor,
    multiband_switch: Switch,
    stereo: StereoImager,
    stereo_switch: Switch,
    leveler: Leveler,
    leveler_switch: Switch,
    /// Detects the gain curve; the engine delays the audio by its latency and applies it.
    limiter: TruePeakLimiter,
    limiter_delay: DelayLine,
    /// 1 = the limiter's gain applies, 0 = unity gain (the audio is still delayed).
    limiter_on: Glide,
    output_gain: SmoothedGain,

    dry_delay: DelayLine,
    /// The bypassed input's gain: `bypass_gain_db` while bypassed, 0 dB (untouched) otherwise.
    dry_gain: SmoothedGain,
    /// How much of the processed signal reaches the output: intensity, or 0 when bypassed.
    wet: Glide,
    scratch: Box<Scratch>,
}

impl Engine {
    /// Builds the chain for `channels` (1 or 2) at `sample_rate`, for blocks of up to
    /// `max_block` samples inside one call (longer calls are split). All memory is allocated here.
    pub fn new(sample_rate: f32, max_block: usize, channels: usize) -> Self {
        assert!(
            (1..=MAX_CHANNELS).contains(&channels),
            "the engine takes 1 or 2 channels"
        );
        assert!(sample_rate > 0.0 && max_block > 0);
        let ms = |ms: f32| ((ms * 0.001 * sample_rate).round() as usize).max(1);
        let fade = ms(SWITCH_FADE_MS);

        let mut limiter = TruePeakLimiter::new(sample_rate, max_block, channels);
        limiter.set_sample_rate(sample_rate);
        limiter.set_lookahead_ms(LOOKAHEAD_MS);
        let latency = limiter.latency();
        let delay_line = |delay: usize| {
            let mut d = DelayLine::new(delay, max_block, channels);
            d.set_delay(delay);
            d
        };
        let gain = || {
            let mut g = SmoothedGain::new(sample_rate, max_block, channels);
            g.set_sample_rate(sample_rate);
            g.set_glide_ms(GAIN_GLIDE_MS);
            g
        };
        let unit_rate = |mut u: Leveler| {
            u.set_sample_rate(sample_rate);
            // The analysis decides how far to go (and caps it by the limiting it would cause);
            // the leveler only keeps a very quiet recording from being lifted without bound.
            u.set_max_boost_db(MAX_LEVELER_DB);
            u.set_max_cut_db(MAX_LEVELER_DB);
            u
        };

        let settings = Settings::neutral();
        let mut engine = Self {
            sample_rate,
            max_block,
            channels,
            settings,
            input_gain: gain(),
            eq: BarkEq::new(sample_rate, max_block, channels),
            eq_switch: Switch::new(true, fade),
            compressor: Compressor::new(sample_rate, max_block, channels),
            compressor_switch: Switch::new(true, fade),
            multiband: MultibandCompressor::new(sample_rate, max_block, channels),
            multiband_switch: Switch::new(false, fade),
            stereo: StereoImager::new(sample_rate, max_block, channels),
            stereo_switch: Switch::new(true, fade),
            leveler: unit_rate(Leveler::new(sample_rate, max_block, channels)),
            leveler_switch: Switch::new(true, fade),
            limiter,
            limiter_delay: delay_line(latency),
            limiter_on: Glide::new(1.0),
            output_gain: gain(),
            dry_delay: delay_line(latency),
            dry_gain: gain(),
            wet: Glide::new(1.0),
            scratch: Box::new(Scratch {
                dry: std::array::from_fn(|_| vec![0.0; max_block]),
                stage_dry: std::array::from_fn(|_| vec![0.0; max_block]),
                ramp: vec![0.0; max_block],
                limiter_gain: vec![1.0; max_block],
            }),
        };
        engine.apply_settings(&settings);
        engine.settle();
        engine
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn max_block(&self) -> usize {
        self.max_block
    }

    /// The chain's total latency in samples: the sum of its stages' latencies. Fixed for the
    /// engine's life, so a host can be told once.
    pub fn latency(&self) -> usize {
        self.limiter_delay.delay()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The limiter's deepest gain reduction over the last block it processed, in dB (positive).
    pub fn limiter_reduction_db(&self) -> f32 {
        if self.limiter_on.value() > 0.0 {
            self.limiter.gain_reduction_db() * self.limiter_on.value()
        } else {
            0.0
        }
    }

    /// The EQ's realised response in dB at `hz` (for reports and the editor).
    pub fn eq_response_db(&self, hz: f32) -> f32 {
        self.eq.response_db(hz)
    }

    /// The EQ's realised sections (coefficients at [`Engine::sample_rate`]): evaluating them
    /// with [`crate::dsp::biquad::BiquadCoeffs::power_at_phi`] gives [`Engine::eq_response_db`]
    /// anywhere, without the engine.
    pub fn eq_sections(&self) -> [crate::dsp::biquad::BiquadCoeffs; crate::dsp::bark::BANDS] {
        self.eq.section_coeffs()
    }

    /// Whether the EQ stage is switched in (its target; a switch crossfades for 10 ms).
    pub fn eq_active(&self) -> bool {
        self.settings.eq_enabled
    }

    /// The wideband compressor's current gain reduction in dB (positive), 0 when it is not
    /// the dynamics stage in use.
    pub fn compressor_reduction_db(&self) -> f32 {
        if self.settings.dynamics_enabled && !self.settings.multiband {
            self.compressor.gain_reduction_db()
        } else {
            0.0
        }
    }

    /// One multiband band's current gain reduction in dB (positive; band 0 = lows), 0 when
    /// the multiband compressor is not the dynamics stage in use.
    pub fn band_reduction_db(&self, band: usize) -> f32 {
        if self.settings.dynamics_enabled && self.settings.multiband {
            self.multiband.band_gain_reduction_db(band)
        } else {
            0.0
        }
    }

    /// The leveler's current gain in dB.
    pub fn leveler_gain_db(&self) -> f32 {
        if self.settings.leveler_enabled {
            self.leveler.current_db()
        } else {
            0.0
        }
    }

    /// Takes a new set of settings. Only stores targets: every change glides in `process`.
    pub fn set_settings(&mut self, settings: &Settings) {
        if *settings != self.settings {
            self.apply_settings(settings);
        }
    }

    fn apply_settings(&mut self, s: &Settings) {
        let glide = ((GAIN_GLIDE_MS * 0.001 * self.sample_rate) as usize).max(1);
        let fade = ((SWITCH_FADE_MS * 0.001 * self.sample_rate) as usize).max(1);
        self.input_gain.set_gain_db(s.input_gain_db);
        self.output_gain.set_gain_db(s.output_gain_db);
        let wet = if s.bypass {
            0.0
        } else {
            s.intensity.clamp(0.0, 1.0)
        };
        self.wet.set_target(wet, glide);
        // Only a bypass scales the dry path: the intensity mix always blends the input as it is.
        self.dry_gain
            .set_gain_db(if s.bypass { s.bypass_gain_db } else { 0.0 });
        self.eq_switch.set_enabled(s.eq_enabled);
        // The EQ realises the request exactly: perceptual weighting and masking are applied
        // where the request is made (the analysis), not a second time here.
        self.eq.set_perceptual_amount(0.0);
        self.eq.set_band_gains_db(&s.eq_gains_db);
        self.compressor_switch
            .set_enabled(s.dynamics_enabled && !s.multiband);
        self.multiband_switch
            .set_enabled(s.dynamics_enabled && s.multiband);
        configure_compressor(&mut self.compressor, &s.compressor);
        for (band, c) in s.bands.iter().enumerate() {
            self.multiband.set_band_threshold_db(band, c.threshold_db);
            self.multiband.set_band_ratio(band, c.ratio);
            self.multiband.set_band_knee_db(band, c.knee_db);
            self.multiband.set_band_attack_ms(band, c.attack_ms);
            self.multiband.set_band_release_ms(band, c.release_ms);
        }
        self.stereo_switch.set_enabled(s.stereo_enabled);
        self.stereo.set_band_widths(&[s.width; 3]);
        self.stereo.set_mono_bass_hz(s.mono_bass_hz);
        self.leveler_switch.set_enabled(s.leveler_enabled);
        self.leveler.set_correction_db(s.leveler_gain_db);
        self.limiter_on
            .set_target(if s.limiter_enabled { 1.0 } else { 0.0 }, fade);
        self.limiter.set_ceiling_db(s.ceiling_db);
        self.limiter.set_release_ms(s.limiter_release_ms);
        self.limiter.set_auto_release(s.limiter_auto_release);
        self.settings = *s;
    }

    /// Jumps every glide to its target: for a fresh start, where fading in would be wrong.
    pub fn settle(&mut self) {
        self.input_gain.reset();
        self.output_gain.reset();
        self.dry_gain.reset();
        self.leveler.reset();
        self.limiter_on.settle();
        self.wet.settle();
        self.eq_switch.settle();
        self.compressor_switch.settle();
        self.multiband_switch.settle();
        self.stereo_switch.settle();
        self.leveler_switch.settle();
    }

    /// Clears every state (filters, envelopes, delay lines) and settles every glide.
    pub fn reset(&mut self) {
        self.eq.reset();
        self.compressor.reset();
        self.multiband.reset();
        self.stereo.reset();
        self.leveler.reset();
        self.limiter.reset();
        self.limiter_delay.reset();
        self.dry_delay.reset();
        self.settle();
    }

    /// Processes `channels` in place. Any length; more channels than the engine was built for
    /// are left untouched.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let used = channels.len().min(self.channels);
        let channels = &mut channels[..used];
        let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let mut start = 0;
        while start < len {
            let end = (start + self.max_block).min(len);
            let mut block: [&mut [f32]; MAX_CHANNELS] = [&mut [], &mut []];
            for (b, ch) in block.iter_mut().zip(channels.iter_mut()) {
                *b = &mut ch[start..end];
            }
            self.process_block(&mut block[..used]);
            start = end;
        }
    }

    fn process_block(&mut self, channels: &mut [&mut [f32]]) {
        let n = channels[0].len();
        sanitize::replace_non_finite(channels);

        let Scratch {
            dry,
            stage_dry,
            ramp,
            limiter_gain,
        } = &mut *self.scratch;

        // The dry path: the input as it came, delayed by the chain's latency.
        let [dry_l, dry_r] = dry;
        let mut dry_block: [&mut [f32]; MAX_CHANNELS] = [&mut dry_l[..n], &mut dry_r[..n]];
        for (d, ch) in dry_block.iter_mut().zip(channels.iter()) {
            d.copy_from_slice(ch);
        }
        self.dry_delay.process(&mut dry_block[..channels.len()]);
        self.dry_gain.process(&mut dry_block[..channels.len()]);

        self.input_gain.process(channels);
        self.eq_switch.run(&mut self.eq, channels, stage_dry, ramp);
        self.compressor_switch
            .run(&mut self.compressor, channels, stage_dry, ramp);
        self.multiband_switch
            .run(&mut self.multiband, channels, stage_dry, ramp);
        self.stereo_switch
            .run(&mut self.stereo, channels, stage_dry, ramp);
        self.leveler_switch
            .run(&mut self.leveler, channels, stage_dry, ramp);
        run_limiter(
            &mut self.limiter,
            &mut self.limiter_delay,
            &mut self.limiter_on,
            channels,
            &mut limiter_gain[..n],
            &mut ramp[..n],
        );
        self.output_gain.process(channels);

        // Intensity: blend the processed signal with the latency-compensated dry one.
        if self.wet.is_gliding() || self.wet.value() != 1.0 {
            let ramp = &mut ramp[..n];
            self.wet.fill(ramp);
            for (ch, d) in channels.iter_mut().zip(dry_block.iter()) {
                for ((y, &x), &w) in ch.iter_mut().zip(d.iter()).zip(ramp.iter()) {
                    *y = x + (*y - x) * w;
                }
            }
        }
    }
}

/// The true-peak limiter: detect the gain curve on the undelayed signal, delay the audio by the
/// lookahead, apply the curve. Switched off, the curve crossfades to unity; the delay (and so the
/// latency) stays.
fn run_limiter(
    limiter: &mut TruePeakLimiter,
    delay: &mut DelayLine,
    on: &mut Glide,
    channels: &mut [&mut [f32]],
    gain: &mut [f32],
    ramp: &mut [f32],
) {
    {
        let mut detect: [&[f32]; MAX_CHANNELS] = [&[], &[]];
        for (d, ch) in detect.iter_mut().zip(channels.iter()) {
            *d = ch;
        }
        limiter.compute_gain(&detect[..channels.len()], gain);
    }
    delay.process(channels);
    if on.is_gliding() {
        on.fill(ramp);
        for (g, &on) in gain.iter_mut().zip(ramp.iter()) {
            *g = 1.0 + (*g - 1.0) * on;
        }
    } else if on.value() == 0.0 {
        return;
    }
    for ch in channels.iter_mut() {
        for (x, &g) in ch.iter_mut().zip(gain.iter()) {
            *x *= g;
        }
    }
}

fn configure_compressor(c: &mut Compressor, s: &CompressorSettings) {
    c.set_threshold_db(s.threshold_db);
    c.set_ratio(s.ratio);
    c.set_knee_db(s.knee_db);
    c.set_attack_ms(s.attack_ms);
    c.set_release_ms(s.release_ms);
}
