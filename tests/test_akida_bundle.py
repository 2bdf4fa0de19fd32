"""`evalcore run` on ``fixtures/akida``: the akida variant end to end, against float32 and int8.

The bundle (built by ``fixtures/build_akida_bundle.py``) holds one network as ``model.onnx``,
``model_int8.onnx`` and ``akida_model.fbz``. Tests that run the ``.fbz`` skip when the akida
runtime is not installed (under CI such a skip is a failure, see tests/conftest.py); the
missing-runtime and ``availableVariants`` tests run everywhere.
"""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest

from evalcore.cli import main
from evalcore.engine import RunOptions, run_bundle
from evalcore.errors import BackendUnavailableError
from evalcore.jsonio import dumps
from tests._helpers import assert_agreement

CLASSES = ["idle", "snake", "updown", "wave"]
LEARN_ID = 3
SKIP_REASON = "akida runtime not installed (pip install evalcore[akida]; linux/windows, py3.10-3.12)"

# Largest |akida - float32| probability allowed on any testing window. Both variants see the same
# DSP features and the same weights; what differs is quantisation: Akida truncates each feature to
# 1/255, rounds weights to 8 bits (first layer) and 4 bits (second), and rounds every hidden
# activation to one of 16 levels. The 4-bit activations dominate: they move the logits by up to
# 5.6 on this fixture (analytic worst case about 10), but only on windows where the float network
# is already sure, so the probabilities move by at most 0.048 (measured by the build script, see
# fixtures/akida/README.md). 0.1 is about twice that, room for a rebuild with other library
# versions; a wrong input scaling moves them by far more (test_tolerance_catches_a_wrong_input_scale).
AKIDA_VS_FLOAT32_MAX_PROB_DIFF = 0.1


@pytest.fixture(scope="module")
def bundle(fixtures_dir):
    path = fixtures_dir / "akida"
    assert (path / "impulse.json").is_file(), f"committed fixture bundle missing: {path}"
    return path


@pytest.fixture(scope="module")
def akida_run(bundle):
    pytest.importorskip("akida", reason=SKIP_REASON)
    return run_bundle(bundle, RunOptions(variant="akida", akida_device="software"))


@pytest.fixture(scope="module")
def float32_run(bundle):
    return run_bundle(bundle, RunOptions(variant="float32"))


def window_scores(response) -> np.ndarray:
    """Per-window class probabilities of a run, float64 (W, 4), in sample and window order."""
    rows = []
    for result in response.result:
        (block,) = [c for c in result.classifications if c.learn_block.id == LEARN_ID]
        rows += [[scores[name] for name in CLASSES] for scores in block.result]
    return np.asarray(rows, dtype=np.float64)


def test_akida_run_is_schema_complete_and_names_the_software_path(akida_run):
    """Without it an akida run could write a result Studio's readers reject, or hide that the
    numbers came from akida's software backend rather than a device."""
    import akida

    from evalcore.schema import load_classify_job_response

    raw = dumps(akida_run.response)
    assert dumps(load_classify_job_response(raw)) == raw
    doc = json.loads(raw)
    assert akida_run.variant == "akida"
    assert akida_run.engines == {LEARN_ID: f"akida-software {akida.__version__}"}
    assert f"block {LEARN_ID}: akida-software" in akida_run.summary_line()
    assert len(doc["predictions"]) == akida_run.n_windows > 0
    for result in doc["result"]:
        for c in result["classifications"]:
            assert c["learnBlock"]["type"] == "keras-akida"
            assert c["resultCount"] == len(c["result"]) == len(c["expectedLabels"])


def test_akida_shards_merge_to_the_whole_run(bundle, akida_run):
    """Without it sharded akida runs (one device per process) would not add up to one run."""
    from evalcore.engine import evaluate

    options = RunOptions(variant="akida", akida_device="software")
    left, _ = evaluate(bundle, options, shard=(0, 2))
    right, _ = evaluate(bundle, options, shard=(1, 2))
    assert dumps(right.merge(left).build()) == dumps(akida_run.response)


@pytest.mark.parametrize("variant", ["float32", "int8"])
def test_onnx_variants_of_the_bundle_run_schema_complete(bundle, variant):
    """Without it the float32 and int8 files of an Akida learn block could stop loading (integer
    I/O, the Clip node) and only the akida variant would be tested end to end."""
    from evalcore.schema import load_classify_job_response

    res = run_bundle(bundle, RunOptions(variant=variant))
    raw = dumps(res.response)
    assert dumps(load_classify_job_response(raw)) == raw
    assert res.engines[LEARN_ID].startswith("onnxruntime ")
    assert window_scores(res.response).shape == (res.n_windows, len(CLASSES))


def test_cli_runs_the_akida_variant_and_prints_the_engine(bundle, tmp_path, capsys):
    """Without it `evalcore run --variant akida --akida-device software` could fail or leave the
    user unable to see which Akida path produced the file."""
    pytest.importorskip("akida", reason=SKIP_REASON)
    out = tmp_path / "akida.json"
    argv = ["run", str(bundle), "--variant", "akida", "--akida-device", "software", "--out", str(out)]
    assert main(argv) == 0
    assert "akida-software" in capsys.readouterr().err
    assert json.loads(out.read_text())["availableVariants"] == ["int8", "float32", "akida"]


def test_akida_agrees_with_float32_per_window(akida_run, float32_run):
    """Without it the akida variant could drift from the network it was converted from (wrong
    input scaling, layout or softmax) while every schema check stays green."""
    p_akida, p_float = window_scores(akida_run.response), window_scores(float32_run.response)
    assert p_akida.shape == p_float.shape == (akida_run.n_windows, len(CLASSES))
    measured = assert_agreement(p_float, p_akida, AKIDA_VS_FLOAT32_MAX_PROB_DIFF)
    # Top-1 may flip only at float near-ties (checked above); this fixture has none.
    assert measured["top1_agreement"] == 1.0, measured


