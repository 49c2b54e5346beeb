#!/usr/bin/env python3
"""Converts between real .npz archives and the `npz_members` fuzz input format
(see fuzz/src/lib.rs, npz_from_members).

  npz_members.py to-members ARCHIVE.npz... OUT_DIR   # seeds for corpus/npz_members
  npz_members.py to-npz INPUT OUT.npz                # a found input as a real archive
"""
import io
import os
import sys
import zipfile

NAMES = ["sequences", "cluster_ids", "lengths", "starts", "ends", "ids",
         "train_sequence", "train_cluster_id", "test_sequences", "test_cluster_ids"]
SEPARATOR = b"\n@@\n"


def to_members(path):
    with zipfile.ZipFile(path) as z:
        members = []
        for info in z.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name not in NAMES:
                continue
            selector = NAMES.index(name) + (128 if info.compress_type == zipfile.ZIP_DEFLATED else 0)
            members.append(bytes([selector]) + z.read(info))
    return SEPARATOR.join(members)


def to_npz(data):
    buffer = io.BytesIO()
    seen = set()
    with zipfile.ZipFile(buffer, "w") as z:
        for member in data.split(SEPARATOR):
            if not member:
                continue
            selector, npy = member[0], member[1:]
            name = NAMES[selector % len(NAMES)] + ".npy"
            if name in seen:
                continue
            seen.add(name)
            method = zipfile.ZIP_DEFLATED if selector >= 128 else zipfile.ZIP_STORED
            z.writestr(zipfile.ZipInfo(name), npy, compress_type=method)
    return buffer.getvalue()


if __name__ == "__main__":
    if sys.argv[1] == "to-members":
        out = sys.argv[-1]
        os.makedirs(out, exist_ok=True)
        for path in sys.argv[2:-1]:
            try:
                data = to_members(path)
            except (zipfile.BadZipFile, OSError, KeyError):
                continue
            if data:
                with open(os.path.join(out, os.path.basename(path) + ".members"), "wb") as f:
                    f.write(data)
    elif sys.argv[1] == "to-npz":
        with open(sys.argv[2], "rb") as f:
            data = f.read()
        with open(sys.argv[3], "wb") as f:
            f.write(to_npz(data))
    else:
        sys.exit(__doc__)
