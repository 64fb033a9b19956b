//! Atomic WAV and FLAC output for the command-line tool.
//!
//! [`AtomicWavWriter`] writes to a hidden temporary file in the destination
//! directory and renames it onto the final path only in
//! [`AtomicWavWriter::finish`], after flushing and fsyncing. If the writer is
//! dropped without `finish` (an error, a panic, an early return) the temporary
//! file is removed, so an interrupted run never leaves a half-written file.
//! [`write_atomically`] does the same for a file written at once (a preset,
//! a report).
//!
//! 16- and 24-bit output is TPDF dithered (the sum of two independent uniform
//! values of ±½ LSB each, so ±1 LSB peak and a variance of LSB²/6) and clipped
//! to the integer range; 32-bit float output writes the samples unchanged. FLAC output
//! (16 or 24-bit, dithered the same way) is encoded by [`super::flac`]. The input's tags
//! ([`Tags`]) go into a `LIST`/`INFO` chunk ahead of a WAV's data, or Vorbis comments in FLAC.
//!
//! The file is written here rather than by `hound` (which the tests use to read
//! it back): `hound` writes sample by sample through a generic call each, a
//! sixth of the whole command's time on a 24-bit master; here a block is packed
//! into bytes in one loop and written at once. The header is the one `hound`
//! writes: `PCMWAVEFORMAT` for 16-bit, `WAVEFORMATEXTENSIBLE` for 24-bit and
//! float.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};

use super::dither::{Dither, NoiseShaper};
use super::flac::FlacEncoder;
use super::tags::Tags;

/// Container and sample format of the written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// 16-bit integer PCM, TPDF dithered.
    Wav16,
    /// 24-bit integer PCM, TPDF dithered.
    Wav24,
    /// 32-bit IEEE float, samples written as they are.
    Wav32Float,
    /// 16-bit FLAC, TPDF dithered.
    Flac16,
    /// 24-bit FLAC, TPDF dithered.
    Flac24,
}

impl OutputFormat {
    /// Bits per sample in the file.
    pub fn bits(self) -> u16 {
        match self {
            OutputFormat::Wav16 | OutputFormat::Flac16 => 16,
            OutputFormat::Wav24 | OutputFormat::Flac24 => 24,
            OutputFormat::Wav32Float => 32,
        }
    }

    /// True for the FLAC formats.
    pub fn is_flac(self) -> bool {
        matches!(self, OutputFormat::Flac16 | OutputFormat::Flac24)
    }

    /// The file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        if self.is_flac() {
            "flac"
        } else {
            "wav"
        }
    }
}

impl FromStr for OutputFormat {
    type Err = anyhow::Error;

    /// Parses `wav16`, `wav24`, `wav32f`, `flac16` or `flac24` (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "wav16" => Ok(OutputFormat::Wav16),
            "wav24" => Ok(OutputFormat::Wav24),
            "wav32f" => Ok(OutputFormat::Wav32Float),
            "flac16" => Ok(OutputFormat::Flac16),
            "flac24" => Ok(OutputFormat::Flac24),
            _ => bail!(
                "unknown output format '{s}': expected wav16, wav24, wav32f, flac16 or flac24"
            ),
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputFormat::Wav16 => "wav16",
            OutputFormat::Wav24 => "wav24",
            OutputFormat::Wav32Float => "wav32f",
            OutputFormat::Flac16 => "flac16",
            OutputFormat::Flac24 => "flac24",
        })
    }
}

/// True if `a` and `b` name the same existing file (after resolving `..`,
/// symlinks and relative paths). False if either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Small deterministic PRNG (xorshift64*) for dither; the crate has no `rand`.
#[derive(Clone, Debug)]
pub struct Xorshift64 {
    state: u64,
}

