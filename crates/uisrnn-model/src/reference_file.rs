//! Reader for model files written by the reference Python UIS-RNN
//! (`UISRNN.save_model`, i.e. `torch.save` of a dict).
//!
//! # Format
//!
//! `torch.save` writes a zip archive whose entries share one top-level
//! directory `<prefix>/` (the archive name chosen by torch, e.g. `model`):
//!
//! * `<prefix>/data.pkl`: a pickle (protocol 2) of the saved dict;
//! * `<prefix>/data/<key>`: the raw bytes of each tensor storage;
//! * `<prefix>/byteorder`: `little` or `big` (absent in old files: little);
//! * `<prefix>/version`, `.format_version`, ...: ignored.
//!
//! The pickled dict holds:
//!
//! * `rnn_state_dict`: a `collections.OrderedDict` from parameter names to
//!   tensors. Each tensor is `torch._utils._rebuild_tensor_v2(storage,
//!   storage_offset, size, stride, ...)` where `storage` is a persistent id
//!   `('storage', torch.FloatStorage, '<key>', '<location>', numel)` naming
//!   the entry `<prefix>/data/<key>`. `FloatStorage` (f32) and
//!   `DoubleStorage` (f64, rounded to f32) are supported.
//! * `rnn_init_hidden`, `sigma2`: numpy arrays, pickled as
//!   `numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` (or
//!   `numpy.core...`) followed by `BUILD` with the state `(1, shape,
//!   dtype, is_fortran, data)`. `data` is `bytes`, which protocol 2 spells as
//!   `_codecs.encode('<latin-1 text>', 'latin1')`. Float32 and float64
//!   (rounded to f32) arrays in either byte order and either memory order
//!   are supported.
//! * `transition_bias`, `transition_bias_denominator`, `crp_alpha`: Python
//!   floats or ints, or numpy scalars
//!   (`numpy._core.multiarray.scalar(dtype, bytes)`), or one-element numpy
//!   arrays.
//!
//! Nothing in the file is executed: the pickle is decoded into a data tree
//! by [`uisrnn_pickle`] and the shapes above are recognised by name.
//!
//! # Safety bounds
//!
//! * Zip entries declaring more than 2 GiB (uncompressed) are rejected;
//!   entries are read through `take(declared size + 1)`, so a lying header
//!   cannot make the reader produce more than it declared, reading reaches
//!   the end of the entry so its CRC is verified, and buffers are
//!   preallocated to at most the archive's own size. Only the pickle, the
//!   byteorder and the storages the pickle references are read.
//! * A tensor must have no more elements than its storage, and its storage
//!   offset and strides must stay inside the storage; a storage entry must
//!   hold at least the bytes its element count needs. Numpy array data must
//!   be exactly `product(shape) × itemsize` bytes. All size arithmetic is
//!   checked, so nothing is allocated beyond what the file actually holds.
//! * The pickle itself is parsed with the bounds documented in
//!   [`uisrnn_pickle`].

use std::io::Cursor;
use std::path::Path;

use uisrnn_pickle::torch::{
    ElementType, Endian, Reason, ScalarKind, StridedView, TorchArchive, as_usize_tuple,
    contiguous_strides, decode_state_dict, lookup, mapping_items, pickle_prefix,
};
use uisrnn_pickle::{self as pickle, Object, Value};
use zip::ZipArchive;

use crate::error::ModelError;
use crate::weights::HostTensor;

/// Module names numpy has used for `_reconstruct` and `scalar`.
const NUMPY_MULTIARRAY_MODULES: [&str; 2] = ["numpy._core.multiarray", "numpy.core.multiarray"];

/// Everything the reference saved, as plain row-major f32 arrays.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceModelFile {
    /// The `rnn_state_dict` tensors by parameter name, in file order.
    pub state_dict: Vec<(String, HostTensor)>,
    /// The initial hidden state, shape `[depth, 1, H]`.
    pub rnn_init_hidden: HostTensor,
    /// The observation variance, shape `[D]`.
    pub sigma2: HostTensor,
    /// The speaker-change transition bias.
    pub transition_bias: f64,
    /// The denominator the transition bias was estimated with.
    pub transition_bias_denominator: f64,
    /// The CRP concentration parameter alpha.
    pub crp_alpha: f64,
}

