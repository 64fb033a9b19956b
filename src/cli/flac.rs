//! FLAC encoding for the masters, by the `flacenc` crate, one frame at a time as the samples
//! arrive (a whole record is never held in memory). The stream's header (`fLaC`, STREAMINFO and
//! the tags as a VORBIS_COMMENT block) has a fixed size: it is written first with the totals
//! unknown, and again over itself once the last frame is out, with the sample count and MD5.

use anyhow::{anyhow, Result};
use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, MetadataBlockData, Stream};
use flacenc::config;
use flacenc::error::{Verified, Verify};
use flacenc::source::{Context, Fill, FrameBuf};

use super::tags::Tags;

/// Frames (per channel) in each FLAC frame: the reference encoder's default.
pub const BLOCK_SIZE: usize = 4096;
/// FLAC's metadata block type of Vorbis comments.
const VORBIS_COMMENT: u8 = 4;

/// Encodes interleaved integer samples into FLAC frames.
pub struct FlacEncoder {
    config: Verified<config::Encoder>,
    /// The header's blocks; frames are not kept in it.
    stream: Stream,
    input: (FrameBuf, Context),
    channels: usize,
    /// Interleaved samples short of a whole frame.
    pending: Vec<i32>,
    frames: usize,
    /// One frame's bytes.
    sink: ByteSink,
}

fn error(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow!("FLAC encoder: {e:?}")
}

impl FlacEncoder {
    pub fn new(sample_rate: u32, channels: usize, bits: usize, tags: &Tags) -> Result<Self> {
        let config = config::Encoder::default()
            .into_verified()
            .map_err(|(_, e)| error(e))?;
        let mut stream = Stream::new(sample_rate as usize, channels, bits).map_err(error)?;
        stream
            .stream_info_mut()
            .set_block_sizes(BLOCK_SIZE, BLOCK_SIZE)
            .map_err(error)?;
        stream.add_metadata_block(
            MetadataBlockData::new_unknown(VORBIS_COMMENT, &tags.vorbis_comment())
                .map_err(error)?,
        );
        Ok(Self {
            config,
            stream,
            input: (
                FrameBuf::with_size(channels, BLOCK_SIZE).map_err(error)?,
                Context::new(bits, channels),
            ),
            channels,
            pending: Vec::with_capacity(BLOCK_SIZE * channels),
            frames: 0,
            sink: ByteSink::new(),
        })
    }

    /// The stream's header as it stands: `fLaC` and the metadata blocks.
    pub fn header(&self) -> Vec<u8> {
        let mut sink = ByteSink::new();
        // Without frames, the stream writes only its header.
        self.stream
            .write(&mut sink)
            .expect("a byte sink takes any bits");
        sink.as_slice().to_vec()
    }

    /// Encodes `interleaved` samples, appending each whole frame's bytes to `out`.
    pub fn push(&mut self, interleaved: &[i32], out: &mut Vec<u8>) -> Result<()> {
        let whole = BLOCK_SIZE * self.channels;
        let mut rest = interleaved;
        if !self.pending.is_empty() {
            let take = (whole - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == whole {
                let block = std::mem::take(&mut self.pending);
                self.encode(&block, out)?;
                self.pending = block;
                self.pending.clear();
            }
        }
        let mut blocks = rest.chunks_exact(whole);
        for block in &mut blocks {
            self.encode(block, out)?;
        }
        self.pending.extend_from_slice(blocks.remainder());
        Ok(())
    }

    fn encode(&mut self, block: &[i32], out: &mut Vec<u8>) -> Result<()> {
        self.input.fill_interleaved(block).map_err(error)?;
        let number = self
            .input
            .1
            .current_frame_number()
            .expect("a frame was just filled");
        let frame = flacenc::encode_fixed_size_frame(
            &self.config,
            &self.input.0,
            number,
            self.stream.stream_info(),
        )
        .map_err(error)?;
        self.stream.stream_info_mut().update_frame_info(&frame);
        self.sink.clear();
        frame.write(&mut self.sink).map_err(error)?;
        out.extend_from_slice(self.sink.as_slice());
        self.frames += block.len() / self.channels;
        Ok(())
    }

    /// Encodes what is left (a last, shorter frame) into `out` and returns the final header, of
    /// the same size as [`FlacEncoder::header`]'s.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<Vec<u8>> {
        if !self.pending.is_empty() {
            let block = std::mem::take(&mut self.pending);
            self.encode(&block, out)?;
        }
        let md5 = self.input.1.md5_digest();
        let info = self.stream.stream_info_mut();
        info.set_md5_digest(&md5);
        info.set_total_samples(self.frames);
        // Fixed blocking: the minimum block size excludes the last, shorter block (decoders such
        // as symphonia read `min == max` as fixed blocking); `update_frame_info` counted it.
        info.set_block_sizes(BLOCK_SIZE, BLOCK_SIZE)
            .map_err(error)?;
        Ok(self.header())
    }
}
