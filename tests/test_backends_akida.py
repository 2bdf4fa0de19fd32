"""The Akida backend: EI's pre/post-processing, device placement, and agreement with float32.

The software path runs for real on akida's software backend. The hardware path is exercised
against the runtime's device API with akida's virtual AKD1000 (real ``map``/``sequences``, no
inference) and with a stand-in device whose mapped model computes in software.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from evalcore.backends import load_backend
from evalcore.backends.akida import akida_softmax
from evalcore.errors import ModelError
from tests._helpers import first_difference

akida = pytest.importorskip("akida")

# Slack for float32 rounding inside akida (act_step stored as float32, the final division) and in
# the float reference; far below any quantisation step of the fixture (>= 0.004 in logits).
FLOAT_SLACK = 1e-4


def load(path, **opts):
    """Load an .fbz without the child-process file check (0.5 s each; tested on its own)."""
    opts.setdefault("akida_check_file", False)
    return load_backend(path, variant="akida", **opts)


def float_reference(models, x: np.ndarray):
    """The fixture's float network in float64 numpy, from the float32 ONNX file's weights."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(models / "motion_fc.f32.onnx")).graph
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    z = x.astype(np.float64) @ w["W1"] + w["b1"]
    h = np.maximum(z, 0.0)
    return w, z, h, h @ w["W2"] + w["b2"]


def integer_simulation(path, x: np.ndarray) -> np.ndarray:
    """Akida 1.0 arithmetic of the fixture written out from its variables (formats-and-akida A4)."""
    model = akida.Model(str(path))
    first, second = model.layers
    w1 = first.get_variable("weights").reshape(x.shape[1], -1).astype(np.int64)
    th1 = first.get_variable("threshold").astype(np.int64)
    step1 = first.get_variable("act_step")
    w2 = second.get_variable("weights").reshape(w1.shape[1], -1).astype(np.int64)
    th2 = second.get_variable("threshold").astype(np.int64)
    step2 = second.get_variable("act_step")
    pixels = np.clip(x * np.float32(255), 0, 255).astype(np.uint8).astype(np.int64)
    potential1 = pixels @ w1
    act1 = np.clip(np.ceil((potential1 - th1) / step1.astype(np.float64)), 0, 15).astype(np.int64)
    return (act1 @ w2 - th2).astype(np.float32) / step2


def test_fixture_loads_on_the_software_backend(models):
    """Without it the run metadata would not say which Akida path and version produced results."""
    backend = load(models / "motion_fc.fbz")
    assert backend.engine == "akida-software"
    assert backend.engine_version == akida.__version__
    assert (backend.input_shape, backend.n_features, backend.output_shapes) == ((1, 33, 1), 33,
                                                                                 ((4,),))
    info = backend.describe()
    assert (info["device"], info["ip_version"], info["input_bits"]) == ("software", "v1", 8)
    assert info["model_writer_version"] == json.loads(
        (models / "motion_fc.json").read_text())["versions"]["akida"]


def test_outputs_equal_the_integer_arithmetic(models, motion_rows):
    """Without it a wrong input scaling (EI's uint8(clip(x*255)) truncation), reshape order or
    output squeeze would shift Akida results silently."""
    (logits,) = load(models / "motion_fc.fbz", akida_softmax=False).run(motion_rows)
    want = integer_simulation(models / "motion_fc.fbz", motion_rows)
    assert np.array_equal(logits, want), first_difference(logits, want)
    (probabilities,) = load(models / "motion_fc.fbz").run(motion_rows)
    assert np.array_equal(probabilities, akida_softmax(want))


def test_batched_outputs_equal_one_window_runs(models, motion_rows):
    """Without it a chunk boundary or batch size could change Akida outputs."""
    backend = load(models / "motion_fc.fbz", batch_size=10)
    (batched,) = backend.run(motion_rows)
    single = load(models / "motion_fc.fbz")
    one_by_one = np.concatenate([single.run(motion_rows[i : i + 1])[0]
                                 for i in range(motion_rows.shape[0])])
    assert np.array_equal(batched, one_by_one), first_difference(batched, one_by_one)


