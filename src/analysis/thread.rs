//! The thin thread shell around an [`Analyzer`].
//!
//! ```text
//! audio thread ── Feeder::try_push ──► rtrb SPSC ring (interleaved f32) ──► analysis thread
//! audio thread ◄─ TargetsReader::read ◄─ triple buffer (Targets) ◄──────────┘
//! UI / host    ── AnalysisThread::set_config ─► triple buffer (Control) ──► analysis thread
//! ```
//!
//! The audio side never waits and never allocates: [`Feeder::try_push`] writes a whole block
//! into the ring or drops it (counting the dropped frames); [`TargetsReader::read`] is a
//! wait-free triple-buffer read of a `Copy` value. The analysis thread sleeps up to
//! [`POLL`] between drains and is woken by `stop`.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::analyzer::Analyzer;
use super::config::AnalysisConfig;
use super::reference::ReferenceProfile;
use super::targets::Targets;
use crate::dsp::MAX_CHANNELS;

/// How long the analysis thread sleeps when the ring is empty.
pub const POLL: Duration = Duration::from_millis(5);
/// Ring capacity, seconds of audio.
pub const RING_SECONDS: f32 = 1.0;
/// Largest number of frames analysed between two publications.
const DRAIN_FRAMES: usize = 4096;

static LIVE_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Number of analysis threads currently alive in the process (for tests and diagnostics).
pub fn live_threads() -> usize {
    LIVE_THREADS.load(Ordering::SeqCst)
}

/// What the control side sends to the analysis thread.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Control {
    config: AnalysisConfig,
    reference: Option<ReferenceProfile>,
    resets: u32,
    relearns: u32,
    /// Targets to hold (restored from a saved project), applied when `holds` changes.
    held: Targets,
    holds: u32,
}

/// The audio thread's input end.
pub struct Feeder {
    producer: rtrb::Producer<f32>,
    channels: usize,
    dropped: Arc<AtomicU64>,
}

impl Feeder {
    /// Queues one planar block (all channels of equal length; a missing second channel repeats
    /// the first). Returns false, and counts the frames as dropped, if the ring lacks room for
    /// the whole block. Never blocks, never allocates.
    pub fn try_push(&mut self, channels: &[&[f32]]) -> bool {
        let Some(first) = channels.first() else {
            return true;
        };
        let frames = first.len();
        if frames == 0 {
            return true;
        }
        let Ok(mut chunk) = self.producer.write_chunk(frames * self.channels) else {
            self.dropped.fetch_add(frames as u64, Ordering::Relaxed);
            return false;
        };
        let (a, b) = chunk.as_mut_slices();
        let ch = self.channels;
        // Interleave frame by frame across the ring's two contiguous halves.
        let (mut frame, mut c) = (0usize, 0usize);
        for d in a.iter_mut().chain(b.iter_mut()) {
            let src = channels.get(c).copied().unwrap_or(first);
            *d = src.get(frame).copied().unwrap_or(0.0);
            c += 1;
            if c == ch {
                c = 0;
                frame += 1;
            }
        }
        chunk.commit_all();
        true
    }

    /// Frames dropped so far because the ring was full.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// What the analysis thread publishes after each drain.
#[derive(Clone, Copy, Debug)]
struct Published {
    targets: Targets,
    learned: Option<Targets>,
}

impl Published {
    fn of(analyzer: &Analyzer) -> Self {
        Self {
            targets: analyzer.targets(),
            learned: analyzer.learned(),
        }
    }
}

/// The audio thread's output end: the latest published targets.
pub struct TargetsReader {
    output: triple_buffer::Output<Published>,
}

impl TargetsReader {
    /// The latest targets (wait-free; call once per block).
    pub fn read(&mut self) -> Targets {
        self.output.read().targets
    }

    /// What Learn has learned so far, as of the latest publication (see
    /// [`Analyzer::learned`]).
    pub fn learned(&mut self) -> Option<Targets> {
        self.output.read().learned
    }
}

/// Owns the analysis thread.
pub struct AnalysisThread {
    handle: Option<JoinHandle<Box<Analyzer>>>,
    stop: Arc<AtomicBool>,
    control: triple_buffer::Input<Control>,
    state: Control,
    dropped: Arc<AtomicU64>,
}

impl AnalysisThread {
    /// Starts a thread analysing `channels` (1 or 2) at `sample_rate`. Returns the owner, the
    /// audio-side feeder and the targets reader.
    pub fn start(
        sample_rate: f32,
        channels: usize,
    ) -> std::io::Result<(AnalysisThread, Feeder, TargetsReader)> {
        Self::start_with(Box::new(Analyzer::new(sample_rate, channels))).map_err(|(e, _)| e)
    }

