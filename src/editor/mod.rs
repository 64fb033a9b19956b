//! The editor: what the analysis hears and what the chain does, and every control.
//!
//! - [`meters`]: the hand-off from the audio thread (triple buffer and sample rings);
//! - [`spectrum`]: input and output spectra over the Bark bands, with the target;
//! - [`eq_curve`]: the EQ actually applied, from the engine's own sections;
//! - [`dynamics`]: gain reduction meters with a short history;
//! - [`loudness`]: momentary, short-term, integrated, LRA, true peak, correlation, for the
//!   input (the analysis's) beside the output ([`levels`], measured here);
//! - [`compare`]: the input at the output's loudness, through the chain's bypass;
//! - [`status`]: mode, preset, the analysis's state and reasons;
//! - [`reference`]: loading a reference track from a path;
//! - [`learn_file`]: learning a whole file (the command's pass 1) and holding the result;
//! - [`file_job`]: the background thread both use;
//! - [`controls`]: every parameter, grouped as in the host;
//! - [`window`]: the plugin's `Editor`, resizable, its size saved with the plugin.

pub mod axes;
pub mod compare;
pub mod controls;
pub mod dynamics;
pub mod eq_curve;
pub mod file_job;
pub mod learn_file;
pub mod levels;
pub mod loudness;
pub mod meters;
pub mod reference;
pub mod spectrum;
pub mod status;
pub mod theme;
pub mod window;

use std::sync::{Arc, Mutex, PoisonError};

use egui::{CentralPanel, Panel, Ui};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::ParamSetter;
use nice_plug_egui::resizable_window::ResizableWindow;
use nice_plug_egui::{baseview, NiceEguiApp};
use realfft::RealFftPlanner;

pub use meters::{meter_link, MeterFrame, MeterTap, MeterView};
pub use window::{AuralisEditor, EditorSize};

use crate::analysis::targets::Motion;
use crate::plugin::params::AuralisParams;

/// Everything the editor draws from, and what it keeps between frames.
pub struct Gui {
    params: Arc<AuralisParams>,
    view: MeterView,
    gui_context: Option<GuiContext>,
    frame: MeterFrame,
    input: spectrum::Spectrum,
    output: spectrum::Spectrum,
    reductions: dynamics::Reductions,
    levels: levels::Levels,
    loader: reference::ReferenceLoader,
    learner: learn_file::MixLearner,
    /// Files dropped on the editor are learned (else they become the reference).
    drop_to_learn: bool,
}

impl Gui {
    pub fn new(params: Arc<AuralisParams>, view: MeterView) -> Self {
        let mut planner = RealFftPlanner::new();
        Self {
            params,
            view,
            gui_context: None,
            frame: MeterFrame::default(),
            input: spectrum::Spectrum::new(&mut planner),
            output: spectrum::Spectrum::new(&mut planner),
            reductions: dynamics::Reductions::default(),
            levels: levels::Levels::new(MeterFrame::default().sample_rate),
            loader: reference::ReferenceLoader::default(),
            learner: learn_file::MixLearner::default(),
            drop_to_learn: true,
        }
    }

    /// Takes in what the audio thread published since the last frame.
    fn take_in(&mut self) {
        self.view.drawing();
        self.frame = self.view.frame();
        let sample_rate = self.frame.sample_rate;
        let mono = if self.frame.channels == 1 { 1.0 } else { 0.5 };
        self.levels.follow_rate(sample_rate);
        // While Compare plays the input, the output is not the processed one: the meters pause.
        let measure = self.view.compare().engaged_gain_db().is_none();
        let (spectrum, levels) = (&mut self.input, &mut self.levels);
        self.view.drain_input(|f| {
            spectrum.push((f[0] + f[1]) * mono);
            if measure {
                levels.push_input(f);
            }
        });
        let spectrum = &mut self.output;
        self.view.drain_output(|f| {
            spectrum.push((f[0] + f[1]) * mono);
            if measure {
                levels.push_output(f);
            }
        });
        self.input.update(sample_rate);
        self.output.update(sample_rate);
        self.reductions.push(&self.frame);
    }

