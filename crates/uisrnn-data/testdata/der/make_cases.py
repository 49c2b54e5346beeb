"""Builds the DER/JER fixtures that the Rust tests of `der.rs` compare against.

Run from anywhere with a Python that has pyannote.metrics installed:

    python3 -m venv /tmp/dervenv && /tmp/dervenv/bin/pip install pyannote.metrics
    /tmp/dervenv/bin/python make_cases.py

For every case it writes `caseN.ref.rttm` and `caseN.hyp.rttm` beside this script,
scores them with `pyannote.metrics.diarization.DiarizationErrorRate` and
`JaccardErrorRate` (same `collar` and `skip_overlap`, no UEM, so the UEM defaults to
the extent of reference and hypothesis), and writes the expected components to
`cases.json` and, line by line for std-only Rust parsing, to `cases.txt`:

    caseN collar=C skip_overlap=true|false missed=.. false_alarm=.. confusion=..
          correct=.. total=.. der=.. jer=..

Times are written with three decimals (as the Rust writer does) and read back with
`float()`, so both sides score the same numbers. Several files in one RTTM are
scored like pyannote's accumulated ("global") metric: components summed over files.
"""

import json
import random
import warnings
from pathlib import Path

from pyannote.core import Annotation, Segment
from pyannote.database.util import load_rttm
from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

HERE = Path(__file__).resolve().parent


def rttm_lines(turns):
    """turns: list of (file_id, onset, duration, speaker)."""
    return "".join(
        f"SPEAKER {f} 1 {onset:.3f} {duration:.3f} <NA> <NA> {spk} <NA> <NA>\n"
        for f, onset, duration, spk in turns
    )


def read_annotations(path):
    """file_id -> Annotation, one track per line (as pyannote.database's load_rttm)."""
    annotations = {}
    for index, line in enumerate(path.read_text().splitlines()):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        uri, onset, duration, speaker = fields[1], float(fields[3]), float(fields[4]), fields[7]
        annotation = annotations.setdefault(uri, Annotation(uri=uri))
        annotation[Segment(onset, onset + duration), index] = speaker
    return annotations


def score(ref_path, hyp_path, collar, skip_overlap):
    references = read_annotations(ref_path)
    hypotheses = read_annotations(hyp_path)
    der = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    jer = JaccardErrorRate(collar=collar, skip_overlap=skip_overlap)
    for uri in sorted(set(references) | set(hypotheses)):
        reference = references.get(uri, Annotation(uri=uri))
        hypothesis = hypotheses.get(uri, Annotation(uri=uri))
        der(reference, hypothesis)
        jer(reference, hypothesis)
    components = der[:]
    result = {
        "missed": components["missed detection"],
        "false_alarm": components["false alarm"],
        "confusion": components["confusion"],
        "correct": components["correct"],
        "total": components["total"],
        "der": abs(der),
        "jer": abs(jer),
    }
    check_against_load_rttm(ref_path, hyp_path, collar, skip_overlap, result)
    return result


def check_against_load_rttm(ref_path, hyp_path, collar, skip_overlap, expected):
    """The same numbers come out when pyannote.database reads the files itself."""
    references = load_rttm(ref_path)
    hypotheses = load_rttm(hyp_path)
    der = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    for uri in sorted(set(references) | set(hypotheses)):
        der(references.get(uri, Annotation(uri=uri)), hypotheses.get(uri, Annotation(uri=uri)))
    if expected["total"] > 0:
        assert abs(abs(der) - expected["der"]) < 1e-9, (ref_path, abs(der), expected["der"])


def t(onset, end, speaker, file_id="f1"):
    return (file_id, onset, round(end - onset, 3), speaker)


def random_case(seed, n_turns, n_ref_speakers, n_hyp_speakers):
    """A long conversation with occasional overlaps, and a perturbed hypothesis."""
    rng = random.Random(seed)
    reference, hypothesis = [], []
    time = round(rng.uniform(0.0, 2.0), 3)
    for _ in range(n_turns):
        speaker = rng.randrange(n_ref_speakers)
        duration = round(rng.uniform(0.3, 6.0), 3)
        reference.append(("f1", time, duration, f"ref{speaker}"))
        # hypothesis: boundaries jittered, label usually the permuted speaker
        onset = round(max(0.0, time + rng.uniform(-0.4, 0.4)), 3)
        hyp_duration = round(max(0.05, duration + rng.uniform(-0.5, 0.5)), 3)
        hyp_speaker = (speaker + 2) % n_hyp_speakers if rng.random() < 0.8 else rng.randrange(n_hyp_speakers)
        if rng.random() < 0.9:
            hypothesis.append(("f1", onset, hyp_duration, f"sys_{hyp_speaker}"))
        step = duration + rng.uniform(-1.0, 1.5)  # negative gap -> overlap
        time = round(max(time + 0.1, time + step), 3)
    return reference, hypothesis


