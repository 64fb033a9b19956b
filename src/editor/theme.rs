//! Colours and sizes the editor's panels share.

use egui::Color32;

pub const PLOT_BG: Color32 = Color32::from_rgb(18, 20, 24);
pub const GRID: Color32 = Color32::from_rgb(40, 44, 52);
pub const GRID_ZERO: Color32 = Color32::from_rgb(80, 86, 96);
pub const AXIS_TEXT: Color32 = Color32::from_rgb(120, 126, 138);
pub const BAND_SHADE: Color32 = Color32::from_rgba_premultiplied(7, 7, 7, 7);

/// What comes in.
pub const INPUT: Color32 = Color32::from_rgb(130, 140, 160);
/// What goes out.
pub const OUTPUT: Color32 = Color32::from_rgb(90, 200, 250);
/// What the analysis aims for.
pub const TARGET: Color32 = Color32::from_rgb(250, 190, 70);
/// The tonal corridor the music is kept in (a translucent band).
pub const CORRIDOR: Color32 = Color32::from_rgba_premultiplied(34, 30, 12, 40);
/// The corridor's centre line.
pub const CORRIDOR_CENTRE: Color32 = Color32::from_rgba_premultiplied(90, 76, 28, 110);
/// The EQ actually applied.
pub const EQ: Color32 = Color32::from_rgb(120, 230, 140);
/// Gain reduction.
pub const REDUCTION: Color32 = Color32::from_rgb(245, 120, 90);
/// Loudness bars.
pub const LOUDNESS: Color32 = Color32::from_rgb(110, 180, 255);
/// Something over its limit.
pub const WARN: Color32 = Color32::from_rgb(255, 80, 80);
pub const METER_BG: Color32 = Color32::from_rgb(30, 33, 38);

/// The editor's size when first opened, in logical pixels.
pub const DEFAULT_WIDTH: u32 = 1100;
pub const DEFAULT_HEIGHT: u32 = 760;
/// The smallest size the editor lays out properly in.
pub const MIN_WIDTH: f32 = 1000.0;
pub const MIN_HEIGHT: f32 = 640.0;
