//! Reading and writing sequence files: numpy `.npz` archives, never unpickled.
//!
//! A sequence file holds `M` sequences of `D`-dimensional observations, optionally with
//! one cluster label and one `(start, end)` time span per observation and one name per
//! sequence. Both `np.savez` (stored) and `np.savez_compressed` (deflate) archives load.
//!
//! # Layouts read
//!
//! The layout is recognised by the names of the arrays in the archive:
//!
//! 1. **Canonical** (what [`write_sequence_file`] writes), recognised by `sequences`:
//!    - `sequences`: `(N, D)` float32 or float64, the observations of all sequences,
//!      one after another;
//!    - `cluster_ids` (optional): `(N,)` unicode strings (`<U{n}`), one label per row;
//!    - `lengths` (optional): `(M,)` int64 or int32, each at least 1, summing to `N`,
//!      splitting the rows into `M` consecutive sequences; absent means one sequence;
//!    - `starts` and `ends` (optional, both or neither): `(N,)` float seconds;
//!    - `ids` (optional): `(M,)` unicode strings, one name per sequence.
//! 2. **Reference toy training data**, recognised by `train_sequence`: `train_sequence`
//!    `(N, D)` with `train_cluster_id` `(N,)`, read as one sequence.
//! 3. **Reference toy testing data**, recognised by `test_sequences`: `test_sequences`
//!    `(M, T, D)` with `test_cluster_ids` `(M, T)`, read as `M` sequences of `T` rows.
//!
//! Label arrays may also be int32 or int64; their values are read as decimal strings.
//! Arrays may be little- or big-endian and in C or Fortran order. Float32 observations
//! are widened to float64. Arrays of Python objects (`dtype=object`) are refused with
//! [`DataError::PickledArray`]: they are never unpickled. Values are not checked for
//! finiteness here; NaN and infinities are read as they are.
//!
//! # Writing
//!
//! [`write_sequence_file`] writes the canonical layout, uncompressed (like `np.savez`):
//! `sequences` as float64, `cluster_ids` when present, `lengths` as int64 always,
//! `starts`/`ends` when present and `ids` when present. The file is written to a
//! temporary file beside the target, synced, and renamed over the target, so the target
//! is either the old file or the complete new one. The output loads with `np.load`.
//!
//! Numpy strips trailing NUL characters from unicode strings, so labels and names that
//! end with `'\0'` cannot be stored and are refused.

use std::fs;
use std::io::{self, Cursor, Read, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD, ArrayView2, Axis, Ix2, Ix3, IxDyn, ShapeBuilder, s};
use ndarray_npy::WriteNpyExt;
use ndarray_npy::npy::header::Header;
use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::atomic::write_atomically;
use crate::error::{DataError, Result};

/// One sequence file: `M` sequences of `D`-dimensional observations, with optional
/// labels, times and names.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceFile {
    /// The sequences, each `T_i x D`; float32 files are widened to float64.
    pub sequences: Vec<Array2<f64>>,
    /// One cluster label per observation, per sequence.
    pub cluster_ids: Option<Vec<Vec<String>>>,
    /// One `(start, end)` time span in seconds per observation, per sequence.
    pub times: Option<Vec<Vec<(f64, f64)>>>,
    /// One name per sequence.
    pub ids: Option<Vec<String>>,
}

/// Reads a sequence file in any of the layouts described in the [module docs](self).
///
/// # Errors
///
/// [`DataError::Io`] if the file cannot be read; [`DataError::InvalidNpz`] if it is not a
/// well-formed npz archive or an array has the wrong type or shape;
/// [`DataError::PickledArray`] for arrays of Python objects; [`DataError::MissingArray`]
/// if no layout's key array is present; [`DataError::EmptySequence`] or
/// [`DataError::NoSequences`] if a sequence, or the whole file, has no observations.
pub fn read_sequence_file(path: impl AsRef<Path>) -> Result<SequenceFile> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_sequence_bytes(&bytes, path)
}

/// Reads a sequence file from the bytes of an npz archive held in memory.
///
/// `path_for_messages` is only used in error messages.
///
/// # Errors
///
/// As [`read_sequence_file`], except that it never returns [`DataError::Io`].
pub fn read_sequence_bytes(bytes: &[u8], path_for_messages: &Path) -> Result<SequenceFile> {
    let mut archive = NpzArchive::open(bytes, path_for_messages)?;
    if archive.has("sequences") {
        read_canonical(&mut archive)
    } else if archive.has("train_sequence") {
        read_toy_training(&mut archive)
    } else if archive.has("test_sequences") {
        read_toy_testing(&mut archive)
    } else {
        Err(DataError::MissingArray {
            path: path_for_messages.to_path_buf(),
            expected: "`sequences` (or `train_sequence`, or `test_sequences`)".to_owned(),
            found: archive.names.clone(),
        })
    }
}

/// Writes `file` in the canonical layout, atomically (see the [module docs](self)).
///
/// # Errors
///
/// [`DataError::NoSequences`], [`DataError::EmptySequence`] or
/// [`DataError::DimensionMismatch`] if the sequences are not all non-empty with one common
/// positive dimension; [`DataError::LabelCountMismatch`] or
/// [`DataError::LabelLengthMismatch`] if the labels do not match the sequences;
/// [`DataError::InvalidParameter`] if the times or names do not match the sequences, a
/// label or name ends with a NUL character, or `path` names no file;
/// [`DataError::Io`] if writing fails, in which case an existing file at `path` is left
/// as it was.
pub fn write_sequence_file(path: impl AsRef<Path>, file: &SequenceFile) -> Result<()> {
    write_sequence_file_as(path, file, Precision::Float64)
}

/// The float type the observations are stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `float32`: half the size; what the model computes in.
    Float32,
    /// `float64`: values kept exactly.
    Float64,
}

/// Like [`write_sequence_file`], storing the observations as `precision`.
pub fn write_sequence_file_as(
    path: impl AsRef<Path>,
    file: &SequenceFile,
    precision: Precision,
) -> Result<()> {
    let path = path.as_ref();
    validate_for_writing(file)?;
    if path.file_name().is_none() {
        return Err(DataError::InvalidParameter {
            name: "path",
            reason: format!("{} does not name a file", path.display()),
        });
    }
    write_atomically(
        path,
        |source| io_error(path, source),
        |output| {
            let mut zip = ZipWriter::new(output);
            write_members(&mut zip, path, file, precision)?;
            zip.finish().map_err(|error| zip_error(path, error))?;
            Ok(())
        },
    )
}

// ---------------------------------------------------------------------------------------
// Reading: the archive and its arrays
// ---------------------------------------------------------------------------------------

/// The magic string that starts every `.npy` file.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Largest `.npy` header accepted; numpy itself refuses headers over 10,000 bytes by
/// default.
const MAX_HEADER_LEN: usize = 65_535;
/// The most deflate can expand: 258 bytes from each 2-bit code, about 1032 to 1.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// Deepest nesting of brackets accepted in a `.npy` header; plain dtypes need 2.
const MAX_HEADER_NESTING: usize = 8;

/// An npz archive held in memory, read one array at a time.
struct NpzArchive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    path: &'a Path,
    /// The array names (member names without `.npy`), sorted.
    names: Vec<String>,
    /// The archive's size in bytes.
    bytes_len: usize,
}

impl<'a> NpzArchive<'a> {
    /// Opens the archive and lists its arrays.
    fn open(bytes: &'a [u8], path: &'a Path) -> Result<Self> {
        let zip = ZipArchive::new(Cursor::new(bytes))
            .map_err(|error| invalid(path, format!("not a readable zip archive: {error}")))?;
        let mut names: Vec<String> = zip
            .file_names()
            .map(|name| name.strip_suffix(".npy").unwrap_or(name).to_owned())
            .collect();
        names.sort();
        Ok(Self {
            zip,
            path,
            names,
            bytes_len: bytes.len(),
        })
    }