def test_tolerance_catches_a_wrong_input_scale(bundle):
    """Without it the agreement bound could be so loose that an Akida input scaled by 127.5
    instead of Edge Impulse's 255 would still pass as quantisation noise."""
    pytest.importorskip("akida", reason=SKIP_REASON)
    from evalcore.backends import load_backend

    x = engine_features(bundle)
    learn = bundle / "learn" / str(LEARN_ID)
    (p_float,) = load_backend(learn / "model.onnx", variant="float32").run(x)
    (p_right,) = load_backend(learn / "akida_model.fbz", variant="akida", akida_device="software",
                              akida_check_file=False).run(x)
    (p_wrong,) = load_backend(learn / "akida_model.fbz", variant="akida", akida_device="software",
                              akida_check_file=False, akida_input_scale=127.5).run(x)
    assert np.abs(p_right - p_float).max() <= AKIDA_VS_FLOAT32_MAX_PROB_DIFF
    assert np.abs(p_wrong - p_float).max() > 2 * AKIDA_VS_FLOAT32_MAX_PROB_DIFF


def engine_features(bundle) -> np.ndarray:
    """The engine's DSP features of every testing window, float32 (W, 6)."""
    from evalcore.bundle import load_project
    from evalcore.data import load_dataset
    from evalcore.pipeline.featurize import SampleFeaturizer

    project = load_project(bundle)
    featurizer = SampleFeaturizer(project, RunOptions(variant="float32"))
    records = load_dataset(project.dataset_dir, category="testing").records
    return np.concatenate([featurizer.prepare(r).features[LEARN_ID] for r in records])


def test_features_fit_the_akida_input_range(bundle):
    """Without it a DSP change could push features outside [0, 1], where Edge Impulse's uint8
    Akida input saturates and the float model (behind its Clip) loses information unseen."""
    x = engine_features(bundle)
    assert x.shape[1] == 6
    assert x.min() >= 0.0 and x.max() <= 1.0, (x.min(), x.max())


def test_missing_akida_runtime_exits_2_with_the_install_hint(bundle, tmp_path, monkeypatch, capsys):
    """Without it a machine without akida would get a traceback, or a silent fallback to another
    variant, instead of one line saying how to install the runtime."""
    monkeypatch.setitem(sys.modules, "akida", None)  # `import akida` now raises ImportError
    with pytest.raises(BackendUnavailableError, match=r"pip install evalcore\[akida\]"):
        run_bundle(bundle, RunOptions(variant="akida"))
    out = tmp_path / "r.json"
    assert main(["run", str(bundle), "--variant", "akida", "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert "pip install evalcore[akida]" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_available_variants_list_akida_only_with_its_model(bundle, float32_run, fixtures_dir,
                                                           tmp_path):
    """Without it availableVariants could offer akida for a bundle without an .fbz (or hide it
    for one with), unlike Studio, which lists the variants the learn block has."""
    from evalcore.bundle import load_project

    assert float32_run.response.available_variants == ["int8", "float32", "akida"]
    assert load_project(fixtures_dir / "motion").available_variants == ["int8", "float32"]
    copy = tmp_path / "akida-without-fbz"
    shutil.copytree(bundle, copy)
    (copy / "learn" / str(LEARN_ID) / "akida_model.fbz").unlink()
    assert load_project(copy).available_variants == ["int8", "float32"]


@pytest.mark.slow
def test_rebuild_gives_the_committed_bundle(bundle, tmp_path):
    """Without it a hand edit of fixtures/akida, or a build that is not repeatable, would go
    unnoticed (trained numbers may differ in their last bits on another CPU: TRAINED_RTOL)."""
    import subprocess

    pytest.importorskip("sklearn")  # dev extra; onnx, onnxruntime and cbor2 are required dependencies
    pytest.importorskip("akida", reason=SKIP_REASON)
    from tests._helpers import close_onnx, close_text

    built = tmp_path / "akida"
    script = bundle.parent / "build_akida_bundle.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(built)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted({p.relative_to(built) for p in built.rglob("*") if p.is_file()}
                   | {p.relative_to(bundle) for p in bundle.rglob("*") if p.is_file()})
    problems = []
    for rel in files:
        a, b = bundle / rel, built / rel
        if not (a.is_file() and b.is_file()):
            problems.append(f"{rel}: only in one tree")
        elif a.read_bytes() != b.read_bytes() and not _trained_close(a, b, close_onnx, close_text):
            problems.append(f"{rel}: differs")
    assert problems == [], "\n".join(problems)


def _trained_close(a, b, close_onnx, close_text) -> bool:
    """Trained files within tolerance: ONNX and text as tests/test_fixtures.py, .fbz integers
    within one step and float steps within TRAINED_RTOL."""
    from tests._helpers import TRAINED_RTOL

    if "dataset" in a.parts:
        return False
    if a.suffix == ".onnx":
        return close_onnx(a, b)
    if a.suffix in (".json", ".md"):
        return close_text(a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))
    if a.suffix != ".fbz":
        return False
    import akida

    ma, mb = akida.Model(str(a)), akida.Model(str(b))
    for la, lb in zip(ma.layers, mb.layers, strict=True):
        for name in la.get_variable_names():
            va, vb = la.get_variable(name), lb.get_variable(name)
            atol = 1 if np.issubdtype(va.dtype, np.integer) else 0
            if va.shape != vb.shape or not np.allclose(va.astype(np.float64), vb.astype(np.float64),
                                                       rtol=TRAINED_RTOL, atol=atol):
                return False
    return True
