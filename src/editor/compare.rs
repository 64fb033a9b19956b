//! Compare: hear the unprocessed input at the processed output's loudness, to judge what the
//! processing does rather than how much louder it makes the music.
//!
//! Engaging it takes the output-minus-input loudness difference the editor measured over the
//! last [`super::levels::MATCH_SECONDS`] (see [`super::levels::Levels::matched_gain_db`]) and
//! holds it while engaged; the chain's latency-compensated bypass then plays the input at that
//! gain, crossfading and gliding in 20 ms like every other switch and gain.
//!
//! It is a momentary control of the editor: not a parameter, never saved, released when the
//! editor stops drawing (see [`super::meters::MeterTap::wanted`]) and ignored in offline renders
//! (see [`super::meters::MeterTap::compare_for`]). The editor and the audio thread share it
//! through two atomics; neither side waits.

use std::sync::atomic::{AtomicBool, Ordering};

use atomic_float::AtomicF32;
use egui::{Button, RichText, Ui};

use super::theme;
use crate::controls::MAX_COMPARE_DB;

/// The switch, shared by the editor and the audio thread.
#[derive(Debug, Default)]
pub struct Compare {
    engaged: AtomicBool,
    gain_db: AtomicF32,
}

impl Compare {
    /// Engages at `gain_db` (clamped to the chain's range), held until [`Self::release`].
    pub fn engage(&self, gain_db: f32) {
        let gain_db = if gain_db.is_finite() {
            clamp(gain_db)
        } else {
            0.0
        };
        self.gain_db.store(gain_db, Ordering::Relaxed);
        // Release: whoever sees `engaged` sees this gain.
        self.engaged.store(true, Ordering::Release);
    }

    pub fn release(&self) {
        self.engaged.store(false, Ordering::Release);
    }

    /// The held gain while engaged.
    pub fn engaged_gain_db(&self) -> Option<f32> {
        self.engaged
            .load(Ordering::Acquire)
            .then(|| self.gain_db.load(Ordering::Relaxed))
    }
}

/// The Compare button: off, it offers the gain it would apply (`matched_db`, `None` until the
/// editor has measured both sides); on, it shows the gain held. A click toggles.
pub fn draw(ui: &mut Ui, compare: &Compare, matched_db: Option<f32>) {
    let engaged = compare.engaged_gain_db();
    let text = match (engaged, matched_db) {
        (Some(db), _) => format!("On ({db:+.1} dB)"),
        (None, Some(db)) => format!("Off ({:+.1} dB)", clamp(db)),
        (None, None) => "Off (not measured)".to_owned(),
    };
    let mut label = RichText::new(text);
    if engaged.is_some() {
        label = label.color(theme::PLOT_BG);
    }
    let mut button = Button::new(label).selected(engaged.is_some());
    if engaged.is_some() {
        button = button.fill(theme::TARGET);
    }
    let response = ui.add(button).on_hover_text(
        "Plays the unprocessed input at the processed output's loudness (their difference over \
         the last 10 s, held while on), so you judge the processing, not the gain. \
         Not saved, not automatable, never in offline renders.",
    );
    if response.clicked() {
        match engaged {
            Some(_) => compare.release(),
            None => compare.engage(matched_db.unwrap_or(0.0)),
        }
    }
}

fn clamp(db: f32) -> f32 {
    db.clamp(-MAX_COMPARE_DB, MAX_COMPARE_DB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engaged_holds_its_clamped_gain_until_released() {
        let c = Compare::default();
        assert_eq!(c.engaged_gain_db(), None);
        c.engage(-5.5);
        assert_eq!(c.engaged_gain_db(), Some(-5.5));
        c.engage(100.0);
        assert_eq!(c.engaged_gain_db(), Some(MAX_COMPARE_DB));
        c.engage(f32::NAN);
        assert_eq!(c.engaged_gain_db(), Some(0.0));
        c.release();
        assert_eq!(c.engaged_gain_db(), None);
    }
}