impl Xorshift64 {
    /// Creates a generator; a zero seed is replaced by a fixed non-zero one.
    pub fn new(seed: u64) -> Self {
        Xorshift64 {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// TPDF dither in LSB: sum of two independent uniform ±½ values (23 bits
    /// from each 32-bit half of one draw), so it lies in [-1, 1) with mean 0
    /// and variance 1/6.
    #[inline]
    pub fn tpdf(&mut self) -> f64 {
        let r = self.next_u64();
        // Each uniform is the 23 bits set as the mantissa of an f32 in [1, 2): no integer to
        // float conversion. Their sum, in f64, is exact.
        let a = f32::from_bits(0x3f80_0000 | (r >> 41) as u32);
        let b = f32::from_bits(0x3f80_0000 | ((r as u32) >> 9));
        (a as f64 + b as f64) - 3.0
    }
}

/// TPDF dither from four interleaved [`Xorshift64`] generators: four independent recurrences
/// run side by side, where a single one makes every sample wait for the one before.
#[derive(Clone, Debug)]
pub struct TpdfDither {
    lanes: [Xorshift64; 4],
    /// The lane of the next value.
    next: usize,
}

impl TpdfDither {
    /// Four generators seeded from `seed`, each a different offset along the golden ratio and
    /// run a few steps so that their outputs are unrelated from the start.
    pub fn new(seed: u64) -> Self {
        let lanes = std::array::from_fn(|i| {
            let mut g = Xorshift64::new(
                seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            );
            for _ in 0..8 {
                g.next_u64();
            }
            g
        });
        TpdfDither { lanes, next: 0 }
    }

    /// Fills `out` with the next TPDF dither values in LSB (see [`Xorshift64::tpdf`]). Value
    /// `n` of the whole sequence comes from lane `n % 4`, so the sequence does not depend on
    /// how it is split into blocks.
    pub fn fill(&mut self, out: &mut [f64]) {
        let lead = ((4 - self.next) % 4).min(out.len());
        let (head, body) = out.split_at_mut(lead);
        for d in head {
            *d = self.lanes[self.next].tpdf();
            self.next = (self.next + 1) % 4;
        }
        let whole = body.len() / 4 * 4;
        let (body, rest) = body.split_at_mut(whole);
        fill_lanes_wide(&mut self.lanes, body);
        for d in rest {
            *d = self.lanes[self.next].tpdf();
            self.next = (self.next + 1) % 4;
        }
    }
}

/// The four dither generators over `out` (a multiple of four long), value `n` from lane `n % 4`.
#[inline(always)]
fn fill_lanes(lanes: &mut [Xorshift64; 4], out: &mut [f64]) {
    for c in out.chunks_exact_mut(4) {
        for (d, g) in c.iter_mut().zip(lanes.iter_mut()) {
            *d = g.tpdf();
        }
    }
}

/// Quantises `samples` plus the dither `noise` (in LSB) at `scale` into `ints`, clamped to
/// `[lo, hi]`; returns how many were clamped. A NaN is written as silence.
#[inline(always)]
fn quantise(
    ints: &mut [i32],
    samples: &[f32],
    noise: &[f64],
    scale: f64,
    [lo, hi]: [i32; 2],
) -> u64 {
    // Adding 1.5 * 2^52 rounds an f64 of magnitude under 2^51 to the nearest integer (ties to
    // even), without a call into libm; within the i32 range it leaves the rounded integer in
    // the low 32 bits of the sum, in two's complement.
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let mut clipped = 0u64;
    for ((q, &x), &d) in ints.iter_mut().zip(samples).zip(noise) {
        let x = if x.is_nan() { 0.0 } else { x };
        let v = (x as f64 * scale + d).clamp(-2_147_483_648.0, 2_147_483_647.0);
        let n = (v + ROUND).to_bits() as i32;
        clipped += u64::from((n > hi) | (n < lo));
        *q = n.clamp(lo, hi);
    }
    clipped
}

/// Run-time choice of vector width for the encoder's kernels (the plain lane loops above,
/// compiled three times). Written by hand because the encoder was measured at 11 % of a whole
/// `auralis master`: the dither's 64-bit multiply has no SSE2 or AVX2 instruction, AVX-512 DQ
/// has one, and AVX2 doubles the quantiser's width. Only integer operations, conversions and
/// IEEE additions and multiplications run (no FMA), so every build writes identical bytes.
mod wide {
    /// True if the CPU has AVX-512 F, DQ and VL (detected at run time, cached by `std`).
    pub fn has_avx512dq() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512dq")
                && std::is_x86_feature_detected!("avx512vl")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    /// Defines `$name`, which runs the `#[inline(always)]` kernel `$kernel` compiled for
    /// AVX-512 DQ, else AVX2, else as built, by what the CPU has.
    macro_rules! dispatched {
        (fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),*) -> $ret:ty;) => {
            fn $name($($arg: $ty),*) -> $ret {
                #[cfg(target_arch = "x86_64")]
                {
                    #[target_feature(enable = "avx512f,avx512dq,avx512vl")]
                    unsafe fn avx512($($arg: $ty),*) -> $ret {
                        $kernel($($arg),*)
                    }
                    #[target_feature(enable = "avx2")]
                    unsafe fn avx2($($arg: $ty),*) -> $ret {
                        $kernel($($arg),*)
                    }
                    if wide::has_avx512dq() {
                        // SAFETY: the CPU has AVX-512 F, DQ and VL, checked just above.
                        return unsafe { avx512($($arg),*) };
                    }
                    if auralis::dsp::dispatch::has_avx2() {
                        // SAFETY: the CPU has AVX2, checked just above.
                        return unsafe { avx2($($arg),*) };
                    }
                }
                $kernel($($arg),*)
            }
        };
    }
    pub(super) use dispatched;
}

wide::dispatched! {
    fn fill_lanes_wide => fill_lanes(lanes: &mut [Xorshift64; 4], out: &mut [f64]) -> ();
}
wide::dispatched! {
    fn quantise_wide => quantise(ints: &mut [i32], samples: &[f32], noise: &[f64], scale: f64, bounds: [i32; 2]) -> u64;
}

