"""The accumulator contract (evalcore.metrics._base), held over every accumulator by one set of tests.

Each kind of ``ACCUMULATOR_KINDS`` has a case below: a configuration, a few batches of small
deterministic random data for ``update``, and a configuration that must not merge with it. The
properties: merging is associative, any split of the batches (in any order) merges to the one
pass, ``compute`` is pure, ``from_bytes(to_bytes())`` computes and merges the same numbers bit
for bit, a mismatched configuration raises ``MergeError`` naming the field, and damaged or
forged state bytes raise ``ConfigError`` (never another exception, never a huge allocation).
"""

from __future__ import annotations

import dataclasses
import json
import struct
from types import SimpleNamespace

import numpy as np
import pytest

from evalcore.errors import ConfigError, MergeError
from evalcore.metrics._base import STATE_MAGIC, Accumulator, AccumulatorBase
from evalcore.metrics.accuracy import AccuracyOptions, ClassificationAccumulator
from evalcore.metrics.classifier_scores import ClassifierMetricsAccumulator
from evalcore.metrics.ei_coco import CocoAccumulator
from evalcore.metrics.fomo_dataset import FomoAccumulator
from evalcore.metrics.good_bad import GoodBadAccumulator
from evalcore.metrics.multilabel import MultiLabelMetricsAccumulator
from evalcore.metrics.regression import RegressionAccumulator
from evalcore.metrics.states import ACCUMULATOR_KINDS, decode_accumulators, decode_any, encode_accumulators
from tests._helpers import score_fomo_heatmap

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # COCO stats with nothing to average

N_BATCHES = 9


def _accuracy_batch(rng):
    n = int(rng.integers(0, 9))
    return (rng.integers(0, 5, n), rng.integers(0, 5, n)), {"expected_is_anomaly": rng.random(n) < 0.3}


def _classifier_batch(rng):
    n = int(rng.integers(0, 7))
    probs = np.round(rng.random((n, 3)), 2)  # ties in the scores, as an int8 model gives
    return (rng.integers(-1, 3, n), probs), {}


def _multilabel_batch(rng):
    n = int(rng.integers(0, 7))
    scores = np.round(rng.random((n, 3)), 2)
    return (rng.random((n, 3)) < 0.5, scores >= 0.5, scores), {}


def _regression_batch(rng):
    n = int(rng.integers(0, 8))
    expected = rng.normal(0, 3, n)
    return (expected + rng.normal(0, 1, n), expected), {}


def _coco_batch(rng, index):
    """One image: GT boxes in pixels, detections near them (or anywhere without GT), tied scores."""
    n_gt, n_det = int(rng.integers(0, 4)), int(rng.integers(0, 5))
    gt = np.column_stack([rng.integers(0, 40, (n_gt, 2)), rng.integers(4, 24, (n_gt, 2))]).astype(float)
    labels = rng.integers(-1, 4, n_gt)
    if n_gt:
        src = rng.integers(0, n_gt, n_det)
        x, y, w, h = (gt[src, i] / 64 for i in range(4))
        det = np.column_stack([y, x, y + h, x + w]) + rng.normal(0, 0.02, (n_det, 4))
        det_labels = np.clip(labels[src] - 1, 0, 2)
    else:
        det, det_labels = np.sort(rng.random((n_det, 4)), axis=1), rng.integers(0, 3, n_det)
    return (index, gt, labels, det, det_labels, np.round(rng.random(n_det), 1)), {}


def _fomo_batch(rng):
    heatmap = rng.random((4, 4, 3))
    boxes = [{"x": int(x), "y": int(y), "w": 8, "h": 8, "label": int(lab)}
             for x, y, lab in zip(rng.integers(0, 24, 2), rng.integers(0, 24, 2), rng.integers(-1, 3, 2))]
    return (score_fomo_heatmap(heatmap, boxes, 32, 0.6),), {}


def _good_bad_batch(rng):
    return (rng.random(int(rng.integers(0, 6))) < 0.6,), {}


#: kind -> (new accumulator, batch maker (rng, position), a config that must not merge, its field);
#: None, None for a kind without configuration
CASES = {
    "accuracy": (lambda: ClassificationAccumulator(("a", "b", "c")), lambda rng, i: _accuracy_batch(rng),
                 lambda: ClassificationAccumulator(("a", "b", "c"), options=AccuracyOptions(score_scale="fraction")),
                 "options"),
    "classifier-scores": (lambda: ClassifierMetricsAccumulator(3), lambda rng, i: _classifier_batch(rng),
                          lambda: ClassifierMetricsAccumulator(4), "n_classes"),
    "multilabel": (lambda: MultiLabelMetricsAccumulator(3), lambda rng, i: _multilabel_batch(rng),
                   lambda: MultiLabelMetricsAccumulator(3, average="micro"), "average"),
    "regression": (lambda: RegressionAccumulator(1.5), lambda rng, i: _regression_batch(rng),
                   lambda: RegressionAccumulator(1.5, inclusive=False), "inclusive"),
    "coco": (lambda: CocoAccumulator(3, 64), _coco_batch, lambda: CocoAccumulator(3, 64, 48), "height"),
    "fomo": (lambda: FomoAccumulator(3), lambda rng, i: _fomo_batch(rng), lambda: FomoAccumulator(4),
             "n_classes"),
    "good-bad": (GoodBadAccumulator, lambda rng, i: _good_bad_batch(rng), None, None),
}

