"""Read one sample's file: ``load_sample_data(record) -> SampleData``.

The format is sniffed from the first bytes, never taken from the extension:

- ``RIFF....WAVE`` -> WAV audio (``evalcore.data.audio``);
- PNG / JPEG / BMP / GIF signatures -> image (``evalcore.data.images``);
- first non-blank byte ``{`` -> JSON acquisition file;
- a CBOR map head (major type 5) or the CBOR self-describe tag -> CBOR acquisition file;
- anything else is tried with Pillow, then refused.

Images: ``interval_ms = 0``, ``frequency_hz = 0``, one sensor ``image`` with units ``rgba`` and
device type ``EDGE_IMPULSE_UPLOADER`` (what the Edge Impulse uploader sends for an image).
WAV: one sensor ``audio`` / ``wav``, ``interval_ms = 1000 / rate``, ``frequency_hz = rate``,
device type ``EDGE_IMPULSE_UPLOADER`` (the uploader's values for a WAV upload).
Acquisition files: ``frequency_hz = 1000 / interval_ms``.

Multi-label ranges are checked against the number of values here (``endIndex < N``), since
that count is only known once the file is read.
"""

from __future__ import annotations

import hashlib

from evalcore.data.acquisition import decode_json, parse_acquisition, read_cbor
from evalcore.data.audio import AUDIO_SENSOR, read_wav
from evalcore.data.images import IMAGE_MAGIC, read_image
from evalcore.data.records import SampleData, SampleRecord, Sensor
from evalcore.errors import BundleError

__all__ = ["IMAGE_SENSOR", "UPLOADER_DEVICE_TYPE", "load_sample_data", "sniff_format"]

UPLOADER_DEVICE_TYPE = "EDGE_IMPULSE_UPLOADER"
IMAGE_SENSOR = Sensor("image", "rgba")
_CBOR_SELF_DESCRIBE = b"\xd9\xd9\xf7"
_IMAGE_MAGICS = tuple(IMAGE_MAGIC)


def sniff_format(head: bytes) -> str:
    """Classify a file from its first bytes.

    Returns
    -------
    str
        ``wav``, ``image``, ``json``, ``cbor`` or ``unknown``.
    """
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(_IMAGE_MAGICS) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    text = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if text.lstrip(b" \t\r\n")[:1] == b"{":
        return "json"
    if head[:3] == _CBOR_SELF_DESCRIBE or (head and head[0] >> 5 == 5):
        return "cbor"
    return "unknown"


def _read_bytes(record: SampleRecord) -> bytes:
    try:
        with open(record.file, "rb") as fh:
            return fh.read()
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise BundleError(f"cannot read sample file: {reason}", path=record.file, sample=record.filename) from err


def _check_segments(record: SampleRecord, n_values: int) -> None:
    for i, segment in enumerate(record.label.segments):
        if segment.end_index >= n_values:
            raise BundleError(
                f"multi-label range ends at value {segment.end_index} but the sample has {n_values} values",
                path=record.file,
                sample=record.filename,
                field=f"label.labels[{i}].endIndex",
            )


def _from_image(raw: bytes, record: SampleRecord, digest: str) -> SampleData:
    decoded = read_image(raw, record.file, record.filename)
    height, width = decoded.pixels.shape[:2]
    return SampleData(
        kind="image",
        file_format=decoded.format,
        sha256=digest,
        values=None,
        interval_ms=0.0,
        frequency_hz=0.0,
        sensors=(IMAGE_SENSOR,),
        device_type=UPLOADER_DEVICE_TYPE,
        image=decoded.pixels,
        image_mode=decoded.mode,
        width=int(width),
        height=int(height),
    )


def load_sample_data(record: SampleRecord, *, raw: bytes | None = None) -> SampleData:
    """Read and validate the data of one sample.

    Parameters
    ----------
    record : SampleRecord
        The index entry.
    raw : bytes, optional
        The file content when the caller already has it (else it is read from ``record.file``).

    Returns
    -------
    SampleData
        Values float64 of shape (N, A) with interval and sensors, or RGB pixels for an image.

    Raises
    ------
    BundleError
        Unreadable, empty, truncated or corrupt file; an invalid field; a multi-label range
        past the last value. The message names the file, the sample and the field.
    """
    if raw is None:
        raw = _read_bytes(record)
    path, sample = record.file, record.filename
    if not raw:
        raise BundleError("sample file is empty", path=path, sample=sample)
    digest = hashlib.sha256(raw).hexdigest()
    kind = sniff_format(raw[:16])
    if kind == "wav":
        audio = read_wav(raw, path, sample)
        data = SampleData(
            kind="audio",
            file_format="wav",
            sha256=digest,
            values=audio.values,
            interval_ms=1000.0 / audio.rate_hz,
            frequency_hz=float(audio.rate_hz),
            sensors=(AUDIO_SENSOR,),
            device_type=UPLOADER_DEVICE_TYPE,
        )
    elif kind in ("image", "unknown"):
        try:
            data = _from_image(raw, record, digest)
        except BundleError:
            if kind == "image":
                raise
            raise BundleError(
                "unrecognised sample format: not json, cbor, wav or an image", path=path, sample=sample, field="format"
            ) from None
    else:
        if kind == "json":
            acq = parse_acquisition(decode_json(raw, path, sample), path, sample)
        else:
            acq = read_cbor(raw, path, sample)
        data = SampleData(
            kind="time-series",
            file_format=kind,
            sha256=digest,
            values=acq.values,
            interval_ms=acq.interval_ms,
            frequency_hz=1000.0 / acq.interval_ms,
            sensors=acq.sensors,
            device_type=acq.device_type,
            device_name=acq.device_name,
            protected=acq.protected,
            signature=acq.signature,
        )
    _check_segments(record, data.n_values)
    return data
