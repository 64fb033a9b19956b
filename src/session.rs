//! A mastering session: the engine driven by the analysis's targets and the user's controls,
//! block by block. The plugin (realtime and offline), the command-line tool and the tests all
//! run audio through this one type.

use crate::analysis::{Listener, ReferenceProfile, Targets};
use crate::controls::Controls;
use crate::dsp::MAX_CHANNELS;
use crate::engine::Engine;

/// The first frame where any channel is not exactly 0.
fn first_sound(channels: &[&mut [f32]], len: usize) -> Option<usize> {
    channels
        .iter()
        .filter_map(|c| c[..len].iter().position(|&x| x != 0.0))
        .min()
}

/// The last frame where any channel is not exactly 0.
fn last_sound(channels: &[&mut [f32]], len: usize) -> Option<usize> {
    channels
        .iter()
        .filter_map(|c| c[..len].iter().rposition(|&x| x != 0.0))
        .max()
}

fn listener_grid(sample_rate: f32) -> usize {
    crate::analysis::analyzer::hop_for(sample_rate.clamp(8_000.0, 768_000.0))
}

pub struct Session {
    engine: Engine,
    listener: Listener,
    controls: Controls,
    targets: Targets,
    /// Samples processed since the start (or the last reset): sub-blocks are cut on a grid of
    /// `grid` samples counted from it.
    position: u64,
    /// The control grid: the analysis hop. Every listener's blocks are cut on it, so the chain
    /// takes new settings at the same samples however the host splits the audio (offline, where
    /// the inline analysis steps at that hop, and in realtime with held settings alike).
    grid: usize,
    /// Frames of digital silence (every channel exactly 0) just before the next block. After
    /// `rest` of them every delay line of the chain holds only zeros: the first sound after
    /// them resets the chain and restarts its grid there, so a bounce that starts from silence
    /// does not depend on how long the plugin ran before it (Ardour renders exports with the
    /// running realtime activation, after a pre-roll of its own).
    silent_run: u64,
    rest: u64,
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
            grid: listener_grid(sample_rate),
            silent_run: 0,
            rest: 0,
        }
        .with_rest()
    }

    /// Silence after which the chain counts as at rest: its latency plus one grid step.
    fn with_rest(mut self) -> Self {
        self.rest = (self.engine.latency() + self.grid) as u64;
        self
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

    /// Clears the chain's state (filters, envelopes, delays) and restarts its control grid,
    /// without touching the analysis: what follows is processed as from a fresh start.
    pub fn reset(&mut self) {
        self.engine.reset();
        self.position = 0;
    }

    /// Masters `channels` in place. The chain follows the targets derived from what the
    /// analysis heard before each block; the blocks are cut at the analysis hop's boundaries
    /// (counted from the session's start or last reset), so the targets change at the same
    /// samples however the caller splits the audio.
    pub fn process(&mut self, channels: &mut [&mut [f32]]) {
        let used = channels.len().min(MAX_CHANNELS);
        let len = channels[..used].iter().map(|c| c.len()).min().unwrap_or(0);
        let channels = &mut channels[..used];
        // Sound after a rest re-anchors the chain (see `Session::silent_run`): what came
        // before the first sound is processed first, then the chain restarts at it.
        // Of the input: the channels hold the output once processed.
        let first = first_sound(channels, len);
        let trailing = last_sound(channels, len).map(|j| (len - 1 - j) as u64);
        let at_rest = self.silent_run.saturating_add(first.unwrap_or(len) as u64) >= self.rest;
        match first {
            Some(i) if at_rest => {
                self.process_range(channels, 0, i);
                self.reset();
                self.process_range(channels, i, len);
            }
            _ => self.process_range(channels, 0, len),
        }
        self.silent_run = trailing.unwrap_or(self.silent_run.saturating_add(len as u64));
    }

    /// Processes frames `from..to`, cut on the control grid.
    fn process_range(&mut self, channels: &mut [&mut [f32]], from: usize, to: usize) {
        let (hop, used) = (self.grid, channels.len());
        let mut start = from;
        while start < to {
            let into = (self.position % hop as u64) as usize;
            let end = (start + hop - into).min(to);
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
