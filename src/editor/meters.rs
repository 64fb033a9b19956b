//! The hand-off from the audio thread to the editor.
//!
//! The audio thread owns a [`MeterTap`], the editor a [`MeterView`]; [`meter_link`] makes the
//! pair. While the editor is open, once per block the audio thread
//! - publishes a small fixed-size [`MeterFrame`] (gain reductions, the analysis's targets and
//!   measurements, the EQ's realised sections) through a triple buffer, and
//! - copies its input and its output, as stereo frames, into two lock-free rings for the
//!   editor's spectra and loudness meters (what does not fit is dropped; the editor catches up
//!   on the next frame). A mono chain sends `[x, 0.0]`: BS.1770 weighs that exactly as the one
//!   channel, so the editor measures every layout with one stereo meter.
//!
//! The pair also shares the editor's [`Compare`] switch, which the audio thread reads every
//! block (see [`MeterTap::compare_for`]).
//!
//! Neither allocates, locks nor waits. The editor raises a flag every frame it draws; the audio
//! thread feeds the meters only for [`FEED_SECONDS`] after it last saw the flag, so while the
//! editor is closed (or hidden) it does none of this work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::compare::Compare;
use crate::analysis::{Listener, Targets};
use crate::dsp::bark::BANDS;
use crate::dsp::biquad::BiquadCoeffs;
use crate::dsp::multiband;
use crate::session::Session;

/// Frames each ring holds: about 1.4 s at 48 kHz, far more than one editor frame.
pub const SPECTRUM_RING: usize = 1 << 16;

/// One sample of each channel: left and right (`[x, 0.0]` from a mono chain).
pub type StereoFrame = [f32; 2];

/// How long the audio thread keeps feeding the meters after the editor last drew, seconds.
pub const FEED_SECONDS: f32 = 1.0;

/// What the chain did in the last block, and what the analysis heard and decided.
#[derive(Clone, Copy, Debug)]
pub struct MeterFrame {
    /// Counts published frames, so the editor can tell a new frame from the same one read twice.
    pub sequence: u64,
    pub sample_rate: f32,
    /// The chain's channels (1 or 2): how the rings' frames mix to mono.
    pub channels: usize,
    /// The EQ's realised sections at `sample_rate` (identity where flat).
    pub eq_sections: [BiquadCoeffs; BANDS],
    /// The gain the EQ was asked for per Bark band, dB.
    pub eq_request_db: [f32; BANDS],
    /// Whether the EQ stage is switched in.
    pub eq_active: bool,
    /// The wideband compressor's gain reduction, dB (positive; 0 when multiband is in use).
    pub compressor_gr_db: f32,
    /// The multiband compressor's gain reduction per band (low, mid, high), dB.
    pub band_gr_db: [f32; multiband::BANDS],
    /// Whether the multiband compressor (rather than the wideband one) is in use.
    pub multiband: bool,
    /// The true-peak limiter's deepest gain reduction over the block, dB (positive).
    pub limiter_gr_db: f32,
    /// The leveler's gain toward the loudness target, dB.
    pub leveler_db: f32,
    /// The targets the chain follows, with the measurements and reasons behind them.
    pub targets: Targets,
}

impl Default for MeterFrame {
    fn default() -> Self {
        Self {
            sequence: 0,
            sample_rate: 48_000.0,
            channels: 2,
            eq_sections: [BiquadCoeffs::IDENTITY; BANDS],
            eq_request_db: [0.0; BANDS],
            eq_active: true,
            compressor_gr_db: 0.0,
            band_gr_db: [0.0; multiband::BANDS],
            multiband: false,
            limiter_gr_db: 0.0,
            leveler_db: 0.0,
            targets: Targets::neutral(),
        }
    }
}

impl MeterFrame {
    /// The frame describing `session` after its last block.
    pub fn of(session: &Session, sequence: u64) -> Self {
        let engine = session.engine();
        Self {
            sequence,
            sample_rate: engine.sample_rate(),
            channels: engine.channels(),
            eq_sections: engine.eq_sections(),
            eq_request_db: engine.settings().eq_gains_db,
            eq_active: engine.eq_active(),
            compressor_gr_db: engine.compressor_reduction_db(),
            band_gr_db: std::array::from_fn(|b| engine.band_reduction_db(b)),
            multiband: engine.settings().multiband,
            limiter_gr_db: engine.limiter_reduction_db(),
            leveler_db: engine.leveler_gain_db(),
            targets: *session.targets(),
        }
    }
}

