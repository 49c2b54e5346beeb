//! Silero VAD against the silero-vad package itself (6.2.3, TorchScript, torch CPU):
//! `tests/fixtures/silero/`, made by its `make_fixtures.py`.

use std::path::PathBuf;

use ndarray::{Array0, Array1, Array2};
use ndarray_npy::NpzReader;
use uisrnn_frontend::{SileroConfig, SileroState, SileroVad, read_audio, speech_timestamps};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn fixture(name: &str) -> NpzReader<std::fs::File> {
    let path = repo("tests/fixtures/silero").join(format!("{name}.npz"));
    NpzReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

/// The 16 kHz input of each fixture.
fn input(name: &str) -> Vec<f32> {
    match name {
        "conversation" => {
            read_audio(repo("data/dev/audio/dte000.wav"))
                .unwrap()
                .samples
        }
        "quiet" => {
            read_audio(repo("tests/fixtures/silero/quiet.wav"))
                .unwrap()
                .samples
        }
        "sample" => read_audio(repo("data/real/sample.wav")).unwrap().samples,
        "clip16k" => {
            let path = repo("tests/fixtures/frontend/clip22k.npz");
            let mut npz = NpzReader::new(std::fs::File::open(path).unwrap()).unwrap();
            let resampled: Array1<f32> = npz.by_name("resampled").unwrap();
            resampled.to_vec()
        }
        _ => unreachable!(),
    }
}

const INPUTS: [&str; 4] = ["conversation", "clip16k", "quiet", "sample"];

/// The settings of `settings.json`, in order (`setting_0` is `default`).
fn settings() -> Vec<SileroConfig> {
    let text = std::fs::read_to_string(repo("tests/fixtures/silero/settings.json")).unwrap();
    let list: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(&text).unwrap();
    list.iter()
        .map(|setting| {
            let mut config = SileroConfig::default();
            for (key, value) in setting {
                let number = value.as_f64();
                match key.as_str() {
                    "threshold" => config.threshold = number.unwrap(),
                    "neg_threshold" => config.neg_threshold = number,
                    "min_speech_duration_ms" => config.min_speech_ms = number.unwrap(),
                    "max_speech_duration_s" => config.max_speech_s = number.unwrap(),
                    "min_silence_duration_ms" => config.min_silence_ms = number.unwrap(),
                    "speech_pad_ms" => config.speech_pad_ms = number.unwrap(),
                    "use_max_poss_sil_at_max_speech" => {
                        config.use_max_poss_sil_at_max_speech = value.as_bool().unwrap()
                    }
                    other => panic!("unknown setting {other}"),
                }
            }
            config
        })
        .collect()
}

#[test]
fn chunk_probabilities_equal_the_packages() {
    let vad = SileroVad::pretrained().unwrap();
    let mut worst_overall = 0.0_f32;
    for name in INPUTS {
        let samples = input(name);
        let theirs: Array1<f32> = fixture(name).by_name("probabilities").unwrap();
        let ours = vad.probabilities(&samples);
        assert_eq!(ours.len(), theirs.len(), "{name}");
        let worst = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        eprintln!("{name}: {} chunks, worst difference {worst:e}", ours.len());
        worst_overall = worst_overall.max(worst);
    }
    // Measured: 5.7e-6 worst over the four inputs (float32 sums in another order).
    assert!(
        worst_overall <= 1.2e-5,
        "probabilities differ by {worst_overall}"
    );
}

#[test]
fn speech_timestamps_equal_the_packages_for_every_setting() {
    let vad = SileroVad::pretrained().unwrap();
    for name in INPUTS {
        let samples = input(name);
        let mut npz = fixture(name);
        let length: Array0<i64> = npz.by_name("length").unwrap();
        assert_eq!(samples.len() as i64, length.into_scalar());
        let probabilities = vad.probabilities(&samples);
        // Through the package's own probabilities too, so a difference in the
        // post-processing cannot hide behind one in the network.
        let theirs_probabilities: Array1<f32> = npz.by_name("probabilities").unwrap();
        for (k, config) in settings().iter().enumerate() {
            let key = if k == 0 {
                "default".to_owned()
            } else {
                format!("setting_{k}")
            };
            let want: Array2<i64> = npz.by_name(&key).unwrap();
            let want: Vec<std::ops::Range<usize>> = want
                .rows()
                .into_iter()
                .map(|r| r[0] as usize..r[1] as usize)
                .collect();
            let from_theirs = speech_timestamps(
                theirs_probabilities.as_slice().unwrap(),
                samples.len(),
                config,
            )
            .unwrap();
            assert_eq!(from_theirs, want, "{name} {key}: post-processing");
            let ours = speech_timestamps(&probabilities, samples.len(), config).unwrap();
            assert_eq!(ours, want, "{name} {key}: from our probabilities");
        }
    }
}

#[test]
fn streaming_the_quiet_recording_gives_the_offline_segments() {
    let vad = SileroVad::pretrained().unwrap();
    let samples = input("quiet");
    let config = SileroConfig::default();
    let offline = speech_timestamps(&vad.probabilities(&samples), samples.len(), &config).unwrap();
    let mut state = SileroState::new();
    let mut segmenter = uisrnn_frontend::SpeechSegmenter::new(&config).unwrap();
    let mut streamed = Vec::new();
    // Pieces of 0.1 s, as a live source delivers them.
    for piece in samples.chunks(1_600) {
        for probability in vad.push(&mut state, piece) {
            streamed.extend(segmenter.push(probability));
        }
    }
    if let Some(probability) = vad.finish(&mut state) {
        streamed.extend(segmenter.push(probability));
    }
    streamed.extend(segmenter.finish(samples.len()));
    assert_eq!(streamed, offline);
}

#[test]
fn the_quiet_recording_is_raised_by_its_speech_level_and_its_pauses_stay_out() {
    use uisrnn_frontend::{Audio, EmbedConfig, Frontend, Level, Vad};
    let frontend = Frontend::pretrained(&burn::tensor::Device::flex()).unwrap();
    let audio = read_audio(repo("tests/fixtures/silero/quiet.wav")).unwrap();
    let silero = frontend
        .prepare(&audio, &Vad::default(), Level::Speech)
        .unwrap();
    let webrtc = frontend
        .prepare(&audio, &Vad::WebRtc, Level::Recording)
        .unwrap();
    // The recording: 8 s of faint noise, 20 s of speech, 10 s of noise, 6 s of speech.
    let pauses = [(0.0, 8.0), (28.0, 38.0)];
    let in_pauses = |speech: &uisrnn_frontend::SpeechRegions| -> f64 {
        pauses
            .iter()
            .map(|&(a, b)| speech.seconds_between(a as usize * 16_000, b as usize * 16_000))
            .sum()
    };
    let (silero_false, webrtc_false) = (in_pauses(&silero.speech), in_pauses(&webrtc.speech));
    eprintln!(
        "speech found in the 18 s of pauses: silero {silero_false:.2} s, webrtc {webrtc_false:.2} s; \
         speech in all: silero {:.2} s, webrtc {:.2} s",
        silero.speech.total_seconds(),
        webrtc.speech.total_seconds()
    );
    // Measured: 0.09 s.
    assert!(
        silero_false <= 0.2,
        "Silero found {silero_false} s of speech in the pauses"
    );
    assert!(silero.speech.total_seconds() >= 20.0);
    // Measured on the speech, the gain is smaller than on the whole file, so the
    // noise of the pauses is raised less.
    let gain = |prepared: &uisrnn_frontend::Prepared| prepared.samples[1000] / audio.samples[1000];
    assert!(
        gain(&silero) < gain(&webrtc),
        "{} vs {}",
        gain(&silero),
        gain(&webrtc)
    );
    // No speech at all: an error by default, no windows on request.
    let silence = Audio::new(vec![0.0; 48_000], 16_000, "silence").unwrap();
    let config = EmbedConfig::default();
    let error = frontend
        .embed_windows(&silence, &config, "silence", |_, _| {})
        .unwrap_err();
    assert!(error.to_string().contains("no speech detected"), "{error}");
    let empty = frontend
        .embed_windows(
            &silence,
            &config.with_allow_no_speech(true),
            "silence",
            |_, _| {},
        )
        .unwrap();
    assert_eq!(empty.vectors.nrows(), 0);
    // Speech given instead of detected: windows only where it is.
    let given = uisrnn_frontend::SpeechRegions::from_seconds([(10.0, 20.0)]);
    let windows = frontend
        .embed_windows_with_speech(&audio, given, &config, "quiet", |_, _| {})
        .unwrap();
    assert!(
        windows
            .starts
            .iter()
            .all(|s| (10.0 - 1.2 + 0.6 - 1e-9..=20.0 - 0.6).contains(s))
    );
    assert!(windows.vectors.nrows() >= 20);
}
