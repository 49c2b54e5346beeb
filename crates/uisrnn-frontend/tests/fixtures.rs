//! Every stage against what resemblyzer 0.1.4 computes
//! (`tests/fixtures/frontend/`, made by resemblyzer itself; see its README).

use std::path::PathBuf;

use burn::tensor::Device;
use ndarray::{Array1, Array2, Array3, ArrayD, Ix1, Ix2, Ix3};
use ndarray_npy::NpzReader;
use uisrnn_frontend::vad::{VAD_FRAME, smooth_flags, speech_flags};
use uisrnn_frontend::{
    EmbedConfig, Frontend, Level, SpeakerEncoder, SpeechRegions, Vad, read_audio,
};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn fixture(name: &str) -> NpzReader<std::fs::File> {
    let path = repo("tests/fixtures/frontend").join(name);
    NpzReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

fn f32_array(npz: &mut NpzReader<std::fs::File>, key: &str) -> ArrayD<f32> {
    npz.by_name(key).unwrap()
}

fn u8_vec(npz: &mut NpzReader<std::fs::File>, key: &str) -> Vec<bool> {
    let a: Array1<u8> = npz.by_name(key).unwrap();
    a.iter().map(|&x| x != 0).collect()
}

fn cosine(a: ndarray::ArrayView1<f32>, b: ndarray::ArrayView1<f32>) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

fn min_cosine(a: &Array2<f32>, b: &Array2<f32>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.rows()
        .into_iter()
        .zip(b.rows())
        .map(|(x, y)| cosine(x, y))
        .fold(f64::MAX, f64::min)
}

fn cpu() -> Device {
    Device::flex()
}

/// The conversation's audio (the dev set's dte000.wav, 16 kHz).
const CONVERSATION: &str = "data/dev/audio/dte000.wav";

#[test]
fn volume_vad_flags_and_mask_equal_resemblyzers() {
    let frontend = Frontend::pretrained(&cpu()).unwrap();
    let mut npz = fixture("conversation.npz");
    let audio = read_audio(repo(CONVERSATION)).unwrap();
    assert_eq!(audio.sample_rate, 16_000);
    let prepared = frontend
        .prepare(&audio, &Vad::WebRtc, Level::Recording)
        .unwrap();
    let head: Array1<f32> = f32_array(&mut npz, "normalized_head")
        .into_dimensionality::<Ix1>()
        .unwrap();
    for (ours, theirs) in prepared.samples.iter().zip(&head) {
        assert!(
            (ours - theirs).abs() <= 1e-6 * theirs.abs().max(1e-3),
            "{ours} vs {theirs}"
        );
    }
    assert_eq!(
        speech_flags(&prepared.samples).unwrap(),
        u8_vec(&mut npz, "vad_flags")
    );
    assert_eq!(
        prepared.speech,
        SpeechRegions::from_frame_mask(&u8_vec(&mut npz, "vad_mask"), VAD_FRAME)
    );
    let trimmed_length: ndarray::Array0<i64> = npz.by_name("trimmed_length").unwrap();
    assert_eq!(
        prepared.trimmed().len() as i64,
        trimmed_length.into_scalar()
    );
    // The mask from the fixture's own flags too.
    assert_eq!(
        smooth_flags(&u8_vec(&mut npz, "vad_flags")),
        u8_vec(&mut npz, "vad_mask")
    );
}

#[test]
fn mel_spectrogram_equals_librosas() {
    let frontend = Frontend::pretrained(&cpu()).unwrap();
    let mut npz = fixture("conversation.npz");
    let audio = read_audio(repo(CONVERSATION)).unwrap();
    let prepared = frontend
        .prepare(&audio, &Vad::WebRtc, Level::Recording)
        .unwrap();
    let ours = frontend.mel(&prepared.samples);
    let frames: ndarray::Array0<i64> = npz.by_name("mel_frames").unwrap();
    assert_eq!(ours.nrows() as i64, frames.into_scalar());
    let theirs: Array2<f32> = f32_array(&mut npz, "mel")
        .into_dimensionality::<Ix2>()
        .unwrap();
    let peak = ours.iter().fold(0.0_f32, |m, &x| m.max(x));
    let mut worst = 0.0_f64;
    for (a, b) in ours
        .slice(ndarray::s![..theirs.nrows(), ..])
        .iter()
        .zip(&theirs)
    {
        if *b > 1e-6 * peak {
            worst = worst.max(((a - b) / b).abs() as f64);
        }
    }
    eprintln!("mel: worst relative difference {worst:e}");
    assert!(worst <= 1e-4, "mel differs by {worst}");
}

fn encoder_matches_pytorch(device: &Device, host: bool) {
    let encoder = SpeakerEncoder::pretrained(device)
        .unwrap()
        .with_host_path(host);
    let mut npz = fixture("lstm_step.npz");
    let mels: Array3<f32> = f32_array(&mut npz, "mels")
        .into_dimensionality::<Ix3>()
        .unwrap();
    let linear: Array2<f32> = f32_array(&mut npz, "linear")
        .into_dimensionality::<Ix2>()
        .unwrap();
    let embeddings: Array2<f32> = f32_array(&mut npz, "embeddings")
        .into_dimensionality::<Ix2>()
        .unwrap();
    let output = encoder.encode(&mels).unwrap();
    let worst = |a: &Array2<f32>, b: &Array2<f32>| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0_f32, f32::max)
    };
    let (w_linear, w_embedding) = (
        worst(&output.projection, &linear),
        worst(&output.embeddings(true), &embeddings),
    );
    eprintln!("encoder: linear {w_linear:e}, embeddings {w_embedding:e}");
    assert!(w_linear <= 1e-5, "linear differs by {w_linear}");
    assert!(w_embedding <= 1e-5, "embeddings differ by {w_embedding}");
}

