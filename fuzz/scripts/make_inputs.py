#!/usr/bin/env python3
"""Writes the small hand-made inputs under fuzz/regressions/ (Python 3 standard library
only; no torch or numpy needed).

- reference_file/valid_tiny.uisrnn: a reference `.uisrnn` model (torch.save zip layout,
  pickle protocol 2, the same opcodes as tests/fixtures/reference/model.uisrnn) with
  observation_dim 4, hidden size 3, depth 1. Loads, and seeds the reference targets.
- pickle/valid_tiny.pkl: its data.pkl.
- hand-made edge cases for each reader (see EDGE CASES below).

Run from anywhere: python3 fuzz/scripts/make_inputs.py
"""
import io
import json
import os
import struct
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "regressions")
D, H = 4, 3


class Pickle:
    """A minimal protocol-2 pickle writer, opcode by opcode."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")
        self.memo = 0

    def op(self, code, payload=b""):
        self.out += code + payload
        return self

    def put(self):
        self.op(b"q", bytes([self.memo]) if self.memo < 256 else b"")
        self.memo += 1
        return self

    def unicode(self, text):
        data = text.encode("utf-8")
        return self.op(b"X", struct.pack("<I", len(data)) + data)

    def int(self, value):
        if 0 <= value < 256:
            return self.op(b"K", bytes([value]))
        if 0 <= value < 65536:
            return self.op(b"M", struct.pack("<H", value))
        return self.op(b"J", struct.pack("<i", value))

    def float(self, value):
        return self.op(b"G", struct.pack(">d", value))

    def glob(self, module, name):
        return self.op(b"c", f"{module}\n{name}\n".encode())

    def stop(self):
        return bytes(self.out + b".")


def floats(count, scale):
    return [scale * ((i * 37 % 17) - 8) / 8.0 for i in range(count)]


def tensor(p, key, shape, storages):
    """_rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), 0, shape, stride, False, OrderedDict())."""
    numel = 1
    for d in shape:
        numel *= d
    storages[key] = struct.pack(f"<{numel}f", *floats(numel, 0.1))
    strides = []
    step = 1
    for d in reversed(shape):
        strides.insert(0, step)
        step *= d
    p.glob("torch._utils", "_rebuild_tensor_v2")
    p.op(b"(").op(b"(").unicode("storage").glob("torch", "FloatStorage").unicode(key)
    p.unicode("cpu").int(numel).op(b"t").op(b"Q").int(0)
    p.op(b"(")
    for d in shape:
        p.int(d)
    p.op(b"t").op(b"(")
    for s in strides:
        p.int(s)
    p.op(b"t").op(b"\x89").glob("collections", "OrderedDict").op(b")").op(b"R")
    p.op(b"t").op(b"R")


def ndarray(p, shape, values):
    """numpy._core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD (1, shape, dtype, False, data)."""
    p.glob("numpy._core.multiarray", "_reconstruct").glob("numpy", "ndarray")
    p.int(0).op(b"\x85").glob("_codecs", "encode").unicode("b").unicode("latin1")
    p.op(b"\x86").op(b"R").op(b"\x87").op(b"R")
    p.op(b"(").int(1).op(b"(")
    for d in shape:
        p.int(d)
    p.op(b"t")
    p.glob("numpy", "dtype").unicode("f4").op(b"\x89").op(b"\x88").op(b"\x87").op(b"R")
    p.op(b"(").int(3).unicode("<").op(b"N").op(b"N").op(b"N")
    p.int(-1).int(-1).int(0).op(b"t").op(b"b")
    p.op(b"\x89").glob("_codecs", "encode")
    p.unicode(struct.pack(f"<{len(values)}f", *values).decode("latin1"))
    p.unicode("latin1").op(b"\x86").op(b"R")
    p.op(b"t").op(b"b")


def model_pickle(storages, sigma2=None, init_hidden_shape=(1, 1, H), extra=None):
    p = Pickle()
    p.op(b"}").op(b"(")
    p.unicode("rnn_state_dict").glob("collections", "OrderedDict").op(b")").op(b"R").op(b"(")
    names = [
        ("gru.weight_ih_l0", (3 * H, D)),
        ("gru.weight_hh_l0", (3 * H, H)),
        ("gru.bias_ih_l0", (3 * H,)),
        ("gru.bias_hh_l0", (3 * H,)),
        ("linear_mean1.weight", (H, H)),
        ("linear_mean1.bias", (H,)),
        ("linear_mean2.weight", (D, H)),
        ("linear_mean2.bias", (D,)),
    ]
    for index, (name, shape) in enumerate(names):
        p.unicode(name)
        tensor(p, str(index), shape, storages)
    p.op(b"u")
    p.unicode("rnn_init_hidden")
    n = 1
    for d in init_hidden_shape:
        n *= d
    ndarray(p, init_hidden_shape, floats(n, 0.01))
    p.unicode("transition_bias").float(0.125)
    p.unicode("transition_bias_denominator").int(4628)
    p.unicode("crp_alpha").float(1.0)
    p.unicode("sigma2")
    ndarray(p, (D,), sigma2 if sigma2 is not None else [0.05, 0.06, 0.07, 0.08])
    if extra:
        extra(p)
    p.op(b"u")
    return p.stop()


def torch_zip(pickle, storages, prefix="model"):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr(f"{prefix}/data.pkl", pickle)
        z.writestr(f"{prefix}/byteorder", "little")
        for key, data in storages.items():
            z.writestr(f"{prefix}/data/{key}", data)
        z.writestr(f"{prefix}/version", "3\n")
    return buffer.getvalue()


def write(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata, header_extra=None):
    """A safetensors file: u64 header length, JSON header, data."""
    header = {"__metadata__": metadata}
    data = bytearray()
    for name, (shape, values) in tensors.items():
        raw = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if header_extra:
        header_extra(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def npy_raw(header_text, data=b""):
    """An .npy file (version 1.0) with the given header text."""
    header = header_text.encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def npy(descr, shape, data):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ") + ")" if len(shape) != 1 else f"({shape[0]},)"
    if len(shape) > 1:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    return npy_raw(f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}", data)


def npz(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in members.items():
            z.writestr(f"{name}.npy", data)
    return buffer.getvalue()


def main():
    storages = {}
    pickle = model_pickle(storages)
    valid = torch_zip(pickle, storages)
    write("reference_file", "valid_tiny.uisrnn", valid)
    write("pickle", "valid_tiny.pkl", pickle)

    # EDGE CASES ---------------------------------------------------------------------
    # Reference files.
    write("reference_file", "truncated_tiny.uisrnn", valid[: len(valid) // 2])
    huge = {}
    def huge_tensor(p):
        # A tensor whose storage claims 2**40 float elements and shape (2**20, 2**20).
        p.unicode("rnn_state_dict").glob("collections", "OrderedDict").op(b")").op(b"R").op(b"(")
        p.unicode("gru.weight_ih_l0").glob("torch._utils", "_rebuild_tensor_v2")
        p.op(b"(").op(b"(").unicode("storage").glob("torch", "FloatStorage").unicode("0")
        p.unicode("cpu").op(b"\x8a\x06" + (2**40).to_bytes(6, "little")).op(b"t").op(b"Q").int(0)
        p.op(b"(").op(b"J", struct.pack("<i", 2**20)).op(b"J", struct.pack("<i", 2**20)).op(b"t")
        p.op(b"(").op(b"J", struct.pack("<i", 2**20)).int(1).op(b"t")
        p.op(b"\x89").glob("collections", "OrderedDict").op(b")").op(b"R").op(b"t").op(b"R").op(b"u")
    huge_pickle = model_pickle(huge, extra=huge_tensor)
    write("reference_file", "huge_tensor_claim.uisrnn", torch_zip(huge_pickle, huge))
    write("pickle", "huge_tensor_claim.pkl", huge_pickle)
    # A zero-stride view: shape (2**30,) over a storage of one element.
    def broadcast(p):
        p.unicode("rnn_state_dict").glob("collections", "OrderedDict").op(b")").op(b"R").op(b"(")
        p.unicode("gru.weight_ih_l0").glob("torch._utils", "_rebuild_tensor_v2")
        p.op(b"(").op(b"(").unicode("storage").glob("torch", "FloatStorage").unicode("0")
        p.unicode("cpu").int(1).op(b"t").op(b"Q").int(0)
        p.op(b"(").op(b"J", struct.pack("<i", 2**30)).op(b"t").op(b"(").int(0).op(b"t")
        p.op(b"\x89").glob("collections", "OrderedDict").op(b")").op(b"R").op(b"t").op(b"R").op(b"u")
    write("pickle", "zero_stride_view.pkl", model_pickle({}, extra=broadcast))
    # init_hidden of shape (0, 1, 3): depth 0.
    write("pickle", "depth_zero.pkl", model_pickle({}, init_hidden_shape=(0, 1, H)))
    # sigma2 with a NaN and a negative value.
    write("pickle", "bad_sigma2.pkl", model_pickle({}, sigma2=[float("nan"), -1.0, 0.1, 0.1]))

    # Pickles.
    # Billion laughs: a list, then 40 times a list holding the previous one twice.
    p = Pickle()
    p.op(b"]").op(b"q", b"\x00")
    for i in range(40):
        p.op(b"(").op(b"h", bytes([i])).op(b"h", bytes([i])).op(b"l").op(b"q", bytes([i + 1]))
    write("pickle", "billion_laughs.pkl", p.stop())
    # 5,000 nested lists (the tree builder allows 1,000 levels).
    write("pickle", "deep_nesting.pkl", b"\x80\x02" + b"(" * 5_000 + b"l" * 5_000 + b".")
    # A list that contains itself.
    write("pickle", "cyclic_list.pkl", b"\x80\x02]q\x00h\x00a.")
    # A byte string that claims 2**63 bytes.
    write("pickle", "huge_length.pkl", b"\x80\x04\x8e" + (2**63).to_bytes(8, "little") + b"ab.")

    # This project's format.
    def weights():
        return {
            "gru.weight_ih_l0": ((3 * H, D), floats(3 * H * D, 0.1)),
            "gru.weight_hh_l0": ((3 * H, H), floats(3 * H * H, 0.1)),
            "gru.bias_ih_l0": ((3 * H,), floats(3 * H, 0.1)),
            "gru.bias_hh_l0": ((3 * H,), floats(3 * H, 0.1)),
            "linear_mean1.weight": ((H, H), floats(H * H, 0.1)),
            "linear_mean1.bias": ((H,), floats(H, 0.1)),
            "linear_mean2.weight": ((D, H), floats(D * H, 0.1)),
            "linear_mean2.bias": ((D,), floats(D, 0.1)),
            "rnn_init_hidden": ((1, 1, H), [0.0] * H),
            "sigma2": ((D,), [0.1] * D),
        }

    def metadata(**config):
        model_config = {"observation_dim": D, "rnn_hidden_size": H, "rnn_depth": 1,
                        "rnn_dropout": 0.2, "transition_bias": None,
                        "crp_alpha": {"fixed": 1.0}, "sigma2": None}
        model_config.update(config)
        return {"format": "uisrnn-model", "format_version": "1",
                "model_config": json.dumps(model_config),
                "scalars": json.dumps({"transition_bias": 0.125,
                                       "transition_bias_denominator": 10.0,
                                       "crp_alpha": 1.0})}

    write("model_file", "handmade_valid.safetensors", safetensors(weights(), metadata()))
    # GRU depth 2**40 in the configuration, with the weights of a one-layer model.
    write("model_file", "crash-huge_depth.safetensors", safetensors(weights(), metadata(rnn_depth=2**40)))
    # Hidden size 2**63 + 1: 3 * H overflows usize.
    write("model_file", "crash-hidden_size_overflow.safetensors",
          safetensors(weights(), metadata(rnn_hidden_size=2**63 + 1)))
    # A tensor whose data_offsets point past the end of the file.
    def past_end(header):
        header["sigma2"]["data_offsets"] = [0, 1 << 40]
    write("model_file", "offsets_past_end.safetensors", safetensors(weights(), metadata(), past_end))
    # A header length of 2**63.
    write("model_file", "huge_header_length.safetensors",
          struct.pack("<Q", 2**63) + b'{"__metadata__":{"format":"uisrnn-model"}}')
    valid_st = safetensors(weights(), metadata())
    write("model_file", "truncated.safetensors", valid_st[: len(valid_st) - 20])
    write("model_file", "tiny_reference.uisrnn", valid)

    # Sequence files (npz).
    write("npz_reader", "valid_minimal.npz", npz({"sequences": npy("<f8", (2, 1), struct.pack("<2d", 0.5, 1.5)),
                                                  "cluster_ids": npy("<U1", (2,), "ab".encode("utf-32-le")),
                                                  "lengths": npy("<i8", (1,), struct.pack("<q", 2))}))
    # A shape whose byte count overflows usize.
    write("npz_reader", "shape_overflow.npz", npz({"sequences": npy("<f8", (2**62, 2**62), b"")}))
    # A shape of 10**12 x 10**6 elements with 8 bytes of data.
    write("npz_reader", "shape_without_data.npz", npz({"sequences": npy("<f8", (10**12, 10**6), b"\0" * 8)}))
    # A header nested 50 levels deep.
    write("npz_reader", "deep_header.npz", npz({"sequences": npy_raw("{'descr': '<f8', 'fortran_order': False, 'shape': "
                                                                      + "(" * 50 + ")" * 50 + ", }")}))
    # Lengths that overflow when summed.
    write("npz_reader", "lengths_overflow.npz", npz({"sequences": npy("<f8", (1, 1), struct.pack("<d", 1.0)),
                                                     "lengths": npy("<i8", (2,), struct.pack("<2q", 2**63 - 1, 2**63 - 1))}))
    # A deflated member of 4 MiB of zeros (about 4 KiB compressed): a small zip bomb.
    write("npz_reader", "deflate_bomb.npz", npz({"sequences": b"\0" * (4 << 20)}, zipfile.ZIP_DEFLATED))
    # Toy testing layout with zero sequences of zero steps.
    write("npz_reader", "toy_test_empty.npz", npz({"test_sequences": npy("<f4", (0, 0, 3), b"")}))
    # Labels that are not valid code points (UTF-32 unit 0x110000).
    write("npz_reader", "bad_code_point.npz", npz({"train_sequence": npy("<f8", (1, 1), struct.pack("<d", 1.0)),
                                                   "train_cluster_id": npy("<U1", (1,), struct.pack("<I", 0x110000))}))

    # RTTM.
    write("rttm", "edge_numbers.rttm", (
        "SPEAKER f 1 1e308 1e308 <NA> <NA> A <NA> <NA>\n"
    ).encode())
    write("rttm", "valid_mixed.rttm", (
        ";; comment\r\n"
        "SPKR-INFO f 1 <NA> <NA> <NA> unknown A <NA> <NA>\r\n"
        "SPEAKER f\u00e9 1 -0 0.0004 <NA> <NA> \u00c5 <NA> <NA> extra fields\r\n"
        "SPEAKER\tf\u3000 1   4.9999999 1.7976931348623157e308 <NA> <NA> B\n"
        "\n"
    ).encode())
    write("rttm", "nan_onset.rttm", b"SPEAKER f 1 NaN 1 <NA> <NA> A <NA> <NA>\n")
    write("rttm", "short_line.rttm", b"SPEAKER f 1 0.0\n")


if __name__ == "__main__":
    main()