    /// Whether the archive has an array called `name`.
    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|found| found == name)
    }

    /// The array called `name`, or `None` if there is none.
    fn optional(&mut self, name: &str) -> Result<Option<NpyArray>> {
        if !self.has(name) {
            return Ok(None);
        }
        let bytes = self.member_bytes(name)?;
        NpyArray::parse(name, bytes, self.path).map(Some)
    }

    /// The array called `name`, which must be present.
    fn required(&mut self, name: &str) -> Result<NpyArray> {
        match self.optional(name)? {
            Some(array) => Ok(array),
            None => Err(DataError::MissingArray {
                path: self.path.to_path_buf(),
                expected: format!("`{name}`"),
                found: self.names.clone(),
            }),
        }
    }

    /// The decompressed bytes of the member holding array `name`.
    fn member_bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let path = self.path;
        let member = format!("{name}.npy");
        let entry = self
            .zip
            .by_name(&member)
            .map_err(|error| invalid(path, format!("cannot open member `{member}`: {error}")))?;
        let declared = entry.size();
        // What the member's compressed bytes could hold: as many when stored,
        // at most DEFLATE_MAX_RATIO times as many when deflated. A header that
        // claims more is refused before anything is allocated.
        let compressed = entry.compressed_size();
        let could_hold = match entry.compression() {
            CompressionMethod::Stored => compressed,
            _ => compressed.saturating_mul(DEFLATE_MAX_RATIO),
        };
        if declared > could_hold {
            return Err(invalid(
                path,
                format!(
                    "member `{member}` claims {declared} bytes, more than its {compressed} \
                     compressed bytes could hold"
                ),
            ));
        }
        // Never read past the declared size, so a lying member cannot grow without bound;
        // reading one byte more lets the zip reader check the CRC.
        let mut limited = entry.take(declared.saturating_add(1));
        let mut bytes =
            Vec::with_capacity(usize::try_from(declared).unwrap_or(0).min(self.bytes_len));
        limited
            .read_to_end(&mut bytes)
            .map_err(|error| invalid(path, format!("cannot read member `{member}`: {error}")))?;
        if u64::try_from(bytes.len()).ok() != Some(declared) {
            return Err(invalid(
                path,
                format!(
                    "member `{member}` holds {} bytes, not its declared {declared}",
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }
}

/// Byte order of an array's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteOrder {
    Little,
    Big,
}

/// The element types this module understands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dtype {
    /// `f4` or `f8`: width in bytes.
    Float(usize, ByteOrder),
    /// `i4` or `i8`: width in bytes.
    Int(usize, ByteOrder),
    /// `U{n}`: fixed-width UTF-32 strings of `n` code units.
    Unicode(usize, ByteOrder),
    /// `O`: pickled Python objects.
    Object,
    /// Anything else, with its descriptor.
    Other(String),
}

impl Dtype {
    /// Parses a numpy type descriptor such as `<f8` or `<U7`.
    fn parse(descr: &str) -> Self {
        let other = || Dtype::Other(descr.to_owned());
        let (order, rest) = match descr.as_bytes().first() {
            Some(b'<') => (Some(ByteOrder::Little), &descr[1..]),
            Some(b'>') => (Some(ByteOrder::Big), &descr[1..]),
            Some(b'=') => (Some(native_order()), &descr[1..]),
            Some(b'|') => (None, &descr[1..]),
            _ => (None, descr),
        };
        if rest == "O" {
            return Dtype::Object;
        }
        let Some(order) = order else {
            return other();
        };
        match rest {
            "f4" => Dtype::Float(4, order),
            "f8" => Dtype::Float(8, order),
            "i4" => Dtype::Int(4, order),
            "i8" => Dtype::Int(8, order),
            _ => match rest.strip_prefix('U').and_then(|n| n.parse::<usize>().ok()) {
                Some(width) if width > 0 => Dtype::Unicode(width, order),
                _ => other(),
            },
        }
    }

    /// Bytes per element, or `None` if unknown or too large.
    fn item_size(&self) -> Option<usize> {
        match self {
            Dtype::Float(width, _) | Dtype::Int(width, _) => Some(*width),
            Dtype::Unicode(chars, _) => chars.checked_mul(4),
            Dtype::Object | Dtype::Other(_) => None,
        }
    }
}

/// The byte order of this machine, which numpy's `=` stands for.
fn native_order() -> ByteOrder {
    if cfg!(target_endian = "big") {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    }
}

/// One `.npy` array: its parsed header and its raw data.
struct NpyArray {
    name: String,
    path: PathBuf,
    dtype: Dtype,
    descr: String,
    shape: Vec<usize>,
    fortran_order: bool,
    data: Vec<u8>,
}

impl NpyArray {
    /// Parses the `.npy` bytes of array `name`, checking that the data matches the header.
    fn parse(name: &str, bytes: Vec<u8>, path: &Path) -> Result<Self> {
        let bad = |reason: String| invalid(path, format!("array `{name}`: {reason}"));
        let data_start = check_header_bounds(&bytes).map_err(bad)?;
        let header = Header::from_reader(&mut Cursor::new(&bytes[..data_start]))
            .map_err(|error| bad(format!("invalid npy header: {error}")))?;
        let descr = match header.type_descriptor.as_string() {
            Some(descr) => descr.clone(),
            None => {
                return Err(bad(format!(
                    "unsupported structured dtype {}",
                    header.type_descriptor
                )));
            }
        };
        let dtype = Dtype::parse(&descr);
        if dtype == Dtype::Object {
            return Err(DataError::PickledArray {
                path: path.to_path_buf(),
                array: name.to_owned(),
            });
        }
        let item_size = dtype
            .item_size()
            .ok_or_else(|| bad(format!("unsupported dtype '{descr}'")))?;
        let expected = header
            .shape
            .iter()
            .try_fold(item_size, |bytes, &axis| bytes.checked_mul(axis))
            .ok_or_else(|| bad(format!("shape {:?} is too large", header.shape)))?;
        let data_len = bytes.len() - data_start;
        if data_len != expected {
            return Err(bad(format!(
                "shape {:?} of dtype '{descr}' needs {expected} data bytes, found {data_len}",
                header.shape
            )));
        }
        let mut data = bytes;
        data.drain(..data_start);
        Ok(Self {
            name: name.to_owned(),
            path: path.to_path_buf(),
            dtype,
            descr,
            shape: header.shape,
            fortran_order: header.layout.is_fortran(),
            data,
        })
    }

    /// An [`DataError::InvalidNpz`] about this array.
    fn error(&self, reason: impl std::fmt::Display) -> DataError {
        invalid(&self.path, format!("array `{}`: {reason}", self.name))
    }

    /// The shape, written as numpy prints it.
    fn shape_text(&self) -> String {
        shape_text(&self.shape)
    }

    /// Fails unless the array has `ndim` dimensions; `what` names them, e.g. `(N, D)`.
    fn expect_ndim(&self, ndim: usize, what: &str) -> Result<()> {
        if self.shape.len() == ndim {
            Ok(())
        } else {
            Err(self.error(format!(
                "has shape {}, expected {ndim} dimension(s) {what}",
                self.shape_text()
            )))
        }
    }

    /// The values of a float array, widened to float64.
    fn floats(&self) -> Result<ArrayD<f64>> {
        let values = match self.dtype {
            Dtype::Float(4, order) => {
                decode(&self.data, order, f32::from_le_bytes, f32::from_be_bytes)
                    .into_iter()
                    .map(f64::from)
                    .collect()
            }
            Dtype::Float(8, order) => {
                decode(&self.data, order, f64::from_le_bytes, f64::from_be_bytes)
            }
            _ => {
                return Err(self.error(format!(
                    "has dtype '{}', expected float32 or float64",
                    self.descr
                )));
            }
        };
        self.shaped(values)
    }

    /// The values of an integer array, widened to int64.
    fn integers(&self) -> Result<ArrayD<i64>> {
        self.shaped(self.integer_values()?)
    }

    /// The flat values of an integer array, in storage order.
    fn integer_values(&self) -> Result<Vec<i64>> {
        match self.dtype {
            Dtype::Int(4, order) => {
                Ok(
                    decode(&self.data, order, i32::from_le_bytes, i32::from_be_bytes)
                        .into_iter()
                        .map(i64::from)
                        .collect(),
                )
            }
            Dtype::Int(8, order) => Ok(decode(
                &self.data,
                order,
                i64::from_le_bytes,
                i64::from_be_bytes,
            )),
            _ => Err(self.error(format!(
                "has dtype '{}', expected int32 or int64",
                self.descr
            ))),
        }
    }

