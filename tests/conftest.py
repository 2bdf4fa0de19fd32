"""Shared test fixtures: where the golden data and the real Edge Impulse material live.

The golden data and real exports sit in ``../shared`` next to the repository (CI lays a copy
there). Tests read them in place and never copy them into the repo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
GOLDEN = SHARED / "golden"
REAL = SHARED / "real"
FIXTURES = REPO_ROOT / "fixtures"


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """``../shared/golden``; the test is skipped with a reason when it is absent."""
    if not GOLDEN.is_dir():
        pytest.skip(f"golden data not found at {GOLDEN}")
    return GOLDEN


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """``../shared/real``; the test is skipped with a reason when it is absent."""
    if not REAL.is_dir():
        pytest.skip(f"real Edge Impulse material not found at {REAL}")
    return REAL


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The repository's own ``fixtures/`` folder."""
    return FIXTURES


@pytest.fixture(scope="session")
def models(fixtures_dir) -> Path:
    """``fixtures/models``: the tiny backend test models (``build_backend_models.py``)."""
    return fixtures_dir / "models"


@pytest.fixture(scope="session")
def motion_rows(models) -> np.ndarray:
    """Held-out feature rows of the ``motion_fc`` test models."""
    return np.load(models / "motion_fc.features.npy", allow_pickle=False)