impl ReferenceModelFile {
    /// Reads and decodes the reference model file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, ModelError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, path)
    }

    /// Decodes a reference model file held in memory; `path_for_messages`
    /// only names the file in errors.
    pub fn from_bytes(bytes: &[u8], path_for_messages: &Path) -> Result<Self, ModelError> {
        decode_file(bytes).map_err(|reason| ModelError::InvalidReferenceFile {
            path: path_for_messages.to_path_buf(),
            reason,
        })
    }

    /// The state-dict tensor called `name` (e.g. `gru.weight_ih_l0`).
    pub fn tensor(&self, name: &str) -> Option<&HostTensor> {
        self.state_dict
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, tensor)| tensor)
    }
}

/// Cheap check used to detect the format from content: true if bytes look
/// like a torch zip (zip magic + a `*/data.pkl` entry).
pub fn looks_like_reference_file(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
        && ZipArchive::new(Cursor::new(bytes)).is_ok_and(|zip| pickle_prefix(&zip).is_ok())
}

/// Prefixes a reason with the dict key it concerns.
fn in_field(key: &'static str) -> impl Fn(Reason) -> Reason {
    move |reason| format!("{key}: {reason}")
}

fn decode_file(bytes: &[u8]) -> Result<ReferenceModelFile, Reason> {
    let mut archive = TorchArchive::open(bytes)?;
    let pickle_bytes = archive.read_pickle()?;
    decode_model(&pickle_bytes, &mut archive)
}

/// Decodes the pickled dict, reading tensor storages from `archive`.
fn decode_model(
    pickle_bytes: &[u8],
    archive: &mut TorchArchive,
) -> Result<ReferenceModelFile, Reason> {
    let root = pickle::parse(pickle_bytes).map_err(|error| format!("data.pkl: {error}"))?;
    let items = mapping_items(&root)
        .ok_or_else(|| format!("data.pkl holds a {}, not a dict", root.kind_name()))?;
    let field = |key: &str| lookup(items, key).ok_or_else(|| format!("missing key {key:?}"));

    let state_dict = decode_state_dict(field("rnn_state_dict")?, archive, "rnn_state_dict")?
        .into_iter()
        .map(|(name, tensor)| {
            (
                name,
                HostTensor {
                    shape: tensor.shape,
                    data: tensor.data,
                },
            )
        })
        .collect();
    Ok(ReferenceModelFile {
        state_dict,
        rnn_init_hidden: decode_float_array(field("rnn_init_hidden")?)
            .map_err(in_field("rnn_init_hidden"))?,
        sigma2: decode_float_array(field("sigma2")?).map_err(in_field("sigma2"))?,
        transition_bias: decode_number(field("transition_bias")?)
            .map_err(in_field("transition_bias"))?,
        transition_bias_denominator: decode_number(field("transition_bias_denominator")?)
            .map_err(in_field("transition_bias_denominator"))?,
        crp_alpha: decode_number(field("crp_alpha")?).map_err(in_field("crp_alpha"))?,
    })
}

fn is_numpy_multiarray(object: &Object, function: &str) -> bool {
    object.global().is_some_and(|(module, name)| {
        name == function && NUMPY_MULTIARRAY_MODULES.contains(&module)
    })
}

// ---------------------------------------------------------------------------
// Numpy arrays and scalars
// ---------------------------------------------------------------------------

/// A numpy array's description and raw bytes.
#[derive(Debug)]
struct NdArray {
    shape: Vec<usize>,
    element: ElementType,
    fortran_order: bool,
    data: Vec<u8>,
}

impl NdArray {
    fn to_tensor(&self) -> Result<HostTensor, Reason> {
        let strides = contiguous_strides(&self.shape, self.fortran_order);
        let count = self
            .shape
            .iter()
            .try_fold(1usize, |count, &dim| count.checked_mul(dim))
            .ok_or("array size overflows")?;
        let view = StridedView {
            shape: &self.shape,
            strides: &strides,
            offset: 0,
            storage_len: count,
        };
        let data = view.gather(&self.data, self.element)?;
        Ok(HostTensor {
            shape: self.shape.clone(),
            data,
        })
    }
}

/// A float32/float64 numpy array as an f32 tensor.
fn decode_float_array(value: &Value) -> Result<HostTensor, Reason> {
    let array = decode_ndarray(value)?;
    if !array.element.is_float() {
        return Err(format!(
            "array has element type {:?}, expected float32 or float64",
            array.element.kind
        ));
    }
    array.to_tensor()
}

