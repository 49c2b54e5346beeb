//! A small, safe reader for Python pickles (protocols 0–5 binary subset), and
//! ([`torch`]) for the files PyTorch's `torch.save` writes, both kinds: used by
//! uisrnn-model (the reference implementation's model files) and uisrnn-frontend
//! (resemblyzer's `pretrained.pt`).
//!
//! The reader turns a pickle into a plain data tree ([`Value`]). It never
//! imports, calls or executes anything: `GLOBAL`/`STACK_GLOBAL` produce a
//! [`Value::Global`] naming the callable, `REDUCE`/`NEWOBJ` produce a
//! [`Value::Object`] recording the callable and its arguments, and later
//! `BUILD`, `APPEND(S)` and `SETITEM(S)` on such an object are recorded in
//! the same [`Object`]. Interpreting these records (e.g. "this object is a
//! tensor") is left to the caller.
//!
//! # Design
//!
//! Parsing runs in two phases, neither of which recurses:
//!
//! 1. The opcode loop is iterative. Every object it creates is a node in an
//!    arena; the pickle stack and the memo hold node indices, so `DUP` and
//!    `BINGET` copy an index, never an object. Mutations (`APPEND`,
//!    `SETITEM`, `BUILD`, ...) change the node in place, which gives the same
//!    sharing semantics as Python's memo (an object fetched from the memo
//!    after a `BUILD` sees the built state).
//! 2. The node returned by `STOP` is converted into an owned [`Value`] tree,
//!    depth-first with an explicit stack. Shared nodes are copied each time
//!    they are reached, so this phase is bounded (see below); a cyclic
//!    pickle (a list appended to itself) hits the depth bound.
//!
//! # Safety bounds
//!
//! * Every length read from the input is checked against the bytes that
//!   remain before anything is allocated, so parsing allocates at most a
//!   small multiple of the input size.
//! * The arena holds at most [`Limits::max_nodes`] nodes (default 1,000,000).
//! * The returned tree nests at most [`Limits::max_depth`] levels (default
//!   1,000) and holds at most [`Limits::max_output_nodes`] values (default
//!   1,000,000, shared nodes counted each time they are copied), and its
//!   strings and byte strings total at most `2 × input length + 1 MiB`
//!   bytes. This defeats "billion laughs" pickles that repeatedly share a
//!   big value.
//! * Stack underflow, a missing `MARK`, an unknown memo index or opcode, and
//!   input that ends before `STOP` are errors naming the byte offset.
//! * Integers that do not fit an `i64` are kept as little-endian
//!   two's-complement bytes ([`Value::BigInt`]).
//!
//! Supported opcodes: `PROTO FRAME STOP MARK POP POP_MARK DUP NONE NEWTRUE
//! NEWFALSE INT BININT BININT1 BININT2 LONG1 LONG4 BINFLOAT BINUNICODE
//! SHORT_BINUNICODE BINUNICODE8 BINSTRING SHORT_BINSTRING BINBYTES
//! SHORT_BINBYTES BINBYTES8 BYTEARRAY8 EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3
//! EMPTY_LIST LIST APPEND APPENDS EMPTY_DICT DICT SETITEM SETITEMS EMPTY_SET
//! ADDITEMS FROZENSET GLOBAL STACK_GLOBAL REDUCE BUILD NEWOBJ BINPERSID
//! BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET`. Python 2 byte strings
//! (`BINSTRING`, `SHORT_BINSTRING`) become [`Value::Bytes`].

use std::collections::HashMap;

pub mod torch;

/// Why a pickle could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    /// The input ended in the middle of an opcode or before `STOP`.
    #[error("pickle truncated at offset {offset} while reading {what}")]
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// An opcode this reader does not implement (or not an opcode at all).
    #[error("unsupported pickle opcode 0x{opcode:02x} ({name}) at offset {offset}")]
    UnsupportedOpcode {
        /// The opcode byte.
        opcode: u8,
        /// The opcode's name in `pickletools`, or `unknown`.
        name: &'static str,
        /// Byte offset of the opcode.
        offset: usize,
    },
    /// A well-formed opcode that cannot be applied (stack underflow, wrong
    /// operand kind, bad memo index, invalid UTF-8, ...).
    #[error("invalid pickle at offset {offset}: {reason}")]
    Invalid {
        /// Byte offset of the opcode.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// The pickle would exceed one of the [`Limits`].
    #[error("pickle exceeds a safety limit: {0}")]
    LimitExceeded(String),
}

/// Resource bounds applied while parsing; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most objects the opcode loop may create.
    pub max_nodes: usize,
    /// Deepest nesting of the returned tree.
    pub max_depth: usize,
    /// Most values in the returned tree (shared values counted per copy).
    pub max_output_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_nodes: 1_000_000,
            max_depth: 1_000,
            max_output_nodes: 1_000_000,
        }
    }
}

/// How an [`Object`] was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constructor {
    /// `REDUCE`: `callable(*args)`.
    Reduce,
    /// `NEWOBJ`: `cls.__new__(cls, *args)`.
    NewObj,
}

/// The record of an object the pickle asked to construct.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Which opcode created it.
    pub constructor: Constructor,
    /// The callable or class, normally a [`Value::Global`].
    pub callable: Value,
    /// The argument tuple.
    pub args: Value,
    /// Items added with `APPEND`/`APPENDS`, in order.
    pub list_items: Vec<Value>,
    /// Items added with `SETITEM`/`SETITEMS`, in order (duplicates kept).
    pub dict_items: Vec<(Value, Value)>,
    /// The state passed to `BUILD` (the last one, if several).
    pub state: Option<Value>,
}

impl Object {
    /// The `(module, name)` of the callable, if it is a global.
    pub fn global(&self) -> Option<(&str, &str)> {
        self.callable.as_global()
    }
}

