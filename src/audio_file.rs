//! Streaming audio file decoding, shared by the command-line tool and the editor.
//!
//! [`AudioReader`] opens a WAV (16/24/32-bit integer, 32/64-bit float), FLAC,
//! MP3, OGG/Vorbis or AIFF file through symphonia and hands out planar `f32`
//! blocks. Only one decoded packet is held in memory at a time, so memory use
//! does not grow with the length of the file.
//!
//! # Error policy
//!
//! Every error is one line that names the file and the reason.
//!
//! * Missing file, empty file, unsupported or non-audio data, a sample rate
//!   outside 8–384 kHz, zero channels or more than two channels are refused by
//!   [`AudioReader::open`].
//! * Lossless codecs (PCM in WAV/AIFF, FLAC): any decode error is fatal, and a
//!   stream that ends before the frame count its header announces is reported
//!   as truncated. A corrupt lossless file is never silently cut short.
//! * Lossy codecs (MP3, Vorbis): symphonia documents `Error::DecodeError` as
//!   recoverable for a single packet, so such a packet is skipped and counted
//!   ([`AudioReader::skipped_packets`]). More than [`MAX_SKIPPED_PACKETS`]
//!   skipped packets make the read fail. When the container announces a
//!   frame count (MP3 Xing/Info header, Ogg last granule), a stream ending
//!   more than [`LOSSY_SLACK_FRAMES`] (plus the skipped packets' worth) short
//!   of it is reported as truncated; without such a count (e.g. an MP3 with
//!   no Info header) truncation cannot be told from the end of the file.
//! * Non-finite samples (NaN, ±Inf) in float files are replaced with 0.0 and
//!   counted ([`AudioReader::nonfinite_samples`]); they do not fail the read.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal, SignalSpec};
use symphonia::core::codecs::{
    CodecParameters, CodecType, Decoder, DecoderOptions, CODEC_TYPE_MP1, CODEC_TYPE_MP2,
    CODEC_TYPE_MP3, CODEC_TYPE_PCM_F32LE, CODEC_TYPE_PCM_S16LE, CODEC_TYPE_PCM_S24LE,
    CODEC_TYPE_VORBIS,
};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Lowest accepted sample rate in Hz.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest accepted sample rate in Hz.
pub const MAX_SAMPLE_RATE: u32 = 384_000;
/// Most lossy packets that may be skipped for decode errors before reading fails.
pub const MAX_SKIPPED_PACKETS: u64 = 8;

/// symphonia 0.5.5 counts the 8-byte offset/block-size header of an AIFF
/// `SSND` chunk as audio, so it announces up to 8 frames more than the file
/// holds. Truncation checks on AIFF allow for this many missing frames.
const AIFF_SLACK_FRAMES: u64 = 8;

/// Frames a lossy stream may fall short of its announced count without
/// being called truncated (encoder delay/padding bookkeeping differences).
pub const LOSSY_SLACK_FRAMES: u64 = 4096;

/// A streaming decoder producing planar `f32` samples in [-1, 1].
pub struct AudioReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    spec: SignalSpec,
    lossless: bool,
    frames_hint: Option<u64>,
    /// Frames the announced count may exceed the real one without error.
    truncation_slack: u64,
    /// The most recently decoded packet, converted to f32.
    pending: AudioBuffer<f32>,
    /// Frames of `pending` already handed out.
    pending_pos: usize,
    frames_decoded: u64,
    /// Frames the decoder has produced (handed out or still pending).
    frames_produced: u64,
    nonfinite: u64,
    skipped: u64,
    finished: bool,
    /// The PCM layout converted here straight from each packet's bytes, or `None` when the
    /// decoder decodes (see [`DirectPcm`]).
    direct: Option<DirectPcm>,
}

/// Little-endian interleaved PCM that [`AudioReader`] converts itself, bypassing symphonia's
/// PCM decoder (symphonia still parses the container and hands out the packets).
///
/// Written by hand because it was measured as a bottleneck: on a float WAV, symphonia's decoder
/// reads each sample through a byte reader and then the buffer is converted and copied again,
/// 11 % of a whole `auralis master`; this is one pass the compiler vectorises. The values are
/// exactly the decoder's (test `direct_pcm_is_exactly_what_the_decoder_gives`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum DirectPcm {
    F32,
    S24,
    S16,
}

