//! Readers for files written by PyTorch's `torch.save`: the zip archive (PyTorch
//! 1.6 and later) and the legacy stream before it. Nothing is executed: pickles are
//! decoded into data by [`crate::parse`], and tensors are recognised by the names of
//! their constructors (`torch._utils._rebuild_tensor_v2`, ...).
//!
//! # Zip archives
//!
//! Entries share one top-level directory `<prefix>/`: `<prefix>/data.pkl` (the
//! pickled object), `<prefix>/data/<key>` (each storage's raw bytes),
//! `<prefix>/byteorder` (`little` or `big`; little when absent).
//!
//! # Legacy streams
//!
//! Five pickles one after another: the magic number `0x1950a86a20f9469cfc6c`, the
//! protocol version 1001, a dict of system information (byte order, type sizes),
//! the object itself, and the list of storage keys; then, for each key in that
//! list's order, the storage's element count as a little-endian `i64` followed by
//! its raw bytes.
//!
//! In both, a tensor is `_rebuild_tensor_v2(storage, offset, size, stride, ...)`
//! whose storage is a persistent id `('storage', torch.FloatStorage, key, location,
//! numel[, view metadata])`.
//!
//! # Safety bounds
//!
//! Zip entries declaring more than 2 GiB are rejected and read through
//! `take(declared + 1)`, so a lying header cannot make the reader produce more than
//! it declared, and the CRC is checked; storage sizes are checked against the bytes
//! present before anything is allocated; a tensor's offset and strides must stay
//! inside its storage; all size arithmetic is checked.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use zip::ZipArchive;

use crate::{Limits, Value, parse_prefix};

/// Why a file cannot be read.
pub type Reason = String;

/// Largest zip entry (uncompressed) this reader will read.
const MAX_ENTRY_BYTES: u64 = 2 << 30;

/// A tensor read from a torch file: row-major `f32` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// The shape.
    pub shape: Vec<usize>,
    /// The values, row-major (float64 storages are rounded to f32, integer ones
    /// converted: exact up to 2^24).
    pub data: Vec<f32>,
}

/// Where tensors find their storages' bytes.
pub trait StorageSource {
    /// The byte order of the storages.
    fn endian(&self) -> Endian;
    /// The bytes of the storage called `key`.
    fn storage(&mut self, key: &str) -> Result<&[u8], Reason>;
}

// ---------------------------------------------------------------------------
// The zip archive
// ---------------------------------------------------------------------------

/// The torch zip archive, with storages read on demand and cached.
pub struct TorchArchive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    /// The top-level directory, e.g. `model`.
    prefix: String,
    /// Byte order of the storages.
    endian: Endian,
    /// Size of the whole archive, the cap for preallocation.
    archive_len: usize,
    storages: HashMap<String, Vec<u8>>,
}

