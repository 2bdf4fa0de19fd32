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


# -- every fixture bundle's output files, shared by the output oracles ------------------------------

#: ``--page-size`` values the fixture outputs are also written with: one sample a page, and three
#: (several pages, the last one usually short).
OUTPUT_PAGE_SIZES = (1, 3)


def _bundle_variants() -> list[tuple[str, str]]:
    """(bundle, variant) for every bundle under ``fixtures/`` (a folder with an ``impulse.json``)
    and every model variant it has."""
    from evalcore.bundle import load_project

    bundles = sorted(p for p in FIXTURES.iterdir() if (p / "impulse.json").is_file())
    return [(p.name, variant) for p in bundles for variant in load_project(p).available_variants]


def pytest_generate_tests(metafunc):
    """A test taking ``bundle_variant`` runs once per fixture bundle and variant."""
    if "bundle_variant" in metafunc.fixturenames:
        pairs = _bundle_variants()
        metafunc.parametrize("bundle_variant", pairs, ids=[f"{name}-{variant}" for name, variant in pairs])


@pytest.fixture(scope="session")
def all_bundle_variants() -> list[tuple[str, str]]:
    """The (bundle, variant) pairs ``bundle_variant`` runs over, for a test that takes them all at once."""
    return _bundle_variants()


@pytest.fixture(scope="session")
def fixture_outputs(fixtures_dir, tmp_path_factory):
    """``outputs(name, variant)``: the folder of what ``evalcore run`` writes for a fixture bundle.

    The folder holds ``result.json``, ``result.run.json`` and ``pages-<n>/page-<k>.json`` for each
    ``n`` of ``OUTPUT_PAGE_SIZES``, written by ``engine.write_outputs`` from one in-process run
    (``workers=0``) made on first use and kept for the session, so that the oracles of several
    test files read the same bytes without running the bundle again.
    """
    from evalcore.engine import RunOptions, run_bundle, write_outputs

    folders: dict[tuple[str, str], Path] = {}

    def outputs(name: str, variant: str) -> Path:
        if (name, variant) not in folders:
            if variant == "akida":
                pytest.importorskip("akida", reason="the akida extra is not installed")
            result = run_bundle(fixtures_dir / name, RunOptions(variant=variant, workers=0))
            folder = tmp_path_factory.mktemp(f"{name}-{variant}")
            for page_size in OUTPUT_PAGE_SIZES:
                write_outputs(result, out=folder / "result.json", page_size=page_size,
                              out_dir=folder / f"pages-{page_size}")
            folders[name, variant] = folder
        return folders[name, variant]

    return outputs
