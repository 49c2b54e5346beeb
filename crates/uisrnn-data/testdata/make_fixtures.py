"""Generates the npz fixtures used by the tests of `npz.rs`.

Run with numpy installed, from any directory:

    python3 make_fixtures.py

Every value is deterministic (no random numbers), so the Rust tests can check
exact values: row r of the concatenated sequences holds r + 0.25 * c in
column c (D = 4).
"""

import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
D = 4
LENGTHS = [2, 3, 1]
N = sum(LENGTHS)
LABELS = ["a", "bb", "a", "ccc", "bb", "spk_é"]


def rows(n, d=D, offset=0):
    """Rows offset..offset+n, value r + 0.25 * c."""
    r = np.arange(offset, offset + n, dtype=np.float64)[:, None]
    c = np.arange(d, dtype=np.float64)[None, :]
    return r + 0.25 * c


def path(name):
    return os.path.join(HERE, name)


def main():
    seqs = rows(N)
    labels = np.array(LABELS)  # dtype <U5
    lengths = np.array(LENGTHS, dtype=np.int64)

    # 1. Canonical, float64, stored (np.savez).
    np.savez(path("canonical_f64.npz"), sequences=seqs, cluster_ids=labels, lengths=lengths)

    # 2. Canonical, float32, deflate (np.savez_compressed), int32 lengths.
    np.savez_compressed(
        path("canonical_f32_compressed.npz"),
        sequences=seqs.astype(np.float32),
        cluster_ids=labels,
        lengths=lengths.astype(np.int32),
    )

    # 3. Canonical with times and ids.
    starts = np.arange(N, dtype=np.float64) * 0.5
    ends = starts + 0.4
    np.savez(
        path("canonical_times_ids.npz"),
        sequences=seqs,
        cluster_ids=labels,
        lengths=lengths,
        starts=starts,
        ends=ends,
        ids=np.array(["first", "second", "third"]),
    )

    # 4. Canonical without labels and lengths: one unlabeled sequence.
    np.savez(path("canonical_unlabeled.npz"), sequences=rows(3))

    # 5. Reference toy training layout.
    np.savez(
        path("toy_train.npz"),
        train_sequence=rows(5),
        train_cluster_id=np.array(["0_1", "0_1", "0_2", "0_1", "0_2"]),
    )

    # 6. Reference toy testing layout: M=2 sequences of T=3 rows.
    test_sequences = np.stack([rows(3), rows(3, offset=3)])
    test_ids = np.array([["1_0", "1_0", "1_1"], ["2_0", "2_1", "2_1"]])
    np.savez(path("toy_test.npz"), test_sequences=test_sequences, test_cluster_ids=test_ids)

    # 7. Fortran-ordered and big-endian arrays.
    np.savez(
        path("fortran_bigendian.npz"),
        test_sequences=np.asfortranarray(test_sequences.astype(">f8")),
        test_cluster_ids=np.asfortranarray(test_ids.astype(">U3")),
    )

    # 8. Pickled object array.
    np.savez(
        path("pickled.npz"),
        sequences=np.array([np.zeros((2, 3)), np.zeros((3, 3))], dtype=object),
    )

    # 9. Valid npz with unrelated arrays only.
    np.savez(path("unrelated.npz"), weights=np.zeros(3), bias=np.zeros(1))

    # 10. Not a zip archive.
    with open(path("not_a_zip.npz"), "wb") as f:
        f.write(b"this is not a zip archive, just some text\n" * 4)

    # 11. Truncated npz: the first half of a valid archive.
    with open(path("canonical_f64.npz"), "rb") as f:
        data = f.read()
    with open(path("truncated.npz"), "wb") as f:
        f.write(data[: len(data) // 2])

    # 12. Corrupt member: a byte of the stored float data flipped (CRC mismatch).
    corrupt = bytearray(data)
    marker = rows(N).tobytes()[:16]
    at = corrupt.find(marker)
    assert at > 0
    corrupt[at + 3] ^= 0xFF
    with open(path("corrupt_member.npz"), "wb") as f:
        f.write(bytes(corrupt))


if __name__ == "__main__":
    main()
