//! Mode, preset and what the analysis is doing (continuous, learning with its progress, held),
//! with the reasons behind the current targets.

use egui::Ui;

use super::theme;
use crate::analysis::targets::{
    CompReason, EqReason, LevelerReason, Motion, Origin, Targets, WidthReason, MIN_GATED_SECONDS,
};
use crate::plugin::params::{AnalysisParam, AuralisParams};

/// The analysis's state in words, and its progress (0..1) where it is learning. Held targets
/// say where they came from, and Hold with nothing learned says so.
pub fn analysis_state(mode: AnalysisParam, t: &Targets) -> (String, Option<f32>) {
    let heard = t.measured.gated_seconds;
    match (mode, t.reasons.motion) {
        (AnalysisParam::Hold, _) | (_, Motion::Held) => (held_from(t), None),
        (AnalysisParam::Learn, _) => (
            format!("Learning: {heard:.0} s heard (Hold to keep it)"),
            Some(t.confidence),
        ),
        (AnalysisParam::Continuous, Motion::FrozenSilence) => {
            ("Continuous: paused in silence".into(), None)
        }
        (AnalysisParam::Continuous, Motion::FrozenQuiet) => {
            ("Continuous: paused in a quiet passage".into(), None)
        }
        (AnalysisParam::Continuous, _) if heard < MIN_GATED_SECONDS => (
            format!("Continuous: listening ({heard:.1} of {MIN_GATED_SECONDS:.1} s)"),
            Some(heard / MIN_GATED_SECONDS),
        ),
        (AnalysisParam::Continuous, _) => ("Continuous: following the music".into(), None),
    }
}

/// What Hold holds, and where it came from.
fn held_from(t: &Targets) -> String {
    let heard = t.measured.gated_seconds;
    if heard < MIN_GATED_SECONDS {
        return "Held: nothing learned yet, holding no processing (Learn while playing, or \
                learn from a file)"
            .into();
    }
    match t.origin {
        Origin::Listening => format!("Held: learned while playing ({heard:.0} s heard)"),
        Origin::File => format!("Held: learned from a file ({heard:.0} s)"),
        Origin::Preset => format!("Held: from a preset made by auralis learn ({heard:.0} s)"),
    }
}

fn eq_reason(r: EqReason) -> &'static str {
    r.why()
}

fn comp_reason(r: CompReason) -> &'static str {
    r.why()
}

fn leveler_reason(r: LevelerReason) -> &'static str {
    r.why()
}

fn width_reason(r: WidthReason) -> &'static str {
    r.why()
}

/// The status line and the reasons.
pub fn draw(ui: &mut Ui, p: &AuralisParams, t: &Targets) {
    let m = &p.mastering;
    ui.horizontal(|ui| {
        ui.heading("Auralis");
        ui.separator();
        ui.label(format!("Mode {}   Preset {}", m.mode, m.preset));
        ui.separator();
        let (state, progress) = analysis_state(m.analysis.value(), t);
        ui.label(state);
        if let Some(progress) = progress {
            ui.add(
                egui::ProgressBar::new(progress.clamp(0.0, 1.0))
                    .desired_width(120.0)
                    .show_percentage(),
            );
        }
        if t.loudness_shortfall_db > 0.3 {
            ui.separator();
            ui.colored_label(
                theme::WARN,
                format!("{:.1} dB short of the target", t.loudness_shortfall_db),
            );
        }
    });
    ui.label(format!(
        "EQ {}  |  Compressor {} (ratio {:.2}:1)  |  Leveler {}  |  Width {:.0} % {}",
        eq_reason(t.reasons.eq),
        comp_reason(t.reasons.comp),
        t.comp_ratio,
        leveler_reason(t.reasons.leveler),
        t.width * 100.0,
        width_reason(t.reasons.width),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_shows_progress_and_hold_says_where_its_targets_came_from() {
        let mut t = Targets::neutral();
        t.confidence = 0.4;
        t.measured.gated_seconds = 6.0;
        let (text, progress) = analysis_state(AnalysisParam::Learn, &t);
        assert!(text.starts_with("Learning: 6 s"), "{text}");
        assert_eq!(progress, Some(0.4));
        t.reasons.motion = Motion::Held;
        for (origin, words) in [
            (Origin::Listening, "learned while playing"),
            (Origin::File, "from a file"),
            (Origin::Preset, "from a preset"),
        ] {
            t.origin = origin;
            let (text, progress) = analysis_state(AnalysisParam::Hold, &t);
            assert!(text.contains(words), "{text}");
            assert_eq!(progress, None);
        }
        t.measured.gated_seconds = 0.0;
        assert!(analysis_state(AnalysisParam::Hold, &t)
            .0
            .contains("nothing learned"));
    }
}