/// Packs 24-bit samples (the low three bytes of each `i32`) into `bytes`, little-endian: four
/// samples make three 32-bit words.
fn pack_24(ints: &[i32], bytes: &mut Vec<u8>) {
    bytes.resize(ints.len() * 3, 0);
    let mut out = bytes.chunks_exact_mut(12);
    let mut quads = ints.chunks_exact(4);
    for (o, q) in (&mut out).zip(&mut quads) {
        let [a, b, c, d] = [q[0] as u32, q[1] as u32, q[2] as u32, q[3] as u32];
        let words = [
            (a & 0x00ff_ffff) | (b << 24),
            ((b >> 8) & 0xffff) | (c << 16),
            ((c >> 16) & 0xff) | (d << 8),
        ];
        o[0..4].copy_from_slice(&words[0].to_le_bytes());
        o[4..8].copy_from_slice(&words[1].to_le_bytes());
        o[8..12].copy_from_slice(&words[2].to_le_bytes());
    }
    for (o, &q) in out
        .into_remainder()
        .chunks_exact_mut(3)
        .zip(quads.remainder())
    {
        o.copy_from_slice(&q.to_le_bytes()[..3]);
    }
}

/// Fixed dither seed: output files are reproducible bit for bit.
const DITHER_SEED: u64 = 0x00A7_1A15_D17E_5EED;

/// A WAV writer that only ever leaves a complete file at the final path.
pub struct AtomicWavWriter {
    final_path: PathBuf,
    tmp_path: PathBuf,
    /// `None` once finished.
    writer: Option<BufWriter<File>>,
    /// Bytes of samples written, and where the data chunk's size goes in the header.
    data_bytes: u64,
    data_size_at: u64,
    /// One block's samples, packed.
    bytes: Vec<u8>,
    /// Second handle on the temporary file, used to fsync it.
    sync_handle: File,
    format: OutputFormat,
    channels: usize,
    dither: TpdfDither,
    /// One block's dither values, interleaved as the samples are.
    noise: Vec<f64>,
    /// One block's samples interleaved, and quantised.
    interleaved: Vec<f32>,
    ints: Vec<i32>,
    clipped: u64,
    frames: u64,
    /// The FLAC formats' encoder; `None` for WAV.
    flac: Option<FlacEncoder>,
    /// The dither applied (see [`AtomicWavWriter::set_dither`]).
    dither_kind: Dither,
    /// One error feedback per channel, when the dither is shaped.
    shapers: Vec<NoiseShaper>,
    sample_rate: u32,
}

impl AtomicWavWriter {
    /// Starts writing `final_path` via a hidden temporary file beside it
    /// (`.NAME.auralis-PID.tmp`).
    ///
    /// Fails if `final_path` exists and `force` is false, if `channels` is not
    /// 1 or 2, or if the temporary file cannot be created.
    pub fn create(
        final_path: &Path,
        sample_rate: u32,
        channels: usize,
        format: OutputFormat,
        force: bool,
    ) -> Result<AtomicWavWriter> {
        Self::create_tagged(
            final_path,
            sample_rate,
            channels,
            format,
            force,
            &Tags::default(),
        )
    }

    /// Like [`AtomicWavWriter::create`], writing `tags` into the file.
    pub fn create_tagged(
        final_path: &Path,
        sample_rate: u32,
        channels: usize,
        format: OutputFormat,
        force: bool,
        tags: &Tags,
    ) -> Result<AtomicWavWriter> {
        let shown = final_path.display();
        if !(1..=2).contains(&channels) {
            bail!("{shown}: cannot write {channels} channels (1 or 2 only)");
        }
        if sample_rate == 0 {
            bail!("{shown}: sample rate must be positive");
        }
        let TempFile {
            file,
            path: tmp_path,
        } = TempFile::beside(final_path, force)?;
        // From here on, failure must remove the temporary file.
        let cleanup = |e: anyhow::Error| {
            let _ = std::fs::remove_file(&tmp_path);
            e
        };
        let sync_handle = file
            .try_clone()
            .map_err(|e| cleanup(anyhow!("{shown}: cannot duplicate file handle: {e}")))?;
        let flac = if format.is_flac() {
            Some(
                FlacEncoder::new(sample_rate, channels, format.bits() as usize, tags)
                    .map_err(cleanup)?,
            )
        } else {
            None
        };
        let header = match &flac {
            Some(encoder) => encoder.header(),
            None => {
                let mut header = wav_header(channels as u16, sample_rate, format);
                // The tags go ahead of the data chunk, where readers look for them.
                let data_at = header.len() - 8;
                header.splice(data_at..data_at, tags.riff_info());
                header
            }
        };
        let mut writer = BufWriter::with_capacity(1 << 20, file);
        writer
            .write_all(&header)
            .map_err(|e| cleanup(anyhow!("{shown}: cannot write WAV header: {e}")))?;
        Ok(AtomicWavWriter {
            final_path: final_path.to_path_buf(),
            tmp_path,
            writer: Some(writer),
            data_bytes: 0,
            data_size_at: header.len() as u64 - 4,
            bytes: Vec::new(),
            sync_handle,
            format,
            channels,
            dither: TpdfDither::new(DITHER_SEED),
            noise: Vec::new(),
            interleaved: Vec::new(),
            ints: Vec::new(),
            clipped: 0,
            frames: 0,
            flac,
            dither_kind: Dither::Tpdf,
            shapers: Vec::new(),
            sample_rate,
        })
    }

