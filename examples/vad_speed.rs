//! Seconds the speech detectors take on one minute of audio (the first 60 s of the
//! dev conversation `data/dev/audio/dte000.wav`), the median of several runs after a
//! warm-up: Silero VAD (chunk probabilities and `get_speech_timestamps`' segments)
//! and WebRTC's (resemblyzer's volume normalisation, flags and smoothing). Prints
//! `RESULT` lines for `benches/reference/compare_vad.sh`; seconds per hour of audio
//! are 60 times the figures.
//!
//! ```sh
//! cargo run --release --example vad_speed -- [RUNS]
//! ```

use std::time::Instant;

use uisrnn_frontend::vad::speech_mask;
use uisrnn_frontend::volume::{TARGET_DBFS, normalize_volume};
use uisrnn_frontend::{SileroConfig, SileroVad, read_audio, speech_timestamps};

fn median<F: FnMut()>(runs: usize, mut work: F) -> (f64, f64, f64) {
    work();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0], times[times.len() - 1])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(5);
    let audio = read_audio("data/dev/audio/dte000.wav")?;
    let minute = &audio.samples[..60 * 16_000];
    let silero = SileroVad::pretrained()?;
    let config = SileroConfig::default();
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "all".into());
    let mut segments = 0;
    let (median_s, min, max) = median(runs, || {
        let probabilities = silero.probabilities(minute);
        segments = speech_timestamps(&probabilities, minute.len(), &config)
            .expect("valid settings")
            .len();
    });
    println!(
        "RESULT detector=silero threads={threads} segments={segments} seconds={median_s:.5} (median of {runs}; min {min:.5}, max {max:.5})"
    );
    let mut frames = 0;
    let (median_s, min, max) = median(runs, || {
        let normalized = normalize_volume(minute, TARGET_DBFS);
        frames = speech_mask(&normalized).expect("16 kHz frames").len();
    });
    println!(
        "RESULT detector=webrtc threads={threads} frames={frames} seconds={median_s:.5} (median of {runs}; min {min:.5}, max {max:.5})"
    );
    Ok(())
}
