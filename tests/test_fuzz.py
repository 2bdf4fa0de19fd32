"""Fuzz every reader and every bundle JSON body with structured mutations of the fixture files.

Each example takes one file of a small bundle (a trimmed copy of a fixture: 3 or 4 samples),
mutates it (a key deleted; a value set to NaN, inf, -1, 0, 1e12, a huge int, a string, null, a
list or a nested dict; a list entry duplicated; a header field changed; bytes truncated, flipped
or zeroed), runs ``evalcore run`` and ``evalcore inspect`` in-process on it, restores the file,
and checks the properties issue 11 asks for:

- never a traceback: exit 0 or 2, no exception out of ``cli.main``, no hang;
- exit 2 is one line and leaves no output file;
- exit 0 only with an output whose numbers are all finite and consistent (accuracy within
  [0, 1], the per-class counts summing to the total, predictions pointing at results);
- mutations that always make the input invalid are rejected (exit 2) by both commands: a NaN or
  an infinity where the file had a number, -1 for a size or a rate, a truncated binary file.

Examples per target default to a few so that the file stays fast and deterministic in CI
(``derandomize=True``); set ``EVALCORE_FUZZ_EXAMPLES`` for a longer local run, and
``EVALCORE_FUZZ_LOG=path`` to append one JSON line per example (target, mutation, exit codes,
message) for counting, with ``EVALCORE_FUZZ_KEEP_GOING=1`` to log every failure instead of stopping
at the first, and ``EVALCORE_FUZZ_RANDOM=1`` for new random examples instead of the repeatable ones.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import resource
import shutil
import signal
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalcore.cli import main

EXAMPLES = int(os.environ.get("EVALCORE_FUZZ_EXAMPLES", "0") or 0)
LOG = os.environ.get("EVALCORE_FUZZ_LOG")
#: Set to count every failure of a long run in the log instead of stopping at the first, and ``EVALCORE_FUZZ_RANDOM=1`` for new random examples instead of the repeatable ones.
KEEP_GOING = bool(os.environ.get("EVALCORE_FUZZ_KEEP_GOING"))
#: Set for new random examples on each local run (CI keeps the derandomized, repeatable ones).
RANDOM = bool(os.environ.get("EVALCORE_FUZZ_RANDOM"))
#: Seconds one command may take on a 3-sample bundle before it counts as a hang.
HANG_S = float(os.environ.get("EVALCORE_FUZZ_HANG_S", "60"))
#: Address space one example may add (a mutated size must fail cleanly, not allocate terabytes).
MEMORY_HEADROOM = 3 << 30

# -- the bundles -----------------------------------------------------------------------------------

#: Bundle name -> (fixture, testing samples kept).
BUNDLES = {
    "motion": ("motion", 3),
    "motion-ndjson": ("motion", 3),
    "motion-gmm": ("motion-gmm", 3),
    "regression": ("regression", 3),
    "kws": ("kws", 3),
    "image": ("image", 3),
    "fomo": ("fomo", 3),
    "fomo-bbl": ("fomo", 3),
    "features": ("motion", 3),
}

#: (bundle, file under the bundle or a {sample} placeholder, format).
TARGETS = [
    ("motion", "impulse.json", "json"),
    ("motion", "dsp/2.json", "json"),
    ("motion", "learn/3/metadata.json", "json"),
    ("motion", "learn/4/metadata.json", "json"),
    ("motion", "dataset/info.labels", "json"),
    ("motion", "{sample}", "cbor"),
    ("motion", "learn/3/model.onnx", "bytes"),
    ("motion-ndjson", "dataset/info.labels", "ndjson"),
    ("motion-gmm", "learn/4/gmm.json", "json"),
    ("motion-gmm", "learn/4/metadata.json", "json"),
    ("regression", "{sample}", "json"),
    ("regression", "learn/3/metadata.json", "json"),
    ("kws", "{sample}", "wav"),
    ("kws", "dsp/2.json", "json"),
    ("image", "{sample}", "image"),
    ("image", "impulse.json", "json"),
    ("fomo", "{sample}", "image"),
    ("fomo", "dataset/info.labels", "json"),
    ("fomo", "learn/3/metadata.json", "json"),
    ("fomo-bbl", "dataset/testing/bounding_boxes.labels", "json"),
    ("features", "features/X_testing.npy", "npy"),
    ("features", "features/y_testing.npy", "npy"),
]

#: Keys whose value is a size, a length or a rate: -1 there is never valid.
SIZE_KEYS = {
    "windowSizeMs", "windowIncreaseMs", "classificationWindowIncreaseMs", "frequencyHz", "imageWidth",
    "imageHeight", "interval_ms", "width", "height", "implementationVersion",
}


def _trim(bundle: Path, keep: int) -> list[str]:
    """Keep the first ``keep`` testing samples of ``info.labels`` and no training sample."""
    labels_path = bundle / "dataset" / "info.labels"
    labels = json.loads(labels_path.read_text())
    testing = [f for f in labels["files"] if f["category"] == "testing"][:keep]
    kept = {f["path"] for f in testing}
    for f in labels["files"]:
        if f["path"] not in kept:
            (bundle / "dataset" / f["path"]).unlink(missing_ok=True)
    labels["files"] = testing
    labels_path.write_text(json.dumps(labels, indent=1))
    return [f"dataset/{p}" for p in sorted(kept)]


def _to_ndjson(bundle: Path) -> None:
    path = bundle / "dataset" / "info.labels"
    labels = json.loads(path.read_text())
    lines = ['{"__ndjson":true,"version":1}'] + [json.dumps({"__key": "files", "__item": f}) for f in labels["files"]]
    path.write_text("\n".join(lines) + "\n")


def _to_bounding_boxes_labels(bundle: Path) -> None:
    """The boxes of ``info.labels`` as a ``bounding_boxes.labels`` file in ``dataset/testing``."""
    path = bundle / "dataset" / "info.labels"
    labels = json.loads(path.read_text())
    boxes = {Path(f["path"]).name: f.get("boundingBoxes", []) for f in labels["files"]}
    (bundle / "dataset" / "testing" / "bounding_boxes.labels").write_text(
        json.dumps({"version": 1, "type": "bounding-box-labels", "boundingBoxes": boxes})
    )
    path.unlink()


def _to_features(bundle: Path) -> None:
    """The run's own feature rows of the samples as ``features/``, and no dataset."""
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.engine import RunOptions
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(bundle)
    classes = list(project.learn[0].metadata.class_names)
    featurizer = SampleFeaturizer(project, RunOptions())
    xs, ys = [], []
    for record in load_dataset(project.dataset_dir).records:
        prepared = featurizer.prepare(record)
        xs.append(prepared.features[3][:4])
        ys += [classes.index(e) + 1 if e in classes else 0 for e in prepared.outcome.expected[:4]]
    (bundle / "features").mkdir()
    np.save(bundle / "features" / "X_testing.npy", np.concatenate(xs))
    np.save(bundle / "features" / "y_testing.npy", np.array(ys, dtype=np.int64))
    shutil.rmtree(bundle / "dataset")


