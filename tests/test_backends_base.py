"""The backend factory, the common contract (feature checks, batching) and the quantisation rule."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from evalcore.backends import Backend, load_backend
from evalcore.backends.base import PROBE_ROWS
from evalcore.backends.quant import QuantParams, dequantize, quantize
from evalcore.errors import BackendUnavailableError, ConfigError, ModelError
from tests._helpers import first_difference
from tests.naive import naive_quantize

# --------------------------------------------------------------------------- quantisation


def test_quantize_matches_naive_on_random_values():
    """Without it a float64 intermediate or another rounding would shift int8 inputs by a step."""
    rng = np.random.default_rng(7)
    for scale, zero_point, dtype in [(0.10661303251981735, -128, np.int8),
                                     (0.21295718848705292, 16, np.int8),
                                     (0.003921568859368563, -128, np.int8),
                                     (0.05, 128, np.uint8)]:
        x = rng.normal(0, 8, size=2000).astype(np.float32)
        got = quantize(x, QuantParams(scale, zero_point, np.dtype(dtype), "test"))
        want = naive_quantize(x, scale, zero_point, dtype)
        assert got.dtype == np.dtype(dtype)
        assert np.array_equal(got, want), first_difference(got, want)


def test_quantize_ties_round_half_to_even_and_clip():
    """Without it ties would round away from zero (the C++ SDK's rule), not as EI's Python does."""
    params = QuantParams(0.5, 0, np.dtype(np.int8), "test")
    x = np.array([1.25, 1.75, -1.25, -1.75, 0.25, 1000.0, -1000.0], dtype=np.float32)
    got = quantize(x, params)
    assert got.tolist() == [2, 4, -2, -4, 0, 127, -128]


def test_dequantize_is_float32_affine():
    """Without it integer outputs would come back unscaled or in float64."""
    params = QuantParams(0.00390625, -128, np.dtype(np.int8), "test")
    q = np.array([-128, 0, 127], dtype=np.int8)
    got = dequantize(q, params)
    assert got.dtype == np.float32
    assert got.tolist() == [0.0, 0.5, 0.99609375]


# --------------------------------------------------------------------------- factory
def test_load_backend_picks_engine_by_extension(models):
    """Without it an .onnx file could be handed to the wrong runtime."""
    backend = load_backend(models / "motion_fc.f32.onnx", variant="float32")
    assert isinstance(backend, Backend)
    assert (backend.engine, backend.variant) == ("onnxruntime", "float32")
    assert (backend.input_shape, backend.n_features) == ((33,), 33)
    assert backend.output_names == ("probabilities",)
    assert backend.output_shapes == ((4,),)


@pytest.mark.parametrize(
    "name, variant, error, text",
    [
        ("model.bin", "float32", ModelError, "unsupported model file type .bin, expected one of"),
        ("missing.onnx", "float32", ModelError, "model file not found"),
        ("motion_fc.f32.onnx", "fp16", ConfigError, "variant must be one of"),
        ("motion_fc.f32.onnx", "akida", ConfigError, "variant akida cannot run a .onnx model"),
        ("motion_fc.fbz", "int8", ConfigError, "variant int8 cannot run a .fbz model"),
    ],
)
def test_load_backend_rejects_bad_paths_and_variants(models, tmp_path, name, variant, error, text):
    """Without it a typo in a bundle would surface as a runtime traceback, not a clear error."""
    path = models / name if (models / name).exists() else tmp_path / name
    if name == "model.bin":
        path.write_bytes(b"x")
    with pytest.raises(error) as info:
        load_backend(path, variant=variant)
    assert text in str(info.value)
    assert str(info.value) == str(info.value).rstrip(".")


@pytest.mark.parametrize(
    "opts, text",
    [
        ({"batchsize": 4}, "unknown option batchsize for the onnxruntime backend"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
        ({"batch_rewrite": "yes"}, "batch_rewrite must be true or false"),
        ({"threads": 0}, "threads must be an integer >= 1, got 0"),
        ({"quantization": [1]}, "quantization must be a mapping"),
        ({"akida_device": "gpu"}, "unknown option akida_device for the onnxruntime backend"),
    ],
)
def test_load_backend_rejects_bad_options(models, opts, text):
    """Without it a misspelt option would be silently ignored."""
    with pytest.raises(ConfigError) as info:
        load_backend(models / "motion_fc.f32.onnx", variant="float32", **opts)
    assert text in str(info.value)


@pytest.mark.parametrize(
    "module, filename, variant, extra",
    [
        ("onnxruntime", "motion_fc.f32.onnx", "float32", "pip install evalcore"),
        ("ai_edge_litert", "model.lite", "float32", "pip install evalcore[tflite]"),
        ("akida", "motion_fc.fbz", "akida", "pip install evalcore[akida]"),
    ],
)
def test_missing_runtime_names_the_extra(models, tmp_path, monkeypatch, module, filename,
                                         variant, extra):
    """Without it a user without the optional runtime would get a bare ImportError."""
    path = models / filename
    if not path.exists():
        path = tmp_path / filename
        path.write_bytes(b"\0" * 16)
    monkeypatch.setitem(sys.modules, module, None)
    if module == "ai_edge_litert":
        monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(BackendUnavailableError) as info:
        load_backend(path, variant=variant)
    assert extra in str(info.value)
    assert isinstance(info.value, ImportError)


def test_importing_backends_loads_no_runtime():
    """Without it `evalcore --help` would pay for onnxruntime, LiteRT or akida at import."""
    import subprocess

    code = ("import sys, evalcore.backends; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('onnxruntime', 'onnx', 'ai_edge_litert', 'akida', 'scipy', 'numba')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- contract
def test_check_n_features_names_file_tensor_and_numbers(models):
    """Without it a DSP/model size mismatch would fail deep inside the runtime with no context."""
    backend = load_backend(models / "motion_fc.f32.onnx", variant="float32")
    backend.check_n_features(33)
    with pytest.raises(ModelError) as info:
        backend.check_n_features(39)
    message = str(info.value)
    for part in ("model input x", "takes 33 features", "produces 39", "motion_fc.f32.onnx"):
        assert part in message


@pytest.mark.parametrize(
    "features, text",
    [
        (np.zeros((2, 33), dtype=np.float64), "features must be a float32 array, got float64"),
        (np.zeros((2, 32), dtype=np.float32), "features must have shape (N, 33)"),
        (np.zeros(33, dtype=np.float32), "features must have shape (N, 33)"),
    ],
)
def test_run_rejects_wrong_feature_arrays(models, features, text):
    """Without it float64 or mis-sized rows would be silently cast or reshaped by the runtime."""
    backend = load_backend(models / "motion_fc.f32.onnx", variant="float32")
    with pytest.raises(ModelError) as info:
        backend.run(features)
    assert text in str(info.value)


@pytest.mark.parametrize("filename, variant", [("motion_fc.f32.onnx", "float32"),
                                               ("motion_fc.i8.onnx", "int8")])
def test_run_on_zero_rows_returns_empty_outputs(models, filename, variant):
    """Without it a sample with no window would crash the run instead of giving no result."""
    backend = load_backend(models / filename, variant=variant)
    (out,) = backend.run(np.zeros((0, 33), dtype=np.float32))
    assert out.shape == (0, 4) and out.dtype == np.float32


@pytest.mark.parametrize("filename, variant", [("motion_fc.f32.onnx", "float32"),
                                               ("motion_fc.i8.onnx", "int8")])
@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_chunked_runs_equal_one_window_runs(models, motion_rows, filename, variant, batch_size):
    """Without it a chunk boundary or the batch size could change a single output bit."""
    backend = load_backend(models / filename, variant=variant, batch_size=batch_size)
    (batched,) = backend.run(motion_rows)
    assert backend.batch_mode == "batched"
    single = load_backend(models / filename, variant=variant)
    rows = [single.run(motion_rows[i : i + 1])[0] for i in range(motion_rows.shape[0])]
    one_by_one = np.concatenate(rows, axis=0)
    assert batched.dtype == np.float32 and batched.shape == (motion_rows.shape[0], 4)
    assert np.array_equal(batched, one_by_one), first_difference(batched, one_by_one)


def test_chunk_rows_respects_the_element_budget(models):
    """Without it a big image model would be fed 1024 images per call and fall out of cache."""
    backend = load_backend(models / "motion_fc.f32.onnx", variant="float32",
                           batch_size=1024, max_batch_elements=330)
    assert backend.chunk_rows == 10
    assert PROBE_ROWS >= 2
