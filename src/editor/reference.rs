//! Loading a reference track from a path typed (or a file dropped) into the editor.
//!
//! The file is decoded and analysed on a thread of its own, so neither the audio thread nor the
//! editor waits; the profile then goes into the plugin's saved `reference` field, which the
//! plugin hands to the analysis on its next block.

use std::path::{Path, PathBuf};

use anyhow::Result;
use egui::Ui;

use super::file_job::{dropped_file, job_line, path_field, FileJob, JobState};
use crate::analysis::{Analyzer, ReferenceProfile};
use crate::audio_file::AudioReader;
use crate::plugin::watched::Watched;

/// Frames decoded per step.
const BLOCK: usize = 1 << 14;

/// Decodes `path` and measures it whole: the profile reference mode matches.
pub fn analyse_file(path: &Path) -> Result<ReferenceProfile> {
    let mut reader = AudioReader::open(path)?;
    let channels = reader.channels();
    let mut analyzer = Analyzer::new(reader.sample_rate() as f32, channels).measure_only();
    let mut buffers = vec![vec![0.0f32; BLOCK]; channels];
    let mut frames = 0u64;
    loop {
        let n = reader.read(&mut buffers)?;
        if n == 0 {
            break;
        }
        let block: Vec<&[f32]> = buffers.iter().map(|b| &b[..n]).collect();
        analyzer.push(&block);
        frames += n as u64;
    }
    anyhow::ensure!(frames > 0, "{}: no audio in the file", path.display());
    Ok(ReferenceProfile::from_measured(&analyzer.measured()))
}

/// The path field, the background job and its outcome.
#[derive(Default)]
pub struct ReferenceLoader {
    pub path: String,
    job: FileJob<ReferenceProfile>,
}

impl ReferenceLoader {
    /// Starts decoding and analysing `path` in the background.
    pub fn start(&mut self, path: PathBuf) {
        self.job.start(
            "auralis-reference",
            path,
            "could not use it as a reference",
            analyse_file,
        );
    }

    /// What the job is doing.
    pub fn state(&self) -> &JobState {
        &self.job.state
    }

    /// Takes a finished job's profile into `reference`. Returns whether a job is still running.
    pub fn poll(&mut self, reference: &Watched<Option<ReferenceProfile>>) -> bool {
        if let Some(profile) = self.job.poll() {
            reference.set(Some(profile));
        }
        self.job.busy()
    }

    /// The path field with Load and Clear, the reference in use, and a one-line message.
    /// A dropped file loads here when `drop_here` (the other target is "learn from a file").
    pub fn draw(
        &mut self,
        ui: &mut Ui,
        reference: &Watched<Option<ReferenceProfile>>,
        drop_here: bool,
    ) {
        if self.poll(reference) {
            ui.ctx().request_repaint();
        }
        // A file dropped onto the editor loads at once.
        if let Some(path) = dropped_file(ui).filter(|_| drop_here) {
            self.path = path.display().to_string();
            self.start(path);
        }
        let busy = self.job.busy();
        ui.horizontal(|ui| {
            let hint = "/path/to/reference.wav (or drop a file)";
            if let Some(path) = path_field(ui, "Reference file", hint, &mut self.path, "Load", busy)
            {
                self.start(path);
            }
            if ui.add_enabled(!busy, egui::Button::new("Clear")).clicked() {
                reference.set(None);
                self.job.state = JobState::Idle;
            }
        });
        let profile = reference.get();
        let in_use = match (&profile, &self.job.state) {
            (Some(p), JobState::Done(name)) => format!("In use: {name}  {}", describe(p)),
            (Some(p), _) => format!("In use: saved with the project  {}", describe(p)),
            (None, _) => "In use: none (Reference and Hybrid modes fall back to the preset)".into(),
        };
        ui.label(in_use);
        job_line(ui, &self.job.state, "Analysing");
    }
}

/// A profile's headline numbers.
pub fn describe(p: &ReferenceProfile) -> String {
    format!(
        "({:.1} LUFS, LRA {:.1} LU, crest {:.1} dB, correlation {:+.2})",
        p.integrated_lufs, p.lra_lu, p.crest_db, p.correlation
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn wait(loader: &mut ReferenceLoader, reference: &Watched<Option<ReferenceProfile>>) {
        let start = Instant::now();
        while loader.poll(reference) {
            assert!(start.elapsed() < Duration::from_secs(60), "loader hung");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_wav_file_becomes_the_reference_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ref.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let noise = crate::analysis::test_signals::pink(7, 48_000 * 6, 0.3);
        for x in noise {
            w.write_sample(x).unwrap();
            w.write_sample(x).unwrap();
        }
        w.finalize().unwrap();

        let reference = Watched::new(None);
        let mut loader = ReferenceLoader::default();
        loader.start(path);
        wait(&mut loader, &reference);
        assert_eq!(loader.state(), &JobState::Done("ref.wav".into()));
        let profile = reference.get().expect("a reference");
        assert!(profile.integrated_lufs > -40.0 && profile.integrated_lufs < 0.0);
        assert!(profile.correlation > 0.99);
    }

    #[test]
    fn a_bad_path_is_a_one_line_message_and_keeps_the_reference() {
        let reference = Watched::new(None);
        let mut loader = ReferenceLoader::default();
        loader.start(PathBuf::from("/nonexistent/reference.wav"));
        wait(&mut loader, &reference);
        match loader.state() {
            JobState::Failed(m) => assert!(m.contains("reference.wav"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(reference.get().is_none());
    }
}
