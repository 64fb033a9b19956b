//! The limiter against its peers: distortion on steady bass, loudness on real music.
//!
//! ```sh
//! cargo bench --bench limiter
//! ```
//!
//! Every signal is driven 6 dB into a −1 dBTP ceiling with every other stage off, through
//! Auralis's engine (default release: 100 ms, automatic; and a fixed 1000 ms release), x42 dpl
//! (true peak on, its default 10 ms release) and ZaMaximX2 (its default 25 ms release; it limits
//! sample peaks), the last two through Debian's `lv2file`. The bench installs `lv2file`,
//! `x42-plugins` and `zam-plugins` with apt when they are missing (tests never need them); without
//! them it measures Auralis alone and says so.
//!
//! - **Distortion**: 20 s of a 50 Hz sine, and of the SMPTE pair (60 Hz + 7 kHz at 4:1), at 44.1
//!   and 48 kHz; over the settled last 10 s (a whole number of periods of every tone, so a
//!   rectangular-window FFT puts each tone on its bin), the power of harmonics 2-10 against the
//!   fundamental, and of the sidebands 7 kHz ± k·60 Hz (k ≤ 6) against 7 kHz.
//! - **Loudness**: the tracks of `../shared/audio` (or `AURALIS_LIMITER_TRACKS`, paths separated by
//!   `:`), driven the same way: integrated loudness (BS.1770, the `ebur128` crate) and true peak of
//!   every output, and Auralis's loudness against x42's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use auralis::dsp::tone_meter::{harmonics_db, smpte_sidebands_db};
use auralis::engine::{Engine, Settings};
use ebur128::{EbuR128, Mode};

const DRIVE_DB: f32 = 6.0;
const CEILING_DB: f32 = -1.0;
const BLOCK: usize = 512;
const X42: &str = "http://gareus.org/oss/lv2/dpl#stereo";
const ZAM: &str = "urn:zamaudio:ZaMaximX2";

type Stereo = [Vec<f32>; 2];

fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// `lv2file` with both peers, installed with apt if missing and possible.
fn peers_available() -> bool {
    let have = || {
        Command::new("lv2file")
            .arg("-l")
            .output()
            .map(|o| {
                let list = String::from_utf8_lossy(&o.stdout).into_owned();
                list.contains(X42) && list.contains(ZAM)
            })
            .unwrap_or(false)
    };
    if have() {
        return true;
    }
    eprintln!("installing lv2file, x42-plugins and zam-plugins with apt-get ...");
    let _ = Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-q",
            "lv2file",
            "x42-plugins",
            "zam-plugins",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status();
    have()
}

/// Auralis's engine with only the limiter working.
fn auralis(fs: u32, input: &Stereo, release_ms: f32, auto: bool) -> Stereo {
    let mut settings = Settings::neutral();
    settings.ceiling_db = CEILING_DB;
    settings.limiter_release_ms = release_ms;
    settings.limiter_auto_release = auto;
    let mut engine = Engine::new(fs as f32, BLOCK, 2);
    engine.set_settings(&settings);
    engine.settle();
    let latency = engine.latency();
    let n = input[0].len();
    let mut out = input.clone();
    for c in out.iter_mut() {
        c.resize(n + latency, 0.0);
    }
    let [l, r] = &mut out;
    for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
        engine.process(&mut [bl, br]);
    }
    for c in out.iter_mut() {
        c.drain(..latency);
    }
    out
}

fn write_wav(path: &Path, fs: u32, audio: &Stereo) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: fs,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for (&l, &r) in audio[0].iter().zip(&audio[1]) {
        w.write_sample(l).unwrap();
        w.write_sample(r).unwrap();
    }
    w.finalize().unwrap();
}

fn read_wav(path: &Path) -> Stereo {
    let mut r = hound::WavReader::open(path).unwrap();
    let s: Vec<f32> = r.samples::<f32>().map(|x| x.unwrap()).collect();
    [
        s.iter().step_by(2).copied().collect(),
        s.iter().skip(1).step_by(2).copied().collect(),
    ]
}

/// Runs an LV2 plugin over `input` with `lv2file`.
fn lv2(dir: &Path, fs: u32, input: &Stereo, uri: &str, params: &[&str]) -> Stereo {
    let (inp, out) = (dir.join("in.wav"), dir.join("out.wav"));
    write_wav(&inp, fs, input);
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new("lv2file");
    cmd.arg("-i").arg(&inp).arg("-o").arg(&out);
    for p in params {
        cmd.args(["-p", p]);
    }
    let st = cmd
        .args(["-b", &BLOCK.to_string(), "--ignore-clipping", uri])
        .output()
        .expect("lv2file runs");
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    read_wav(&out)
}

/// The processors compared, by name.
fn processors(peers: bool) -> Vec<&'static str> {
    let mut v = vec!["Auralis (auto release)", "Auralis (release 1000 ms)"];
    if peers {
        v.extend(["x42 dpl (TP on)", "ZaMaximX2"]);
    }
    v
}

