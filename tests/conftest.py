"""Shared test fixtures: where the golden data and the real Edge Impulse material live, and the
rules that keep parity tests from vanishing.

The golden data and real exports sit in ``../shared`` next to the repository (CI lays a copy
there). Tests read them in place and never copy them into the repo.

When the ``CI`` environment variable is set (to anything but ``""``, ``0``, ``false`` or ``no``):

- the session refuses to start when ``../shared/golden``, ``../shared/real`` or
  ``../shared/reference`` is missing (without them hundreds of parity tests would not run);
- a test or a module that skips is reported as a failure instead: CI has every extra and every
  data folder, so a skip there means a test that did not run, never a platform limit.

Outside CI, a test that needs missing shared data skips with one reason per missing folder
(``skip_if_shared_missing``, ``require_shared``), reported once per folder by ``-ra``.
``tests/test_golden_counts.py`` checks that every case in ``../shared/golden`` became a test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
GOLDEN = SHARED / "golden"
REAL = SHARED / "real"
REFERENCE = SHARED / "reference"
FIXTURES = REPO_ROOT / "fixtures"
SHARED_FOLDERS = (GOLDEN, REAL, REFERENCE)

# Golden group -> (folder under golden/, test module, per-case test functions, number of cases the
# golden README documents). Every per-case test is parametrized with one item per case, so the
# collected items of these functions must equal the cases on disk (tests/test_golden_counts.py).
GOLDEN_GROUPS = {
    "dsp": ("dsp", "test_dsp_golden.py", ("test_golden_case",), 245),
    "dsp-errors": ("dsp", "test_dsp_golden.py", ("test_golden_error_case",), 27),
    "classification": ("classification", "test_golden_classification.py", ("test_golden_classification_case",), 67),
    "anomaly": ("anomaly", "test_golden_anomaly.py", ("test_golden_kmeans_case", "test_golden_gmm_case"), 50),
    # 14 edge + 150 random samples, plus the 116 member samples of the 8 pooled data sets.
    "fomo": ("fomo", "test_golden_fomo.py", ("test_fomo_sample_matches_golden",), 280),
    "od_map": ("od_map", "test_golden_od_map.py", ("test_od_map_case",), 198),
    "coco": ("coco", "test_golden_coco.py", ("test_coco_case",), 24),
}
_COLLECTED = pytest.StashKey[dict]()


def in_ci() -> bool:
    """Whether the ``CI`` environment variable asks for the strict rules above."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_shared_folders() -> list[Path]:
    """The folders of ``../shared`` the test suite needs and does not find."""
    return [folder for folder in SHARED_FOLDERS if not folder.is_dir()]


_SHARED_MISSING = "shared data missing: "


def shared_missing_reason(path: Path) -> str | None:
    """None when ``path`` (under ``../shared``) exists, else a skip reason naming the first folder
    on the way that is missing, so every test needing that folder gives the same reason."""
    if path.exists():
        return None
    parts = path.relative_to(SHARED).parts
    first = SHARED / parts[0]  # golden, real, reference or seeds, even when ../shared itself is absent
    for part in parts[1:]:
        if not first.exists():
            break
        first = first / part
    return f"{_SHARED_MISSING}{first} (tests that need it skip; under CI this fails)"


def skip_if_shared_missing(path: Path) -> Path:
    """Skip the calling test when ``path`` under ``../shared`` is absent; returns ``path``."""
    reason = shared_missing_reason(path)
    if reason:
        pytest.skip(reason)
    return path


def require_shared(path: Path) -> Path:
    """Skip the calling test module as a whole when ``path`` under ``../shared`` is absent.

    Call it at module level before anything reads ``path``, so a parametrization over its cases
    never collapses into an empty parameter set. Under CI the skip is turned into a failure.
    """
    reason = shared_missing_reason(path)
    if reason:
        pytest.skip(reason, allow_module_level=True)
    return path


def golden_cases_on_disk(golden: Path) -> dict[str, int]:
    """Cases per golden group, counted from the folder, not from the lists the tests parametrize.

    dsp: the expected-feature files; dsp-errors: the entries of ``error_cases.json`` (they have
    no files); the other groups: the ``n_cases`` their ``cases.json`` header declares. A group
    whose folder is absent is left out.
    """
    counts = {}
    dsp = golden / "dsp"
    if dsp.is_dir():
        counts["dsp"] = sum(1 for _ in (dsp / "expected").glob("*.npz"))
        counts["dsp-errors"] = len(json.loads((dsp / "error_cases.json").read_text())["cases"])
    for group, (folder, *_rest) in GOLDEN_GROUPS.items():
        path = golden / folder / "cases.json"
        if folder != "dsp" and path.is_file():
            counts[group] = json.loads(path.read_text())["n_cases"]
    return counts


def collected_golden_cases(config: pytest.Config) -> dict[str, int]:
    """Collected per-case items per golden group, for the groups whose module this run collected."""
    return config.stash.get(_COLLECTED, {})


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under CI, stop before collecting when the shared reference data is not there."""
    missing = missing_shared_folders()
    if in_ci() and missing:
        pytest.exit(f"CI is set but shared reference data is missing ({', '.join(str(p) for p in missing)}): "
                    "the parity tests need a copy of shared/ next to the repository",
                    returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list) -> None:
    """Count the per-case golden items (before ``-k``/``-m`` deselect any)."""
    modules = {item.path.name for item in items}
    counts = {}
    for group, (_folder, module, functions, _documented) in GOLDEN_GROUPS.items():
        if module in modules:
            counts[group] = sum(1 for item in items
                                if item.path.name == module and getattr(item, "originalname", None) in functions)
    config.stash[_COLLECTED] = counts


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


def _fail_skip_in_ci(report) -> None:
    """Under CI turn a skip into a failure; outside CI report every skip for missing shared data
    at this file, so ``-ra`` folds them into one line per missing folder."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if in_ci():
        report.longrepr = f"skipped under CI, where every test must run: {reason}"
        report.outcome = "failed"
    elif isinstance(report.longrepr, tuple) and reason.removeprefix("Skipped: ").startswith(_SHARED_MISSING):
        report.longrepr = (__file__, None, reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI a skipped test is a failure (see the module docstring)."""
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """Under CI a module that skips as a whole is a failure too."""
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """``../shared/golden``; the test is skipped with a reason when it is absent."""
    return skip_if_shared_missing(GOLDEN)


@pytest.fixture(scope="session")
def real_dir() -> Path:
    """``../shared/real``; the test is skipped with a reason when it is absent."""
    return skip_if_shared_missing(REAL)


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


@pytest.fixture
def client_models(monkeypatch):
    """The client's response models, with ``BlockThresholdValue`` made to work as generated code intends.

    - ``validate_assignment = True`` on that one model: its oneOf test assignments then validate
      (``float`` / ``StrictStr``), so a JSON number matches only ``float`` and a string only
      ``str``, with the client's own matching code;
    - ``to_dict`` returns the matched value itself (a number or a string is its own JSON form).
    ``test_threshold_workaround_*`` in tests/test_client_oracle.py shows the bug and what the workaround accepts.
    """
    models = pytest.importorskip("edgeimpulse_api.models")
    BlockThresholdValue = models.BlockThresholdValue  # noqa: N806  (the client's class name)
    monkeypatch.setattr(BlockThresholdValue.__config__, "validate_assignment", True)
    monkeypatch.setattr(BlockThresholdValue, "to_dict", lambda self: self.actual_instance)
    return models.ClassifyJobResponse, models.ClassifyJobResponsePage