impl<'a> TorchArchive<'a> {
    /// Opens the archive and reads its byte order.
    pub fn open(bytes: &'a [u8]) -> Result<Self, Reason> {
        let zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|error| format!("not a zip archive: {error}"))?;
        let prefix = pickle_prefix(&zip)?;
        let mut archive = Self {
            zip,
            prefix,
            endian: Endian::Little,
            archive_len: bytes.len(),
            storages: HashMap::new(),
        };
        archive.endian = archive.read_byteorder()?;
        Ok(archive)
    }

    /// The bytes of `<prefix>/data.pkl`.
    pub fn read_pickle(&mut self) -> Result<Vec<u8>, Reason> {
        let name = format!("{}/data.pkl", self.prefix);
        self.read_entry(&name)
    }

    /// The storage byte order from `<prefix>/byteorder` (little if absent).
    fn read_byteorder(&mut self) -> Result<Endian, Reason> {
        let name = format!("{}/byteorder", self.prefix);
        if self.zip.index_for_name(&name).is_none() {
            return Ok(Endian::Little);
        }
        match self.read_entry(&name)?.trim_ascii() {
            b"little" => Ok(Endian::Little),
            b"big" => Ok(Endian::Big),
            other => Err(format!(
                "unknown byteorder {:?}",
                String::from_utf8_lossy(other)
            )),
        }
    }

    /// The bytes of storage `key` (entry `<prefix>/data/<key>`).
    fn zip_storage(&mut self, key: &str) -> Result<&[u8], Reason> {
        if !self.storages.contains_key(key) {
            let name = format!("{}/data/{key}", self.prefix);
            let bytes = self.read_entry(&name)?;
            self.storages.insert(key.to_owned(), bytes);
        }
        self.storages
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("storage {key:?} vanished from the cache"))
    }

    /// Reads a whole entry, bounded by its declared size.
    fn read_entry(&mut self, name: &str) -> Result<Vec<u8>, Reason> {
        let entry = self
            .zip
            .by_name(name)
            .map_err(|error| format!("zip entry {name}: {error}"))?;
        let declared = entry.size();
        if declared > MAX_ENTRY_BYTES {
            return Err(format!(
                "zip entry {name} declares {declared} bytes, more than the {MAX_ENTRY_BYTES} allowed"
            ));
        }
        let capacity = usize::try_from(declared)
            .unwrap_or(usize::MAX)
            .min(self.archive_len);
        let mut data = Vec::with_capacity(capacity);
        // One byte more than declared: reaching the end lets the zip reader
        // verify the CRC, and an over-long entry is detected.
        entry
            .take(declared.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|error| format!("zip entry {name}: {error}"))?;
        if u64::try_from(data.len()).ok() != Some(declared) {
            return Err(format!(
                "zip entry {name} holds {} bytes, not the declared {declared}",
                data.len()
            ));
        }
        Ok(data)
    }
}

/// The `<prefix>` of the single `<prefix>/data.pkl` entry.
pub fn pickle_prefix<R: Read + std::io::Seek>(zip: &ZipArchive<R>) -> Result<String, Reason> {
    let mut prefixes = zip.file_names().filter_map(|name| {
        let prefix = name.strip_suffix("/data.pkl")?;
        (!prefix.is_empty() && !prefix.contains('/')).then_some(prefix)
    });
    match (prefixes.next(), prefixes.next()) {
        (Some(prefix), None) => Ok(prefix.to_owned()),
        (None, _) => Err("no <name>/data.pkl entry in the zip archive".to_owned()),
        (Some(first), Some(second)) => Err(format!(
            "several pickles in the zip archive ({first}/data.pkl, {second}/data.pkl, ...)"
        )),
    }
}

impl StorageSource for TorchArchive<'_> {
    fn endian(&self) -> Endian {
        self.endian
    }

    fn storage(&mut self, key: &str) -> Result<&[u8], Reason> {
        self.zip_storage(key)
    }
}

// ---------------------------------------------------------------------------
// Pickle values
// ---------------------------------------------------------------------------

/// The key/value pairs of a dict or `collections.OrderedDict`.
pub fn mapping_items(value: &Value) -> Option<&[(Value, Value)]> {
    match value {
        Value::Dict(items) => Some(items),
        Value::Object(object) if object.global() == Some(("collections", "OrderedDict")) => {
            Some(&object.dict_items)
        }
        _ => None,
    }
}

/// The value stored under a string key (the last one, as in Python).
pub fn lookup<'v>(items: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    items
        .iter()
        .rev()
        .find(|(candidate, _)| key_text(candidate) == Some(key))
        .map(|(_, value)| value)
}

