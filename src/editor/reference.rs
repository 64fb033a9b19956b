//! Loading a reference track from a path typed (or a file dropped) into the editor.
//!
//! The file is decoded and analysed on a thread of its own, so neither the audio thread nor the
//! editor waits; the profile then goes into the plugin's saved `reference` field, which the
//! plugin hands to the analysis on its next block.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use anyhow::{Context, Result};
use egui::Ui;

use crate::analysis::{Analyzer, ReferenceProfile};
use crate::audio_file::AudioReader;
use crate::plugin::watched::Watched;

/// Frames decoded per step.
const BLOCK: usize = 1 << 14;

/// Decodes `path` and measures it whole: the profile reference mode matches.
pub fn analyse_file(path: &Path) -> Result<ReferenceProfile> {
    let mut reader = AudioReader::open(path)?;
    let channels = reader.channels();
    let mut analyzer = Analyzer::new(reader.sample_rate() as f32, channels);
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

/// What the loader is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Idle,
    Loading(String),
    Loaded(String),
    Failed(String),
}

/// The path field, the background job and its outcome.
pub struct ReferenceLoader {
    pub path: String,
    job: Option<(String, Receiver<Result<ReferenceProfile, String>>)>,
    pub state: LoadState,
}

impl Default for ReferenceLoader {
    fn default() -> Self {
        Self {
            path: String::new(),
            job: None,
            state: LoadState::Idle,
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl ReferenceLoader {
    /// Starts decoding and analysing `path` in the background.
    pub fn start(&mut self, path: PathBuf) {
        let name = file_name(&path);
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("auralis-reference".into())
            .spawn(move || {
                let result = analyse_file(&path)
                    .with_context(|| "could not use it as a reference".to_string())
                    .map_err(|e| format!("{e:#}"));
                let _ = tx.send(result);
            });
        match spawned {
            Ok(_) => {
                self.state = LoadState::Loading(name.clone());
                self.job = Some((name, rx));
            }
            Err(e) => self.state = LoadState::Failed(format!("no thread to load it on: {e}")),
        }
    }

    /// Takes a finished job's profile into `reference`. Returns whether a job is still running.
    pub fn poll(&mut self, reference: &Watched<Option<ReferenceProfile>>) -> bool {
        let Some((name, rx)) = &self.job else {
            return false;
        };
        match rx.try_recv() {
            Ok(Ok(profile)) => {
                reference.set(Some(profile));
                self.state = LoadState::Loaded(name.clone());
            }
            Ok(Err(message)) => self.state = LoadState::Failed(message),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Disconnected) => {
                self.state = LoadState::Failed("the loader stopped without an answer".into())
            }
        }
        self.job = None;
        false
    }

    /// The path field with Load and Clear, the reference in use, and a one-line message.
    pub fn draw(&mut self, ui: &mut Ui, reference: &Watched<Option<ReferenceProfile>>) {
        if self.poll(reference) {
            ui.ctx().request_repaint();
        }
        // A file dropped onto the editor loads at once.
        let dropped = ui.ctx().input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .find(|p| !p.as_os_str().is_empty())
        });
        if let Some(path) = dropped {
            self.path = path.display().to_string();
            self.start(path);
        }
        ui.horizontal(|ui| {
            ui.label("Reference file");
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.path)
                    .hint_text("/path/to/reference.wav (or drop a file)")
                    .desired_width(ui.available_width() - 120.0),
            );
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            let busy = self.job.is_some();
            let load = ui.add_enabled(!busy, egui::Button::new("Load")).clicked();
            if (load || enter) && !busy && !self.path.trim().is_empty() {
                self.start(PathBuf::from(self.path.trim()));
            }
            if ui.add_enabled(!busy, egui::Button::new("Clear")).clicked() {
                reference.set(None);
                self.state = LoadState::Idle;
            }
        });
        let profile = reference.get();
        let in_use = match (&profile, &self.state) {
            (Some(p), LoadState::Loaded(name)) => format!("In use: {name}  {}", describe(p)),
            (Some(p), _) => format!("In use: saved with the project  {}", describe(p)),
            (None, _) => "In use: none (Reference and Hybrid modes fall back to the preset)".into(),
        };
        ui.label(in_use);
        match &self.state {
            LoadState::Loading(name) => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!("Analysing {name}..."));
                });
            }
            LoadState::Failed(message) => {
                ui.colored_label(super::theme::WARN, one_line(message));
            }
            _ => {}
        }
    }
}

/// A profile's headline numbers.
pub fn describe(p: &ReferenceProfile) -> String {
    format!(
        "({:.1} LUFS, LRA {:.1} LU, crest {:.1} dB, correlation {:+.2})",
        p.integrated_lufs, p.lra_lu, p.crest_db, p.correlation
    )
}

/// The first line of `message`, shortened to fit one line.
fn one_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    if line.chars().count() > 160 {
        let cut: String = line.chars().take(157).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
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
        assert_eq!(loader.state, LoadState::Loaded("ref.wav".into()));
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
        match &loader.state {
            LoadState::Failed(m) => assert!(m.contains("reference.wav"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(reference.get().is_none());
    }
}
