"""A multi-label classifier block (``isMultiLabel``) end to end, and its per-window decoding.

No fixture bundle has a multi-label (sigmoid) classifier, so one is made here from
``fixtures/coffee-multilabel``: the same impulse, DSP and dataset, the same trained network with
its final Softmax replaced by a Sigmoid (one independent score per label), the float32 model
only, and ``"isMultiLabel": true`` in the learn block's metadata. The run's JSON is then checked
against sklearn computed from the JSON's own per-window scores and expected labels.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from evalcore import schema
from evalcore.bundle import load_project
from evalcore.engine import RunOptions, evaluate, parse_compat
from evalcore.errors import BundleError, ConfigError
from evalcore.jsonio import dumps
from evalcore.learn.multilabel import decode_multilabel

SKLEARN_ATOL = 1e-12
LEARN_ID = 3


@pytest.fixture(scope="module")
def sigmoid_bundle(fixtures_dir, tmp_path_factory):
    """``coffee-multilabel`` with a sigmoid head and ``isMultiLabel`` (float32 model only)."""
    onnx = pytest.importorskip("onnx")
    source = fixtures_dir / "coffee-multilabel"
    if not (source / "impulse.json").is_file():
        pytest.skip("coffee-multilabel not built")
    bundle = tmp_path_factory.mktemp("multilabel") / "coffee-sigmoid"
    shutil.copytree(source, bundle)
    learn = bundle / "learn" / str(LEARN_ID)
    (learn / "model_int8.onnx").unlink()
    model = onnx.load(learn / "model.onnx")
    last = model.graph.node[-1]
    assert last.op_type == "Softmax"
    last.op_type = "Sigmoid"
    del last.attribute[:]
    onnx.checker.check_model(model)
    onnx.save(model, learn / "model.onnx")
    meta = json.loads((learn / "metadata.json").read_text())
    meta["isMultiLabel"] = True
    (learn / "metadata.json").write_text(json.dumps(meta))
    return bundle


def _run(bundle, *compat, category="testing", shard=None):
    options = RunOptions(variant="float32", category=category, compat=parse_compat(compat))
    return evaluate(bundle, options, shard=shard)[0]


def _windows(response: dict):
    """Per-window float32 scores, expected labels and prediction rows, from the response JSON."""
    scores, expected = [], []
    for result in response["result"]:
        (block,) = result["classifications"]
        assert block["isMultiLabel"] is True
        scores += [list(r.values()) for r in block["result"]]
        expected += [e["label"] for e in block["expectedLabels"]]
    labels = list(response["result"][0]["classifications"][0]["result"][0])
    return np.asarray(scores, dtype=np.float32), expected, labels, response["predictions"]


def test_bytes_and_schema(sigmoid_bundle):
    """The fast text path gives the validated response's bytes, with ``isMultiLabel`` on the block."""
    builder = _run(sigmoid_bundle)
    fast = builder.build_json()
    assert fast == dumps(builder.build())
    schema.ClassifyJobResponse.model_validate_json(fast)  # strict writing mode
    assert b'"isMultiLabel":true,"intervalMs"' in fast


