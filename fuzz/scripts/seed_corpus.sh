#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ (git-ignored) with the seed inputs: the project's small
# valid test files and everything under fuzz/regressions/<target>/ but the crash-*
# files. Safe to re-run: existing corpus entries are kept.
set -euo pipefail
fuzz="$(cd "$(dirname "$0")/.." && pwd)"
root="$(cd "$fuzz/.." && pwd)"
seed() { # seed TARGET FILE...
    local target="$1"; shift
    mkdir -p "$fuzz/corpus/$target"
    for file in "$@"; do
        # crash-* inputs crashed their reader when found: a crashing seed stops libFuzzer.
        case "$(basename "$file")" in crash-*|oom-*) continue ;; esac
        [ -f "$file" ] && cp -n "$file" "$fuzz/corpus/$target/$(basename "$(dirname "$file")")_$(basename "$file")"
    done
    return 0
}
seed npz_reader "$root"/crates/uisrnn-data/testdata/*.npz "$fuzz"/regressions/npz_reader/*
# npz_members: the same archives, as lists of members (see scripts/npz_members.py).
mkdir -p "$fuzz/corpus/npz_members"
python3 "$fuzz/scripts/npz_members.py" to-members "$root"/crates/uisrnn-data/testdata/*.npz \
    "$fuzz"/regressions/npz_reader/*.npz "$fuzz/corpus/npz_members"
seed model_file "$root/tests/fixtures/reference/model.uisrnn" "$fuzz"/regressions/model_file/* \
    "$fuzz"/regressions/reference_file/*
seed reference_file "$root/tests/fixtures/reference/model.uisrnn" "$fuzz"/regressions/reference_file/*
# The pickle target's seeds: the pickles of the committed reference models.
seed pickle "$fuzz"/regressions/pickle/*
python3 - "$root/tests/fixtures/reference/model.uisrnn" "$fuzz/corpus/pickle/fixture_data.pkl" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
    open(sys.argv[2], "wb").write(z.read(name))
PY
seed rttm "$root"/crates/uisrnn-data/testdata/der/*.rttm "$fuzz"/regressions/rttm/*
seed torch_file "$root"/tests/fixtures/torch/*.pt "$fuzz"/regressions/torch_file/*
# audio: tiny encodings of every format (made by ffmpeg from the formats fixture).
seed audio "$fuzz"/regressions/audio/*
for target in npz_reader npz_members model_file reference_file pickle rttm torch_file audio; do
    echo "$target: $(ls "$fuzz/corpus/$target" | wc -l) files"
done
