//! Restoration benchmark: does Auralis leave a finished master alone, and does it bring a
//! degraded mix back toward its original, in adaptive and in reference mode, against
//! Matchering 2 on the same pairs?
//!
//! ```sh
//! cargo bench --bench restoration            # the whole corpus
//! cargo bench --bench restoration -- 4       # the first 4 tracks only
//! ```
//!
//! It installs what it needs when missing (nothing of it is committed, see `benches/common`):
//! the Debian packages `wesnoth-1.16-music` (orchestral, Ogg Vorbis) and `warzone2100-music`
//! (electronic, Opus) through `apt-get install -y`, and Matchering 2 (`pip install matchering`)
//! into a virtual environment `<target>/restoration-venv`. `benches/restoration.py` (run in that
//! environment) cuts the excerpts and runs Matchering; the work files live under
//! `<target>/restoration/`. The tracks: 6 of Wesnoth's and 4 of Warzone 2100's, evenly spaced
//! in each sorted list; the corridors (`benches/corridors.rs`) are measured on the others.
//!
//! For each track, the middle [`EXCERPT_S`] seconds:
//! - **do no harm**: `auralis master` (adaptive, defaults) on the finished excerpt;
//! - each [`DEGRADATIONS`] (a level drop plus broad shelves, a tilt or a mid scoop) mastered by
//!   `auralis master` in adaptive mode, in reference mode with the original as reference, and by
//!   Matchering 2 with the same pair.
//!
//! Auralis runs as the built `auralis` command itself (`master`, 32-bit float output), so the
//! figures are those of the command's two passes, loudness calibration and safety render.
//!
//! Metric: the long-term power spectrum of each file (Hann-windowed 8192-point FFTs, hop 4096,
//! channels summed), as band density over the 22 Bark bands from 100 Hz to 12 kHz, in dB, each
//! spectrum normalised to its own mean over those bands; the distance to the original is the
//! mean absolute difference over the 22 bands. Loudness (integrated, LUFS) and true peak (dBTP)
//! of every output are measured with the `ebur128` crate.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::run;

use auralis::dsp::bark::EDGES;
use auralis::dsp::biquad::{BiquadCoeffs, StereoBiquad};
use ebur128::{EbuR128, Mode};
use realfft::RealFftPlanner;

/// Seconds cut from the middle of each track.
const EXCERPT_S: f32 = 30.0;
/// The ceiling `auralis master` uses by default, dBTP.
const CEILING_DBTP: f64 = -1.0;
/// The adaptive preset's loudness target, LUFS.
const ADAPTIVE_TARGET_LUFS: f64 = -14.0;
/// Bark bands 1..=22 span 100 Hz to 12 kHz.
const FIRST_BAND: usize = 1;
const LAST_BAND: usize = 22;
const FFT: usize = 8192;
/// The bands the metric uses.
const BANDS_USED: usize = LAST_BAND - FIRST_BAND + 1;

/// One filter of a degradation.
#[derive(Clone, Copy)]
enum Bend {
    LowShelf { hz: f64, db: f64 },
    HighShelf { hz: f64, db: f64 },
    Peak { hz: f64, q: f64, db: f64 },
}

struct Degradation {
    name: &'static str,
    gain_db: f32,
    bends: &'static [Bend],
}

/// The degradations: each turns the track down and bends it broadly.
const DEGRADATIONS: [Degradation; 4] = [
    Degradation {
        name: "dull",
        gain_db: -6.0,
        bends: &[Bend::HighShelf {
            hz: 3000.0,
            db: -6.0,
        }],
    },
    Degradation {
        name: "thin",
        gain_db: -6.0,
        bends: &[Bend::LowShelf {
            hz: 250.0,
            db: -6.0,
        }],
    },
    Degradation {
        name: "tilt",
        gain_db: -4.0,
        bends: &[
            Bend::LowShelf { hz: 200.0, db: 3.0 },
            Bend::HighShelf {
                hz: 2500.0,
                db: -3.0,
            },
        ],
    },
    Degradation {
        name: "scoop",
        gain_db: -4.0,
        bends: &[Bend::Peak {
            hz: 1000.0,
            q: 0.7,
            db: -5.0,
        }],
    },
];

struct Audio {
    rate: u32,
    channels: Vec<Vec<f32>>,
}