    /// One frame of the whole editor.
    pub fn ui(&mut self, ui: &mut Ui, setter: &ParamSetter) {
        self.take_in();
        let params = self.params.clone();
        let frame = self.frame;
        let compare = self.view.compare().clone();
        let matched = self.levels.matched_gain_db();
        let output = loudness::Side::of_reading(&self.levels.output());
        let input_reading = self.levels.input();
        ResizableWindow::new("auralis-editor")
            .min_size(egui::vec2(theme::MIN_WIDTH, theme::MIN_HEIGHT))
            .show(ui, |ui| {
                Panel::top("status").show(ui, |ui| {
                    status::draw(ui, &params, &frame.targets);
                    self.learner.draw(ui, &params, setter, self.drop_to_learn);
                    self.loader
                        .draw(ui, &params.reference_profile, !self.drop_to_learn);
                    ui.horizontal(|ui| {
                        ui.label("A dropped file is");
                        ui.radio_value(&mut self.drop_to_learn, true, "learned and held");
                        ui.radio_value(&mut self.drop_to_learn, false, "the reference");
                    });
                    ui.add_space(2.0);
                });
                Panel::bottom("parameters").show(ui, |ui| {
                    ui.add_space(4.0);
                    controls::draw(ui, &params, setter, |ui| {
                        compare::draw(ui, &compare, matched)
                    });
                });
                Panel::right("meters")
                    .exact_size(340.0)
                    .resizable(false)
                    .show(ui, |ui| {
                        // The analysis's own measurements, except in Hold, where its targets
                        // (measurements included) stay as held: then the editor's meter.
                        let input = if frame.targets.reasons.motion == Motion::Held {
                            loudness::Side::of_reading(&input_reading)
                        } else {
                            loudness::Side::of_measured(&frame.targets.measured)
                        };
                        let reset = loudness::draw(
                            ui,
                            &input,
                            &output,
                            frame.targets.measured.correlation,
                            compare.engaged_gain_db().is_some(),
                            frame.targets.target_lufs,
                            params.limiter.ceiling.value(),
                        );
                        if reset {
                            self.levels.reset();
                        }
                        ui.separator();
                        dynamics::draw(ui, &self.reductions, &frame);
                    });
                CentralPanel::default().show(ui, |ui| {
                    let rect = ui.available_rect_before_wrap();
                    let split = rect.top() + rect.height() * 0.62;
                    let top =
                        egui::Rect::from_min_max(rect.min, egui::pos2(rect.right(), split - 3.0));
                    let bottom =
                        egui::Rect::from_min_max(egui::pos2(rect.left(), split + 3.0), rect.max);
                    let config = params.controls().analysis_config();
                    spectrum::draw(ui, top, &self.input, &self.output, &frame.targets, &config);
                    eq_curve::draw(ui, bottom, &frame);
                    ui.allocate_rect(rect, egui::Sense::hover());
                });
            });
        // Meters move: keep drawing while open.
        ui.ctx().request_repaint();
    }
}

/// What nice-plug-egui runs: the [`Gui`], shared by every window the host opens.
#[derive(Clone)]
pub struct GuiHandle {
    gui: Arc<Mutex<Gui>>,
    size: crate::plugin::watched::Watched<EditorSize>,
}

impl GuiHandle {
    pub fn new(gui: Gui, size: crate::plugin::watched::Watched<EditorSize>) -> Self {
        Self {
            gui: Arc::new(Mutex::new(gui)),
            size,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Gui> {
        self.gui.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl NiceEguiApp for GuiHandle {
    fn build(
        &mut self,
        _egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), baseview::HandlerError> {
        self.lock().gui_context = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut Ui, _frame: &mut nice_plug_egui::Frame) {
        let mut gui = self.lock();
        let Some(context) = gui.gui_context.clone() else {
            return;
        };
        let setter = context.param_setter();
        gui.ui(ui, &setter);
    }

    fn resized(&mut self, new_size: baseview::WindowSize) {
        let size = EditorSize {
            width: new_size.logical.width.round() as u32,
            height: new_size.logical.height.round() as u32,
        };
        if size.width > 0 && size.height > 0 && size != self.size.get() {
            self.size.set(size);
        }
    }
}

/// Builds the editor for `params`, with the audio thread's end of the meters.
pub fn create(params: Arc<AuralisParams>) -> (AuralisEditor, MeterTap) {
    let (tap, view) = meter_link();
    let size = params.editor_size.clone();
    let gui = Gui::new(params, view);
    (
        AuralisEditor::new(size.clone(), GuiHandle::new(gui, size)),
        tap,
    )
}