def _to_jpeg(path: Path) -> None:
    """Re-encode an image sample as JPEG (the fixtures' ``.jpg`` files hold PNG data)."""
    from PIL import Image

    with Image.open(path) as img:
        rgb = img.convert("RGB")
    rgb.save(path, format="JPEG", quality=90)


@pytest.fixture(scope="module")
def bundles(fixtures_dir, tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Bundle name -> (folder, its sample files), built once per module."""
    root = tmp_path_factory.mktemp("fuzz")
    out = {}
    for name, (fixture, keep) in BUNDLES.items():
        src = fixtures_dir / fixture
        if not (src / "impulse.json").is_file():
            continue
        dst = root / name
        shutil.copytree(src, dst)
        samples = _trim(dst, keep)
        if name == "motion-ndjson":
            _to_ndjson(dst)
        elif name == "fomo-bbl":
            _to_bounding_boxes_labels(dst)
        elif name == "features":
            _to_features(dst)
            samples = []
        elif name == "image":
            _to_jpeg(dst / samples[0])
        out[name] = (dst, samples)
    return out


# -- mutations -------------------------------------------------------------------------------------

#: Value mutations: name -> the value written.
VALUES = {
    "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "-1": -1, "0": 0, "1e12": 1e12,
    "huge-int": 10**30, "string": "x", "null": None, "list": [], "nested": {"a": {"b": {"c": 1}}},
}
NON_FINITE = {"nan", "inf", "-inf"}
#: "deep": the value replaced by 100 000 nested lists (JSON text only; issue 11 saw a traceback).
DEEP_LEVELS = 100_000
_DEEP = "__evalcore_fuzz_deep__"
JSON_KINDS = ["delete", "duplicate", *VALUES, "deep", "truncate", "flip"]
BYTE_KINDS = ["truncate", "flip", "zero"]


def _paths(doc, prefix=()):
    """Every path (tuple of keys and indices) in a JSON-like document, the root included."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*prefix, i))


def _mutate_doc(doc, path: tuple, kind: str):
    """Apply a structured mutation at ``path``; returns (new doc, the value that was there)."""
    doc = copy.deepcopy(doc)
    if not path:
        root = {"delete": None, "deep": _DEEP}.get(kind, VALUES.get(kind, [doc, doc]))
        return copy.deepcopy(root), doc
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    old = parent[key]
    if kind == "delete":
        del parent[key]
    elif kind == "duplicate":
        if isinstance(old, list) and old:
            old.extend(copy.deepcopy(old))
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(old))
        else:
            parent[key] = [old, old]
    elif kind == "deep":
        parent[key] = _DEEP
    else:
        parent[key] = copy.deepcopy(VALUES[kind])
    return doc, old


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _must_reject(kind: str, path: tuple, old) -> str | None:
    """Why this structured mutation always makes the file invalid (None: it may be valid)."""
    if kind in NON_FINITE and _is_number(old):
        return f"{kind} where the file had the number {old!r}"
    if kind == "-1" and path and path[-1] in SIZE_KEYS and _is_number(old):
        return f"-1 for the size {path[-1]}"
    return None


