"""``ReportBuilder.build_json`` / ``pages_json``: the bytes of ``jsonio.dumps`` of the validated response.

The per-sample parts of the response are written as JSON text column-wise while a run goes on
(evalcore/report.py, "the text path"), without pydantic; these tests hold that text to the bytes
of the validated ``ClassifyJobResponse`` (and pages) for every fixture bundle and variant, for a
3-shard merge, for samples that take the validated path, and for the JSON helpers it uses.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalcore import schema
from evalcore.bundle import load_project
from evalcore.engine import RunOptions, evaluate
from evalcore.jsnumber import format_floats, format_ints, format_number
from evalcore.jsonio import dumps, object_rows
from evalcore.report.builder import ReportBuilder
from evalcore.report.pages import paginate
from evalcore.report.text import SampleTexts
from tests._helpers import ALL_BUNDLES

VARIANTS = ["float32", "int8"]
# The float32 / int8 variants each fixture bundle has (test_variant_table_is_the_bundles_own keeps
# this equal to ``available_variants``), so every parameter set below runs.
BUNDLE_VARIANTS = {
    "motion": ["float32", "int8"], "motion-gmm": ["float32", "int8"], "regression": ["float32", "int8"],
    "gestures-real": ["int8"], "temperature-regression": ["float32", "int8"], "kws": ["float32", "int8"],
    "coffee-multilabel": ["float32", "int8"], "image": ["float32", "int8"], "fomo": ["float32", "int8"],
    "yolov5": ["float32"], "ssd": ["float32"], "visual-anomaly": ["float32"], "akida": ["float32", "int8"],
    "motion-sliced": ["float32", "int8"],
}
RUNS = [(name, variant) for name, variants in BUNDLE_VARIANTS.items() for variant in variants]
PAGE_SIZES = [1, 3]


def _first_difference(a: bytes, b: bytes) -> str:
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return f"first difference at byte {i} of {len(a)} / {len(b)}: {a[i - 40 : i + 40]!r} != {b[i - 40 : i + 40]!r}"


def _assert_same(fast: bytes, slow: bytes) -> None:
    assert fast == slow, _first_difference(fast, slow)


_RUNS: dict = {}


def _run(fixtures_dir, name: str, variant: str, shard=None) -> ReportBuilder:
    """The reduce state of a bundle's run (cached per module: the tests only read it)."""
    key = (name, variant, shard)
    if key not in _RUNS:
        bundle = fixtures_dir / name
        assert (bundle / "impulse.json").is_file(), f"committed fixture bundle missing: {bundle}"
        _RUNS[key] = evaluate(bundle, RunOptions(variant=variant), shard=shard, keep_samples=True)[0]
    return _RUNS[key]


def test_every_fixture_bundle_is_listed(fixtures_dir):
    """Without it a new fixture bundle would not be held to the validated bytes here."""
    built = sorted(p.name for p in fixtures_dir.iterdir() if (p / "impulse.json").is_file())
    assert [n for n in built if n not in ALL_BUNDLES] == []
    assert sorted(BUNDLE_VARIANTS) == sorted(ALL_BUNDLES)


@pytest.mark.parametrize("name", ALL_BUNDLES)
def test_variant_table_is_the_bundles_own(fixtures_dir, name):
    """Without it a bundle that gains (or loses) an int8 or float32 model would escape (or break)
    the byte tests below."""
    available = load_project(fixtures_dir / name).available_variants
    assert sorted(BUNDLE_VARIANTS[name]) == sorted(v for v in available if v in VARIANTS)


@pytest.mark.parametrize(("name", "variant"), RUNS)
def test_fast_bytes_equal_the_validated_response(fixtures_dir, name, variant):
    """Without it the text path could drift from the schema's own serialisation (a key order, an
    omitted optional key, a number format) and write bytes Studio would not."""
    builder = _run(fixtures_dir, name, variant)
    _assert_same(builder.build_json(), dumps(builder.build()))


@pytest.mark.parametrize(("name", "variant"), RUNS)
def test_fast_bytes_pass_strict_validation(fixtures_dir, name, variant):
    """Without it text the pydantic models never saw could hold a value the 1.96.3 schema rejects."""
    fast = _run(fixtures_dir, name, variant).build_json()
    model = schema.ClassifyJobResponse.model_validate_json(fast)  # writing mode: strict enums, required keys
    _assert_same(dumps(model), fast)
    _assert_same(dumps(schema.load_classify_job_response(fast)), fast)