def logit_error_bound(models, x: np.ndarray):
    """Per-row, per-class bound on |akida logit - float logit| from the quantisation steps.

    With s1 (8-bit weight step per hidden unit), sh (4-bit activation step), s2 (4-bit weight step
    per class) from motion_fc.json, u = uint8(clip(255 x)) / 255 (|u - x| < 1/255):

    - hidden pre-activation error  E1_j = s1_j/2 * sum_i x_i + sum_i |W1_ij| / 255 + s1_j / 510
      (weight rounding, input truncation, threshold rounding);
    - hidden activation error      D_j  = sh_j/2 + E1_j + max(0, z_j + E1_j - 15.5 sh_j)
      (rounding to a 4-bit step, the error above through ReLU, clipping at 15 steps);
    - logit error                  B_k  = s2_k/2 * (sum_j a_j + 1) + sum_j |W2_jk| D_j,
      a_j = min(15, (h_j + D_j) / sh_j) bounding the activations (weight and bias rounding).
    """
    scales = json.loads((models / "motion_fc.json").read_text())["akida_scales"]
    s1, sh, s2 = (np.asarray(scales[k]) for k in ("s1", "sh", "s2"))
    w, z, h, logits = float_reference(models, x)
    x64 = x.astype(np.float64)
    e1 = s1 / 2 * x64.sum(1, keepdims=True) + np.abs(w["W1"]).sum(0) / 255 + s1 / 510
    d = sh / 2 + e1 + np.maximum(0.0, z + e1 - 15.5 * sh)
    act = np.minimum(15.0, (h + d) / sh)
    bound = s2 / 2 * (act.sum(1, keepdims=True) + 1) + d @ np.abs(w["W2"])
    return logits, bound + FLOAT_SLACK


def test_akida_agrees_with_float32_within_the_quantisation_bound(models, motion_rows):
    """Without it the Akida variant could drift from the float network by more than its 4-bit
    weights and activations explain, and nobody would know which one is wrong."""
    logits_f, bound = logit_error_bound(models, motion_rows)
    (p_f32,) = load_backend(models / "motion_fc.f32.onnx", variant="float32").run(motion_rows)
    assert np.abs(akida_softmax(logits_f.astype(np.float32)) - p_f32).max() < 1e-5
    (logits_a,) = load(models / "motion_fc.fbz", akida_softmax=False).run(motion_rows)
    excess = np.abs(logits_a - logits_f) - bound
    worst = np.unravel_index(np.argmax(excess), excess.shape)
    assert excess.max() <= 0, f"logit error exceeds the bound at {worst} by {excess[worst]}"
    # Probabilities: |d log p_k| <= |dy_k| + max_j |dy_j| <= 2 max_k B_k.
    (p_a,) = load(models / "motion_fc.fbz").run(motion_rows)
    b_max = bound.max(1, keepdims=True)
    assert np.all(np.abs(p_a - p_f32) <= p_f32 * np.expm1(2 * b_max) + 1e-6)
    # Top-1 can flip only where the float logits of the two classes are within their bounds.
    top_f, top_a = logits_f.argmax(1), logits_a.argmax(1)
    for row in np.flatnonzero(top_f != top_a):
        i, j = top_f[row], top_a[row]
        gap = logits_f[row, i] - logits_f[row, j]
        assert gap <= bound[row, i] + bound[row, j], f"row {row} flipped with logit gap {gap}"


def _tiny_v1_model(path, input_bits: int = 4):
    """InputData(1x1x8, 4-bit) -> FullyConnected identity: predict returns the akida input."""
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 8), input_bits=input_bits))
    model.add(akida.FullyConnected(units=8, weights_bits=2, activation=False))
    layer = model.layers[1]
    layer.set_variable("weights", np.eye(8, dtype=np.int8).reshape(1, 1, 8, 8))
    layer.set_variable("threshold", np.zeros(8, np.int32))
    layer.set_variable("act_step", np.ones(8, np.float32))
    model.save(str(path))
    return path