#[test]
fn encoder_equals_pytorch_on_the_host() {
    encoder_matches_pytorch(&cpu(), true);
}

#[test]
fn encoder_equals_pytorch_with_burn_on_the_cpu() {
    encoder_matches_pytorch(&cpu(), false);
}

/// The host encoder steps each layer through blocks of frames: any window length
/// (shorter than a block, a block and one frame, several blocks and a part) gives
/// burn's step-by-step results, and a window's result does not depend on the
/// windows encoded with it.
#[test]
fn the_host_encoder_equals_burns_for_any_window_length() {
    let host = SpeakerEncoder::pretrained(&cpu()).unwrap();
    let burn = host.clone().with_host_path(false);
    let mut npz = fixture("lstm_step.npz");
    let mels: Array3<f32> = f32_array(&mut npz, "mels")
        .into_dimensionality::<Ix3>()
        .unwrap();
    let mut worst = 0.0_f32;
    for frames in [1, 31, 32, 33, 70, 160] {
        let window = mels.slice(ndarray::s![.., ..frames, ..]).to_owned();
        let ours = host.encode(&window).unwrap().projection;
        let theirs = burn.encode(&window).unwrap().projection;
        for (a, b) in ours.iter().zip(&theirs) {
            worst = worst.max((a - b).abs());
        }
        for w in 0..window.shape()[0] {
            let alone = window.slice(ndarray::s![w..w + 1, .., ..]).to_owned();
            let one = host.encode(&alone).unwrap().projection;
            assert_eq!(one.row(0), ours.row(w), "{frames} frames, window {w}");
        }
    }
    eprintln!("host and burn encoders: largest difference {worst:e}");
    // Measured 2.9e-6 (the host's fused multiply-adds and activations).
    assert!(worst <= 6e-6, "host and burn differ by {worst}");
}

#[cfg(feature = "wgpu")]
#[test]
fn encoder_equals_pytorch_on_the_gpu() {
    let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    encoder_matches_pytorch(&device, false);
}