fn read_wav(path: &Path) -> Audio {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let n = spec.channels as usize;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 * scale)
                .collect()
        }
    };
    let channels = (0..n)
        .map(|c| samples.iter().skip(c).step_by(n).copied().collect())
        .collect();
    Audio {
        rate: spec.sample_rate,
        channels,
    }
}

fn write_wav(path: &Path, audio: &Audio) {
    let spec = hound::WavSpec {
        channels: audio.channels.len() as u16,
        sample_rate: audio.rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..audio.channels[0].len() {
        for c in &audio.channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn degrade(audio: &Audio, d: &Degradation) -> Audio {
    let fs = audio.rate as f64;
    let mut channels = audio.channels.clone();
    let g = 10f32.powf(d.gain_db / 20.0);
    for c in channels.iter_mut() {
        for s in c.iter_mut() {
            *s *= g;
        }
    }
    for bend in d.bends {
        let coeffs = match *bend {
            Bend::LowShelf { hz, db } => BiquadCoeffs::low_shelf(hz, 0.707, db, fs),
            Bend::HighShelf { hz, db } => BiquadCoeffs::high_shelf(hz, 0.707, db, fs),
            Bend::Peak { hz, q, db } => BiquadCoeffs::peak(hz, q, db, fs),
        };
        let mut f = StereoBiquad::new(coeffs);
        let mut refs: Vec<&mut [f32]> = channels.iter_mut().map(|c| c.as_mut_slice()).collect();
        f.process(&mut refs);
    }
    Audio {
        rate: audio.rate,
        channels,
    }
}

/// What the metric needs of one file.
struct Measure {
    /// Band density over bands 1..=22, dB, mean removed.
    shape: [f64; LAST_BAND - FIRST_BAND + 1],
    lufs: f64,
    true_peak_dbtp: f64,
}

fn measure(audio: &Audio) -> Measure {
    let n = audio.channels[0].len();
    let mut planner = RealFftPlanner::<f64>::new();
    let fft = planner.plan_fft_forward(FFT);
    let window: Vec<f64> = (0..FFT)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / FFT as f64).cos())
        .collect();
    let mut power = vec![0.0f64; FFT / 2 + 1];
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut start = 0;
    while start + FFT <= n {
        for c in &audio.channels {
            for i in 0..FFT {
                input[i] = c[start + i] as f64 * window[i];
            }
            fft.process(&mut input, &mut output).unwrap();
            for (p, z) in power.iter_mut().zip(&output) {
                *p += z.norm_sqr();
            }
        }
        start += FFT / 2;
    }
    let bin_hz = audio.rate as f64 / FFT as f64;
    let mut shape = [0.0f64; LAST_BAND - FIRST_BAND + 1];
    for (k, b) in (FIRST_BAND..=LAST_BAND).enumerate() {
        let (lo, hi) = (EDGES[b] as f64, EDGES[b + 1] as f64);
        let sum: f64 = power
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                let f = *i as f64 * bin_hz;
                f >= lo && f < hi
            })
            .map(|(_, p)| p)
            .sum();
        shape[k] = 10.0 * (sum / (hi - lo) + 1e-30).log10();
    }
    let mean = shape.iter().sum::<f64>() / shape.len() as f64;
    for s in shape.iter_mut() {
        *s -= mean;
    }
    let mut meter = EbuR128::new(
        audio.channels.len() as u32,
        audio.rate,
        Mode::I | Mode::TRUE_PEAK,
    )
    .unwrap();
    let planar: Vec<&[f32]> = audio.channels.iter().map(|c| c.as_slice()).collect();
    meter.add_frames_planar_f32(&planar).unwrap();
    let peak = (0..audio.channels.len() as u32)
        .map(|c| meter.true_peak(c).unwrap())
        .fold(0.0f64, f64::max);
    Measure {
        shape,
        lufs: meter.loudness_global().unwrap(),
        true_peak_dbtp: 20.0 * peak.max(1e-10).log10(),
    }
}

/// Mean absolute band difference, dB.
fn distance(a: &Measure, b: &Measure) -> f64 {
    a.shape
        .iter()
        .zip(&b.shape)
        .map(|(x, y)| (x - y).abs())
        .sum::<f64>()
        / a.shape.len() as f64
}

