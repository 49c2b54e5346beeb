//! Every audio format against the WAV it was made from (`tests/fixtures/formats/`,
//! encoded by Debian's ffmpeg from 12 s of pyannote.audio's real sample; see
//! `make_fixtures.sh`): lossless formats give the same samples, lossy ones the same
//! speaker embeddings within the bounds below.

use std::path::PathBuf;

use burn::tensor::Device;
use uisrnn_frontend::{
    Audio, EmbedConfig, Frontend, FrontendError, Level, Vad, decode_audio, read_audio,
    read_audio_from,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/formats")
        .join(name)
}

fn source() -> Audio {
    read_audio(fixture("source.wav")).unwrap()
}

#[test]
fn lossless_formats_give_the_wavs_samples() {
    let wav = source();
    assert_eq!((wav.sample_rate, wav.samples.len()), (16_000, 12 * 16_000));
    for name in ["flac.flac", "rf64.wav"] {
        let audio = read_audio(fixture(name)).unwrap();
        assert_eq!(audio, wav, "{name}");
    }
    // 24-bit stereo WAVE_FORMAT_EXTENSIBLE, both channels the first 4 s of the source.
    let extensible = read_audio(fixture("extensible.wav")).unwrap();
    assert_eq!(extensible.sample_rate, 16_000);
    assert_eq!(extensible.samples, wav.samples[..4 * 16_000]);
}

#[test]
fn memory_and_readers_decode_as_files_do() {
    for name in ["flac.flac", "mp3.mp3", "aac.m4a"] {
        let from_file = read_audio(fixture(name)).unwrap();
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(
            decode_audio(bytes.clone(), name).unwrap(),
            from_file,
            "{name}"
        );
        assert_eq!(
            read_audio_from(&bytes[..], name).unwrap(),
            from_file,
            "{name}"
        );
    }
}

fn cosine(a: ndarray::ArrayView1<f32>, b: ndarray::ArrayView1<f32>) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn lossy_formats_give_the_wavs_embeddings() {
    let frontend = Frontend::pretrained(&Device::flex()).unwrap();
    let config = EmbedConfig::default();
    let wav = source();
    // The WAV's speech, so that both embed the same windows.
    let speech = frontend
        .prepare(&wav, &Vad::default(), Level::Speech)
        .unwrap()
        .speech;
    let reference = frontend
        .embed_windows_with_speech(&wav, speech.clone(), &config, "wav", |_, _| {})
        .unwrap();
    // (file, extra samples, lowest cosine to the WAV's windows allowed). MP3 and
    // Vorbis lose their encoder delay and padding (gapless decoding): same length,
    // same times. AAC in MP4 keeps them (symphonia 0.5 does not apply the MP4 edit
    // list): ffmpeg's encoder puts 1024 samples (64 ms) of priming first and pads
    // the end to a whole frame, so its windows sit 64 ms late. Measured lowest
    // cosines: MP3 at 64 kbit/s 1 - 8.0e-4, Vorbis q4 1 - 1.6e-3, AAC at 64 kbit/s
    // 1 - 2.8e-2 (from the shift); the bounds are twice those distances.
    for (name, extra, bound) in [
        ("mp3.mp3", 0, 1.0 - 1.6e-3),
        ("vorbis.ogg", 0, 1.0 - 3.2e-3),
        ("aac.m4a", 1536, 1.0 - 5.6e-2),
    ] {
        let audio = read_audio(fixture(name)).unwrap();
        assert_eq!(audio.sample_rate, 16_000, "{name}");
        assert_eq!(audio.samples.len(), wav.samples.len() + extra, "{name}");
        let windows = frontend
            .embed_windows_with_speech(&audio, speech.clone(), &config, name, |_, _| {})
            .unwrap();
        assert_eq!(windows.starts, reference.starts, "{name}");
        let lowest = windows
            .vectors
            .rows()
            .into_iter()
            .zip(reference.vectors.rows())
            .map(|(a, b)| cosine(a, b))
            .fold(f64::MAX, f64::min);
        assert!(lowest >= bound, "{name}: lowest cosine {lowest}");
    }
}

#[test]
fn damaged_and_foreign_files_are_clear_errors() {
    let wav = std::fs::read(fixture("source.wav")).unwrap();
    let flac = std::fs::read(fixture("flac.flac")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text",
            b"just some text, not audio".to_vec(),
            "unsupported audio format",
        ),
        ("empty", Vec::new(), ""),
        ("cut wav", wav[..wav.len() / 2].to_vec(), "truncated"),
        ("cut header", wav[..30].to_vec(), ""),
        ("cut flac", flac[..flac.len() / 2].to_vec(), "truncated"),
    ];
    for (what, bytes, needle) in cases {
        let error = decode_audio(bytes, what).unwrap_err();
        eprintln!("{what}: {error}");
        assert!(error.to_string().contains(needle), "{what}: {error}");
    }
    // Found by fuzzing (fuzz/regressions/audio/): an MP3 frame whose Xing header
    // makes symphonia subtract with overflow, the same in its ADTS reader (crash-*);
    // a FLAC Vorbis comment claiming 2.7 GB and an MP4 sample table claiming 2^32
    // entries (34 GB), which symphonia would allocate (oom-*).
    let regressions =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/audio");
    for entry in std::fs::read_dir(regressions).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        // Returning at all is the check for a crash input (with overflow checks
        // off, as in release builds, symphonia's value wraps and it may decode).
        let result = decode_audio(std::fs::read(&path).unwrap(), &name);
        if name.starts_with("oom-") {
            let error = result.unwrap_err().to_string();
            assert!(error.contains("claim"), "{error}");
        } else if !name.starts_with("crash-") {
            assert!(result.is_ok(), "{name}: {result:?}");
        }
    }
    // A header claiming 1 Hz (the resampler would allocate 16,000 times the file).
    let mut one_hertz = wav.clone();
    one_hertz[24..28].copy_from_slice(&1u32.to_le_bytes());
    let error = decode_audio(one_hertz, "1 Hz").unwrap_err();
    assert!(
        matches!(error, FrontendError::InvalidAudio { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("1 Hz"), "{error}");
}