fn run(name: &str, dir: &Path, fs: u32, input: &Stereo) -> Stereo {
    let ceiling = format!("{CEILING_DB}");
    match name {
        "Auralis (auto release)" => auralis(fs, input, 100.0, true),
        "Auralis (release 1000 ms)" => auralis(fs, input, 1000.0, false),
        "x42 dpl (TP on)" => lv2(
            dir,
            fs,
            input,
            X42,
            &["gain:0", &format!("threshold:{ceiling}"), "truepeak:1"],
        ),
        _ => lv2(
            dir,
            fs,
            input,
            ZAM,
            &[&format!("ceil:{ceiling}"), "thresh:0"],
        ),
    }
}

/// `seconds` of `a` Hz (and `b` Hz at a quarter of its level, if not 0), peaking at +6 dBFS.
fn tones(fs: u32, seconds: f32, a: f64, b: f64) -> Stereo {
    let (ga, gb) = if b > 0.0 { (0.8, 0.2) } else { (1.0, 0.0) };
    let drive = db_to_gain(DRIVE_DB) as f64;
    let x: Vec<f32> = (0..(seconds * fs as f32) as usize)
        .map(|j| {
            let t = j as f64 / fs as f64;
            let tau = std::f64::consts::TAU;
            (drive * (ga * (tau * a * t).sin() + gb * (tau * b * t).sin())) as f32
        })
        .collect();
    [x.clone(), x]
}

fn loudness(fs: u32, audio: &Stereo) -> (f64, f64) {
    let mut m = EbuR128::new(2, fs, Mode::I | Mode::TRUE_PEAK).unwrap();
    m.add_frames_planar_f32(&[&audio[0], &audio[1]]).unwrap();
    let tp = m.true_peak(0).unwrap().max(m.true_peak(1).unwrap());
    (m.loudness_global().unwrap(), 20.0 * tp.log10())
}

/// A file as a stereo pair (a mono file on both sides).
fn decode(path: &Path) -> (u32, Stereo) {
    let (rate, mut out) = common::decode(path);
    let right = out.get(1).cloned().unwrap_or_else(|| out[0].clone());
    (rate, [out.swap_remove(0), right])
}

fn tracks() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("AURALIS_LIMITER_TRACKS") {
        return std::env::split_paths(&list).collect();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/audio");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("ogg" | "flac" | "wav")
        )
    });
    v.sort();
    v
}

fn main() {
    let peers = peers_available();
    if !peers {
        println!("lv2file, x42 dpl or ZaMaximX2 unavailable: Auralis alone");
    }
    let dir = std::env::temp_dir().join(format!("auralis-limiter-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = processors(peers);

    println!("\nDistortion, +{DRIVE_DB} dB into {CEILING_DB} dBTP, settled last 10 s of 20 s (dB)");
    println!("{:<44} {}", "signal", names.join(" | "));
    for fs in [44_100u32, 48_000] {
        let sine = tones(fs, 20.0, 50.0, 0.0);
        let pair = tones(fs, 20.0, 60.0, 7000.0);
        let thd: Vec<String> = names
            .iter()
            .map(|n| {
                let out = run(n, &dir, fs, &sine);
                format!("{:.0}", harmonics_db(&out[0], fs as f32, 10.0, 50.0))
            })
            .collect();
        let imd: Vec<String> = names
            .iter()
            .map(|n| {
                let out = run(n, &dir, fs, &pair);
                let imd = smpte_sidebands_db(&out[0], fs as f32, 10.0, 60.0, 7000.0);
                format!("{imd:.0}")
            })
            .collect();
        println!(
            "{:<44} {}",
            format!("50 Hz sine, harmonics 2-10, {fs} Hz"),
            thd.join(" | ")
        );
        println!(
            "{:<44} {}",
            format!("SMPTE 60 Hz + 7 kHz, sidebands, {fs} Hz"),
            imd.join(" | ")
        );
    }

    println!(
        "\nLoudness at +{DRIVE_DB} dB into {CEILING_DB} dBTP: integrated LUFS / true peak dBTP"
    );
    let mut deficits = Vec::new();
    for path in tracks() {
        let (fs, mut audio) = decode(&path);
        let g = db_to_gain(DRIVE_DB);
        for c in audio.iter_mut() {
            c.iter_mut().for_each(|x| *x *= g);
        }
        let mut row = Vec::new();
        let mut lufs = Vec::new();
        for n in &names {
            let out = run(n, &dir, fs, &audio);
            let (l, tp) = loudness(fs, &out);
            lufs.push(l);
            row.push(format!("{l:.2} / {tp:+.2}"));
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let vs = if peers {
            let d = lufs[0] - lufs[2];
            deficits.push(d);
            format!("  Auralis − x42: {d:+.2} LU")
        } else {
            String::new()
        };
        println!("{name:<28} {}{vs}", row.join(" | "));
    }
    if !deficits.is_empty() {
        let worst = deficits.iter().copied().fold(f64::INFINITY, f64::min);
        println!("worst Auralis (auto) − x42 dpl: {worst:+.2} LU");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
