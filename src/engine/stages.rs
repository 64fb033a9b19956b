//! The DSP units as stages of the chain.

use super::Stage;
use crate::dsp::bark_eq::BarkEq;
use crate::dsp::compressor::Compressor;
use crate::dsp::multiband::MultibandCompressor;
use crate::dsp::stereo::StereoImager;

macro_rules! unit_stage {
    ($($unit:ty),*) => {$(
        impl Stage for $unit {
            fn process(&mut self, channels: &mut [&mut [f32]]) {
                <$unit>::process(self, channels)
            }
            fn reset(&mut self) {
                <$unit>::reset(self)
            }
        }
    )*};
}

unit_stage!(BarkEq, Compressor, MultibandCompressor, StereoImager);

unit_stage!(crate::dsp::leveler::Leveler);
