//! The editor, headless: frames of the real UI with an egui context and a parameter setter over
//! a stand-in host, at 100 % and 200 % scale. Every parameter must have its widget (its name and
//! its value on screen), inside the window and not overlapping another parameter's name.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auralis::analysis::Listener;
use auralis::controls::Controls;
use auralis::editor::{meter_link, EditorSize, Gui, MeterTap};
use auralis::plugin::params::AuralisParams;
use auralis::session::Session;
use egui::epaint::{ClippedShape, Shape};
use egui::{Pos2, RawInput, Rect, Vec2, ViewportId};
use nice_plug::context::gui::GuiContext;
use nice_plug::prelude::*;

/// A host that accepts every parameter change and counts them.
#[derive(Default)]
struct StandInHost {
    changes: AtomicUsize,
}

impl GuiContextInner for StandInHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _param: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, _param: ParamPtr, _normalized: f32) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }
    unsafe fn raw_end_set_parameter(&self, _param: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        unreachable!("the editor does not read the state")
    }
    fn set_state(&self, _state: PluginState) {}
    fn request_restart(&self) {}
}

/// A text drawn in a frame, where it landed and what clipped it.
struct DrawnText {
    text: String,
    rect: Rect,
    clip: Rect,
}

fn collect(shape: &Shape, clip: Rect, out: &mut Vec<DrawnText>) {
    match shape {
        Shape::Vec(shapes) => shapes.iter().for_each(|s| collect(s, clip, out)),
        Shape::Text(t) => out.push(DrawnText {
            text: t.galley.text().to_string(),
            rect: Rect::from_min_size(t.pos, t.galley.size()),
            clip,
        }),
        _ => {}
    }
}

fn texts(shapes: &[ClippedShape]) -> Vec<DrawnText> {
    let mut out = Vec::new();
    for s in shapes {
        collect(&s.shape, s.clip_rect, &mut out);
    }
    out
}

/// Plays a few blocks of noise through a session, feeding the meters as the plugin does.
fn feed(tap: &mut MeterTap) {
    let mut session = Session::new(
        48_000.0,
        512,
        2,
        Controls::default(),
        Listener::inline(48_000.0, 2),
    );
    let mut seed = 1u32;
    for _ in 0..200 {
        let mut l = [0.0f32; 512];
        let mut r = [0.0f32; 512];
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *a = (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
            *b = 0.8 * *a;
        }
        let mut block: [&mut [f32]; 2] = [&mut l, &mut r];
        if tap.wanted(512, 48_000.0) {
            tap.hear_input(&block);
            session.process(&mut block);
            tap.hear_output(&block, &session);
        }
    }
}

/// Runs `frames` frames of the editor at `size` logical pixels and `scale`, returning the texts
/// of the last one and the scale egui used.
fn run(size: Vec2, scale: f32, frames: usize) -> (Vec<DrawnText>, f32, Arc<AuralisParams>) {
    let params = Arc::new(AuralisParams::default());
    let (mut tap, view) = meter_link();
    let mut gui = Gui::new(params.clone(), view);
    let host = Arc::new(StandInHost::default());
    let context = GuiContext::new(host);
    let setter = context.param_setter();
    let ctx = egui::Context::default();
    let mut last = None;
    for frame in 0..frames {
        let mut input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            ..RawInput::default()
        };
        input
            .viewports
            .entry(ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(scale);
        let mut output = ctx.run_ui(input, |ui| gui.ui(ui, &setter));
        // No renderer here to take the font atlas.
        output.textures_delta.clear();
        if frame == 0 {
            // The first frame raised the editor's flag: the audio thread now feeds the meters.
            feed(&mut tap);
        }
        last = Some(output);
    }
    let output = last.unwrap();
    (texts(&output.shapes), output.pixels_per_point, params)
}

/// Every parameter the host knows, by name, with the text its widget shows for its value.
fn host_parameters(params: &AuralisParams) -> Vec<(String, String, String)> {
    params
        .param_map()
        .into_iter()
        .map(|(id, ptr, _group)| unsafe {
            let value = ptr.normalized_value_to_string(ptr.unmodulated_normalized_value(), true);
            (id, ptr.name().to_string(), value)
        })
        .collect()
}