    /// Chooses the dither (TPDF unless told; see [`Dither::effective`] for where shaping
    /// applies) before the first samples are written. Returns the dither that applies.
    pub fn set_dither(&mut self, dither: Dither) -> Dither {
        let applied = dither.effective(self.format.bits(), self.sample_rate);
        self.dither_kind = applied;
        self.shapers = if applied == Dither::Shaped {
            vec![NoiseShaper::default(); self.channels]
        } else {
            Vec::new()
        };
        applied
    }

    /// Like [`AtomicWavWriter::create`], but first refuses if `final_path`
    /// is the same file as `input`.
    pub fn create_for_input(
        input: &Path,
        final_path: &Path,
        sample_rate: u32,
        channels: usize,
        format: OutputFormat,
        force: bool,
        tags: &Tags,
    ) -> Result<AtomicWavWriter> {
        if same_file(input, final_path) {
            bail!(
                "{}: output would overwrite the input file",
                final_path.display()
            );
        }
        Self::create_tagged(final_path, sample_rate, channels, format, force, tags)
    }

    /// Path of the temporary file being written.
    #[cfg(test)]
    pub fn temp_path(&self) -> &Path {
        &self.tmp_path
    }

    /// Samples clipped to the integer range so far (16/24-bit only).
    pub fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    /// Frames written so far.
    #[cfg(test)]
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Appends one block of planar samples: `channels[c][i]` is frame `i`
    /// of channel `c`. There must be one slice per channel, all the same
    /// length. Full scale is ±1.0.
    pub fn write(&mut self, channels: &[&[f32]]) -> Result<()> {
        let shown = self.final_path.display();
        if channels.len() != self.channels {
            bail!(
                "{shown}: write() given {} channels, file has {}",
                channels.len(),
                self.channels
            );
        }
        let frames = channels[0].len();
        if channels.iter().any(|c| c.len() != frames) {
            bail!("{shown}: write() given channels of different lengths");
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| anyhow!("{shown}: write after finish"))?;
        let bytes = &mut self.bytes;
        bytes.clear();
        match self.format {
            OutputFormat::Wav32Float => {
                bytes.reserve(frames * self.channels * 4);
                for i in 0..frames {
                    for ch in channels {
                        bytes.extend_from_slice(&ch[i].to_le_bytes());
                    }
                }
            }
            OutputFormat::Wav16
            | OutputFormat::Wav24
            | OutputFormat::Flac16
            | OutputFormat::Flac24 => {
                let bits = self.format.bits();
                let width = bits as usize / 8;
                let scale = (1i64 << (bits - 1)) as f64;
                let (lo, hi) = (-scale, scale - 1.0);
                // Adding 1.5 * 2^52 rounds an f64 of magnitude under 2^51 to the nearest
                // integer (ties to even), without a call into libm.
                const ROUND: f64 = 6_755_399_441_055_744.0;
                let total = frames * self.channels;
                let noise = &mut self.noise;
                noise.resize(total, 0.0);
                if self.dither_kind == Dither::None {
                    noise.fill(0.0);
                } else {
                    self.dither.fill(noise);
                }
                // Three simple passes the compiler vectorises: interleave, quantise, pack.
                let samples = &mut self.interleaved;
                samples.resize(total, 0.0);
                match channels {
                    [m] => samples.copy_from_slice(m),
                    [l, r] => {
                        for ((o, &a), &b) in samples.chunks_exact_mut(2).zip(*l).zip(*r) {
                            o[0] = a;
                            o[1] = b;
                        }
                    }
                    _ => {
                        for (c, ch) in channels.iter().enumerate() {
                            for (o, &x) in
                                samples.iter_mut().skip(c).step_by(channels.len()).zip(*ch)
                            {
                                *o = x;
                            }
                        }
                    }
                }
                let ints = &mut self.ints;
                ints.resize(total, 0);
                let (lo, hi) = (lo as i32, hi as i32);
                let mut clipped = 0u64;
                if self.shapers.is_empty() {
                    clipped += quantise_wide(ints, samples, noise, scale, [lo, hi]);
                } else {
                    // Error feedback runs sample by sample, each channel on its own. The input
                    // is held within four times full scale, far inside the i32 range even with
                    // the feedback added.
                    let ch = self.channels;
                    let limit = 4.0 * scale;
                    for (i, ((q, &x), &d)) in ints
                        .iter_mut()
                        .zip(samples.iter())
                        .zip(noise.iter())
                        .enumerate()
                    {
                        let shaper = &mut self.shapers[i % ch];
                        let x = if x.is_nan() { 0.0 } else { x };
                        let t = shaper.target((x as f64 * scale).clamp(-limit, limit));
                        let n = (t + d + ROUND).to_bits() as i32;
                        shaper.record(n as f64, t);
                        clipped += u64::from((n > hi) | (n < lo));
                        *q = n.clamp(lo, hi);
                    }
                }
                if let Some(encoder) = &mut self.flac {
                    encoder.push(ints, bytes)?;
                } else if width == 3 {
                    pack_24(ints, bytes);
                } else {
                    bytes.resize(total * 2, 0);
                    for (o, &q) in bytes.chunks_exact_mut(2).zip(ints.iter()) {
                        o.copy_from_slice(&(q as i16).to_le_bytes());
                    }
                }
                self.clipped += clipped;
            }
        }
        // The RIFF sizes are 32-bit: the header (at most 68 bytes) and the data must fit.
        if self.flac.is_none() && self.data_bytes + bytes.len() as u64 + 68 > u32::MAX as u64 {
            bail!("{shown}: the output would exceed the WAV format's 4 GiB limit");
        }
        writer
            .write_all(bytes)
            .map_err(|e| anyhow!("{shown}: write failed: {e}"))?;
        self.data_bytes += bytes.len() as u64;
        self.frames += frames as u64;
        Ok(())
    }