/// A dict key as text (`str`, or an ASCII/UTF-8 Python 2 byte string).
pub fn key_text(key: &Value) -> Option<&str> {
    match key {
        Value::String(text) => Some(text),
        Value::Bytes(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

pub fn as_usize(value: &Value, what: &str) -> Result<usize, Reason> {
    value
        .as_int()
        .and_then(|i| usize::try_from(i).ok())
        .ok_or_else(|| format!("{what} is not a non-negative integer"))
}

pub fn as_usize_tuple(value: &Value, what: &str) -> Result<Vec<usize>, Reason> {
    let items = value
        .as_tuple()
        .ok_or_else(|| format!("{what} is a {}, not a tuple", value.kind_name()))?;
    items.iter().map(|item| as_usize(item, what)).collect()
}

// ---------------------------------------------------------------------------
// Element types
// ---------------------------------------------------------------------------

/// Byte order of stored elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// The scalar type of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ScalarKind {
    F32,
    F64,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

/// How one array element is laid out in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElementType {
    /// The scalar type.
    pub kind: ScalarKind,
    /// The byte order.
    pub endian: Endian,
}

impl ElementType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self.kind {
            ScalarKind::Bool | ScalarKind::I8 | ScalarKind::U8 => 1,
            ScalarKind::I16 | ScalarKind::U16 => 2,
            ScalarKind::F32 | ScalarKind::I32 | ScalarKind::U32 => 4,
            ScalarKind::F64 | ScalarKind::I64 | ScalarKind::U64 => 8,
        }
    }

    /// Whether the type is a float.
    pub fn is_float(self) -> bool {
        matches!(self.kind, ScalarKind::F32 | ScalarKind::F64)
    }

    /// Element `index` of `bytes`, or `None` if it lies outside.
    pub fn read(self, bytes: &[u8], index: usize) -> Option<f64> {
        let size = self.size();
        let start = index.checked_mul(size)?;
        self.decode(bytes.get(start..start.checked_add(size)?)?)
    }

    /// Elements `start..start + count` of `bytes`, or `None` if they do not
    /// all lie inside.
    pub fn read_run(self, bytes: &[u8], start: usize, count: usize) -> Option<Vec<f32>> {
        let size = self.size();
        let begin = start.checked_mul(size)?;
        let end = start.checked_add(count)?.checked_mul(size)?;
        let run = bytes.get(begin..end)?;
        let mut values = Vec::with_capacity(count);
        if self.kind == ScalarKind::F32 && self.endian == Endian::Little {
            // The common case, kept simple so that debug builds stay fast.
            values.extend(
                run.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        } else {
            for chunk in run.chunks_exact(size) {
                values.push(self.decode(chunk)? as f32);
            }
        }
        Some(values)
    }

    /// One element from exactly `size()` bytes.
    pub fn decode(self, chunk: &[u8]) -> Option<f64> {
        let value = match self.kind {
            ScalarKind::F32 => f64::from(f32::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::F64 => f64::from_le_bytes(self.ordered(chunk)?),
            ScalarKind::Bool => f64::from(u8::from(chunk.first()? != &0)),
            ScalarKind::I8 => f64::from(i8::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::I16 => f64::from(i16::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::I32 => f64::from(i32::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::I64 => i64::from_le_bytes(self.ordered(chunk)?) as f64,
            ScalarKind::U8 => f64::from(u8::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::U16 => f64::from(u16::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::U32 => f64::from(u32::from_le_bytes(self.ordered(chunk)?)),
            ScalarKind::U64 => u64::from_le_bytes(self.ordered(chunk)?) as f64,
        };
        Some(value)
    }

    /// The chunk's bytes in little-endian order.
    fn ordered<const N: usize>(self, chunk: &[u8]) -> Option<[u8; N]> {
        let mut array: [u8; N] = chunk.try_into().ok()?;
        if self.endian == Endian::Big {
            array.reverse();
        }
        Some(array)
    }
}

// ---------------------------------------------------------------------------
// Strided copies
// ---------------------------------------------------------------------------

/// A view into a flat storage of `storage_len` elements.
pub struct StridedView<'s> {
    /// The view's shape.
    pub shape: &'s [usize],
    /// Its strides, in elements.
    pub strides: &'s [usize],
    /// Its first element's position in the storage.
    pub offset: usize,
    /// The storage's element count.
    pub storage_len: usize,
}

impl StridedView<'_> {
    /// Checks the view lies inside its storage; returns its element count.
    pub fn validate(&self) -> Result<usize, Reason> {
        if self.shape.len() != self.strides.len() {
            return Err(format!(
                "size has {} dimensions but stride has {}",
                self.shape.len(),
                self.strides.len()
            ));
        }
        let overflow = || "tensor size overflows".to_owned();
        let count = self
            .shape
            .iter()
            .try_fold(1usize, |count, &dim| count.checked_mul(dim))
            .ok_or_else(overflow)?;
        if count > self.storage_len {
            return Err(format!(
                "tensor has {count} elements but its storage holds {}",
                self.storage_len
            ));
        }
        if count == 0 {
            return Ok(0);
        }
        let mut last = self.offset;
        for (&dim, &stride) in self.shape.iter().zip(self.strides) {
            let reach = (dim - 1).checked_mul(stride).ok_or_else(overflow)?;
            last = last.checked_add(reach).ok_or_else(overflow)?;
        }
        if last >= self.storage_len {
            return Err(format!(
                "offset {} and strides {:?} reach element {last} of a storage of {}",
                self.offset, self.strides, self.storage_len
            ));
        }
        Ok(count)
    }

    fn position(&self, flat: usize) -> Result<usize, Reason> {
        let mut rest = flat;
        let mut position = self.offset;
        for (&dim, &stride) in self.shape.iter().zip(self.strides).rev() {
            let index = rest.checked_rem(dim).ok_or("empty dimension")?;
            rest /= dim;
            position = index
                .checked_mul(stride)
                .and_then(|step| position.checked_add(step))
                .ok_or("tensor index overflows")?;
        }
        Ok(position)
    }

    /// Copies the view out of `bytes` as row-major f32.
    pub fn gather(&self, bytes: &[u8], element: ElementType) -> Result<Vec<f32>, Reason> {
        let count = self.validate()?;
        if self.strides == contiguous_strides(self.shape, false) {
            return element
                .read_run(bytes, self.offset, count)
                .ok_or_else(|| format!("elements {}.. lie outside the data", self.offset));
        }
        let mut data = Vec::with_capacity(count);
        for flat in 0..count {
            let position = self.position(flat)?;
            let value = element
                .read(bytes, position)
                .ok_or_else(|| format!("element {position} lies outside the data"))?;
            data.push(value as f32);
        }
        Ok(data)
    }
}

/// Row-major strides (in elements) of a dense array of `shape`.
pub fn contiguous_strides(shape: &[usize], fortran_order: bool) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut step = 1usize;
    let mut assign = |slot: &mut usize, dim: usize| {
        *slot = step;
        step = step.saturating_mul(dim);
    };
    if fortran_order {
        for (slot, &dim) in strides.iter_mut().zip(shape) {
            assign(slot, dim);
        }
    } else {
        for (slot, &dim) in strides.iter_mut().zip(shape).rev() {
            assign(slot, dim);
        }
    }
    strides
}

// ---------------------------------------------------------------------------
// Torch tensors
// ---------------------------------------------------------------------------

/// A state dict (a dict or `OrderedDict` of tensors) by name, in file order; a
/// repeated key keeps its first position and its last value. `what` names the
/// dict in messages.
pub fn decode_state_dict(
    value: &Value,
    source: &mut dyn StorageSource,
    what: &str,
) -> Result<Vec<(String, Tensor)>, Reason> {
    let items = mapping_items(value)
        .ok_or_else(|| format!("{what} is a {}, not an OrderedDict", value.kind_name()))?;
    let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(items.len());
    let mut positions: HashMap<String, usize> = HashMap::new();
    for (key, value) in items {
        let name = key_text(key).ok_or_else(|| format!("{what} has a {} key", key.kind_name()))?;
        let tensor =
            decode_tensor(value, source).map_err(|reason| format!("{what}[{name:?}]: {reason}"))?;
        // A repeated key keeps its first position and its last value.
        match positions.get(name) {
            Some(&index) => {
                if let Some(slot) = tensors.get_mut(index) {
                    slot.1 = tensor;
                }
            }
            None => {
                positions.insert(name.to_owned(), tensors.len());
                tensors.push((name.to_owned(), tensor));
            }
        }
    }
    Ok(tensors)
}

/// One tensor: `torch._utils._rebuild_tensor(_v2)` or `_rebuild_parameter`.
pub fn decode_tensor(value: &Value, source: &mut dyn StorageSource) -> Result<Tensor, Reason> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("expected a tensor, found a {}", value.kind_name()))?;
    let args = object
        .args
        .as_tuple()
        .ok_or("tensor arguments are not a tuple")?;
    match object.global() {
        Some(("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor")) => {
            rebuild_tensor(args, source)
        }
        Some(("torch._utils", "_rebuild_parameter")) => {
            let inner = args
                .first()
                .and_then(Value::as_object)
                .filter(|inner| {
                    matches!(
                        inner.global(),
                        Some(("torch._utils", "_rebuild_tensor_v2" | "_rebuild_tensor"))
                    )
                })
                .ok_or("parameter does not wrap a plain tensor")?;
            let inner_args = inner
                .args
                .as_tuple()
                .ok_or("tensor arguments are not a tuple")?;
            rebuild_tensor(inner_args, source)
        }
        Some((module, name)) => Err(format!("unsupported tensor constructor {module}.{name}")),
        None => Err("tensor constructor is not a global".to_owned()),
    }
}

/// A storage named by a persistent id.
struct StorageRef<'v> {
    kind: ScalarKind,
    key: &'v str,
    numel: usize,
}

fn storage_ref(value: &Value) -> Result<StorageRef<'_>, Reason> {
    let Value::PersistentId(pid) = value else {
        return Err(format!(
            "storage is a {}, not a persistent id",
            value.kind_name()
        ));
    };
    // Zip archives write 5 fields; legacy streams add a sixth, the view metadata.
    let (tag, storage_type, key, numel) = match pid.as_tuple() {
        Some([tag, storage_type, key, _location, numel]) => (tag, storage_type, key, numel),
        Some([tag, storage_type, key, _location, numel, view]) => {
            if *view != Value::None {
                return Err("storage views (a sixth persistent-id field) are not supported".into());
            }
            (tag, storage_type, key, numel)
        }
        _ => return Err("storage persistent id is not a 5- or 6-tuple".to_owned()),
    };
    if tag.as_str() != Some("storage") {
        return Err("persistent id is not a storage".to_owned());
    }
    let kind = match storage_type.as_global() {
        Some(("torch", "FloatStorage")) => ScalarKind::F32,
        Some(("torch", "DoubleStorage")) => ScalarKind::F64,
        // Integer tensors (a batch norm's `num_batches_tracked`) read as f32:
        // exact up to 2^24.
        Some(("torch", "LongStorage")) => ScalarKind::I64,
        Some(("torch", "IntStorage")) => ScalarKind::I32,
        Some((module, name)) => return Err(format!("unsupported storage type {module}.{name}")),
        None => return Err("storage type is not a global".to_owned()),
    };
    Ok(StorageRef {
        kind,
        key: key.as_str().ok_or("storage key is not a string")?,
        numel: as_usize(numel, "storage size")?,
    })
}