def _byte_mutation(raw: bytes, kind: str, where: float, value: int) -> bytes:
    pos = min(int(where * len(raw)), len(raw) - 1)
    if kind == "truncate":
        return raw[:pos]
    if kind == "flip":
        return raw[:pos] + bytes([raw[pos] ^ (value or 0xFF)]) + raw[pos + 1 :]
    return raw[:pos] + bytes(min(16, len(raw) - pos)) + raw[pos + 16 :]


#: WAV header fields (offset, struct format) of a canonical 44-byte header.
WAV_FIELDS = {"riff-size": (4, "<I"), "fmt-size": (16, "<I"), "format": (20, "<H"), "channels": (22, "<H"),
              "rate": (24, "<I"), "byte-rate": (28, "<I"), "block-align": (32, "<H"), "bits": (34, "<H"),
              "data-size": (40, "<I")}
WAV_VALUES = [0, 1, 3, 7, 0xFFFF, 0xFFFFFFFF]
#: PNG IHDR width and height offsets.
PNG_FIELDS = {"width": 16, "height": 20}


@st.composite
def mutations(draw, fmt: str, raw: bytes):
    """One mutation of a file of format ``fmt``: (kind, description, new bytes, must-reject reason)."""
    where = draw(st.floats(0.0, 1.0))
    value = draw(st.integers(0, 255))
    if fmt in ("json", "ndjson", "cbor"):
        kind = draw(st.sampled_from(JSON_KINDS if fmt != "cbor" else [k for k in JSON_KINDS if k != "deep"] + ["zero"]))
        if kind in BYTE_KINDS:
            new = _byte_mutation(raw, kind, where, value)
            return kind, f"{kind} at {where:.3f}", new, "truncated binary file" if fmt == "cbor" and kind == "truncate" else None
        return _structured(draw, fmt, raw, kind)
    if fmt == "wav":
        field = draw(st.sampled_from(["bytes", *WAV_FIELDS]))
        if field != "bytes":
            offset, code = WAV_FIELDS[field]
            new_value = draw(st.sampled_from(WAV_VALUES)) & (0xFFFF if code == "<H" else 0xFFFFFFFF)
            new = raw[:offset] + struct.pack(code, new_value) + raw[offset + struct.calcsize(code) :]
            return "header", f"{field}={new_value}", new, None
    if fmt == "image" and raw[:4] == b"\x89PNG" and draw(st.booleans()):
        field = draw(st.sampled_from(sorted(PNG_FIELDS)))
        new_value = draw(st.sampled_from([0, 1, 0x7FFFFFFF]))
        offset = PNG_FIELDS[field]
        return "header", f"{field}={new_value}", raw[:offset] + struct.pack(">I", new_value) + raw[offset + 4 :], None
    if fmt == "npy" and draw(st.booleans()):
        return _npy_mutation(draw, raw)
    kind = draw(st.sampled_from(BYTE_KINDS))
    return kind, f"{kind} at {where:.3f}", _byte_mutation(raw, kind, where, value), (
        "truncated binary file" if kind == "truncate" else None
    )


