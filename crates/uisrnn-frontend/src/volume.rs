//! Volume normalisation as resemblyzer's `normalize_volume`.

/// The loudness resemblyzer normalises to, in dB relative to full scale.
pub const TARGET_DBFS: f64 = -30.0;

/// Scales `samples` so that their RMS level is `target_dbfs` (dB relative to a full
/// scale of 32767, as resemblyzer), only ever up: louder audio is left as it is.
/// Silence (RMS 0) is returned unchanged.
///
/// ```
/// use uisrnn_frontend::volume::normalize_volume;
///
/// let quiet = vec![0.001_f32, -0.001, 0.001, -0.001];
/// let louder = normalize_volume(&quiet, -30.0);
/// let rms = (louder.iter().map(|x| x * x).sum::<f32>() / 4.0).sqrt();
/// assert!((20.0 * (rms * 32767.0 / 32767.0).log10() + 30.0).abs() < 1e-3);
/// let loud = vec![0.5_f32, -0.5];
/// assert_eq!(normalize_volume(&loud, -30.0), loud);
/// ```
pub fn normalize_volume(samples: &[f32], target_dbfs: f64) -> Vec<f32> {
    const FULL_SCALE: f64 = 32767.0;
    if samples.is_empty() {
        return Vec::new();
    }
    let mean_square = samples
        .iter()
        .map(|&x| (x as f64 * FULL_SCALE).powi(2))
        .sum::<f64>()
        / samples.len() as f64;
    let rms = mean_square.sqrt();
    if rms == 0.0 {
        return samples.to_vec();
    }
    let change = target_dbfs - 20.0 * (rms / FULL_SCALE).log10();
    if change < 0.0 {
        return samples.to_vec();
    }
    let gain = 10f64.powf(change / 20.0) as f32;
    samples.iter().map(|&x| x * gain).collect()
}