impl DirectPcm {
    /// The layout of `params` when it is one of those converted here.
    fn of(params: &CodecParameters) -> Option<Self> {
        let coded = params.bits_per_coded_sample.or(params.bits_per_sample);
        match (params.codec, coded) {
            (CODEC_TYPE_PCM_F32LE, _) => Some(DirectPcm::F32),
            (CODEC_TYPE_PCM_S24LE, Some(24)) => Some(DirectPcm::S24),
            (CODEC_TYPE_PCM_S16LE, Some(16)) => Some(DirectPcm::S16),
            _ => None,
        }
    }

    fn bytes(self) -> usize {
        match self {
            DirectPcm::F32 => 4,
            DirectPcm::S24 => 3,
            DirectPcm::S16 => 2,
        }
    }

    /// Converts the interleaved `bytes` into the planar `planes` (one per channel, each as
    /// long as the frames), returns how many samples were not finite (each written as 0.0).
    fn convert(self, bytes: &[u8], planes: &mut [&mut [f32]]) -> u64 {
        match self {
            DirectPcm::F32 => {
                deinterleave::<4>(bytes, planes, f32::from_le_bytes);
                // Only a float can be non-finite.
                let mut nonfinite = 0u64;
                for plane in planes.iter_mut() {
                    for v in plane.iter_mut() {
                        let bad = !v.is_finite();
                        nonfinite += u64::from(bad);
                        *v = if bad { 0.0 } else { *v };
                    }
                }
                nonfinite
            }
            // The sign comes down from the top byte by an arithmetic shift.
            DirectPcm::S24 => {
                deinterleave::<3>(bytes, planes, |[a, b, c]| {
                    (i32::from_le_bytes([0, a, b, c]) >> 8) as f32 / 8_388_608.0
                });
                0
            }
            DirectPcm::S16 => {
                deinterleave::<2>(bytes, planes, |b| i16::from_le_bytes(b) as f32 / 32_768.0);
                0
            }
        }
    }
}

/// Splits interleaved samples of `W` bytes into `planes`, each converted by `sample`: one loop
/// per layout, inlined so that it vectorises.
#[inline(always)]
fn deinterleave<const W: usize>(
    bytes: &[u8],
    planes: &mut [&mut [f32]],
    sample: impl Fn([u8; W]) -> f32,
) {
    let at = |b: &[u8]| -> [u8; W] { std::array::from_fn(|i| b[i]) };
    match planes {
        [mono] => {
            for (o, b) in mono.iter_mut().zip(bytes.chunks_exact(W)) {
                *o = sample(at(b));
            }
        }
        [left, right] => {
            for ((l, r), b) in left
                .iter_mut()
                .zip(right.iter_mut())
                .zip(bytes.chunks_exact(2 * W))
            {
                *l = sample(at(&b[..W]));
                *r = sample(at(&b[W..]));
            }
        }
        _ => unreachable!("AudioReader checks for one or two channels"),
    }
}

/// What decoding the next packet produced.
enum Step {
    /// `pending` holds a new (possibly empty) buffer.
    Decoded,
    /// The stream has ended normally.
    End,
}

impl AudioReader {
    /// Opens `path`, probes its format and decodes the first audio packet so
    /// that the sample rate and channel count are known and checked.
    pub fn open(path: &Path) -> Result<AudioReader> {
        let shown = path.display();
        let file = File::open(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => anyhow!("{shown}: file not found"),
            _ => anyhow!("{shown}: cannot open: {e}"),
        })?;
        let meta = file
            .metadata()
            .map_err(|e| anyhow!("{shown}: cannot read file information: {e}"))?;
        if meta.is_dir() {
            bail!("{shown}: is a directory, not an audio file");
        }
        if meta.len() == 0 {
            bail!("{shown}: empty file");
        }
        let is_aiff = {
            use std::io::Read;
            let mut head = [0u8; 12];
            let mut f = &file;
            f.read_exact(&mut head).is_ok() && &head[..4] == b"FORM" && &head[8..11] == b"AIF"
        };
        let mut file = file;
        {
            use std::io::Seek;
            file.rewind()
                .map_err(|e| anyhow!("{shown}: cannot read: {e}"))?;
        }