    /// Starts a thread continuing `analyzer` (what an earlier activation learned, with its
    /// choices and reference): its targets are the first ones read. [`AnalysisThread::stop`]
    /// gives it back, and so does a failure to start the thread.
    #[allow(clippy::type_complexity)]
    pub fn start_with(
        analyzer: Box<Analyzer>,
    ) -> Result<(AnalysisThread, Feeder, TargetsReader), (std::io::Error, Box<Analyzer>)> {
        let sample_rate = analyzer.sample_rate();
        let channels = analyzer.channels();
        let capacity =
            ((sample_rate.max(8000.0) * RING_SECONDS) as usize).max(DRAIN_FRAMES) * channels;
        let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(capacity);
        let (mut targets_in, targets_out) = triple_buffer::triple_buffer(&Published::of(&analyzer));
        let state = Control {
            config: analyzer.config(),
            reference: analyzer.reference(),
            resets: 0,
            relearns: 0,
            held: Targets::neutral(),
            holds: 0,
        };
        let (control_in, mut control_out) = triple_buffer::triple_buffer(&state);
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let stop_flag = stop.clone();
        // The analyser reaches the thread through a slot, so that a failed spawn (which drops
        // the closure) does not take it along.
        let slot = Arc::new(Mutex::new(Some(analyzer)));
        let thread_slot = slot.clone();
        let spawned = std::thread::Builder::new()
            .name("auralis-analysis".into())
            .spawn(move || {
                LIVE_THREADS.fetch_add(1, Ordering::SeqCst);
                struct Alive;
                impl Drop for Alive {
                    fn drop(&mut self) {
                        LIVE_THREADS.fetch_sub(1, Ordering::SeqCst);
                    }
                }
                let _alive = Alive;
                let mut analyzer = thread_slot
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .expect("the analyser is in its slot until the thread takes it");
                drop(thread_slot);
                let mut seen = state;
                let mut planar: [Vec<f32>; MAX_CHANNELS] =
                    std::array::from_fn(|_| vec![0.0; DRAIN_FRAMES]);
                loop {
                    // Once stopped, what is left in the ring is still analysed, then the
                    // analyser goes back to the owner (see `finish`).
                    let stopping = stop_flag.load(Ordering::Acquire);
                    if control_out.update() {
                        let c = *control_out.output_buffer();
                        analyzer.set_config(c.config);
                        analyzer.set_reference(c.reference);
                        if c.resets != seen.resets {
                            analyzer.reset();
                        }
                        if c.relearns != seen.relearns {
                            analyzer.relearn();
                        }
                        if c.holds != seen.holds {
                            analyzer.hold(c.held);
                        }
                        seen = c;
                    }
                    let frames = (consumer.slots() / channels).min(DRAIN_FRAMES);
                    if frames == 0 {
                        if stopping {
                            break;
                        }
                        std::thread::park_timeout(POLL);
                        continue;
                    }
                    if let Ok(chunk) = consumer.read_chunk(frames * channels) {
                        let (a, b) = chunk.as_slices();
                        for (i, s) in a.iter().chain(b).enumerate() {
                            planar[i % channels][i / channels] = *s;
                        }
                        chunk.commit_all();
                    }
                    let [l, r] = &planar;
                    if channels > 1 {
                        analyzer.push(&[&l[..frames], &r[..frames]]);
                    } else {
                        analyzer.push(&[&l[..frames]]);
                    }
                    targets_in.write(Published::of(&analyzer));
                }
                analyzer
            });
        let handle = match spawned {
            Ok(handle) => handle,
            Err(e) => {
                let analyzer = slot
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .expect("a thread that never started left the analyser in its slot");
                return Err((e, analyzer));
            }
        };
        Ok((
            AnalysisThread {
                handle: Some(handle),
                stop,
                control: control_in,
                state,
                dropped: dropped.clone(),
            },
            Feeder {
                producer,
                channels,
                dropped,
            },
            TargetsReader {
                output: targets_out,
            },
        ))
    }

