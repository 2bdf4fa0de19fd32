"""Object-detection decoders (SSD, YOLOv5, YOLOX, YOLOv7, FOMO) and Studio's per-image pieces.

The YOLOv5/YOLOX paths (float64 decode, per-class float32 NMS) were cross-checked once against
tensorflow-cpu 2.21 running EI's documented steps (real YOLOv5 model on both sample images and
6 synthetic YOLOX outputs, 3 thresholds each: 0 differences); TF is not a test dependency, so
the tests below pin the semantics with hand-computed cases and the naive NMS reference.
"""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.errors import ModelError
from evalcore.learn.detection import decode_detections
from evalcore.learn.fomo import decode_fomo
from evalcore.learn.yolo import decode_yolov5, decode_yolov7, decode_yolox, per_class_nms
from evalcore.outcome import Detections
from evalcore.report.boxes import detection_details, prediction_bounding_boxes
from tests.naive import naive_non_max_suppression

REAL = "edgeimpulse-python-sdk-sample-data"


def _f64(values):
    """float32 model values as the float64 numbers EI's numpy code sees."""
    return np.asarray(values, dtype=np.float32).astype(np.float64)


@pytest.mark.parametrize("last_layer", ["yolov2-akida", "tao-retinanet", "yolov11", "yolo-pro", "bogus"])
def test_unsupported_last_layer_raises_model_error(last_layer):
    """An unsupported head must fail loudly with its name, never decode as something else."""
    with pytest.raises(ModelError, match=last_layer):
        decode_detections(last_layer, [np.zeros((1, 10, 7), np.float32)], input_width=96, input_height=96, threshold=0.5)


def test_ssd_threshold_inclusive_and_tensor_names():
    """SSD keeps score >= threshold in model order; names beat the legacy output order."""
    boxes = np.array(
        [[[0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.5, 0.5], [0.2, 0.2, 0.4, 0.4], [0.5, 0.5, 1.0, 1.0]]], np.float32
    )
    classes = np.array([[0.0, 1.0, 2.0, 1.0]], np.float32)
    scores = np.array([[0.9, 0.5, 0.49, 0.7]], np.float32)
    legacy = decode_detections(
        "mobilenet-ssd", [boxes, classes, scores], input_width=320, input_height=320, threshold=0.5
    )
    named = decode_detections(
        "mobilenet-ssd",
        {
            "StatefulPartitionedCall:3": boxes,
            "StatefulPartitionedCall:0": np.array([4.0], np.float32),
            "StatefulPartitionedCall:1": scores,
            "StatefulPartitionedCall:2": classes,
        },
        input_width=320,
        input_height=320,
        threshold=0.5,
    )
    for det in (legacy, named):
        assert det.labels.tolist() == [0, 1, 1]
        assert np.array_equal(det.scores, _f64([0.9, 0.5, 0.7]))
        assert np.array_equal(det.boxes, _f64(boxes[0][[0, 1, 3]]))


def _yolov5_rows():
    # cx, cy, w, h, objectness, class 0, class 1
    return np.array(
        [
            [0.50, 0.50, 0.2, 0.2, 0.90, 0.1, 0.8],  # class 1, kept
            [0.51, 0.50, 0.2, 0.2, 0.80, 0.2, 0.7],  # class 1, IoU > 0.4 with row 0 -> suppressed
            [0.50, 0.50, 0.2, 0.2, 0.70, 0.9, 0.1],  # class 0, same box, other class -> kept
            [0.20, 0.20, 0.1, 0.1, 0.50, 0.9, 0.3],  # class 0, score == threshold -> kept
            [0.80, 0.80, 0.1, 0.1, 0.49, 0.9, 0.3],  # below threshold
            [0.80, 0.20, 0.1, 0.1, 1.50, 0.9, 0.3],  # score > 1 dropped
        ],
        np.float32,
    )[None]


def test_yolov5_objectness_score_threshold_and_per_class_nms():
    """Score = objectness alone, thr <= score <= 1, per-class NMS, classes ascending in the output."""
    rows = _yolov5_rows()
    det = decode_detections("yolov5", [rows], input_width=320, input_height=320, threshold=0.5)
    r = rows[0].astype(np.float64)
    expect_idx = [2, 3, 0]
    assert det.labels.tolist() == [0, 0, 1]
    assert np.array_equal(det.scores, r[expect_idx, 4]), "score must be objectness, not objectness x class"
    want = np.stack([r[:, 1] - r[:, 3] / 2, r[:, 0] - r[:, 2] / 2, r[:, 1] + r[:, 3] / 2, r[:, 0] + r[:, 2] / 2], 1)
    assert np.array_equal(det.boxes, want[expect_idx])


