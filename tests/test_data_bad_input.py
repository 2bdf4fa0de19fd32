"""Bad input to the dataset readers: each case raises BundleError naming file, sample and field."""

from __future__ import annotations

import io
import json
import pickle
import struct

import cbor2
import numpy as np
import pytest
from PIL import Image

from evalcore.data import LabelInfo, SampleRecord, load_dataset, load_sample_data
from evalcore.data.features import load_feature_arrays
from evalcore.errors import BundleError

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"
GOOD_PAYLOAD = {"device_type": "X", "interval_ms": 10, "sensors": [{"name": "a", "units": "u"}, {"name": "b", "units": "u"}],
                "values": [[1, 2], [3, 4]]}


def _record(path) -> SampleRecord:
    return SampleRecord(id=7, filename="s7", file=str(path), rel_path=path.name, category="testing", label=LabelInfo.single("x"))


def _load_bad(tmp_path, name: str, content: bytes) -> BundleError:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(BundleError) as err:
        load_sample_data(_record(path))
    assert err.value.path == str(path)
    assert err.value.sample == "s7"
    assert str(path) in str(err.value) and "sample s7" in str(err.value)
    assert err.value.message[0].islower() and not err.value.message.endswith(".")
    return err.value


def _acq(payload_changes: dict) -> bytes:
    return json.dumps({"protected": {"ver": "v1", "alg": "none"}, "signature": "0" * 64,
                       "payload": {**GOOD_PAYLOAD, **payload_changes}}).encode()


def _dataset_error(tmp_path, files, category="testing") -> BundleError:
    (tmp_path / "info.labels").write_text(json.dumps({"version": 1, "files": files}))
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path, category=category)
    return err.value


# --- sample files --------------------------------------------------------------------------

def test_corrupt_json(tmp_path):
    """A syntax error in an acquisition JSON must name the line and column."""
    err = _load_bad(tmp_path, "a.json", b'{"payload": {"values": [1, 2,, 3]}}')
    assert err.field == "line 1 column 30" and "invalid json" in err.message


def test_truncated_json(tmp_path):
    """A JSON file cut short must be refused, not read as far as it goes."""
    err = _load_bad(tmp_path, "a.json", _acq({})[:-20])
    assert err.field.startswith("line 1 column")


def test_corrupt_cbor(tmp_path):
    """A CBOR file with an invalid item must name the byte where decoding stopped."""
    err = _load_bad(tmp_path, "a.cbor", b"\xa1\x63abc\x1f")
    assert "invalid cbor" in err.message and err.field.startswith("byte ")


def test_truncated_cbor(real_dir, tmp_path):
    """A real CBOR export cut in half must raise 'truncated', not give half the values."""
    raw = (real_dir / SDK / "gestures" / "testing" / "idle.0.cbor").read_bytes()
    err = _load_bad(tmp_path, "idle.0.cbor", raw[: len(raw) // 2])
    assert err.message == "invalid cbor: file is truncated" and err.field == f"byte {len(raw) // 2}"


def test_cbor_trailing_bytes(tmp_path):
    """Bytes after the CBOR document mean a damaged file and must be refused."""
    err = _load_bad(tmp_path, "a.cbor", cbor2.dumps({"payload": GOOD_PAYLOAD}) + b"\x00\x00")
    assert "bytes after the end" in err.message


def test_truncated_wav(real_dir, tmp_path):
    """A real WAV cut short must name the data chunk and the byte counts (scipy would only warn)."""
    raw = (real_dir / SDK / "hadouken.01.wav").read_bytes()
    err = _load_bad(tmp_path, "h.wav", raw[:100_000])
    assert err.field == "data" and "truncated" in err.message


def test_corrupt_wav_format(tmp_path):
    """A WAV whose fmt chunk names an unsupported encoding (ADPCM) must be refused naming fmt."""
    fmt = struct.pack("<HHIIHH", 2, 1, 8000, 4000, 1, 4)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4) + b"\x00" * 4
    err = _load_bad(tmp_path, "a.wav", b"RIFF" + struct.pack("<I", len(body)) + body)
    assert err.field == "fmt" and "unsupported wav encoding" in err.message


def test_wav_without_data_chunk(tmp_path):
    """A WAV with a fmt chunk but no data chunk must be refused naming data."""
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = b"WAVEfmt " + struct.pack("<I", 16) + fmt
    err = _load_bad(tmp_path, "a.wav", b"RIFF" + struct.pack("<I", len(body)) + body)
    assert err.field == "data"


def test_truncated_image(tmp_path):
    """A PNG cut short must raise at load time, not later inside the DSP."""
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format="PNG")
    err = _load_bad(tmp_path, "a.jpg", buf.getvalue()[:500])
    assert err.field == "image" and "image" in err.message