/// `_rebuild_tensor(_v2)(storage, storage_offset, size, stride, ...)`.
fn rebuild_tensor(args: &[Value], source: &mut dyn StorageSource) -> Result<Tensor, Reason> {
    let [storage, offset, size, stride, ..] = args else {
        return Err(format!(
            "tensor has {} arguments, expected at least 4",
            args.len()
        ));
    };
    let storage = storage_ref(storage)?;
    let shape = as_usize_tuple(size, "tensor size")?;
    let strides = as_usize_tuple(stride, "tensor stride")?;
    let element = ElementType {
        kind: storage.kind,
        endian: source.endian(),
    };
    let bytes = source.storage(storage.key)?;
    let needed = storage
        .numel
        .checked_mul(element.size())
        .ok_or("storage size overflows")?;
    if bytes.len() < needed {
        return Err(format!(
            "storage {:?} holds {} bytes, fewer than its {} elements need",
            storage.key,
            bytes.len(),
            storage.numel
        ));
    }
    let view = StridedView {
        shape: &shape,
        strides: &strides,
        offset: as_usize(offset, "storage offset")?,
        storage_len: storage.numel,
    };
    let data = view.gather(bytes, element)?;
    Ok(Tensor { shape, data })
}

// ---------------------------------------------------------------------------
// Legacy streams
// ---------------------------------------------------------------------------