/// Masters `input` to `output` with the command and returns the loudness shortfall its report
/// declares with the leveler capped at Max Limiting (dB; 0 when none).
fn master(auralis: &str, input: &Path, output: &Path, reference: Option<&Path>) -> f64 {
    if output.exists() {
        std::fs::remove_file(output).unwrap();
    }
    let report = output.with_extension("json");
    let mut cmd = Command::new(auralis);
    cmd.arg("master")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["--format", "wav32f", "--force", "--report"])
        .arg(&report);
    if let Some(r) = reference {
        cmd.arg("--reference").arg(r);
    }
    run(&mut cmd);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let file = &json["files"][0];
    if file["targets"]["reasons"]["leveler"] == "CappedByLimiter" {
        file["loudness_shortfall_db"].as_f64().unwrap_or(0.0)
    } else {
        0.0
    }
}

struct Row {
    track: String,
    /// True for the orchestral family (Wesnoth), false for the electronic one (Warzone 2100).
    orchestral: bool,
    case: &'static str,
    input: f64,
    /// The shapes of the original and (for a degraded pair) of the degraded input, for the
    /// bound of [`broad_move_bound`].
    original: [f64; BANDS_USED],
    degraded: Option<[f64; BANDS_USED]>,
    adaptive: Measure,
    reference: Option<Measure>,
    matchering: Option<Measure>,
    reference_target: f64,
    /// The shortfalls the command's report declared, dB (adaptive, reference).
    declared: (f64, f64),
}

