//! Every parameter, grouped as the host shows them: name, a slider showing the value with its
//! unit. Drag to change (Shift for fine steps), double-click or Ctrl+click to reset, click the
//! value to type one in.

use egui::Ui;
use nice_plug::prelude::{Param, ParamSetter};
use nice_plug_egui::widgets::ParamSlider;

use crate::plugin::params::AuralisParams;

/// Room a row needs besides its slider: the longest name, the widest value, the spacing.
const ROW_TEXT_WIDTH: f32 = 190.0;
/// A slider's narrowest and widest.
const SLIDER_WIDTH: (f32, f32) = (50.0, 140.0);

/// Draws parameter rows with sliders of one width.
struct Rows<'a> {
    setter: &'a ParamSetter<'a>,
    slider_width: f32,
}

/// One parameter: its name and its slider.
fn row<P: Param>(ui: &mut Ui, param: &P, rows: &Rows) {
    ui.label(param.name());
    ui.add(ParamSlider::for_param(param, rows.setter).with_width(rows.slider_width));
    ui.end_row();
}

/// A titled group of rows.
fn group(ui: &mut Ui, title: &str, rows: impl FnOnce(&mut Ui)) {
    ui.strong(title);
    egui::Grid::new(title)
        .num_columns(2)
        .spacing([8.0, 3.0])
        .show(ui, rows);
    ui.add_space(6.0);
}

/// The parameter panel: the host's eight groups in four columns, and `compare` (the editor's
/// Compare button, no parameter) beside Bypass.
pub fn draw(ui: &mut Ui, p: &AuralisParams, setter: &ParamSetter, compare: impl FnOnce(&mut Ui)) {
    let column = ui.available_width() / 4.0;
    let s = &Rows {
        setter,
        slider_width: (column - ROW_TEXT_WIDTH).clamp(SLIDER_WIDTH.0, SLIDER_WIDTH.1),
    };
    ui.columns(4, |cols| {
        let m = &p.mastering;
        group(&mut cols[0], "Mastering", |ui| {
            row(ui, &m.mode, s);
            row(ui, &m.preset, s);
            row(ui, &m.analysis, s);
            row(ui, &m.hybrid_blend, s);
            row(ui, &m.intensity, s);
        });
        let l = &p.loudness;
        group(&mut cols[0], "Loudness", |ui| {
            row(ui, &l.from_preset, s);
            row(ui, &l.target, s);
            row(ui, &l.input_gain, s);
        });
        let t = &p.tone;
        group(&mut cols[1], "Tone", |ui| {
            row(ui, &t.enabled, s);
            row(ui, &t.amount, s);
            row(ui, &t.tilt, s);
        });
        let d = &p.dynamics;
        group(&mut cols[1], "Dynamics", |ui| {
            row(ui, &d.enabled, s);
            row(ui, &d.amount, s);
            row(ui, &d.multiband, s);
        });
        let st = &p.stereo;
        group(&mut cols[2], "Stereo", |ui| {
            row(ui, &st.enabled, s);
            row(ui, &st.width, s);
            row(ui, &st.mono_bass, s);
        });
        let r = &p.reference;
        group(&mut cols[2], "Reference Match", |ui| {
            row(ui, &r.tone, s);
            row(ui, &r.loudness, s);
            row(ui, &r.width, s);
            row(ui, &r.dynamics, s);
        });
        let li = &p.limiter;
        group(&mut cols[3], "Limiter", |ui| {
            row(ui, &li.leveler, s);
            row(ui, &li.enabled, s);
            row(ui, &li.ceiling, s);
            row(ui, &li.release, s);
            row(ui, &li.auto_release, s);
            row(ui, &li.max_limiting, s);
        });
        let o = &p.output;
        group(&mut cols[3], "Output", |ui| {
            row(ui, &o.gain, s);
            row(ui, &o.bypass, s);
            ui.label("Compare");
            compare(ui);
            ui.end_row();
        });
    });
}