/// The legacy format's magic number, `0x1950a86a20f9469cfc6c`, as the pickle's
/// little-endian integer bytes.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// The legacy format's protocol version.
const LEGACY_PROTOCOL: i64 = 1001;

/// Bytes per element of a storage type, for the storages this reader can skip or
/// read.
fn storage_element_size(module: &str, name: &str) -> Option<usize> {
    if module != "torch" {
        return None;
    }
    Some(match name {
        "DoubleStorage" | "LongStorage" => 8,
        "FloatStorage" | "IntStorage" => 4,
        "HalfStorage" | "BFloat16Storage" | "ShortStorage" => 2,
        "ByteStorage" | "CharStorage" | "BoolStorage" => 1,
        _ => return None,
    })
}

/// A legacy (pre-zip) `torch.save` stream: its object and its storages' bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyTorchFile {
    root: Value,
    endian: Endian,
    storages: HashMap<String, Vec<u8>>,
}

impl LegacyTorchFile {
    /// Whether `bytes` start like a legacy stream (a pickle of the magic number).
    pub fn looks_like(bytes: &[u8]) -> bool {
        // PROTO 2, LONG1 10, then the magic number's bytes.
        bytes.len() > 14
            && bytes[..2] == [0x80, 0x02]
            && bytes[2..4] == [0x8a, 0x0a]
            && bytes[4..14] == LEGACY_MAGIC
    }

