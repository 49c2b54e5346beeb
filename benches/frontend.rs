//! Front-end speed: one minute of 16 kHz audio (the first 60 s of
//! `data/dev/audio/dte000.wav`) to d-vectors, 1.2 s windows every 0.4 s, every window
//! kept (148 windows):
//! - `embed/minute`: the whole pipeline as users run it (Silero VAD, volume, mel,
//!   encoder);
//! - `embed/mel`: the mel spectrogram alone;
//! - `embed/encoder`: the encoder alone on the 148 windows' mel frames;
//! - `vad/silero`: Silero VAD's probabilities and speech segments for the minute;
//! - `vad/webrtc`: resemblyzer's volume normalisation and WebRTC VAD (flags,
//!   smoothing) for the minute;
//! - `whole_file/uisrnn`, `whole_file/spectral`: `Diarizer::diarize_file` of the
//!   whole dev conversation `data/dev/audio/dte000.wav` (the file's passes: decoding,
//!   Silero, level, mel, encoder, then labelling with the shipped model or spectral
//!   clustering, and the turns), as `uisrnn diarize` runs it.
//!
//! Seconds per hour of audio are 60 times a figure.
//! `RAYON_NUM_THREADS=1` gives the one-core figure. The side-by-side comparison with
//! resemblyzer: `benches/reference/compare_embedding.sh`.

use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use ndarray::{Array3, s};
use uisrnn_frontend::{
    Audio, EmbedConfig, Frontend, Level, SileroConfig, Vad, read_audio, speech_timestamps,
};
use uisrnn_pipeline::{Diarizer, SpectralLabeler};

fn minute() -> Audio {
    let audio = read_audio("data/dev/audio/dte000.wav").expect("dev audio");
    Audio::new(audio.samples[..60 * 16_000].to_vec(), 16_000, "minute").expect("audio")
}

fn embed(c: &mut Criterion) {
    let audio = minute();
    let frontend = Frontend::pretrained(&burn::tensor::Device::flex()).expect("encoder");
    let config = EmbedConfig::default().with_min_speech(0.0);
    let mel = frontend.mel(&audio.samples);
    let starts: Vec<usize> = (0..=mel.nrows() - 120).step_by(40).collect();
    let mut mels = Array3::<f32>::zeros((starts.len(), 120, 40));
    for (b, &first) in starts.iter().enumerate() {
        mels.slice_mut(s![b, .., ..])
            .assign(&mel.slice(s![first..first + 120, ..]));
    }
    let mut group = c.benchmark_group("embed");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("minute", |b| {
        b.iter(|| {
            frontend
                .embed_windows(&audio, &config, "minute", |_, _| {})
                .expect("embeds")
        })
    });
    group.bench_function("mel", |b| b.iter(|| frontend.mel(&audio.samples)));
    group.bench_function("encoder", |b| {
        b.iter(|| frontend.encoder().encode(&mels).expect("encodes"))
    });
    group.finish();
}

fn vad(c: &mut Criterion) {
    let audio = minute();
    let frontend = Frontend::pretrained(&burn::tensor::Device::flex()).expect("encoder");
    let mut group = c.benchmark_group("vad");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("silero", |b| {
        b.iter(|| {
            let probabilities = frontend.silero().probabilities(&audio.samples);
            speech_timestamps(
                &probabilities,
                audio.samples.len(),
                &SileroConfig::default(),
            )
            .expect("segments")
        })
    });
    group.bench_function("webrtc", |b| {
        b.iter(|| {
            frontend
                .prepare(&audio, &Vad::WebRtc, Level::Recording)
                .expect("prepares")
        })
    });
    group.finish();
}

fn whole_file(c: &mut Criterion) {
    let path = "data/dev/audio/dte000.wav";
    let uisrnn = Diarizer::pretrained().expect("the shipped model");
    let spectral = Diarizer::builder(SpectralLabeler::default())
        .build()
        .expect("spectral diarizer");
    let mut group = c.benchmark_group("whole_file");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(15));
    group.bench_function("uisrnn", |b| {
        b.iter(|| uisrnn.diarize_file(path).expect("diarizes"))
    });
    group.bench_function("spectral", |b| {
        b.iter(|| spectral.diarize_file(path).expect("diarizes"))
    });
    group.finish();
}

criterion_group!(benches, embed, vad, whole_file);
criterion_main!(benches);