def test_four_bit_input_reproduces_edge_impulse_quirk(tmp_path):
    """Without it 4-bit Akida inputs would be scaled by 255 (or rounded) instead of EI's
    uint8(clip(x*15, 0, 255) / 16), which is 0 for every feature in [0, 1)."""
    path = _tiny_v1_model(tmp_path / "in4.fbz")
    x = np.array([[0.0, 0.5, 0.999, 1.07, 2.0, 10.0, 17.0, 100.0]], dtype=np.float32)
    (got,) = load(path, akida_softmax=False).run(x)
    assert got.tolist() == [[0, 0, 0, 1, 1, 9, 15, 15]]
    x = np.array([[0.0, 0.5, 0.999, 1.07, 2.0, 10.0, 3.0, 4.0]], dtype=np.float32)
    (scaled,) = load(path, akida_softmax=False, akida_input_scale=1.5).run(x)
    assert scaled.tolist() == [[0, 0, 1, 1, 3, 15, 4, 6]]


def test_signed_input_needs_an_explicit_scale(tmp_path):
    """Without it a signed (Akida 2.0 InputData) model would get EI's uint8 input and fail, or
    be scaled by a rule nobody chose."""
    model = akida.Model()
    model.add(akida.InputData(input_shape=(1, 1, 4), input_bits=8))
    model.add(akida.Dense1D(units=4))
    model.add(akida.Dequantizer())
    model.layers[1].set_variable("weights", np.eye(4, dtype=np.int8))
    path = tmp_path / "signed.fbz"
    model.save(str(path))
    with pytest.raises(ModelError) as info:
        load(path)
    assert "is signed (8 bits)" in str(info.value) and "akida_input_scale" in str(info.value)
    backend = load(path, akida_input_scale=10.0, akida_softmax=False)
    x = np.array([[-20.0, -1.55, 0.0, 12.7]], dtype=np.float32)
    assert backend.run(x)[0].tolist() == [[-128, -15, 0, 127]]


def test_model_without_float_outputs_is_rejected_at_load(tmp_path):
    """Without it predict() would fail on the first window instead of at load with a reason."""
    v2 = akida.Model()
    v2.add(akida.InputData(input_shape=(1, 1, 4), input_bits=8))
    v2.add(akida.Dense1D(units=4))
    v2.save(str(tmp_path / "v2.fbz"))
    with pytest.raises(ModelError) as info:
        load(tmp_path / "v2.fbz", akida_input_scale=1.0)
    assert "not a Dequantizer" in str(info.value)
    v1 = akida.Model()
    v1.add(akida.InputData(input_shape=(1, 1, 8), input_bits=4))
    v1.add(akida.FullyConnected(units=4, weights_bits=2, activation=True, act_bits=4))
    v1.save(str(tmp_path / "v1.fbz"))
    with pytest.raises(ModelError) as info:
        load(tmp_path / "v1.fbz")
    assert "with an activation" in str(info.value)


def test_newer_writer_version_surfaces_the_runtime_message(models, tmp_path):
    """Without it a model from a newer akida would fail with a bare RuntimeError."""
    data = (models / "motion_fc.fbz").read_bytes()
    path = tmp_path / "future.fbz"
    path.write_bytes(data.replace(akida.__version__.encode(), b"9.99.9", 1))
    with pytest.raises(ModelError) as info:
        load(path)
    assert "akida cannot load the model" in str(info.value)
    assert "not supported" in str(info.value) and "future.fbz" in str(info.value)