    /// The values of a label array: unicode strings, or integers as decimal strings.
    fn labels(&self) -> Result<ArrayD<String>> {
        let values = match self.dtype {
            Dtype::Unicode(width, order) => self.unicode_values(width, order)?,
            Dtype::Int(..) => self
                .integer_values()?
                .into_iter()
                .map(|value| value.to_string())
                .collect(),
            _ => {
                return Err(self.error(format!(
                    "has dtype '{}', expected unicode strings ('<U..') or integers",
                    self.descr
                )));
            }
        };
        self.shaped(values)
    }

    /// Decodes fixed-width UTF-32 strings of `width` code units, dropping trailing NULs.
    fn unicode_values(&self, width: usize, order: ByteOrder) -> Result<Vec<String>> {
        let units = decode(&self.data, order, u32::from_le_bytes, u32::from_be_bytes);
        let mut strings = Vec::with_capacity(units.len() / width);
        for (index, element) in units.chunks_exact(width).enumerate() {
            let used = element
                .iter()
                .rposition(|&unit| unit != 0)
                .map_or(0, |last| last + 1);
            let text = element[..used]
                .iter()
                .map(|&unit| char::from_u32(unit))
                .collect::<Option<String>>()
                .ok_or_else(|| {
                    self.error(format!(
                        "element {index} holds an invalid unicode code point"
                    ))
                })?;
            strings.push(text);
        }
        Ok(strings)
    }

    /// Arranges flat values in storage order into the array's shape, in C order.
    fn shaped<T: Clone>(&self, values: Vec<T>) -> Result<ArrayD<T>> {
        let shape = IxDyn(&self.shape);
        let array = if self.fortran_order {
            ArrayD::from_shape_vec(shape.f(), values)
        } else {
            ArrayD::from_shape_vec(shape, values)
        }
        .map_err(|error| self.error(format!("bad shape {}: {error}", self.shape_text())))?;
        Ok(if self.fortran_order {
            array.as_standard_layout().into_owned()
        } else {
            array
        })
    }
}

/// Checks the fixed part of an `.npy` header and returns where the data starts.
///
/// This guards what `Header::from_reader` would otherwise trust: the header length (which
/// it allocates) and the nesting depth of the header literal (which it parses
/// recursively).
fn check_header_bounds(bytes: &[u8]) -> std::result::Result<usize, String> {
    if !bytes.starts_with(NPY_MAGIC) {
        return Err("not an npy array (bad magic string)".to_owned());
    }
    let (header_start, header_len) = match bytes.get(6..8) {
        Some([1, 0]) => (10, little_endian::<2>(bytes, 8)),
        Some([2 | 3, 0]) => (12, little_endian::<4>(bytes, 8)),
        Some([major, minor]) => return Err(format!("unsupported npy version {major}.{minor}")),
        _ => return Err("truncated npy header".to_owned()),
    };
    let header_len = header_len
        .and_then(|len| usize::try_from(len).ok())
        .ok_or_else(|| "truncated npy header".to_owned())?;
    if header_len > MAX_HEADER_LEN {
        return Err(format!("npy header of {header_len} bytes is too long"));
    }
    let data_start = header_start + header_len;
    let header = bytes
        .get(header_start..data_start)
        .ok_or_else(|| "truncated npy header".to_owned())?;
    if nesting_depth(header) > MAX_HEADER_NESTING {
        return Err("npy header is nested too deeply".to_owned());
    }
    Ok(data_start)
}

/// The unsigned little-endian integer of `N` (2 or 4) bytes at `offset`, if present.
fn little_endian<const N: usize>(bytes: &[u8], offset: usize) -> Option<u32> {
    let field: [u8; N] = bytes.get(offset..offset.checked_add(N)?)?.try_into().ok()?;
    Some(
        field
            .iter()
            .rev()
            .fold(0, |value, &byte| (value << 8) | u32::from(byte)),
    )
}

/// The deepest nesting of `(`, `[` and `{` in `text`.
fn nesting_depth(text: &[u8]) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0;
    for &byte in text {
        match byte {
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Decodes fixed-width numbers in the given byte order.
fn decode<const W: usize, T>(
    data: &[u8],
    order: ByteOrder,
    from_le: fn([u8; W]) -> T,
    from_be: fn([u8; W]) -> T,
) -> Vec<T> {
    let convert = match order {
        ByteOrder::Little => from_le,
        ByteOrder::Big => from_be,
    };
    data.chunks_exact(W)
        .map(|chunk| {
            let mut bytes = [0; W];
            bytes.copy_from_slice(chunk);
            convert(bytes)
        })
        .collect()
}

/// A shape written as numpy prints it, e.g. `(6,)` or `(6, 4)`.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [single] => format!("({single},)"),
        _ => {
            let axes: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("({})", axes.join(", "))
        }
    }
}

