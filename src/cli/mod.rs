//! The `auralis` command: masters files and folders with the plugin's own engine and analysis.

pub mod album;
pub mod analyze;
pub mod batch;
pub mod cache;
pub mod controls;
pub mod demo;
pub mod dither;
pub mod encode;
pub mod flac;
pub mod learn;
pub mod master;
pub mod panics;
pub mod paths;
pub mod plot;
pub mod report;
pub mod source;
pub mod tags;
pub mod vstpreset;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use auralis::analysis::{MasteringMode, Preset};
use auralis::controls::Controls;
use encode::OutputFormat;

#[derive(Parser, Debug)]
#[command(
    name = "auralis",
    version,
    about = "Adaptive mastering: the Auralis plugin's engine and analysis, over files"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Master one file, several, or the built-in demo mix.
    Master(MasterArgs),
    /// Learn a mix as `master` does (its pass 1) and write the plugin preset that plays it so:
    /// the controls, Analysis = Hold and the held targets.
    Learn(LearnArgs),
    /// Print a file's loudness and its 25-value fingerprint.
    Analyze(AnalyzeArgs),
    /// The plugin's controls that `--set ID=VALUE` and `--settings FILE.json` reach.
    Settings(SettingsArgs),
}

#[derive(clap::Args, Debug)]
pub struct SettingsArgs {
    /// Print every control's ID, name, group, range with its unit, and default.
    #[arg(long)]
    pub list: bool,
}