def test_corrupt_file_that_crashes_the_runtime_is_a_model_error(tmp_path):
    """Without it a truncated .fbz would kill the whole run with SIGSEGV (akida 2.19.3)."""
    path = tmp_path / "zeros.fbz"
    path.write_bytes(b"\0" * 64)
    with pytest.raises(ModelError) as info:
        load_backend(path, variant="akida")
    assert "the akida runtime crashed" in str(info.value) and "zeros.fbz" in str(info.value)


# --------------------------------------------------------------------------- device placement
def test_auto_without_device_runs_in_software(models, monkeypatch):
    """Without it a machine without a card could pick a hardware path and fail."""
    monkeypatch.setattr(akida, "devices", lambda: [])
    assert load(models / "motion_fc.fbz").engine == "akida-software"


def test_hardware_without_device_is_a_clear_error(models, monkeypatch):
    """Without it --akida-device hardware would silently fall back to software."""
    monkeypatch.setattr(akida, "devices", lambda: [])
    with pytest.raises(ModelError) as info:
        load(models / "motion_fc.fbz", akida_device="hardware")
    assert "akida.devices() lists no akida device" in str(info.value)


def test_mapping_onto_a_listed_device_uses_the_real_map_api(models, monkeypatch):
    """Without it the hardware path would be written against an API the runtime does not have:
    here akida's virtual AKD1000 takes the real map() and reports hardware sequences."""
    monkeypatch.setattr(akida, "devices", lambda: [akida.AKD1000()])
    backend = load(models / "motion_fc.fbz")
    assert backend.engine == "akida-hardware"
    with pytest.raises(ModelError) as info:  # a virtual device cannot infer
        backend.run(np.zeros((2, 33), dtype=np.float32))
    assert "akida predict failed" in str(info.value)


class StandInModel:
    """An akida.Model whose map() to a stand-in device 'succeeds'; it still computes in software."""

    def __init__(self, path, fail_with: str | None = None):
        self._model = REAL_MODEL(path)
        self._fail_with = fail_with
        self.mapped_to = None

    def map(self, device, hw_only=False):
        if device is not None and self._fail_with:
            raise RuntimeError(self._fail_with)
        self.mapped_to = device

    @property
    def sequences(self):
        backend = akida.BackendType.Hardware if self.mapped_to else akida.BackendType.Software
        return [SimpleNamespace(backend=backend)]

    def __getattr__(self, name):
        return getattr(self._model, name)


REAL_MODEL = akida.Model


def test_stand_in_device_runs_the_hardware_path(models, motion_rows, monkeypatch):
    """Without it results from an Akida card would not be recorded as such, or differ in
    pre/post-processing from the software path."""
    device = SimpleNamespace(desc="stand-in AKD1000")
    monkeypatch.setattr(akida, "devices", lambda: [device])
    monkeypatch.setattr(akida, "Model", StandInModel)
    backend = load(models / "motion_fc.fbz", akida_device="hardware")
    assert backend.engine == "akida-hardware"
    assert backend._model.mapped_to is device
    assert backend.describe()["device"] == "stand-in AKD1000"
    (hardware,) = backend.run(motion_rows)
    monkeypatch.setattr(akida, "Model", REAL_MODEL)
    (software,) = load(models / "motion_fc.fbz", akida_device="software").run(motion_rows)
    assert np.array_equal(hardware, software), first_difference(hardware, software)


def test_failed_mapping_falls_back_in_auto_and_fails_in_hardware(models, monkeypatch):
    """Without it a model whose IP version differs from the card would crash (auto) or silently
    run in software when hardware was demanded."""
    message = "The IP version of the model and device must be identical"
    monkeypatch.setattr(akida, "devices", lambda: [SimpleNamespace(desc="stand-in")])
    monkeypatch.setattr(akida, "Model", lambda path: StandInModel(path, fail_with=message))
    backend = load(models / "motion_fc.fbz")
    assert backend.engine == "akida-software" and backend._model.mapped_to is None
    with pytest.raises(ModelError) as info:
        load(models / "motion_fc.fbz", akida_device="hardware")
    assert message in str(info.value)
