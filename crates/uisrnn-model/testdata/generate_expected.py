#!/usr/bin/env python3
"""Regenerate the expected values used by the reference-file reader tests.

Standard library only (no numpy): weights.npz is a zip of .npy files, all of
them little-endian float32 in C order, which this script checks.

Inputs:  /work/shared/fixtures/public/weights.npz, scalars.json
Outputs (next to this script):
  expected_weights.bin  the arrays' raw little-endian f32 data, concatenated
                        in the order listed in expected_weights.txt
  expected_weights.txt  one line per entry:
                          tensor <name> <offset_in_f32_elements> <d0,d1,...>
                          scalar <name> <f64 bit pattern, 16 hex digits>
"""
import ast
import json
import os
import struct
import sys
import zipfile

FIXTURES = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/fixtures/public"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_npy(raw):
    assert raw[:6] == b"\x93NUMPY", "not an .npy file"
    major = raw[6]
    if major == 1:
        header_len = struct.unpack("<H", raw[8:10])[0]
        start = 10
    else:
        header_len = struct.unpack("<I", raw[8:12])[0]
        start = 12
    header = ast.literal_eval(raw[start:start + header_len].decode("latin1"))
    assert header["descr"] == "<f4", header
    assert not header["fortran_order"], header
    data = raw[start + header_len:]
    count = 1
    for dim in header["shape"]:
        count *= dim
    assert len(data) == 4 * count, (header, len(data))
    return tuple(header["shape"]), data


def main():
    lines = []
    blob = bytearray()
    with zipfile.ZipFile(os.path.join(FIXTURES, "weights.npz")) as npz:
        for entry in npz.namelist():
            name = entry[:-len(".npy")]
            shape, data = read_npy(npz.read(entry))
            dims = ",".join(str(d) for d in shape)
            lines.append(f"tensor {name} {len(blob) // 4} {dims}")
            blob += data
    with open(os.path.join(FIXTURES, "scalars.json")) as f:
        scalars = json.load(f)
    for name in ("transition_bias", "transition_bias_denominator", "crp_alpha"):
        bits = struct.unpack("<Q", struct.pack("<d", float(scalars[name])))[0]
        lines.append(f"scalar {name} {bits:016x}")
    with open(os.path.join(HERE, "expected_weights.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(HERE, "expected_weights.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
