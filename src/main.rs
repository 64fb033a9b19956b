//! `auralis`: the command-line mastering tool (see `auralis --help`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
