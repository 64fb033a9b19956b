//! The plugin glue: translates parameters and host events into engine settings, and nothing
//! more.

#[cfg(feature = "standalone")]
pub mod demo_input;
pub mod params;
pub mod state;
pub mod watched;

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

use crate::analysis::targets::Motion;
use crate::analysis::{AnalysisMode, Analyzer, Listener, Targets};
use crate::editor::{self, AuralisEditor, MeterTap};
use crate::session::Session;
use params::AuralisParams;

/// The engine processes at most this many samples at a time; longer host buffers are split.
pub const MAX_BLOCK: usize = 512;

pub struct Auralis {
    params: Arc<AuralisParams>,
    /// Built in `activate`, for the host's sample rate, channel count and process mode.
    session: Option<Session>,
    /// The analysis between two activations: what it heard belongs to the plugin instance,
    /// not to one activation (hosts re-activate around every offline export).
    carried: Option<Box<Analyzer>>,
    /// The last learned targets stored in the saved state.
    learned_saved: Option<Targets>,
    /// The host's transport was rolling at the last block.
    was_playing: bool,
    /// Versions of the saved reference and held targets the session has taken in.
    seen_reference: u32,
    seen_held: u32,
    /// Whether the saved held targets currently reflect Hold mode.
    held_saved: bool,
    /// The audio thread's end of the editor's meters, once the host made the editor.
    meters: Option<MeterTap>,
    /// The standalone build's stand-in for music (see `demo_input`).
    #[cfg(feature = "standalone")]
    demo_input: Option<demo_input::DemoInput>,
}

impl Default for Auralis {
    fn default() -> Self {
        Self {
            params: Arc::new(AuralisParams::default()),
            session: None,
            carried: None,
            learned_saved: None,
            was_playing: false,
            seen_reference: 0,
            seen_held: 0,
            held_saved: false,
            meters: None,
            #[cfg(feature = "standalone")]
            demo_input: None,
        }
    }
}

impl Auralis {
    /// Takes in a reference or held targets that the host (state load) or the editor set since
    /// the last block. Never waits: a busy lock is retried on the next block.
    fn take_in_saved_state(&mut self, session: &mut Session) {
        let p = &self.params;
        let version = p.reference_profile.version();
        if version != self.seen_reference {
            if let Some(reference) = p.reference_profile.try_get() {
                session.set_reference(reference);
                self.seen_reference = version;
            }
        }
        let version = p.held_targets.version();
        if version != self.seen_held {
            if let Some(held) = p.held_targets.try_get() {
                if let Some(targets) = held {
                    session.hold(targets);
                }
                self.held_saved = held.is_some();
                self.seen_held = version;
            }
        }
    }

    /// Keeps the saved held targets in step with the Analysis parameter: the targets the
    /// analysis holds once Hold engaged are saved with the project; leaving Hold clears them.
    /// In Learn, what has been learned so far is saved too, so that Hold still finds it after
    /// the project is reopened.
    fn save_analysis_state(&mut self, mode: AnalysisMode, session: &mut Session) {
        let holding = mode == AnalysisMode::Hold;
        if holding != self.held_saved {
            // Only targets the analysis confirms as held: right after Hold engages a
            // threaded analysis may still publish the learning ones for a block or two.
            let targets = *session.targets();
            let value = holding.then_some(targets);
            // Never over a value the host or the editor announced since the last block (the
            // editor's "learn from a file"): that one is taken in first.
            let announced = self.params.held_targets.version() != self.seen_held;
            if (!holding || targets.reasons.motion == Motion::Held)
                && !announced
                && self.params.held_targets.try_store_quietly(value)
            {
                self.held_saved = holding;
            }
        }
        if mode == AnalysisMode::Learn {
            let learned = session.learned();
            if learned.is_some()
                && learned != self.learned_saved
                && self.params.learned_targets.try_store_quietly(learned)
            {
                self.learned_saved = learned;
            }
        }
    }

    /// The analysis for an activation at `sample_rate` with `channels`: the one the instance
    /// carried from its last activation when the format is the same, else a new one, with
    /// what was learned before (carried, or saved with the project) to hold until it has
    /// learned as much itself.
    fn analyzer_for(
        &mut self,
        sample_rate: f32,
        channels: usize,
    ) -> (Box<Analyzer>, Option<Targets>) {
        let fresh = Analyzer::new(sample_rate, channels);
        match self.carried.take() {
            Some(a) if a.sample_rate() == fresh.sample_rate() && a.channels() == channels => {
                (a, None)
            }
            carried => {
                let prior = carried
                    .and_then(|c| c.learned())
                    .or_else(|| self.params.learned_targets.get());
                (Box::new(fresh), prior)
            }
        }
    }
}