fn main() {
    let started = Instant::now();
    let limit: Option<usize> = std::env::args().skip(1).find_map(|a| a.parse().ok());
    let target = common::target_dir();
    let work = target.join("restoration");
    std::fs::create_dir_all(&work).unwrap();
    common::ensure_packages();
    let python = common::ensure_python(&target);
    let helper = common::helper();
    let auralis = env!("CARGO_BIN_EXE_auralis");

    let mut sources = common::bench_tracks();
    if let Some(n) = limit {
        sources.truncate(n);
    }
    let excerpts = common::excerpts(&python, EXCERPT_S, &work.join("excerpts"), &sources);
    eprintln!(
        "{} excerpts of {EXCERPT_S} s ({:.0} s)",
        excerpts.len(),
        started.elapsed().as_secs_f64()
    );

    // Degrade, and run Matchering on every pair first (one Python process).
    let mut jobs = String::new();
    for x in &excerpts {
        let original = read_wav(x);
        let stem = x.file_stem().unwrap().to_string_lossy().to_string();
        for d in &DEGRADATIONS {
            let degraded = work.join(format!("{stem}.{}.wav", d.name));
            if !degraded.exists() {
                write_wav(&degraded, &degrade(&original, d));
            }
            let matched = work.join(format!("{stem}.{}.matchering.wav", d.name));
            jobs += &format!(
                "{}\t{}\t{}\n",
                degraded.display(),
                x.display(),
                matched.display()
            );
        }
    }
    let jobs_file = work.join("matchering-jobs.tsv");
    std::fs::write(&jobs_file, jobs).unwrap();
    let t = Instant::now();
    run(Command::new(&python)
        .arg(&helper)
        .arg("match")
        .arg(&jobs_file));
    eprintln!("matchering: {:.0} s", t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut rows = Vec::new();
    let orchestral: Vec<String> = common::orchestral()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    for x in &excerpts {
        let stem = x.file_stem().unwrap().to_string_lossy().to_string();
        // Excerpts are named `NN-<source stem>`.
        let is_orchestral = orchestral.iter().any(|o| stem.get(3..) == Some(o.as_str()));
        let original = measure(&read_wav(x));
        let out = work.join(format!("{stem}.auralis.wav"));
        let declared = master(auralis, x, &out, None);
        rows.push(Row {
            track: stem.clone(),
            orchestral: is_orchestral,
            case: "finished",
            input: 0.0,
            original: original.shape,
            degraded: None,
            adaptive: measure(&read_wav(&out)),
            reference: None,
            matchering: None,
            reference_target: original.lufs,
            declared: (declared, 0.0),
        });
        for d in &DEGRADATIONS {
            let degraded = work.join(format!("{stem}.{}.wav", d.name));
            let ad = work.join(format!("{stem}.{}.adaptive.wav", d.name));
            let rf = work.join(format!("{stem}.{}.reference.wav", d.name));
            let mg = work.join(format!("{stem}.{}.matchering.wav", d.name));
            let declared = (
                master(auralis, &degraded, &ad, None),
                master(auralis, &degraded, &rf, Some(x)),
            );
            let degraded = measure(&read_wav(&degraded));
            rows.push(Row {
                track: stem.clone(),
                orchestral: is_orchestral,
                case: d.name,
                input: distance(&degraded, &original),
                original: original.shape,
                degraded: Some(degraded.shape),
                adaptive: measure(&read_wav(&ad)),
                reference: Some(measure(&read_wav(&rf))),
                matchering: Some(measure(&read_wav(&mg))),
                reference_target: original.lufs,
                declared,
            });
        }
        eprintln!("{stem}: {:.0} s", t.elapsed().as_secs_f64());
        // Distances are to this track's original.
        for r in rows.iter_mut().filter(|r| r.track == stem) {
            r.adaptive.shape_distance_to(&original);
            if let Some(m) = r.reference.as_mut() {
                m.shape_distance_to(&original);
            }
            if let Some(m) = r.matchering.as_mut() {
                m.shape_distance_to(&original);
            }
        }
    }
    report(&rows);
    broad_move_bound(&rows);
    eprintln!("total: {:.0} s", started.elapsed().as_secs_f64());
}

/// How close any rule that sees only the degraded mix could come by broad moves toward its
/// family's centre line, with hindsight no rule has:
/// - the centre line of each track's family is the mean shape of the *other* finished tracks
///   of that family in this very corpus (leave one out);
/// - the moves are the least-squares fit of the degraded shape's deviation from that centre
///   onto five broad shapes (level, tilt, a 250 Hz low shelf, a 3 kHz high shelf, a bump at
///   1 kHz an octave wide), the very shapes the degradations are made of (their part outside
///   these shapes is printed, near 0);
/// - a fixed share `p` of that fit is taken out, with the best `p` for the whole corpus.
///
/// Also printed: how far the finished originals themselves lie from their family centre in
/// those broad shapes. When that exceeds the degradations, a degraded mix and a finished one
/// cannot be told apart by their broad shape, and no such rule restores every pair.
fn broad_move_bound(rows: &[Row]) {
    let centre_hz: Vec<f64> = (FIRST_BAND..=LAST_BAND)
        .map(|b| (EDGES[b] as f64 * EDGES[b + 1] as f64).sqrt())
        .collect();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let basis: Vec<[f64; 5]> = centre_hz
        .iter()
        .map(|&f| {
            let octaves = (f / 1000.0).log2();
            [
                1.0,
                octaves,
                sigmoid(2.5 * (250f64.log2() - f.log2())),
                sigmoid(2.5 * (f.log2() - 3000f64.log2())),
                (-0.5 * octaves * octaves).exp(),
            ]
        })
        .collect();
    let fit = |x: &[f64; BANDS_USED]| -> [f64; BANDS_USED] {
        // Normal equations of the five shapes, solved by Gauss-Jordan elimination.
        let mut m = [[0.0f64; 6]; 5];
        for (row, b) in basis.iter().zip(x) {
            for i in 0..5 {
                for j in 0..5 {
                    m[i][j] += row[i] * row[j];
                }
                m[i][5] += row[i] * b;
            }
        }
        for i in 0..5 {
            let pivot = m[i][i];
            for v in m[i].iter_mut() {
                *v /= pivot;
            }
            let pivot_row = m[i];
            for (k, row) in m.iter_mut().enumerate() {
                if k != i {
                    let f = row[i];
                    for (v, p) in row.iter_mut().zip(pivot_row) {
                        *v -= f * p;
                    }
                }
            }
        }
        std::array::from_fn(|b| (0..5).map(|i| basis[b][i] * m[i][5]).sum())
    };
    let mean_abs = |x: &[f64]| x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64;
    let finished: Vec<&Row> = rows.iter().filter(|r| r.degraded.is_none()).collect();
    let centre = |r: &Row| -> Option<[f64; BANDS_USED]> {
        let others: Vec<&&Row> = finished
            .iter()
            .filter(|o| o.orchestral == r.orchestral && o.track != r.track)
            .collect();
        (!others.is_empty()).then(|| {
            std::array::from_fn(|b| {
                others.iter().map(|o| o.original[b]).sum::<f64>() / others.len() as f64
            })
        })
    };
    let pairs: Vec<(&Row, [f64; BANDS_USED], [f64; BANDS_USED])> = rows
        .iter()
        .filter_map(|r| Some((r, r.degraded?, centre(r)?)))
        .collect();
    if pairs.is_empty() {
        return;
    }
    let outside: Vec<f64> = pairs
        .iter()
        .map(|(r, d, _)| {
            let bend: [f64; BANDS_USED] = std::array::from_fn(|b| d[b] - r.original[b]);
            let f = fit(&bend);
            mean_abs(&std::array::from_fn::<f64, BANDS_USED, _>(|b| {
                bend[b] - f[b]
            }))
        })
        .collect();
    let spread: Vec<f64> = finished
        .iter()
        .filter_map(|r| {
            let c = centre(r)?;
            Some(mean_abs(&fit(&std::array::from_fn(|b| {
                r.original[b] - c[b]
            }))))
        })
        .collect();
    let mut best = (f64::MAX, 0, 0.0);
    for k in 0..=20 {
        let p = k as f64 / 20.0;
        let (mut total, mut closer) = (0.0, 0);
        for (r, d, c) in &pairs {
            let f = fit(&std::array::from_fn(|b| d[b] - c[b]));
            let mut out: [f64; BANDS_USED] = std::array::from_fn(|b| d[b] - p * f[b]);
            let level = out.iter().sum::<f64>() / BANDS_USED as f64;
            for v in out.iter_mut() {
                *v -= level;
            }
            let e = mean_abs(&std::array::from_fn::<f64, BANDS_USED, _>(|b| {
                out[b] - r.original[b]
            }));
            total += e;
            closer += usize::from(e < r.input);
        }
        let mean = total / pairs.len() as f64;
        if mean < best.0 {
            best = (mean, closer, p);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "  bound of broad moves toward the family centre (leave one out, best share for the corpus): share {:.2}, mean {:.2} dB, closer than the input in {} of {}; the degradations' part outside the five broad shapes {:.2} dB; finished originals' broad distance from their family centre {:.2} dB (the degradations: {:.2} dB)",
        best.2,
        best.0,
        best.1,
        pairs.len(),
        mean(&outside),
        mean(&spread),
        mean(&pairs.iter().map(|(r, _, _)| r.input).collect::<Vec<_>>()),
    );
}

impl Measure {
    /// Replaces the shape by its difference to `original` (so `distance` is its mean |x|).
    fn shape_distance_to(&mut self, original: &Measure) {
        for (s, o) in self.shape.iter_mut().zip(&original.shape) {
            *s -= o;
        }
    }

    fn distance(&self) -> f64 {
        self.shape.iter().map(|x| x.abs()).sum::<f64>() / self.shape.len() as f64
    }
}

fn report(rows: &[Row]) {
    println!(
        "{:<28} {:<8} {:>6} {:>7} {:>7} {:>7}   {:>6} {:>6} {:>6} {:>6}   {:>5} {:>5} {:>5}",
        "track",
        "case",
        "in dB",
        "adapt",
        "ref",
        "mg2",
        "L ad",
        "L ref",
        "L mg2",
        "L goal",
        "TP ad",
        "TP rf",
        "TP mg"
    );
    let opt = |m: &Option<Measure>, f: &dyn Fn(&Measure) -> f64| {
        m.as_ref()
            .map(|m| format!("{:.2}", f(m)))
            .unwrap_or_else(|| "-".into())
    };
    for r in rows {
        println!(
            "{:<28} {:<8} {:>6.2} {:>7.2} {:>7} {:>7}   {:>6.1} {:>6} {:>6} {:>6.1}   {:>5.2} {:>5} {:>5}",
            r.track.chars().take(28).collect::<String>(),
            r.case,
            r.input,
            r.adaptive.distance(),
            opt(&r.reference, &|m| m.distance()),
            opt(&r.matchering, &|m| m.distance()),
            r.adaptive.lufs,
            opt(&r.reference, &|m| m.lufs),
            opt(&r.matchering, &|m| m.lufs),
            r.reference_target,
            r.adaptive.true_peak_dbtp,
            opt(&r.reference, &|m| m.true_peak_dbtp),
            opt(&r.matchering, &|m| m.true_peak_dbtp),
        );
    }
    let finished: Vec<&Row> = rows.iter().filter(|r| r.case == "finished").collect();
    let degraded: Vec<&Row> = rows.iter().filter(|r| r.case != "finished").collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let harm: Vec<f64> = finished.iter().map(|r| r.adaptive.distance()).collect();
    let input: Vec<f64> = degraded.iter().map(|r| r.input).collect();
    let ad: Vec<f64> = degraded.iter().map(|r| r.adaptive.distance()).collect();
    let rf: Vec<f64> = degraded
        .iter()
        .map(|r| r.reference.as_ref().unwrap().distance())
        .collect();
    let mg: Vec<f64> = degraded
        .iter()
        .map(|r| r.matchering.as_ref().unwrap().distance())
        .collect();
    let closer = degraded
        .iter()
        .filter(|r| r.adaptive.distance() < r.input)
        .count();
    let ref_le_mg = rf.iter().zip(&mg).filter(|(a, b)| a <= b).count();
    let lufs_ad: Vec<f64> = rows
        .iter()
        .map(|r| (r.adaptive.lufs - ADAPTIVE_TARGET_LUFS).abs())
        .collect();
    let lufs_rf: Vec<f64> = degraded
        .iter()
        .map(|r| (r.reference.as_ref().unwrap().lufs - r.reference_target).abs())
        .collect();
    let tp_max = rows
        .iter()
        .flat_map(|r| {
            [
                Some(r.adaptive.true_peak_dbtp),
                r.reference.as_ref().map(|m| m.true_peak_dbtp),
            ]
        })
        .flatten()
        .fold(f64::MIN, f64::max);
    println!();
    println!(
        "corpus means over {} tracks, {} degraded pairs:",
        finished.len(),
        degraded.len()
    );
    println!(
        "  do no harm (adaptive on the finished excerpt): {:.2} dB",
        mean(&harm)
    );
    println!(
        "  degraded input {:.2} dB -> adaptive {:.2} dB (closer than the input in {closer} of {}), reference {:.2} dB, Matchering 2 {:.2} dB (reference <= Matchering in {ref_le_mg} of {})",
        mean(&input),
        mean(&ad),
        degraded.len(),
        mean(&rf),
        mean(&mg),
        degraded.len()
    );
    println!(
        "  loudness: adaptive |L - {ADAPTIVE_TARGET_LUFS}| mean {:.2} max {:.2} LU; reference |L - original| mean {:.2} max {:.2} LU; highest Auralis true peak {:.2} dBTP (ceiling {CEILING_DBTP})",
        mean(&lufs_ad),
        lufs_ad.iter().fold(0.0f64, |a, b| a.max(*b)),
        mean(&lufs_rf),
        lufs_rf.iter().fold(0.0f64, |a, b| a.max(*b)),
        tp_max
    );
    // A miss over 0.3 LU is declared when the command's report says the target is out of
    // reach by about that much (within 0.1 LU).
    let short = |out: &Measure, goal: f64, declared: f64| {
        let miss = goal - out.lufs;
        (
            miss.abs() > 0.3,
            miss > 0.3 && (declared - miss).abs() <= 0.1,
        )
    };
    let tally = |cases: Vec<(bool, bool)>| {
        let n = cases.len();
        let misses = cases.iter().filter(|c| c.0).count();
        let declared = cases.iter().filter(|c| c.1).count();
        (n, misses, declared)
    };
    let ad_misses = tally(
        rows.iter()
            .map(|r| short(&r.adaptive, ADAPTIVE_TARGET_LUFS, r.declared.0))
            .collect(),
    );
    let rf_misses = tally(
        degraded
            .iter()
            .map(|r| {
                short(
                    r.reference.as_ref().unwrap(),
                    r.reference_target,
                    r.declared.1,
                )
            })
            .collect(),
    );
    println!(
        "  loudness misses over 0.3 LU: adaptive {} of {} ({} declared by the report as out of reach within Max Limiting), reference {} of {} ({} declared)",
        ad_misses.1, ad_misses.0, ad_misses.2, rf_misses.1, rf_misses.0, rf_misses.2
    );
}