def _structured(draw, fmt: str, raw: bytes, kind: str):
    if fmt == "cbor":
        import cbor2

        docs = [cbor2.loads(raw)]
    elif fmt == "ndjson":
        docs = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    else:
        docs = [json.loads(raw)]
    rnd = draw(st.randoms(use_true_random=False))  # uniform over lines and paths (integers() favour 0)
    line = rnd.randrange(len(docs))
    paths = list(_paths(docs[line]))
    path = paths[rnd.randrange(len(paths))]
    docs[line], old = _mutate_doc(docs[line], path, kind)
    if fmt == "cbor":
        new = cbor2.dumps(docs[0])
    else:
        deep = "[" * DEEP_LEVELS + "]" * DEEP_LEVELS
        # compact, as Studio writes JSON (an NDJSON file is recognised by its compact first bytes)
        text = (json.dumps(d, separators=(",", ":")) for d in docs)
        new = "\n".join(t.replace(f'"{_DEEP}"', deep) for t in text).encode()
    return kind, f"{kind} at {'/'.join(map(str, path)) or '(root)'} (line {line})", new, _must_reject(kind, path, old)


def _npy_mutation(draw, raw: bytes):
    array = np.load(io.BytesIO(raw), allow_pickle=False)
    choice = draw(st.sampled_from(["value", "shape", "descr", "fortran"]))
    if choice == "value" and array.dtype.kind == "f" and array.size:
        kind = draw(st.sampled_from(sorted(NON_FINITE)))
        flat = array.copy().reshape(-1)
        flat[draw(st.integers(0, flat.size - 1))] = VALUES[kind]
        buf = io.BytesIO()
        np.save(buf, flat.reshape(array.shape))
        return kind, f"{kind} in the array", buf.getvalue(), f"{kind} in a feature row"
    header_len = struct.unpack("<H", raw[8:10])[0]
    header = raw[10 : 10 + header_len].decode("latin1")
    if choice == "shape":
        shape = draw(st.sampled_from(["(100000000000, 21)", "(-1, 21)", "(0, 21)", "(3,)", "(2, 2, 2)", "()"]))
        header = header.replace(f"'shape': {array.shape!r}", f"'shape': {shape}")
        what = f"shape={shape}"
    elif choice == "descr":
        descr = draw(st.sampled_from(["'|O'", "'<U3'", "'>i2'", "'<c16'", "'|b1'", "'<M8[s]'"]))
        header = header.replace(f"'descr': '{array.dtype.str}'", f"'descr': {descr}")
        what = f"descr={descr}"
    else:
        header = header.replace("'fortran_order': False", "'fortran_order': True")
        what = "fortran_order=True"
    padded = header.rstrip("\n").ljust(header_len - 1) + "\n"
    new = raw[:10] + padded.encode("latin1")[:header_len] + raw[10 + header_len :]
    return "header", what, new, None


# -- running and checking --------------------------------------------------------------------------