@pytest.mark.oracle
def test_response_equals_sklearn_on_its_own_windows(sigmoid_bundle):
    """Predictions, correctness, accuracy and additionalMetrics follow from the JSON's scores as sklearn reads them."""
    skm = pytest.importorskip("sklearn.metrics")
    response = json.loads(_run(sigmoid_bundle).build_json())
    scores, expected, labels, rows = _windows(response)
    threshold = np.float32(response["result"][0]["classifications"][0]["minimumConfidenceRating"])
    selected = scores >= threshold
    assert 0 < selected.sum() < selected.size  # the bundle exercises both sides of the threshold
    texts = [", ".join(lb for lb, s in zip(labels, row) if s) or "uncertain" for row in selected]
    assert [r["prediction"] for r in rows] == texts
    truth = np.array([[e == lb for lb in labels] for e in expected])
    exact = (truth == selected).all(axis=1)
    assert [r["predictionCorrect"] for r in rows] == exact.tolist()
    total = response["accuracy"]["totalSummary"]
    assert (total["good"], total["bad"]) == (int(exact.sum()), int((~exact).sum()))
    subset_accuracy = skm.accuracy_score(truth, selected)
    # a fraction, or on the 0-100 scale issue #10 makes the default for *AccuracyScore fields
    assert response["accuracy"]["accuracyScore"] in (subset_accuracy, 100 * subset_accuracy)

    (block,) = response["additionalMetricsByLearnBlock"]
    got = {m["name"]: m["fullPrecisionValue"] for m in block["additionalMetrics"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, _ = skm.precision_recall_fscore_support(truth, selected, average="weighted", zero_division=0)
        want = {"Weighted average Precision": p, "Weighted average Recall": r, "Weighted average F1 score": f,
                "Loss": skm.log_loss(truth.ravel(), scores.astype(np.float64).ravel(), labels=[0, 1])}
        if all(0 < truth[:, j].sum() < len(truth) for j in range(len(labels))):
            want["Area under ROC Curve"] = skm.roc_auc_score(truth, scores.astype(np.float64))
    assert set(got) == set(want)
    for name, value in want.items():
        assert abs(got[name] - value) <= SKLEARN_ATOL, name


def test_compat_average_reading(sigmoid_bundle):
    """``--compat multilabel-average=micro`` reports sklearn's micro average under its own name."""
    skm = pytest.importorskip("sklearn.metrics")
    response = json.loads(_run(sigmoid_bundle, "multilabel-average=micro").build_json())
    scores, expected, labels, _ = _windows(response)
    threshold = np.float32(response["result"][0]["classifications"][0]["minimumConfidenceRating"])
    truth = np.array([[e == lb for lb in labels] for e in expected])
    got = {m["name"]: m["fullPrecisionValue"] for m in response["additionalMetricsByLearnBlock"][0]["additionalMetrics"]}
    f1 = skm.f1_score(truth, scores >= threshold, average="micro", zero_division=0)
    assert abs(got["Micro average F1 score"] - f1) <= SKLEARN_ATOL
    assert "Weighted average F1 score" not in got
    with pytest.raises(ConfigError):
        parse_compat(["multilabel-average=binary"])


def test_shards_merge_to_the_same_bytes(sigmoid_bundle):
    """Two shards of the training recordings merge into the bytes of one run."""
    whole = _run(sigmoid_bundle, category="training").build_json()
    parts = [_run(sigmoid_bundle, category="training", shard=(i, 2)) for i in range(2)]
    assert parts[1].merge(parts[0]).build_json() == whole


def test_bad_flag_is_refused(sigmoid_bundle, tmp_path):
    """A non-boolean ``isMultiLabel`` is bad input naming the file and the field."""
    bundle = tmp_path / "bad"
    shutil.copytree(sigmoid_bundle, bundle)
    meta_path = bundle / "learn" / str(LEARN_ID) / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["isMultiLabel"] = "yes"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="isMultiLabel") as err:
        load_project(bundle)
    assert "metadata.json" in str(err.value)
    assert load_project(sigmoid_bundle).learn[0].multi_label is True


def test_inspect_names_the_reading(sigmoid_bundle, fixtures_dir):
    """``evalcore inspect`` says which classifier blocks are evaluated as multi-label."""
    from evalcore.inspect import inspect_bundle

    assert inspect_bundle(sigmoid_bundle).learn_blocks[0]["kind"] == "classification, multi-label"
    assert inspect_bundle(fixtures_dir / "coffee-multilabel").learn_blocks[0]["kind"] == "classification"


# -- per-window decoding --------------------------------------------------------------------------

LABELS = ("a", "b", "c")


def test_decode_sets_codes_and_texts():
    """Exact set -> expected code; empty -> uncertain; wrong -> strongest wrong label; a tie at the threshold selects."""
    scores = np.array([[0.9, 0.1, 0.1],   # {a}, expected a: exact
                       [0.1, 0.2, 0.3],   # {}: uncertain
                       [0.7, 0.8, 0.1],   # {a, b}, expected a: wrong, strongest other b
                       [0.6, 0.1, 0.6],   # ties at the threshold: {a, c}, expected b
                       [0.1, 0.1, 0.1]],  # {}, expected none of the labels
                      dtype=np.float32)
    expected = np.array([0, 1, 0, 1, -1])
    got = decode_multilabel(scores, 0.6, expected, LABELS)
    assert got.prediction == ["a", "uncertain", "a, b", "a, c", "uncertain"]
    assert got.predicted.tolist() == [0, 3, 1, 0, 3]
    assert got.truth.tolist()[4] == [False, False, False]
    strict = decode_multilabel(scores, 0.6, expected, LABELS, classifier_inclusive=False)
    assert strict.prediction[3] == "uncertain"


def test_decode_compares_in_the_scores_dtype():
    """A float32 score equal to float32(threshold) is selected although it is below the float64 threshold."""
    score = np.float32(0.7)
    assert float(score) < 0.7
    got = decode_multilabel(np.array([[score, 0, 0]], dtype=np.float32), 0.7, np.array([0]), LABELS)
    assert got.prediction == ["a"]


def test_decode_anomaly_overrides():
    """An anomaly block flagging a window makes it ``anomaly`` (code K+1), as for single-label blocks."""
    scores = np.array([[0.9, 0.1, 0.1], [0.9, 0.1, 0.1]])
    got = decode_multilabel(scores, 0.5, np.array([0, 0]), LABELS, anomaly=[(np.array([0.1, 0.9]), 0.3)])
    assert got.prediction == ["a", "anomaly"]
    assert got.predicted.tolist() == [0, 4]
    with pytest.raises(ConfigError):
        decode_multilabel(scores, 0.5, np.array([0]), LABELS)


@pytest.mark.parametrize("k", [3, 64, 70])
def test_decode_texts_any_label_count(k):
    """The prediction text is the selected labels in model order, also past 64 labels (no bit key)."""
    rng = np.random.default_rng(k)
    names = tuple(f"l{j}" for j in range(k))
    scores = rng.random((40, k))
    got = decode_multilabel(scores, 0.8, np.zeros(40, dtype=int), names)
    want = [", ".join(n for n, s in zip(names, row) if s >= 0.8) or "uncertain" for row in scores]
    assert got.prediction == want
