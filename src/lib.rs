//! Auralis: an adaptive mastering effect.
//!
//! - [`dsp`]: the audio thread's units, pure and allocation-free;
//! - [`engine`]: the chain that runs them, shared by the plugin, the CLI and the tests;
//! - [`controls`]: the user's choices as plain values;
//! - [`plugin`]: the CLAP/VST3 glue (parameters, process, state);
//! - [`editor`]: the plugin's window (nice-plug-egui);
//! - [`learn`]: learning a whole recording (the command's pass 1, the editor's "learn from a
//!   file", `auralis learn`);
//! - [`audio_file`]: decoding audio files (the CLI's inputs, the editor's references).

pub mod analysis;
pub mod audio_file;
pub mod controls;
pub mod dsp;
pub mod editor;
pub mod engine;
pub mod learn;
pub mod plugin;
pub mod session;

nice_plug::nice_export_clap!(plugin::Auralis);
nice_plug::nice_export_vst3!(plugin::Auralis);