/// A node of the data tree a pickle describes.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits an `i64`.
    Int(i64),
    /// A larger integer, as little-endian two's-complement bytes.
    BigInt(Vec<u8>),
    /// A float.
    Float(f64),
    /// A (unicode) string.
    String(String),
    /// A byte string (`bytes`, `bytearray` or a Python 2 `str`).
    Bytes(Vec<u8>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict, as key/value pairs in insertion order (duplicates kept; the
    /// last one wins in Python).
    Dict(Vec<(Value, Value)>),
    /// A set.
    Set(Vec<Value>),
    /// A frozenset.
    FrozenSet(Vec<Value>),
    /// A reference to a global (class or function), never resolved.
    Global {
        /// The module, e.g. `collections`.
        module: String,
        /// The qualified name, e.g. `OrderedDict`.
        name: String,
    },
    /// An object built by `REDUCE` or `NEWOBJ`.
    Object(Box<Object>),
    /// A persistent id (`BINPERSID`), left for the caller to resolve.
    PersistentId(Box<Value>),
}

impl Value {
    /// The integer, if this is an [`Value::Int`].
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The truth value of a `Bool` or of an `Int` that is 0 or 1.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }

    /// The text, if this is a [`Value::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is a [`Value::Tuple`].
    pub fn as_tuple(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// `(module, name)`, if this is a [`Value::Global`].
    pub fn as_global(&self) -> Option<(&str, &str)> {
        match self {
            Value::Global { module, name } => Some((module, name)),
            _ => None,
        }
    }

    /// The object record, if this is a [`Value::Object`].
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Global { .. } => "global",
            Value::Object(_) => "object",
            Value::PersistentId(_) => "persistent id",
        }
    }
}

/// Parses a pickle with the default [`Limits`].
pub fn parse(input: &[u8]) -> Result<Value, PickleError> {
    parse_with_limits(input, Limits::default())
}

/// Parses a pickle with explicit [`Limits`].
pub fn parse_with_limits(input: &[u8], limits: Limits) -> Result<Value, PickleError> {
    parse_prefix(input, limits).map(|(value, _)| value)
}

/// Parses the pickle at the start of `input` and returns it with the number of
/// bytes it took (up to and including its `STOP`), for streams of several pickles
/// such as legacy `torch.save` files.
///
/// ```
/// // Two pickles of protocol 2: the integers 7 and 8.
/// let stream = [0x80, 2, b'K', 7, b'.', 0x80, 2, b'K', 8, b'.'];
/// let (first, used) = uisrnn_pickle::parse_prefix(&stream, Default::default())?;
/// assert_eq!((first.as_int(), used), (Some(7), 5));
/// assert_eq!(uisrnn_pickle::parse(&stream[used..])?.as_int(), Some(8));
/// # Ok::<(), uisrnn_pickle::PickleError>(())
/// ```
pub fn parse_prefix(input: &[u8], limits: Limits) -> Result<(Value, usize), PickleError> {
    let mut machine = Machine::new(input, limits);
    let root = machine.run()?;
    let consumed = machine.pos;
    let byte_budget = input.len().saturating_mul(2).saturating_add(1 << 20);
    let mut builder = TreeBuilder {
        arena: &machine.arena,
        nodes_left: limits.max_output_nodes,
        bytes_left: byte_budget,
        max_depth: limits.max_depth,
    };
    builder.build(root).map(|value| (value, consumed))
}

// ---------------------------------------------------------------------------
// Opcodes
// ---------------------------------------------------------------------------

mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const POP: u8 = b'0';
    pub const POP_MARK: u8 = b'1';
    pub const DUP: u8 = b'2';
    pub const INT: u8 = b'I';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const BINPERSID: u8 = b'Q';
    pub const REDUCE: u8 = b'R';
    pub const BINSTRING: u8 = b'T';
    pub const SHORT_BINSTRING: u8 = b'U';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const BUILD: u8 = b'b';
    pub const GLOBAL: u8 = b'c';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    pub const PROTO: u8 = 0x80;
    pub const NEWOBJ: u8 = 0x81;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    pub const BINBYTES: u8 = b'B';
    pub const SHORT_BINBYTES: u8 = b'C';
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const BINBYTES8: u8 = 0x8e;
    pub const EMPTY_SET: u8 = 0x8f;
    pub const ADDITEMS: u8 = 0x90;
    pub const FROZENSET: u8 = 0x91;
    pub const STACK_GLOBAL: u8 = 0x93;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
    pub const BYTEARRAY8: u8 = 0x96;
}

/// The `pickletools` name of an opcode byte, for error messages.
fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "unknown",
    }
}

/// Highest pickle protocol this reader accepts in `PROTO`.
const MAX_PROTOCOL: u8 = 5;

// ---------------------------------------------------------------------------
// Phase 1: the opcode loop over an arena of nodes
// ---------------------------------------------------------------------------

type NodeId = usize;

/// An object created by the opcode loop; children are arena indices.
enum Node {
    None,
    Bool(bool),
    Int(i64),
    BigInt(Vec<u8>),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    Tuple(Vec<NodeId>),
    List(Vec<NodeId>),
    Dict(Vec<(NodeId, NodeId)>),
    Set(Vec<NodeId>),
    FrozenSet(Vec<NodeId>),
    /// Module and name are `String` nodes (shared, never copied here).
    Global {
        module: NodeId,
        name: NodeId,
    },
    Object(ObjectNode),
    PersistentId(NodeId),
}

struct ObjectNode {
    constructor: Constructor,
    callable: NodeId,
    args: NodeId,
    list_items: Vec<NodeId>,
    dict_items: Vec<(NodeId, NodeId)>,
    state: Option<NodeId>,
}

/// The pickle virtual machine, restricted to building data.
struct Machine<'a> {
    input: &'a [u8],
    pos: usize,
    /// Offset of the opcode being executed, for error messages.
    op_offset: usize,
    arena: Vec<Node>,
    stack: Vec<NodeId>,
    /// Stack heights at each open `MARK`.
    marks: Vec<usize>,
    memo: HashMap<u64, NodeId>,
    limits: Limits,
}

