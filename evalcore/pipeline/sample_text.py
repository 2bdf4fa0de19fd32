"""A time-series sample's ``Sample`` object as the response's JSON text, without the model.

Every sample's ``result[]`` entry holds its ``Sample`` (~1 KB of text). Building the validated
model (``evalcore.data.studio.to_studio_sample``) and writing it with ``jsonio.fragment`` cost
~190 µs a sample, a fifth of a run's main thread on a small model. For the common shape (a time
series or audio sample with a single label or none, no boxes, no multi-label ranges, no
key-value labels) `sample_text` writes the same bytes directly: the fields in ``Sample``'s
order, strings as ``jsonio.encode_string`` writes them, numbers as JavaScript does
(``evalcore.jsnumber``), the parts that repeat from sample to sample (sensors, interval, device,
dates) cached. Any other sample answers None and the caller builds the model, as before.
``tests/test_sample_text.py`` holds the text to ``fragment(to_studio_sample(...))`` on every
fixture bundle's samples and on generated ones.
"""

from __future__ import annotations

from evalcore.jsnumber import format_float, format_int
from evalcore.jsonio import encode_string, fragment

__all__ = ["sample_text"]

#: The categories ``schema.Sample`` lists (``RawDataCategory``); others take the model's path.
_CATEGORIES = frozenset(("training", "testing", "validation", "post-processing"))

_CACHE_LIMIT = 256
_middles: dict = {}  # (interval, device, sensors, count, created, metadata) -> (middle, tail) texts


def sample_text(record, data) -> str | None:
    """``fragment(to_studio_sample(record, data))`` for the common shape, else None (see above)."""
    label = record.label
    if (data.kind == "image" or label.kind not in ("label", "unlabeled") or record.bounding_boxes
            or record.category not in _CATEGORIES or type(record.id) is not int
            or type(record.filename) is not str or type(record.rel_path) is not str
            or type(data.sha256) is not str or type(data.device_type) is not str
            or not (data.device_name is None or type(data.device_name) is str)):
        return None
    text = label.label if label.kind == "label" else ""
    if type(text) is not str:
        return None
    parts = _parts(record, data)
    if parts is None:
        return None
    middle, tail = parts
    return ('{"id":' + format_int(record.id) + ',"filename":' + encode_string(record.filename)
            + middle[0] + encode_string(record.category) + ',"coldstorageFilename":' + encode_string(record.rel_path)
            + ',"label":' + encode_string(text) + middle[1] + ',"sha256Hash":' + encode_string(data.sha256) + tail)


def _parts(record, data):
    """The cached texts around the per-sample fields: ((before category, after label), tail)."""
    metadata = record.metadata
    if metadata is not None:
        if type(metadata) is not dict or not all(type(k) is str and type(v) is str for k, v in metadata.items()):
            return None
        metadata = tuple(metadata.items())
    sensors = tuple((s.name, s.units) for s in data.sensors)
    if not sensors or not all(type(name) is str and type(units) is str for name, units in sensors):
        return None
    key = (float(data.interval_ms), float(data.frequency_hz), data.device_name, data.device_type, sensors,
           int(data.n_values), _created_key(data), metadata)
    cached = _middles.get(key)
    if cached is None:
        if len(_middles) >= _CACHE_LIMIT:
            _middles.clear()
        cached = _middles[key] = _build_parts(data, sensors, metadata)
    return cached


def _created_key(data):
    iat = data.protected.get("iat")
    return (type(iat), iat)


def _build_parts(data, sensors: tuple, metadata: tuple | None):
    from evalcore.data.studio import sample_created

    interval = format_float(float(data.interval_ms))
    frequency = format_float(float(data.frequency_hz))
    count = format_int(int(data.n_values))
    length = format_float(float(data.n_values * float(data.interval_ms)))
    created = fragment(sample_created(data))
    sensors_text = "[" + ",".join('{"index":' + str(i) + ',"name":' + encode_string(name) + ',"units":'
                                  + encode_string(units) + "}" for i, (name, units) in enumerate(sensors)) + "]"
    device = "" if data.device_name is None else ',"deviceName":' + encode_string(data.device_name)
    before_category = ',"signatureValidate":false,"created":' + created + ',"lastModified":' + created + ',"category":'
    after_label = (',"intervalMs":' + interval + ',"frequency":' + frequency + ',"originalIntervalMs":' + interval
                   + ',"originalFrequency":' + frequency + device + ',"deviceType":' + encode_string(data.device_type)
                   + ',"sensors":' + sensors_text + ',"valuesCount":' + count + ',"totalLengthMs":' + length
                   + ',"added":' + created + ',"boundingBoxes":[],"boundingBoxesType":"object_detection"'
                   + ',"chartType":"chart","isDisabled":false,"isProcessing":false,"processingError":false'
                   + ',"isCropped":false' + ("" if metadata is None else ',"metadata":' + fragment(dict(metadata)))
                   + ',"projectId":0')
    tail = (',"datastreams":[{"index":0,"chartType":"chart","intervalMs":' + interval + ',"frequencyHz":' + frequency
            + ',"sensors":' + sensors_text + ',"valuesCount":' + count + ',"totalLengthMs":' + length + "}]}")
    return (before_category, after_label), tail