def test_yolov5v5_drpai_divides_pixels_by_width_and_height():
    """The v5 (DRP-AI) path has pixel coordinates: x / width, y / height."""
    rows = np.array([[[160.0, 40.0, 64.0, 32.0, 0.9, 1.0]]], np.float32)
    det = decode_yolov5(rows, 320, 160, 0.5, version=5)
    assert np.array_equal(det.boxes, np.array([[24.0 / 160, 128.0 / 320, 56.0 / 160, 192.0 / 320]]))
    with pytest.raises(ModelError):
        decode_yolov5(rows, 320, 160, 0.5, version=7)


def test_yolox_grid_decode_prefilter_and_int_truncation():
    """Grid offsets/strides, the 0.01 pre-filter and int() toward zero must match EI's yolox path."""
    rows = np.zeros((21, 7), np.float32)  # 32 px input: 4x4 + 2x2 + 1x1 cells
    rows[5] = [0.5, 0.25, 0.0, 0.0, 0.9, 0.5, 1.0]  # stride 8, cell row 1 col 1 -> class 1
    rows[6] = [0.0, 0.0, 0.0, 0.0, 0.009, 1.0, 1.0]  # 0.009 fails the > 0.01 pre-filter
    rows[20] = [0.1, 0.0, 0.0, 0.0, 0.8, 1.0, 0.2]  # stride 32 -> class 0, negative corners
    det = decode_yolox(rows[None], 32, 0.5)
    assert det.labels.tolist() == [0, 1]
    assert np.array_equal(det.scores, np.array([_f64(0.8) * _f64(1.0), _f64(0.9) * _f64(1.0)]))
    # row 20: centre (3.2, 0), size 32 -> x0 = -12.8 -> int -12; row 5: centre (12, 10), size 8
    want = np.array([[-16 / 32, -12 / 32, 16 / 32, 19 / 32], [6 / 32, 8 / 32, 14 / 32, 16 / 32]])
    assert np.array_equal(det.boxes, want)
    with pytest.raises(ModelError, match="21"):
        decode_yolox(rows[None], 64, 0.5)


def test_yolox_truncation_gives_positive_zero():
    """int() of a small negative corner is 0, not -0.0 (which would serialise as -0.0)."""
    rows = np.zeros((21, 7), np.float32)
    rows[0] = [0.5, 0.5, np.log(1.2), np.log(1.2), 0.9, 1.0, 0.0]  # corner 4 - 4.8 = -0.8 -> int 0
    det = decode_yolox(rows, 32, 0.5)
    assert det.boxes[0, 0] == 0.0 and not np.signbit(det.boxes[0, :2]).any()


def test_yolov7_ignores_threshold_and_scales_pixels():
    """EI's yolov7 path applies no threshold (quirk) and divides x by width, y by height."""
    rows = np.array([[0, 32, 16, 64, 48, 1, 0.05], [0, 0, 0, 160, 80, 0, 0.9]], np.float32)
    for output in (rows, rows[None]):
        det = decode_detections("yolov7", [output], input_width=160, input_height=80, threshold=0.5)
        assert det.labels.tolist() == [1, 0]
        assert np.array_equal(det.scores, _f64([0.05, 0.9]))
        assert np.array_equal(det.boxes, np.array([[16 / 80, 32 / 160, 48 / 80, 64 / 160], [0.0, 0.0, 1.0, 1.0]]))
    with pytest.raises(ModelError):
        decode_yolov7(np.zeros((3, 6), np.float32), 160, 80)


@pytest.mark.parametrize("seed", range(20))
def test_per_class_nms_matches_naive(seed):
    """Per-class grouping, width scaling and float32 NMS must equal the naive per-class loop."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    centre, size = rng.uniform(0, 1, (n, 2)), rng.uniform(0, 0.4, (n, 2))
    boxes = np.concatenate([centre - size / 2, centre + size / 2], 1)
    labels = rng.integers(0, 3, n).astype(np.int32)
    scores = rng.random(n).astype(np.float32).astype(np.float64)
    got = per_class_nms(boxes, labels, scores, 320)
    order = []
    for label in sorted(set(labels.tolist())):
        idx = np.flatnonzero(labels == label)
        sel = naive_non_max_suppression((boxes[idx] * 320).astype(np.float32), scores[idx], len(idx), 0.4, 0.001)
        order.extend(idx[sel].tolist())
    assert np.array_equal(got.boxes, boxes[order].reshape(-1, 4))
    assert got.labels.tolist() == labels[order].tolist()
    assert np.array_equal(got.scores, scores[order])


def test_fomo_dispatch_equals_decode_fomo():
    """The dispatcher's fomo branch returns the same boxes as the FOMO decoder (0-based labels)."""
    heatmap = np.zeros((1, 4, 4, 3), np.float32)
    heatmap[0, 1, 2, 2] = 0.9
    det = decode_detections("fomo", {"out": heatmap}, input_width=32, input_height=32, threshold=0.5)
    boxes, labels, scores = decode_fomo(heatmap, 0.5)
    assert det.labels.tolist() == labels.tolist() == [1]
    assert np.array_equal(det.boxes, boxes) and np.array_equal(det.boxes, np.array([[0.25, 0.5, 0.5, 0.75]]))
    assert np.array_equal(det.scores, scores)