    /// Sends new choices to the thread.
    pub fn set_config(&mut self, config: AnalysisConfig) {
        self.state.config = config;
        self.control.write(self.state);
    }

    /// Sends (or clears) the reference profile.
    pub fn set_reference(&mut self, reference: Option<ReferenceProfile>) {
        self.state.reference = reference;
        self.control.write(self.state);
    }

    /// Asks the thread to clear all measurements and return to neutral targets.
    pub fn reset(&mut self) {
        self.state.resets = self.state.resets.wrapping_add(1);
        self.control.write(self.state);
    }

    /// Asks learn mode to unlock and converge again.
    pub fn relearn(&mut self) {
        self.state.relearns = self.state.relearns.wrapping_add(1);
        self.control.write(self.state);
    }

    /// Makes the thread continue from `targets` (saved held targets, restored with a project).
    pub fn hold(&mut self, targets: Targets) {
        self.state.held = targets;
        self.state.holds = self.state.holds.wrapping_add(1);
        self.control.write(self.state);
    }

    /// Frames the feeder dropped so far.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// True while the thread has not been stopped.
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Stops and joins the thread. Returns true if it was running and exited cleanly.
    pub fn stop(&mut self) -> bool {
        self.finish().is_some()
    }

    /// Stops and joins the thread, and gives back its analyser with everything it heard (what
    /// is still in the ring is analysed first). `None` if it was stopped already or panicked.
    pub fn finish(&mut self) -> Option<Box<Analyzer>> {
        let handle = self.handle.take()?;
        self.stop.store(true, Ordering::Release);
        handle.thread().unpark();
        handle.join().ok()
    }
}

impl Drop for AnalysisThread {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::test_signals::*;
    use std::time::Instant;

    #[test]
    fn start_stop_many_times_leaves_no_thread_and_feeds_targets() {
        for _ in 0..200 {
            let (mut t, _f, _r) = AnalysisThread::start(48_000.0, 2).unwrap();
            assert!(t.stop(), "join failed");
            assert!(!t.is_running());
        }
        // Drop also stops and joins.
        for _ in 0..20 {
            let _ = AnalysisThread::start(44_100.0, 1).unwrap();
        }
        assert_eq!(live_threads(), 0);

        // Audio pushed through the ring reaches the analyser and comes back as targets.
        let (mut t, mut feeder, mut reader) = AnalysisThread::start(48_000.0, 2).unwrap();
        let x = white(1, 48_000 * 8, 0.3);
        let y = white(2, 48_000 * 8, 0.3);
        for (a, b) in x.chunks(512).zip(y.chunks(512)) {
            while !feeder.try_push(&[a, b]) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut got = Targets::neutral();
        while Instant::now() < deadline {
            got = reader.read();
            if got.measured.gated_seconds > 7.0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            got.measured.gated_seconds > 7.0,
            "{}",
            got.measured.gated_seconds
        );
        assert!(got.measured.correlation.abs() < 0.1);
        assert_eq!(feeder.dropped_frames(), t.dropped_frames());
        assert!(t.stop());
        assert_eq!(live_threads(), 0);
    }

    #[test]
    fn feeder_interleaves_and_a_full_ring_drops_instead_of_waiting() {
        let (producer, mut consumer) = rtrb::RingBuffer::<f32>::new(1000);
        let dropped = Arc::new(AtomicU64::new(0));
        let mut f = Feeder {
            producer,
            channels: 2,
            dropped,
        };
        assert!(f.try_push(&[&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]]));
        let got: Vec<f32> = (0..6).map(|_| consumer.pop().unwrap()).collect();
        assert_eq!(got, vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
        // A mono block into a stereo feeder repeats the channel.
        assert!(f.try_push(&[&[5.0]]));
        assert_eq!(
            (consumer.pop().unwrap(), consumer.pop().unwrap()),
            (5.0, 5.0)
        );
        let block = [0.1f32; 400];
        assert!(f.try_push(&[&block, &block]));
        assert!(!f.try_push(&[&block, &block]));
        assert_eq!(f.dropped_frames(), 400);
        assert_eq!(consumer.slots(), 800);
    }
}
