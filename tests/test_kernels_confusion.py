"""kernels.confusion against its naive reference and sklearn's confusion_matrix."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.confusion import confusion_matrix, per_class_good_bad
from tests.naive import naive_confusion_matrix, naive_per_class_good_bad

LABEL_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64]


def _assert_same(actual, expected):
    """Whole-array equality with the first differing index in the message."""
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"dtype {actual.dtype} != {expected.dtype}"
    diff = np.argwhere(actual != expected)
    if diff.size:
        idx = tuple(diff[0])
        raise AssertionError(
            f"first difference at {idx}: got {actual[idx]}, expected {expected[idx]} "
            f"({diff.shape[0]} differing entries)"
        )


def _random_labels(rng, n, n_classes, dtype, agree=0.7):
    y_true = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < agree, y_true, rng.integers(0, n_classes, n))
    return y_true.astype(dtype), y_pred.astype(dtype)


@pytest.mark.parametrize("dtype", LABEL_DTYPES)
def test_confusion_matches_naive_random(dtype):
    """Every label dtype compiles its own specialisation; a wrong cast would miscount silently."""
    rng = np.random.default_rng(1)
    for n, k in [(0, 3), (1, 1), (17, 2), (1000, 5), (5000, 12)]:
        y_true, y_pred = _random_labels(rng, n, k, dtype)
        _assert_same(confusion_matrix(y_true, y_pred, k), naive_confusion_matrix(y_true, y_pred, k))
        _assert_same(per_class_good_bad(y_true, y_pred, k), naive_per_class_good_bad(y_true, y_pred, k))


def test_confusion_skips_out_of_range_labels():
    """A -1 (test label unknown to the model) or a too-large label must be dropped, not wrap around."""
    y_true = np.array([-1, 0, 1, 2, 1, 0, -128, 127], dtype=np.int8)
    y_pred = np.array([0, 0, 1, 1, -1, 2, 0, 1], dtype=np.int8)
    _assert_same(confusion_matrix(y_true, y_pred, 2), naive_confusion_matrix(y_true, y_pred, 2))
    _assert_same(per_class_good_bad(y_true, y_pred, 2), naive_per_class_good_bad(y_true, y_pred, 2))
    big = np.array([2**40, 1], dtype=np.int64)
    _assert_same(confusion_matrix(big, np.array([0, 1]), 2), np.array([[0, 0], [0, 1]], dtype=np.int64))


def test_confusion_edge_cases():
    """Empty input, zero classes and a single class must give well-shaped zero/count matrices."""
    empty = np.array([], dtype=np.int32)
    _assert_same(confusion_matrix(empty, empty, 3), np.zeros((3, 3), dtype=np.int64))
    _assert_same(confusion_matrix(empty, empty, 0), np.zeros((0, 0), dtype=np.int64))
    ones = np.zeros(5, dtype=np.int16)
    _assert_same(confusion_matrix(ones, ones, 1), np.array([[5]], dtype=np.int64))
    _assert_same(per_class_good_bad(ones, ones + 1, 1), np.array([[0, 5]], dtype=np.int64))


def test_confusion_out_accumulates_in_place():
    """Accumulators add into their state; overwriting instead of adding would lose earlier batches."""
    rng = np.random.default_rng(2)
    a_true, a_pred = _random_labels(rng, 300, 4, np.int32)
    b_true, b_pred = _random_labels(rng, 200, 4, np.int32)
    out = np.zeros((4, 4), dtype=np.int64)
    confusion_matrix(a_true, a_pred, 4, out=out)
    result = confusion_matrix(b_true, b_pred, 4, out=out)
    assert result is out
    both = naive_confusion_matrix(np.concatenate([a_true, b_true]), np.concatenate([a_pred, b_pred]), 4)
    _assert_same(out, both)


def test_confusion_contract_errors():
    """Float labels, 2-D input, unequal lengths or a wrong ``out`` must raise, not compute garbage."""
    ints = np.zeros(3, dtype=np.int64)
    with pytest.raises(TypeError):
        confusion_matrix(np.zeros(3), ints, 2)
    with pytest.raises(ValueError):
        confusion_matrix(ints.reshape(3, 1), ints.reshape(3, 1), 2)
    with pytest.raises(ValueError):
        confusion_matrix(ints, ints[:2], 2)
    with pytest.raises(ValueError):
        confusion_matrix(ints, ints, -1)
    with pytest.raises(ValueError):
        confusion_matrix(ints, ints, 2, out=np.zeros((2, 2), dtype=np.int32))


@pytest.mark.oracle
def test_confusion_equals_sklearn():
    """Bit-identical to sklearn.metrics.confusion_matrix(labels=range(K)), the reference Studio's code uses."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for n, k in [(3, 2), (250, 3), (4000, 7)]:
        y_true, y_pred = _random_labels(rng, n, k, np.int64)
        y_true[1::37] = -1  # unknown test label, dropped by both
        expected = skm.confusion_matrix(y_true.copy(), y_pred.copy(), labels=list(range(k)))
        _assert_same(confusion_matrix(y_true, y_pred, k), expected.astype(np.int64))