    /// Parses the stream: its five pickles, then every storage in the order of the
    /// key list, each an element count (little-endian `i64`) and the elements.
    ///
    /// # Errors
    /// A reason naming the part that is missing or wrong: a bad magic number or
    /// protocol, a pickle error, a storage whose type is unknown or whose bytes run
    /// past the end, or bytes left over after the last storage.
    pub fn parse(bytes: &[u8]) -> Result<Self, Reason> {
        let limits = Limits::default();
        let mut offset = 0;
        let mut next = |what: &str| -> Result<Value, Reason> {
            let (value, used) = parse_prefix(&bytes[offset..], limits)
                .map_err(|error| format!("{what} (at byte {offset}): {error}"))?;
            offset += used;
            Ok(value)
        };
        match next("magic number")? {
            Value::BigInt(magic) if magic == LEGACY_MAGIC => {}
            other => {
                return Err(format!(
                    "not a legacy torch file: the first pickle is a {}, not the magic number",
                    other.kind_name()
                ));
            }
        }
        let protocol = next("protocol version")?;
        if protocol.as_int() != Some(LEGACY_PROTOCOL) {
            return Err(format!(
                "unsupported legacy protocol {protocol:?} (expected {LEGACY_PROTOCOL})"
            ));
        }
        let system = next("system information")?;
        let little = mapping_items(&system)
            .and_then(|items| lookup(items, "little_endian"))
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let root = next("object")?;
        let keys = next("storage keys")?;
        let Value::List(keys) = keys else {
            return Err(format!(
                "storage keys are a {}, not a list",
                keys.kind_name()
            ));
        };
        let mut sizes = HashMap::new();
        collect_storage_types(&root, &mut sizes)?;
        let mut storages = HashMap::new();
        for key in &keys {
            let key = key_text(key).ok_or("a storage key is not a string")?;
            let element = *sizes
                .get(key)
                .ok_or_else(|| format!("storage {key:?} is listed but no tensor uses it"))?;
            let count_bytes: [u8; 8] = bytes
                .get(offset..offset + 8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| format!("truncated: storage {key:?} has no element count"))?;
            offset += 8;
            let count = usize::try_from(i64::from_le_bytes(count_bytes))
                .map_err(|_| format!("storage {key:?} has a negative element count"))?;
            let length = count
                .checked_mul(element)
                .filter(|&length| length <= bytes.len() - offset)
                .ok_or_else(|| {
                    format!("truncated: storage {key:?} needs {count} elements of {element} bytes")
                })?;
            storages.insert(key.to_owned(), bytes[offset..offset + length].to_vec());
            offset += length;
        }
        if offset != bytes.len() {
            return Err(format!(
                "{} bytes left after the last storage",
                bytes.len() - offset
            ));
        }
        Ok(Self {
            root,
            endian: if little { Endian::Little } else { Endian::Big },
            storages,
        })
    }