type OpResult<T = ()> = Result<T, PickleError>;

impl<'a> Machine<'a> {
    fn new(input: &'a [u8], limits: Limits) -> Self {
        Self {
            input,
            pos: 0,
            op_offset: 0,
            arena: Vec::new(),
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            limits,
        }
    }

    /// Runs opcodes until `STOP`; returns the node it pops.
    fn run(&mut self) -> OpResult<NodeId> {
        loop {
            self.op_offset = self.pos;
            let opcode = self.read_u8("an opcode")?;
            if opcode == op::STOP {
                return self.pop();
            }
            self.execute(opcode)?;
        }
    }

    fn execute(&mut self, opcode: u8) -> OpResult {
        match opcode {
            op::PROTO => self.op_proto(),
            op::FRAME => self.op_frame(),
            op::MARK => {
                self.marks.push(self.stack.len());
                Ok(())
            }
            op::POP => self.op_pop(),
            op::POP_MARK => self.pop_mark().map(drop),
            op::DUP => {
                let top = self.top()?;
                self.stack.push(top);
                Ok(())
            }
            op::NONE => self.push_new(Node::None),
            op::NEWTRUE => self.push_new(Node::Bool(true)),
            op::NEWFALSE => self.push_new(Node::Bool(false)),
            op::INT => self.op_int(),
            op::BININT => {
                let value = i32::from_le_bytes(self.read_array("BININT")?);
                self.push_new(Node::Int(value.into()))
            }
            op::BININT1 => {
                let value = self.read_u8("BININT1")?;
                self.push_new(Node::Int(value.into()))
            }
            op::BININT2 => {
                let value = u16::from_le_bytes(self.read_array("BININT2")?);
                self.push_new(Node::Int(value.into()))
            }
            op::LONG1 => {
                let len = usize::from(self.read_u8("LONG1 length")?);
                self.op_long(len)
            }
            op::LONG4 => {
                let len = self.read_i32_len("LONG4 length")?;
                self.op_long(len)
            }
            op::BINFLOAT => {
                let value = f64::from_be_bytes(self.read_array("BINFLOAT")?);
                self.push_new(Node::Float(value))
            }
            op::BINUNICODE => {
                let len = self.read_u32_len("BINUNICODE length")?;
                self.op_unicode(len)
            }
            op::SHORT_BINUNICODE => {
                let len = usize::from(self.read_u8("SHORT_BINUNICODE length")?);
                self.op_unicode(len)
            }
            op::BINUNICODE8 => {
                let len = self.read_u64_len("BINUNICODE8 length")?;
                self.op_unicode(len)
            }
            op::BINSTRING => {
                let len = self.read_i32_len("BINSTRING length")?;
                self.op_bytes(len)
            }
            op::SHORT_BINSTRING | op::SHORT_BINBYTES => {
                let len = usize::from(self.read_u8("byte string length")?);
                self.op_bytes(len)
            }
            op::BINBYTES => {
                let len = self.read_u32_len("BINBYTES length")?;
                self.op_bytes(len)
            }
            op::BINBYTES8 | op::BYTEARRAY8 => {
                let len = self.read_u64_len("byte string length")?;
                self.op_bytes(len)
            }
            op::EMPTY_TUPLE => self.push_new(Node::Tuple(Vec::new())),
            op::TUPLE => {
                let items = self.pop_mark()?;
                self.push_new(Node::Tuple(items))
            }
            op::TUPLE1 => self.op_small_tuple(1),
            op::TUPLE2 => self.op_small_tuple(2),
            op::TUPLE3 => self.op_small_tuple(3),
            op::EMPTY_LIST => self.push_new(Node::List(Vec::new())),
            op::LIST => {
                let items = self.pop_mark()?;
                self.push_new(Node::List(items))
            }
            op::APPEND => {
                let item = self.pop()?;
                self.append_items(vec![item])
            }
            op::APPENDS => {
                let items = self.pop_mark()?;
                self.append_items(items)
            }
            op::EMPTY_DICT => self.push_new(Node::Dict(Vec::new())),
            op::DICT => {
                let items = self.pop_mark()?;
                let pairs = self.pair_up(items)?;
                self.push_new(Node::Dict(pairs))
            }
            op::SETITEM => {
                let value = self.pop()?;
                let key = self.pop()?;
                self.set_items(vec![(key, value)])
            }
            op::SETITEMS => {
                let items = self.pop_mark()?;
                let pairs = self.pair_up(items)?;
                self.set_items(pairs)
            }
            op::EMPTY_SET => self.push_new(Node::Set(Vec::new())),
            op::ADDITEMS => self.op_additems(),
            op::FROZENSET => {
                let items = self.pop_mark()?;
                self.push_new(Node::FrozenSet(items))
            }
            op::GLOBAL => self.op_global(),
            op::STACK_GLOBAL => self.op_stack_global(),
            op::REDUCE => self.op_construct(Constructor::Reduce),
            op::NEWOBJ => self.op_construct(Constructor::NewObj),
            op::BUILD => self.op_build(),
            op::BINPERSID => {
                let pid = self.pop()?;
                self.push_new(Node::PersistentId(pid))
            }
            op::BINPUT => {
                let index = self.read_u8("BINPUT index")?;
                self.memo_put(index.into())
            }
            op::LONG_BINPUT => {
                let index = u32::from_le_bytes(self.read_array("LONG_BINPUT index")?);
                self.memo_put(index.into())
            }
            op::MEMOIZE => {
                let index = self.memo.len() as u64;
                self.memo_put(index)
            }
            op::BINGET => {
                let index = self.read_u8("BINGET index")?;
                self.memo_get(index.into())
            }
            op::LONG_BINGET => {
                let index = u32::from_le_bytes(self.read_array("LONG_BINGET index")?);
                self.memo_get(index.into())
            }
            other => Err(PickleError::UnsupportedOpcode {
                opcode: other,
                name: opcode_name(other),
                offset: self.op_offset,
            }),
        }
    }

