//! What the tool tells the user about each file, printed and as JSON (`--report`).

use serde::Serialize;

use super::source::Input;
use auralis::analysis::corridor::{Corridor, Placement};
use auralis::analysis::targets::LevelerReason;

/// Loudness figures of one signal (EBU R128 / ITU-R BS.1770-4).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Loudness {
    /// Gated integrated loudness, LUFS.
    pub integrated_lufs: f32,
    /// Loudness range, LU.
    pub lra_lu: f32,
    /// Highest true peak, dBTP.
    pub true_peak_dbtp: f32,
    /// Peak-to-loudness ratio: true peak minus integrated loudness, dB.
    pub plr_db: f32,
}

/// The EQ the chain applied at one Bark band's centre.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BandGain {
    pub centre_hz: f32,
    /// The realised response of the EQ cascade at the centre, dB.
    pub gain_db: f32,
}

/// How hard the limiter worked over the whole render.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Limiting {
    /// The deepest gain reduction, dB.
    pub max_reduction_db: f32,
    /// The mean of each 512-sample block's deepest reduction, dB.
    pub mean_reduction_db: f32,
    /// Share of blocks in which the limiter reduced the gain by more than 0.1 dB.
    pub active_share: f32,
}

/// Everything about one mastered file.
#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub input: String,
    pub output: String,
    pub sample_rate: u32,
    pub channels: usize,
    pub frames: u64,
    pub seconds: f64,
    pub before: Loudness,
    pub after: Loudness,
    pub target_lufs: f32,
    pub ceiling_dbtp: f32,
    /// How far the result stays under the loudness target, when the ceiling and the most
    /// limiting allowed made the target unreachable without crushing the music.
    pub loudness_shortfall_db: Option<f32>,
    pub eq: Vec<BandGain>,
    pub compressor_threshold_db: f32,
    pub compressor_ratio: f32,
    pub leveler_gain_db: f32,
    pub width: f32,
    pub limiting: Limiting,
    /// The tonal corridor adaptive mode keeps the music in (per Bark band, dB relative to the
    /// shape's mean over 100 Hz-12 kHz) and where the input sat in it: its aligned shape, how
    /// far each band lay outside, and which bands the source has.
    pub corridor: Corridor,
    pub placement: Placement,
    /// Why the analysis chose these settings (reason codes).
    pub reasons: String,
    /// The held targets the whole file was rendered with (loading them into the plugin in Hold
    /// mode reproduces this render).
    pub targets: auralis::analysis::Targets,
    /// Lossy-stream packets that failed to decode and were skipped.
    pub skipped_packets: u64,
    /// Output samples clipped to the integer range (16/24-bit output).
    pub clipped_samples: u64,
    /// Render passes needed to land on the loudness target.
    pub renders: u32,
    /// Rounds of the loudness calibration on excerpts before the render (0: none ran).
    pub calibration_rounds: u32,
    /// NaN or infinite input samples, replaced by silence.
    pub non_finite_samples: u64,
    pub wall_seconds: f64,
    /// Seconds of audio mastered per second of wall time.
    pub realtime_factor: f64,
    /// With `--cache`: whether pass 1 came from the cache (true) or ran and was stored (false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analysis_cached: Option<bool>,
}

/// A whole run: every file, and the ones that failed.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub files: Vec<FileReport>,
    pub failures: Vec<Failure>,
    /// With `--album`: the record as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub album: Option<super::album::AlbumReport>,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub input: String,
    pub error: String,
}

impl Failure {
    pub fn new(input: &Input, error: &anyhow::Error) -> Self {
        Self {
            input: input.name(),
            error: format!("{error:#}"),
        }
    }
}

impl FileReport {
    /// A few lines a person reads after each file.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} -> {}\n  loudness {:.1} -> {:.1} LUFS (target {:.1}), true peak {:.1} -> {:.1} dBTP \
             (ceiling {:.1}), LRA {:.1} -> {:.1} LU, PLR {:.1} -> {:.1} dB\n  EQ {}\n  \
             compressor {:.1} dB at {:.2}:1, leveler {:+.1} dB, width {:.0} %, limiter max {:.1} dB \
             (mean {:.1} dB)\n  {:.1} s of audio in {:.2} s ({:.0}x realtime, {} render{})",
            self.input,
            self.output,
            self.before.integrated_lufs,
            self.after.integrated_lufs,
            self.target_lufs,
            self.before.true_peak_dbtp,
            self.after.true_peak_dbtp,
            self.ceiling_dbtp,
            self.before.lra_lu,
            self.after.lra_lu,
            self.before.plr_db,
            self.after.plr_db,
            self.eq_sketch(),
            self.compressor_threshold_db,
            self.compressor_ratio,
            self.leveler_gain_db,
            self.width * 100.0,
            self.limiting.max_reduction_db,
            self.limiting.mean_reduction_db,
            self.seconds,
            self.wall_seconds,
            self.realtime_factor,
            self.renders,
            if self.renders == 1 { "" } else { "s" },
        );
        if let Some(short) = self.loudness_shortfall_db {
            if self.targets.reasons.leveler == LevelerReason::CappedByLimiter {
                s.push_str(&format!(
                    "\n  note: the target is {short:.1} dB out of reach under the {:.1} dBTP \
                     ceiling without limiting harder than allowed",
                    self.ceiling_dbtp
                ));
            } else {
                s.push_str(&format!(
                    "\n  note: the output is {short:.1} dB under the target after {} renders",
                    self.renders
                ));
            }
        }
        for (stage, why) in self.targets.reasons.why() {
            s.push_str(&format!("\n  {stage}: {why}"));
        }
        s
    }

    /// The EQ at a few landmark bands, e.g. "60 Hz +1.2, 250 Hz -0.4, ...".
    fn eq_sketch(&self) -> String {
        [0usize, 3, 8, 13, 17, 21, 24]
            .iter()
            .filter_map(|&b| self.eq.get(b))
            .map(|g| {
                if g.centre_hz >= 1000.0 {
                    format!("{:.1}k {:+.1}", g.centre_hz / 1000.0, g.gain_db)
                } else {
                    format!("{:.0} {:+.1}", g.centre_hz, g.gain_db)
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
            + " dB"
    }
}
