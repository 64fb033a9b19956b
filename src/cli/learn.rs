//! `auralis learn MIX -o NAME.vstpreset` (or `NAME.clapstate`): the command's pass 1 over a mix,
//! handed to a DAW. The preset is the plugin's own state for an instance with the flags'
//! controls, Analysis = Hold and, in its `held-targets` field, the calibrated held targets that
//! `auralis master` renders the same mix with (see [`auralis::learn::learn_file`]); so the
//! plugin plays the mix as the command masters it, from the first sample.
//!
//! The container follows the file's extension: `.vstpreset` is Steinberg's VST3 preset (see
//! [`super::vstpreset`]), `.clapstate` the bytes nice-plug's CLAP wrapper writes to a state
//! stream (a host's "load state from file", or a test host's `state.load`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};

use super::encode::{same_file, write_atomically};
use super::{master, vstpreset, LearnArgs};
use auralis::analysis::{MasteringMode, Origin};
use auralis::controls::AnalysisMode;
use auralis::plugin::{state, Auralis};
use nice_plug::prelude::Vst3Plugin;

/// Exit status of a command line that cannot work as given (as clap's own usage errors).
const USAGE: u8 = 2;

/// The preset containers `auralis learn` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetFormat {
    /// `.vstpreset`: Steinberg's VST3 preset file.
    Vst3,
    /// `.clapstate`: a CLAP state stream's bytes.
    Clap,
}

impl PresetFormat {
    /// The container `path`'s extension names (case-insensitive), if any.
    pub fn of(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "vstpreset" => Some(Self::Vst3),
            "clapstate" => Some(Self::Clap),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Vst3 => "VST3 preset",
            Self::Clap => "CLAP state",
        }
    }
}

/// Prints a usage error on one line; the exit status says so.
fn usage(message: &str) -> Result<ExitCode> {
    eprintln!("auralis: {message}");
    Ok(ExitCode::from(USAGE))
}

/// Runs `auralis learn`.
pub fn run(args: &LearnArgs) -> Result<ExitCode> {
    let (input, output) = (&args.input, &args.output);
    let Some(format) = PresetFormat::of(output) else {
        return usage(&format!(
            "{}: unknown preset type; name it NAME.vstpreset (VST3) or NAME.clapstate (CLAP)",
            output.display()
        ));
    };
    let mut controls = args.choices.controls()?;
    controls.analysis = AnalysisMode::Hold;
    if controls.mode != MasteringMode::Adaptive && args.choices.references.is_empty() {
        return usage("--mode reference and --mode hybrid need at least one --reference FILE");
    }
    // What the plugin's parameters cannot hold, before the long pass.
    if let Some(problem) = state::out_of_range(&state::saved_state(&controls, None, None)).first() {
        return usage(problem);
    }
    if same_file(input, output) {
        bail!("{}: would overwrite the input", output.display());
    }
    if output.exists() && !args.force {
        bail!("{} exists; use --force to overwrite", output.display());
    }

    let reference = master::reference_profile(&args.choices.references)?;
    let (mut targets, heard) = auralis::learn::learn_file(input, &controls, reference.as_ref())
        .map_err(|e| {
            // The decoder's errors name the file already; the analysis's do not.
            let shown = input.display().to_string();
            if format!("{e:#}").contains(&shown) {
                e
            } else {
                e.context(shown)
            }
        })?;
    targets.origin = Origin::Preset;
    let json = state::to_json(&state::saved_state(&controls, Some(targets), reference));
    let bytes = match format {
        PresetFormat::Vst3 => vstpreset::write(&Auralis::VST3_CLASS_ID, &json),
        PresetFormat::Clap => state::clap_stream(&json),
    };
    write_atomically(output, &bytes, args.force)?;
    println!(
        "{}: {:.1} LUFS, held for {:.1} LUFS (leveler {:+.1} dB, compressor {:.1}:1, width {:.2}); \
         {} written to {} (Analysis = Hold)",
        input.display(),
        heard.measured.integrated_lufs,
        targets.target_lufs,
        targets.leveler_gain_db,
        targets.comp_ratio,
        targets.width,
        format.name(),
        output.display(),
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_container() {
        assert_eq!(
            PresetFormat::of(Path::new("a/b.vstpreset")),
            Some(PresetFormat::Vst3)
        );
        assert_eq!(
            PresetFormat::of(Path::new("B.VSTPreset")),
            Some(PresetFormat::Vst3)
        );
        assert_eq!(
            PresetFormat::of(Path::new("x.clapstate")),
            Some(PresetFormat::Clap)
        );
        assert_eq!(PresetFormat::of(Path::new("x.fxp")), None);
        assert_eq!(PresetFormat::of(Path::new("vstpreset")), None);
    }
}
