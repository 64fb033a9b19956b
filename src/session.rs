//! A mastering session: the engine driven by the analysis's targets and the user's controls,
//! block by block. The plugin (realtime and offline), the command-line tool and the tests all
//! run audio through this one type.

use crate::analysis::{Listener, ReferenceProfile, Targets};
use crate::controls::Controls;
use crate::dsp::MAX_CHANNELS;
use crate::engine::Engine;

pub struct Session {
    engine: Engine,
    listener: Listener,
    controls: Controls,
    targets: Targets,
    /// Samples processed since the start: sub-blocks are aligned to the analysis hop on it.
    position: u64,
}

impl Session {
    /// A session at `sample_rate` for `channels` (1 or 2), with `listener` hearing the music.
    /// The engine starts at `controls` and `listener`'s current targets, without gliding in.
    pub fn new(
        sample_rate: f32,
        max_block: usize,
        channels: usize,
        controls: Controls,
        mut listener: Listener,
    ) -> Self {
        let mut engine = Engine::new(sample_rate, max_block, channels);
        listener.set_config(controls.analysis_config());
        let targets = listener.targets();
        engine.set_settings(&controls.settings(&targets));
        engine.settle();
        Self {
            engine,
            listener,
            controls,
            targets,
            position: 0,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The chain's latency in samples.
    pub fn latency(&self) -> usize {
        self.engine.latency()
    }

    /// The targets the chain currently follows.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    pub fn listener(&self) -> &Listener {
        &self.listener
    }

    /// What Learn has learned so far (see [`crate::analysis::Analyzer::learned`]).
    pub fn learned(&mut self) -> Option<Targets> {
        self.listener.learned()
    }

    /// Ends the session and gives back its analyser with everything it heard, for the next
    /// activation of the same plugin instance (`None` with fixed targets).
    pub fn into_analyzer(self) -> Option<Box<crate::analysis::Analyzer>> {
        self.listener.into_analyzer()
    }

    /// Takes the user's controls; only a change reaches the analysis.
    pub fn set_controls(&mut self, controls: Controls) {
        if controls != self.controls {
            self.listener.set_config(controls.analysis_config());
            self.controls = controls;
        }
    }

    pub fn set_reference(&mut self, reference: Option<ReferenceProfile>) {
        self.listener.set_reference(reference);
    }

    /// Continues from `targets` (held targets restored with a project). Before the first
    /// sample the chain jumps to them, so a bounce uses them from sample 0.
    pub fn hold(&mut self, targets: Targets) {
        self.listener.hold(targets);
        self.targets = targets;
        self.engine.set_settings(&self.controls.settings(&targets));
        if self.position == 0 {
            self.engine.settle();
        }
    }

    /// Clears the chain's state (filters, envelopes, delays) without touching the analysis.
    pub fn reset(&mut self) {
        self.engine.reset();
    }

    /// Masters `channels` in place. The chain follows the targets derived from what the
    /// analysis heard before each block; with an inline listener the blocks are cut at the analysis hop's boundaries (counted
    /// from the session's start), so the targets change at the same samples however the caller
    /// splits the audio.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let used = channels.len().min(MAX_CHANNELS);
        let len = channels[..used].iter().map(|c| c.len()).min().unwrap_or(0);
        let hop = self.listener.hop();
        let mut start = 0;
        while start < len {
            let end = match hop {
                Some(hop) => {
                    let into = (self.position % hop as u64) as usize;
                    (start + hop - into).min(len)
                }
                None => len,
            };
            let mut block: [&mut [f32]; MAX_CHANNELS] = [&mut [], &mut []];
            for (b, ch) in block.iter_mut().zip(channels.iter_mut()) {
                *b = &mut ch[start..end];
            }
            self.process_block(&mut block[..used]);
            self.position += (end - start) as u64;
            start = end;
        }
    }

    fn process_block(&mut self, channels: &mut [&mut [f32]]) {
        // Targets first, from what was heard before this block: were the block heard first, a
        // hop completing inside it would steer its own start, and by how much would depend on
        // where the caller's blocks happen to end.
        self.targets = self.listener.targets();
        self.engine
            .set_settings(&self.controls.settings(&self.targets));
        {
            let mut heard: [&[f32]; MAX_CHANNELS] = [&[], &[]];
            for (h, ch) in heard.iter_mut().zip(channels.iter()) {
                *h = ch;
            }
            self.listener.hear(&heard[..channels.len()]);
        }
        self.engine.process(channels);
    }
}