#[test]
fn window_embeddings_equal_resemblyzers_on_the_16k_conversation() {
    let frontend = Frontend::pretrained(&cpu()).unwrap();
    let mut npz = fixture("conversation.npz");
    let audio = read_audio(repo(CONVERSATION)).unwrap();
    let resemblyzer = EmbedConfig::default().with_vad(Vad::WebRtc);
    let all = resemblyzer.with_min_speech(0.0);
    let ours = frontend
        .embed_windows(&audio, &all, "conversation", |_, _| {})
        .unwrap();
    let starts: Array1<f64> = npz.by_name("window_starts_s").unwrap();
    let ends: Array1<f64> = npz.by_name("window_ends_s").unwrap();
    assert_eq!(ours.starts.len(), starts.len());
    for (a, b) in ours
        .starts
        .iter()
        .zip(&starts)
        .chain(ours.ends.iter().zip(&ends))
    {
        assert!((a - b).abs() < 1e-9);
    }
    let prerelu: Array2<f32> = f32_array(&mut npz, "windows_prerelu")
        .into_dimensionality::<Ix2>()
        .unwrap();
    let worst = min_cosine(&ours.vectors, &prerelu);
    eprintln!("pre-ReLU windows: lowest cosine {worst}");
    assert!(worst >= 0.9999, "lowest cosine {worst}");
    let relu = frontend
        .embed_windows(&audio, &all.with_relu(true), "conversation", |_, _| {})
        .unwrap();
    let theirs: Array2<f32> = f32_array(&mut npz, "windows_relu")
        .into_dimensionality::<Ix2>()
        .unwrap();
    assert!(min_cosine(&relu.vectors, &theirs) >= 0.9999);
    // The default keeps windows with at least 0.6 s of detected speech only.
    let kept = frontend
        .embed_windows(&audio, &resemblyzer, "conversation", |_, _| {})
        .unwrap();
    assert!(kept.vectors.nrows() < ours.vectors.nrows());
    assert!(kept.speech.iter().all(|&s| s >= 0.6 - 1e-9));
}

#[test]
fn utterance_embedding_equals_resemblyzers() {
    let frontend = Frontend::pretrained(&cpu()).unwrap();
    let mut npz = fixture("conversation.npz");
    let audio = read_audio(repo(CONVERSATION)).unwrap();
    let ours = frontend
        .embed_utterance(&audio, &Vad::WebRtc, "conversation")
        .unwrap();
    let slices: Array2<i64> = npz.by_name("partial_slices").unwrap();
    let slices: Vec<(usize, usize)> = slices
        .rows()
        .into_iter()
        .map(|r| (r[0] as usize, r[1] as usize))
        .collect();
    assert_eq!(ours.slices, slices);
    let partials: Array2<f32> = f32_array(&mut npz, "partials")
        .into_dimensionality::<Ix2>()
        .unwrap();
    assert!(min_cosine(&ours.partials, &partials) >= 0.9999);
    let utterance: Array1<f32> = f32_array(&mut npz, "utterance")
        .into_dimensionality::<Ix1>()
        .unwrap();
    let c = cosine(Array1::from(ours.embedding).view(), utterance.view());
    assert!(c >= 0.9999, "utterance cosine {c}");
}

/// The 22.05 kHz clip is resampled by rubato where resemblyzer uses soxr: the
/// signals differ in the last bits, which moves the embeddings a little. The clip
/// is 32-bit integer PCM (in a WAVE_FORMAT_EXTENSIBLE header), read as integers over
/// 2^31 like soundfile and librosa.
///
/// Lowest cosine of the clip's windows after rubato against resemblyzer's (measured:
/// 1 - 2.3e-5; mean 1 - 3.6e-6).
const LOWEST_COSINE_AFTER_RUBATO: f64 = 1.0 - 4.6e-5;

