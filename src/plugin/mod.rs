//! The plugin glue: translates parameters and host events into engine settings, and nothing
//! more.

pub mod params;

use std::num::NonZeroU32;
use std::sync::Arc;

use nice_plug::prelude::*;

use crate::engine::Engine;
use params::AuralisParams;

/// The engine processes at most this many samples at a time; longer host buffers are split.
pub const MAX_BLOCK: usize = 512;

pub struct Auralis {
    params: Arc<AuralisParams>,
    /// Built in `activate`, for the host's sample rate and channel count.
    engine: Option<Engine>,
}

impl Default for Auralis {
    fn default() -> Self {
        Self {
            params: Arc::new(AuralisParams::default()),
            engine: None,
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

    type Editor = ();
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
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
        let mut engine = Engine::new(buffer_config.sample_rate, MAX_BLOCK, channels);
        // Start at the current parameter values rather than gliding in from neutral.
        engine.set_settings(&self.params.controls().settings());
        engine.settle();
        context.set_latency_samples(engine.latency() as u32);
        self.engine = Some(engine);
        true
    }

    fn reset(&mut self) {
        if let Some(engine) = &mut self.engine {
            engine.reset();
        }
    }

    fn deactivate(&mut self) {
        self.engine = None;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        let Some(engine) = &mut self.engine else {
            return ProcessStatus::Error("process called before activate");
        };
        engine.set_settings(&self.params.controls().settings());
        engine.process(buffer.as_slice());
        ProcessStatus::Tail(engine.latency() as u32)
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
