"""Tests for evalcore.data.samples.load_sample_data: acquisition JSON/CBOR, images, WAV, sniffing."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import cbor2
import numpy as np
import pytest
from PIL import Image

from evalcore.data import (
    LabelInfo,
    LabelSegment,
    SampleRecord,
    load_dataset,
    load_sample_data,
)
from evalcore.data.samples import sniff_format
from evalcore.errors import BundleError

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"


def _record(path: Path, label: LabelInfo | None = None) -> SampleRecord:
    return SampleRecord(id=1, filename=path.stem, file=str(path), rel_path=path.name, category="testing",
                        label=label or LabelInfo.single("x"))


def _first_diff(a: np.ndarray, b: np.ndarray) -> str:
    idx = np.argwhere(a != b)
    return "equal" if idx.size == 0 else f"first difference at {tuple(idx[0])}: {a[tuple(idx[0])]!r} vs {b[tuple(idx[0])]!r}"


def test_real_cbor_gestures_sample(real_dir):
    """A CBOR export must give float64 (622, 3) values equal to the file's numbers, 16 ms, signed."""
    path = real_dir / SDK / "gestures" / "testing" / "idle.0.cbor"
    data = load_sample_data(_record(path))
    expected = np.array(cbor2.loads(path.read_bytes())["payload"]["values"], dtype=np.float64)
    assert data.values.dtype == np.float64 and data.values.shape == (622, 3)
    assert np.array_equal(data.values, expected), _first_diff(data.values, expected)
    assert (data.kind, data.file_format, data.interval_ms, data.frequency_hz) == ("time-series", "cbor", 16.0, 62.5)
    assert [s.name for s in data.sensors] == ["accX", "accY", "accZ"]
    assert data.device_type == "Edge Impulse dataset" and data.device_name is None
    assert data.protected["iat"] == 1563033989 and data.is_signed
    assert data.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_real_cbor_without_iat(real_dir):
    """shake.0.cbor has no protected.iat and float32-rounded doubles; both must read unchanged."""
    data = load_sample_data(_record(real_dir / SDK / "gestures" / "testing" / "shake.0.cbor"))
    assert "iat" not in data.protected
    assert data.values[0, 0] == 19.969999313354492
    assert data.n_values == 625


def test_real_json_and_cbor_wave_are_equal(real_dir):
    """The same recording as JSON and CBOR must give identical arrays, device name and interval."""
    a = load_sample_data(_record(real_dir / SDK / "wave.01.json"))
    b = load_sample_data(_record(real_dir / SDK / "wave.01.cbor"))
    assert np.array_equal(a.values, b.values), _first_diff(a.values, b.values)
    assert a.values.shape == (4, 3) and a.values[0, 0] == -9.81
    assert (a.device_name, a.interval_ms) == (b.device_name, b.interval_ms) == ("ac:87:a3:0a:2d:1b", 10.0)
    assert (a.file_format, b.file_format) == ("json", "cbor")


def test_real_json_multi_label_coffee(real_dir):
    """The coffee JSON (zero signature, non-integer interval, accZ-first axes) must read as stored."""
    index = load_dataset(real_dir / SDK / "coffee")
    data = load_sample_data(index[0])
    assert data.values.shape == (8160, 3)
    assert data.interval_ms == 5.0349121093750115
    assert [s.name for s in data.sensors] == ["accZ", "accY", "accX"]
    assert [s.units for s in data.sensors] == ["N/A"] * 3
    assert not data.is_signed


def test_wrong_extension_is_sniffed(real_dir):
    """idle.0.wrong is CBOR with a wrong extension; the content, not the name, must decide."""
    data = load_sample_data(_record(real_dir / SDK / "gestures" / "testing" / "idle.0.wrong"))
    assert data.file_format == "cbor" and data.n_values == 622


