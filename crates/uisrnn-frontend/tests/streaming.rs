//! The front end reads recordings in passes of pieces ([`AudioSource`]): a file
//! decoded piece by piece gives the windows of the same file decoded whole, value
//! for value, with either detector, with given speech, and through the resampler.

use std::path::PathBuf;
use std::sync::Arc;

use burn::tensor::Device;
use ndarray::{Array2, Array3, s};
use uisrnn_frontend::audio::StreamResampler;
use uisrnn_frontend::{
    Audio, AudioSource, EmbedConfig, Frontend, Level, SpeechRegions, Vad, WindowEmbeddings,
    read_audio, resample,
};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(path)
}

fn frontend() -> Frontend {
    Frontend::pretrained(&Device::flex()).unwrap()
}

/// The windows computed the way the front end did before it streamed: the whole
/// recording prepared ([`Frontend::prepare`]), its whole mel spectrogram, the windows
/// cut from it and encoded in batches.
fn whole_signal_windows(
    frontend: &Frontend,
    audio: &Audio,
    speech: Option<SpeechRegions>,
    config: &EmbedConfig,
) -> WindowEmbeddings {
    let prepared = match speech {
        Some(speech) => frontend.prepare_with_speech(audio, speech, config.level),
        None => frontend.prepare(audio, &config.vad, config.level),
    }
    .unwrap();
    let mel = frontend.mel(&prepared.samples);
    let (window, hop) = (
        (config.window * 100.0).round() as usize,
        (config.hop * 100.0).round() as usize,
    );
    let mut starts = Vec::new();
    let mut speech = Vec::new();
    let mut first = 0;
    while first + window <= mel.nrows() {
        let seconds = prepared
            .speech
            .seconds_between(first * 160, (first + window) * 160);
        if config.min_speech == 0.0 || seconds >= config.min_speech - 1e-9 {
            starts.push(first);
            speech.push(seconds);
        }
        first += hop;
    }
    let mut vectors = Array2::<f32>::zeros((starts.len(), 256));
    for (c, chunk) in starts.chunks(config.batch).enumerate() {
        let mut mels = Array3::<f32>::zeros((chunk.len(), window, 40));
        for (b, &f) in chunk.iter().enumerate() {
            mels.slice_mut(s![b, .., ..])
                .assign(&mel.slice(s![f..f + window, ..]));
        }
        let embedded = frontend
            .encoder()
            .encode(&mels)
            .unwrap()
            .embeddings(config.relu);
        vectors
            .slice_mut(s![c * config.batch..c * config.batch + chunk.len(), ..])
            .assign(&embedded);
    }
    WindowEmbeddings {
        vectors,
        starts: starts.iter().map(|&f| f as f64 / 100.0).collect(),
        ends: starts
            .iter()
            .map(|&f| (f + window) as f64 / 100.0)
            .collect(),
        speech,
    }
}

#[test]
fn files_read_in_pieces_give_the_windows_of_the_whole_file() {
    let frontend = frontend();
    // 12 s of real speech at 16 kHz, and a 22.05 kHz clip (resampled as it streams).
    for name in ["formats/source.wav", "frontend/clip22k.wav"] {
        let path = fixture(name);
        let audio = read_audio(&path).unwrap();
        let configs = [
            EmbedConfig::default(),
            EmbedConfig::default().with_level(Level::Recording),
            EmbedConfig::default()
                .with_vad(Vad::WebRtc)
                .with_min_speech(0.0),
        ];
        for config in configs {
            let whole = whole_signal_windows(&frontend, &audio, None, &config);
            let in_memory = frontend
                .embed_windows(&audio, &config, name, |_, _| {})
                .unwrap();
            assert_eq!(in_memory, whole, "{name}, {config:?}");
            let file = frontend
                .embed_source(&AudioSource::File(&path), None, &config, |_, _| {})
                .unwrap();
            assert!(whole.vectors.nrows() > 0, "{name}");
            assert_eq!(file, whole, "{name}, {config:?}");
        }
        let bytes: Arc<[u8]> = std::fs::read(&path).unwrap().into();
        let encoded = AudioSource::Encoded { bytes, name };
        let speech = SpeechRegions::from_seconds([(0.5, 2.5), (3.0, 4.0)]);
        let config = EmbedConfig::default();
        let given = frontend
            .embed_windows_with_speech(&audio, speech.clone(), &config, name, |_, _| {})
            .unwrap();
        let streamed = frontend
            .embed_source(&encoded, Some(speech), &config, |_, _| {})
            .unwrap();
        assert_eq!(streamed, given, "{name} with given speech");
    }
}

/// Batches far apart: speech, 20 s of silence, speech, in batches of one and two
/// windows, so that the next batch starts past every frame read so far.
#[test]
fn batches_across_long_silences_give_the_windows_of_the_whole_file() {
    let frontend = frontend();
    let speech = read_audio(fixture("formats/source.wav")).unwrap();
    let mut samples = speech.samples[..4 * 16_000].to_vec();
    samples.extend(std::iter::repeat_n(0.0, 20 * 16_000));
    samples.extend_from_slice(&speech.samples[4 * 16_000..]);
    let audio = uisrnn_frontend::Audio::new(samples, 16_000, "gaps").unwrap();
    for batch in [1, 2, 64] {
        let config = EmbedConfig {
            batch,
            ..EmbedConfig::default()
        };
        // Speech given on both sides of the silence, and found by Silero.
        let given = SpeechRegions::from_seconds([(0.5, 3.5), (25.0, 30.0)]);
        for speech in [Some(given), None] {
            let whole = whole_signal_windows(&frontend, &audio, speech.clone(), &config);
            let mut batches = Vec::new();
            let source = AudioSource::Samples(&audio);
            let pieces = frontend
                .embed_source(&source, speech.clone(), &config, |done, _| {
                    batches.push(done)
                })
                .unwrap();
            assert_eq!(pieces, whole, "batch {batch}");
            assert_eq!(batches.len(), whole.starts.len().div_ceil(batch));
            if speech.is_some() {
                assert!(whole.starts.iter().any(|&s| s > 24.0));
                assert!(whole.starts.iter().any(|&s| s < 4.0));
            }
        }
    }
}

#[test]
fn the_stream_resampler_equals_the_whole_signal_resampled_in_any_pieces() {
    let audio = read_audio(fixture("frontend/clip22k.wav")).unwrap();
    let whole = resample(&audio.samples, audio.sample_rate, 16_000).unwrap();
    for piece in [1, 1023, 1024, 1025, 4096, audio.samples.len()] {
        let mut stream = StreamResampler::new(audio.sample_rate, 16_000).unwrap();
        let mut out = Vec::new();
        for part in audio.samples.chunks(piece) {
            out.extend(stream.push(part).unwrap());
        }
        out.extend(stream.finish().unwrap());
        assert_eq!(out, whole, "pieces of {piece}");
    }
    // Lengths whose last chunk is exactly full, or a single sample.
    for len in [1, 1024, 2048, 2049] {
        let samples = &audio.samples[..len];
        let mut stream = StreamResampler::new(audio.sample_rate, 16_000).unwrap();
        let mut out = stream.push(samples).unwrap();
        out.extend(stream.finish().unwrap());
        assert_eq!(out.len(), (len * 16_000).div_ceil(22_050), "{len} samples");
    }
}
