//! Output path planning for the command-line tool.
//!
//! Given the input files and the user's `-o OUT` or `--out-dir DIR`,
//! [`plan_outputs`] decides where each master is written, and refuses plans
//! that would overwrite an input or write two masters to the same file.
//! It only looks at the file system (to resolve paths); it creates nothing.

use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Suffix that replaces an input's extension in `--out-dir` mode.
pub const MASTERED_SUFFIX: &str = ".mastered.wav";

/// Where the user asked the outputs to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputSpec<'a> {
    /// `-o OUT`: one output file, valid only with exactly one input.
    File(&'a Path),
    /// `--out-dir DIR`: `DIR/<stem>.mastered.wav` for each input.
    Dir(&'a Path),
}

/// `<stem>.mastered.wav` for `input` (`song.flac` -> `song.mastered.wav`).
#[cfg(test)]
pub fn mastered_name(input: &Path) -> Result<String> {
    mastered_name_as(input, "wav")
}

/// `<stem>.mastered.<extension>` for `input`.
pub fn mastered_name_as(input: &Path, extension: &str) -> Result<String> {
    let stem = input
        .file_stem()
        .filter(|s| !s.is_empty())
        .with_context(|| format!("{}: input has no file name", input.display()))?;
    let suffix = MASTERED_SUFFIX.trim_end_matches(".wav");
    Ok(format!("{}{suffix}.{extension}", stem.to_string_lossy()))
}

/// Plans one output path per input, in input order.
///
/// Errors: no inputs; `-o` with more than one input; `--out-dir` naming an
/// existing non-directory; `-o` naming a directory; an output that is the
/// same file as any input; two inputs mapping to the same output.
#[cfg(test)]
pub fn plan_outputs(inputs: &[PathBuf], spec: OutputSpec<'_>) -> Result<Vec<PathBuf>> {
    plan_outputs_as(inputs, spec, "wav")
}

/// Like [`plan_outputs`], naming `--out-dir` outputs `<stem>.mastered.<extension>`.
pub fn plan_outputs_as(
    inputs: &[PathBuf],
    spec: OutputSpec<'_>,
    extension: &str,
) -> Result<Vec<PathBuf>> {
    if inputs.is_empty() {
        bail!("no input files");
    }
    let outputs: Vec<PathBuf> = match spec {
        OutputSpec::File(out) => {
            if inputs.len() != 1 {
                bail!(
                    "-o {} needs exactly one input, got {}; use --out-dir for several",
                    out.display(),
                    inputs.len()
                );
            }
            if out.is_dir() {
                bail!(
                    "-o {}: is a directory; use --out-dir to write into it",
                    out.display()
                );
            }
            // A name that says one container while the format writes the other would mislead
            // every program that opens the file by its name.
            let named = out
                .extension()
                .and_then(|e| e.to_str())
                .map(|e| e.to_ascii_lowercase());
            if let Some(named) = named.filter(|e| e == "wav" || e == "flac") {
                if named != extension {
                    bail!(
                        "-o {}: the output format writes a .{extension} file; name it .{extension} \
                         or choose a --format that writes .{named}",
                        out.display()
                    );
                }
            }
            vec![out.to_path_buf()]
        }
        OutputSpec::Dir(dir) => {
            if dir.exists() && !dir.is_dir() {
                bail!("--out-dir {}: not a directory", dir.display());
            }
            inputs
                .iter()
                .map(|i| Ok(dir.join(mastered_name_as(i, extension)?)))
                .collect::<Result<_>>()?
        }
    };

    let input_keys: Vec<PathBuf> = inputs.iter().map(|p| resolve(p)).collect();
    let output_keys: Vec<PathBuf> = outputs.iter().map(|p| resolve(p)).collect();
    for (out, okey) in outputs.iter().zip(&output_keys) {
        for (inp, ikey) in inputs.iter().zip(&input_keys) {
            if okey == ikey {
                bail!(
                    "output {} is the input {}; refusing to overwrite an input",
                    out.display(),
                    inp.display()
                );
            }
        }
    }
    for (j, okey) in output_keys.iter().enumerate() {
        if let Some(i) = output_keys[..j].iter().position(|k| k == okey) {
            bail!(
                "inputs {} and {} would both be written to {}",
                inputs[i].display(),
                inputs[j].display(),
                outputs[j].display()
            );
        }
    }
    Ok(outputs)
}

/// A comparable form of `p`: absolute, with symlinks resolved as far as
/// the path exists (the existing parent for files not yet written) and `.`
/// / `..` removed lexically for the rest.
fn resolve(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let lexical = normalize(&abs);
    match (lexical.parent(), lexical.file_name()) {
        (Some(parent), Some(name)) => match parent.canonicalize() {
            Ok(cp) => cp.join(name),
            Err(_) => lexical,
        },
        _ => lexical,
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pb(p: &Path) -> PathBuf {
        p.to_path_buf()
    }

    #[test]
    fn out_dir_maps_each_input_to_stem_mastered_wav() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let inputs = [
            PathBuf::from("a/song one.flac"),
            PathBuf::from("b/other.mp3"),
            PathBuf::from("c/take.2.wav"),
        ];
        let got = plan_outputs(&inputs, OutputSpec::Dir(&out)).unwrap();
        assert_eq!(
            got,
            vec![
                out.join("song one.mastered.wav"),
                out.join("other.mastered.wav"),
                out.join("take.2.mastered.wav"),
            ]
        );
    }

    #[test]
    fn dash_o_needs_exactly_one_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("master.wav");
        let one = [dir.path().join("in.wav")];
        assert_eq!(
            plan_outputs(&one, OutputSpec::File(&out)).unwrap(),
            vec![out.clone()]
        );
        let two = [dir.path().join("a.wav"), dir.path().join("b.wav")];
        let e = plan_outputs(&two, OutputSpec::File(&out))
            .unwrap_err()
            .to_string();
        assert!(e.contains("exactly one input, got 2"), "{e}");
        assert!(plan_outputs(&[], OutputSpec::File(&out)).is_err());
    }

    #[test]
    fn two_inputs_with_same_stem_collide() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = [PathBuf::from("x/song.wav"), PathBuf::from("y/song.flac")];
        let e = plan_outputs(&inputs, OutputSpec::Dir(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x/song.wav")
                && e.contains("y/song.flac")
                && e.contains("song.mastered.wav"),
            "{e}"
        );
    }

    #[test]
    fn collision_found_through_dot_dot_aliases() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        // The same input given twice under two spellings maps to one output.
        let a = dir.path().join("t.wav");
        let b = dir.path().join("sub").join("..").join("t.wav");
        std::fs::write(&a, b"x").unwrap();
        assert!(plan_outputs(&[a, b], OutputSpec::Dir(dir.path())).is_err());
    }

    #[test]
    fn output_equal_to_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("song.wav");
        std::fs::write(&input, b"x").unwrap();
        // -o pointing at the input, spelled differently.
        let alias = dir.path().join(".").join("song.wav");
        let e = plan_outputs(&[pb(&input)], OutputSpec::File(&alias))
            .unwrap_err()
            .to_string();
        assert!(e.contains("refusing to overwrite an input"), "{e}");
        // --out-dir where another input is already <stem>.mastered.wav.
        let m = dir.path().join("song.mastered.wav");
        std::fs::write(&m, b"x").unwrap();
        // One input's output must not be another input either.
        let other = dir.path().join("elsewhere");
        std::fs::create_dir(&other).unwrap();
        let e = plan_outputs(&[pb(&input), m.clone()], OutputSpec::Dir(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("refusing to overwrite an input"), "{e}");
        // The same inputs are fine with a separate out dir.
        assert!(plan_outputs(&[pb(&input), m], OutputSpec::Dir(&other)).is_ok());
    }

    #[test]
    fn out_dir_that_is_a_file_and_dash_o_that_is_a_dir_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("file");
        std::fs::write(&f, b"x").unwrap();
        let inputs = [PathBuf::from("in.wav")];
        let e = plan_outputs(&inputs, OutputSpec::Dir(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory"), "{e}");
        let e = plan_outputs(&inputs, OutputSpec::File(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[test]
    fn input_without_a_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(plan_outputs(&[PathBuf::from("/")], OutputSpec::Dir(dir.path())).is_err());
        assert!(mastered_name(Path::new("..")).is_err());
        assert_eq!(
            mastered_name(Path::new("dir/.hidden")).unwrap(),
            ".hidden.mastered.wav"
        );
    }

    #[test]
    fn dash_o_naming_the_other_container_is_refused() {
        let inputs = [PathBuf::from("/tmp/in.wav")];
        let err = plan_outputs_as(&inputs, OutputSpec::File(Path::new("/tmp/out.wav")), "flac")
            .unwrap_err()
            .to_string();
        assert!(err.contains(".flac"), "{err}");
        assert!(
            plan_outputs_as(&inputs, OutputSpec::File(Path::new("/tmp/o.FLAC")), "flac").is_ok()
        );
        assert!(
            plan_outputs_as(&inputs, OutputSpec::File(Path::new("/tmp/o.flac")), "wav").is_err()
        );
        // Other names are the user's choice.
        assert!(plan_outputs_as(&inputs, OutputSpec::File(Path::new("/tmp/o.aud")), "wav").is_ok());
    }
}
