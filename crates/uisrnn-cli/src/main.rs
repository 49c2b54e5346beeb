//! `uisrnn`: the command-line tool (train, predict, evaluate, estimate, demo).

mod args;
mod commands;
mod error;

use std::process::ExitCode;
use std::sync::LazyLock;

use clap::{CommandFactory, FromArgMatches};

use crate::args::{Cli, Command};
use crate::error::CliError;

/// `uisrnn --version`: the version and the models built into the tool.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{}\nbuilt-in models:\n  \
         {:<22} UIS-RNN for this tool's d-vectors (256-d), trained on 171 LibriSpeech \
         speakers: the default of diarize, predict and evaluate\n  \
         {:<22} d-vector encoder (resemblyzer's speaker network)\n  \
         {:<22} speech detector (Silero VAD, 16 kHz)\n\
         backends: cpu (burn-flex){}",
        env!("CARGO_PKG_VERSION"),
        uisrnn_model::pretrained::PRETRAINED_NAME,
        uisrnn_frontend::encoder::PRETRAINED_NAME,
        uisrnn_frontend::silero::PRETRAINED_NAME,
        if cfg!(feature = "wgpu") {
            ", gpu (wgpu)"
        } else {
            ""
        }
    )
});

fn main() -> ExitCode {
    let matches = Cli::command().version(VERSION.as_str()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    init_logging(cli.quiet, cli.verbose);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), CliError> {
    match &cli.command {
        Command::Train(args) => commands::train::run(args, cli.quiet),
        Command::Predict(args) => commands::predict::run(args, cli.quiet),
        Command::Evaluate(args) => commands::evaluate::run(args, cli.quiet),
        Command::Estimate(args) => commands::estimate::run(args),
        Command::Calibrate(args) => commands::calibrate::run(args, cli.quiet),
        Command::Demo(args) => commands::demo::run(args, cli.quiet),
        Command::Embed(args) => commands::embed::run(args, cli.quiet),
        Command::Diarize(args) => commands::diarize::run(args, cli.quiet),
        Command::ToyData(args) => commands::toy_data::run(args),
    }
}

/// Logs to stderr: warnings by default, errors only with `--quiet`, info with `-v`,
/// debug with `-vv`; `RUST_LOG` overrides.
///
/// Below `-vv` the GPU stack's own logs are off: while probing the graphics APIs the
/// machine lacks, wgpu logs errors that do not matter (e.g. no OpenGL driver when
/// Vulkan is used); so are symphonia's (its probe logs an error for every input it
/// does not recognise, which the returned error already says).
fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "error,wgpu_hal=off,wgpu_core=off,naga=off,symphonia_core=off",
        (false, 0) => "warn,wgpu_hal=off,wgpu_core=off,naga=off,symphonia_core=off",
        (false, 1) => "info,wgpu_hal=off,wgpu_core=off,naga=off,symphonia_core=off",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp(None)
        .init();
}
