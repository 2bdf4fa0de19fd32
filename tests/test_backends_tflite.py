"""The LiteRT (TensorFlow Lite) backend on Edge Impulse's real float32 and int8 exports."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.backends import load_backend
from evalcore.errors import ModelError
from tests._helpers import assert_agreement, first_difference

pytest.importorskip("ai_edge_litert.interpreter")

SDK = "edgeimpulse-python-sdk-sample-data"
MODELS = f"{SDK}/sample_models"
BENCH = "edgeimpulse-benchmark-nn"
GESTURES_LARGE = (
    f"{BENCH}/gestures-large-f32/ei-benchmark-gestures-large-nn-classifier-tensorflow-lite-float32-model.lite",
    f"{BENCH}/gestures-large-i8/ei-benchmark-gestures-large-nn-classifier-tensorflow-lite-int8-quantized-model.lite",
)
KEYWORDS = (
    f"{BENCH}/keywords-2d-f32/ei-benchmark-keywords-2d-nn-classifier-tensorflow-lite-float32-model.lite",
    f"{BENCH}/keywords-2d-i8/ei-benchmark-keywords-2d-nn-classifier-tensorflow-lite-int8-quantized-model.lite",
)
IMAGE_32 = (
    f"{BENCH}/image-32-32-mobilenet-f32/ei-benchmark-image-32x32-0.05-grayscale-transfer-learning-tensorflow-lite-float32-model.lite",
    f"{BENCH}/image-32-32-mobilenet-i8/ei-benchmark-image-32x32-0.05-grayscale-transfer-learning-tensorflow-lite-int8-quantized-model.lite",
)
IMAGE_96 = (
    f"{BENCH}/image-96-96-mobilenet-f32/ei-benchmark-image-96x96-0.35-color-transfer-learning-tensorflow-lite-float32-model.lite",
    f"{BENCH}/image-96-96-mobilenet-i8/ei-benchmark-image-96x96-0.35-color-transfer-learning-tensorflow-lite-int8-quantized-model(1).lite",
)
FOMO = (f"{MODELS}/fomo.96x96.f32.lite", f"{MODELS}/fomo.96x96.i8q.lite")
VOICE = (f"{MODELS}/responding-to-your-voice-tutorial.f32.lite",
         f"{MODELS}/responding-to-your-voice-tutorial.i8.lite")
TEMPERATURE = (f"{MODELS}/temperature-regression.f32.lite",
               f"{MODELS}/temperature-regression.i8.lite")

# int8 vs float32 probability tolerances per model pair. Each int8 model's softmax output is
# quantised in steps of 1/256, and the activations in 8-bit steps of their calibrated ranges; the
# numbers below are the max |p_int8 - p_f32| measured with ai-edge-litert 2.3.0 on the inputs of
# `_inputs` (in brackets), rounded up with a margin for other LiteRT kernels. `assert_agreement`
# also requires every top-1 flip to be a near-tie that such a difference explains.
PROB_TOLERANCE = {
    "gestures-large": 0.2,  # measured 0.130 (256 synthetic spectral rows), top-1 99.6%
    "keywords-2d": 0.1,  # measured 0.031 (128 synthetic MFCC rows), top-1 100%
    "image-32": 0.3,  # measured 0.193 (40 real images, flipped/rotated), top-1 97.5%
    "image-96": 0.5,  # measured 0.399 (40 real images), top-1 92.5%: MobileNet 0.35 int8
    "fomo": 0.05,  # measured 0.028 per heat-map cell (40 real images), top-1 100%
    "voice": 0.01,  # measured 0.0039 (128 synthetic MFCC rows), top-1 100%
}
# Temperature regression: output step 0.2323 (int8 scale), measured max |y_int8 - y_f32| 3.24
# (about 14 steps) on constant rows 0..37 whose float output lies inside the int8 output range
# [0, 59.25]; outside it the int8 output saturates, which is quantisation too but unbounded.
TEMPERATURE_TOLERANCE = 4.0
# LiteRT's XNNPACK int8 kernels and its built-in ones requantise differently: measured up to
# 0.035 (9 output steps of 1/256) on gestures-large int8, 0.082 on gestures-i8.lite, while float
# models differ by ~1e-6. Which set Studio uses is not known (see evalcore/backends/tflite.py).
XNNPACK_VS_BUILTIN_TOLERANCE = 0.1
# gestures-i8.lite on the real test windows of idle/snake/updown/wave: measured 248/269 = 0.922
# top-1 accuracy (updown.3 reads as wave); a wrong input scale or zero point drops it below 0.3.
GESTURES_I8_MIN_ACCURACY = 0.9


def _images(real_dir, size: int, gray: bool) -> np.ndarray:
    """Real sample images, each also mirrored and rotated, as EI image features in [0, 1]."""
    from PIL import Image

    paths = sorted(p for p in (real_dir / SDK / "sample_data").rglob("*")
                   if p.suffix in (".png", ".jpg"))
    rows = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        for k in range(4):
            view = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if k % 2 else image
            view = view.rotate(90 * (k // 2)).resize((size, size), Image.Resampling.BILINEAR)
            pixels = np.asarray(view, dtype=np.float32)
            if gray:  # EI's grayscale: 0.299 R + 0.587 G + 0.114 B, no rounding
                pixels = (0.299 * pixels[..., 0] + 0.587 * pixels[..., 1]
                          + 0.114 * pixels[..., 2])[..., None]
            rows.append((pixels / 255).reshape(-1))
    return np.stack(rows).astype(np.float32)


def _inputs(name: str, real_dir) -> np.ndarray:
    rng = np.random.default_rng(1)
    if name == "gestures-large":  # spectral features are >= 0 and mostly small
        return rng.gamma(1.0, 2.0, (256, 33)).astype(np.float32)
    if name in ("keywords-2d", "voice"):  # MFCC-like values inside the int8 input range
        return rng.normal(0, 1.5, (128, 637)).astype(np.float32)
    if name == "image-32":
        return _images(real_dir, 32, gray=True)
    if name == "image-96":
        return _images(real_dir, 96, gray=False)
    return _images(real_dir, 96, gray=True)  # fomo


@pytest.mark.parametrize(
    "relative, variant, input_shape, output_shape",
    [(GESTURES_LARGE[1], "int8", (33,), (4,)), (KEYWORDS[0], "float32", (637,), (3,)),
     (IMAGE_96[1], "int8", (96, 96, 3), (3,)), (FOMO[1], "int8", (96, 96, 1), (12, 12, 3)),
     (f"{MODELS}/gestures-i8.lite", "int8", (375,), (4,)),
     (TEMPERATURE[1], "int8", (8,), (1,)), (f"{MODELS}/fan-v3.f32.lite", "float32", (33,), (4,))],
)
def test_real_models_load_with_their_shapes(real_dir, relative, variant, input_shape, output_shape):
    """Without it a misread tensor shape would reshape features into the wrong layout."""
    backend = load_backend(real_dir / relative, variant=variant)
    assert backend.engine == "tflite"
    assert backend.input_shape == input_shape
    assert backend.n_features == int(np.prod(input_shape))
    assert backend.output_shapes == (output_shape,)


def test_quantisation_comes_from_the_tensor_details(real_dir):
    """Without it int8 models would be run with made-up or missing scales."""
    backend = load_backend(real_dir / MODELS / "gestures-i8.lite", variant="int8")
    quant = backend.describe()["quantization"]
    assert quant["serving_default_x:0"] == {"scale": 0.21295718848705292, "zero_point": 16,
                                            "dtype": "int8", "source": "tensor details"}
    assert quant["StatefulPartitionedCall:0"]["scale"] == 0.00390625
    assert quant["StatefulPartitionedCall:0"]["zero_point"] == -128


@pytest.mark.parametrize("relative", [f"{MODELS}/gestures-i8.lite", TEMPERATURE[1], KEYWORDS[1]])
def test_int8_matches_edge_impulse_process_input_and_output(real_dir, relative):
    """Without it our int8 path could differ from EI's Python (process_input/process_output)
    by a rounding rule or a float64 intermediate."""
    from ai_edge_litert.interpreter import Interpreter

    backend = load_backend(real_dir / relative, variant="int8")
    rows = np.random.default_rng(5).normal(0, 4, (40, backend.n_features)).astype(np.float32)
    interp = Interpreter(model_path=str(real_dir / relative), num_threads=1)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    want = []
    for row in rows:  # EI's formula, written out: Python float scale, float32 data
        scale, zero_point = inp["quantization"]
        q = np.clip(np.around(row / scale + zero_point), -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], q.reshape(inp["shape"]))
        interp.invoke()
        raw = interp.get_tensor(out["index"]).astype(np.float32)
        want.append((raw - out["quantization"][1]) * out["quantization"][0])
    want = np.concatenate(want)
    (got,) = backend.run(rows)
    assert np.array_equal(got, want), first_difference(got, want)


@pytest.mark.parametrize(
    "relative, expected_mode",
    [(GESTURES_LARGE[0], "batched"), (GESTURES_LARGE[1], "batched"), (FOMO[1], "batched"),
     (TEMPERATURE[1], "batched"), (KEYWORDS[1], "single"), (IMAGE_32[0], "single")],
)
def test_batched_runs_equal_one_window_runs(real_dir, relative, expected_mode):
    """Without it resizing the batch could change outputs, or crash on a hard-coded Reshape."""
    backend = load_backend(real_dir / relative, variant="float32", batch_size=16)
    rows = np.random.default_rng(2).random((37, backend.n_features), dtype=np.float32)
    (batched,) = backend.run(rows)
    assert backend.batch_mode == expected_mode
    single = load_backend(real_dir / relative, variant="float32", batch_rewrite=False)
    (one_by_one,) = single.run(rows)
    assert np.array_equal(batched, one_by_one), first_difference(batched, one_by_one)


@pytest.mark.parametrize(
    "name, pair",
    [("gestures-large", GESTURES_LARGE), ("keywords-2d", KEYWORDS), ("image-32", IMAGE_32),
     ("image-96", IMAGE_96), ("fomo", FOMO), ("voice", VOICE)],
)
def test_int8_agrees_with_float32_within_quantisation(real_dir, name, pair):
    """Without it a broken dequantisation or input layout would only show up in Studio parity."""
    rows = _inputs(name, real_dir)
    (p_f32,) = load_backend(real_dir / pair[0], variant="float32").run(rows)
    (p_i8,) = load_backend(real_dir / pair[1], variant="int8").run(rows)
    assert p_f32.shape == p_i8.shape
    assert_agreement(p_f32, p_i8, PROB_TOLERANCE[name])


def test_temperature_regression_int8_agrees_inside_its_output_range(real_dir):
    """Without it the regression int8 path (quantised output, no softmax) would go unchecked."""
    rows = np.repeat(np.linspace(0, 37, 200, dtype=np.float32)[:, None], 8, axis=1)
    (y_f32,) = load_backend(real_dir / TEMPERATURE[0], variant="float32").run(rows)
    (y_i8,) = load_backend(real_dir / TEMPERATURE[1], variant="int8").run(rows)
    inside = (y_f32[:, 0] >= 0) & (y_f32[:, 0] <= 255 * 0.23233775794506073)
    assert inside.sum() > 100
    assert np.abs(y_f32[inside] - y_i8[inside]).max() <= TEMPERATURE_TOLERANCE


def test_gestures_i8_classifies_real_accelerometer_windows(real_dir):
    """Without it the 375-feature int8 model could be fed mis-scaled windows unnoticed."""
    import cbor2

    backend = load_backend(real_dir / MODELS / "gestures-i8.lite", variant="int8")
    classes = ["idle", "snake", "updown", "wave"]
    windows, labels = [], []
    for path in sorted((real_dir / SDK / "sample_data" / "gestures" / "testing").glob("*.cbor")):
        label = path.name.split(".")[0]
        if label not in classes:
            continue
        values = np.asarray(cbor2.loads(path.read_bytes())["payload"]["values"], np.float32)
        for start in range(0, values.shape[0] - 125 + 1, 25):  # 2 s windows at 62.5 Hz
            windows.append(values[start : start + 125].reshape(-1))
            labels.append(classes.index(label))
    (scores,) = backend.run(np.stack(windows))
    accuracy = float(np.mean(scores.argmax(1) == np.array(labels)))
    assert accuracy >= GESTURES_I8_MIN_ACCURACY


def test_xnnpack_off_runs_builtin_kernels_close_to_xnnpack(real_dir):
    """Without it the xnnpack switch could be ignored or change results beyond kernel rounding."""
    rows = _inputs("gestures-large", real_dir)[:64]
    on = load_backend(real_dir / GESTURES_LARGE[1], variant="int8")
    off = load_backend(real_dir / GESTURES_LARGE[1], variant="int8", xnnpack=False)
    assert (on.describe()["xnnpack"], off.describe()["xnnpack"]) == (True, False)
    assert_agreement(on.run(rows)[0], off.run(rows)[0], XNNPACK_VS_BUILTIN_TOLERANCE)


def test_unloadable_file_is_a_model_error(tmp_path):
    """Without it a truncated .lite would crash with LiteRT's ValueError and no file name."""
    path = tmp_path / "broken.lite"
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError) as info:
        load_backend(path, variant="float32")
    assert "tflite cannot load the model" in str(info.value) and "broken.lite" in str(info.value)
