//! Choosing a burn device: CPU (burn-flex) always, GPU (Wgpu) with the `wgpu` feature.
//!
//! The model code is written once for burn's run-time dispatched [`Device`]; which
//! backend runs it is the device you build the model on (or move it to with
//! [`UisRnn::to_device`](crate::UisRnn::to_device)). [`Backend`] names the two
//! choices (`"cpu"`, `"gpu"`), e.g. for a command line.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::error::{ModelError, Result};

/// The CPU device (burn-flex, pure Rust, SIMD and multi-threaded).
///
/// ```
/// let device = uisrnn_model::cpu_device();
/// assert!(!device.is_autodiff());
/// ```
pub fn cpu_device() -> Device {
    Device::flex()
}

/// The GPU device: burn's Wgpu backend on the best adapter the system offers (Vulkan,
/// Metal or DX12; Mesa's software Vulkan driver, lavapipe, where there is no GPU).
/// `CUBECL_WGPU_DEFAULT_DEVICE` overrides the choice (e.g. `DiscreteGpu(1)` or `Cpu`).
///
/// The adapter is acquired on the first call; later calls return the same device.
///
/// # Errors
/// [`ModelError::DeviceUnavailable`] when no adapter can be acquired (no GPU and no
/// software driver), instead of the panic the first tensor operation would raise; also
/// when the only adapter runs on OpenGL, where burn 0.22's kernels gave wrong labels
/// (all zeros on the reference fixtures) on Mesa's llvmpipe.
#[cfg(feature = "wgpu")]
pub fn gpu_device() -> Result<Device> {
    gpu::device().map(|(device, _)| device)
}

/// A human-readable description of `device`: the backend and, for the GPU, the adapter.
///
/// ```
/// let name = uisrnn_model::backend::describe(&uisrnn_model::cpu_device());
/// assert_eq!(name, "cpu (burn-flex)");
/// ```
pub fn describe(device: &Device) -> String {
    #[cfg(feature = "wgpu")]
    if let Some((gpu, adapter)) = gpu::acquired()
        && &gpu == device
    {
        return format!("gpu (wgpu: {adapter})");
    }
    if device == &cpu_device() {
        "cpu (burn-flex)".into()
    } else {
        format!("{device:?}")
    }
}

#[cfg(feature = "wgpu")]
mod gpu {
    use std::sync::OnceLock;

    use burn::tensor::wgpu::{WgpuInitError, wgpu};
    use burn::tensor::{Device, DeviceKind};

    use crate::error::{ModelError, Result};

    /// The GPU device and its adapter's description, acquired once per process.
    static GPU: OnceLock<std::result::Result<(Device, String), String>> = OnceLock::new();

    pub(super) fn device() -> Result<(Device, String)> {
        GPU.get_or_init(acquire)
            .clone()
            .map_err(|reason| ModelError::DeviceUnavailable {
                backend: super::Backend::Gpu,
                reason,
            })
    }

    /// The GPU device if [`device`] acquired it already (without acquiring it).
    pub(super) fn acquired() -> Option<(Device, String)> {
        GPU.get().and_then(|gpu| gpu.clone().ok())
    }

    fn acquire() -> std::result::Result<(Device, String), String> {
        match Device::wgpu_options().init_with_setup() {
            Ok((_, setup)) if setup.backend == wgpu::Backend::Gl => Err(format!(
                "the only adapter found ({}) runs on OpenGL, where burn's compute kernels \
                 gave wrong results in our tests; install a Vulkan driver (e.g. Mesa's \
                 mesa-vulkan-drivers) or use the cpu device",
                setup.adapter.get_info().name
            )),
            Ok((device, setup)) => {
                let info = setup.adapter.get_info();
                Ok((device, format!("{}, {:?}", info.name, info.backend)))
            }
            // Someone (a tensor operation, or the application) already set the default
            // adapter up: it works, use it.
            Err(WgpuInitError::Registration { .. }) => Ok((
                Device::wgpu(DeviceKind::DefaultDevice),
                "default adapter".into(),
            )),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// The two kinds of device a model can run on.
///
/// ```
/// use uisrnn_model::backend::Backend;
///
/// let cpu: Backend = "cpu".parse()?;
/// assert_eq!(cpu, Backend::Cpu);
/// assert!(cpu.device().is_ok());
/// assert!("tpu".parse::<Backend>().is_err());
/// # Ok::<(), uisrnn_model::ModelError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn-flex on the CPU.
    Cpu,
    /// burn's Wgpu backend (needs the `wgpu` cargo feature).
    Gpu,
}

impl Backend {
    /// Whether this build can run `self` (the GPU needs the `wgpu` feature).
    pub const fn is_compiled(self) -> bool {
        match self {
            Self::Cpu => true,
            Self::Gpu => cfg!(feature = "wgpu"),
        }
    }

    /// The GPU when the build has it, else the CPU: what the command-line tool uses
    /// unless told otherwise.
    pub const fn preferred() -> Self {
        if Self::Gpu.is_compiled() {
            Self::Gpu
        } else {
            Self::Cpu
        }
    }

    /// The device for this backend.
    ///
    /// # Errors
    /// [`ModelError::DeviceUnavailable`] for the GPU when the build lacks the `wgpu`
    /// feature or no adapter can be acquired.
    pub fn device(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(cpu_device()),
            #[cfg(feature = "wgpu")]
            Self::Gpu => gpu_device(),
            #[cfg(not(feature = "wgpu"))]
            Self::Gpu => Err(ModelError::DeviceUnavailable {
                backend: self,
                reason: "this build has no GPU support; rebuild with the `wgpu` cargo feature"
                    .into(),
            }),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
        })
    }
}

impl FromStr for Backend {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "gpu" | "wgpu" => Ok(Self::Gpu),
            _ => Err(ModelError::InvalidConfig {
                name: "device",
                reason: format!("must be `cpu` or `gpu`, got `{name}`"),
            }),
        }
    }
}
