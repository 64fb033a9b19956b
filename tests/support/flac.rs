//! A minimal FLAC writer for tests: 16-bit VERBATIM subframes, so test inputs need no encoder.

use std::path::Path;

/// Writes `signal` (planar, -1..1) as a 16-bit FLAC file at `rate`.
pub fn write_flac(path: &Path, signal: &[Vec<f32>], rate: u32) {
    fn crc8(data: &[u8]) -> u8 {
        data.iter().fold(0u8, |mut crc, &byte| {
            crc ^= byte;
            for _ in 0..8 {
                crc = if crc & 0x80 != 0 {
                    (crc << 1) ^ 0x07
                } else {
                    crc << 1
                };
            }
            crc
        })
    }
    fn crc16(data: &[u8]) -> u16 {
        data.iter().fold(0u16, |mut crc, &byte| {
            crc ^= (byte as u16) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x8005
                } else {
                    crc << 1
                };
            }
            crc
        })
    }
    const BLOCK: usize = 8192;
    let (channels, frames) = (signal.len(), signal[0].len());
    let mut b = b"fLaC".to_vec();
    b.extend_from_slice(&[0x80, 0, 0, 34]); // the last metadata block: STREAMINFO, 34 bytes
    b.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    b.extend_from_slice(&(BLOCK as u16).to_be_bytes());
    b.extend_from_slice(&[0; 6]); // frame sizes unknown
    let packed: u64 =
        ((rate as u64) << 44) | (((channels - 1) as u64) << 41) | (15u64 << 36) | frames as u64;
    b.extend_from_slice(&packed.to_be_bytes());
    b.extend_from_slice(&[0; 16]); // no MD5
    for (n, start) in (0..frames).step_by(BLOCK).enumerate() {
        assert!(n < 128, "the frame number must fit one UTF-8 byte");
        let len = BLOCK.min(frames - start);
        // Sync, fixed blocking; block size in 16 bits after the header, rate from STREAMINFO.
        let mut f = vec![
            0xFF,
            0xF8,
            0x70,
            (((channels - 1) as u8) << 4) | 0x08,
            n as u8,
        ];
        f.extend_from_slice(&((len - 1) as u16).to_be_bytes());
        f.push(crc8(&f));
        for channel in signal {
            f.push(0x02); // VERBATIM
            for &x in &channel[start..start + len] {
                // Full scale is 32768 (as decoders divide); +1.0 saturates to 32767.
                f.extend_from_slice(&((x * 32768.0).round() as i16).to_be_bytes());
            }
        }
        let crc = crc16(&f);
        f.extend_from_slice(&crc.to_be_bytes());
        b.extend_from_slice(&f);
    }
    std::fs::write(path, b).unwrap();
}
