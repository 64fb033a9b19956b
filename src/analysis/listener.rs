//! How a running session hears the music: one of three listeners with one interface.
//!
//! - [`Listener::Thread`] (realtime): the audio thread copies what it hears into a lock-free ring
//!   and reads the newest targets; the analysis runs on its own thread. Targets lag the audio by
//!   the thread's wake-up interval plus at most one analysis hop.
//! - [`Listener::Inline`] (offline bounce): the same [`Analyzer`] runs in the audio callback's
//!   order at its fixed hop, so a bounce is bit-identical whatever the host's block sizes
//!   (the session aligns its sub-blocks to [`Listener::hop`]).
//! - [`Listener::Fixed`] (the command-line tool's second pass, tests): targets decided
//!   beforehand.

use super::{
    AnalysisConfig, AnalysisThread, Analyzer, Feeder, ReferenceProfile, Targets, TargetsReader,
};

// One listener lives in a session for its whole life: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Listener {
    Thread {
        thread: AnalysisThread,
        feeder: Feeder,
        reader: TargetsReader,
    },
    Inline(Box<Analyzer>),
    Fixed(Targets),
}

impl Listener {
    /// A listener on its own thread (realtime hosts).
    pub fn threaded(sample_rate: f32, channels: usize) -> std::io::Result<Self> {
        Self::threaded_with(Box::new(Analyzer::new(sample_rate, channels))).map_err(|(e, _)| e)
    }

    /// A listener on its own thread continuing `analyzer`. If no thread can be started, the
    /// analyser comes back with the error, so nothing it learned is lost.
    pub fn threaded_with(analyzer: Box<Analyzer>) -> Result<Self, (std::io::Error, Box<Analyzer>)> {
        let (thread, feeder, reader) = AnalysisThread::start_with(analyzer)?;
        Ok(Self::Thread {
            thread,
            feeder,
            reader,
        })
    }

    /// A listener in the caller's thread at a fixed hop (offline bounces).
    pub fn inline(sample_rate: f32, channels: usize) -> Self {
        Self::Inline(Box::new(Analyzer::new(sample_rate, channels)))
    }

    /// The analyser with everything it heard (a thread is stopped and joined first); `None`
    /// for fixed targets. For the next activation of the same plugin instance.
    pub fn into_analyzer(self) -> Option<Box<Analyzer>> {
        match self {
            Self::Thread { mut thread, .. } => thread.finish(),
            Self::Inline(a) => Some(a),
            Self::Fixed(_) => None,
        }
    }

    pub fn set_config(&mut self, config: AnalysisConfig) {
        match self {
            Self::Thread { thread, .. } => thread.set_config(config),
            Self::Inline(a) => a.set_config(config),
            Self::Fixed(_) => {}
        }
    }

    pub fn set_reference(&mut self, reference: Option<ReferenceProfile>) {
        match self {
            Self::Thread { thread, .. } => thread.set_reference(reference),
            Self::Inline(a) => a.set_reference(reference),
            Self::Fixed(_) => {}
        }
    }

    /// Continues from `targets` (held targets restored with a project).
    pub fn hold(&mut self, targets: Targets) {
        match self {
            Self::Thread { thread, .. } => thread.hold(targets),
            Self::Inline(a) => a.hold(targets),
            Self::Fixed(t) => *t = targets,
        }
    }

    /// Hands the analysis a block of what the chain is about to process. Never waits; in
    /// realtime a full ring drops the block (counted in [`Listener::dropped_frames`]).
    pub fn hear(&mut self, channels: &[&[f32]]) {
        match self {
            Self::Thread { feeder, .. } => {
                feeder.try_push(channels);
            }
            Self::Inline(a) => a.push(channels),
            Self::Fixed(_) => {}
        }
    }

    /// The newest targets.
    pub fn targets(&mut self) -> Targets {
        match self {
            Self::Thread { reader, .. } => reader.read(),
            Self::Inline(a) => a.targets(),
            Self::Fixed(t) => *t,
        }
    }

    /// What Learn has learned so far (see [`Analyzer::learned`]); fixed targets count as
    /// learned.
    pub fn learned(&mut self) -> Option<Targets> {
        match self {
            Self::Thread { reader, .. } => reader.learned(),
            Self::Inline(a) => a.learned(),
            Self::Fixed(t) => Some(*t),
        }
    }

    /// Frames the realtime hand-off had to drop because the analysis fell behind.
    pub fn dropped_frames(&self) -> u64 {
        match self {
            Self::Thread { feeder, .. } => feeder.dropped_frames(),
            _ => 0,
        }
    }
}