def test_corrupt_image(tmp_path):
    """PNG magic bytes followed by garbage must be refused as an image error."""
    err = _load_bad(tmp_path, "a.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    assert err.field == "image"


def test_unknown_format(tmp_path):
    """Bytes that are no sample format must be refused naming the format."""
    err = _load_bad(tmp_path, "a.json", b"timestamp,accX\n0,1\n")
    assert err.field == "format"


def test_empty_file(tmp_path):
    """An empty sample file must be refused with its name."""
    err = _load_bad(tmp_path, "a.cbor", b"")
    assert err.message == "sample file is empty"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"interval_ms": 0}, "payload.interval_ms"),
        ({"interval_ms": "16"}, "payload.interval_ms"),
        ({"sensors": []}, "payload.sensors"),
        ({"sensors": [{"name": "a"}, {"name": "b", "units": "u"}]}, "payload.sensors[0]"),
        ({"values": [[1, 2], [3]]}, "payload.values[1]"),
        ({"values": [[1, 2], [3, "4"]]}, "payload.values"),
        ({"values": [[1, 2], [3, None]]}, "payload.values"),
        ({"values": []}, "payload.values"),
        ({"device_type": None}, "payload.device_type"),
    ],
)
def test_invalid_payload_field(tmp_path, change, field):
    """Each invalid payload field must be refused naming that field."""
    err = _load_bad(tmp_path, "a.json", _acq(change))
    assert err.field == field


def test_non_finite_value_in_cbor(tmp_path):
    """CBOR can carry NaN; a non-finite reading must be refused naming its row and column."""
    payload = {**GOOD_PAYLOAD, "values": [[1.0, 2.0], [float("nan"), 4.0]]}
    err = _load_bad(tmp_path, "a.cbor", cbor2.dumps({"payload": payload}))
    assert err.field == "payload.values[1][0]"


def test_missing_payload(tmp_path):
    """A JSON object without payload is not an acquisition file."""
    err = _load_bad(tmp_path, "a.json", b'{"protected": {}}')
    assert err.field == "payload"


# --- info.labels and the dataset folder -----------------------------------------------------

def test_listed_file_missing(tmp_path):
    """A file named in info.labels but absent must fail at index time, naming it."""
    err = _dataset_error(tmp_path, [{"path": "testing/gone.json", "category": "testing", "label": {"type": "unlabeled"}}])
    assert (err.sample, err.field) == ("testing/gone.json", "path")
    assert err.path == str(tmp_path / "info.labels") and "not found" in err.message


def test_path_escapes_dataset(tmp_path):
    """A '../' path leaving the dataset folder must be refused even if the file exists."""
    (tmp_path / "data").mkdir()
    (tmp_path / "secret.json").write_text("{}")
    (tmp_path / "data" / "info.labels").write_text(json.dumps({"files": [
        {"path": "../secret.json", "category": "testing", "label": {"type": "unlabeled"}}]}))
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path / "data")
    assert (err.value.sample, err.value.field) == ("../secret.json", "path")
    assert "escapes the dataset folder" in err.value.message


def test_absolute_path_refused(tmp_path):
    """An absolute path in info.labels must be refused (exports only hold relative paths)."""
    target = tmp_path / "a.json"
    target.write_text("{}")
    err = _dataset_error(tmp_path, [{"path": str(target), "category": "testing", "label": {"type": "unlabeled"}}])
    assert err.field == "path" and "must be relative" in err.message


def test_unknown_label_type(tmp_path):
    """An unknown label type must name the entry and list the allowed types."""
    (tmp_path / "a.json").write_text("{}")
    err = _dataset_error(tmp_path, [{"path": "a.json", "category": "testing", "label": {"type": "bounding-boxes"}}])
    assert (err.sample, err.field) == ("a.json", "files[0].label")
    assert err.message == "unknown label type 'bounding-boxes', allowed: label, multi-label, unlabeled, keyvalue-labels"


