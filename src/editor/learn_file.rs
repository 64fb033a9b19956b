//! "Learn from a file": the editor runs the command's pass 1 over an audio file (a rough bounce
//! of the mix) on a thread of its own and holds the result, so the next bounce equals
//! `auralis master` of that file. The held targets go into the plugin's saved `held-targets`
//! field (the plugin takes them in on its next block) and the Analysis parameter goes to Hold
//! first, so the plugin never mistakes them for a stale Hold.

use std::path::PathBuf;

use egui::Ui;
use nice_plug::prelude::ParamSetter;

use super::file_job::{dropped_file, job_line, path_field, FileJob, JobState};
use crate::analysis::{Origin, Targets};
use crate::learn;
use crate::plugin::params::{AnalysisParam, AuralisParams};

/// The path field and the background job.
#[derive(Default)]
pub struct MixLearner {
    pub path: String,
    job: FileJob<Targets>,
}

/// Holds `targets` (learned from a file): Analysis to Hold, then the targets.
pub fn hold(params: &AuralisParams, setter: &ParamSetter, targets: Targets) {
    let analysis = &params.mastering.analysis;
    setter.begin_set_parameter(analysis);
    setter.set_parameter(analysis, AnalysisParam::Hold);
    setter.end_set_parameter(analysis);
    params.held_targets.set(Some(targets));
}

impl MixLearner {
    /// Starts learning `path` with the current choices (mode, preset, target, reference).
    pub fn start(&mut self, path: PathBuf, params: &AuralisParams) {
        let controls = params.controls();
        let reference = params.reference_profile.get();
        self.job
            .start("auralis-learn", path, "could not learn from it", move |p| {
                let (mut targets, _) = learn::learn_file(p, &controls, reference.as_ref())?;
                targets.origin = Origin::File;
                Ok(targets)
            });
    }

    /// What the job is doing.
    pub fn state(&self) -> &JobState {
        &self.job.state
    }

    /// A finished job's targets, once.
    pub fn poll(&mut self) -> Option<Targets> {
        self.job.poll()
    }

    pub fn busy(&self) -> bool {
        self.job.busy()
    }

    /// The path field with Learn, and a one-line message. A file dropped on the editor is
    /// learned when `drop_here`.
    pub fn draw(
        &mut self,
        ui: &mut Ui,
        params: &AuralisParams,
        setter: &ParamSetter,
        drop_here: bool,
    ) {
        if let Some(targets) = self.poll() {
            hold(params, setter, targets);
        }
        if self.busy() {
            ui.ctx().request_repaint();
        }
        if let Some(path) = dropped_file(ui).filter(|_| drop_here) {
            self.path = path.display().to_string();
            self.start(path, params);
        }
        let busy = self.busy();
        let start = ui
            .horizontal(|ui| {
                path_field(
                    ui,
                    "Learn from a file",
                    "/path/to/rough-mix.wav: analysed whole, then held",
                    &mut self.path,
                    "Learn",
                    busy,
                )
            })
            .inner;
        if let Some(path) = start {
            self.start(path, params);
        }
        job_line(
            ui,
            self.state(),
            "Learning the whole file, as auralis master does:",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_file_is_learned_in_the_background_as_the_command_learns_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mix.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 44_100,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let noise = crate::analysis::test_signals::pink(3, 44_100 * 12, 0.1);
        for x in &noise {
            w.write_sample(*x).unwrap();
            w.write_sample(*x).unwrap();
        }
        w.finalize().unwrap();
        let params = AuralisParams::default();
        let mut learner = MixLearner::default();
        learner.start(path.clone(), &params);
        let start = Instant::now();
        let targets = loop {
            if let Some(t) = learner.poll() {
                break t;
            }
            assert!(learner.busy(), "{:?}", learner.state());
            assert!(start.elapsed() < Duration::from_secs(60), "learner hung");
            std::thread::sleep(Duration::from_millis(10));
        };
        assert_eq!(learner.state(), &JobState::Done("mix.wav".into()));
        assert_eq!(targets.origin, Origin::File);
        let (command, _) = learn::learn_file(&path, &params.controls(), None).unwrap();
        assert_eq!(targets.leveler_gain_db, command.leveler_gain_db);
        assert_eq!(targets.eq_gains_db, command.eq_gains_db);
        assert!(targets.leveler_gain_db > 3.0, "{}", targets.leveler_gain_db);

        learner.start(dir.path().join("missing.wav"), &params);
        while learner.busy() {
            learner.poll();
            std::thread::sleep(Duration::from_millis(10));
        }
        match learner.state() {
            JobState::Failed(m) => assert!(m.contains("missing.wav"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
