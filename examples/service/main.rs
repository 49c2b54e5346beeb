//! A diarization service over HTTP: one `Diarizer` shared by every request; UIS-RNN
//! with `--model`'s model or, without it, the shipped one.
//!
//! ```sh
//! cargo run --release --example service -- --addr 127.0.0.1:8080 [--model model.bin] [--max-body-mb 64]
//! curl --data-binary @meeting.mp3 'http://127.0.0.1:8080/diarize?num_speakers=2'
//! ```
//!
//! The routes, parameters and answers are in `app.rs`; `tests/service.rs` starts it
//! on a loopback port and posts real files to it.

mod app;

use std::sync::Arc;

use app::Service;
use uisrnn::pipeline::{Diarizer, SpectralLabeler, UisRnnLabeler};
use uisrnn::{InferenceConfig, UisRnn, cpu_device};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut model = None;
    let mut max_body_mb: usize = 64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => addr = value()?,
            "--model" => model = Some(value()?),
            "--max-body-mb" => max_body_mb = value()?.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let device = cpu_device();
    // The UIS-RNN model: --model's, else the one that ships with the library.
    let uisrnn = Some(match model {
        Some(path) => UisRnnLabeler::new(UisRnn::load(path, &device)?, InferenceConfig::default())?,
        None => UisRnnLabeler::pretrained(&device)?,
    });
    let service = Arc::new(Service {
        diarizer: Diarizer::builder(SpectralLabeler::default()).build()?,
        spectral: SpectralLabeler::default(),
        uisrnn,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("listening on http://{}", listener.local_addr()?);
        app::serve(listener, service, max_body_mb << 20).await
    })?;
    Ok(())
}