/// The audio thread's end.
pub struct MeterTap {
    frame: triple_buffer::Input<MeterFrame>,
    input: rtrb::Producer<StereoFrame>,
    output: rtrb::Producer<StereoFrame>,
    compare: Arc<Compare>,
    sequence: u64,
    /// Raised by the editor every frame it draws.
    drawn: Arc<AtomicBool>,
    /// Samples left to feed since the editor last drew.
    feed_left: usize,
}

/// The editor's end.
pub struct MeterView {
    frame: triple_buffer::Output<MeterFrame>,
    input: rtrb::Consumer<StereoFrame>,
    output: rtrb::Consumer<StereoFrame>,
    compare: Arc<Compare>,
    drawn: Arc<AtomicBool>,
}

/// A connected tap and view (allocates: call it off the audio thread).
pub fn meter_link() -> (MeterTap, MeterView) {
    let (frame_in, frame_out) = triple_buffer::triple_buffer(&MeterFrame::default());
    let (input_tx, input_rx) = rtrb::RingBuffer::new(SPECTRUM_RING);
    let (output_tx, output_rx) = rtrb::RingBuffer::new(SPECTRUM_RING);
    let drawn = Arc::new(AtomicBool::new(false));
    let compare = Arc::new(Compare::default());
    (
        MeterTap {
            frame: frame_in,
            input: input_tx,
            output: output_tx,
            compare: compare.clone(),
            sequence: 0,
            drawn: drawn.clone(),
            feed_left: 0,
        },
        MeterView {
            frame: frame_out,
            input: input_rx,
            output: output_rx,
            compare,
            drawn,
        },
    )
}

/// Pushes `channels` (one or two) into `ring` as stereo frames, as much as fits.
fn push_frames(ring: &mut rtrb::Producer<StereoFrame>, channels: &[&mut [f32]]) {
    let len = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    let n = len.min(ring.slots());
    if n == 0 {
        return;
    }
    if let Ok(chunk) = ring.write_chunk_uninit(n) {
        match channels {
            [mono] => chunk.fill_from_iter(mono[..n].iter().map(|&x| [x, 0.0])),
            [l, r, ..] => chunk.fill_from_iter(l[..n].iter().zip(&r[..n]).map(|(&l, &r)| [l, r])),
            [] => 0,
        };
    }
}

impl MeterTap {
    /// Whether to feed the meters for the next `samples` (one atomic swap): only within
    /// [`FEED_SECONDS`] of the editor's last frame.
    pub fn wanted(&mut self, samples: usize, sample_rate: f32) -> bool {
        if self.drawn.swap(false, Ordering::Relaxed) {
            self.feed_left = (FEED_SECONDS * sample_rate) as usize;
        }
        let wanted = self.feed_left > 0;
        self.feed_left = self.feed_left.saturating_sub(samples);
        if !wanted {
            // Compare is a momentary control of an open editor: closing it lets go.
            self.compare.release();
        }
        wanted
    }

    /// The gain the chain's bypass plays the input at while the editor's Compare is engaged,
    /// for [`crate::controls::Controls::compare_gain_db`]. Only a realtime session compares:
    /// an offline render analyses inline (see the plugin's `activate`), so a bounce never comes
    /// out bypassed because Compare was left on.
    pub fn compare_for(&self, session: &Session) -> Option<f32> {
        match session.listener() {
            Listener::Thread { .. } => self.compare.engaged_gain_db(),
            Listener::Inline(_) | Listener::Fixed(_) => None,
        }
    }

    /// Before the chain: what comes in.
    pub fn hear_input(&mut self, channels: &[&mut [f32]]) {
        push_frames(&mut self.input, channels);
    }

    /// After the chain: what goes out, and the chain's state.
    pub fn hear_output(&mut self, channels: &[&mut [f32]], session: &Session) {
        push_frames(&mut self.output, channels);
        self.sequence += 1;
        self.frame.write(MeterFrame::of(session, self.sequence));
    }
}

impl MeterView {
    /// Tells the audio thread the editor is drawing (once per editor frame).
    pub fn drawing(&self) {
        self.drawn.store(true, Ordering::Relaxed);
    }

