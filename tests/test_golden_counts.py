"""Every case in ``../shared/golden`` becomes a collected test: a missing case fails, never skips.

``tests/conftest.py`` counts the per-case items pytest collected for each golden group
(``GOLDEN_GROUPS``); here they are compared with the cases counted on disk (files, or the
``n_cases`` header, not the lists the tests parametrize over) and with the number the golden
README documents. A removed case therefore fails whether it was dropped from the list only, or
from the list and the header alike. The last test runs pytest on a copy of one group with a case
removed and shows that the suite fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import (
    GOLDEN,
    GOLDEN_GROUPS,
    REPO_ROOT,
    collected_golden_cases,
    golden_cases_on_disk,
    skip_if_shared_missing,
)


@pytest.mark.parametrize("group", sorted(GOLDEN_GROUPS))
def test_every_golden_case_is_collected(group, pytestconfig):
    """Without it a golden case dropped from cases.json, or a parametrization that filters cases,
    would shrink the parity tests while the suite stays green."""
    folder, module, functions, documented = GOLDEN_GROUPS[group]
    skip_if_shared_missing(GOLDEN / folder)
    collected = collected_golden_cases(pytestconfig)
    if group not in collected:
        pytest.skip(f"tests/{module} is not part of this run: run it with this file to check its cases")
    on_disk = golden_cases_on_disk(GOLDEN).get(group)
    assert (collected[group], on_disk) == (documented, documented), (
        f"golden {group}: {collected[group]} cases collected by {module}::{'/'.join(functions)}, "
        f"{on_disk} on disk in {GOLDEN / folder}, {documented} documented in the golden README")


def test_counts_on_disk_come_from_files_and_headers(tmp_path):
    """Without it the disk count could silently follow the list the tests parametrize over."""
    (tmp_path / "dsp" / "expected").mkdir(parents=True)
    for i in range(3):
        (tmp_path / "dsp" / "expected" / f"raw-v1-00{i}.npz").write_bytes(b"")
    (tmp_path / "dsp" / "error_cases.json").write_text(json.dumps({"cases": [{}, {}]}))
    (tmp_path / "od_map").mkdir()
    (tmp_path / "od_map" / "cases.json").write_text(json.dumps({"n_cases": 5, "cases": [{}]}))
    assert golden_cases_on_disk(tmp_path) == {"dsp": 3, "dsp-errors": 2, "od_map": 5}


def _run_on_copy(tmp_path, drop: bool) -> subprocess.CompletedProcess:
    """pytest on a copy of the od_map group (a case dropped, ``n_cases`` adjusted, when ``drop``)."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    for name in ("__init__.py", "conftest.py", "test_golden_od_map.py", "test_golden_counts.py"):
        shutil.copy(REPO_ROOT / "tests" / name, repo / "tests" / name)
    shutil.copy(REPO_ROOT / "pyproject.toml", repo / "pyproject.toml")
    golden = tmp_path / "shared" / "golden" / "od_map"
    golden.mkdir(parents=True)
    data = json.loads((GOLDEN / "od_map" / "cases.json").read_text())
    if drop:
        data["cases"].pop(len(data["cases"]) // 2)
        data["n_cases"] = len(data["cases"])
    (golden / "cases.json").write_text(json.dumps(data))
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # ../shared/real is absent in the copy
    env["PYTHONPATH"] = os.pathsep.join([str(repo), str(REPO_ROOT)])  # the copied tests, our evalcore
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_golden_od_map.py",
           "tests/test_golden_counts.py", "-k", "test_every_golden_case_is_collected"]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_a_removed_golden_case_fails_the_suite(tmp_path):
    """Without it the count check above could itself be unable to fail."""
    skip_if_shared_missing(GOLDEN / "od_map" / "cases.json")
    intact = _run_on_copy(tmp_path / "intact", drop=False)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "1 passed" in intact.stdout, intact.stdout
    removed = _run_on_copy(tmp_path / "removed", drop=True)
    assert removed.returncode == 1, removed.stdout + removed.stderr
    assert "golden od_map: 197 cases collected" in removed.stdout, removed.stdout