def _with_strays(rng, y_true, y_pred, rate=0.002):
    """Labels outside 0..K-1 here and there (negative, K..15, >= 16) in both arrays."""
    info = np.iinfo(y_true.dtype)
    strays = np.array([v for v in (-1, -128, 11, 15, 16, 17, 200, 255, 2**31 - 1, 2**40)
                       if info.min <= v <= info.max], dtype=y_true.dtype)
    for labels in (y_true, y_pred):
        where = rng.random(labels.shape[0]) < rate
        labels[where] = rng.choice(strays, int(where.sum()))
    return y_true, y_pred


@pytest.mark.parametrize("dtype", LABEL_DTYPES + [np.uint16, np.uint32])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 10, 15, 16])
def test_chunk_path_matches_naive(monkeypatch, dtype, k):
    """Without it the K <= 16 chunk path (byte codes, 16-bit pair codes, the pipelined chunks,
    the fold; for K <= 3 two 4-bit codes a byte) could miscount a code, a stray label (clamped
    to 15, or to 3 for K <= 3; a pair-by-pair run for K = 16), the first or last chunk, the
    tail, an offset view or a strided one."""
    import kernels.confusion as confusion

    monkeypatch.setattr(confusion, "_CHUNK_MIN_PAIRS", 0)  # the chunk path whatever the length
    wide = np.dtype(dtype).itemsize > 2
    chunk = confusion._CHUNK_PAIRS_WIDE if wide else confusion._CHUNK_PAIRS_NARROW
    run = confusion._PAIRS_PER_CHECK
    rng = np.random.default_rng(k)
    for n in (0, 3, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk + 7, 5 * chunk + 1, run + 5,
              3 * run + 40):
        y_true, y_pred = _with_strays(rng, *_random_labels(rng, n, k, dtype))
        y_true[5::101], y_pred[7::103] = k, k + 1  # the first labels past K (K..3 clamp to 3)
        want = naive_confusion_matrix(y_true, y_pred, k)
        _assert_same(confusion_matrix(y_true, y_pred, k), want)
        if n > 1:  # an offset view (the chunk path, unaligned), a strided one (the pair loop)
            _assert_same(confusion_matrix(y_true[1:], y_pred[1:], k),
                         naive_confusion_matrix(y_true[1:], y_pred[1:], k))
            _assert_same(confusion_matrix(y_true[::2], y_pred[::2], k),
                         naive_confusion_matrix(y_true[::2], y_pred[::2], k))
        _assert_same(confusion_matrix(y_true, y_pred.astype(np.int64), k), want)  # mixed widths


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint64])
def test_chunk_path_k16_clean_and_stray_runs(monkeypatch, dtype):
    """K = 16 has no spare code: a run with a label >= 16 or negative must be counted pair by
    pair while its clean neighbours take the codes, and 15 must stay a real label."""
    import kernels.confusion as confusion

    monkeypatch.setattr(confusion, "_CHUNK_MIN_PAIRS", 0)
    block = confusion._PAIRS_PER_CHECK  # one checked run
    rng = np.random.default_rng(16)
    y_true, y_pred = _random_labels(rng, 4 * block, 16, dtype)
    y_true[block + 7] = dtype(16)  # run 1: a label just past K
    y_pred[2 * block] = dtype(np.iinfo(dtype).max)  # run 2: -1 (signed) or the largest value
    y_true[3 * block - 1] = dtype(15)  # a real label, in the stray run 2
    _assert_same(confusion_matrix(y_true, y_pred, 16), naive_confusion_matrix(y_true, y_pred, 16))
    if np.iinfo(dtype).min < 0:
        y_true[3 * block + 5] = dtype(-1)  # run 3: negative
        _assert_same(confusion_matrix(y_true, y_pred, 16), naive_confusion_matrix(y_true, y_pred, 16))