        let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                mss,
                &FormatOptions::default(),
                &MetadataOptions::default(),
            )
            .map_err(|e| match e {
                SymError::Unsupported(_) => {
                    anyhow!("{shown}: not an audio file or unsupported format")
                }
                SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    anyhow!("{shown}: not an audio file, or truncated before its first audio")
                }
                other => anyhow!("{shown}: cannot read audio format: {other}"),
            })?;
        let format = probed.format;
        let track = format
            .default_track()
            .ok_or_else(|| anyhow!("{shown}: no audio track"))?;
        let track_id = track.id;
        let params = track.codec_params.clone();
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => anyhow!("{shown}: unsupported audio codec"),
                other => anyhow!("{shown}: cannot start decoder: {other}"),
            })?;

        // Check what the container announces before decoding anything.
        if let Some(ch) = params.channels {
            check_channels(path, ch.count())?;
        }
        if let Some(rate) = params.sample_rate {
            check_rate(path, rate)?;
        }

        let spec = SignalSpec::new(
            params.sample_rate.unwrap_or(0),
            params.channels.unwrap_or_default(),
        );
        let mut reader = AudioReader {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            spec,
            lossless: is_lossless(params.codec),
            frames_hint: params.n_frames,
            truncation_slack: if !is_lossless(params.codec) {
                LOSSY_SLACK_FRAMES
            } else if is_aiff {
                AIFF_SLACK_FRAMES
            } else {
                0
            },
            pending: AudioBuffer::unused(),
            pending_pos: 0,
            frames_decoded: 0,
            frames_produced: 0,
            nonfinite: 0,
            skipped: 0,
            finished: false,
            direct: DirectPcm::of(&params),
        };
        reader.prime()?;
        Ok(reader)
    }

    /// Decodes packets until one carries audio, fixing the signal spec.
    fn prime(&mut self) -> Result<()> {
        loop {
            match self.decode_next(true)? {
                Step::Decoded if self.pending.frames() > 0 => break,
                Step::Decoded => continue,
                Step::End => bail!("{}: contains no audio samples", self.path.display()),
            }
        }
        let spec = *self.pending.spec();
        check_channels(&self.path, spec.channels.count())?;
        check_rate(&self.path, spec.rate)?;
        self.spec = spec;
        Ok(())
    }

    /// Sample rate in Hz (8 000 – 384 000).
    pub fn sample_rate(&self) -> u32 {
        self.spec.rate
    }

    /// Number of channels: 1 or 2.
    pub fn channels(&self) -> usize {
        self.spec.channels.count()
    }

    /// Number of frames the container announces, if it does. For lossy
    /// formats this is an estimate.
    pub fn frames_hint(&self) -> Option<u64> {
        self.frames_hint
    }

    /// Samples that were NaN or infinite and have been replaced with 0.0 so far.
    pub fn nonfinite_samples(&self) -> u64 {
        self.nonfinite
    }

    /// Lossy packets skipped so far because they failed to decode.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped
    }

    /// Frames returned by [`AudioReader::read`] so far.
    #[cfg(test)]
    pub fn frames_read(&self) -> u64 {
        self.frames_decoded
    }

    /// Fills the first `n` elements of each channel buffer with the next `n`
    /// frames and returns `n`.
    ///
    /// `out` must hold exactly [`AudioReader::channels`] vectors. The number of
    /// frames requested is the smallest `len()` among them (resize them once
    /// to the block size you want; `read` never changes their length). Fewer
    /// frames than requested are returned only at the end of the stream;
    /// `Ok(0)` means the end has been reached. Elements past `n` are left as
    /// they were.
    pub fn read(&mut self, out: &mut [Vec<f32>]) -> Result<usize> {
        if out.len() != self.channels() {
            bail!(
                "{}: read() given {} channel buffers for {} channels",
                self.path.display(),
                out.len(),
                self.channels()
            );
        }
        let want = out.iter().map(Vec::len).min().unwrap_or(0);
        if want == 0 {
            bail!("{}: read() given zero-length buffers", self.path.display());
        }
        let mut filled = 0;
        while filled < want {
            let avail = self.pending.frames() - self.pending_pos;
            if avail == 0 {
                if self.finished {
                    break;
                }
                match self.decode_next(false)? {
                    Step::Decoded => continue,
                    Step::End => {
                        self.finished = true;
                        break;
                    }
                }
            }
            let n = avail.min(want - filled);
            for (c, dst) in out.iter_mut().enumerate() {
                let src = &self.pending.chan(c)[self.pending_pos..self.pending_pos + n];
                dst[filled..filled + n].copy_from_slice(src);
            }
            self.pending_pos += n;
            filled += n;
            self.frames_decoded += n as u64;
        }
        Ok(filled)
    }

    /// Decodes the next packet of our track into `pending`.
    ///
    /// `priming` is true while the spec is not yet fixed; afterwards a change
    /// of spec mid-stream is an error.
    fn decode_next(&mut self, priming: bool) -> Result<Step> {
        let shown = self.path.display();
        loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return self.end_of_stream();
                }
                Err(SymError::ResetRequired) => {
                    bail!("{shown}: stream changes its format mid-file (unsupported)")
                }
                Err(SymError::IoError(e)) => bail!("{shown}: read error: {e}"),
                Err(e) => bail!("{shown}: corrupt or truncated data: {e}"),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            if packet.buf().is_empty() {
                // The container says more data follows, but the file has none
                // (symphonia's RIFF reader yields empty packets past EOF).
                return self.end_of_stream();
            }
            if let Some(direct) = self.direct {
                return self.convert_directly(direct, packet.buf());
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(d) => d,
                Err(SymError::DecodeError(msg)) if !self.lossless => {
                    self.skipped += 1;
                    if self.skipped > MAX_SKIPPED_PACKETS {
                        bail!(
                            "{shown}: corrupt data: more than {MAX_SKIPPED_PACKETS} packets \
                             failed to decode (last: {msg})"
                        );
                    }
                    continue;
                }
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    bail!("{shown}: truncated data: a packet ends early")
                }
                Err(e) => bail!("{shown}: corrupt data: {e}"),
            };
            let spec = *decoded.spec();
            if !priming && spec != self.spec {
                bail!("{shown}: stream changes its format mid-file (unsupported)");
            }
            if self.pending.capacity() != decoded.capacity() || *self.pending.spec() != spec {
                self.pending = decoded.make_equivalent::<f32>();
            }
            // Only floating-point sources can hold NaN or infinity.
            let float = matches!(decoded, AudioBufferRef::F32(_) | AudioBufferRef::F64(_));
            decoded.convert(&mut self.pending);
            self.pending_pos = 0;
            self.frames_produced += self.pending.frames() as u64;
            if float {
                for c in 0..spec.channels.count() {
                    for s in self.pending.chan_mut(c) {
                        if !s.is_finite() {
                            *s = 0.0;
                            self.nonfinite += 1;
                        }
                    }
                }
            }
            return Ok(Step::Decoded);
        }
    }

    /// [`Self::decode_next`] for a packet of [`DirectPcm`]: its bytes straight into `pending`.
    fn convert_directly(&mut self, direct: DirectPcm, bytes: &[u8]) -> Result<Step> {
        let channels = self.spec.channels.count();
        let frame = direct.bytes() * channels;
        if channels == 0 || !bytes.len().is_multiple_of(frame) {
            bail!(
                "{}: truncated data: a packet ends early",
                self.path.display()
            );
        }
        let frames = bytes.len() / frame;
        if self.pending.capacity() < frames || *self.pending.spec() != self.spec {
            self.pending = AudioBuffer::new(frames as u64, self.spec);
        }
        self.pending.clear();
        self.pending.render_reserved(Some(frames));
        self.nonfinite += if channels == 2 {
            let (left, right) = self.pending.chan_pair_mut(0, 1);
            direct.convert(bytes, &mut [left, right])
        } else {
            direct.convert(bytes, &mut [self.pending.chan_mut(0)])
        };
        self.pending_pos = 0;
        self.frames_produced += frames as u64;
        Ok(Step::Decoded)
    }

    /// Normal end of stream, unless the file stopped short of the
    /// frame count its header announced.
    fn end_of_stream(&mut self) -> Result<Step> {
        if let Some(expected) = self.frames_hint {
            let got = self.frames_produced;
            // A skipped lossy packet is at most 2 × 4096 frames (Vorbis).
            let allowed = self.truncation_slack + self.skipped * 8192;
            if got + allowed < expected {
                bail!(
                    "{}: truncated: header announces {expected} frames but data ends after {got}",
                    self.path.display()
                );
            }
        }
        Ok(Step::End)
    }
}

