//! A file decoded and analysed on a thread of its own, so neither the audio thread nor the
//! editor waits: the reference loader and "learn from a file" share it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, TryRecvError};

use anyhow::Result;

/// What a job is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Idle,
    Working(String),
    Done(String),
    Failed(String),
}

/// One background job over a file at a time, and its outcome.
pub struct FileJob<T> {
    job: Option<(String, Receiver<Result<T, String>>)>,
    pub state: JobState,
}

impl<T> Default for FileJob<T> {
    fn default() -> Self {
        Self {
            job: None,
            state: JobState::Idle,
        }
    }
}

/// The file's name, for messages.
pub fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

impl<T: Send + 'static> FileJob<T> {
    /// Runs `work` on `path` on a thread named `thread`; `failure` prefixes its error.
    pub fn start(
        &mut self,
        thread: &str,
        path: PathBuf,
        failure: &'static str,
        work: impl FnOnce(&Path) -> Result<T> + Send + 'static,
    ) {
        let name = file_name(&path);
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name(thread.into())
            .spawn(move || {
                let result = work(&path).map_err(|e| format!("{:#}", e.context(failure)));
                let _ = tx.send(result);
            });
        match spawned {
            Ok(_) => {
                self.state = JobState::Working(name.clone());
                self.job = Some((name, rx));
            }
            Err(e) => self.state = JobState::Failed(format!("no thread to work on it: {e}")),
        }
    }

    pub fn busy(&self) -> bool {
        self.job.is_some()
    }

    /// A finished job's result, once; `None` while it runs or when there is none.
    pub fn poll(&mut self) -> Option<T> {
        let (name, rx) = self.job.as_ref()?;
        let out = match rx.try_recv() {
            Ok(Ok(value)) => {
                self.state = JobState::Done(name.clone());
                Some(value)
            }
            Ok(Err(message)) => {
                self.state = JobState::Failed(message);
                None
            }
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => {
                self.state = JobState::Failed("the job stopped without an answer".into());
                None
            }
        };
        self.job = None;
        out
    }
}

/// The first line of `message`, shortened to fit one line.
pub fn one_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    if line.chars().count() > 160 {
        let cut: String = line.chars().take(157).collect();
        format!("{cut}...")
    } else {
        line.to_string()
    }
}

/// A file dropped on the editor in this frame, if any.
pub fn dropped_file(ui: &egui::Ui) -> Option<PathBuf> {
    ui.ctx().input(|i| {
        i.raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .find(|p| !p.as_os_str().is_empty())
    })
}

/// A labelled path field with its action button (disabled while `busy`); returns the path to
/// start on when the button is clicked or Enter is pressed in the field.
pub fn path_field(
    ui: &mut egui::Ui,
    label: &str,
    hint: &str,
    path: &mut String,
    action: &str,
    busy: bool,
) -> Option<PathBuf> {
    ui.label(label);
    let field = ui.add(
        egui::TextEdit::singleline(path)
            .hint_text(hint)
            .desired_width(ui.available_width() - 120.0),
    );
    let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let clicked = ui.add_enabled(!busy, egui::Button::new(action)).clicked();
    ((clicked || enter) && !busy && !path.trim().is_empty()).then(|| PathBuf::from(path.trim()))
}

/// The job's progress or failure, one line.
pub fn job_line(ui: &mut egui::Ui, state: &JobState, working: &str) {
    match state {
        JobState::Working(name) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(format!("{working} {name}..."));
            });
        }
        JobState::Failed(message) => {
            ui.colored_label(super::theme::WARN, one_line(message));
        }
        _ => {}
    }
}