    /// Completes the header, flushes, fsyncs and renames the temporary file
    /// onto the final path (replacing it atomically), then fsyncs the
    /// directory. On error the temporary file is removed.
    pub fn finish(mut self) -> Result<()> {
        let shown = self.final_path.display().to_string();
        let mut writer = self
            .writer
            .take()
            .ok_or_else(|| anyhow!("{shown}: already finished"))?;
        if let Some(encoder) = &mut self.flac {
            let mut last = Vec::new();
            let header = encoder.finish(&mut last)?;
            let complete = |w: &mut BufWriter<File>| -> std::io::Result<()> {
                w.write_all(&last)?;
                w.seek(SeekFrom::Start(0))?;
                w.write_all(&header)?;
                w.flush()
            };
            complete(&mut writer)
                .map_err(|e| anyhow!("{shown}: cannot complete FLAC file: {e}"))?;
            drop(writer);
            move_into_place(&self.sync_handle, &self.tmp_path, &self.final_path)?;
            self.tmp_path = PathBuf::new();
            return Ok(());
        }
        let (data_bytes, data_size_at) = (self.data_bytes, self.data_size_at);
        let complete = |w: &mut BufWriter<File>| -> std::io::Result<()> {
            // A chunk of odd length is followed by a pad byte (not counted in its size).
            if data_bytes % 2 == 1 {
                w.write_all(&[0])?;
            }
            let riff_size = data_size_at + 4 + data_bytes + data_bytes % 2 - 8;
            w.seek(SeekFrom::Start(4))?;
            w.write_all(&(riff_size as u32).to_le_bytes())?;
            w.seek(SeekFrom::Start(data_size_at))?;
            w.write_all(&(data_bytes as u32).to_le_bytes())?;
            w.flush()
        };
        complete(&mut writer).map_err(|e| anyhow!("{shown}: cannot complete WAV file: {e}"))?;
        drop(writer);
        move_into_place(&self.sync_handle, &self.tmp_path, &self.final_path)?;
        // Renamed: nothing left for Drop to remove.
        self.tmp_path = PathBuf::new();
        Ok(())
    }
}

/// A new, hidden temporary file beside the file it will become (`.NAME.auralis-PID.tmp`).
struct TempFile {
    file: File,
    path: PathBuf,
}

impl TempFile {
    /// Creates the temporary file for `final_path`. Fails if `final_path` is a directory, if
    /// it exists and `force` is false, or if the temporary file cannot be created.
    fn beside(final_path: &Path, force: bool) -> Result<TempFile> {
        let shown = final_path.display();
        if final_path.is_dir() {
            bail!("{shown}: is a directory");
        }
        if final_path.exists() && !force {
            bail!("{shown} exists; use --force to overwrite");
        }
        let name = final_path
            .file_name()
            .ok_or_else(|| anyhow!("{shown}: output path has no file name"))?
            .to_string_lossy()
            .into_owned();
        let dir = match final_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let path = dir.join(format!(".{name}.auralis-{}.tmp", std::process::id()));
        let create = || OpenOptions::new().write(true).create_new(true).open(&path);
        let file = match create() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Left over by an earlier process with the same pid.
                std::fs::remove_file(&path)
                    .with_context(|| format!("{shown}: cannot remove stale {}", path.display()))?;
                create().with_context(|| format!("{shown}: cannot create {}", path.display()))?
            }
            Err(e) => bail!("{shown}: cannot create {}: {e}", path.display()),
        };
        Ok(TempFile { file, path })
    }
}

/// Fsyncs the complete temporary file `tmp` (through `handle`), renames it onto `final_path`
/// (replacing it atomically) and fsyncs the directory.
fn move_into_place(handle: &File, tmp: &Path, final_path: &Path) -> Result<()> {
    let shown = final_path.display();
    handle
        .sync_all()
        .map_err(|e| anyhow!("{shown}: cannot sync to disk: {e}"))?;
    std::fs::rename(tmp, final_path)
        .map_err(|e| anyhow!("{shown}: cannot move finished file into place: {e}"))?;
    if let Some(dir) = final_path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        // Persist the rename; not all platforms can open directories.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Writes `bytes` to `final_path` through a hidden temporary file beside it, renamed into place
/// only once complete and synced: an interrupted run leaves the old file (or none), never half
/// a file. Refuses to replace an existing file unless `force`.
pub fn write_atomically(final_path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let shown = final_path.display();
    let TempFile { mut file, path } = TempFile::beside(final_path, force)?;
    let written = file
        .write_all(bytes)
        .map_err(|e| anyhow!("{shown}: write failed: {e}"))
        .and_then(|()| move_into_place(&file, &path, final_path));
    if written.is_err() {
        let _ = std::fs::remove_file(&path);
    }
    written
}

impl Drop for AtomicWavWriter {
    fn drop(&mut self) {
        // Close the file before removing it.
        drop(self.writer.take());
        if !self.tmp_path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp_path);
        }
    }
}

