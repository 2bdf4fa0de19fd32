"""Batched ``compute_features`` must equal per-window ``generate_features`` bit for bit.

One configuration per (block, version) plus the special paths (wavelet, extra-low-frequency,
decimation, v1 peaks), taken from the golden cases, run on random windows of the same size.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import evalcore.dsp._api as dsp_api
from evalcore.dsp import compute_features, generate_features
from evalcore.errors import ConfigError
from tests.conftest import GOLDEN, require_shared

require_shared(GOLDEN / "dsp")

from tests.test_dsp_golden import CASES, _load_input  # noqa: E402  (reads the folder checked above)


def _representative_cases() -> list[dict]:
    picked, seen = [], set()
    for case in CASES:
        params = case["params"]
        kind = (
            case["block"], case["implementation_version"], params.get("analysis_type"),
            bool(params.get("extra_low_freq")), params.get("input_decimation_ratio", 1) > 1,
            params.get("win_size", 1) == 0,
        )
        if kind not in seen:
            seen.add(kind)
            picked.append(case)
    return picked


REPRESENTATIVE = _representative_cases()


def _random_windows(case: dict, n_windows: int, rng: np.random.Generator) -> np.ndarray:
    """Random windows shaped like the case's input: int16-scale audio, sensor-like motion or packed pixels."""
    template = _load_input(case)
    n_values = template.size
    if case["block"] == "image":
        pixels = rng.integers(0, 1 << 24, size=(n_windows, n_values - 2))
        head = np.broadcast_to(template[:2], (n_windows, 2))
        return np.concatenate([head, pixels], axis=1).astype(np.int64)
    scale = float(np.std(template)) or 1.0
    windows = rng.standard_normal((n_windows, n_values)) * scale + float(np.mean(template))
    if scale > 100:  # audio: integers on the int16 scale, one silent window, one in [-1, 1]
        windows = np.clip(np.round(windows), -32768, 32767)
        windows[1] = 0.0
        windows[2] /= 32768.0
    return windows


@pytest.mark.parametrize("case", REPRESENTATIVE, ids=[c["id"] for c in REPRESENTATIVE])
def test_batch_equals_per_window(case, monkeypatch):
    """Without this, the engine's batched features could differ from the per-window ones parity is tested on."""
    rng = np.random.default_rng(zlib.crc32(case["id"].encode()))
    windows = _random_windows(case, 5, rng)
    monkeypatch.setattr(dsp_api, "_CHUNK_VALUES", 2 * windows.shape[1])  # chunks of 2, 2 and 1 windows
    args = (case["block"], case["implementation_version"])
    batched = compute_features(*args, windows, case["axes"], case["sampling_freq"], case["params"])
    assert batched.dtype == np.float32 and batched.shape == (5, case["feature_count"])
    for i, window in enumerate(windows):
        single = generate_features(*args, window, case["axes"], case["sampling_freq"], **case["params"])
        expected = single["features"].astype(np.float32)
        same = batched[i].view(np.uint32) == expected.view(np.uint32)
        if not same.all():
            j = int(np.flatnonzero(~same)[0])
            pytest.fail(f"window {i}, feature {j}: batched {batched[i, j]!r} != per-window {expected[j]!r}")


def test_batch_of_zero_windows():
    """Without this, an empty sample would crash the engine instead of giving (0, F) features."""
    out = compute_features("flatten", 1, np.empty((0, 6)), ["x", "y"], 100, {})
    assert out.shape == (0, 14) and out.dtype == np.float32
    image = compute_features("image", 1, np.empty((0, 2 + 4 * 3)), ["image"], 0, {"channels": "RGB"})
    assert image.shape == (0, 36)


def test_batch_rejects_one_dimensional_windows():
    """Without this, a flat window passed as a batch would be misread as many one-value windows."""
    with pytest.raises(ConfigError, match="two-dimensional"):
        compute_features("raw", 1, np.zeros(6), ["x"], 100, {})