/// A [`DataError::InvalidNpz`] for `path`.
fn invalid(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::InvalidNpz {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------
// Reading: the layouts
// ---------------------------------------------------------------------------------------

/// Reads the canonical layout (`sequences`, `cluster_ids`, `lengths`, `starts`, `ends`,
/// `ids`).
fn read_canonical(archive: &mut NpzArchive<'_>) -> Result<SequenceFile> {
    let rows = observation_matrix(&archive.required("sequences")?)?;
    let total = rows.nrows();
    let lengths = match archive.optional("lengths")? {
        Some(array) => sequence_lengths(&array, total)?,
        None if total == 0 => return Err(DataError::EmptySequence { sequence: 0 }),
        None => vec![total],
    };
    let cluster_ids = match archive.optional("cluster_ids")? {
        Some(array) => Some(split(row_labels(&array, total)?, &lengths)),
        None => None,
    };
    let times = read_times(archive, total)?.map(|spans| split(spans, &lengths));
    let ids = match archive.optional("ids")? {
        Some(array) => Some(sequence_names(&array, lengths.len())?),
        None => None,
    };
    Ok(SequenceFile {
        sequences: split_rows(rows.view(), &lengths),
        cluster_ids,
        times,
        ids,
    })
}

/// Reads the reference toy training layout (`train_sequence`, `train_cluster_id`).
fn read_toy_training(archive: &mut NpzArchive<'_>) -> Result<SequenceFile> {
    let rows = observation_matrix(&archive.required("train_sequence")?)?;
    if rows.nrows() == 0 {
        return Err(DataError::EmptySequence { sequence: 0 });
    }
    let cluster_ids = match archive.optional("train_cluster_id")? {
        Some(array) => Some(vec![row_labels(&array, rows.nrows())?]),
        None => None,
    };
    Ok(SequenceFile {
        sequences: vec![rows],
        cluster_ids,
        times: None,
        ids: None,
    })
}

/// Reads the reference toy testing layout (`test_sequences`, `test_cluster_ids`).
fn read_toy_testing(archive: &mut NpzArchive<'_>) -> Result<SequenceFile> {
    let array = archive.required("test_sequences")?;
    array.expect_ndim(3, "(M, T, D)")?;
    let (count, steps, dimension) = (array.shape[0], array.shape[1], array.shape[2]);
    check_dimension(&array, dimension)?;
    if count == 0 {
        return Err(DataError::NoSequences);
    }
    if steps == 0 {
        return Err(DataError::EmptySequence { sequence: 0 });
    }
    let values = array
        .floats()?
        .into_dimensionality::<Ix3>()
        .map_err(|error| array.error(error))?;
    let sequences = values
        .outer_iter()
        .map(|sequence| sequence.to_owned())
        .collect();
    let cluster_ids = match archive.optional("test_cluster_ids")? {
        Some(labels) => Some(sequence_label_rows(&labels, count, steps)?),
        None => None,
    };
    Ok(SequenceFile {
        sequences,
        cluster_ids,
        times: None,
        ids: None,
    })
}

/// The `(N, D)` observations of a float array; `D` must be positive.
fn observation_matrix(array: &NpyArray) -> Result<Array2<f64>> {
    array.expect_ndim(2, "(N, D)")?;
    check_dimension(array, array.shape[1])?;
    array
        .floats()?
        .into_dimensionality::<Ix2>()
        .map_err(|error| array.error(error))
}

/// Fails if the observation dimension is 0.
fn check_dimension(array: &NpyArray, dimension: usize) -> Result<()> {
    if dimension == 0 {
        Err(array.error(format!(
            "has shape {}: observations have no dimensions",
            array.shape_text()
        )))
    } else {
        Ok(())
    }
}

/// The sequence lengths in `lengths`: each at least 1, summing to `total` rows.
fn sequence_lengths(array: &NpyArray, total: usize) -> Result<Vec<usize>> {
    array.expect_ndim(1, "(M,)")?;
    let values = array.integers()?;
    let mut lengths = Vec::with_capacity(values.len());
    let mut sum = 0usize;
    for (sequence, &value) in values.iter().enumerate() {
        let length = usize::try_from(value).map_err(|_| {
            array.error(format!("length {value} of sequence {sequence} is negative"))
        })?;
        if length == 0 {
            return Err(DataError::EmptySequence { sequence });
        }
        sum = sum
            .checked_add(length)
            .ok_or_else(|| array.error("lengths overflow when summed"))?;
        lengths.push(length);
    }
    if sum != total {
        return Err(array.error(format!(
            "lengths sum to {sum}, but `sequences` has {total} rows"
        )));
    }
    if lengths.is_empty() {
        return Err(DataError::NoSequences);
    }
    Ok(lengths)
}

/// The `(N,)` labels of a label array, one per row.
fn row_labels(array: &NpyArray, rows: usize) -> Result<Vec<String>> {
    array.expect_ndim(1, "(N,)")?;
    expect_count(array, rows, "labels", "rows of observations")?;
    Ok(array.labels()?.into_iter().collect())
}

/// The `(M,)` names of a name array, one per sequence.
fn sequence_names(array: &NpyArray, sequences: usize) -> Result<Vec<String>> {
    array.expect_ndim(1, "(M,)")?;
    expect_count(array, sequences, "names", "sequences")?;
    if !matches!(array.dtype, Dtype::Unicode(..)) {
        return Err(array.error(format!(
            "has dtype '{}', expected unicode strings ('<U..')",
            array.descr
        )));
    }
    Ok(array.labels()?.into_iter().collect())
}

/// The `(M, T)` labels of the toy testing layout, one row per sequence.
fn sequence_label_rows(array: &NpyArray, count: usize, steps: usize) -> Result<Vec<Vec<String>>> {
    if array.shape != [count, steps] {
        return Err(array.error(format!(
            "has shape {}, expected {} to match `test_sequences`",
            array.shape_text(),
            shape_text(&[count, steps])
        )));
    }
    let labels = array
        .labels()?
        .into_dimensionality::<Ix2>()
        .map_err(|error| array.error(error))?;
    Ok(labels.outer_iter().map(|row| row.to_vec()).collect())
}

/// Fails unless the 1-D `array` has `expected` elements.
fn expect_count(array: &NpyArray, expected: usize, items: &str, of_what: &str) -> Result<()> {
    let found = array.shape.first().copied().unwrap_or_default();
    if found == expected {
        Ok(())
    } else {
        Err(array.error(format!(
            "has {found} {items}, but there are {expected} {of_what}"
        )))
    }
}

/// The `(start, end)` spans from `starts` and `ends`, if both are present.
fn read_times(archive: &mut NpzArchive<'_>, rows: usize) -> Result<Option<Vec<(f64, f64)>>> {
    let starts = archive.optional("starts")?;
    let ends = archive.optional("ends")?;
    match (starts, ends) {
        (None, None) => Ok(None),
        (Some(starts), Some(ends)) => {
            let starts = row_times(&starts, rows)?;
            let ends = row_times(&ends, rows)?;
            Ok(Some(starts.into_iter().zip(ends).collect()))
        }
        (Some(_), None) => Err(invalid(
            archive.path,
            "array `starts` is present but `ends` is not; give both or neither",
        )),
        (None, Some(_)) => Err(invalid(
            archive.path,
            "array `ends` is present but `starts` is not; give both or neither",
        )),
    }
}

/// The `(N,)` times of a float array, one per row.
fn row_times(array: &NpyArray, rows: usize) -> Result<Vec<f64>> {
    array.expect_ndim(1, "(N,)")?;
    expect_count(array, rows, "times", "rows of observations")?;
    Ok(array.floats()?.into_iter().collect())
}

/// Splits `items` into consecutive runs of the given lengths, which sum to its length.
fn split<T>(items: Vec<T>, lengths: &[usize]) -> Vec<Vec<T>> {
    let mut items = items.into_iter();
    lengths
        .iter()
        .map(|&length| items.by_ref().take(length).collect())
        .collect()
}

/// Splits the rows into consecutive sequences of the given lengths.
fn split_rows(rows: ArrayView2<'_, f64>, lengths: &[usize]) -> Vec<Array2<f64>> {
    let mut start = 0;
    lengths
        .iter()
        .map(|&length| {
            let sequence = rows.slice(s![start..start + length, ..]).to_owned();
            start += length;
            sequence
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Checks that labels, times and names match the sequences, which must be non-empty and
/// share one positive dimension.
fn validate_for_writing(file: &SequenceFile) -> Result<()> {
    let dimension = file
        .sequences
        .first()
        .ok_or(DataError::NoSequences)?
        .ncols();
    if dimension == 0 {
        return Err(DataError::InvalidParameter {
            name: "sequences",
            reason: "observations have dimension 0".to_owned(),
        });
    }
    for (sequence, observations) in file.sequences.iter().enumerate() {
        if observations.nrows() == 0 {
            return Err(DataError::EmptySequence { sequence });
        }
        if observations.ncols() != dimension {
            return Err(DataError::DimensionMismatch {
                sequence,
                found: observations.ncols(),
                expected: dimension,
            });
        }
    }
    if let Some(cluster_ids) = &file.cluster_ids {
        validate_labels(&file.sequences, cluster_ids)?;
    }
    if let Some(times) = &file.times {
        validate_times(&file.sequences, times)?;
    }
    if let Some(ids) = &file.ids {
        validate_names(file.sequences.len(), ids)?;
    }
    Ok(())
}

/// Checks that there is one label per observation, none ending with NUL.
fn validate_labels(sequences: &[Array2<f64>], cluster_ids: &[Vec<String>]) -> Result<()> {
    if cluster_ids.len() != sequences.len() {
        return Err(DataError::LabelCountMismatch {
            sequences: sequences.len(),
            label_arrays: cluster_ids.len(),
        });
    }
    for (sequence, (observations, labels)) in sequences.iter().zip(cluster_ids).enumerate() {
        if labels.len() != observations.nrows() {
            return Err(DataError::LabelLengthMismatch {
                sequence,
                observations: observations.nrows(),
                labels: labels.len(),
            });
        }
        check_no_trailing_nul("cluster_ids", labels)?;
    }
    Ok(())
}

/// Checks that there is one time span per observation.
fn validate_times(sequences: &[Array2<f64>], times: &[Vec<(f64, f64)>]) -> Result<()> {
    if times.len() != sequences.len() {
        return Err(DataError::InvalidParameter {
            name: "times",
            reason: format!(
                "{} time arrays were given for {} sequences",
                times.len(),
                sequences.len()
            ),
        });
    }
    for (sequence, (observations, spans)) in sequences.iter().zip(times).enumerate() {
        if spans.len() != observations.nrows() {
            return Err(DataError::InvalidParameter {
                name: "times",
                reason: format!(
                    "sequence {sequence} has {} observations but {} time spans",
                    observations.nrows(),
                    spans.len()
                ),
            });
        }
    }
    Ok(())
}

/// Checks that there is one name per sequence, none ending with NUL.
fn validate_names(sequences: usize, ids: &[String]) -> Result<()> {
    if ids.len() != sequences {
        return Err(DataError::InvalidParameter {
            name: "ids",
            reason: format!("{} names were given for {sequences} sequences", ids.len()),
        });
    }
    check_no_trailing_nul("ids", ids)
}

/// Fails if a string ends with NUL, which numpy's fixed-width strings cannot keep.
fn check_no_trailing_nul(name: &'static str, strings: &[String]) -> Result<()> {
    match strings.iter().find(|text| text.ends_with('\0')) {
        Some(text) => Err(DataError::InvalidParameter {
            name,
            reason: format!("{text:?} ends with a NUL character, which npy strings cannot store"),
        }),
        None => Ok(()),
    }
}

/// Adds every array of the canonical layout to the archive.
fn write_members<W: Write + io::Seek>(
    zip: &mut ZipWriter<W>,
    target: &Path,
    file: &SequenceFile,
    precision: Precision,
) -> Result<()> {
    let views: Vec<ArrayView2<'_, f64>> = file
        .sequences
        .iter()
        .map(|sequence| sequence.view())
        .collect();
    let rows =
        ndarray::concatenate(Axis(0), &views).map_err(|error| DataError::InvalidParameter {
            name: "sequences",
            reason: error.to_string(),
        })?;
    let lengths: Array1<i64> = file
        .sequences
        .iter()
        .map(|sequence| i64::try_from(sequence.nrows()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| DataError::InvalidParameter {
            name: "sequences",
            reason: "a sequence is too long for int64".to_owned(),
        })?;
    match precision {
        Precision::Float64 => add_numeric(zip, target, "sequences", &rows)?,
        Precision::Float32 => add_numeric(zip, target, "sequences", &rows.mapv(|v| v as f32))?,
    }
    if let Some(cluster_ids) = &file.cluster_ids {
        let labels: Vec<&str> = cluster_ids.iter().flatten().map(String::as_str).collect();
        add_member(
            zip,
            target,
            "cluster_ids",
            &unicode_npy("cluster_ids", &labels)?,
        )?;
    }
    add_numeric(zip, target, "lengths", &lengths)?;
    if let Some(times) = &file.times {
        let starts: Array1<f64> = times.iter().flatten().map(|&(start, _)| start).collect();
        let ends: Array1<f64> = times.iter().flatten().map(|&(_, end)| end).collect();
        add_numeric(zip, target, "starts", &starts)?;
        add_numeric(zip, target, "ends", &ends)?;
    }
    if let Some(ids) = &file.ids {
        let names: Vec<&str> = ids.iter().map(String::as_str).collect();
        add_member(zip, target, "ids", &unicode_npy("ids", &names)?)?;
    }
    Ok(())
}

/// Adds a numeric array as `{name}.npy`.
fn add_numeric<W, A>(
    zip: &mut ZipWriter<W>,
    target: &Path,
    name: &'static str,
    array: &A,
) -> Result<()>
where
    W: Write + io::Seek,
    A: WriteNpyExt,
{
    let mut bytes = Vec::new();
    array
        .write_npy(&mut bytes)
        .map_err(|error| DataError::InvalidParameter {
            name,
            reason: format!("cannot encode as npy: {error}"),
        })?;
    add_member(zip, target, name, &bytes)
}

/// Adds `bytes` as the uncompressed member `{name}.npy`.
fn add_member<W: Write + io::Seek>(
    zip: &mut ZipWriter<W>,
    target: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<()> {
    let large = u32::try_from(bytes.len()).is_err();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(large);
    zip.start_file(format!("{name}.npy"), options)
        .map_err(|error| zip_error(target, error))?;
    zip.write_all(bytes)
        .map_err(|source| io_error(target, source))
}

/// The `.npy` bytes (format 1.0) of a 1-D array of fixed-width little-endian UTF-32
/// strings, as wide as the longest string (at least 1).
fn unicode_npy(name: &'static str, strings: &[&str]) -> Result<Vec<u8>> {
    let width = strings
        .iter()
        .map(|text| text.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut bytes = npy_header(name, &format!("<U{width}"), strings.len())?;
    for text in strings {
        let mut used = 0;
        for character in text.chars() {
            bytes.extend_from_slice(&u32::from(character).to_le_bytes());
            used += 1;
        }
        bytes.resize(bytes.len() + 4 * (width - used), 0);
    }
    Ok(bytes)
}

/// An `.npy` format 1.0 header for a 1-D C-order array, padded with spaces and a newline
/// to a multiple of 64 bytes.
fn npy_header(name: &'static str, descr: &str, len: usize) -> Result<Vec<u8>> {
    let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({len},), }}");
    let prefix_len = NPY_MAGIC.len() + 2 + 2;
    let total = (prefix_len + dict.len() + 1).div_ceil(64) * 64;
    let header_len =
        u16::try_from(total - prefix_len).map_err(|_| DataError::InvalidParameter {
            name,
            reason: format!("npy header of {total} bytes is too long"),
        })?;
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(NPY_MAGIC);
    bytes.extend_from_slice(&[1, 0]);
    bytes.extend_from_slice(&header_len.to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(total - 1, b' ');
    bytes.push(b'\n');
    Ok(bytes)
}

/// A [`DataError::Io`] for `path`.
fn io_error(path: &Path, source: io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A zip writing error for `path`: I/O errors stay I/O errors.
fn zip_error(path: &Path, error: ZipError) -> DataError {
    match error {
        ZipError::Io(source) => io_error(path, source),
        other => io_error(path, io::Error::other(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    /// A fixture file under `testdata/`.
    fn fixture(name: &str) -> PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata")).join(name)
    }

    /// Rows `offset..offset + n` of the fixtures: value `r + 0.25 * c` in column `c`.
    fn fixture_rows(n: usize, offset: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, 4), |(r, c)| (r + offset) as f64 + 0.25 * c as f64)
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|&item| item.to_owned()).collect()
    }

    /// The canonical fixtures' sequences and labels.
    fn canonical_expected() -> SequenceFile {
        SequenceFile {
            sequences: vec![fixture_rows(2, 0), fixture_rows(3, 2), fixture_rows(1, 5)],
            cluster_ids: Some(vec![
                strings(&["a", "bb"]),
                strings(&["a", "ccc", "bb"]),
                strings(&["spk_é"]),
            ]),
            times: None,
            ids: None,
        }
    }

    fn toy_test_expected() -> SequenceFile {
        SequenceFile {
            sequences: vec![fixture_rows(3, 0), fixture_rows(3, 3)],
            cluster_ids: Some(vec![
                strings(&["1_0", "1_0", "1_1"]),
                strings(&["2_0", "2_1", "2_1"]),
            ]),
            times: None,
            ids: None,
        }
    }

    /// A scratch directory, removed when dropped.
    struct ScratchDir(PathBuf);

    impl ScratchDir {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("uisrnn-npz-test-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("create scratch dir");
            Self(dir)
        }

        fn entries(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .expect("list scratch dir")
                .map(|entry| {
                    entry
                        .expect("entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for ScratchDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    // ----- building archives in memory -----

    fn numeric_npy<A: WriteNpyExt>(array: &A) -> Vec<u8> {
        let mut bytes = Vec::new();
        array.write_npy(&mut bytes).expect("encode npy");
        bytes
    }

    /// `.npy` bytes with a hand-written header dict and raw data.
    fn raw_npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = NPY_MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        let header = format!("{dict}\n");
        bytes.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    fn labels_npy(labels: &[&str]) -> Vec<u8> {
        unicode_npy("cluster_ids", labels).expect("encode labels")
    }

    fn archive(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in members {
            zip.start_file(format!("{name}.npy"), SimpleFileOptions::default())
                .expect("start member");
            zip.write_all(bytes).expect("write member");
        }
        zip.finish().expect("finish zip").into_inner()
    }

    fn read(members: &[(&str, Vec<u8>)]) -> Result<SequenceFile> {
        read_sequence_bytes(&archive(members), Path::new("memory.npz"))
    }

    fn rows_npy(n: usize) -> Vec<u8> {
        numeric_npy(&fixture_rows(n, 0))
    }

    fn reason(result: Result<SequenceFile>) -> String {
        match result {
            Err(DataError::InvalidNpz { reason, .. }) => reason,
            other => panic!("expected InvalidNpz, got {other:?}"),
        }
    }

    /// `members` stored (not deflated), each member's uncompressed size in both
    /// zip headers replaced by `claimed`.
    fn stored_archive_claiming(members: &[(&str, Vec<u8>)], claimed: u32) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        for (name, bytes) in members {
            zip.start_file(format!("{name}.npy"), stored)
                .expect("start member");
            zip.write_all(bytes).expect("write member");
        }
        let mut bytes = zip.finish().expect("finish zip").into_inner();
        // Local file headers keep the size at byte 22, central directory entries at 24.
        for (signature, offset) in [(0x0403_4b50_u32, 22), (0x0201_4b50, 24)] {
            let starts: Vec<usize> = (0..bytes.len() - 4)
                .filter(|&i| bytes[i..i + 4] == signature.to_le_bytes())
                .collect();
            for start in starts {
                bytes[start + offset..start + offset + 4].copy_from_slice(&claimed.to_le_bytes());
            }
        }
        bytes
    }

    #[test]
    fn a_member_claiming_more_than_the_file_holds_is_refused_before_allocating() {
        let members = [
            ("sequences", rows_npy(3)),
            ("cluster_ids", labels_npy(&["a", "b", "a"])),
        ];
        // 2 GiB claimed by a few hundred stored bytes.
        let bytes = stored_archive_claiming(&members, 2 << 30);
        let refused = reason(read_sequence_bytes(&bytes, Path::new("lying.npz")));
        assert!(refused.contains("could hold"), "{refused}");
        // A claim within what the bytes could hold, but not what they hold.
        let short = stored_archive_claiming(&members, 0);
        let refused = reason(read_sequence_bytes(&short, Path::new("short.npz")));
        assert!(refused.contains("member"), "{refused}");
    }

    // ----- reading fixtures written by numpy -----

    #[test]
    fn reads_canonical_float64() {
        let file = read_sequence_file(fixture("canonical_f64.npz")).expect("read");
        assert_eq!(file, canonical_expected());
    }

    #[test]
    fn reads_canonical_float32_compressed_with_int32_lengths() {
        let file = read_sequence_file(fixture("canonical_f32_compressed.npz")).expect("read");
        assert_eq!(file, canonical_expected());
    }

    #[test]
    fn reads_canonical_times_and_ids() {
        let file = read_sequence_file(fixture("canonical_times_ids.npz")).expect("read");
        let spans: Vec<(f64, f64)> = (0..6)
            .map(|r| {
                let start = r as f64 * 0.5;
                (start, start + 0.4)
            })
            .collect();
        let expected = SequenceFile {
            times: Some(vec![
                spans[..2].to_vec(),
                spans[2..5].to_vec(),
                spans[5..].to_vec(),
            ]),
            ids: Some(strings(&["first", "second", "third"])),
            ..canonical_expected()
        };
        assert_eq!(file, expected);
    }

    #[test]
    fn reads_canonical_without_labels_or_lengths_as_one_sequence() {
        let file = read_sequence_file(fixture("canonical_unlabeled.npz")).expect("read");
        assert_eq!(file.sequences, vec![fixture_rows(3, 0)]);
        assert_eq!(file.cluster_ids, None);
        assert_eq!(file.times, None);
        assert_eq!(file.ids, None);
    }

    #[test]
    fn reads_toy_training_layout() {
        let file = read_sequence_file(fixture("toy_train.npz")).expect("read");
        assert_eq!(file.sequences, vec![fixture_rows(5, 0)]);
        assert_eq!(
            file.cluster_ids,
            Some(vec![strings(&["0_1", "0_1", "0_2", "0_1", "0_2"])])
        );
    }

    #[test]
    fn reads_toy_testing_layout() {
        let file = read_sequence_file(fixture("toy_test.npz")).expect("read");
        assert_eq!(file, toy_test_expected());
    }

    #[test]
    fn reads_fortran_order_and_big_endian() {
        let file = read_sequence_file(fixture("fortran_bigendian.npz")).expect("read");
        assert_eq!(file, toy_test_expected());
    }

    #[test]
    fn refuses_pickled_object_arrays() {
        match read_sequence_file(fixture("pickled.npz")) {
            Err(DataError::PickledArray { array, path }) => {
                assert_eq!(array, "sequences");
                assert!(path.ends_with("pickled.npz"));
            }
            other => panic!("expected PickledArray, got {other:?}"),
        }
    }

    #[test]
    fn lists_found_arrays_when_no_layout_matches() {
        match read_sequence_file(fixture("unrelated.npz")) {
            Err(DataError::MissingArray { found, .. }) => assert_eq!(found, ["bias", "weights"]),
            other => panic!("expected MissingArray, got {other:?}"),
        }
    }

    #[test]
    fn empty_archive_is_missing_array() {
        match read(&[]) {
            Err(DataError::MissingArray { found, .. }) => assert!(found.is_empty()),
            other => panic!("expected MissingArray, got {other:?}"),
        }
    }

    #[test]
    fn broken_archives_are_invalid_npz() {
        for name in ["not_a_zip.npz", "truncated.npz", "corrupt_member.npz"] {
            let result = read_sequence_file(fixture(name));
            assert!(
                matches!(result, Err(DataError::InvalidNpz { .. })),
                "{name}: {result:?}"
            );
        }
        assert!(matches!(
            read_sequence_bytes(&[], Path::new("empty.npz")),
            Err(DataError::InvalidNpz { .. })
        ));
    }

    #[test]
    fn missing_file_is_io_error() {
        let result = read_sequence_file(fixture("does_not_exist.npz"));
        assert!(matches!(result, Err(DataError::Io { .. })), "{result:?}");
    }

    // ----- reading malformed arrays -----

    #[test]
    fn sequences_must_be_two_dimensional_floats() {
        let flat = numeric_npy(&array![1.0, 2.0]);
        assert!(reason(read(&[("sequences", flat)])).contains("expected 2 dimension(s)"));
        let ints = numeric_npy(&array![[1_i64, 2], [3, 4]]);
        assert!(reason(read(&[("sequences", ints)])).contains("expected float32 or float64"));
        let no_columns = numeric_npy(&Array2::<f64>::zeros((3, 0)));
        assert!(reason(read(&[("sequences", no_columns)])).contains("no dimensions"));
    }

    #[test]
    fn label_count_must_match_rows() {
        let result = read(&[
            ("sequences", rows_npy(3)),
            ("cluster_ids", labels_npy(&["a", "b"])),
        ]);
        assert!(reason(result).contains("has 2 labels, but there are 3 rows"));
    }

    #[test]
    fn lengths_must_split_the_rows() {
        let lengths = |values: Array1<i64>| ("lengths", numeric_npy(&values));
        let sum = reason(read(&[("sequences", rows_npy(3)), lengths(array![1, 1])]));
        assert!(sum.contains("lengths sum to 2"), "{sum}");
        let negative = reason(read(&[("sequences", rows_npy(3)), lengths(array![4, -1])]));
        assert!(negative.contains("negative"), "{negative}");
        let zero = read(&[("sequences", rows_npy(3)), lengths(array![3, 0])]);
        assert!(
            matches!(zero, Err(DataError::EmptySequence { sequence: 1 })),
            "{zero:?}"
        );
        let none = read(&[("sequences", rows_npy(0)), lengths(Array1::zeros(0))]);
        assert!(matches!(none, Err(DataError::NoSequences)), "{none:?}");
        let two_d = reason(read(&[
            ("sequences", rows_npy(2)),
            ("lengths", numeric_npy(&array![[2_i64]])),
        ]));
        assert!(two_d.contains("expected 1 dimension(s)"), "{two_d}");
    }

    #[test]
    fn empty_sequences_array_is_empty_sequence() {
        let result = read(&[("sequences", rows_npy(0))]);
        assert!(
            matches!(result, Err(DataError::EmptySequence { sequence: 0 })),
            "{result:?}"
        );
    }

    #[test]
    fn starts_and_ends_come_together_and_match_rows() {
        let times = |n: usize| numeric_npy(&Array1::<f64>::zeros(n));
        let alone = reason(read(&[("sequences", rows_npy(2)), ("starts", times(2))]));
        assert!(alone.contains("both or neither"), "{alone}");
        let ends_alone = reason(read(&[("sequences", rows_npy(2)), ("ends", times(2))]));
        assert!(ends_alone.contains("both or neither"), "{ends_alone}");
        let short = reason(read(&[
            ("sequences", rows_npy(2)),
            ("starts", times(2)),
            ("ends", times(1)),
        ]));
        assert!(short.contains("array `ends`: has 1 times"), "{short}");
    }

    #[test]
    fn ids_must_be_one_string_per_sequence() {
        let wrong = reason(read(&[
            ("sequences", rows_npy(2)),
            ("ids", labels_npy(&["x", "y"])),
        ]));
        assert!(
            wrong.contains("has 2 names, but there are 1 sequences"),
            "{wrong}"
        );
        let numeric = reason(read(&[
            ("sequences", rows_npy(2)),
            ("ids", numeric_npy(&array![1_i64])),
        ]));
        assert!(numeric.contains("expected unicode strings"), "{numeric}");
    }

    #[test]
    fn toy_testing_shapes_are_checked() {
        let sequences = numeric_npy(&Array3::<f64>::zeros((2, 3, 4)));
        let labels = raw_npy(
            "{'descr': '<U1', 'fortran_order': False, 'shape': (3, 2), }",
            &[b'a', 0, 0, 0].repeat(6),
        );
        let result = read(&[
            ("test_sequences", sequences.clone()),
            ("test_cluster_ids", labels),
        ]);
        assert!(reason(result).contains("expected (2, 3)"));
        let flat = numeric_npy(&Array2::<f64>::zeros((2, 3)));
        assert!(reason(read(&[("test_sequences", flat)])).contains("expected 3 dimension(s)"));
        let no_sequences = numeric_npy(&Array3::<f64>::zeros((0, 3, 4)));
        assert!(matches!(
            read(&[("test_sequences", no_sequences)]),
            Err(DataError::NoSequences)
        ));
        let no_steps = numeric_npy(&Array3::<f64>::zeros((2, 0, 4)));
        assert!(matches!(
            read(&[("test_sequences", no_steps)]),
            Err(DataError::EmptySequence { sequence: 0 })
        ));
    }

    #[test]
    fn toy_training_label_count_is_checked() {
        let result = read(&[
            ("train_sequence", rows_npy(3)),
            ("train_cluster_id", labels_npy(&["a"])),
        ]);
        assert!(reason(result).contains("has 1 labels, but there are 3 rows"));
    }

    #[test]
    fn integer_labels_read_as_decimal_strings() {
        let labels = numeric_npy(&array![3_i32, -7]);
        let file = read(&[("sequences", rows_npy(2)), ("cluster_ids", labels)]).expect("read");
        assert_eq!(file.cluster_ids, Some(vec![strings(&["3", "-7"])]));
    }

    #[test]
    fn float_labels_are_refused() {
        let labels = numeric_npy(&array![1.0, 2.0]);
        let result = read(&[("sequences", rows_npy(2)), ("cluster_ids", labels)]);
        assert!(reason(result).contains("expected unicode strings"));
    }

    #[test]
    fn non_finite_values_are_read_unchanged() {
        let rows = array![[f64::NAN, f64::INFINITY], [f64::NEG_INFINITY, 1.0]];
        let file = read(&[("sequences", numeric_npy(&rows))]).expect("read");
        let values = &file.sequences[0];
        assert!(values[[0, 0]].is_nan());
        assert_eq!(values[[0, 1]], f64::INFINITY);
        assert_eq!(values[[1, 0]], f64::NEG_INFINITY);
    }

    #[test]
    fn data_must_match_the_header_shape() {
        let short = raw_npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
            &[0; 24],
        );
        assert!(reason(read(&[("sequences", short)])).contains("needs 32 data bytes, found 24"));
        let huge = raw_npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 4), }",
            &[0; 32],
        );
        assert!(reason(read(&[("sequences", huge)])).contains("data bytes"));
        let overflow = raw_npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 4), }",
            &[],
        );
        assert!(reason(read(&[("sequences", overflow)])).contains("too large"));
    }

    #[test]
    fn malformed_headers_are_invalid_npz() {
        let cases = [
            b"not an npy file at all".to_vec(),
            NPY_MAGIC.to_vec(),
            raw_npy("{'descr': '<f8', 'fortran_order': False}", &[]),
            raw_npy("[1, 2, 3]", &[]),
            raw_npy(&format!("{}1{}", "(".repeat(5000), ")".repeat(5000)), &[]),
            raw_npy(
                "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }",
                &[0; 8],
            ),
            raw_npy(
                "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
                &[0; 16],
            ),
            raw_npy(
                "{'descr': '<U0', 'fortran_order': False, 'shape': (5,), }",
                &[],
            ),
            {
                let mut bytes = raw_npy(
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
                    &[0; 8],
                );
                bytes[6] = 9;
                bytes
            },
        ];
        for (index, bytes) in cases.into_iter().enumerate() {
            let result = read(&[("sequences", bytes)]);
            assert!(
                matches!(result, Err(DataError::InvalidNpz { .. })),
                "case {index}: {result:?}"
            );
        }
    }

    #[test]
    fn reads_npy_format_version_2() {
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n";
        let mut bytes = NPY_MAGIC.to_vec();
        bytes.extend_from_slice(&[2, 0]);
        bytes.extend_from_slice(&u32::try_from(dict.len()).expect("short").to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(&[1.5_f64.to_le_bytes(), (-2.0_f64).to_le_bytes()].concat());
        let file = read(&[("sequences", bytes)]).expect("read");
        assert_eq!(file.sequences, vec![array![[1.5, -2.0]]]);
    }

    #[test]
    fn invalid_code_points_are_invalid_npz() {
        let surrogate = 0xD800_u32.to_le_bytes();
        let labels = raw_npy(
            "{'descr': '<U1', 'fortran_order': False, 'shape': (2,), }",
            &[[b'a', 0, 0, 0], surrogate].concat(),
        );
        let result = read(&[("sequences", rows_npy(2)), ("cluster_ids", labels)]);
        assert!(reason(result).contains("element 1 holds an invalid unicode code point"));
    }

    #[test]
    fn parses_type_descriptors() {
        assert_eq!(Dtype::parse("<f8"), Dtype::Float(8, ByteOrder::Little));
        assert_eq!(Dtype::parse(">i4"), Dtype::Int(4, ByteOrder::Big));
        assert_eq!(Dtype::parse("<U12"), Dtype::Unicode(12, ByteOrder::Little));
        assert_eq!(Dtype::parse("|O"), Dtype::Object);
        assert_eq!(Dtype::parse("O"), Dtype::Object);
        assert_eq!(Dtype::parse("|b1"), Dtype::Other("|b1".to_owned()));
        assert_eq!(Dtype::parse("f8"), Dtype::Other("f8".to_owned()));
        assert_eq!(Dtype::parse(""), Dtype::Other(String::new()));
        assert_eq!(Dtype::parse("<Uxyz"), Dtype::Other("<Uxyz".to_owned()));
    }

    // ----- writing -----

    fn rich_file() -> SequenceFile {
        SequenceFile {
            sequences: vec![
                array![[1.5, -2.0, 3.25], [0.0, 1e-300, -7.0]],
                array![[4.0, 5.0, 6.0]],
                array![[7.0, 8.0, 9.0], [10.0, 11.0, 12.0], [13.0, 14.0, 15.0]],
            ],
            cluster_ids: Some(vec![
                strings(&["spk_é", "a"]),
                strings(&["日本語の話者"]),
                strings(&["", "x\0y", "spk_é"]),
            ]),
            times: Some(vec![
                vec![(0.0, 0.5), (0.5, 1.0)],
                vec![(1.0, 1.25)],
                vec![(2.0, 2.1), (2.1, 2.2), (2.2, 2.3)],
            ]),
            ids: Some(strings(&["rec-1", "récit", "third one"])),
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = ScratchDir::new("round-trip");
        let target = dir.0.join("out.npz");
        let file = rich_file();
        write_sequence_file(&target, &file).expect("write");
        assert_eq!(read_sequence_file(&target).expect("read"), file);
        assert_eq!(dir.entries(), ["out.npz"]);
    }

    #[test]
    fn float32_write_round_trips_within_float32() {
        let dir = ScratchDir::new("round-trip-f32");
        let target = dir.0.join("out32.npz");
        let file = rich_file();
        write_sequence_file_as(&target, &file, Precision::Float32).expect("write");
        let back = read_sequence_file(&target).expect("read");
        assert_eq!(back.cluster_ids, file.cluster_ids);
        for (a, b) in back.sequences.iter().zip(&file.sequences) {
            assert_eq!(a, &b.mapv(|v| f64::from(v as f32)));
        }
    }

    #[test]
    fn write_then_read_round_trips_without_optional_arrays() {
        let dir = ScratchDir::new("round-trip-plain");
        let target = dir.0.join("plain.npz");
        let file = SequenceFile {
            sequences: vec![array![[1.0], [2.0]], array![[f64::NAN]]],
            cluster_ids: None,
            times: None,
            ids: None,
        };
        write_sequence_file(&target, &file).expect("write");
        let back = read_sequence_file(&target).expect("read");
        assert_eq!(back.sequences[0], file.sequences[0]);
        assert!(back.sequences[1][[0, 0]].is_nan());
        assert_eq!((back.cluster_ids, back.times, back.ids), (None, None, None));
    }

    #[test]
    fn written_archive_has_the_canonical_members_with_aligned_headers() {
        let dir = ScratchDir::new("members");
        let target = dir.0.join("members.npz");
        write_sequence_file(&target, &rich_file()).expect("write");
        let bytes = fs::read(&target).expect("read bytes");
        let mut zip = ZipArchive::new(Cursor::new(&bytes[..])).expect("zip");
        let mut names: Vec<&str> = zip.file_names().collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "cluster_ids.npy",
                "ends.npy",
                "ids.npy",
                "lengths.npy",
                "sequences.npy",
                "starts.npy"
            ]
        );
        for name in ["cluster_ids.npy", "ids.npy", "lengths.npy", "sequences.npy"] {
            let mut member = Vec::new();
            zip.by_name(name)
                .expect("member")
                .read_to_end(&mut member)
                .expect("read member");
            let data_start = check_header_bounds(&member).expect("header");
            assert_eq!(data_start % 64, 0, "{name}");
        }
        let mut archive = NpzArchive::open(&bytes, &target).expect("open");
        let labels = archive.required("cluster_ids").expect("labels");
        assert_eq!(labels.descr, "<U6");
        assert_eq!(labels.shape, [6]);
        let lengths = archive.required("lengths").expect("lengths");
        assert_eq!(lengths.descr, "<i8");
        assert_eq!(
            lengths
                .integers()
                .expect("ints")
                .into_raw_vec_and_offset()
                .0,
            [2, 1, 3]
        );
    }

    #[test]
    fn writing_replaces_an_existing_file() {
        let dir = ScratchDir::new("replace");
        let target = dir.0.join("data.npz");
        fs::write(&target, b"old contents").expect("write old");
        write_sequence_file(&target, &rich_file()).expect("write");
        assert_eq!(read_sequence_file(&target).expect("read"), rich_file());
        assert_eq!(dir.entries(), ["data.npz"]);
    }

    #[test]
    fn write_validation_errors() {
        let base = rich_file();
        let check = |file: SequenceFile, matches: fn(&DataError) -> bool| {
            let dir = ScratchDir::new("validation");
            let result = write_sequence_file(dir.0.join("never.npz"), &file);
            let error = result.expect_err("must fail");
            assert!(matches(&error), "{error:?}");
            assert!(dir.entries().is_empty());
        };
        check(
            SequenceFile {
                sequences: vec![],
                cluster_ids: None,
                times: None,
                ids: None,
            },
            |e| matches!(e, DataError::NoSequences),
        );
        let mut empty = base.clone();
        empty.sequences[1] = Array2::zeros((0, 3));
        check(empty, |e| {
            matches!(e, DataError::EmptySequence { sequence: 1 })
        });
        let mut wide = base.clone();
        wide.sequences[2] = Array2::zeros((3, 5));
        check(wide, |e| {
            matches!(
                e,
                DataError::DimensionMismatch {
                    sequence: 2,
                    found: 5,
                    expected: 3
                }
            )
        });
        let mut flat = base.clone();
        flat.sequences = vec![Array2::zeros((2, 0))];
        flat.cluster_ids = None;
        flat.times = None;
        flat.ids = None;
        check(flat, |e| {
            matches!(
                e,
                DataError::InvalidParameter {
                    name: "sequences",
                    ..
                }
            )
        });
        let mut few_labels = base.clone();
        few_labels.cluster_ids = Some(vec![strings(&["a", "b"])]);
        check(few_labels, |e| {
            matches!(
                e,
                DataError::LabelCountMismatch {
                    sequences: 3,
                    label_arrays: 1
                }
            )
        });
        let mut short_labels = base.clone();
        if let Some(labels) = short_labels.cluster_ids.as_mut() {
            labels[2].pop();
        }
        check(short_labels, |e| {
            matches!(
                e,
                DataError::LabelLengthMismatch {
                    sequence: 2,
                    observations: 3,
                    labels: 2
                }
            )
        });
        let mut nul = base.clone();
        if let Some(labels) = nul.cluster_ids.as_mut() {
            labels[0][0] = "spk\0".to_owned();
        }
        check(nul, |e| {
            matches!(
                e,
                DataError::InvalidParameter {
                    name: "cluster_ids",
                    ..
                }
            )
        });
        let mut few_times = base.clone();
        few_times.times = Some(vec![]);
        check(few_times, |e| {
            matches!(e, DataError::InvalidParameter { name: "times", .. })
        });
        let mut short_times = base.clone();
        if let Some(times) = short_times.times.as_mut() {
            times[0].pop();
        }
        check(short_times, |e| {
            matches!(e, DataError::InvalidParameter { name: "times", .. })
        });
        let mut few_ids = base;
        few_ids.ids = Some(strings(&["only"]));
        check(few_ids, |e| {
            matches!(e, DataError::InvalidParameter { name: "ids", .. })
        });
    }

    #[test]
    fn writing_into_a_missing_directory_is_io_error() {
        let dir = ScratchDir::new("missing-dir");
        let target = dir.0.join("no").join("such").join("dir.npz");
        let result = write_sequence_file(&target, &rich_file());
        assert!(matches!(result, Err(DataError::Io { .. })), "{result:?}");
        assert!(dir.entries().is_empty());
    }

    #[test]
    fn failed_rename_removes_the_temporary_and_keeps_the_target() {
        let dir = ScratchDir::new("failed-rename");
        let target = dir.0.join("busy.npz");
        fs::create_dir(&target).expect("create dir at target");
        fs::write(target.join("keep.txt"), b"keep").expect("write inner");
        let result = write_sequence_file(&target, &rich_file());
        assert!(matches!(result, Err(DataError::Io { .. })), "{result:?}");
        assert_eq!(dir.entries(), ["busy.npz"]);
        assert_eq!(fs::read(target.join("keep.txt")).expect("inner"), b"keep");
    }

    #[test]
    fn failed_validation_keeps_an_existing_target() {
        let dir = ScratchDir::new("keep-target");
        let target = dir.0.join("data.npz");
        write_sequence_file(&target, &rich_file()).expect("write");
        let before = fs::read(&target).expect("bytes");
        let mut bad = rich_file();
        bad.ids = None;
        bad.sequences[0] = Array2::zeros((2, 9));
        assert!(write_sequence_file(&target, &bad).is_err());
        assert_eq!(fs::read(&target).expect("bytes"), before);
        assert_eq!(dir.entries(), ["data.npz"]);
    }

    #[test]
    fn path_without_file_name_is_invalid_parameter() {
        let result = write_sequence_file(Path::new("/"), &rich_file());
        assert!(
            matches!(
                result,
                Err(DataError::InvalidParameter { name: "path", .. })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn unicode_header_is_numpy_format() {
        let bytes = unicode_npy("ids", &["ab", "c"]).expect("encode");
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ascii");
        assert!(header.starts_with("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }"));
        assert!(header.ends_with(" \n"));
        assert_eq!(&bytes[10 + header_len..], b"a\0\0\0b\0\0\0c\0\0\0\0\0\0\0");
    }
}