def test_studio_pieces():
    """predictions[].boundingBoxes are x/y/width/height ratios; details keep numeric 0-based labels."""
    det = Detections(np.array([[0.1, 0.2, 0.5, 0.6]]), np.array([1], np.int32), np.array([0.75]))
    (box,) = prediction_bounding_boxes(det, ["dog", "toy"])
    assert (box.label, box.x, box.y, box.width, box.height, box.score) == ("toy", 0.2, 0.1, 0.6 - 0.2, 0.5 - 0.1, 0.75)
    details = detection_details(det, map_score=0.5)
    assert details.boxes == [[0.1, 0.2, 0.5, 0.6]] and details.labels == [1] and details.scores == [0.75]
    assert details.map_score == 0.5 and details.f1 is None
    with pytest.raises(ModelError):
        prediction_bounding_boxes(det, ["dog"])
    assert len(Detections.empty()) == 0


def _litert():
    return pytest.importorskip("ai_edge_litert.interpreter", reason="ai_edge_litert (tflite extra) not installed")


def _run_tflite(path, x):
    interpreter = _litert().Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    if inp["dtype"] == np.int8:
        scale, zero = inp["quantization"]
        x = np.clip(np.around(x / scale + zero), -128, 127).astype(np.int8)
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    y = interpreter.get_tensor(out["index"])
    if out["dtype"] == np.int8:
        scale, zero = out["quantization"]
        y = (y.astype(np.float32) - zero) * scale
    return y


def test_real_yolov5_model_finds_the_dog(real_dir):
    """EI's YOLOv5 export (6300x7, normalised xywh) decodes to a box on the labelled dog of sample 51."""
    from PIL import Image as image_mod

    root = real_dir / REAL
    image = image_mod.open(root / "sample_data/object_detection/51.png.4arr9mq0.ingestion-68d4ddb448-lr7h5.jpg")
    x = (np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0)[None]
    output = _run_tflite(root / "sample_models/object-detection-yolov5.f32.lite", x)
    assert output.shape == (1, 6300, 7)
    det = decode_detections("yolov5", [output], input_width=320, input_height=320, threshold=0.3)
    assert len(det) >= 1 and det.labels.dtype == np.int32
    dog = np.array([68, 52, 68 + 86, 52 + 91]) / 320.0  # bounding_boxes.labels: x 52, y 68, w 91, h 86
    top = det.boxes[np.argmax(det.scores)]
    inter = np.prod(np.clip(np.minimum(top[2:], dog[2:]) - np.maximum(top[:2], dog[:2]), 0, None))
    iou = inter / (np.prod(top[2:] - top[:2]) + np.prod(dog[2:] - dog[:2]) - inter)
    assert iou > 0.5, f"top detection {top * 320} does not cover the dog (IoU {iou:.2f})"


@pytest.mark.parametrize("model", ["fomo.96x96.f32.lite", "fomo.96x96.i8q.lite"])
def test_real_fomo_model_layout(real_dir, model):
    """EI's FOMO export is a (1, 12, 12, 3) softmax heat map with channel 0 = background."""
    from PIL import Image as image_mod

    root = real_dir / REAL
    x = np.asarray(image_mod.open(root / "sample_data/capacitor.01.png").convert("L"), dtype=np.float32) / 255.0
    heatmap = _run_tflite(root / f"sample_models/{model}", x[None, :, :, None])
    assert heatmap.shape == (1, 12, 12, 3)
    assert np.allclose(heatmap.sum(axis=-1), 1.0, atol=1.0 / 128), "channels must be a softmax"
    assert (heatmap[0].argmax(axis=-1) == 0).all(), "no beer/can in a capacitor image: background everywhere"
    peak = float(heatmap[0, :, :, 1:].max())
    boxes, labels, _ = decode_fomo(heatmap, peak / 2 if peak > 0 else -1.0)
    assert len(labels) >= 1 and set(labels.tolist()) <= {0, 1}
    assert np.array_equal(boxes * 12, np.round(boxes * 12)), "boxes must lie on the 12x12 cell grid"