fn assert_every_parameter_is_shown(size: Vec2, scale: f32) {
    let (drawn, ppp, params) = run(size, scale, 3);
    assert_eq!(ppp, scale);
    let screen = Rect::from_min_size(Pos2::ZERO, size);
    let parameters = host_parameters(&params);
    assert_eq!(parameters.len(), 29);
    let mut name_rects = Vec::new();
    for (id, name, value) in &parameters {
        let label = drawn
            .iter()
            .find(|t| &t.text == name)
            .unwrap_or_else(|| panic!("no widget for parameter {id} ({name:?})"));
        assert!(
            screen.contains_rect(label.rect) && label.clip.contains_rect(label.rect),
            "{name:?} is drawn at {:?}, outside the window {screen:?} or clipped by {:?}",
            label.rect,
            label.clip
        );
        assert!(
            drawn
                .iter()
                .any(|t| &t.text == value && screen.contains_rect(t.rect)),
            "parameter {id} shows no value {value:?}"
        );
        name_rects.push((name.clone(), label.rect));
    }
    for (i, (a, ra)) in name_rects.iter().enumerate() {
        for (b, rb) in &name_rects[i + 1..] {
            assert!(
                !ra.shrink(0.5).intersects(rb.shrink(0.5)),
                "{a:?} overlaps {b:?}"
            );
        }
    }
    // The panels' own words: the meters and plots are there too.
    for must in [
        "Momentary",
        "Short-term",
        "Integrated",
        "True peak",
        "Correlation",
        "Limiter",
        "Low band",
        "EQ applied",
        "Input",
        "Output",
        "Reference file",
    ] {
        assert!(
            drawn.iter().any(|t| t.text == must),
            "no {must:?} in the editor"
        );
    }
}

#[test]
fn every_parameter_has_its_widget_at_100_percent() {
    let size = EditorSize::default();
    assert_every_parameter_is_shown(Vec2::new(size.width as f32, size.height as f32), 1.0);
}

#[test]
fn every_parameter_has_its_widget_at_200_percent() {
    let size = EditorSize::default();
    assert_every_parameter_is_shown(Vec2::new(size.width as f32, size.height as f32), 2.0);
}

#[test]
fn every_parameter_has_its_widget_at_the_smallest_size() {
    assert_every_parameter_is_shown(
        Vec2::new(
            auralis::editor::theme::MIN_WIDTH,
            auralis::editor::theme::MIN_HEIGHT,
        ),
        1.0,
    );
}

// ---------------------------------------------------------------------------------------------
// The output meters and Compare, with audio played through a session as the plugin does.

use auralis::analysis::loudness::LoudnessMeter;
use auralis::editor::loudness::level_text;
use egui::{Event, Modifiers, PointerButton};

const FS: f32 = 48_000.0;
const BLOCK: usize = 512;

/// The editor and a session wired as the plugin wires them, with everything played kept.
struct Rig {
    ctx: egui::Context,
    gui: Gui,
    context: GuiContext,
    tap: MeterTap,
    compare: Arc<auralis::editor::compare::Compare>,
    session: Session,
    controls: Controls,
    seed: u32,
    /// Every sample in and out, per channel.
    input: [Vec<f32>; 2],
    output: [Vec<f32>; 2],
    last: Vec<DrawnText>,
}

impl Rig {
    fn new(controls: Controls, listener: Listener) -> Self {
        let params = Arc::new(AuralisParams::default());
        let (tap, view) = meter_link();
        let compare = view.compare().clone();
        let session = Session::new(FS, BLOCK, 2, controls, listener);
        Self {
            ctx: egui::Context::default(),
            gui: Gui::new(params, view),
            context: GuiContext::new(Arc::new(StandInHost::default())),
            tap,
            compare,
            session,
            controls,
            seed: 1,
            input: [Vec::new(), Vec::new()],
            output: [Vec::new(), Vec::new()],
            last: Vec::new(),
        }
    }

    /// One editor frame at the default size, with `events`.
    fn frame(&mut self, events: Vec<Event>) {
        let size = EditorSize::default();
        let input = RawInput {
            screen_rect: Some(Rect::from_min_size(
                Pos2::ZERO,
                Vec2::new(size.width as f32, size.height as f32),
            )),
            events,
            ..RawInput::default()
        };
        let setter = self.context.param_setter();
        let gui = &mut self.gui;
        let mut output = self.ctx.run_ui(input, |ui| gui.ui(ui, &setter));
        output.textures_delta.clear();
        self.last = texts(&output.shapes);
    }