#[test]
fn resampled_clip_stays_close_to_resemblyzers() {
    let frontend = Frontend::pretrained(&cpu()).unwrap();
    let mut npz = fixture("clip22k.npz");
    let audio = read_audio(repo("tests/fixtures/frontend/clip22k.wav")).unwrap();
    assert_eq!(audio.sample_rate, 22_050);
    let ours = audio.to_16k().unwrap();
    let theirs: Array1<f32> = f32_array(&mut npz, "resampled")
        .into_dimensionality::<Ix1>()
        .unwrap();
    assert_eq!(ours.samples.len(), theirs.len());
    let signal_rms =
        (theirs.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / theirs.len() as f64).sqrt();
    let difference_rms = (ours
        .samples
        .iter()
        .zip(&theirs)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        / theirs.len() as f64)
        .sqrt();
    eprintln!("rubato vs soxr: difference rms {difference_rms:e} for a signal rms {signal_rms:e}");
    // Both are band-limited resamplers; they differ near the band edge (measured:
    // 4.6 % of the signal's RMS; aligned, no delay: shifting by one sample makes it 30 %).
    assert!(
        difference_rms <= 0.06 * signal_rms,
        "rubato vs soxr: {difference_rms} of {signal_rms}"
    );

    let prerelu: Array2<f32> = f32_array(&mut npz, "windows_prerelu")
        .into_dimensionality::<Ix2>()
        .unwrap();
    let all = EmbedConfig::default()
        .with_vad(Vad::WebRtc)
        .with_min_speech(0.0);
    let embed = |samples: Vec<f32>| {
        let audio = uisrnn_frontend::Audio::new(samples, 16_000, "clip").unwrap();
        frontend
            .embed_windows(&audio, &all, "clip", |_, _| {})
            .unwrap()
    };
    // The rest of the pipeline on soxr's signal: resemblyzer's numbers.
    let from_soxr = embed(theirs.to_vec());
    let exact = min_cosine(&from_soxr.vectors, &prerelu);
    eprintln!("clip windows from soxr's signal: lowest cosine {exact}");
    assert!(exact >= 0.9999, "lowest cosine {exact}");
    let prepared = frontend
        .prepare(
            &uisrnn_frontend::Audio::new(theirs.to_vec(), 16_000, "clip").unwrap(),
            &Vad::WebRtc,
            Level::Recording,
        )
        .unwrap();
    assert_eq!(
        speech_flags(&prepared.samples).unwrap(),
        u8_vec(&mut npz, "vad_flags")
    );
    // On rubato's signal: what the different resampler does to the d-vectors.
    let from_rubato = embed(ours.samples.clone());
    let lowest = min_cosine(&from_rubato.vectors, &prerelu);
    let mean = from_rubato
        .vectors
        .rows()
        .into_iter()
        .zip(prerelu.rows())
        .map(|(a, b)| cosine(a, b))
        .sum::<f64>()
        / prerelu.nrows() as f64;
    eprintln!("clip windows from rubato's signal: lowest cosine {lowest}, mean {mean}");
    assert!(
        lowest >= LOWEST_COSINE_AFTER_RUBATO,
        "lowest cosine {lowest}"
    );
}

/// resemblyzer's own `pretrained.pt` (17 MB, not in the repository) read with the
/// project's torch-file reader gives exactly the shipped weights. Get it with
/// `pip download resemblyzer==0.1.4 --no-deps` (the wheel is a zip) and run
/// `UISRNN_RESEMBLYZER_PT=path/to/pretrained.pt cargo test -- --ignored`.
#[test]
#[ignore = "needs resemblyzer's pretrained.pt (UISRNN_RESEMBLYZER_PT)"]
fn pretrained_pt_reads_as_the_shipped_weights() {
    let path = std::env::var("UISRNN_RESEMBLYZER_PT").expect("set UISRNN_RESEMBLYZER_PT");
    let device = cpu();
    let from_torch = SpeakerEncoder::from_torch_file(&path, &device).unwrap();
    let shipped = SpeakerEncoder::pretrained(&device).unwrap();
    let mut npz = fixture("lstm_step.npz");
    let mels: Array3<f32> = f32_array(&mut npz, "mels")
        .into_dimensionality::<Ix3>()
        .unwrap();
    assert_eq!(
        from_torch.encode(&mels).unwrap(),
        shipped.encode(&mels).unwrap()
    );
    let tensors =
        uisrnn_pickle::torch::read_state_dict(&std::fs::read(&path).unwrap(), &["model_state"])
            .unwrap();
    let safetensors_bytes = uisrnn_frontend::encoder::PRETRAINED;
    let shipped = safetensors::SafeTensors::deserialize(safetensors_bytes).unwrap();
    for (name, tensor) in &tensors {
        let view = shipped.tensor(name).unwrap();
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(view.shape(), &tensor.shape[..], "{name}");
        assert_eq!(values, tensor.data, "{name}");
    }
    assert_eq!(tensors.len(), 16);
}
