//! The DAW's flows on real music, through the plugin's own session (no host): what a bounce
//! in a DAW gives against the command's two-pass master of the same audio.
//!
//! ```sh
//! cargo bench --bench daw_flow -- ../shared/audio/*.ogg
//! ```
//!
//! For each file (turned down 6 dB first, a mix under a finished master):
//! - the two-pass master (`auralis master`'s pass 1, calibration and held render);
//! - a cold bounce: an offline render with nothing learned, in Continuous and in Learn;
//! - a Hold bounce: Learn over one offline pass, the analysis carried to the next activation
//!   as the plugin carries it, Hold, a second offline pass;
//!
//! and prints each one's integrated loudness and its 3 s windows' short-term loudness against
//! the two-pass master's.

mod common;

use auralis::analysis::loudness::LoudnessMeter;
use auralis::analysis::{AnalysisMode, Analyzer, Listener};
use auralis::controls::Controls;
use auralis::learn;
use auralis::session::Session;

/// The plugin's engine block.
const HOST_BLOCK: usize = 512;
const WINDOW_S: f32 = 3.0;

fn decode(path: &str) -> (u32, Vec<Vec<f32>>) {
    common::decode(std::path::Path::new(path))
}

/// Renders `audio` through `session` in host blocks, latency removed.
fn render(session: &mut Session, audio: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let latency = session.latency();
    let frames = audio[0].len();
    let mut out: Vec<Vec<f32>> = audio
        .iter()
        .map(|c| {
            let mut v = c.clone();
            v.resize(frames + latency, 0.0);
            v
        })
        .collect();
    let trace = std::env::var_os("AURALIS_TRACE").is_some();
    let mut start = 0;
    let mut next_print = 0;
    while start < frames + latency {
        let end = (start + HOST_BLOCK).min(frames + latency);
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        session.process(&mut block);
        if trace && start >= next_print {
            let t = session.targets();
            let m = &t.measured;
            eprintln!(
                "    {:5.1} s leveler {:+6.2} programme {:6.2} integrated {:6.2} short {:6.2} peak env {:6.2} conf {:.2} {:?}",
                start as f32 / session.engine().sample_rate(),
                t.leveler_gain_db,
                m.programme_lufs,
                m.integrated_lufs,
                m.short_term_lufs,
                m.peak_envelope_dbtp,
                t.confidence,
                t.reasons.leveler
            );
            next_print += session.engine().sample_rate() as usize;
        }
        start = end;
    }
    for c in &mut out {
        c.drain(..latency);
    }
    out
}

fn integrated(sample_rate: u32, audio: &[Vec<f32>]) -> f32 {
    let mut m = LoudnessMeter::new(sample_rate, audio.len());
    let parts: Vec<&[f32]> = audio.iter().map(|c| &c[..]).collect();
    m.add(&parts);
    m.integrated()
}

/// Loudness of each whole 3 s window (ungated mean over the window's 400 ms blocks).
fn windows(sample_rate: u32, audio: &[Vec<f32>]) -> Vec<f32> {
    let w = (WINDOW_S * sample_rate as f32) as usize;
    (0..audio[0].len() / w)
        .map(|k| {
            let mut m = LoudnessMeter::new(sample_rate, audio.len());
            let parts: Vec<&[f32]> = audio.iter().map(|c| &c[k * w..(k + 1) * w]).collect();
            m.add(&parts);
            m.short_term()
        })
        .collect()
}

fn session_with(
    sample_rate: u32,
    channels: usize,
    controls: Controls,
    analyzer: Box<Analyzer>,
) -> Session {
    let mut a = analyzer;
    a.set_config(controls.analysis_config());
    Session::new(
        sample_rate as f32,
        HOST_BLOCK,
        channels,
        controls,
        Listener::Inline(a),
    )
}

fn main() {
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench daw_flow -- FILE...");
        return;
    }
    for file in files {
        let (sr, mut audio) = decode(&file);
        for c in &mut audio {
            for x in c.iter_mut() {
                *x *= 0.5;
            }
        }
        let ch = audio.len();
        let controls = Controls::default();
        // The two-pass master.
        let mut pos = 0;
        let heard = learn::listen(
            sr,
            ch,
            &controls,
            |buf| {
                let n = (audio[0].len() - pos).min(buf[0].len());
                for (b, a) in buf.iter_mut().zip(&audio) {
                    b[..n].copy_from_slice(&a[pos..pos + n]);
                }
                pos += n;
                Ok(n)
            },
            |_| {},
        )
        .unwrap();
        let (targets, _) = learn::calibrated_targets(&heard, &controls, None).unwrap();
        let mut s = Session::new(
            sr as f32,
            HOST_BLOCK,
            ch,
            controls,
            Listener::Fixed(targets),
        );
        let master = render(&mut s, &audio);
        let master_w = windows(sr, &master);

        let with_mode = |mode: AnalysisMode| Controls {
            analysis: mode,
            ..controls
        };
        let fresh = || Box::new(Analyzer::new(sr as f32, ch));
        // Cold bounces.
        let mut cold = session_with(sr, ch, with_mode(AnalysisMode::Continuous), fresh());
        let continuous = render(&mut cold, &audio);
        let mut learning = session_with(sr, ch, with_mode(AnalysisMode::Learn), fresh());
        let learn_out = render(&mut learning, &audio);
        // Carried to the next activation, then Hold.
        let carried = learning.into_analyzer().unwrap();
        let mut hold = session_with(sr, ch, with_mode(AnalysisMode::Hold), carried);
        let held = render(&mut hold, &audio);

        println!("{file}: input {:.2} LUFS", integrated(sr, &audio));
        println!(
            "  two-pass master {:.2} LUFS (leveler {:+.2} dB)",
            integrated(sr, &master),
            targets.leveler_gain_db
        );
        for (name, out) in [
            ("hold bounce", &held),
            ("cold continuous", &continuous),
            ("cold learn", &learn_out),
        ] {
            let w = windows(sr, out);
            let diffs: Vec<f32> = w.iter().zip(&master_w).map(|(a, b)| a - b).collect();
            let worst_from = |k: usize| {
                diffs
                    .iter()
                    .skip(k)
                    .fold(0.0f32, |m, d| if d.abs() > m.abs() { *d } else { m })
            };
            let first: Vec<String> = diffs.iter().take(5).map(|d| format!("{d:+.1}")).collect();
            println!(
                "  {name:<16} {:.2} LUFS; worst 3 s window from 3 s {:+.2} LU, from 6 s {:+.2} LU; first five windows {}",
                integrated(sr, out),
                worst_from(1),
                worst_from(2),
                first.join(" ")
            );
        }
        println!(
            "  held leveler {:+.2} dB vs master {:+.2} dB",
            hold.targets().leveler_gain_db,
            targets.leveler_gain_db
        );
    }
}