/// The RIFF/WAVE header up to the data chunk's size (0 until [`AtomicWavWriter::finish`]
/// fills it, with the RIFF size at byte 4): 44 bytes for 16-bit PCM, 68 with
/// `WAVEFORMATEXTENSIBLE` for 24-bit and float, as `hound` writes them.
fn wav_header(channels: u16, sample_rate: u32, format: OutputFormat) -> Vec<u8> {
    let bits = format.bits();
    let align = channels * bits / 8;
    let extensible = bits > 16;
    let mut h = Vec::with_capacity(68);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&(if extensible { 40u32 } else { 16 }).to_le_bytes());
    h.extend_from_slice(&(if extensible { 0xFFFEu16 } else { 1 }).to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&sample_rate.to_le_bytes());
    h.extend_from_slice(&(sample_rate * align as u32).to_le_bytes());
    h.extend_from_slice(&align.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    if extensible {
        h.extend_from_slice(&22u16.to_le_bytes()); // cbSize
        h.extend_from_slice(&bits.to_le_bytes()); // valid bits per sample
        let mask: u32 = if channels == 1 { 0x4 } else { 0x3 }; // front centre; front left+right
        h.extend_from_slice(&mask.to_le_bytes());
        let tag: u16 = if format == OutputFormat::Wav32Float {
            3
        } else {
            1
        };
        h.extend_from_slice(&tag.to_le_bytes()); // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT
        h.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&0u32.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, ch: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let v = 0.9 * (i as f32 * 0.013 + ch as f32).sin();
                if ch == 1 {
                    -v
                } else {
                    v
                }
            })
            .collect()
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn format_names_parse_and_display() {
        for (s, f) in [
            ("wav16", OutputFormat::Wav16),
            ("wav24", OutputFormat::Wav24),
            ("WAV32F", OutputFormat::Wav32Float),
        ] {
            assert_eq!(s.parse::<OutputFormat>().unwrap(), f);
            assert_eq!(f.to_string(), s.to_ascii_lowercase());
        }
        assert!("wav32".parse::<OutputFormat>().is_err());
        assert!("mp3".parse::<OutputFormat>().is_err());
    }

    #[test]
    fn round_trip_each_format_through_hound() {
        let dir = tempfile::tempdir().unwrap();
        let n = 10_000;
        let (l, r) = (ramp(n, 0), ramp(n, 1));
        for fmt in [
            OutputFormat::Wav16,
            OutputFormat::Wav24,
            OutputFormat::Wav32Float,
        ] {
            let p = dir.path().join(format!("{fmt}.wav"));
            let mut w = AtomicWavWriter::create(&p, 44_100, 2, fmt, false).unwrap();
            // Two blocks, to check appending.
            w.write(&[&l[..3000], &r[..3000]]).unwrap();
            w.write(&[&l[3000..], &r[3000..]]).unwrap();
            assert_eq!(w.frames_written(), n as u64);
            assert_eq!(w.clipped_samples(), 0);
            w.finish().unwrap();
            let mut rd = hound::WavReader::open(&p).unwrap();
            let spec = rd.spec();
            assert_eq!((spec.channels, spec.sample_rate), (2, 44_100));
            assert_eq!(spec.bits_per_sample, fmt.bits());
            assert_eq!(rd.duration(), n as u32);
            let got: Vec<f64> = match fmt {
                OutputFormat::Wav32Float => {
                    rd.samples::<f32>().map(|s| s.unwrap() as f64).collect()
                }
                _ => {
                    let scale = (1i64 << (fmt.bits() - 1)) as f64;
                    rd.samples::<i32>()
                        .map(|s| s.unwrap() as f64 / scale)
                        .collect()
                }
            };
            assert_eq!(got.len(), 2 * n);
            let lsb = match fmt {
                OutputFormat::Wav32Float => 0.0,
                _ => 1.0 / (1i64 << (fmt.bits() - 1)) as f64,
            };
            let mut worst = 0.0f64;
            for i in 0..n {
                worst = worst.max((got[2 * i] - l[i] as f64).abs());
                worst = worst.max((got[2 * i + 1] - r[i] as f64).abs());
            }
            if fmt == OutputFormat::Wav32Float {
                assert_eq!(worst, 0.0, "float must be exact");
            } else {
                // Dither (< 1 LSB) plus rounding (½ LSB).
                assert!(worst <= 1.5 * lsb, "{fmt}: error {} LSB", worst / lsb);
                assert!(worst > 0.5 * lsb, "{fmt}: no sign of dither");
            }
        }
    }

    /// The encoder's kernels as dispatched on this CPU (AVX-512 DQ or AVX2 where present)
    /// give exactly the portable build's values: the dither sequence and the quantised
    /// integers with their clip count.
    #[test]
    fn dispatched_kernels_match_the_portable_ones_exactly() {
        let seeded = || TpdfDither::new(DITHER_SEED).lanes;
        let (mut wide, mut plain) = (seeded(), seeded());
        let (mut a, mut b) = (vec![0.0f64; 4096], vec![0.0f64; 4096]);
        fill_lanes_wide(&mut wide, &mut a);
        fill_lanes(&mut plain, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        let samples: Vec<f32> = (0..4099)
            .map(|i| match i % 101 {
                0 => f32::NAN,
                1 => f32::INFINITY,
                2 => -1.5,
                _ => ((i * 7919) % 2003) as f32 / 1001.5 - 1.0,
            })
            .collect();
        let noise: Vec<f64> = a.iter().cycle().take(samples.len()).copied().collect();
        let (mut qa, mut qb) = (vec![0i32; samples.len()], vec![0i32; samples.len()]);
        let bounds = [-(1 << 23), (1 << 23) - 1];
        let ca = quantise_wide(&mut qa, &samples, &noise, 8_388_608.0, bounds);
        let cb = quantise(&mut qb, &samples, &noise, 8_388_608.0, bounds);
        assert_eq!((qa, ca), (qb, cb));
        assert!(ca > 0, "the test must clip some samples");
    }

    /// Every written integer is `x * 2^(bits - 1)` plus the dither, rounded half to even and
    /// clamped: checked against `f64::round_ties_even` with the same dither sequence, for odd
    /// block lengths, mono and stereo, NaN (written as silence, dithered) and infinities
    /// (full scale).
    #[test]
    fn quantiser_rounds_dithered_samples_to_the_nearest_integer() {
        let dir = tempfile::tempdir().unwrap();
        let n = 5_001;
        let mut x = ramp(n, 3);
        x[10] = f32::NAN;
        x[11] = f32::INFINITY;
        x[12] = f32::NEG_INFINITY;
        x[13] = 1.5;
        for fmt in [OutputFormat::Wav16, OutputFormat::Wav24] {
            for channels in [1usize, 2] {
                let p = dir.path().join(format!("{fmt}-{channels}.wav"));
                let mut w = AtomicWavWriter::create(&p, 48_000, channels, fmt, false).unwrap();
                let y: Vec<f32> = x.iter().map(|v| -0.5 * v).collect();
                let planes: Vec<&[f32]> = [&x[..], &y[..]][..channels].to_vec();
                for (a, b) in [(0, 1_000), (1_000, 1_003), (1_003, n)] {
                    let block: Vec<&[f32]> = planes.iter().map(|c| &c[a..b]).collect();
                    w.write(&block).unwrap();
                }
                w.finish().unwrap();
                let got: Vec<i32> = hound::WavReader::open(&p)
                    .unwrap()
                    .samples::<i32>()
                    .map(|s| s.unwrap())
                    .collect();
                let mut dither = vec![0.0f64; n * channels];
                TpdfDither::new(DITHER_SEED).fill(&mut dither);
                let scale = (1i64 << (fmt.bits() - 1)) as f64;
                for (j, (&g, &d)) in got.iter().zip(&dither).enumerate() {
                    let v = planes[j % channels][j / channels];
                    let v = if v.is_nan() { 0.0 } else { v };
                    let want = (v as f64 * scale + d)
                        .round_ties_even()
                        .clamp(-scale, scale - 1.0) as i32;
                    assert_eq!(g, want, "{fmt} {channels} ch, sample {j}: {v}");
                }
                assert_eq!(got.len(), n * channels);
            }
        }
    }

    #[test]
    fn clipping_to_integer_range_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("clip.wav");
        let mut w = AtomicWavWriter::create(&p, 48_000, 1, OutputFormat::Wav16, false).unwrap();
        w.write(&[&[2.0, -2.0, 0.0, 1.0]]).unwrap();
        // 1.0 * 32768 = 32768 + dither is above 32767 at least half the time,
        // but only 2.0 and -2.0 are certain.
        assert!(w.clipped_samples() >= 2);
        w.finish().unwrap();
        let s: Vec<i16> = hound::WavReader::open(&p)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect();
        assert_eq!((s[0], s[1], s[3]), (32767, -32768, 32767));
    }

    #[test]
    fn existing_output_refused_without_force_replaced_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.wav");
        std::fs::write(&p, b"old contents").unwrap();
        let e = AtomicWavWriter::create(&p, 48_000, 1, OutputFormat::Wav16, false)
            .err()
            .expect("must refuse")
            .to_string();
        assert!(e.ends_with("exists; use --force to overwrite"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
        let mut w = AtomicWavWriter::create(&p, 48_000, 1, OutputFormat::Wav16, true).unwrap();
        // Until finish the old file is untouched.
        w.write(&[&[0.25; 100]]).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"old contents");
        w.finish().unwrap();
        let rd = hound::WavReader::open(&p).unwrap();
        assert_eq!(rd.duration(), 100);
        assert_eq!(dir_entries(dir.path()), vec!["out.wav".to_string()]);
    }

    #[test]
    fn temp_file_is_hidden_beside_output_and_named_with_pid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("song.wav");
        let w = AtomicWavWriter::create(&p, 48_000, 2, OutputFormat::Wav24, false).unwrap();
        let expected = format!(".song.wav.auralis-{}.tmp", std::process::id());
        assert_eq!(w.temp_path(), dir.path().join(&expected));
        assert_eq!(dir_entries(dir.path()), vec![expected]);
        drop(w);
    }

    #[test]
    fn dropped_writer_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("half.wav");
        let mut w = AtomicWavWriter::create(&p, 48_000, 2, OutputFormat::Wav16, false).unwrap();
        w.write(&[&[0.1; 500], &[0.2; 500]]).unwrap();
        drop(w);
        assert!(!p.exists());
        assert!(
            dir_entries(dir.path()).is_empty(),
            "{:?}",
            dir_entries(dir.path())
        );
    }

    #[test]
    fn same_file_detects_aliases_and_create_for_input_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("in.wav");
        std::fs::write(&a, b"x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let alias = dir.path().join("sub").join("..").join("in.wav");
        assert!(same_file(&a, &alias));
        assert!(!same_file(&a, &dir.path().join("other.wav")));
        let e = AtomicWavWriter::create_for_input(
            &a,
            &alias,
            48_000,
            1,
            OutputFormat::Wav16,
            true,
            &Tags::default(),
        )
        .err()
        .expect("must refuse")
        .to_string();
        assert!(e.contains("overwrite the input"), "{e}");
        assert_eq!(std::fs::read(&a).unwrap(), b"x");
    }

    #[test]
    fn wrong_channel_layouts_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.wav");
        assert!(AtomicWavWriter::create(&p, 48_000, 3, OutputFormat::Wav16, false).is_err());
        let mut w = AtomicWavWriter::create(&p, 48_000, 2, OutputFormat::Wav16, false).unwrap();
        assert!(w.write(&[&[0.0; 4]]).is_err());
        assert!(w.write(&[&[0.0; 4], &[0.0; 3]]).is_err());
    }

    #[test]
    fn packing_24_bits_matches_three_bytes_per_sample() {
        let values = [
            0, 1, -1, 8_388_607, -8_388_608, 0x12_3456, -0x65_4321, 255, -256,
        ];
        for n in 0..=values.len() {
            let ints = &values[..n];
            let mut packed = Vec::new();
            pack_24(ints, &mut packed);
            let want: Vec<u8> = ints
                .iter()
                .flat_map(|q| q.to_le_bytes()[..3].to_vec())
                .collect();
            assert_eq!(packed, want, "{n} samples");
        }
    }

    #[test]
    fn tpdf_dither_statistics() {
        // The dither itself: mean 0, variance 1/6 LSB², peak below 1 LSB.
        let n = 200_000;
        let mut d = vec![0.0f64; n];
        TpdfDither::new(1).fill(&mut d);
        // The same sequence however it is split into blocks.
        let mut split = vec![0.0f64; n];
        let mut dither = TpdfDither::new(1);
        for block in split.chunks_mut(4093) {
            dither.fill(block);
        }
        assert_eq!(split, d);
        let mean = d.iter().sum::<f64>() / n as f64;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0 / 6.0).abs() < 0.1 / 6.0, "variance {var}");
        assert!(d.iter().all(|x| x.abs() < 1.0));
        // Triangular, not uniform: |d| < 0.5 holds 3/4 of the time.
        let inner = d.iter().filter(|x| x.abs() < 0.5).count() as f64 / n as f64;
        assert!((inner - 0.75).abs() < 0.01, "inner fraction {inner}");
        // White: the interleaved generators are unrelated (no correlation at lags 1 to 8,
        // including 4, where a lane meets itself).
        for lag in 1..=8 {
            let r = d.iter().zip(&d[lag..]).map(|(a, b)| a * b).sum::<f64>() / n as f64 / var;
            assert!(r.abs() < 0.01, "lag {lag}: correlation {r}");
        }

        // Silence written at 16 bits: samples are the rounded dither, so they
        // are in {-1, 0, 1} with mean 0 and variance 1/6 + 1/12 = 1/4 LSB².
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("silence.wav");
        let mut w = AtomicWavWriter::create(&p, 48_000, 1, OutputFormat::Wav16, false).unwrap();
        w.write(&[&vec![0.0f32; n]]).unwrap();
        w.finish().unwrap();
        let s: Vec<f64> = hound::WavReader::open(&p)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap() as f64)
            .collect();
        assert!(s.iter().all(|&x| (-1.0..=1.0).contains(&x)));
        let mean = s.iter().sum::<f64>() / n as f64;
        let var = s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 0.25).abs() < 0.025, "variance {var}");
    }
}
