//! Analysis: measures the music and derives slowly-moving mastering [`Targets`].
//!
//! Layered from pure to threaded:
//! - feature extractors, each a small allocation-free state machine fed one fixed hop at a time:
//!   [`loudness`] (ITU-R BS.1770-4 / EBU R 128 via the `ebur128` crate), [`spectrum`] (Bark-band
//!   energies and spectral shape), [`dynamics`], [`stereo_image`], [`rhythm`];
//! - value types: [`config`] (the user's choices), [`fingerprint`] (25 named descriptors),
//!   [`presets`] (target tonal curves), [`reference`](mod@reference) (a blendable reference-track profile);
//! - [`targets`]: the pure rules turning measurements + config into [`Targets`];
//! - [`analyzer`]: the streaming [`Analyzer`] that ties the extractors together at a fixed hop;
//! - [`thread`]: the thin worker-thread shell with a lock-free feeder and a triple-buffered reader.

pub mod analyzer;
pub mod config;
pub mod corridor;
pub mod dynamics;
pub mod fingerprint;
pub mod gating;
pub mod listener;
pub mod loudness;
pub mod measured;
pub mod presets;
pub mod reference;
pub mod rhythm;
pub mod spectrum;
pub mod stereo_image;
pub mod targets;
pub mod thread;

#[cfg(test)]
pub(crate) mod test_signals;

pub use analyzer::Analyzer;
pub use config::{AnalysisConfig, AnalysisMode, MasteringMode, Preset};
pub use fingerprint::Fingerprint;
pub use listener::Listener;
pub use measured::Measured;
pub use reference::ReferenceProfile;
pub use targets::{Origin, Targets};
pub use thread::{AnalysisThread, Feeder, TargetsReader};

/// One-pole smoothing coefficient for a time constant `tau_s` when updated every `dt_s` seconds:
/// `y += a * (x - y)` with `a = 1 - exp(-dt / tau)`.
#[inline]
pub(crate) fn one_pole(dt_s: f32, tau_s: f32) -> f32 {
    if tau_s <= 0.0 {
        1.0
    } else {
        1.0 - (-dt_s / tau_s).exp()
    }
}

/// Power (energy) to decibels, floored at -200 dB.
#[inline]
pub(crate) fn power_to_db(p: f32) -> f32 {
    10.0 * p.max(1.0e-20).log10()
}