def cases():
    yield "perfect match", 0.0, False, [t(0, 2, "A"), t(2.5, 5, "B"), t(6, 9, "A")], [
        t(0, 2, "A"), t(2.5, 5, "B"), t(6, 9, "A")]
    yield "speaker permutation", 0.25, False, [t(0, 2, "A"), t(2.5, 5, "B"), t(6, 9, "C")], [
        t(0, 2, "x"), t(2.5, 5, "y"), t(6, 9, "z")]
    yield "missed speech", 0.0, False, [t(0, 4, "A"), t(5, 9, "B")], [t(1, 3, "s1"), t(5, 7.5, "s2")]
    yield "false alarm beyond the reference extent", 0.0, False, [t(1, 4, "A"), t(5, 8, "B")], [
        t(0, 4.5, "s1"), t(5, 8, "s2"), t(9, 11.25, "s2")]
    yield "confusion: one hypothesis speaker for two", 0.0, False, [t(0, 3, "A"), t(3, 7, "B"), t(7, 8, "A")], [
        t(0, 8, "s1")]
    overlapping_ref = [t(0, 5, "A"), t(3, 8, "B"), t(7.5, 12, "C"), t(10, 11, "A")]
    overlapping_hyp = [t(0.2, 4.1, "h1"), t(4.1, 9, "h2"), t(9, 12.3, "h3")]
    yield "overlapping reference speakers", 0.25, False, overlapping_ref, overlapping_hyp
    yield "overlapping reference speakers, skip overlap", 0.25, True, overlapping_ref, overlapping_hyp
    yield "overlapping hypothesis speakers", 0.5, False, [t(0, 6, "A"), t(6, 10, "B")], [
        t(0, 6.4, "h1"), t(4, 10, "h2"), t(8, 9, "h3")]
    yield "more hypothesis speakers than reference", 0.0, False, [t(0, 10, "A"), t(10, 20, "B")], [
        t(0, 3, "h1"), t(3, 7, "h2"), t(7, 10, "h1"), t(10, 14, "h3"), t(14, 20, "h4")]
    yield "more reference speakers than hypothesis", 0.25, False, [
        t(0, 3, "A"), t(3, 6, "B"), t(6, 9, "C"), t(9, 12, "D"), t(12, 13, "A")], [
        t(0, 6.2, "h1"), t(6.2, 13, "h2")]
    yield "turns touching at boundaries", 0.5, True, [
        t(0, 1, "A"), t(1, 2, "B"), t(2, 3, "A"), t(3, 4, "C")], [
        t(0, 1.1, "h1"), t(1.1, 2, "h2"), t(2, 3.2, "h1"), t(3.2, 4, "h3")]
    ref, hyp = random_case(seed=20240611, n_turns=50, n_ref_speakers=4, n_hyp_speakers=5)
    yield "random long case", 0.25, False, ref, hyp
    yield "random long case, no collar, skip overlap", 0.0, True, ref, hyp
    yield "random long case, collar 0.5, skip overlap", 0.5, True, ref, hyp
    ref2, hyp2 = random_case(seed=7, n_turns=30, n_ref_speakers=3, n_hyp_speakers=2)
    yield "two files summed", 0.25, False, ref + [(("f2",) + turn[1:]) for turn in ref2], hyp + [
        (("f2",) + turn[1:]) for turn in hyp2]
    yield "same speaker overlapping itself, skip overlap", 0.25, True, [
        t(0, 4, "A"), t(3, 6, "A"), t(6, 9, "B")], [t(0, 5.5, "h1"), t(5.5, 9, "h2")]
    yield "zero-duration reference turn is ignored", 0.5, False, [
        t(0, 4, "A"), t(5, 5, "B"), t(6, 9, "B")], [t(0, 4.3, "h1"), t(4.3, 9, "h2")]
    yield "empty hypothesis", 0.25, False, [t(0.5, 4, "A"), t(4, 7, "B")], []
    yield "hypothesis starts before the reference", 0.0, True, [t(3, 6, "A"), t(5, 9, "B")], [
        t(0, 5.5, "h1"), t(5.5, 9.5, "h2")]


def main():
    warnings.simplefilter("ignore")
    records, lines = [], []
    for number, (title, collar, skip_overlap, ref, hyp) in enumerate(cases(), start=1):
        name = f"case{number}"
        ref_path = HERE / f"{name}.ref.rttm"
        hyp_path = HERE / f"{name}.hyp.rttm"
        ref_path.write_text(rttm_lines(ref))
        hyp_path.write_text(rttm_lines(hyp))
        expected = score(ref_path, hyp_path, collar, skip_overlap)
        records.append({"name": name, "title": title, "collar": collar,
                        "skip_overlap": skip_overlap, **expected})
        values = " ".join(f"{key}={value!r}" for key, value in expected.items())
        lines.append(f"{name} collar={collar!r} skip_overlap={str(skip_overlap).lower()} {values}")
    (HERE / "cases.json").write_text(json.dumps(records, indent=2) + "\n")
    (HERE / "cases.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
