//! Choosing a burn device: CPU (burn-flex) always, GPU (Wgpu) with the `wgpu` feature.

use burn::tensor::Device;

/// The CPU device (burn-flex, pure Rust, SIMD and multi-threaded).
///
/// ```
/// let device = uisrnn_model::cpu_device();
/// assert!(!device.is_autodiff());
/// ```
pub fn cpu_device() -> Device {
    Device::flex()
}