KINDS = sorted(CASES)


def _batches(kind, seed=0):
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    make_batch = CASES[kind][1]
    return [make_batch(rng, i) for i in range(N_BATCHES)]


def _filled(kind, batches):
    acc = CASES[kind][0]()
    for args, kwargs in batches:
        acc.update(*args, **kwargs)
    return acc


def _canon(value):
    """A comparable form in which every number is its exact bytes (floats by bit pattern)."""
    if dataclasses.is_dataclass(value):
        return (type(value).__name__, tuple((f.name, _canon(getattr(value, f.name)))
                                            for f in dataclasses.fields(value)))
    if isinstance(value, np.ndarray):
        if value.dtype == object:  # COCO image ids (str)
            return ("ndarray", "object", value.shape, _canon(value.tolist()))
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return ("dict", tuple((k, _canon(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_canon(v) for v in value))
    if isinstance(value, (float, np.floating)):
        return ("float", struct.pack("<d", float(value)))
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, (int, np.integer)):
        return ("int", int(value))
    assert value is None or isinstance(value, str), type(value)
    return value


def _result(acc):
    return _canon(acc.compute())


def _round_trip(acc):
    return type(acc).from_bytes(acc.to_bytes())


def test_every_kind_has_a_case():
    """Without it a new accumulator could skip every property below (and the registry a kind)."""
    assert set(ACCUMULATOR_KINDS) == set(CASES)
    for kind, cls in ACCUMULATOR_KINDS.items():
        assert cls.kind == kind and issubclass(cls, AccumulatorBase)
        assert isinstance(CASES[kind][0](), Accumulator)


@pytest.mark.parametrize("kind", KINDS)
def test_merge_is_associative(kind):
    """Without it a tree of shard merges could give other bytes than a chain of them."""
    batches = _batches(kind)
    thirds = [batches[:2], batches[2:6], batches[6:]]
    a, b, c = (_filled(kind, part) for part in thirds)
    left = a.merge(b).merge(c)
    a, b, c = (_filled(kind, part) for part in thirds)
    right = a.merge(b.merge(c))
    assert _result(left) == _result(right)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cuts", [(0,), (N_BATCHES,), (1, 5), (0, 3, 3, 8), tuple(range(1, N_BATCHES))])
def test_any_split_merges_to_one_pass(kind, cuts):
    """Without it a sharded run (any boundaries, empty shards, any merge order) could differ from one pass."""
    batches = _batches(kind, seed=1)
    whole = _result(_filled(kind, batches))
    bounds = [0, *cuts, N_BATCHES]
    shards = [_filled(kind, batches[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]
    forward = CASES[kind][0]()
    for shard in shards:
        forward.merge(shard)
    assert _result(forward) == whole
    shards = [_filled(kind, batches[lo:hi]) for lo, hi in zip(bounds, bounds[1:])]
    backward = shards[-1]
    for shard in reversed(shards[:-1]):
        backward.merge(shard)
    assert _result(backward) == whole


@pytest.mark.parametrize("kind", KINDS)
def test_compute_is_pure(kind):
    """Without it computing a shard's metrics (a progress report, a slice) would change what it merges."""
    acc = _filled(kind, _batches(kind))
    before = acc.to_bytes()
    first = _result(acc)
    assert acc.to_bytes() == before and _result(acc) == first


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("empty", [False, True])
def test_bytes_round_trip(kind, empty):
    """Without it a shard state saved on one machine could compute or merge other numbers on another."""
    batches = [] if empty else _batches(kind, seed=2)
    acc = _filled(kind, batches)
    data = acc.to_bytes()
    assert data.startswith(STATE_MAGIC)
    back = type(acc).from_bytes(data)
    assert type(back) is type(acc) and _result(back) == _result(acc)
    assert back.to_bytes() == data
    assert type(decode_any(data)) is type(acc)
    assert _result(type(acc).from_bytes(bytearray(data))) == _result(acc)
    # merging round-tripped shards gives what merging the originals gives
    half = len(batches) // 2
    original = _filled(kind, batches[:half]).merge(_filled(kind, batches[half:]))
    tripped = _round_trip(_filled(kind, batches[:half])).merge(_round_trip(_filled(kind, batches[half:])))
    assert _result(tripped) == _result(original)
    assert _result(_round_trip(tripped)) == _result(original)


@pytest.mark.parametrize("kind", KINDS)
def test_mismatched_config_raises_merge_error_naming_the_field(kind):
    """Without it shards of two different models or settings would be summed into a wrong result."""
    _, _, other, field = CASES[kind]
    acc = _filled(kind, _batches(kind))
    before = acc.to_bytes()
    if other is not None:
        with pytest.raises(MergeError, match=rf"^cannot merge: {field} differs \(.+ vs .+\)$"):
            acc.merge(other())
        with pytest.raises(MergeError, match=rf"^cannot merge: {field} differs"):
            acc.merge(_round_trip(other()))
    wrong_kind = CASES[KINDS[(KINDS.index(kind) + 1) % len(KINDS)]][0]()
    with pytest.raises(MergeError, match=r"^cannot merge: kind differs"):
        acc.merge(wrong_kind)
    assert acc.to_bytes() == before  # a refused merge leaves the state alone


def test_any_label_text_round_trips():
    """Without it a label with non-ASCII text (or a lone surrogate from a JSON file) could not be saved."""
    acc = ClassificationAccumulator(("café", "\ud800", "a\"b\n"))
    acc.update(np.array([0, 1, 2]), np.array([0, 2, 2]))
    back = ClassificationAccumulator.from_bytes(acc.to_bytes())
    assert back.labels == acc.labels and _result(back) == _result(acc)


def test_merge_error_message_shows_both_values():
    """Without it a user merging shard states would not see which setting differed, nor how."""
    with pytest.raises(MergeError, match=r"^cannot merge: n_classes differs \(4 vs 5\)$"):
        FomoAccumulator(4).merge(FomoAccumulator(5))
    with pytest.raises(MergeError, match=r"^cannot merge: labels differs \(\['a', 'b'"):
        ClassificationAccumulator(("a", "b")).merge(ClassificationAccumulator(("a", "c")))
    assert issubclass(MergeError, ConfigError)


# --- damaged and forged state bytes -----------------------------------------------------------


def _split(data):
    magic, fmt, n = struct.unpack_from("<8sII", data)
    return magic, fmt, json.loads(data[16:16 + n]), data[16 + n:]


def _join(header, payload, *, magic=STATE_MAGIC, fmt=1):
    text = json.dumps(header).encode()
    return struct.pack("<8sII", magic, fmt, len(text)) + text + payload


def _forgeries(data):
    """(what, bytes) pairs that must each be refused."""
    _, _, header, payload = _split(data)

    def edited(edit):
        h = json.loads(json.dumps(header))
        edit(h)
        return _join(h, payload)

    first = header["arrays"][0]["name"]
    out = [
        ("empty", b""),
        ("magic", b"PICKLE\x80\x04" + data[8:]),
        ("format version", struct.pack("<8sII", STATE_MAGIC, 2, 0) + data[16:]),
        ("header length", data[:12] + struct.pack("<I", 2**31) + data[16:]),
        ("header not json", data[:16] + b"\xff" * (len(data) - 16)),
        ("deep json", _join_raw(b"[" * 100000 + b"]" * 100000)),
        ("header a list", _join_raw(b"[1, 2]")),
        ("trailing bytes", data + b"\0" * 8),
        ("kind", edited(lambda h: h.update(kind="not-a-kind"))),
        ("version", edited(lambda h: h.update(version=h["version"] + 1))),
        ("extra header key", edited(lambda h: h.update(code="__import__('os')"))),
        ("object dtype", edited(lambda h: h["arrays"][0].update(dtype="|O"))),
        ("big-endian dtype", edited(lambda h: h["arrays"][0].update(dtype=">f8"))),
        ("huge shape", edited(lambda h: h["arrays"][0].update(shape=[2**40, 2**40]))),
        ("negative shape", edited(lambda h: h["arrays"][0].update(shape=[-1]))),
        ("float shape", edited(lambda h: h["arrays"][0].update(shape=[1.5]))),
        ("offset", edited(lambda h: h["arrays"][-1].update(offset=h["arrays"][-1]["offset"] + 8))),
        ("array twice", edited(lambda h: h["arrays"].append(dict(h["arrays"][0], offset=len(payload))))),
        ("array missing", edited(lambda h: h["arrays"].pop())),
        ("array renamed", edited(lambda h: h["arrays"][0].update(name=first + "_x"))),
        ("fields replaced", edited(lambda h: h.update(fields={"unexpected": 1}))),
    ]
    for name, value in header["fields"].items():
        wrong = "3" if not isinstance(value, str) else 3
        out.append((f"field {name} retyped", edited(lambda h, n=name, w=wrong: h["fields"].update({n: w}))))
    return out


def _join_raw(text):
    return struct.pack("<8sII", STATE_MAGIC, 1, len(text)) + text


@pytest.mark.parametrize("kind", KINDS)
def test_forged_state_raises_config_error(kind):
    """Without it a hostile or mistaken state file could crash the merge with a traceback or exhaust memory."""
    data = _filled(kind, _batches(kind)).to_bytes()
    cls = ACCUMULATOR_KINDS[kind]
    for what, forged in _forgeries(data):
        for decode in (cls.from_bytes, decode_any):
            try:
                decode(forged)
            except ConfigError as err:
                assert "\n" not in str(err), what
            else:
                raise AssertionError(f"{kind}: {what} was accepted")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a flipped exponent bit overflows a square
@pytest.mark.parametrize("kind", KINDS)
def test_truncated_or_damaged_state_never_crashes(kind):
    """Without it a state file cut short or bit-flipped in transit could end in a traceback."""
    data = _filled(kind, _batches(kind)).to_bytes()
    cls = ACCUMULATOR_KINDS[kind]
    for n in range(len(data)):
        with pytest.raises(ConfigError):
            cls.from_bytes(data[:n])
    rng = np.random.default_rng(3)
    for position in rng.integers(0, len(data), 300):
        damaged = bytearray(data)
        damaged[position] ^= 1 << int(rng.integers(0, 8))
        try:
            back = cls.from_bytes(bytes(damaged))
        except ConfigError:
            continue
        back.compute()  # a flip inside a number decodes; its state must still compute


def test_counts_must_not_be_negative():
    """Without it a forged count matrix could give negative window counts in the response."""
    acc = FomoAccumulator(2)
    acc.update(SimpleNamespace(label_pair_counts=np.ones((3, 3), np.int64)))
    _, _, header, payload = _split(acc.to_bytes())
    counts = np.frombuffer(payload[:72], np.int64).copy()
    counts[4] = -5
    with pytest.raises(ConfigError, match="negative"):
        FomoAccumulator.from_bytes(_join(header, counts.tobytes() + payload[72:]))


def test_bool_bytes_must_be_zero_or_one():
    """Without it a forged bool array could hold values numpy treats inconsistently."""
    acc = MultiLabelMetricsAccumulator(1)
    acc.update(np.array([[True]]), np.array([[False]]), np.array([[0.2]]))
    _, _, header, payload = _split(acc.to_bytes())
    with pytest.raises(ConfigError, match="0 or 1"):
        MultiLabelMetricsAccumulator.from_bytes(_join(header, b"\x02" + payload[1:]))


def test_named_accumulators_round_trip_in_one_state():
    """Without it a shard's state file (every accumulator of a run plus its counts) could not be read back whole."""
    named = {f"{kind}/{i}": _filled(kind, _batches(kind, seed=i)) for i, kind in enumerate(KINDS)}
    data = encode_accumulators(named, meta={"n_samples": 7, "labels": ["a", "b"]})
    back, meta = decode_accumulators(data)
    assert list(back) == list(named) and meta == {"n_samples": 7, "labels": ["a", "b"]}
    for name, acc in named.items():
        assert type(back[name]) is type(acc) and _result(back[name]) == _result(acc)
    one = named[f"fomo/{KINDS.index('fomo')}"].to_bytes()
    with pytest.raises(ConfigError, match="kind is 'fomo', expected 'accumulators'"):
        decode_accumulators(one)
    _, _, header, payload = _split(data)
    header["fields"]["names"].reverse()
    with pytest.raises(ConfigError, match="names do not match"):
        decode_accumulators(_join(header, payload))
    for n in range(0, len(data), 97):
        with pytest.raises(ConfigError):
            decode_accumulators(data[:n])


@pytest.mark.parametrize(("kind", "field"), [("classifier-scores", "n_classes"), ("multilabel", "n_labels"),
                                             ("coco", "num_classes")])
def test_a_forged_class_count_is_refused(kind, field):
    """Without it a state with no windows but 2**40 classes would decode and exhaust memory in compute()."""
    _, _, header, payload = _split(CASES[kind][0]().to_bytes())
    header["fields"][field] = 2**40
    for array in header["arrays"]:
        array["shape"] = [2**40 if n == 3 else n for n in array["shape"]]
    with pytest.raises(ConfigError, match=f"field {field} must be classes, got {2**40}"):
        ACCUMULATOR_KINDS[kind].from_bytes(_join(header, payload))
