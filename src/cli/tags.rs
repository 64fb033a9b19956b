//! The tags a master carries over from its input: title, artist, album and track number, read
//! by symphonia (ID3, Vorbis comments, RIFF INFO, whatever the input holds) and written as the
//! output's container has them: Vorbis comments in FLAC, a `LIST`/`INFO` chunk in WAV.

use std::fs::File;
use std::path::Path;

use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, MetadataRevision, StandardTagKey};
use symphonia::core::probe::Hint;

/// What a record's files say about themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub track: Option<String>,
}

impl Tags {
    /// The tags of the file at `path`; none if it has none or cannot be read (the decoder then
    /// says why, with the file's name).
    pub fn read(path: &Path) -> Tags {
        let mut tags = Tags::default();
        let Ok(file) = File::open(path) else {
            return tags;
        };
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let Ok(mut probed) = symphonia::default::get_probe().format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        ) else {
            return tags;
        };
        // Tags ahead of the container (ID3v2 before an MP3), then the container's own: the
        // container's win.
        if let Some(revision) = probed.metadata.get().as_ref().and_then(|m| m.current()) {
            tags.take(revision);
        }
        if let Some(revision) = probed.format.metadata().current() {
            tags.take(revision);
        }
        tags
    }

    fn take(&mut self, revision: &MetadataRevision) {
        for tag in revision.tags() {
            let value = tag.value.to_string();
            // RIFF INFO values end in NUL, which symphonia keeps.
            let value = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
            if value.is_empty() {
                continue;
            }
            let slot = match tag.std_key {
                Some(StandardTagKey::TrackTitle) => &mut self.title,
                Some(StandardTagKey::Artist) => &mut self.artist,
                Some(StandardTagKey::Album) => &mut self.album,
                Some(StandardTagKey::TrackNumber) => &mut self.track,
                _ => continue,
            };
            *slot = Some(value.to_owned());
        }
    }

    /// The tags as (Vorbis comment field, value) pairs.
    fn fields(&self) -> Vec<(&'static str, &str)> {
        [
            ("TITLE", &self.title),
            ("ARTIST", &self.artist),
            ("ALBUM", &self.album),
            ("TRACKNUMBER", &self.track),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }

    /// True if there is no tag to write.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// The body of a FLAC `VORBIS_COMMENT` metadata block (the Vorbis I specification, section
    /// 5: little-endian lengths, a vendor string, then `FIELD=value` entries in UTF-8).
    pub fn vorbis_comment(&self) -> Vec<u8> {
        let vendor = concat!("Auralis ", env!("CARGO_PKG_VERSION"));
        let mut out = Vec::new();
        out.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        out.extend_from_slice(vendor.as_bytes());
        let fields = self.fields();
        out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
        for (key, value) in fields {
            let entry = format!("{key}={value}");
            out.extend_from_slice(&(entry.len() as u32).to_le_bytes());
            out.extend_from_slice(entry.as_bytes());
        }
        out
    }

    /// A RIFF `LIST` chunk of type `INFO` (empty if there are no tags): `INAM` title, `IART`
    /// artist, `IPRD` album, and the track number as both `IPRT` and `ITRK` (readers differ).
    /// Each value is NUL-terminated and padded to an even length, as RIFF wants.
    pub fn riff_info(&self) -> Vec<u8> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut body = b"INFO".to_vec();
        let mut put = |id: &[u8; 4], value: &str| {
            let mut text = value.as_bytes().to_vec();
            text.push(0);
            body.extend_from_slice(id);
            body.extend_from_slice(&(text.len() as u32).to_le_bytes());
            if text.len() % 2 == 1 {
                text.push(0);
            }
            body.extend_from_slice(&text);
        };
        for (id, value) in [
            (b"INAM", &self.title),
            (b"IART", &self.artist),
            (b"IPRD", &self.album),
            (b"IPRT", &self.track),
            (b"ITRK", &self.track),
        ] {
            if let Some(v) = value {
                put(id, v);
            }
        }
        let mut chunk = b"LIST".to_vec();
        chunk.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunk.extend_from_slice(&body);
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Tags {
        Tags {
            title: Some("Blue in Green".into()),
            artist: Some("Ensemble".into()),
            album: None,
            track: Some("3".into()),
        }
    }

    #[test]
    fn vorbis_comment_has_the_vendor_and_one_entry_per_tag() {
        let bytes = sample().vorbis_comment();
        let vendor_len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
        assert!(bytes[4..4 + vendor_len].starts_with(b"Auralis "));
        let at = 4 + vendor_len;
        assert_eq!(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()), 3);
        let first_len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        assert_eq!(&bytes[at + 8..at + 8 + first_len], b"TITLE=Blue in Green");
    }

    #[test]
    fn riff_info_chunks_are_even_and_sized() {
        let chunk = sample().riff_info();
        assert_eq!(&chunk[0..4], b"LIST");
        let size = u32::from_le_bytes(chunk[4..8].try_into().unwrap()) as usize;
        assert_eq!(size, chunk.len() - 8);
        assert_eq!(size % 2, 0);
        assert_eq!(&chunk[8..12], b"INFO");
        assert_eq!(&chunk[12..16], b"INAM");
        // "Blue in Green" and its NUL: 14 bytes, even.
        assert_eq!(u32::from_le_bytes(chunk[16..20].try_into().unwrap()), 14);
        assert!(Tags::default().riff_info().is_empty());
    }
}