    /// The newest frame.
    pub fn frame(&mut self) -> MeterFrame {
        *self.frame.read()
    }

    /// Hands every input and output frame waiting in the rings to `input` and `output`.
    pub fn drain(
        &mut self,
        mut input: impl FnMut(StereoFrame),
        mut output: impl FnMut(StereoFrame),
    ) {
        drain_ring(&mut self.input, &mut input);
        drain_ring(&mut self.output, &mut output);
    }

    /// Hands every input frame waiting to `f`.
    pub fn drain_input(&mut self, mut f: impl FnMut(StereoFrame)) {
        drain_ring(&mut self.input, &mut f);
    }

    /// Hands every output frame waiting to `f`.
    pub fn drain_output(&mut self, mut f: impl FnMut(StereoFrame)) {
        drain_ring(&mut self.output, &mut f);
    }

    /// The Compare switch the audio thread reads.
    pub fn compare(&self) -> &Arc<Compare> {
        &self.compare
    }
}

fn drain_ring(ring: &mut rtrb::Consumer<StereoFrame>, f: &mut impl FnMut(StereoFrame)) {
    let n = ring.slots();
    if let Ok(chunk) = ring.read_chunk(n) {
        let (a, b) = chunk.as_slices();
        a.iter().chain(b).for_each(|&x| f(x));
        chunk.commit_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_frames_reach_the_view() {
        let (mut tap, mut view) = meter_link();
        let mut l = vec![0.5f32; 64];
        let mut r = vec![-0.5f32; 64];
        l[0] = 1.0;
        r[0] = 1.0;
        let chans: [&mut [f32]; 2] = [&mut l, &mut r];
        tap.hear_input(&chans);
        push_frames(&mut tap.output, &chans);
        let (mut ins, mut outs) = (Vec::new(), Vec::new());
        view.drain(|x| ins.push(x), |x| outs.push(x));
        assert_eq!(ins.len(), 64);
        assert_eq!(outs.len(), 64);
        // Both channels arrive, each as it was: a stereo measurement needs them apart.
        assert_eq!(ins[0], [1.0, 1.0]);
        assert_eq!(ins[1], [0.5, -0.5]);
        let mut m = [0.25f32; 8];
        tap.hear_input(&[&mut m[..]]);
        let mut mono = Vec::new();
        view.drain(|x| mono.push(x), |_| {});
        assert_eq!(mono, vec![[0.25, 0.0]; 8]);
        tap.sequence = 7;
        tap.frame.write(MeterFrame {
            sequence: 7,
            ..MeterFrame::default()
        });
        assert_eq!(view.frame().sequence, 7);
    }

    #[test]
    fn the_audio_thread_feeds_only_while_the_editor_draws() {
        let (mut tap, view) = meter_link();
        assert!(!tap.wanted(512, 48_000.0));
        view.drawing();
        let fed = (0..200).filter(|_| tap.wanted(512, 48_000.0)).count();
        assert_eq!(fed, 48_000usize.div_ceil(512));
        view.drawing();
        assert!(tap.wanted(512, 48_000.0));
    }

    #[test]
    fn compare_lets_go_when_the_editor_stops_drawing() {
        let (mut tap, view) = meter_link();
        view.drawing();
        assert!(tap.wanted(512, 48_000.0));
        view.compare().engage(-3.0);
        assert_eq!(view.compare().engaged_gain_db(), Some(-3.0));
        // Still drawing: held.
        view.drawing();
        assert!(tap.wanted(512, 48_000.0));
        assert_eq!(view.compare().engaged_gain_db(), Some(-3.0));
        // A second without a frame: released, and the editor sees it when it draws again.
        while tap.wanted(512, 48_000.0) {}
        assert_eq!(view.compare().engaged_gain_db(), None);
    }

    #[test]
    fn a_full_ring_drops_instead_of_waiting() {
        let (mut tap, mut view) = meter_link();
        let mut x = vec![0.1f32; SPECTRUM_RING + 100];
        let chans: [&mut [f32]; 1] = [&mut x];
        tap.hear_input(&chans);
        tap.hear_input(&chans);
        let mut n = 0;
        view.drain(|_| n += 1, |_| {});
        assert_eq!(n, SPECTRUM_RING);
    }
}