@pytest.mark.parametrize(("name", "variant"), RUNS)
def test_three_shard_merge_gives_the_same_bytes(fixtures_dir, name, variant):
    """Without it a sharded run could order or join the per-sample texts differently from one run."""
    whole = _run(fixtures_dir, name, variant).build_json()
    parts = [evaluate(fixtures_dir / name, RunOptions(variant=variant), shard=(i, 3), keep_samples=True)[0]
             for i in range(3)]
    merged = parts[2].merge(parts[0]).merge(parts[1])
    _assert_same(merged.build_json(), whole)
    _assert_same(dumps(merged.build()), whole)


@pytest.mark.parametrize(("name", "variant"), RUNS)
def test_pages_equal_the_validated_pages(fixtures_dir, name, variant):
    """Without it ``--page-size`` output could differ from ``paginate`` of the validated response."""
    builder = _run(fixtures_dir, name, variant)
    response = builder.build()
    for page_size in PAGE_SIZES:
        fast = list(builder.pages_json(page_size))
        slow = [dumps(page) for page in paginate(response, page_size)]
        assert len(fast) == len(slow)
        for k, (a, b) in enumerate(zip(fast, slow)):
            assert a == b, f"page {k} of size {page_size}: {_first_difference(a, b)}"
            schema.ClassifyJobResponsePage.model_validate_json(a)


# -- samples off the common path ------------------------------------------------------------------


def _replay(fixtures_dir, name: str, change, *, blocks=None) -> ReportBuilder:
    """A builder fed a float32 run of ``name`` whose prepared outcomes pass through ``change``
    before the models run (so the map decides on the changed sample); ``blocks`` keeps some
    learn blocks only.
    """
    from evalcore.data import load_dataset
    from evalcore.learn.thresholds import plan_blocks
    from evalcore.pipeline.featurize import SampleFeaturizer
    from evalcore.pipeline.infer import Pipeline

    bundle = fixtures_dir / name
    assert (bundle / "impulse.json").is_file(), f"committed fixture bundle missing: {bundle}"
    project = load_project(bundle)
    if blocks is not None:
        project = dataclasses.replace(project, learn=tuple(lb for lb in project.learn if blocks(lb)))
    records = list(load_dataset(project.dataset_dir, category="testing").records)
    options = RunOptions(variant="float32")
    plans = plan_blocks(project, {})
    featurizer = SampleFeaturizer(project, options)

    class Changed:
        def prepare(self, record):
            prepared = featurizer.prepare(record)
            prepared.outcome = change(prepared.outcome)
            return prepared

    pipeline = Pipeline(project, options, plans, records)
    builder = ReportBuilder(project, plans, records, options, keep_samples=True)
    for outcome in pipeline.outcomes(records, Changed()):
        builder.add(outcome)
    return builder


def test_unlabelled_windows_give_the_validated_bytes(fixtures_dir):
    """Without it rows of windows without a label (no ``label`` / ``predictionCorrect`` keys) mixed
    with labelled ones could be written with the wrong template."""
    def unlabel_some(outcome):
        expected = [None if w % 3 == 1 else e for w, e in enumerate(outcome.expected)]
        return dataclasses.replace(outcome, expected=expected)

    builder = _replay(fixtures_dir, "motion", unlabel_some)
    fast = builder.build_json()
    assert b'"label":""' in fast  # expectedLabels of an unlabelled window
    _assert_same(fast, dumps(builder.build()))
    _assert_same(b"".join(builder.pages_json(4)), b"".join(dumps(p) for p in paginate(builder.build(), 4)))


def test_lone_surrogate_label_falls_back_to_dumps(fixtures_dir):
    """Without it a label holding a lone surrogate (valid in a JSON export) would crash the UTF-8
    encoding of the joined text instead of being escaped as ``JSON.stringify`` does."""
    def odd_label(outcome):
        expected = ["idle\ud800" if e == "idle" else e for e in outcome.expected]
        return dataclasses.replace(outcome, expected=expected)

    builder = _replay(fixtures_dir, "motion", odd_label)
    fast = builder.build_json()
    assert b'"idle\\ud800"' in fast
    _assert_same(fast, dumps(builder.build()))
    pages = [dumps(p) for p in paginate(builder.build(), 3)]
    assert list(builder.pages_json(3)) == pages


def test_anomaly_only_impulse_gives_the_validated_bytes(fixtures_dir):
    """Without it an impulse with only an anomaly block (``anomaly`` / ``no anomaly`` predictions,
    ``{"anomaly": score}`` results) would have no check: no fixture bundle is one."""
    builder = _replay(fixtures_dir, "motion", lambda o: o, blocks=lambda lb: lb.kind.startswith("anomaly"))
    fast = builder.build_json()
    assert b'"prediction":"no anomaly"' in fast or b'"prediction":"anomaly"' in fast
    _assert_same(fast, dumps(builder.build()))


