"""The onnxruntime backend: session settings, int8 I/O quantisation, batching of real EI models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from onnx import TensorProto, helper

from evalcore.backends import load_backend
from evalcore.errors import ModelError
from tests._helpers import assert_agreement, first_difference

SDK_MODELS = "edgeimpulse-python-sdk-sample-data/sample_models"
BENCH = "edgeimpulse-benchmark-nn"
# The fixture's int8 output is quantised in steps of 1/255 (ORT's fixed Softmax output scale),
# its activations in 8-bit steps of the calibrated ranges; measured max |p_int8 - p_f32| is 0.025
# on the 256 held-out rows. 0.05 leaves room for kernel changes across onnxruntime versions while
# still failing on any real quantisation bug (a wrong zero point moves outputs by >= 0.5).
FIXTURE_INT8_PROB_TOLERANCE = 0.05
# accelerometer.onnx quantised here (QDQ, float I/O, 8-bit activations calibrated on every 10th
# representative row): measured max |dp| 0.114, top-1 agreement 99.90% (3 of 3110 rows flip, all
# near-ties around 0.5/0.5) with onnxruntime 1.32; 0.15 leaves a margin for other ORT versions.
ACCEL_INT8_PROB_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def accel(real_dir):
    folder = real_dir / SDK_MODELS
    rows = np.load(folder / "accelerometer-representative.npy", allow_pickle=False)
    return folder / "accelerometer.onnx", rows


def test_session_uses_the_perf_anchor_settings(models):
    """Without it idle ORT threads would spin and steal the CPU the numba kernels need."""
    import onnxruntime as ort

    backend = load_backend(models / "motion_fc.f32.onnx", variant="float32", threads=2)
    options = backend._session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert backend.engine_version == ort.__version__


def test_int8_fixture_reads_quantisation_from_the_graph(models):
    """Without it an integer-I/O ONNX model would be fed unquantised floats (wrapped to int8)."""
    backend = load_backend(models / "motion_fc.i8.onnx", variant="int8")
    quant = backend.describe()["quantization"]
    assert quant["x"]["source"] == "DequantizeLinear after the graph input"
    assert quant["probabilities"]["source"] == "QuantizeLinear before the graph output"
    assert (quant["x"]["dtype"], quant["probabilities"]["dtype"]) == ("int8", "int8")
    assert quant["probabilities"]["zero_point"] == -128


def test_int8_fixture_matches_a_hand_quantised_session(models, motion_rows):
    """Without it the quantise -> run -> dequantise chain could drift from EI's formula."""
    import onnxruntime as ort

    backend = load_backend(models / "motion_fc.i8.onnx", variant="int8")
    quant = backend.describe()["quantization"]
    x_scale, x_zp = quant["x"]["scale"], quant["x"]["zero_point"]
    y_scale, y_zp = quant["probabilities"]["scale"], quant["probabilities"]["zero_point"]
    q = np.clip(np.around(motion_rows / x_scale + x_zp), -128, 127).astype(np.int8)
    raw = ort.InferenceSession(str(models / "motion_fc.i8.onnx")).run(None, {"x": q})[0]
    want = (raw.astype(np.float32) - y_zp) * y_scale
    (got,) = backend.run(motion_rows)
    assert np.array_equal(got, want), first_difference(got, want)


def test_int8_fixture_agrees_with_float32(models, motion_rows):
    """Without it a broken int8 path (wrong scale or zero point) could pass unnoticed."""
    (p_f32,) = load_backend(models / "motion_fc.f32.onnx", variant="float32").run(motion_rows)
    (p_i8,) = load_backend(models / "motion_fc.i8.onnx", variant="int8").run(motion_rows)
    assert_agreement(p_f32, p_i8, FIXTURE_INT8_PROB_TOLERANCE)