def test_real_png_in_jpg_name(real_dir):
    """Exported .jpg files holding PNG data must decode to RGB uint8 (96, 96, 3)."""
    index = load_dataset(real_dir / SDK / "dataset")
    data = load_sample_data(index[0])
    with Image.open(index[0].path) as img:
        expected = np.asarray(img.convert("RGB"))
    assert (data.kind, data.file_format, data.image_mode) == ("image", "png", "RGB")
    assert data.image.dtype == np.uint8 and data.image.shape == (96, 96, 3)
    assert np.array_equal(data.image, expected), _first_diff(data.image, expected)
    assert (data.width, data.height, data.interval_ms, data.n_values) == (96, 96, 0.0, 1)
    assert data.sensors[0].name == "image" and data.sensors[0].units == "rgba"


def test_real_rgba_image_drops_alpha(real_dir):
    """RGBA object-detection images must become RGB with the colour channels unchanged."""
    index = load_dataset(real_dir / SDK / "object_detection")
    data = load_sample_data(index[0])
    with Image.open(index[0].path) as img:
        rgba = np.asarray(img)
    assert data.image_mode == "RGBA" and data.image.shape == (320, 320, 3)
    assert np.array_equal(data.image, rgba[..., :3]), _first_diff(data.image, rgba[..., :3])


@pytest.mark.parametrize("mode", ["L", "P", "RGB"])
def test_image_modes_convert_to_rgb(tmp_path, mode):
    """Grey and palette images must come back as 3-channel RGB with their mode recorded."""
    img = Image.new("RGB", (5, 3), (10, 20, 30)).convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    path = tmp_path / "a.png"
    path.write_bytes(buf.getvalue())
    data = load_sample_data(_record(path))
    assert data.image.shape == (3, 5, 3) and data.image_mode == mode
    assert np.array_equal(data.image, np.asarray(img.convert("RGB")))


def test_jpeg_image(tmp_path):
    """JPEG bytes must decode with the same pixels as Pillow gives."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(buf, format="JPEG")
    path = tmp_path / "a.jpg"
    path.write_bytes(buf.getvalue())
    data = load_sample_data(_record(path))
    with Image.open(path) as img:
        assert np.array_equal(data.image, np.asarray(img.convert("RGB")))
    assert data.file_format == "jpeg"


def test_real_float_wav(real_dir):
    """hadouken.01.wav (IEEE float, fact and PEAK chunks) must read as one int16-scale axis at 44.1 kHz."""
    data = load_sample_data(_record(real_dir / SDK / "hadouken.01.wav"))
    assert (data.kind, data.file_format, data.frequency_hz, data.interval_ms) == ("audio", "wav", 44100.0, 1000 / 44100)
    assert data.values.shape == (44100, 1)
    assert data.sensors[0].name == "audio" and data.sensors[0].units == "wav"
    assert data.device_type == "EDGE_IMPULSE_UPLOADER"


def test_single_axis_scalar_values(tmp_path):
    """A one-sensor file may list bare numbers; they must become an (N, 1) array."""
    doc = {"payload": {"device_type": "X", "interval_ms": 1, "sensors": [{"name": "t", "units": "C"}], "values": [1, 2.5, 3]}}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    data = load_sample_data(_record(path))
    assert np.array_equal(data.values, np.array([[1.0], [2.5], [3.0]]))
    assert data.protected == {} and data.signature is None


def test_multi_label_range_checked_against_values(tmp_path):
    """A multi-label range ending on the last value is fine; one past it is refused."""
    doc = {"payload": {"device_type": "X", "interval_ms": 1, "sensors": [{"name": "t", "units": "C"}], "values": [1, 2, 3]}}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    ok = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 2, "a"),))
    assert load_sample_data(_record(path, ok)).n_values == 3
    bad = LabelInfo(kind="multi-label", segments=(LabelSegment(0, 1, "a"), LabelSegment(2, 3, "b")))
    with pytest.raises(BundleError) as err:
        load_sample_data(_record(path, bad))
    assert err.value.field == "label.labels[1].endIndex"


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"),
        (b"\x89PNG\r\n\x1a\n", "image"),
        (b"\xff\xd8\xff\xe0", "image"),
        (b"\xef\xbb\xbf  {\"a\"", "json"),
        (b"\xa3cfoo", "cbor"),
        (b"\xd9\xd9\xf7\xa1", "cbor"),
        (b"hello", "unknown"),
    ],
)
def test_sniff_format(head, kind):
    """Format detection must follow the magic bytes, never the extension."""
    assert sniff_format(head) == kind