def test_validated_path_samples_mix_with_text_path_samples(fixtures_dir, monkeypatch):
    """Without it a sample the text writer refuses (validated instead) could land out of order or
    be written differently from its neighbours."""
    whole = _run(fixtures_dir, "motion", "float32").build_json()
    calls = iter(range(10**6))
    original = SampleTexts._text_ok
    monkeypatch.setattr(SampleTexts, "_text_ok", lambda self, data: next(calls) % 2 == 0 and original(self, data))
    builder = evaluate(fixtures_dir / "motion", RunOptions(variant="float32"), keep_samples=True)[0]
    _assert_same(builder.build_json(), whole)


def test_small_text_batches_give_the_same_bytes(fixtures_dir, monkeypatch):
    """Without it the slicing of batch-wide columns back into samples could be off at a boundary."""
    import evalcore.report.builder

    whole = _run(fixtures_dir, "regression", "float32").build_json()
    monkeypatch.setattr(evalcore.report.builder, "_TEXT_BATCH_WINDOWS", 7)
    builder = evaluate(fixtures_dir / "regression", RunOptions(variant="float32"), keep_samples=True)[0]
    _assert_same(builder.build_json(), whole)


# -- the jsonio helpers ---------------------------------------------------------------------------

_EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 16.0, 0.5, 1e-4, 9.999999999999999e-05, 1e-7, 1.5e-7, 1e16, 1e21,
                1e22, 2.0**53, 2.0**53 + 2, -(2.0**53) - 2, 9007199254740991.0, 123456789.125, 5e-324,
                1.7976931348623157e308, math.inf, -math.inf, math.nan, 0.1 + 0.2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=40))
def test_format_floats_is_format_number_per_value(values):
    """Without it the column formatter could write a number differently from the general writer."""
    values = values + _EDGE_FLOATS
    got = format_floats(np.array(values, dtype=np.float64))
    want = [format_number(v) for v in values]
    bad = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), None)
    assert got == want, f"index {bad}: {values[bad]!r} -> {got[bad]!r}, want {want[bad]!r}"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=40))
def test_format_floats_of_float32_is_the_double_they_hold(values):
    """Without it float32 model scores could be written with float32 digits instead of the
    double's, which is what the validated path (``float(v)``) writes."""
    array = np.array(values, dtype=np.float32).reshape(-1, 1)
    assert format_floats(array) == [format_number(float(v)) for v in array.ravel().tolist()]


def test_format_ints_beyond_the_safe_range():
    """Without it an integer beyond 2**53 - 1 would be written exactly, not as JavaScript holds it."""
    values = [0, -5, 2**53 - 1, 2**53 + 1, -(2**53) - 3, 10**18]
    assert format_ints(np.array(values, dtype=np.int64)) == [format_number(v) for v in values]


@pytest.mark.parametrize("keys", [("idle", "wave"), ("10", "2", "x", "0"), ("a%s", "%d"), ("value",),
                                  ("4294967295", "4294967294", "01", "b")])
def test_object_rows_are_dumps_of_the_dicts(keys):
    """Without it labels that are array indices ("0", "10") or hold "%" would be written in
    another key order or mangled by the row template."""
    rng = np.random.default_rng(len(keys))
    values = rng.random((5, len(keys)))
    texts = format_floats(values)
    rows = object_rows(keys, [texts[j :: len(keys)] for j in range(len(keys))])
    want = dumps([dict(zip(keys, map(float, row))) for row in values.tolist()])
    assert ("[" + ",".join(rows) + "]").encode() == want


def test_window_results_match_the_plain_dicts():
    """Without it a classifier's per-window ``result`` (label -> score) could differ from the dicts
    the validated path builds, e.g. for labels that are array indices."""
    from evalcore.report.text import _window_results

    runner = SimpleNamespace(kind="classification", labels=("10", "2", "x", "0"))
    values = np.random.default_rng(1).random((6, 4)).astype(np.float32)
    want = dumps([dict(zip(runner.labels, map(float, row))) for row in values.tolist()])
    assert ("[" + _window_results(runner, values, [6])[0] + "]").encode() == want
    rows = [dumps(dict(zip(runner.labels, map(float, row)))).decode() for row in values.tolist()]
    assert _window_results(runner, values, [2, 0, 4]) == [",".join(rows[:2]), "", ",".join(rows[2:])]
