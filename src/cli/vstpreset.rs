//! Steinberg's `.vstpreset` container, as Ardour writes and reads it for Auralis (all integers
//! little-endian):
//!
//! ```text
//! 0   "VST3"                       magic
//! 4   i32 1                        format version
//! 8   32 ASCII hex digits          the class ID (upper case)
//! 40  i64                          offset of the chunk list
//! 48  component state              IComponent::getState's bytes (nice-plug's JSON)
//!     controller state             IEditController::getState's bytes (nice-plug: none)
//!     "List", i32 entry count, then per entry: 4-byte ID, i64 offset, i64 size
//!                                  ("Comp", then "Cont" even when empty)
//! ```
//!
//! Pure: bytes in, bytes out; no file system.

const MAGIC: &[u8; 4] = b"VST3";
const VERSION: i32 = 1;
/// Where the first chunk starts: magic, version, class ID, list offset.
const HEADER_LEN: usize = 4 + 4 + 32 + 8;
const LIST: &[u8; 4] = b"List";
const COMPONENT: &[u8; 4] = b"Comp";
const CONTROLLER: &[u8; 4] = b"Cont";
/// One list entry: ID, offset, size.
const ENTRY_LEN: usize = 4 + 8 + 8;

/// A preset for the plugin `class_id` holding `component` (its processor's state) and an empty
/// controller state, as Ardour saves one.
pub fn write(class_id: &[u8; 16], component: &[u8]) -> Vec<u8> {
    let list_at = (HEADER_LEN + component.len()) as i64;
    let mut out = Vec::with_capacity(list_at as usize + 8 + 2 * ENTRY_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    for byte in class_id {
        out.extend_from_slice(format!("{byte:02X}").as_bytes());
    }
    out.extend_from_slice(&list_at.to_le_bytes());
    out.extend_from_slice(component);
    // The controller's chunk is empty: it starts, and ends, where the list starts.
    out.extend_from_slice(LIST);
    out.extend_from_slice(&2i32.to_le_bytes());
    for (id, offset, size) in [
        (COMPONENT, HEADER_LEN as i64, component.len() as i64),
        (CONTROLLER, list_at, 0),
    ] {
        out.extend_from_slice(id);
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
    }
    out
}

/// What a preset holds.
#[cfg(test)]
#[derive(Debug, PartialEq, Eq)]
pub struct Preset<'a> {
    pub class_id: [u8; 16],
    pub component: &'a [u8],
    pub controller: &'a [u8],
}

