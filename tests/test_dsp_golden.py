"""Parity of evalcore.dsp with Edge Impulse's processing blocks on ``shared/golden/dsp``.

Every case of ``cases.json`` runs through ``generate_features``; features are compared with the
tolerances of the golden README, and ``output_config``, ``fft_used`` and ``labels`` must be equal.
Every case of ``error_cases.json`` must raise our ConfigError. The module skips as a whole, with
one reason, when ``../shared/golden/dsp`` is absent (a failure under CI, see tests/conftest.py).
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache

import numpy as np
import pytest

from evalcore.dsp import generate_features
from evalcore.errors import ConfigError
from tests.conftest import GOLDEN, require_shared

DSP_DIR = require_shared(GOLDEN / "dsp")

# (rtol, atol) per block, from the golden README's "suggested np.allclose tolerance". raw, image,
# flatten and MFE v3/v4 are bit-exact here, so their budget is the README's tightest.
EXACT = (0.0, 1e-12)
TOLERANCES = {
    "raw": EXACT,
    "image": EXACT,
    "flatten": (1e-9, 1e-12),
    # float32 pipeline; cross-stack drift up to 2.3e-5 abs, wavelet entropy can step (README).
    "spectral-analysis": (1e-4, 1e-4),
    "spectrogram": (1e-6, 1e-6),
    "mfe-v1": (1e-5, 1e-6),
    # Values are multiples of 1/256; the README allows rare one-step misses, we have none.
    "mfe-v3": (0.0, 1e-6),
    "mfcc": (1e-5, 1e-5),
}


def _tolerance(block: str, version: int) -> tuple[float, float]:
    if block == "mfe":
        return TOLERANCES["mfe-v1" if version <= 2 else "mfe-v3"]
    return TOLERANCES[block]


def _load_json(name: str) -> dict:
    return json.loads((DSP_DIR / name).read_text())


CASES = _load_json("cases.json")["cases"]
ERROR_CASES = _load_json("error_cases.json")["cases"]


def _load_input(case: dict) -> np.ndarray:
    with np.load(DSP_DIR / case["input_file"], allow_pickle=False) as npz:
        return npz["raw_data"].astype(case["input_call_dtype"])


@cache
def _run(case_id: str) -> tuple[dict, np.ndarray]:
    """Our output and the expected features for one case (cached for the summary test)."""
    case = next(c for c in CASES if c["id"] == case_id)
    out = generate_features(case["block"], case["implementation_version"], _load_input(case), case["axes"],
                            case["sampling_freq"], **case["params"])
    with np.load(DSP_DIR / case["expected_file"], allow_pickle=False) as npz:
        expected = npz["features"]
    return out, expected


def _mismatch(case: dict, out: dict, expected: np.ndarray) -> str | None:
    """None when the case passes, else a message naming the first differing value."""
    got = out["features"]
    if got.shape != expected.shape:
        return f"shape {got.shape} != expected {expected.shape}"
    rtol, atol = _tolerance(case["block"], case["implementation_version"])
    close = np.isclose(got, expected, rtol=rtol, atol=atol)
    if not close.all():
        i = int(np.flatnonzero(~close)[0])
        return (f"{int((~close).sum())} values off; first at [{i}]: got {got[i]!r}, expected {expected[i]!r}, "
                f"delta {got[i] - expected[i]:.3g} (rtol={rtol}, atol={atol})")
    for key in ("output_config", "fft_used", "labels"):
        if out.get(key) != case.get(key):
            return f"{key} {out.get(key)!r} != expected {case.get(key)!r}"
    return None


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden_case(case):
    """Without this, a DSP block could drift from Edge Impulse's features and every model would see wrong inputs."""
    out, expected = _run(case["id"])
    problem = _mismatch(case, out, expected)
    assert problem is None, f"{case['id']}: {problem}"


@pytest.mark.oracle
def test_golden_summary(capsys):
    """Without this, the pass counts per block would not show (the case count is held by
    tests/test_golden_counts.py)."""
    passed, total = Counter(), Counter()
    for case in CASES:
        total[case["block"]] += 1
        out, expected = _run(case["id"])
        passed[case["block"]] += _mismatch(case, out, expected) is None
    with capsys.disabled():
        print("\ngolden dsp cases passed per block:")
        for block in total:
            print(f"  {block:18s} {passed[block]:3d} / {total[block]}")
    assert passed == total, dict(passed)


@pytest.mark.oracle
@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["id"] for c in ERROR_CASES])
def test_golden_error_case(case):
    """Without this, a configuration Edge Impulse rejects would produce features instead of a clear error."""
    with pytest.raises(ConfigError) as info:
        generate_features(case["block"], case["implementation_version"], _load_input(case), case["axes"],
                          case["sampling_freq"], **case["params"])
    message = str(info.value)
    assert message[:1].islower(), message
    assert not message.endswith("."), message
    assert case["block"] in message, f"message does not name the block: {message}"
