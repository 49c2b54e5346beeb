//! Seconds to embed one minute of audio (the first 60 s of the dev conversation
//! `data/dev/audio/dte000.wav`): volume normalisation, WebRTC VAD, mel spectrogram and
//! the encoder over 1.2 s windows every 0.4 s (every window kept), the median of
//! several runs after a warm-up. The speech detector is WebRTC's, as in resemblyzer,
//! so that both sides do the same work. `RAYON_NUM_THREADS=1` gives the one-core figure.
//! Prints `RESULT seconds=...` for `benches/reference/compare_embedding.sh`.
//!
//! ```sh
//! cargo run --release --example embed_speed -- [RUNS]
//! ```

use std::time::Instant;

use uisrnn_frontend::{Audio, EmbedConfig, Frontend, Level, Vad, read_audio};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5);
    let audio = read_audio("data/dev/audio/dte000.wav")?;
    let minute = Audio::new(audio.samples[..60 * 16_000].to_vec(), 16_000, "minute")?;
    let frontend = Frontend::pretrained(&burn::tensor::Device::flex())?;
    let config = EmbedConfig::default()
        .with_vad(Vad::WebRtc)
        .with_min_speech(0.0);
    let mut windows = 0;
    let mut embed = || -> Result<f64, Box<dyn std::error::Error>> {
        let start = Instant::now();
        windows = frontend
            .embed_windows(&minute, &config, "minute", |_, _| {})?
            .vectors
            .nrows();
        Ok(start.elapsed().as_secs_f64())
    };
    embed()?;
    let mut times = (0..runs).map(|_| embed()).collect::<Result<Vec<_>, _>>()?;
    times.sort_by(f64::total_cmp);
    // Where the time goes (one run each).
    let start = Instant::now();
    let prepared = frontend.prepare(&minute, &Vad::WebRtc, Level::Recording)?;
    let prepare = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mel = frontend.mel(&prepared.samples);
    let mel_seconds = start.elapsed().as_secs_f64();
    let starts: Vec<usize> = (0..=mel.nrows() - 120).step_by(40).collect();
    let mut mels = ndarray::Array3::<f32>::zeros((starts.len(), 120, 40));
    for (b, &first) in starts.iter().enumerate() {
        mels.slice_mut(ndarray::s![b, .., ..])
            .assign(&mel.slice(ndarray::s![first..first + 120, ..]));
    }
    let start = Instant::now();
    frontend.encoder().encode(&mels)?;
    let encoder = start.elapsed().as_secs_f64();
    println!("STAGES volume+vad={prepare:.4} mel={mel_seconds:.4} encoder={encoder:.4}");
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    println!(
        "RESULT threads={threads} windows={windows} seconds={:.4} (median of {runs}; min {:.4}, max {:.4})",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    Ok(())
}