impl Plugin for Auralis {
    const NAME: &'static str = "Auralis";
    const VENDOR: &'static str = "Auralis";
    const URL: &'static str = env!("CARGO_PKG_HOMEPAGE");
    const EMAIL: &'static str = "auralis@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = AuralisEditor;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    /// Every saved state passes through here before it is applied: see [`state::repair`].
    fn filter_state(state: &mut PluginState) {
        state::repair(state);
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        let (editor, meters) = editor::create(self.params.clone());
        self.meters = Some(meters);
        Some(editor)
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout
            .main_output_channels
            .map_or(2, NonZeroU32::get) as usize;
        if !(1..=2).contains(&channels) || buffer_config.sample_rate <= 0.0 {
            return false;
        }
        let sample_rate = buffer_config.sample_rate;
        let p = self.params.clone();
        let controls = p.controls();
        // The analysis takes the current choices before it runs, so a Hold engaged while the
        // plugin was inactive holds what was learned from the very first block.
        let (mut analyzer, prior) = self.analyzer_for(sample_rate, channels);
        analyzer.set_config(controls.analysis_config());
        if prior.is_some() {
            analyzer.set_prior(prior);
        }
        analyzer.set_reference(p.reference_profile.get());
        // An offline bounce analyses inline at a fixed hop so that it is deterministic; in
        // realtime the analysis runs on its own thread.
        let listener = if buffer_config.process_mode == ProcessMode::Offline {
            Listener::Inline(analyzer)
        } else {
            Listener::threaded_with(analyzer).unwrap_or_else(|(e, analyzer)| {
                nice_warn!("no analysis thread ({e}); analysing in the audio callback");
                Listener::Inline(analyzer)
            })
        };
        let mut session = Session::new(sample_rate, MAX_BLOCK, channels, controls, listener);
        self.was_playing = false;
        self.seen_reference = p.reference_profile.version();
        self.seen_held = p.held_targets.version();
        let held = p.held_targets.get();
        if let Some(targets) = held {
            session.hold(targets);
        }
        self.held_saved = held.is_some();
        self.learned_saved = p.learned_targets.get();
        context.set_latency_samples(session.latency() as u32);
        #[cfg(feature = "standalone")]
        {
            self.demo_input = demo_input::DemoInput::from_env(sample_rate);
        }
        self.session = Some(session);
        true
    }

    fn reset(&mut self) {
        if let Some(session) = &mut self.session {
            session.reset();
        }
    }

    fn deactivate(&mut self) {
        // The analysis thread is stopped and joined; what it heard stays with the instance.
        if let Some(session) = self.session.take() {
            self.carried = session.into_analyzer();
        }
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(mut session) = self.session.take() else {
            return ProcessStatus::Error("process called before activate");
        };
        #[cfg(feature = "standalone")]
        if let Some(demo) = &mut self.demo_input {
            demo.fill(buffer.as_slice());
        }
        // The chain starts from a clean state whenever the transport starts rolling, so a
        // bounce does not depend on how long the plugin ran before it (Ardour renders its
        // exports with the running realtime activation): filters, envelopes and every
        // control-rate counter restart on the first block of the roll.
        let playing = context.transport().playing;
        if playing && !self.was_playing {
            session.reset();
        }
        self.was_playing = playing;
        let mut controls = self.params.controls();
        // The editor's Compare: the input at the output's loudness (realtime only).
        controls.compare_gain_db = self.meters.as_ref().and_then(|m| m.compare_for(&session));
        session.set_controls(controls);
        self.take_in_saved_state(&mut session);
        // The editor's meters are fed only while it is drawing.
        let samples = buffer.samples();
        let sample_rate = session.engine().sample_rate();
        let mut meters = self.meters.as_mut();
        if !meters
            .as_deref_mut()
            .is_some_and(|m| m.wanted(samples, sample_rate))
        {
            meters = None;
        }
        if let Some(meters) = meters.as_deref_mut() {
            meters.hear_input(buffer.as_slice());
        }
        session.process(buffer.as_slice());
        if let Some(meters) = meters {
            meters.hear_output(buffer.as_slice(), &session);
        }
        self.save_analysis_state(controls.analysis, &mut session);
        let tail = session.latency() as u32;
        self.session = Some(session);
        ProcessStatus::Tail(tail)
    }
}

impl ClapPlugin for Auralis {
    const CLAP_ID: &'static str = "dev.auralis.mastering";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Adaptive mastering: psychoacoustic EQ, dynamics, stereo and a true-peak limiter");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Stereo,
        ClapFeature::Mono,
        ClapFeature::Mastering,
        ClapFeature::Equalizer,
        ClapFeature::Compressor,
        ClapFeature::Limiter,
    ];
}

impl Vst3Plugin for Auralis {
    const VST3_CLASS_ID: [u8; 16] = *b"AuralisMasterFx1";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[
        Vst3SubCategory::Fx,
        Vst3SubCategory::Mastering,
        Vst3SubCategory::Dynamics,
        Vst3SubCategory::Eq,
    ];
}