def test_multi_label_end_before_start(tmp_path):
    """A range with endIndex < startIndex must be refused naming the range."""
    (tmp_path / "a.json").write_text("{}")
    label = {"type": "multi-label", "labels": [{"label": "x", "startIndex": 0, "endIndex": 3},
                                                {"label": "y", "startIndex": 9, "endIndex": 4}]}
    err = _dataset_error(tmp_path, [{"path": "a.json", "category": "testing", "label": label}])
    assert (err.sample, err.field) == ("a.json", "files[0].label.labels[1].endIndex")


def test_duplicate_listed_path(tmp_path):
    """The same file listed twice would be evaluated twice; it must be refused."""
    (tmp_path / "a.json").write_text("{}")
    entry = {"path": "a.json", "category": "testing", "label": {"type": "unlabeled"}}
    err = _dataset_error(tmp_path, [entry, dict(entry, path="./a.json")])
    assert err.field == "path" and "listed twice" in err.message


def test_info_labels_invalid_json(tmp_path):
    """A broken info.labels must name its line and column."""
    (tmp_path / "info.labels").write_text('{"files": [\n{"path": }]}')
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path)
    assert err.value.field == "line 2 column 10" and err.value.path == str(tmp_path / "info.labels")


def test_ndjson_broken_line(tmp_path):
    """A broken NDJSON line must be reported with its line number."""
    (tmp_path / "info.labels").write_text('{"__ndjson":true,"version":1}\n{"__key":"files","__item":{\n')
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path)
    assert err.value.field.startswith("line 2 ")


def test_info_labels_wrong_version(tmp_path):
    """A future info.labels version must be refused, not half-read."""
    (tmp_path / "info.labels").write_text(json.dumps({"version": 2, "files": []}))
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path)
    assert err.value.field == "version"


def test_empty_category(real_dir):
    """A dataset with no sample in the asked category must fail, not give a vacuous 100% run."""
    with pytest.raises(BundleError) as err:
        load_dataset(real_dir / SDK / "object_detection", category="training")
    assert err.value.field == "category" and err.value.message == "no samples in category 'training'"


def test_empty_dataset_folder(tmp_path):
    """An empty export folder must fail with the folder named."""
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path)
    assert err.value.path == str(tmp_path) and err.value.field == "category"


def test_missing_dataset_folder(tmp_path):
    """A dataset path that does not exist must be a BundleError, not a FileNotFoundError."""
    with pytest.raises(BundleError, match="dataset folder not found"):
        load_dataset(tmp_path / "nope")


# --- precomputed features -------------------------------------------------------------------

def test_npy_object_array_not_unpickled(tmp_path):
    """An object (pickled) .npy must be refused without unpickling it."""
    path = tmp_path / "X_t.npy"
    np.save(path, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(BundleError, match="cannot load npy file") as err:
        load_feature_arrays(path)
    assert err.value.path == str(path)


def test_npy_truncated(tmp_path):
    """A .npy cut short must be refused rather than reshaped."""
    path = tmp_path / "X_t.npy"
    np.save(path, np.zeros((10, 4)))
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(BundleError, match="cannot load npy file"):
        load_feature_arrays(path)


def test_npy_wrong_ndim(tmp_path):
    """Features that are not (windows, features) must be refused naming the shape."""
    path = tmp_path / "X_t.npy"
    np.save(path, np.zeros((2, 3, 4)))
    with pytest.raises(BundleError, match=r"got shape \(2, 3, 4\)") as err:
        load_feature_arrays(path)
    assert err.value.field == "X"


def test_npy_non_finite(tmp_path):
    """A NaN feature must be refused naming its row and column."""
    x = np.zeros((3, 2))
    x[2, 1] = np.inf
    np.save(tmp_path / "X_t.npy", x)
    with pytest.raises(BundleError) as err:
        load_feature_arrays(tmp_path / "X_t.npy")
    assert err.value.field == "X[2][1]"


def test_npy_pickle_file_is_not_an_array(tmp_path):
    """A raw pickle renamed .npy must be refused by np.load without executing it."""
    path = tmp_path / "X_t.npy"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(BundleError, match="cannot load npy file"):
        load_feature_arrays(path)


def test_ndjson_line_with_two_values(tmp_path):
    """An NDJSON line holding two JSON values must be refused, not shift the following entries."""
    item = {"path": "a.json", "category": "testing", "label": {"type": "unlabeled"}}
    text = '{"__ndjson":true,"version":1}\n' + json.dumps({"__key": "files", "__item": item}) + ', {"x": 1}\n'
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "info.labels").write_text(text)
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path)
    assert err.value.field.startswith("line 2 column")