    /// The saved object.
    pub fn root(&self) -> &Value {
        &self.root
    }
}

impl StorageSource for LegacyTorchFile {
    fn endian(&self) -> Endian {
        self.endian
    }

    fn storage(&mut self, key: &str) -> Result<&[u8], Reason> {
        self.storages
            .get(key)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("no storage {key:?} in the file"))
    }
}

/// Every storage key the object's persistent ids name, with its element size
/// (iteratively, so deep objects cannot overflow the stack).
fn collect_storage_types(root: &Value, sizes: &mut HashMap<String, usize>) -> Result<(), Reason> {
    let mut stack = vec![root];
    while let Some(value) = stack.pop() {
        match value {
            Value::PersistentId(pid) => {
                if let Some([tag, storage_type, key, ..]) = pid.as_tuple()
                    && tag.as_str() == Some("storage")
                {
                    let (module, name) = storage_type
                        .as_global()
                        .ok_or("storage type is not a global")?;
                    let size = storage_element_size(module, name)
                        .ok_or_else(|| format!("unsupported storage type {module}.{name}"))?;
                    let key = key.as_str().ok_or("storage key is not a string")?;
                    sizes.insert(key.to_owned(), size);
                }
            }
            Value::Tuple(items)
            | Value::List(items)
            | Value::Set(items)
            | Value::FrozenSet(items) => {
                stack.extend(items);
            }
            Value::Dict(items) => {
                for (key, value) in items {
                    stack.push(key);
                    stack.push(value);
                }
            }
            Value::Object(object) => {
                stack.push(&object.callable);
                stack.push(&object.args);
                stack.extend(&object.list_items);
                for (key, value) in &object.dict_items {
                    stack.push(key);
                    stack.push(value);
                }
                if let Some(state) = &object.state {
                    stack.push(state);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads the state dict stored under `path` (a chain of dict keys; empty for the
/// root) of a `torch.save` file of either kind.
///
/// ```no_run
/// // resemblyzer's weights: the dict under "model_state".
/// let bytes = std::fs::read("pretrained.pt")?;
/// let tensors = uisrnn_pickle::torch::read_state_dict(&bytes, &["model_state"])?;
/// assert!(tensors.iter().any(|(name, _)| name == "linear.weight"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// A reason naming what is missing or malformed.
pub fn read_state_dict(bytes: &[u8], path: &[&str]) -> Result<Vec<(String, Tensor)>, Reason> {
    let what = if path.is_empty() {
        "the saved object".to_owned()
    } else {
        path.join(".")
    };
    if LegacyTorchFile::looks_like(bytes) {
        let mut file = LegacyTorchFile::parse(bytes)?;
        // Taken out of the file (not copied): the storages stay for the tensors.
        let root = std::mem::replace(&mut file.root, Value::None);
        let value = walk(&root, path)?;
        decode_state_dict(value, &mut file, &what)
    } else if bytes.starts_with(b"PK\x03\x04") {
        let mut archive = TorchArchive::open(bytes)?;
        let pickle = archive.read_pickle()?;
        let root = crate::parse(&pickle).map_err(|error| format!("data.pkl: {error}"))?;
        let value = walk(&root, path)?;
        decode_state_dict(value, &mut archive, &what)
    } else {
        Err("not a torch.save file (neither a zip archive nor a legacy stream)".to_owned())
    }
}

/// The value under a chain of dict keys.
fn walk<'v>(root: &'v Value, path: &[&str]) -> Result<&'v Value, Reason> {
    let mut value = root;
    for key in path {
        let items = mapping_items(value).ok_or_else(|| {
            format!(
                "expected a dict holding {key:?}, found a {}",
                value.kind_name()
            )
        })?;
        value = lookup(items, key).ok_or_else(|| format!("missing key {key:?}"))?;
    }
    Ok(value)
}