def test_code_words_count_all_four_codes_of_a_word():
    """``_count_code_words`` picks four 16-bit codes out of each 64-bit word by shifts; a wrong
    shift or mask would count one code twice and another never, or a code outside the words."""
    from kernels.confusion import _count_code_words

    rng = np.random.default_rng(9)
    codes = rng.integers(0, 1 << 16, 4 * 40, dtype=np.uint16)
    codes[:4] = [0x0001, 0x0100, 0xFFFF, 0x8000]  # low and high bytes, the largest, the top bit
    table = np.zeros(1 << 16, np.uint32)
    _count_code_words(codes.view(np.uint64), 1, 38, table)  # words 1..38 of 40
    want = np.bincount(codes[4:4 * 39], minlength=1 << 16).astype(np.uint32)
    _assert_same(table, want)
    _count_code_words(codes.view(np.uint64), 0, 1, table)
    want[[0x0001, 0x0100, 0xFFFF, 0x8000]] += 1
    _assert_same(table, want)


@pytest.mark.parametrize("n", [17, 300_007])
def test_byte_swapped_labels_are_counted_by_value(n):
    """Big-endian labels (a file read with ``>i4``): numba cannot take them, and the chunk path
    reads the raw bytes, so without the conversion they fail or miscount."""
    rng = np.random.default_rng(6)
    y_true, y_pred = _with_strays(rng, *_random_labels(rng, n, 10, np.int32))
    swapped_true, swapped_pred = y_true.astype(">i4"), y_pred.astype(">i4")
    _assert_same(confusion_matrix(swapped_true, swapped_pred, 10),
                 naive_confusion_matrix(y_true, y_pred, 10))
    _assert_same(per_class_good_bad(swapped_true, swapped_pred, 10),
                 naive_per_class_good_bad(y_true, y_pred, 10))


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_long_input_takes_the_chunk_path_and_matches_naive(monkeypatch, dtype):
    """The default thresholds: a long K = 10 input takes the chunk path and equals the naive count."""
    import kernels.confusion as confusion

    calls = []
    for name in ("_confusion_chunks_narrow", "_confusion_chunks_wide", "_confusion_chunks_eight"):
        chunks = getattr(confusion, name)
        monkeypatch.setattr(confusion, name, lambda *args, chunks=chunks: calls.append(1) or chunks(*args))
    rng = np.random.default_rng(4)
    y_true, y_pred = _with_strays(rng, *_random_labels(rng, 300_007, 10, dtype))
    _assert_same(confusion_matrix(y_true, y_pred, 10), naive_confusion_matrix(y_true, y_pred, 10))
    assert calls, "a long K = 10 input did not take the chunk path"


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64])
def test_chunk_path_equals_sklearn(dtype):
    """The chunk path against sklearn.metrics.confusion_matrix on a long input with strays."""
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    y_true, y_pred = _with_strays(rng, *_random_labels(rng, 400_000, 16, dtype))
    expected = skm.confusion_matrix(y_true.astype(np.int64), y_pred.astype(np.int64), labels=list(range(16)))
    _assert_same(confusion_matrix(y_true, y_pred, 16), expected.astype(np.int64))