/// `_reconstruct(ndarray, (0,), b'b')` + `BUILD (version, shape, dtype,
/// is_fortran, data)`.
fn decode_ndarray(value: &Value) -> Result<NdArray, Reason> {
    let object = value
        .as_object()
        .filter(|object| is_numpy_multiarray(object, "_reconstruct"))
        .ok_or_else(|| format!("expected a numpy array, found a {}", value.kind_name()))?;
    let class = object.args.as_tuple().and_then(|args| args.first());
    if class.and_then(Value::as_global) != Some(("numpy", "ndarray")) {
        return Err("array class is not numpy.ndarray".to_owned());
    }
    let state = object
        .state
        .as_ref()
        .and_then(Value::as_tuple)
        .ok_or("array has no state tuple")?;
    let (shape, dtype, fortran, data) = match state {
        [_, shape, dtype, fortran, data] | [shape, dtype, fortran, data] => {
            (shape, dtype, fortran, data)
        }
        _ => return Err(format!("array state has {} items", state.len())),
    };
    let array = NdArray {
        shape: as_usize_tuple(shape, "array shape")?,
        element: decode_dtype(dtype)?,
        fortran_order: fortran.as_bool().ok_or("array is_fortran is not a bool")?,
        data: decode_bytes(data)?,
    };
    check_array_size(&array)?;
    Ok(array)
}

fn check_array_size(array: &NdArray) -> Result<(), Reason> {
    let expected = array
        .shape
        .iter()
        .try_fold(array.element.size(), |bytes, &dim| bytes.checked_mul(dim))
        .ok_or("array size overflows")?;
    if array.data.len() != expected {
        return Err(format!(
            "array of shape {:?} needs {expected} bytes but holds {}",
            array.shape,
            array.data.len()
        ));
    }
    Ok(())
}

/// `numpy.dtype('f4', False, True)` + `BUILD (3, '<', ...)`.
fn decode_dtype(value: &Value) -> Result<ElementType, Reason> {
    let object = value
        .as_object()
        .filter(|object| object.global() == Some(("numpy", "dtype")))
        .ok_or_else(|| format!("expected a numpy dtype, found a {}", value.kind_name()))?;
    let code = object
        .args
        .as_tuple()
        .and_then(|args| args.first())
        .and_then(Value::as_str)
        .ok_or("dtype has no type code")?;
    let state_order = object
        .state
        .as_ref()
        .and_then(Value::as_tuple)
        .and_then(|state| state.get(1))
        .and_then(Value::as_str);
    let (code_order, code) = match code.as_bytes().first() {
        Some(b'<' | b'>' | b'=' | b'|') => code.split_at(1),
        _ => ("", code),
    };
    let order = if code_order.is_empty() {
        state_order.unwrap_or("|")
    } else {
        code_order
    };
    let endian = match order {
        "<" | "|" | "=" => Endian::Little,
        ">" => Endian::Big,
        other => return Err(format!("unknown dtype byte order {other:?}")),
    };
    let kind = scalar_kind(code).ok_or_else(|| format!("unsupported dtype {code:?}"))?;
    Ok(ElementType { kind, endian })
}

fn scalar_kind(code: &str) -> Option<ScalarKind> {
    Some(match code {
        "f4" => ScalarKind::F32,
        "f8" => ScalarKind::F64,
        "b1" => ScalarKind::Bool,
        "i1" => ScalarKind::I8,
        "i2" => ScalarKind::I16,
        "i4" => ScalarKind::I32,
        "i8" => ScalarKind::I64,
        "u1" => ScalarKind::U8,
        "u2" => ScalarKind::U16,
        "u4" => ScalarKind::U32,
        "u8" => ScalarKind::U64,
        _ => return None,
    })
}

/// Bytes, spelled either directly or as `_codecs.encode(text, 'latin1')`.
fn decode_bytes(value: &Value) -> Result<Vec<u8>, Reason> {
    match value {
        Value::Bytes(bytes) => Ok(bytes.clone()),
        Value::Object(object) if object.global() == Some(("_codecs", "encode")) => {
            let Some([Value::String(text), Value::String(encoding)]) = object.args.as_tuple()
            else {
                return Err("_codecs.encode arguments are not (str, str)".to_owned());
            };
            if !matches!(encoding.as_str(), "latin1" | "latin-1" | "iso-8859-1") {
                return Err(format!("unsupported byte encoding {encoding:?}"));
            }
            latin1_bytes(text)
        }
        other => Err(format!("expected bytes, found a {}", other.kind_name())),
    }
}

fn latin1_bytes(text: &str) -> Result<Vec<u8>, Reason> {
    text.chars()
        .map(|c| {
            u8::try_from(c).map_err(|_| format!("character U+{:04X} is not latin-1", u32::from(c)))
        })
        .collect()
}

