//! Run-time choice of vector width. Kernels are written once as plain lane loops
//! (`#[inline(always)]`) and compiled twice: as built (SSE2 on x86_64) and with AVX2, picked when
//! the CPU has it. AVX2 is enabled without FMA, so only the vector width changes, never a
//! rounding: both builds give identical output.

/// True if the CPU supports AVX2 (detected at run time; the result is cached by `std`).
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines `$name`, which runs the `#[inline(always)]` kernel `$kernel` compiled with AVX2 when
/// the CPU has it (detected at run time), else as built (SSE2 on x86_64). AVX2 is enabled without
/// FMA, so only the vector width changes, never a rounding: both builds give identical output.
macro_rules! avx2_dispatch {
    ($(#[$m:meta])* $vis:vis fn $name:ident => $kernel:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                if $crate::dsp::dispatch::has_avx2() {
                    // SAFETY: the CPU supports AVX2, checked just above.
                    return unsafe { avx2($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}

pub(crate) use avx2_dispatch;