/// Reads a preset: its class ID and its component and controller states (empty when the
/// preset has no such chunk).
#[cfg(test)]
pub fn read(bytes: &[u8]) -> anyhow::Result<Preset<'_>> {
    use anyhow::{bail, ensure, Context};
    ensure!(bytes.len() >= HEADER_LEN, "too short for a VST3 preset");
    ensure!(
        &bytes[..4] == MAGIC,
        "not a VST3 preset (no \"VST3\" magic)"
    );
    let version = i32::from_le_bytes(bytes[4..8].try_into().unwrap());
    ensure!(
        version == VERSION,
        "VST3 preset version {version}, expected 1"
    );
    let hex = std::str::from_utf8(&bytes[8..40]).context("class ID is not hex")?;
    let mut class_id = [0u8; 16];
    for (i, byte) in class_id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).context("class ID is not hex")?;
    }
    let list_at = i64::from_le_bytes(bytes[40..48].try_into().unwrap());
    let list = usize::try_from(list_at)
        .ok()
        .and_then(|at| bytes.get(at..))
        .context("chunk list offset out of the file")?;
    ensure!(list.len() >= 8 && &list[..4] == LIST, "no chunk list");
    let count = i32::from_le_bytes(list[4..8].try_into().unwrap());
    let entries = list[8..].chunks_exact(ENTRY_LEN);
    ensure!(
        usize::try_from(count).is_ok_and(|n| n <= entries.len()),
        "chunk list of {count} entries is truncated"
    );
    let (mut component, mut controller): (&[u8], &[u8]) = (&[], &[]);
    for entry in entries.take(count as usize) {
        let offset = i64::from_le_bytes(entry[4..12].try_into().unwrap());
        let size = i64::from_le_bytes(entry[12..20].try_into().unwrap());
        let chunk = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(at, n)| bytes.get(at..at.checked_add(n)?))
            .with_context(|| format!("chunk at {offset} of {size} bytes out of the file"))?;
        match &entry[..4] {
            id if id == COMPONENT => component = chunk,
            id if id == CONTROLLER => controller = chunk,
            _ => {}
        }
    }
    if component.is_empty() {
        bail!("the preset holds no component state");
    }
    Ok(Preset {
        class_id,
        component,
        controller,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASS_ID: [u8; 16] = *b"AuralisMasterFx1";

    /// The layout documented for the preset Ardour 7.3 saved for Auralis, built field by field.
    fn documented(component: &[u8]) -> Vec<u8> {
        let list_at = 48 + component.len() as i64;
        let mut b = Vec::new();
        b.extend_from_slice(b"VST3");
        b.extend_from_slice(&[1, 0, 0, 0]);
        b.extend_from_slice(b"417572616C69734D6173746572467831");
        b.extend_from_slice(&list_at.to_le_bytes());
        b.extend_from_slice(component);
        b.extend_from_slice(b"List");
        b.extend_from_slice(&[2, 0, 0, 0]);
        b.extend_from_slice(b"Comp");
        b.extend_from_slice(&48i64.to_le_bytes());
        b.extend_from_slice(&(component.len() as i64).to_le_bytes());
        b.extend_from_slice(b"Cont");
        b.extend_from_slice(&list_at.to_le_bytes());
        b.extend_from_slice(&0i64.to_le_bytes());
        b
    }

    #[test]
    fn the_container_is_the_documented_layout_byte_for_byte() {
        let component = br#"{"version":"0.1.0","params":{},"fields":{}}"#;
        let bytes = write(&CLASS_ID, component);
        assert_eq!(bytes, documented(component));
        assert_eq!(bytes.len(), 48 + component.len() + 8 + 2 * 20);
    }

    #[test]
    fn what_is_written_reads_back() {
        let component = br#"{"version":"0.1.0"}"#;
        let bytes = write(&CLASS_ID, component);
        let preset = read(&bytes).unwrap();
        assert_eq!(
            preset,
            Preset {
                class_id: CLASS_ID,
                component,
                controller: &[],
            }
        );
    }

    /// Ardour's own file: read, its component state rewritten gives the very same bytes.
    #[test]
    fn the_preset_ardour_saved_is_rewritten_identically() {
        let ardour = include_bytes!("../../tests/fixtures/ardour-saved.vstpreset");
        let preset = read(ardour).unwrap();
        assert_eq!(preset.class_id, CLASS_ID);
        assert_eq!(preset.component.len(), 1877);
        assert!(preset
            .component
            .starts_with(br#"{"version":"0.1.0","params":{"#));
        assert!(preset.controller.is_empty());
        assert_eq!(write(&preset.class_id, preset.component), ardour.to_vec());
    }

    #[test]
    fn damaged_presets_are_refused() {
        let good = write(&CLASS_ID, b"{}");
        assert!(read(&good[..20]).is_err());
        let mut bad = good.clone();
        bad[0] = b'X';
        assert!(read(&bad).is_err());
        let mut bad = good.clone();
        bad[40] = 0xff;
        assert!(read(&bad).is_err());
        // A chunk reaching past the end.
        let mut bad = good.clone();
        let size_at = good.len() - 2 * 20 + 12;
        bad[size_at] = 0xff;
        assert!(read(&bad).is_err());
        assert!(read(&good[..good.len() - 1]).is_err());
    }
}
