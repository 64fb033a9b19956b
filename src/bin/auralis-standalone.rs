//! Auralis as a program with its editor, through nice-plug's standalone wrapper
//! (`auralis-standalone --help`). `--backend dummy` needs no audio device; with
//! `AURALIS_DEMO_INPUT=1` the plugin hears a looped demo signal instead of the backend's input.

fn main() {
    nice_plug::nice_export_standalone::<auralis::plugin::Auralis>();
}