class _Hang(BaseException):
    """Raised by the alarm when a command runs longer than ``HANG_S``."""


def _on_alarm(signum, frame):
    raise _Hang()


@contextlib.contextmanager
def _limits():
    """A time limit (SIGALRM) and an address-space limit around one command."""
    old_handler = signal.signal(signal.SIGALRM, _on_alarm)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    limit = vm + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, HANG_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _call(argv: list[str]) -> tuple[object, str]:
    """``cli.main(argv)`` -> (exit code, or "traceback: ..." / "hang"; stderr)."""
    err = io.StringIO()
    try:
        with _limits(), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
    except SystemExit as exc:
        code = exc.code
    except _Hang:
        code = "hang"
    except Exception as exc:  # noqa: BLE001 - the property under test: nothing escapes main
        code = f"traceback: {type(exc).__name__}: {str(exc)[:300]}"
    return code, err.getvalue()


def _strict_json(path: Path):
    def refuse(token):
        raise AssertionError(f"{path.name} holds {token}")

    return json.loads(path.read_text(), parse_constant=refuse)


def _numbers(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _numbers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _numbers(value)
    elif _is_number(node):
        yield node


def _check_result(out: Path) -> None:
    """What exit 0 promises: a complete, finite, self-consistent response."""
    assert out.is_file(), "exit 0 without the output file"
    assert out.with_name(out.stem + ".run.json").is_file(), "exit 0 without the run sidecar"
    doc = _strict_json(out)
    assert all(math.isfinite(n) for n in _numbers(doc)), "a number in the result is not finite"
    assert doc.get("success") is True
    ids = {r["sampleId"] for r in doc["result"]}
    assert all(p["sampleId"] in ids for p in doc.get("predictions", [])), "a prediction without its sample"
    acc = doc.get("accuracy")
    if acc:
        for name in ("accuracyScore", "balancedAccuracyScore", "anomalyAccuracyScore", "noAnomalyAccuracyScore"):
            if acc.get(name) is not None:
                assert 0 <= acc[name] <= 100, f"{name} {acc[name]} outside [0, 100] (percent, the default scale)"
        total = acc["totalSummary"]
        per_class = acc["summaryPerClass"].values()
        n = total["good"] + total["bad"]  # unlabeled windows are predicted but not counted
        assert n <= len(doc["predictions"]), f"{n} windows counted, {len(doc['predictions'])} predictions"
        if n and acc.get("accuracyScore") is not None:
            assert math.isclose(acc["accuracyScore"], 100 * total["good"] / n), "accuracy is not 100 good / (good + bad)"
        detection = set(acc["summaryPerClass"]) == {"F1 score"}  # its counts are 0 by default (E2)
        if per_class and not detection:  # a regression block's accuracy has no classes
            assert total["good"] + total["bad"] == sum(c["good"] + c["bad"] for c in per_class), "counts do not sum"
        for label, row in acc.get("confusionMatrixValues", {}).items():
            if label in acc["summaryPerClass"] and acc.get("confusionMatrixValues"):
                summary = acc["summaryPerClass"][label]
                assert sum(row.values()) == summary["good"] + summary["bad"], f"confusion row {label} != its summary"


def _check_error(code, err: str, command: str) -> str:
    assert code in (0, 2), f"{command}: exit {code}\n{err[-2000:]}"
    if code == 0:
        return ""
    lines = [line for line in err.splitlines() if line.startswith(f"evalcore {command}: error:")]
    assert len(lines) == 1, f"{command}: exit 2 without exactly one error line:\n{err[-2000:]}"
    return lines[0]


def _log(record: dict) -> None:
    if LOG:
        with open(LOG, "a") as f:
            f.write(json.dumps(record) + "\n")


def _target_path(bundle: Path, samples: list[str], rel: str) -> Path:
    return bundle / (samples[0] if rel == "{sample}" else rel)


@pytest.mark.parametrize("bundle_name", sorted(BUNDLES))
def test_fuzzed_bundles_run_before_mutation(bundle_name, bundles, tmp_path):
    """Without it a broken trimmed bundle would make every mutation "cleanly rejected" and the fuzz moot."""
    if bundle_name not in bundles:
        pytest.skip(f"fixture of {bundle_name} not built")
    bundle, _ = bundles[bundle_name]
    out = tmp_path / "result.json"
    run_code, run_err = _call(["run", str(bundle), "--out", str(out), "-q", "--workers", "0"])
    inspect_code, inspect_err = _call(["inspect", str(bundle), "-q"])
    assert (run_code, inspect_code) == (0, 0), run_err + inspect_err
    _check_result(out)
    assert len(_strict_json(out)["result"]) == (BUNDLES[bundle_name][1] if bundle_name != "features" else 12)


@pytest.mark.parametrize(("bundle_name", "rel", "fmt"), TARGETS, ids=[f"{b}:{r}" for b, r, _ in TARGETS])
def test_mutated_file_never_tracebacks_nor_passes_invalid(bundle_name, rel, fmt, bundles, tmp_path_factory):
    """Without it a reader or a validator could let a bad file through to a traceback or to exit 0."""
    if bundle_name not in bundles:
        pytest.skip(f"fixture of {bundle_name} not built")
    bundle, samples = bundles[bundle_name]
    path = _target_path(bundle, samples, rel)
    original = path.read_bytes()
    out_dir = tmp_path_factory.mktemp("out")

    @settings(max_examples=EXAMPLES or 6, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutation=mutations(fmt, original))
    def check(mutation):
        kind, what, new, reason = mutation
        out = out_dir / "result.json"
        for leftover in out_dir.iterdir():
            leftover.unlink()
        (run_code, run_err), (inspect_code, inspect_err) = _run_and_inspect(bundle, path, original, new, out)
        record = {"target": f"{bundle_name}:{rel}", "kind": kind, "mutation": what, "run": run_code,
                  "inspect": inspect_code, "mustReject": reason}
        try:
            label = f"{bundle_name}:{rel} {what}"
            run_line = _check_error(run_code, run_err, "run")
            record["message"] = run_line
            _check_error(inspect_code, inspect_err, "inspect")
            if run_code == 2:
                assert not out.exists(), f"{label}: exit 2 left {out.name}"
            else:
                assert reason is None, f"{label}: run exit 0 on an invalid input ({reason})"
                _check_result(out)
            assert inspect_code == 0 or run_code == 2, f"{label}: inspect rejects what run accepts:\n{inspect_err}"
            if reason is not None:
                assert inspect_code == 2, f"{label}: inspect exit 0 on an invalid input ({reason})"
        except AssertionError as exc:
            record["failure"] = str(exc)[:500]
            if not KEEP_GOING:
                raise
        finally:
            _log(record)

    check()


# -- what the fuzzer found, replayed -----------------------------------------------------------------


def _json_edit(change):
    def apply(raw: bytes) -> bytes:
        doc = json.loads(raw)
        change(doc)
        return json.dumps(doc).encode()

    return apply


def _zero_at(fraction: float, n: int = 16):
    def apply(raw: bytes) -> bytes:
        pos = int(fraction * len(raw))
        return raw[:pos] + bytes(n) + raw[pos + n :]

    return apply


def _run_and_inspect(bundle, path, original: bytes, new: bytes, out):
    """``run`` and ``inspect`` the bundle with ``path`` holding ``new``; the file is restored after."""
    path.write_bytes(new)
    try:
        ran = _call(["run", str(bundle), "--out", str(out), "-q", "--workers", "0"])
        inspected = _call(["inspect", str(bundle), "-q"])
    finally:
        path.write_bytes(original)
    return ran, inspected


#: (bundle, file, change, expected error text or None for a clean exit 0); each was a traceback
#: or an exit 0 on an invalid input in a long fuzz run.
FOUND = {
    "body-is-null": ("motion", "impulse.json", lambda raw: b"null", "impulse must be a JSON object, got NoneType"),
    "body-is-a-number": ("motion", "learn/3/metadata.json", lambda raw: b"1e12", "must be a JSON object, got float"),
    "infinity-in-unread-metadata": (
        "motion", "learn/3/metadata.json",
        _json_edit(lambda d: d["modelValidationMetrics"][0].update(loss=float("inf"))),
        "holds Infinity: numbers must be finite (PATH, field modelValidationMetrics[0].loss)",
    ),
    "gmm-mean-empty": ("motion-gmm", "learn/4/metadata.json", _json_edit(lambda d: d.update(mean=[])), "field mean"),
    # Pillow decoded both without a word
    "jpeg-cut-in-its-last-bytes": ("image", "{sample}", lambda raw: raw[:-2], "truncated image"),
    "png-cut-in-its-last-bytes": ("fomo", "{sample}", lambda raw: raw[: int(0.992 * len(raw))],
                                  "the PNG file does not end with its IEND chunk"),
    "npy-header-zeroed": ("features", "features/y_testing.npy", _zero_at(0.28), "invalid header"),
    # 16 000 readings at 1 Hz resampled to 16 kHz: 256M readings, a MemoryError
    "wav-rate-1-hz": ("kws", "{sample}", lambda raw: raw[:24] + struct.pack("<I", 1) + raw[28:],
                      "more than evalcore allows"),
    "mfcc-1e12-filters": ("kws", "dsp/2.json", _json_edit(lambda d: d["config"][0]["items"][3].update(value=1e12)),
                          "field num_filters"),
    # a step of 6e28 readings overflowed int64 (OverflowError); it makes one window per sample
    "step-1e30-ms": ("motion", "impulse.json",
                     _json_edit(lambda d: d["impulse"]["inputBlocks"][0].update(classificationWindowIncreaseMs=10**30)),
                     None),
    # the created time fell back to 1970 without a word
    "iat-minus-infinity": ("regression", "{sample}",
                           _json_edit(lambda d: d.setdefault("protected", {}).update(iat=float("-inf"))),
                           "protected.iat must be a finite number"),
    "sample-value-1e30-in-a-regression": (
        "regression", "{sample}", _json_edit(lambda d: d["payload"]["values"].__setitem__(8, 10**30)), None,
    ),
}


@pytest.mark.parametrize("case", sorted(FOUND))
def test_found_by_the_fuzzer(case, bundles, tmp_path):
    """Without it a fix for one of the fuzzer's findings could regress while the few CI examples miss it."""
    bundle_name, rel, change, expected = FOUND[case]
    if bundle_name not in bundles:
        pytest.skip(f"fixture of {bundle_name} not built")
    bundle, samples = bundles[bundle_name]
    path = _target_path(bundle, samples, rel)
    original = path.read_bytes()
    new = change(original)
    out = tmp_path / "result.json"
    (run_code, run_err), (inspect_code, inspect_err) = _run_and_inspect(bundle, path, original, new, out)
    run_line = _check_error(run_code, run_err, "run")
    inspect_line = _check_error(inspect_code, inspect_err, "inspect")
    if expected is None:
        assert (run_code, inspect_code) == (0, 0), run_err + inspect_err
        _check_result(out)
    else:
        assert (run_code, inspect_code) == (2, 2), run_err + inspect_err
        expected = expected.replace("PATH", str(path))
        assert expected in run_line and expected in inspect_line, (run_line, inspect_line)
        assert not out.exists()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_image_cut_in_its_trailer_is_refused(fmt):
    """Without it a JPEG or PNG missing its last bytes decoded as if whole (no fixture holds a JPEG)."""
    from PIL import Image

    from evalcore.data.images import read_image
    from evalcore.errors import BundleError

    buf = io.BytesIO()
    Image.fromarray(np.arange(48 * 32 * 3, dtype=np.uint8).reshape(32, 48, 3)).save(buf, format=fmt)
    raw = buf.getvalue()
    assert read_image(raw, "x", "s").pixels.shape == (32, 48, 3)
    cut = 2 if fmt == "JPEG" else 12  # the end-of-image marker; the IEND chunk
    with pytest.raises(BundleError, match="truncated image"):
        read_image(raw[:-cut], "x", "s")
