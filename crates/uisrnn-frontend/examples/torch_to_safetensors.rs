//! Converts a `torch.save` state dict to safetensors without changing a value,
//! reading it with the project's own bounded, non-executing torch reader
//! ([`uisrnn_pickle::torch::read_state_dict`]). Integer bookkeeping tensors
//! (batch norms' `num_batches_tracked`) are left out; every float tensor is kept
//! under its name, as f32. How `weights/campplus-cn-en-common.safetensors` was made:
//!
//! ```text
//! cargo run --release -p uisrnn-frontend --example torch_to_safetensors -- \
//!     campplus_cn_en_common.pt crates/uisrnn-frontend/weights/campplus-cn-en-common.safetensors
//! ```
//!
//! An optional third argument names a dict inside the saved object holding the
//! tensors (dots between keys: `state_dict`, `model_state`).

use std::collections::HashMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = &args[..] else {
        return Err("usage: torch_to_safetensors IN.pt OUT.safetensors [dict.path]".into());
    };
    let path: Vec<&str> = rest.first().map_or(Vec::new(), |p| p.split('.').collect());
    let bytes = std::fs::read(input)?;
    let tensors = uisrnn_pickle::torch::read_state_dict(&bytes, &path)?;
    let kept: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .into_iter()
        .filter(|(name, _)| !name.ends_with("num_batches_tracked"))
        .map(|(name, t)| {
            let bytes = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name, t.shape, bytes)
        })
        .collect();
    let views = kept
        .iter()
        .map(|(name, shape, bytes)| {
            let view = safetensors::tensor::TensorView::new(
                safetensors::Dtype::F32,
                shape.clone(),
                bytes,
            )?;
            Ok((name.clone(), view))
        })
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()?;
    let metadata = HashMap::from([(
        "source".to_owned(),
        std::path::Path::new(input)
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
    )]);
    let serialized = safetensors::serialize(views, Some(metadata))?;
    let temporary = format!("{output}.partial");
    std::fs::write(&temporary, serialized)?;
    std::fs::rename(&temporary, output)?;
    println!("{input}: {} tensors written to {output}", kept.len());
    Ok(())
}
