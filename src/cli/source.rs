//! Where the audio to master comes from: a file, streamed (and opened again for each pass), or
//! the built-in demo mix.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::demo::demo_mix;
use auralis::audio_file::AudioReader;

/// The demo mix's length and sample rate.
pub const DEMO_SECONDS: f32 = 10.0;
pub const DEMO_SAMPLE_RATE: u32 = 44_100;

/// An input the tool can read from the start as many times as it needs.
#[derive(Clone, Debug)]
pub enum Input {
    File(PathBuf),
    Demo,
}

impl Input {
    /// A name for messages and reports.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Demo => "demo mix".to_string(),
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            Input::File(p) => Some(p),
            Input::Demo => None,
        }
    }

    /// Opens a new pass over the input, from its first sample.
    pub fn open(&self) -> Result<Pass> {
        Ok(match self {
            Input::File(p) => Pass::File(Box::new(AudioReader::open(p)?)),
            Input::Demo => Pass::Memory {
                channels: demo_mix(DEMO_SAMPLE_RATE, DEMO_SECONDS),
                position: 0,
                sample_rate: DEMO_SAMPLE_RATE,
            },
        })
    }
}

/// One pass over an input.
pub enum Pass {
    File(Box<AudioReader>),
    Memory {
        channels: [Vec<f32>; 2],
        position: usize,
        sample_rate: u32,
    },
}

impl Pass {
    pub fn sample_rate(&self) -> u32 {
        match self {
            Pass::File(r) => r.sample_rate(),
            Pass::Memory { sample_rate, .. } => *sample_rate,
        }
    }

    pub fn channels(&self) -> usize {
        match self {
            Pass::File(r) => r.channels(),
            Pass::Memory { .. } => 2,
        }
    }

    /// Frames in the whole input, when known beforehand.
    pub fn frames_hint(&self) -> Option<u64> {
        match self {
            Pass::File(r) => r.frames_hint(),
            Pass::Memory { channels, .. } => Some(channels[0].len() as u64),
        }
    }

    /// Fills `out` (one buffer per channel) from the current position; 0 at the end.
    pub fn read(&mut self, out: &mut [Vec<f32>]) -> Result<usize> {
        match self {
            Pass::File(r) => r.read(out),
            Pass::Memory {
                channels, position, ..
            } => {
                let want = out.iter().map(Vec::len).min().unwrap_or(0);
                let n = want.min(channels[0].len() - *position);
                for (o, c) in out.iter_mut().zip(channels.iter()) {
                    o[..n].copy_from_slice(&c[*position..*position + n]);
                }
                *position += n;
                Ok(n)
            }
        }
    }

    /// Lossy packets skipped so far because they failed to decode.
    pub fn skipped_packets(&self) -> u64 {
        match self {
            Pass::File(r) => r.skipped_packets(),
            Pass::Memory { .. } => 0,
        }
    }

    /// Non-finite samples found (and silenced) so far.
    pub fn nonfinite_samples(&self) -> u64 {
        match self {
            Pass::File(r) => r.nonfinite_samples(),
            Pass::Memory { .. } => 0,
        }
    }
}