/// A number: a Python float or int, a numpy scalar, or a one-element array.
fn decode_number(value: &Value) -> Result<f64, Reason> {
    match value {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Object(object) if is_numpy_multiarray(object, "scalar") => {
            decode_numpy_scalar(object)
        }
        Value::Object(object) if is_numpy_multiarray(object, "_reconstruct") => {
            let array = decode_ndarray(value)?;
            if array.data.len() != array.element.size() {
                return Err(format!(
                    "array of shape {:?} is not a single number",
                    array.shape
                ));
            }
            array
                .element
                .read(&array.data, 0)
                .ok_or_else(|| "array holds no element".to_owned())
        }
        other => Err(format!("expected a number, found a {}", other.kind_name())),
    }
}

/// `numpy._core.multiarray.scalar(dtype, bytes)`.
fn decode_numpy_scalar(object: &Object) -> Result<f64, Reason> {
    let Some([dtype, data, ..]) = object.args.as_tuple() else {
        return Err("numpy scalar arguments are not (dtype, bytes)".to_owned());
    };
    let element = decode_dtype(dtype)?;
    let bytes = decode_bytes(data)?;
    if bytes.len() != element.size() {
        return Err(format!(
            "numpy scalar holds {} bytes, expected {}",
            bytes.len(),
            element.size()
        ));
    }
    element
        .read(&bytes, 0)
        .ok_or_else(|| "numpy scalar holds no element".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::io::Write;
    use std::path::PathBuf;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/reference/model.uisrnn"
    );
    const EXPECTED_MANIFEST: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/expected_weights.txt");
    const EXPECTED_DATA: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/expected_weights.bin");

    const STATE_DICT_NAMES: [&str; 8] = [
        "gru.weight_ih_l0",
        "gru.weight_hh_l0",
        "gru.bias_ih_l0",
        "gru.bias_hh_l0",
        "linear_mean1.weight",
        "linear_mean1.bias",
        "linear_mean2.weight",
        "linear_mean2.bias",
    ];

    fn fixture_bytes() -> Vec<u8> {
        std::fs::read(FIXTURE).expect("fixture model.uisrnn is readable")
    }

    fn message_path() -> PathBuf {
        PathBuf::from("test.uisrnn")
    }

    fn decode(bytes: &[u8]) -> Result<ReferenceModelFile, ModelError> {
        ReferenceModelFile::from_bytes(bytes, &message_path())
    }

    /// The reason of an `InvalidReferenceFile` error (panics otherwise).
    fn reason(result: Result<ReferenceModelFile, ModelError>) -> String {
        match result {
            Err(ModelError::InvalidReferenceFile { path, reason }) => {
                assert_eq!(path, message_path());
                reason
            }
            Err(other) => panic!("unexpected error kind: {other}"),
            Ok(_) => panic!("decoding unexpectedly succeeded"),
        }
    }

    /// Expected values: tensors by name, and scalars by name as f64 bits.
    struct Expected {
        tensors: Vec<(String, HostTensor)>,
        scalars: Vec<(String, u64)>,
    }

    fn expected() -> Expected {
        let manifest = std::fs::read_to_string(EXPECTED_MANIFEST).expect("manifest");
        let blob = std::fs::read(EXPECTED_DATA).expect("expected data");
        let floats: Vec<f32> = blob
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let mut expected = Expected {
            tensors: Vec::new(),
            scalars: Vec::new(),
        };
        for line in manifest.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            match fields.as_slice() {
                ["tensor", name, offset, dims] => {
                    let shape: Vec<usize> = dims.split(',').map(|d| d.parse().unwrap()).collect();
                    let offset: usize = offset.parse().unwrap();
                    let count: usize = shape.iter().product();
                    let data = floats[offset..offset + count].to_vec();
                    expected
                        .tensors
                        .push((name.to_string(), HostTensor { shape, data }));
                }
                ["scalar", name, bits] => {
                    let bits = u64::from_str_radix(bits, 16).unwrap();
                    expected.scalars.push((name.to_string(), bits));
                }
                _ => panic!("bad manifest line {line:?}"),
            }
        }
        expected
    }

    fn assert_bitwise_equal(name: &str, actual: &HostTensor, expected: &HostTensor) {
        assert_eq!(actual.shape, expected.shape, "shape of {name}");
        assert_eq!(actual.data.len(), expected.data.len(), "length of {name}");
        for (index, (a, e)) in actual.data.iter().zip(&expected.data).enumerate() {
            assert_eq!(a.to_bits(), e.to_bits(), "{name}[{index}]: {a} != {e}");
        }
    }

    /// The fixture archive with entries replaced (`Some`) or dropped (`None`).
    fn rebuild_fixture(edit: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>) -> Vec<u8> {
        let bytes = fixture_bytes();
        let mut source = ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for index in 0..source.len() {
            let mut entry = source.by_index(index).unwrap();
            let name = entry.name().to_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            if let Some(data) = edit(&name, data) {
                writer.start_file(name, options).unwrap();
                writer.write_all(&data).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn fixture_pickle() -> Vec<u8> {
        let bytes = fixture_bytes();
        let mut archive = TorchArchive::open(&bytes).unwrap();
        archive.read_pickle().unwrap()
    }

    fn with_pickle(pickle: Vec<u8>) -> Vec<u8> {
        rebuild_fixture(move |name, data| {
            Some(if name == "model/data.pkl" {
                pickle.clone()
            } else {
                data
            })
        })
    }

    #[test]
    fn fixture_matches_expected_values_bitwise() {
        let model = ReferenceModelFile::read(FIXTURE).unwrap();
        let expected = expected();
        let names: Vec<&str> = model.state_dict.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, STATE_DICT_NAMES);
        assert_eq!(expected.tensors.len(), 10);
        for (name, tensor) in &expected.tensors {
            let actual = match name.as_str() {
                "rnn_init_hidden" => &model.rnn_init_hidden,
                "sigma2" => &model.sigma2,
                other => model
                    .tensor(other)
                    .unwrap_or_else(|| panic!("missing {other}")),
            };
            assert_bitwise_equal(name, actual, tensor);
        }
        assert_eq!(expected.scalars.len(), 3);
        for (name, bits) in &expected.scalars {
            let actual = match name.as_str() {
                "transition_bias" => model.transition_bias,
                "transition_bias_denominator" => model.transition_bias_denominator,
                "crp_alpha" => model.crp_alpha,
                other => panic!("unexpected scalar {other}"),
            };
            assert_eq!(actual.to_bits(), *bits, "{name}");
        }
        assert_eq!(model.rnn_init_hidden.shape, [1, 1, 64]);
        assert_eq!(model.sigma2.shape, [256]);
    }

    #[test]
    fn from_bytes_matches_read_and_tensor_lookup_works() {
        let from_file = ReferenceModelFile::read(FIXTURE).unwrap();
        let from_bytes = decode(&fixture_bytes()).unwrap();
        assert_eq!(from_file, from_bytes);
        assert!(from_bytes.tensor("gru.weight_ih_l0").is_some());
        assert!(from_bytes.tensor("gru.weight_ih_l1").is_none());
    }

    #[test]
    fn rewritten_archive_with_other_prefix_reads_the_same() {
        let original = decode(&fixture_bytes()).unwrap();
        let bytes = fixture_bytes();
        let mut source = ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for index in 0..source.len() {
            let mut entry = source.by_index(index).unwrap();
            let name = entry.name().replacen("model/", "archive/", 1);
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            writer.start_file(name, options).unwrap();
            writer.write_all(&data).unwrap();
        }
        let rewritten = writer.finish().unwrap().into_inner();
        assert_eq!(decode(&rewritten).unwrap(), original);
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let result = ReferenceModelFile::read("/nonexistent/dir/model.uisrnn");
        assert!(matches!(result, Err(ModelError::Io { .. })));
    }

    #[test]
    fn format_detection() {
        assert!(looks_like_reference_file(&fixture_bytes()));
        assert!(!looks_like_reference_file(b""));
        assert!(!looks_like_reference_file(b"PK\x03\x04garbage"));
        assert!(!looks_like_reference_file(b"{\"json\": true}"));
        let without_pickle =
            rebuild_fixture(|name, data| (name != "model/data.pkl").then_some(data));
        assert!(!looks_like_reference_file(&without_pickle));
    }

    #[test]
    fn not_a_zip_is_rejected() {
        let reason = reason(decode(b"this is not a zip archive"));
        assert!(reason.contains("not a zip archive"), "{reason}");
        let message = decode(b"").unwrap_err().to_string();
        assert!(message.starts_with("test.uisrnn: "), "{message}");
    }

    #[test]
    fn truncated_files_are_rejected() {
        let bytes = fixture_bytes();
        for len in [
            0,
            1,
            4,
            30,
            100,
            bytes.len() / 2,
            bytes.len() - 100,
            bytes.len() - 1,
        ] {
            let reason = reason(decode(&bytes[..len]));
            assert!(!reason.is_empty(), "truncated to {len}");
        }
    }

    #[test]
    fn zip_without_pickle_is_rejected() {
        let bytes = rebuild_fixture(|name, data| (name != "model/data.pkl").then_some(data));
        let reason = reason(decode(&bytes));
        assert!(reason.contains("data.pkl"), "{reason}");
    }

    #[test]
    fn two_pickles_are_rejected() {
        let bytes = rebuild_fixture(|_, data| Some(data));
        let mut source = ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for name in ["a/data.pkl", "b/data.pkl"] {
            writer.start_file(name, options).unwrap();
            let mut data = Vec::new();
            source
                .by_name("model/data.pkl")
                .unwrap()
                .read_to_end(&mut data)
                .unwrap();
            writer.write_all(&data).unwrap();
        }
        let bytes = writer.finish().unwrap().into_inner();
        let reason = reason(decode(&bytes));
        assert!(reason.contains("several pickles"), "{reason}");
    }

    #[test]
    fn missing_storage_entry_is_rejected() {
        let bytes = rebuild_fixture(|name, data| (name != "model/data/3").then_some(data));
        let reason = reason(decode(&bytes));
        assert!(reason.contains("model/data/3"), "{reason}");
        assert!(reason.contains("gru.bias_hh_l0"), "{reason}");
    }

    #[test]
    fn short_storage_entry_is_rejected() {
        let bytes = rebuild_fixture(|name, mut data| {
            if name == "model/data/2" {
                data.truncate(100);
            }
            Some(data)
        });
        let reason = reason(decode(&bytes));
        assert!(
            reason.contains("fewer than its 192 elements need"),
            "{reason}"
        );
    }

    #[test]
    fn tensor_larger_than_its_storage_is_rejected() {
        // The storage of gru.bias_ih_l0 is declared as `BININT1 192` at
        // offset 327; claim only 100 elements so the (192,) tensor overflows.
        let mut pickle = fixture_pickle();
        assert_eq!(&pickle[327..329], &[b'K', 192]);
        pickle[328] = 100;
        let reason = reason(decode(&with_pickle(pickle)));
        assert!(
            reason.contains("192 elements but its storage holds 100"),
            "{reason}"
        );
    }

    #[test]
    fn offset_outside_storage_is_rejected() {
        // gru.bias_ih_l0's storage offset is `BININT1 0` at offset 333.
        let mut pickle = fixture_pickle();
        assert_eq!(&pickle[333..335], &[b'K', 0]);
        pickle[334] = 1;
        let reason = reason(decode(&with_pickle(pickle)));
        assert!(reason.contains("reach element 192"), "{reason}");
    }

    #[test]
    fn missing_key_is_named() {
        // Rename the `crp_alpha` key (offset 1546: BINUNICODE, 4-byte length).
        let mut pickle = fixture_pickle();
        let at = 1546 + 5;
        assert_eq!(&pickle[at..at + 9], b"crp_alpha");
        pickle[at] = b'x';
        let reason = reason(decode(&with_pickle(pickle)));
        assert!(reason.contains("missing key \"crp_alpha\""), "{reason}");
    }

    #[test]
    fn unknown_opcode_is_rejected() {
        let reason = reason(decode(&with_pickle(b"\x80\x02\xff.".to_vec())));
        assert!(reason.contains("0xff"), "{reason}");
        assert!(reason.contains("offset 2"), "{reason}");
    }

    #[test]
    fn non_dict_root_is_rejected() {
        let reason = reason(decode(&with_pickle(b"\x80\x02]q\x00.".to_vec())));
        assert!(reason.contains("not a dict"), "{reason}");
    }

    #[test]
    fn corrupted_pickle_bytes_are_rejected() {
        let original = fixture_pickle();
        // Opcodes and operands whose corruption must be detected.
        for offset in [
            0, 1, 2, 5, 27, 55, 179, 198, 737, 865, 1500, 2869, 2870, 2871,
        ] {
            let mut pickle = original.clone();
            pickle[offset] ^= 0xff;
            let result = decode(&with_pickle(pickle));
            assert!(result.is_err(), "flipping byte {offset} went unnoticed");
        }
    }

    #[test]
    fn corrupted_storage_bytes_fail_the_crc_check() {
        let mut bytes = fixture_bytes();
        let payload = {
            let mut zip = ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
            let entry = zip.by_name("model/data/0").unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
            usize::try_from(entry.data_start()).unwrap()
        };
        bytes[payload + 1000] ^= 0x01;
        let reason = reason(decode(&bytes));
        assert!(reason.contains("model/data/0"), "{reason}");
        assert!(
            reason.to_lowercase().contains("checksum") || reason.contains("CRC"),
            "{reason}"
        );
    }

    #[test]
    fn corrupted_archive_bytes_never_panic() {
        let original = fixture_bytes();
        let mut rng = Lcg(0x5eed);
        for _ in 0..200 {
            let mut bytes = original.clone();
            let at = rng.below(bytes.len());
            bytes[at] = rng.next() as u8;
            let _ = decode(&bytes);
            let _ = looks_like_reference_file(&bytes);
        }
    }

    /// A tiny deterministic generator for the mutation loops.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    #[test]
    fn mutated_pickles_never_panic() {
        let bytes = fixture_bytes();
        let mut archive = TorchArchive::open(&bytes).unwrap();
        let original = archive.read_pickle().unwrap();
        assert!(decode_model(&original, &mut archive).is_ok());
        let interesting = [0x00, 0xff, 0x7f, 0x80, b'(', b'.', b'h', b'R', b'b', b't'];
        let mut rng = Lcg(42);
        for round in 0..2000 {
            let mut pickle = original.clone();
            let mutations = 1 + round % 3;
            for _ in 0..mutations {
                let at = rng.below(pickle.len());
                pickle[at] = if rng.next().is_multiple_of(2) {
                    interesting[rng.below(interesting.len())]
                } else {
                    rng.next() as u8
                };
            }
            if round % 7 == 0 {
                pickle.truncate(rng.below(pickle.len()));
            }
            let _ = decode_model(&pickle, &mut archive);
        }
    }

    // -- numpy values built directly as pickle trees ------------------------

    fn global(module: &str, name: &str) -> Value {
        Value::Global {
            module: module.to_owned(),
            name: name.to_owned(),
        }
    }

    fn object(callable: Value, args: Vec<Value>, state: Option<Value>) -> Value {
        Value::Object(Box::new(Object {
            constructor: pickle::Constructor::Reduce,
            callable,
            args: Value::Tuple(args),
            list_items: Vec::new(),
            dict_items: Vec::new(),
            state,
        }))
    }

    fn dtype(code: &str, order: &str) -> Value {
        let state = Value::Tuple(vec![
            Value::Int(3),
            Value::String(order.to_owned()),
            Value::None,
            Value::None,
            Value::None,
            Value::Int(-1),
            Value::Int(-1),
            Value::Int(0),
        ]);
        object(
            global("numpy", "dtype"),
            vec![
                Value::String(code.to_owned()),
                Value::Bool(false),
                Value::Bool(true),
            ],
            Some(state),
        )
    }

    fn ndarray(module: &str, shape: &[i64], dtype: Value, fortran: bool, data: Value) -> Value {
        let state = Value::Tuple(vec![
            Value::Int(1),
            Value::Tuple(shape.iter().map(|&d| Value::Int(d)).collect()),
            dtype,
            Value::Bool(fortran),
            data,
        ]);
        object(
            global(module, "_reconstruct"),
            vec![
                global("numpy", "ndarray"),
                Value::Tuple(vec![Value::Int(0)]),
                Value::Bytes(b"b".to_vec()),
            ],
            Some(state),
        )
    }

    fn latin1(bytes: &[u8]) -> Value {
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        object(
            global("_codecs", "encode"),
            vec![Value::String(text), Value::String("latin1".to_owned())],
            None,
        )
    }

    fn f64_bytes(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn float64_arrays_in_both_memory_orders() {
        let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let c_order = ndarray(
            "numpy.core.multiarray",
            &[2, 3],
            dtype("f8", "<"),
            false,
            Value::Bytes(f64_bytes(&values)),
        );
        let tensor = decode_float_array(&c_order).unwrap();
        assert_eq!(tensor.shape, [2, 3]);
        assert_eq!(tensor.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

        // Column-major storage of [[1, 2, 3], [4, 5, 6]].
        let column_major = [1.0, 4.0, 2.0, 5.0, 3.0, 6.0];
        let fortran = ndarray(
            "numpy._core.multiarray",
            &[2, 3],
            dtype("f8", "<"),
            true,
            latin1(&f64_bytes(&column_major)),
        );
        let tensor = decode_float_array(&fortran).unwrap();
        assert_eq!(tensor.shape, [2, 3]);
        assert_eq!(tensor.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn big_endian_float32_array() {
        let data: Vec<u8> = [1.5f32, -2.25]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        let array = ndarray(
            "numpy._core.multiarray",
            &[2],
            dtype("f4", ">"),
            false,
            Value::Bytes(data),
        );
        assert_eq!(decode_float_array(&array).unwrap().data, [1.5, -2.25]);
    }

    #[test]
    fn bad_arrays_are_rejected() {
        let wrong_size = ndarray(
            "numpy._core.multiarray",
            &[3],
            dtype("f4", "<"),
            false,
            Value::Bytes(vec![0; 8]),
        );
        let reason = decode_float_array(&wrong_size).unwrap_err();
        assert!(reason.contains("needs 12 bytes but holds 8"), "{reason}");

        let huge = ndarray(
            "numpy._core.multiarray",
            &[i64::MAX, i64::MAX],
            dtype("f4", "<"),
            false,
            Value::Bytes(vec![0; 8]),
        );
        assert!(decode_float_array(&huge).is_err());

        let ints = ndarray(
            "numpy._core.multiarray",
            &[2],
            dtype("i4", "<"),
            false,
            Value::Bytes(vec![0; 8]),
        );
        assert!(
            decode_float_array(&ints)
                .unwrap_err()
                .contains("float32 or float64")
        );

        let wide_char = object(
            global("_codecs", "encode"),
            vec![
                Value::String("\u{100}".to_owned()),
                Value::String("latin1".to_owned()),
            ],
            None,
        );
        let bad_text = ndarray(
            "numpy._core.multiarray",
            &[1],
            dtype("u1", "|"),
            false,
            wide_char,
        );
        assert!(decode_ndarray(&bad_text).unwrap_err().contains("U+0100"));

        let complex = ndarray(
            "numpy._core.multiarray",
            &[1],
            dtype("c8", "<"),
            false,
            Value::Bytes(vec![0; 8]),
        );
        assert!(decode_float_array(&complex).unwrap_err().contains("\"c8\""));
    }

    #[test]
    fn numbers_in_every_spelling() {
        assert_eq!(decode_number(&Value::Float(0.25)).unwrap(), 0.25);
        assert_eq!(decode_number(&Value::Int(4628)).unwrap(), 4628.0);
        let scalar = object(
            global("numpy._core.multiarray", "scalar"),
            vec![dtype("f8", "<"), latin1(&0.125f64.to_le_bytes())],
            None,
        );
        assert_eq!(decode_number(&scalar).unwrap(), 0.125);
        let int_scalar = object(
            global("numpy.core.multiarray", "scalar"),
            vec![
                dtype("i8", "<"),
                Value::Bytes((-7i64).to_le_bytes().to_vec()),
            ],
            None,
        );
        assert_eq!(decode_number(&int_scalar).unwrap(), -7.0);
        let zero_d = ndarray(
            "numpy._core.multiarray",
            &[],
            dtype("f8", "<"),
            false,
            Value::Bytes(f64_bytes(&[3.5])),
        );
        assert_eq!(decode_number(&zero_d).unwrap(), 3.5);
        let short = object(
            global("numpy._core.multiarray", "scalar"),
            vec![dtype("f8", "<"), Value::Bytes(vec![0; 4])],
            None,
        );
        assert!(decode_number(&short).is_err());
        assert!(decode_number(&Value::String("1.0".to_owned())).is_err());
    }

    #[test]
    fn strided_views_are_copied_row_major() {
        // A transposed 2x3 view of a 3x2 row-major storage [0, 1, 2, 3, 4, 5].
        let storage: Vec<u8> = (0..6).flat_map(|v| (v as f32).to_le_bytes()).collect();
        let element = ElementType {
            kind: ScalarKind::F32,
            endian: Endian::Little,
        };
        let view = StridedView {
            shape: &[2, 3],
            strides: &[1, 2],
            offset: 0,
            storage_len: 6,
        };
        assert_eq!(
            view.gather(&storage, element).unwrap(),
            [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]
        );
        let with_offset = StridedView {
            shape: &[2],
            strides: &[2],
            offset: 3,
            storage_len: 6,
        };
        assert_eq!(with_offset.gather(&storage, element).unwrap(), [3.0, 5.0]);
        let too_far = StridedView {
            shape: &[2],
            strides: &[usize::MAX],
            offset: 0,
            storage_len: 6,
        };
        assert!(too_far.gather(&storage, element).is_err());
        let empty = StridedView {
            shape: &[0, 5],
            strides: &[5, 1],
            offset: 0,
            storage_len: 0,
        };
        assert_eq!(empty.gather(&[], element).unwrap(), Vec::<f32>::new());
    }
}