    // -- errors -------------------------------------------------------------

    fn invalid<T>(&self, reason: impl Into<String>) -> OpResult<T> {
        Err(PickleError::Invalid {
            offset: self.op_offset,
            reason: reason.into(),
        })
    }

    // -- reading operands -----------------------------------------------------

    fn read_bytes(&mut self, len: usize, what: &'static str) -> OpResult<&'a [u8]> {
        let input: &'a [u8] = self.input;
        let end = self.pos.checked_add(len);
        match end.and_then(|end| input.get(self.pos..end)) {
            Some(bytes) => {
                self.pos += len;
                Ok(bytes)
            }
            None => Err(PickleError::Truncated {
                offset: self.pos,
                what,
            }),
        }
    }

    fn read_array<const N: usize>(&mut self, what: &'static str) -> OpResult<[u8; N]> {
        let bytes = self.read_bytes(N, what)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    fn read_u8(&mut self, what: &'static str) -> OpResult<u8> {
        let [byte] = self.read_array(what)?;
        Ok(byte)
    }

    fn read_u32_len(&mut self, what: &'static str) -> OpResult<usize> {
        let len = u32::from_le_bytes(self.read_array(what)?);
        self.checked_len(u64::from(len), what)
    }

    fn read_i32_len(&mut self, what: &'static str) -> OpResult<usize> {
        let len = i32::from_le_bytes(self.read_array(what)?);
        match u64::try_from(len) {
            Ok(len) => self.checked_len(len, what),
            Err(_) => self.invalid(format!("negative {what} {len}")),
        }
    }

    fn read_u64_len(&mut self, what: &'static str) -> OpResult<usize> {
        let len = u64::from_le_bytes(self.read_array(what)?);
        self.checked_len(len, what)
    }

    /// A length operand, checked against the input that remains.
    fn checked_len(&self, len: u64, what: &'static str) -> OpResult<usize> {
        let remaining = self.input.len() - self.pos.min(self.input.len());
        match usize::try_from(len) {
            Ok(len) if len <= remaining => Ok(len),
            _ => Err(PickleError::Truncated {
                offset: self.pos,
                what,
            }),
        }
    }

    /// A newline-terminated text operand (without the newline).
    fn read_line(&mut self, what: &'static str) -> OpResult<&'a str> {
        let input: &'a [u8] = self.input;
        let rest = input.get(self.pos..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(PickleError::Truncated {
                offset: self.pos,
                what,
            });
        };
        let line = self.read_bytes(len, what)?;
        self.pos += 1; // the newline, known to be present
        match std::str::from_utf8(line) {
            Ok(text) => Ok(text),
            Err(_) => self.invalid(format!("{what} is not UTF-8")),
        }
    }

    // -- stack ----------------------------------------------------------------

    /// Lowest stack index usable by the innermost open `MARK`.
    fn stack_floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> OpResult<NodeId> {
        if self.stack.len() <= self.stack_floor() {
            return self.invalid("stack underflow");
        }
        match self.stack.pop() {
            Some(id) => Ok(id),
            None => self.invalid("stack underflow"),
        }
    }

    fn top(&self) -> OpResult<NodeId> {
        match self.stack.last() {
            Some(&id) if self.stack.len() > self.stack_floor() => Ok(id),
            _ => self.invalid("stack underflow"),
        }
    }

    /// Pops everything above the innermost `MARK`, and the mark itself.
    fn pop_mark(&mut self) -> OpResult<Vec<NodeId>> {
        match self.marks.pop() {
            Some(height) if height <= self.stack.len() => Ok(self.stack.split_off(height)),
            _ => self.invalid("no MARK on the stack"),
        }
    }

    fn new_node(&mut self, node: Node) -> OpResult<NodeId> {
        if self.arena.len() >= self.limits.max_nodes {
            return Err(PickleError::LimitExceeded(format!(
                "more than {} objects",
                self.limits.max_nodes
            )));
        }
        self.arena.push(node);
        Ok(self.arena.len() - 1)
    }

    fn push_new(&mut self, node: Node) -> OpResult {
        let id = self.new_node(node)?;
        self.stack.push(id);
        Ok(())
    }

    fn node_mut(&mut self, id: NodeId) -> OpResult<&mut Node> {
        let offset = self.op_offset;
        self.arena.get_mut(id).ok_or(PickleError::Invalid {
            offset,
            reason: format!("dangling object reference {id}"),
        })
    }

    fn node(&self, id: NodeId) -> OpResult<&Node> {
        self.arena.get(id).ok_or(PickleError::Invalid {
            offset: self.op_offset,
            reason: format!("dangling object reference {id}"),
        })
    }

    // -- opcodes --------------------------------------------------------------

    fn op_proto(&mut self) -> OpResult {
        let protocol = self.read_u8("PROTO version")?;
        if protocol > MAX_PROTOCOL {
            return self.invalid(format!("unsupported pickle protocol {protocol}"));
        }
        Ok(())
    }

    fn op_frame(&mut self) -> OpResult {
        // Framing only groups opcodes; check the size is plausible and go on.
        let len = u64::from_le_bytes(self.read_array("FRAME length")?);
        self.checked_len(len, "FRAME contents").map(drop)
    }

    fn op_pop(&mut self) -> OpResult {
        if self.stack.len() > self.stack_floor() {
            self.stack.pop();
            Ok(())
        } else {
            // Python discards the innermost mark when nothing is above it.
            self.pop_mark().map(drop)
        }
    }

    fn op_int(&mut self) -> OpResult {
        let line = self.read_line("INT operand")?;
        let node = match line {
            "00" => Node::Bool(false),
            "01" => Node::Bool(true),
            text => match text.trim().parse::<i64>() {
                Ok(value) => Node::Int(value),
                Err(_) => return self.invalid(format!("bad INT operand {text:?}")),
            },
        };
        self.push_new(node)
    }

    fn op_long(&mut self, len: usize) -> OpResult {
        let bytes = self.read_bytes(len, "LONG payload")?;
        let node = match little_endian_to_i64(bytes) {
            Some(value) => Node::Int(value),
            None => Node::BigInt(bytes.to_vec()),
        };
        self.push_new(node)
    }

    fn op_unicode(&mut self, len: usize) -> OpResult {
        let bytes = self.read_bytes(len, "string payload")?;
        match std::str::from_utf8(bytes) {
            Ok(text) => self.push_new(Node::String(text.to_owned())),
            Err(_) => self.invalid("string is not valid UTF-8"),
        }
    }

    fn op_bytes(&mut self, len: usize) -> OpResult {
        let bytes = self.read_bytes(len, "byte string payload")?;
        self.push_new(Node::Bytes(bytes.to_vec()))
    }

    fn op_small_tuple(&mut self, len: usize) -> OpResult {
        let floor = self.stack_floor();
        if self.stack.len() < floor.saturating_add(len) {
            return self.invalid("stack underflow");
        }
        let items = self.stack.split_off(self.stack.len() - len);
        self.push_new(Node::Tuple(items))
    }

    fn pair_up(&self, items: Vec<NodeId>) -> OpResult<Vec<(NodeId, NodeId)>> {
        if !items.len().is_multiple_of(2) {
            return self.invalid("odd number of items for a dict");
        }
        let mut iter = items.into_iter();
        let mut pairs = Vec::with_capacity(iter.len() / 2);
        while let (Some(key), Some(value)) = (iter.next(), iter.next()) {
            pairs.push((key, value));
        }
        Ok(pairs)
    }

    fn append_items(&mut self, items: Vec<NodeId>) -> OpResult {
        let target = self.top()?;
        match self.node_mut(target)? {
            Node::List(list) => list.extend(items),
            Node::Object(object) => object.list_items.extend(items),
            _ => return self.invalid("APPEND to something that is not a list"),
        }
        Ok(())
    }

    fn set_items(&mut self, pairs: Vec<(NodeId, NodeId)>) -> OpResult {
        let target = self.top()?;
        match self.node_mut(target)? {
            Node::Dict(dict) => dict.extend(pairs),
            Node::Object(object) => object.dict_items.extend(pairs),
            _ => return self.invalid("SETITEM on something that is not a dict"),
        }
        Ok(())
    }

    fn op_additems(&mut self) -> OpResult {
        let items = self.pop_mark()?;
        let target = self.top()?;
        match self.node_mut(target)? {
            Node::Set(set) => set.extend(items),
            _ => return self.invalid("ADDITEMS on something that is not a set"),
        }
        Ok(())
    }

    fn op_global(&mut self) -> OpResult {
        let module = self.read_line("GLOBAL module")?;
        let name = self.read_line("GLOBAL name")?;
        let module = self.new_node(Node::String(module.to_owned()))?;
        let name = self.new_node(Node::String(name.to_owned()))?;
        self.push_new(Node::Global { module, name })
    }

    fn op_stack_global(&mut self) -> OpResult {
        let name = self.pop()?;
        let module = self.pop()?;
        for id in [module, name] {
            if !matches!(self.node(id)?, Node::String(_)) {
                return self.invalid("STACK_GLOBAL operands must be strings");
            }
        }
        self.push_new(Node::Global { module, name })
    }

    fn op_construct(&mut self, constructor: Constructor) -> OpResult {
        let args = self.pop()?;
        let callable = self.pop()?;
        self.push_new(Node::Object(ObjectNode {
            constructor,
            callable,
            args,
            list_items: Vec::new(),
            dict_items: Vec::new(),
            state: None,
        }))
    }

    fn op_build(&mut self) -> OpResult {
        let state = self.pop()?;
        let target = self.top()?;
        match self.node_mut(target)? {
            Node::Object(object) => {
                object.state = Some(state);
                Ok(())
            }
            _ => self.invalid("BUILD on something that is not a constructed object"),
        }
    }

    fn memo_put(&mut self, index: u64) -> OpResult {
        let top = self.top()?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn memo_get(&mut self, index: u64) -> OpResult {
        match self.memo.get(&index) {
            Some(&id) => {
                self.stack.push(id);
                Ok(())
            }
            None => self.invalid(format!("memo index {index} was never stored")),
        }
    }
}

/// Decodes a little-endian two's-complement integer if it fits an `i64`.
fn little_endian_to_i64(bytes: &[u8]) -> Option<i64> {
    let negative = bytes.last().is_some_and(|&b| b & 0x80 != 0);
    let fill = if negative { 0xff } else { 0x00 };
    let (low, high) = bytes.split_at(bytes.len().min(8));
    if high.iter().any(|&b| b != fill) {
        return None;
    }
    let mut array = [fill; 8];
    array[..low.len()].copy_from_slice(low);
    let value = i64::from_le_bytes(array);
    // The sign of the truncated value must match the sign of the whole.
    (value.is_negative() == negative).then_some(value)
}

// ---------------------------------------------------------------------------
// Phase 2: arena -> owned tree, bounded and iterative
// ---------------------------------------------------------------------------

/// An inconsistency of the arena itself (a bug here, not in the input).
fn internal_error(reason: &str) -> PickleError {
    PickleError::Invalid {
        offset: 0,
        reason: format!("internal error: {reason}"),
    }
}

/// The arena indices of a node's children, in the order [`assemble`]
/// consumes them.
fn child_ids(node: &Node) -> Vec<NodeId> {
    match node {
        Node::None
        | Node::Bool(_)
        | Node::Int(_)
        | Node::BigInt(_)
        | Node::Float(_)
        | Node::String(_)
        | Node::Bytes(_) => Vec::new(),
        Node::Tuple(items) | Node::List(items) | Node::Set(items) | Node::FrozenSet(items) => {
            items.clone()
        }
        Node::Dict(pairs) => flatten_pairs(pairs),
        Node::Global { module, name } => vec![*module, *name],
        Node::Object(object) => {
            let mut ids = vec![object.callable, object.args];
            ids.extend(object.state);
            ids.extend_from_slice(&object.list_items);
            ids.extend(flatten_pairs(&object.dict_items));
            ids
        }
        Node::PersistentId(pid) => vec![*pid],
    }
}

fn flatten_pairs(pairs: &[(NodeId, NodeId)]) -> Vec<NodeId> {
    pairs
        .iter()
        .flat_map(|&(key, value)| [key, value])
        .collect()
}

/// A node whose children are being converted.
struct Frame<'m> {
    node: &'m Node,
    children: Vec<NodeId>,
    built: Vec<Value>,
}

/// Converts the arena graph reachable from one node into an owned tree,
/// depth-first with an explicit stack (no recursion).
struct TreeBuilder<'m> {
    arena: &'m [Node],
    nodes_left: usize,
    bytes_left: usize,
    max_depth: usize,
}

impl<'m> TreeBuilder<'m> {
    fn build(&mut self, root: NodeId) -> Result<Value, PickleError> {
        let mut stack = vec![self.enter(root)?];
        loop {
            let Some(frame) = stack.last_mut() else {
                return Err(internal_error("empty build stack"));
            };
            if let Some(&child) = frame.children.get(frame.built.len()) {
                if stack.len() >= self.max_depth {
                    return Err(PickleError::LimitExceeded(format!(
                        "nesting deeper than {} levels (or a cyclic structure)",
                        self.max_depth
                    )));
                }
                let child_frame = self.enter(child)?;
                stack.push(child_frame);
                continue;
            }
            let Some(done) = stack.pop() else {
                return Err(internal_error("empty build stack"));
            };
            let value = self.assemble(done.node, done.built)?;
            match stack.last_mut() {
                Some(parent) => parent.built.push(value),
                None => return Ok(value),
            }
        }
    }

    /// Starts converting node `id`, charging it against the budget.
    fn enter(&mut self, id: NodeId) -> Result<Frame<'m>, PickleError> {
        self.nodes_left = self.nodes_left.checked_sub(1).ok_or_else(|| {
            PickleError::LimitExceeded("too many values in the unpickled tree".to_owned())
        })?;
        let arena: &'m [Node] = self.arena;
        let node = arena
            .get(id)
            .ok_or_else(|| internal_error("dangling object reference"))?;
        let children = child_ids(node);
        Ok(Frame {
            node,
            built: Vec::with_capacity(children.len()),
            children,
        })
    }

    /// Builds a node's value from its converted children.
    fn assemble(&mut self, node: &Node, built: Vec<Value>) -> Result<Value, PickleError> {
        let mut children = built.into_iter();
        let value = match node {
            Node::None => Value::None,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Int(*i),
            Node::BigInt(bytes) => Value::BigInt(self.copy_bytes(bytes)?),
            Node::Float(f) => Value::Float(*f),
            Node::String(text) => Value::String(self.copy_string(text)?),
            Node::Bytes(bytes) => Value::Bytes(self.copy_bytes(bytes)?),
            Node::Tuple(_) => Value::Tuple(children.collect()),
            Node::List(_) => Value::List(children.collect()),
            Node::Set(_) => Value::Set(children.collect()),
            Node::FrozenSet(_) => Value::FrozenSet(children.collect()),
            Node::Dict(_) => Value::Dict(pair_up_values(children)),
            Node::Global { .. } => match (children.next(), children.next()) {
                (Some(Value::String(module)), Some(Value::String(name))) => {
                    Value::Global { module, name }
                }
                _ => return Err(internal_error("global name is not a string")),
            },
            Node::Object(object) => Value::Object(Box::new(assemble_object(object, children)?)),
            Node::PersistentId(_) => match children.next() {
                Some(pid) => Value::PersistentId(Box::new(pid)),
                None => return Err(internal_error("persistent id without a value")),
            },
        };
        Ok(value)
    }

    fn charge_bytes(&mut self, len: usize) -> Result<(), PickleError> {
        self.bytes_left = self.bytes_left.checked_sub(len).ok_or_else(|| {
            PickleError::LimitExceeded("too many string bytes in the unpickled tree".to_owned())
        })?;
        Ok(())
    }

    fn copy_string(&mut self, text: &str) -> Result<String, PickleError> {
        self.charge_bytes(text.len())?;
        Ok(text.to_owned())
    }

    fn copy_bytes(&mut self, bytes: &[u8]) -> Result<Vec<u8>, PickleError> {
        self.charge_bytes(bytes.len())?;
        Ok(bytes.to_vec())
    }
}

fn pair_up_values(mut values: impl Iterator<Item = Value>) -> Vec<(Value, Value)> {
    let mut pairs = Vec::new();
    while let (Some(key), Some(value)) = (values.next(), values.next()) {
        pairs.push((key, value));
    }
    pairs
}

/// Rebuilds an [`Object`] from children in [`child_ids`] order.
fn assemble_object(
    object: &ObjectNode,
    mut children: impl Iterator<Item = Value>,
) -> Result<Object, PickleError> {
    let missing = || internal_error("object child missing");
    let callable = children.next().ok_or_else(missing)?;
    let args = children.next().ok_or_else(missing)?;
    let state = match object.state {
        Some(_) => Some(children.next().ok_or_else(missing)?),
        None => None,
    };
    let list_items: Vec<Value> = children.by_ref().take(object.list_items.len()).collect();
    let dict_items = pair_up_values(children);
    if list_items.len() != object.list_items.len() || dict_items.len() != object.dict_items.len() {
        return Err(missing());
    }
    Ok(Object {
        constructor: object.constructor,
        callable,
        args,
        list_items,
        dict_items,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    /// `pickle.dumps(..., protocol=4)` of
    /// `{'a': [1, -2, 2**70, -300, 70000, 1.5, b'xy', (None, True, False)],
    ///   'b': frozenset(), 'c': {1, 2}, 'big': 'ééé',
    ///   'od': collections.OrderedDict([('k', 1)])}`.
    const PROTOCOL_4: &[u8] = b"\x80\x04\x95\x8b\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94]\x94(K\x01J\xfe\xff\xff\xff\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00@J\xd4\xfe\xff\xffJp\x11\x01\x00G?\xf8\x00\x00\x00\x00\x00\x00C\x02xy\x94N\x88\x89\x87\x94e\x8c\x01b\x94(\x91\x94\x8c\x01c\x94\x8f\x94(K\x01K\x02\x90\x8c\x03big\x94\x8c\x06\xc3\xa9\xc3\xa9\xc3\xa9\x94\x8c\x02od\x94\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94\x8c\x01k\x94K\x01su.";

    #[test]
    fn parses_a_python_protocol_4_pickle() {
        let mut big = vec![0u8; 9];
        big[8] = 0x40;
        let expected = Value::Dict(vec![
            (
                string("a"),
                Value::List(vec![
                    Value::Int(1),
                    Value::Int(-2),
                    Value::BigInt(big),
                    Value::Int(-300),
                    Value::Int(70000),
                    Value::Float(1.5),
                    Value::Bytes(b"xy".to_vec()),
                    Value::Tuple(vec![Value::None, Value::Bool(true), Value::Bool(false)]),
                ]),
            ),
            (string("b"), Value::FrozenSet(Vec::new())),
            (string("c"), Value::Set(vec![Value::Int(1), Value::Int(2)])),
            (string("big"), string("ééé")),
            (
                string("od"),
                Value::Object(Box::new(Object {
                    constructor: Constructor::Reduce,
                    callable: Value::Global {
                        module: "collections".to_owned(),
                        name: "OrderedDict".to_owned(),
                    },
                    args: Value::Tuple(Vec::new()),
                    list_items: Vec::new(),
                    dict_items: vec![(string("k"), Value::Int(1))],
                    state: None,
                })),
            ),
        ]);
        assert_eq!(parse(PROTOCOL_4).unwrap(), expected);
    }

    #[test]
    fn memo_shares_objects_mutated_after_storing() {
        // d = {}; memo[0] = d; l = [d, d]; d['k'] = 1 (after the GETs).
        let pickle = b"\x80\x02}q\x00]q\x01(h\x00h\x00eh\x00X\x01\x00\x00\x00kK\x01s0.";
        let dict = Value::Dict(vec![(string("k"), Value::Int(1))]);
        assert_eq!(
            parse(pickle).unwrap(),
            Value::List(vec![dict.clone(), dict])
        );
    }

    #[test]
    fn build_and_persistent_ids_are_recorded() {
        // cmod\nCls\n ) R (state) b, inside a BINPERSID-wrapped tuple.
        let pickle = b"\x80\x02cmod\nCls\n)RK\x07bX\x03\x00\x00\x00pidQ\x86.";
        let Value::Tuple(items) = parse(pickle).unwrap() else {
            panic!("expected a tuple");
        };
        let object = items[0].as_object().unwrap();
        assert_eq!(object.global(), Some(("mod", "Cls")));
        assert_eq!(object.state, Some(Value::Int(7)));
        assert_eq!(items[1], Value::PersistentId(Box::new(string("pid"))));
    }

    #[test]
    fn small_integer_and_text_opcodes() {
        assert_eq!(parse(b"I01\n.").unwrap(), Value::Bool(true));
        assert_eq!(parse(b"I-42\n.").unwrap(), Value::Int(-42));
        assert_eq!(parse(b"\x8a\x00.").unwrap(), Value::Int(0));
        assert_eq!(parse(b"\x8a\x01\xff.").unwrap(), Value::Int(-1));
        assert_eq!(
            parse(b"\x8b\x02\x00\x00\x00\x00\x01.").unwrap(),
            Value::Int(256)
        );
        assert_eq!(parse(b"U\x02hi.").unwrap(), Value::Bytes(b"hi".to_vec()));
        assert_eq!(
            parse(b"T\x01\x00\x00\x00x.").unwrap(),
            Value::Bytes(b"x".to_vec())
        );
        assert_eq!(
            parse(b"\x8d\x01\x00\x00\x00\x00\x00\x00\x00z.").unwrap(),
            string("z")
        );
        assert_eq!(
            parse(b"\x8e\x01\x00\x00\x00\x00\x00\x00\x00z.").unwrap(),
            Value::Bytes(b"z".to_vec())
        );
        assert_eq!(
            parse(b"(K\x01K\x02l.").unwrap(),
            Value::List(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(
            parse(b"(K\x01K\x02d.").unwrap(),
            Value::Dict(vec![(Value::Int(1), Value::Int(2))])
        );
        assert_eq!(parse(b"N(K\x011.").unwrap(), Value::None);
        assert_eq!(parse(b"NK\x010.").unwrap(), Value::None);
        assert_eq!(
            parse(b"N2\x86.").unwrap(),
            Value::Tuple(vec![Value::None, Value::None])
        );
        assert_eq!(parse(b"N\x94\x94h\x01.").unwrap(), Value::None);
        assert_eq!(
            parse(b"Nr\x05\x00\x00\x00j\x05\x00\x00\x00.").unwrap(),
            Value::None
        );
    }

    #[test]
    fn little_endian_integers() {
        assert_eq!(little_endian_to_i64(&[]), Some(0));
        assert_eq!(little_endian_to_i64(&[0x80]), Some(-128));
        assert_eq!(little_endian_to_i64(&[0xff, 0x00]), Some(255));
        let min = [0, 0, 0, 0, 0, 0, 0, 0x80];
        assert_eq!(little_endian_to_i64(&min), Some(i64::MIN));
        assert_eq!(
            little_endian_to_i64(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff]),
            Some(i64::MIN)
        );
        assert_eq!(
            little_endian_to_i64(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0x00]),
            None
        );
        assert_eq!(
            little_endian_to_i64(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            Some(1)
        );
    }

    #[test]
    fn unknown_and_unsupported_opcodes_are_named() {
        assert_eq!(
            parse(b"\x80\x02\xff."),
            Err(PickleError::UnsupportedOpcode {
                opcode: 0xff,
                name: "unknown",
                offset: 2,
            })
        );
        let error = parse(b"S'text'\n.").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unsupported pickle opcode 0x53 (STRING) at offset 0"
        );
    }

    #[test]
    fn malformed_pickles_are_errors() {
        let cases: &[&[u8]] = &[
            b"",
            b"\x80",
            b"\x80\x06N.",
            b"\x80\x02N",
            b".",
            b"t.",
            b"(t\x86.",
            b"Na.",
            b"N]a.",
            b"}K\x01s.",
            b"(K\x01d.",
            b"N)b.",
            b"NNR",
            b"h\x05.",
            b"j\x05\x00\x00\x00.",
            b"q\x00.",
            b"X\xff\xff\xff\xff",
            b"X\x02\x00\x00\x00\xff\xfe.",
            b"T\xff\xff\xff\xff.",
            b"\x8b\xff\xff\xff\x7f.",
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff.",
            b"\x95\xff\xff\xff\xff\xff\xff\xff\x7f.",
            b"cmodule_without_newline",
            b"K\x01K\x02\x93.",
            b"IABC\n.",
            b"(N\x90.",
            b"1.",
        ];
        for case in cases {
            assert!(parse(case).is_err(), "{case:?} parsed");
        }
    }

    #[test]
    fn marks_hide_lower_stack_entries() {
        // `(` then POP must not reach below the mark...
        assert!(parse(b"N(0.").is_ok());
        // ...and TUPLE1 cannot take an item from below the mark.
        assert!(parse(b"N(\x85.").is_err());
    }

    #[test]
    fn deep_list_nesting_is_rejected_cleanly() {
        let depth = 100_000;
        let mut pickle = vec![b'\x80', 2];
        pickle.extend(std::iter::repeat_n(b']', depth));
        pickle.extend(std::iter::repeat_n(b'a', depth - 1));
        pickle.push(b'.');
        assert!(matches!(parse(&pickle), Err(PickleError::LimitExceeded(_))));
    }

    #[test]
    fn deep_mark_nesting_is_rejected_cleanly() {
        let depth = 100_000;
        let mut pickle = vec![b'\x80', 2];
        pickle.extend(std::iter::repeat_n(b'(', depth));
        pickle.push(b'N');
        pickle.extend(std::iter::repeat_n(b't', depth));
        pickle.push(b'.');
        assert!(matches!(parse(&pickle), Err(PickleError::LimitExceeded(_))));
        // Unclosed marks are harmless: the result is whatever STOP pops.
        let mut open = vec![b'('; depth];
        open.extend_from_slice(b"N.");
        assert_eq!(parse(&open).unwrap(), Value::None);
    }

    #[test]
    fn nesting_just_below_the_limit_is_accepted() {
        let depth = Limits::default().max_depth - 1;
        let mut pickle = Vec::new();
        pickle.extend(std::iter::repeat_n(b']', depth));
        pickle.extend(std::iter::repeat_n(b'a', depth - 1));
        pickle.push(b'.');
        let mut value = parse(&pickle).unwrap();
        let mut levels = 1;
        while let Value::List(mut items) = value {
            match items.pop() {
                Some(inner) => {
                    levels += 1;
                    value = inner;
                }
                None => break,
            }
        }
        assert_eq!(levels, depth);
    }

    #[test]
    fn cycles_are_rejected() {
        // l = []; l.append(l)
        let pickle = b"]q\x00h\x00a.";
        assert!(matches!(parse(pickle), Err(PickleError::LimitExceeded(_))));
    }

    #[test]
    fn exponential_sharing_is_bounded() {
        // x = []; 64 times: x = (x, x). 2**64 nodes if copied naively.
        let mut pickle = b"]q\x00".to_vec();
        for _ in 0..64 {
            pickle.extend_from_slice(b"h\x00h\x00\x86q\x00");
        }
        pickle.push(b'.');
        assert!(matches!(parse(&pickle), Err(PickleError::LimitExceeded(_))));
    }

    #[test]
    fn repeated_big_strings_are_bounded() {
        // One 100 kB byte string referenced 20,000 times: 2 GB if copied.
        let mut pickle = b"B".to_vec();
        pickle.extend_from_slice(&100_000u32.to_le_bytes());
        pickle.extend(std::iter::repeat_n(0u8, 100_000));
        pickle.extend_from_slice(b"q\x000(");
        for _ in 0..20_000 {
            pickle.extend_from_slice(b"h\x00");
        }
        pickle.extend_from_slice(b"l.");
        assert!(matches!(parse(&pickle), Err(PickleError::LimitExceeded(_))));
    }

    #[test]
    fn node_limit_is_enforced_while_parsing() {
        let limits = Limits {
            max_nodes: 10,
            ..Limits::default()
        };
        let mut pickle = b"(".to_vec();
        pickle.extend(std::iter::repeat_n(b'N', 11));
        pickle.extend_from_slice(b"l.");
        assert!(matches!(
            parse_with_limits(&pickle, limits),
            Err(PickleError::LimitExceeded(_))
        ));
    }

    #[test]
    fn mutated_pickles_never_panic() {
        let mut state: u64 = 7;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for _ in 0..5000 {
            let mut pickle = PROTOCOL_4.to_vec();
            let at = next() % pickle.len();
            pickle[at] = next() as u8;
            if next() % 5 == 0 {
                pickle.truncate(next() % pickle.len());
            }
            let _ = parse(&pickle);
        }
    }
}