#[derive(clap::Args, Debug)]
pub struct MasterArgs {
    /// Input files (WAV, FLAC, MP3, OGG/Vorbis, AIFF; mono or stereo; 8 to 384 kHz).
    #[arg(required_unless_present = "demo")]
    pub inputs: Vec<PathBuf>,
    /// The output file (one input only).
    #[arg(short = 'o', long = "output", conflicts_with = "out_dir")]
    pub output: Option<PathBuf>,
    /// The folder for the outputs, named `<input>.mastered.wav` (`.flac` for FLAC).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Master the built-in demo mix (a dull, quiet loop) instead of files. Writes
    /// `auralis-demo.original.wav` and `auralis-demo.mastered.wav`.
    #[arg(long, conflicts_with_all = ["inputs", "output"])]
    pub demo: bool,
    #[command(flatten)]
    pub choices: Choices,
    /// Output format: wav16, wav24, flac16 and flac24 are dithered, wav32f is 32-bit float.
    /// The input's title, artist, album and track number are carried into the output.
    #[arg(long, default_value_t = OutputFormat::Wav24)]
    pub format: OutputFormat,
    /// Dither for 16 and 24-bit outputs: tpdf (white, the default), shaped (TPDF noise-shaped
    /// by Wannamaker's 9-tap F-weighted filter, away from 1-6 kHz and up above 14 kHz; 16-bit
    /// at 44.1 or 48 kHz only, TPDF otherwise) or none (rounding only). Reproducible.
    #[arg(long, value_enum, default_value_t = dither::Dither::Tpdf)]
    pub dither: dither::Dither,
    /// The files are one record, in order: one tonal decision for the record (per-track
    /// corrections only where a track leaves its corridor), and one loudness decision: the
    /// album, all tracks gated together, reaches the target and each track keeps its loudness
    /// relative to the others (unless Max Limiting stops it, which the report says).
    #[arg(long, conflicts_with = "demo")]
    pub album: bool,
    /// Draw a picture of each master (PNG, 1200 x 900): the Bark spectrum before and after,
    /// the EQ applied, short-term loudness over time (input, output, target) and the limiter's
    /// and compressor's gain reduction. With one input, FILE.png if given; otherwise one PNG
    /// beside each output (`<output>.png`).
    #[arg(long, value_name = "FILE.png", num_args = 0..=1, default_missing_value = "")]
    pub plot: Option<std::ffi::OsString>,
    /// Keep pass 1's analysis of each input in DIR, keyed by a hash of the decoded audio: a
    /// second master of the same audio, with any settings, skips the analysis. A stale or
    /// damaged entry is ignored and rewritten.
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Files mastered at once (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Overwrite existing outputs (never an input).
    #[arg(long)]
    pub force: bool,
}

/// The mastering choices `master` and `learn` share.
#[derive(clap::Args, Debug)]
pub struct Choices {
    /// The preset: its tonal curve, loudness, dynamics and width.
    #[arg(long, value_enum, default_value_t = PresetArg::Adaptive)]
    pub preset: PresetArg,
    /// Toward the preset (adaptive), a reference (reference) or a blend (hybrid). Defaults to
    /// reference when --reference is given, adaptive otherwise.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// A reference track to match (several are blended with equal weights).
    #[arg(long = "reference", value_name = "FILE")]
    pub references: Vec<PathBuf>,
    /// Integrated loudness target in LUFS (default: the preset's or the reference's).
    #[arg(long, allow_hyphen_values = true, value_parser = parse_range(-40.0, 0.0))]
    pub target_lufs: Option<f32>,
    /// True-peak ceiling in dBTP.
    #[arg(long, allow_hyphen_values = true, default_value_t = -1.0, value_parser = parse_range(-12.0, 0.0))]
    pub ceiling: f32,
    /// How much of the processing to apply, 0 (none) to 1 (all).
    #[arg(long, default_value_t = 1.0, value_parser = parse_range(0.0, 1.0))]
    pub intensity: f32,
    /// Any of the plugin's controls by its ID, in the units the plugin shows (repeatable):
    /// `--set eq_amt=40 --set multiband=on --set width=110`. Applied after the flags above and
    /// after --settings. `auralis settings --list` shows every ID with its range.
    #[arg(long = "set", value_name = "ID=VALUE")]
    pub sets: Vec<String>,
    /// A JSON object of control IDs to values, as --set takes them:
    /// `{"eq_amt": 40, "multiband": "on", "width": 110}`.
    #[arg(long, value_name = "FILE.json")]
    pub settings: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct LearnArgs {
    /// The mix to learn (WAV, FLAC, MP3, OGG/Vorbis, AIFF; mono or stereo; 8 to 384 kHz).
    pub input: PathBuf,
    /// The preset to write: NAME.vstpreset (VST3; DAWs list the files in
    /// ~/.vst3/presets/Auralis/Auralis/) or NAME.clapstate (a CLAP state).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "NAME.vstpreset|NAME.clapstate"
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub choices: Choices,
    /// Overwrite an existing preset (never the input).
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct AnalyzeArgs {
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PresetArg {
    Adaptive,
    Gentle,
    Warm,
    Bright,
    Punchy,
    Live,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModeArg {
    Adaptive,
    Reference,
    Hybrid,
}

fn parse_range(min: f32, max: f32) -> impl Fn(&str) -> Result<f32, String> + Clone {
    move |s| {
        let v: f32 = s.trim().parse().map_err(|_| format!("not a number: {s}"))?;
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is outside {min} to {max}"))
        }
    }
}

impl Choices {
    /// The plugin's controls these flags stand for, `--settings` and `--set` applied last.
    /// A bad ID or value is a [`controls::UsageError`].
    pub fn controls(&self) -> anyhow::Result<Controls> {
        let settings = controls::Settings::gather(self.settings.as_deref(), &self.sets)?;
        settings.apply(&self.flag_controls())
    }

    /// The controls the named flags alone stand for.
    fn flag_controls(&self) -> Controls {
        let preset = match self.preset {
            PresetArg::Adaptive => Preset::Adaptive,
            PresetArg::Gentle => Preset::Gentle,
            PresetArg::Warm => Preset::Warm,
            PresetArg::Bright => Preset::Bright,
            PresetArg::Punchy => Preset::Punchy,
            PresetArg::Live => Preset::Live,
        };
        let mode = match self.mode {
            Some(ModeArg::Adaptive) => MasteringMode::Adaptive,
            Some(ModeArg::Reference) => MasteringMode::Reference,
            Some(ModeArg::Hybrid) => MasteringMode::Hybrid,
            None if !self.references.is_empty() => MasteringMode::Reference,
            None => MasteringMode::Adaptive,
        };
        Controls {
            mode,
            preset,
            loudness_from_preset: self.target_lufs.is_none(),
            target_lufs: self.target_lufs.unwrap_or(-14.0),
            ceiling_dbtp: self.ceiling,
            intensity: self.intensity,
            ..Controls::default()
        }
    }
}

/// Runs the command line; the exit status says whether every file succeeded.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    panics::install_hook();
    let result = panics::guard("", || match cli.command {
        Command::Master(args) => batch::run(&args),
        Command::Learn(args) => learn::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Settings(args) => {
            if args.list {
                controls::print_list();
                Ok(ExitCode::SUCCESS)
            } else {
                Err(controls::UsageError("say what: `auralis settings --list`".into()).into())
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) if e.is::<controls::UsageError>() => {
            eprintln!("auralis: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("auralis: {e:#}");
            ExitCode::FAILURE
        }
    }
}
