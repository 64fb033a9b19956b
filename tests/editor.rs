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