/// True for codecs whose header frame counts are exact and whose decode
/// errors therefore mean a damaged file.
fn is_lossless(codec: CodecType) -> bool {
    ![
        CODEC_TYPE_MP1,
        CODEC_TYPE_MP2,
        CODEC_TYPE_MP3,
        CODEC_TYPE_VORBIS,
    ]
    .contains(&codec)
}

fn check_channels(path: &Path, n: usize) -> Result<()> {
    match n {
        0 => bail!("{}: zero channels", path.display()),
        1 | 2 => Ok(()),
        n => bail!(
            "{}: {n} channels: Auralis masters mono or stereo",
            path.display()
        ),
    }
}

fn check_rate(path: &Path, rate: u32) -> Result<()> {
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        bail!(
            "{}: sample rate {rate} Hz is outside 8–384 kHz",
            path.display()
        );
    }
    Ok(())
}

/// The FLAC writer the integration tests share, for the unit tests below.
#[cfg(test)]
#[path = "../tests/support/flac.rs"]
mod test_flac;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Test signal: a 440 Hz sine at amplitude 0.5, channel 1 inverted.
    fn sine(frame: usize, ch: usize, rate: u32) -> f64 {
        let v = 0.5 * (2.0 * std::f64::consts::PI * 440.0 * frame as f64 / rate as f64).sin();
        if ch == 1 {
            -v
        } else {
            v
        }
    }

    fn write_hound(path: &Path, rate: u32, channels: u16, bits: u16, float: bool, frames: usize) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            for c in 0..channels as usize {
                let v = sine(i, c, rate);
                if float {
                    w.write_sample(v as f32).unwrap();
                } else {
                    let full = (1i64 << (bits - 1)) as f64;
                    w.write_sample((v * full).round() as i32).unwrap();
                }
            }
        }
        w.finalize().unwrap();
    }

    /// A 64-bit float WAV (hound cannot write these), from interleaved samples.
    fn write_wav_f64(path: &Path, rate: u32, channels: u16, samples: &[f64]) {
        let data_len = (samples.len() * 8) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 8 * channels as u32).to_le_bytes());
        b.extend_from_slice(&(8 * channels).to_le_bytes());
        b.extend_from_slice(&64u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&s.to_le_bytes());
        }
        std::fs::write(path, b).unwrap();
    }

    /// A 16-bit big-endian AIFF file.
    fn write_aiff(path: &Path, rate: u32, channels: u16, frames: usize) {
        let mut ssnd = Vec::new();
        ssnd.extend_from_slice(&0u32.to_be_bytes()); // offset
        ssnd.extend_from_slice(&0u32.to_be_bytes()); // block size
        for i in 0..frames {
            for c in 0..channels as usize {
                let v = (sine(i, c, rate) * 32768.0).round() as i16;
                ssnd.extend_from_slice(&v.to_be_bytes());
            }
        }
        // 80-bit extended sample rate.
        let e = 31 - rate.leading_zeros();
        let mut ext = Vec::new();
        ext.extend_from_slice(&((16383 + e) as u16).to_be_bytes());
        ext.extend_from_slice(&((rate as u64) << (63 - e)).to_be_bytes());
        let mut comm = Vec::new();
        comm.extend_from_slice(&channels.to_be_bytes());
        comm.extend_from_slice(&(frames as u32).to_be_bytes());
        comm.extend_from_slice(&16u16.to_be_bytes());
        comm.extend_from_slice(&ext);
        let mut b = Vec::new();
        b.extend_from_slice(b"FORM");
        let form_len = 4 + 8 + comm.len() + 8 + ssnd.len();
        b.extend_from_slice(&(form_len as u32).to_be_bytes());
        b.extend_from_slice(b"AIFFCOMM");
        b.extend_from_slice(&(comm.len() as u32).to_be_bytes());
        b.extend_from_slice(&comm);
        b.extend_from_slice(b"SSND");
        b.extend_from_slice(&(ssnd.len() as u32).to_be_bytes());
        b.extend_from_slice(&ssnd);
        std::fs::write(path, b).unwrap();
    }

    /// The test sine (see [`sine`]) as a 16-bit FLAC file, by the writer the CLI tests share.
    fn write_flac(path: &Path, rate: u32, channels: u16, frames: usize) {
        let signal: Vec<Vec<f32>> = (0..channels as usize)
            .map(|c| (0..frames).map(|i| sine(i, c, rate) as f32).collect())
            .collect();
        super::test_flac::write_flac(path, &signal, rate);
    }

    /// Reads a whole file in blocks of `block` frames; returns planar samples.
    fn read_all(reader: &mut AudioReader, block: usize) -> Result<Vec<Vec<f32>>> {
        let ch = reader.channels();
        let mut buf = vec![vec![0.0f32; block]; ch];
        let mut all = vec![Vec::new(); ch];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                return Ok(all);
            }
            for c in 0..ch {
                all[c].extend_from_slice(&buf[c][..n]);
            }
        }
    }

    /// Largest deviation from the test sine.
    fn max_err(all: &[Vec<f32>], rate: u32) -> f64 {
        let mut worst = 0.0f64;
        for (c, chan) in all.iter().enumerate() {
            for (i, &s) in chan.iter().enumerate() {
                worst = worst.max((s as f64 - sine(i, c, rate)).abs());
            }
        }
        worst
    }

    fn err_of(path: &Path) -> String {
        match AudioReader::open(path) {
            Ok(_) => panic!("{} opened but should not", path.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn wav_integer_and_float_formats_decode_accurately() {
        let dir = tempfile::tempdir().unwrap();
        // (bits, float, tolerance)
        let cases = [
            (16, false, 1.0 / 32768.0),
            (24, false, 1.0 / 8_388_608.0),
            (32, false, 1e-7),
            (32, true, 1e-7),
        ];
        for (bits, float, tol) in cases {
            let p = dir.path().join(format!("t{bits}{float}.wav"));
            write_hound(&p, 48_000, 2, bits, float, 5_000);
            let mut r = AudioReader::open(&p).unwrap();
            assert_eq!((r.sample_rate(), r.channels()), (48_000, 2));
            assert_eq!(r.frames_hint(), Some(5_000));
            let all = read_all(&mut r, 777).unwrap();
            assert_eq!(all[0].len(), 5_000, "{bits}-bit float={float}");
            assert_eq!(all[1].len(), 5_000);
            let e = max_err(&all, 48_000);
            assert!(e <= tol, "{bits}-bit float={float}: max error {e}");
            assert_eq!(r.frames_read(), 5_000);
        }
    }

    /// The PCM converted here from the packets' bytes is bit for bit what symphonia's decoder
    /// gives (mono and stereo, 16 and 24-bit integer and 32-bit float with non-finite values),
    /// and an integer WAV coding fewer bits than its container is left to the decoder.
    #[test]
    fn direct_pcm_is_exactly_what_the_decoder_gives() {
        let dir = tempfile::tempdir().unwrap();
        for (bits, float) in [(16, false), (24, false), (32, true)] {
            for channels in [1u16, 2] {
                let p = dir.path().join(format!("d{bits}{channels}.wav"));
                write_hound(&p, 44_100, channels, bits, float, 9_000);
                // Extremes (and for float, non-finite values) in place of a few samples.
                let width = bits as usize / 8;
                let extremes: [Vec<u8>; 4] = match bits {
                    16 => [i16::MIN, i16::MAX, -1, 1].map(|v| v.to_le_bytes().to_vec()),
                    24 => {
                        [-(1i32 << 23), (1 << 23) - 1, -1, 1].map(|v| v.to_le_bytes()[..3].to_vec())
                    }
                    _ => [f32::NAN, f32::INFINITY, -1.0, 1.0].map(|v| v.to_le_bytes().to_vec()),
                };
                let mut bytes = std::fs::read(&p).unwrap();
                let data = bytes.len() - 9_000 * channels as usize * width;
                for (k, v) in extremes.iter().enumerate() {
                    let at = data + width * (37 * k + 5);
                    bytes[at..at + width].copy_from_slice(v);
                }
                std::fs::write(&p, bytes).unwrap();
                let mut direct = AudioReader::open(&p).unwrap();
                assert!(direct.direct.is_some(), "{bits}-bit {channels} ch");
                let mut decoded = AudioReader::open(&p).unwrap();
                decoded.direct = None;
                let a = read_all(&mut direct, 1000).unwrap();
                let b = read_all(&mut decoded, 1000).unwrap();
                assert_eq!(a.len(), channels as usize);
                assert_eq!(a[0].len(), 9_000);
                for (x, y) in a.iter().zip(&b) {
                    assert!(
                        x.iter().zip(y).all(|(u, v)| u.to_bits() == v.to_bits()),
                        "{bits}-bit {channels} ch"
                    );
                }
                assert_eq!(direct.nonfinite_samples(), decoded.nonfinite_samples());
                assert_eq!(direct.nonfinite_samples(), if float { 2 } else { 0 });
            }
        }
        let params = CodecParameters {
            codec: CODEC_TYPE_PCM_S24LE,
            bits_per_coded_sample: Some(20),
            ..CodecParameters::default()
        };
        assert_eq!(DirectPcm::of(&params), None);
    }

    #[test]
    fn wav_f64_decodes_and_nonfinite_samples_become_zero_and_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f64.wav");
        let mut s: Vec<f64> = (0..1000).map(|i| sine(i, 0, 44_100)).collect();
        s[10] = f64::NAN;
        s[20] = f64::INFINITY;
        s[30] = f64::NEG_INFINITY;
        write_wav_f64(&p, 44_100, 1, &s);
        let mut r = AudioReader::open(&p).unwrap();
        assert_eq!(r.channels(), 1);
        let all = read_all(&mut r, 256).unwrap();
        assert_eq!(all[0].len(), 1000);
        assert_eq!(r.nonfinite_samples(), 3);
        assert_eq!((all[0][10], all[0][20], all[0][30]), (0.0, 0.0, 0.0));
        assert!((all[0][11] as f64 - s[11]).abs() < 1e-7);
        assert!(all[0].iter().all(|v| v.is_finite()));
    }

    #[test]
    fn flac_decodes_sample_exact() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.flac");
        write_flac(&p, 44_100, 2, 3_000);
        let mut r = AudioReader::open(&p).unwrap();
        assert_eq!((r.sample_rate(), r.channels()), (44_100, 2));
        assert_eq!(r.frames_hint(), Some(3_000));
        let all = read_all(&mut r, 1000).unwrap();
        assert_eq!(all[0].len(), 3_000);
        assert!(max_err(&all, 44_100) <= 1.0 / 32768.0);
    }

    #[test]
    fn aiff_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.aiff");
        write_aiff(&p, 44_100, 1, 2_000);
        let mut r = AudioReader::open(&p).unwrap();
        assert_eq!((r.sample_rate(), r.channels()), (44_100, 1));
        let all = read_all(&mut r, 300).unwrap();
        assert_eq!(all[0].len(), 2_000);
        assert!(max_err(&all, 44_100) <= 1.0 / 32768.0);
    }

    #[test]
    fn short_reads_only_at_end_and_buffer_length_is_the_request() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.wav");
        write_hound(&p, 48_000, 1, 16, false, 2_500);
        let mut r = AudioReader::open(&p).unwrap();
        let mut buf = vec![vec![9.0f32; 1_000]];
        assert_eq!(r.read(&mut buf).unwrap(), 1_000);
        assert_eq!(r.read(&mut buf).unwrap(), 1_000);
        assert_eq!(r.read(&mut buf).unwrap(), 500);
        assert_eq!(buf[0].len(), 1_000, "read must not change buffer length");
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        // Wrong number of channel buffers is refused.
        assert!(r.read(&mut [vec![0.0; 8], vec![0.0; 8]]).is_err());
    }

    #[test]
    fn memory_does_not_grow_with_file_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("long.wav");
        write_hound(&p, 48_000, 2, 16, false, 48_000 * 20);
        let mut r = AudioReader::open(&p).unwrap();
        let mut buf = vec![vec![0.0f32; 4096]; 2];
        let mut total = 0u64;
        let mut biggest = 0;
        loop {
            let n = r.read(&mut buf).unwrap();
            biggest = biggest.max(r.pending.capacity());
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(total, 48_000 * 20);
        // One packet at most, far less than the 960 000-frame file.
        assert!(biggest <= 16_384, "pending buffer grew to {biggest} frames");
    }

    #[test]
    fn missing_empty_and_non_audio_files_are_refused_with_reason() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.wav");
        let e = err_of(&missing);
        assert!(e.contains("nope.wav") && e.contains("not found"), "{e}");

        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").unwrap();
        let e = err_of(&empty);
        assert!(e.contains("empty.wav") && e.contains("empty file"), "{e}");

        let text = dir.path().join("notes.wav");
        let mut f = File::create(&text).unwrap();
        for _ in 0..200 {
            writeln!(f, "this is not audio at all").unwrap();
        }
        drop(f);
        let e = err_of(&text);
        assert!(
            e.contains("notes.wav") && e.contains("unsupported format"),
            "{e}"
        );
        assert!(!e.contains('\n'), "error must be one line: {e}");
    }

    #[test]
    fn more_than_two_channels_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("three.wav");
        write_hound(&p, 48_000, 3, 16, false, 100);
        let e = err_of(&p);
        assert!(
            e.contains("3 channels: Auralis masters mono or stereo"),
            "{e}"
        );
    }

    #[test]
    fn sample_rate_outside_range_refused() {
        let dir = tempfile::tempdir().unwrap();
        for rate in [4_000, 400_000] {
            let p = dir.path().join(format!("r{rate}.wav"));
            write_hound(&p, rate, 1, 16, false, 100);
            let e = err_of(&p);
            assert!(e.contains(&format!("sample rate {rate} Hz")), "{e}");
        }
        for rate in [8_000, 384_000] {
            let p = dir.path().join(format!("ok{rate}.wav"));
            write_hound(&p, rate, 1, 16, false, 100);
            assert_eq!(AudioReader::open(&p).unwrap().sample_rate(), rate);
        }
    }

    #[test]
    fn zero_frame_wav_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("silent.wav");
        write_hound(&p, 48_000, 2, 16, false, 0);
        let e = err_of(&p);
        assert!(e.contains("no audio"), "{e}");
    }

    #[test]
    fn truncated_wav_is_an_error_not_a_short_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.wav");
        write_hound(&p, 48_000, 2, 16, false, 20_000);
        let len = std::fs::metadata(&p).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(len / 2 + 1).unwrap(); // odd length: cuts mid-frame too
        drop(f);
        let mut r = AudioReader::open(&p).unwrap();
        let e = read_all(&mut r, 4096).unwrap_err().to_string();
        assert!(e.contains("cut.wav") && e.contains("truncated"), "{e}");
    }

    #[test]
    fn truncated_flac_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cut.flac");
        write_flac(&p, 44_100, 2, 8_000);
        let len = std::fs::metadata(&p).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(len * 6 / 10).unwrap();
        drop(f);
        let res = AudioReader::open(&p).and_then(|mut r| read_all(&mut r, 4096));
        let e = res.unwrap_err().to_string();
        assert!(e.contains("cut.flac"), "{e}");
    }
}