def _int8_io_model_without_qdq(metadata: dict | None = None) -> bytes:
    """int8 input -> Cast -> Mul(0.5) -> float output: no Q/DQ node to read a scale from."""
    nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["xf", "half"], ["y"])]
    graph = helper.make_graph(
        nodes, "int8_io",
        [helper.make_tensor_value_info("x", TensorProto.INT8, [1, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    if metadata is not None:
        helper.set_model_props(model, {"quantization": json.dumps(metadata)})
    return model.SerializeToString()


def test_int8_input_without_graph_params_uses_metadata_then_caller(tmp_path):
    """Without it an int8 model lacking Q/DQ nodes could not be run, or be run unscaled."""
    x = np.array([[0.0, 1.0, -1.0]], dtype=np.float32)
    path = tmp_path / "meta.onnx"
    path.write_bytes(_int8_io_model_without_qdq({"x": {"scale": 0.25, "zero_point": 2}}))
    backend = load_backend(path, variant="int8")
    assert backend.describe()["quantization"]["x"]["source"] == "model metadata_props"
    assert backend.run(x)[0].tolist() == [[1.0, 3.0, -1.0]]  # q = x/0.25 + 2, then * 0.5

    path = tmp_path / "bare.onnx"
    path.write_bytes(_int8_io_model_without_qdq())
    backend = load_backend(path, variant="int8", quantization={"input": {"scale": 0.5,
                                                                         "zero_point": 0}})
    assert backend.describe()["quantization"]["x"]["source"] == "caller metadata"
    assert backend.run(x)[0].tolist() == [[0.0, 1.0, -1.0]]

    with pytest.raises(ModelError) as info:
        load_backend(path, variant="int8")
    assert "integer tensor x (int8) has no scale/zero point" in str(info.value)
    assert "bare.onnx" in str(info.value)


def test_unloadable_file_is_a_model_error(tmp_path):
    """Without it a corrupt export would crash with onnxruntime's internal exception type."""
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"not a protobuf")
    with pytest.raises(ModelError) as info:
        load_backend(path, variant="float32")
    assert "onnxruntime cannot load the model" in str(info.value)


def test_fixed_batch_mlp_is_batched_with_identical_outputs(accel):
    """Without it EI's batch-1 MLPs would run one window per call (~170x slower) or, batched
    wrongly, give different bytes than one-window runs."""
    path, rows = accel
    backend = load_backend(path, variant="float32")
    assert (backend.input_shape, backend.output_shapes) == ((39,), ((4,),))
    (batched,) = backend.run(rows)
    assert backend.batch_mode == "batched"
    single = load_backend(path, variant="float32", batch_rewrite=False)
    (one_by_one,) = single.run(rows)
    assert single.batch_mode == "single"
    assert np.array_equal(batched, one_by_one), first_difference(batched, one_by_one)


@pytest.mark.parametrize(
    "relative, n_features",
    [(f"{BENCH}/keywords-2d-f32/keywords-2d-f32.onnx", 650),
     (f"{BENCH}/image-32-32-mobilenet-f32/image-32-32-mobilenet-f32.onnx", 1024),
     (f"{BENCH}/gestures-large-f32/gestures-large-f32.onnx", 27)],
)
def test_real_onnx_models_batch_only_when_safe(real_dir, relative, n_features):
    """Without it a model with a hard-coded Reshape([1, ...]) would crash or mix windows when
    batched; the probe must fall back to one window per call and keep the outputs identical."""
    backend = load_backend(real_dir / relative, variant="float32")
    assert backend.n_features == n_features
    rows = np.random.default_rng(3).random((20, n_features), dtype=np.float32)
    (got,) = backend.run(rows)
    want = np.concatenate([backend._session.run(None, {"x": rows[i : i + 1].reshape(
        (1, *backend.input_shape))})[0] for i in range(rows.shape[0])])
    assert np.array_equal(got, want), first_difference(got, want)
    expected_mode = "batched" if "gestures" in relative else "single"
    assert backend.batch_mode == expected_mode


def test_quantised_real_model_runs_as_qdq_and_agrees(accel, tmp_path):
    """Without it a QDQ model with float I/O would be wrongly quantised a second time."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    path, rows = accel

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter(rows[i : i + 1] for i in range(0, rows.shape[0], 10))

        def get_next(self):
            row = next(self._it, None)
            return None if row is None else {"x": row}

    q_path = tmp_path / "accelerometer.qdq.onnx"
    quantize_static(str(path), str(q_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    q_backend = load_backend(q_path, variant="int8")
    assert q_backend.describe()["quantization"] == {}
    (p_i8,) = q_backend.run(rows)
    (p_f32,) = load_backend(path, variant="float32").run(rows)
    assert_agreement(p_f32, p_i8, ACCEL_INT8_PROB_TOLERANCE)


def test_missing_onnx_package_is_named_when_int8_params_are_unreadable(models, monkeypatch):
    """Without it a user lacking the onnx package would be told the model has no scale at all."""
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ModelError) as info:
        load_backend(models / "motion_fc.i8.onnx", variant="int8")
    assert "the onnx package, needed to read the graph, is not installed" in str(info.value)
    backend = load_backend(models / "motion_fc.i8.onnx", variant="int8", quantization={
        "input": {"scale": 1 / 255, "zero_point": -128},
        "output": {"scale": 1 / 255, "zero_point": -128}})
    assert backend.describe()["quantization"]["x"]["source"] == "caller metadata"
    (scores,) = backend.run(np.zeros((3, 33), dtype=np.float32))
    assert backend.batch_mode == "batched"  # dynamic batch: no rewrite, so no onnx needed
    assert scores.shape == (3, 4)