    /// Plays `blocks` blocks of correlated stereo noise through the session, feeding the
    /// meters and reading Compare exactly as `Auralis::process` does.
    fn play(&mut self, blocks: usize) {
        for _ in 0..blocks {
            let mut l = [0.0f32; BLOCK];
            let mut r = [0.0f32; BLOCK];
            for (a, b) in l.iter_mut().zip(r.iter_mut()) {
                self.seed = self
                    .seed
                    .wrapping_mul(1_664_525)
                    .wrapping_add(1_013_904_223);
                *a = (self.seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                *b = 0.8 * *a;
            }
            self.input[0].extend_from_slice(&l);
            self.input[1].extend_from_slice(&r);
            let mut controls = self.controls;
            controls.compare_gain_db = self.tap.compare_for(&self.session);
            self.session.set_controls(controls);
            let mut block: [&mut [f32]; 2] = [&mut l, &mut r];
            let wanted = self.tap.wanted(BLOCK, FS);
            if wanted {
                self.tap.hear_input(&block);
            }
            self.session.process(&mut block);
            if wanted {
                self.tap.hear_output(&block, &self.session);
            }
            self.output[0].extend_from_slice(&l);
            self.output[1].extend_from_slice(&r);
        }
    }

    /// Plays `seconds` with an editor frame every 64 blocks (the rings hold 128).
    fn play_drawing(&mut self, seconds: f32) {
        let blocks = (seconds * FS / BLOCK as f32) as usize;
        for _ in 0..blocks.div_ceil(64) {
            self.frame(Vec::new());
            self.play(64);
        }
        self.frame(Vec::new());
    }

    fn find(&self, pred: impl Fn(&str) -> bool) -> Option<&DrawnText> {
        self.last.iter().find(|t| pred(&t.text))
    }

    /// The texts on the row named `name`, left to right.
    fn row(&self, name: &str) -> Vec<String> {
        let label = self
            .find(|t| t == name)
            .unwrap_or_else(|| panic!("no row {name:?}"));
        let y = label.rect.center().y;
        let mut on_row: Vec<&DrawnText> = self
            .last
            .iter()
            .filter(|t| (t.rect.center().y - y).abs() < 3.0 && t.rect.left() > label.rect.left())
            .collect();
        on_row.sort_by(|a, b| a.rect.left().total_cmp(&b.rect.left()));
        on_row.iter().map(|t| t.text.clone()).collect()
    }

    /// Clicks the centre of the first text `pred` accepts (press in one frame, release in the
    /// next, as a mouse does).
    fn click(&mut self, pred: impl Fn(&str) -> bool) {
        let at = self.find(pred).expect("nothing to click").rect.center();
        let button = |pressed| Event::PointerButton {
            pos: at,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        };
        self.frame(vec![Event::PointerMoved(at), button(true)]);
        self.frame(vec![button(false)]);
        // The frame after the click shows its outcome.
        self.frame(Vec::new());
    }
}

/// A BS.1770 stereo reading of samples `from..to` of `x`, by the project's meter, over whole
/// 100 ms steps (the editor measures those only).
fn reference(
    x: &[Vec<f32>; 2],
    from: usize,
    to: usize,
) -> auralis::analysis::loudness::LoudnessReading {
    let step = FS as usize / 10;
    let to = from + (to - from) / step * step;
    let mut meter = LoudnessMeter::new(FS as u32, 2);
    meter.add(&[&x[0][from..to], &x[1][from..to]]);
    meter.reading()
}

/// A chain that only turns the music down 6 dB: the output's loudness is known.
fn six_db_down() -> Controls {
    Controls {
        eq_enabled: false,
        dynamics_enabled: false,
        stereo_enabled: false,
        leveler_enabled: false,
        output_gain_db: -6.0,
        ..Controls::default()
    }
}

#[test]
fn the_output_meters_show_the_output_measured_in_stereo() {
    let mut rig = Rig::new(six_db_down(), Listener::inline(FS, 2));
    rig.play_drawing(6.0);
    // The editor measured from its first frame's feed on: everything played here.
    let want = reference(&rig.output, 0, rig.output[0].len());
    let integrated = rig.row("Integrated");
    assert_eq!(
        integrated.last().unwrap(),
        &level_text(want.integrated, "LUFS"),
        "{integrated:?}"
    );
    assert_eq!(
        rig.row("True peak").last().unwrap(),
        &level_text(want.true_peak, "dBTP")
    );
    assert_eq!(
        rig.row("LRA").last().unwrap(),
        &format!("{:.1} LU", want.range)
    );
    assert_eq!(
        rig.row("Short-term").last().unwrap(),
        &level_text(want.short_term, "LUFS")
    );
    // The input's column is the analysis's, which heard the input 6 dB louder.
    let input = rig.frame_input_integrated();
    assert!(
        (input - want.integrated - 6.0).abs() < 0.3,
        "input {input}, output {}",
        want.integrated
    );
    // Reset starts the output's integrated loudness over.
    rig.click(|t| t == "Reset");
    assert_eq!(rig.row("Integrated").last().unwrap(), "-- LUFS");
}

impl Rig {
    /// The input's integrated loudness the editor shows, parsed from its text.
    fn frame_input_integrated(&self) -> f32 {
        let row = self.row("Integrated");
        row[0]
            .trim_end_matches(" LUFS")
            .parse()
            .unwrap_or_else(|_| panic!("{row:?}"))
    }
}

#[test]
fn compare_plays_the_aligned_input_at_the_outputs_loudness() {
    let listener = Listener::threaded(FS, 2).expect("analysis thread");
    let mut rig = Rig::new(six_db_down(), listener);
    rig.play_drawing(11.0);
    // Off, the button offers the loudness difference of the last 10 s: -6 dB here.
    assert!(rig.find(|t| t == "Compare").is_some());
    let offer = rig
        .find(|t| t.starts_with("Off ("))
        .expect("no Compare button")
        .text
        .clone();
    assert_eq!(offer, "Off (-6.0 dB)");
    assert_eq!(rig.tap.compare_for(&rig.session), None);

    rig.click(|t| t.starts_with("Off ("));
    let held = rig
        .compare
        .engaged_gain_db()
        .expect("the click engaged Compare");
    assert!((held + 6.0).abs() < 0.05, "held {held}");
    assert_eq!(rig.tap.compare_for(&rig.session), Some(held));
    assert!(rig.find(|t| t == format!("On ({held:+.1} dB)")).is_some());
    assert!(rig.find(|t| t == "Output (paused)").is_some());
    // An offline render (inline analysis) never compares, whatever the switch says.
    let offline = Session::new(FS, BLOCK, 2, six_db_down(), Listener::inline(FS, 2));
    assert_eq!(rig.tap.compare_for(&offline), None);

    // Engaged: the output is the input, delayed by the chain's latency, at the held gain.
    let from = rig.output[0].len();
    rig.play_drawing(1.0);
    let lat = rig.session.latency();
    let g = 10f32.powf(held / 20.0);
    let settle = (0.02 * FS) as usize + 64;
    for c in 0..2 {
        for n in from + settle..rig.output[c].len() {
            let want = g * rig.input[c][n - lat];
            let got = rig.output[c][n];
            assert!(
                (got - want).abs() < 1e-5,
                "channel {c}, n {n}: {got} vs {want}"
            );
        }
    }
    // Its loudness is the processed output's: 6 dB under the input, like before.
    let heard = reference(&rig.output, from + settle, rig.output[0].len()).integrated;
    let before = reference(&rig.output, from - 48_000, from).integrated;
    assert!((heard - before).abs() < 0.3, "{heard} vs {before}");

    // A second click lets go: the processed output again.
    rig.click(|t| t.starts_with("On ("));
    assert_eq!(rig.compare.engaged_gain_db(), None);
    let from = rig.output[0].len();
    rig.play(100);
    let g6 = 10f32.powf(-6.0 / 20.0);
    let n = from + 10_000;
    assert!((rig.output[0][n] - g6 * rig.input[0][n - lat]).abs() < 1e-4);
}

#[test]
fn compare_lets_go_when_the_editor_closes() {
    let listener = Listener::threaded(FS, 2).expect("analysis thread");
    let mut rig = Rig::new(six_db_down(), listener);
    rig.play_drawing(2.0);
    rig.click(|t| t.starts_with("Off ("));
    assert!(rig.compare.engaged_gain_db().is_some());
    // No editor frame for two seconds: the window was closed.
    rig.play(200);
    assert_eq!(rig.compare.engaged_gain_db(), None);
    assert_eq!(rig.tap.compare_for(&rig.session), None);
}
