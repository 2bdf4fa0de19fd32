"""Typed records of an Edge Impulse dataset export: the index entries and one sample's data.

These are plain frozen dataclasses, built once at the edge (``evalcore.data.index`` and
``evalcore.data.samples``) and trusted everywhere after that.

Array letters: N values (readings) of one sample, A axes (sensors), H x W image pixels.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

__all__ = [
    "BoundingBox",
    "DatasetIndex",
    "LabelInfo",
    "LabelKind",
    "LabelSegment",
    "SampleData",
    "SampleRecord",
    "Sensor",
]

LabelKind = Literal["label", "multi-label", "unlabeled", "keyvalue-labels"]
"""The ``label.type`` values of an ``info.labels`` entry (edge-impulse-cli ``ExportUploaderInfoFileLabel``)."""


@dataclass(frozen=True, slots=True)
class LabelSegment:
    """One labelled range of a multi-label sample.

    ``start_index`` and ``end_index`` are value (reading) indices into the sample as stored;
    ``end_index`` is inclusive, as in real exports (formats-and-akida.md B2).
    """

    start_index: int
    end_index: int
    label: str
    label_map: dict[str, str] | None = None


_SINGLE_CACHE: dict[str, LabelInfo] = {}


@dataclass(frozen=True, slots=True)
class LabelInfo:
    """The label of one sample, whatever its kind.

    Attributes
    ----------
    kind : {"label", "multi-label", "unlabeled", "keyvalue-labels"}
        Which of the four ``info.labels`` label types this is.
    label : str or None
        The single label (kind ``label``), else None.
    segments : tuple of LabelSegment
        The ranges of a ``multi-label`` sample in file order, else empty.
    key_values : dict of str to str or None
        The map of a ``keyvalue-labels`` sample, else None.
    """

    kind: LabelKind
    label: str | None = None
    segments: tuple[LabelSegment, ...] = ()
    key_values: dict[str, str] | None = None

    @classmethod
    def single(cls, label: str) -> LabelInfo:
        """A single-label sample (instances are shared per label: they are immutable and a
        frozen dataclass costs several microseconds to build, which adds up over 10^4+ samples).
        """
        found = _SINGLE_CACHE.get(label)
        if found is None:
            found = _SINGLE_CACHE[label] = cls(kind="label", label=label)
        return found

    @classmethod
    def unlabeled(cls) -> LabelInfo:
        """A sample without label."""
        return cls(kind="unlabeled")

    def distinct_labels(self) -> tuple[str, ...]:
        """Labels used by this sample, in order of first appearance (empty when unlabeled)."""
        if self.kind == "label":
            return (self.label,)
        seen: dict[str, None] = {}
        for segment in self.segments:
            seen.setdefault(segment.label, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """A ground-truth box in pixels of the original image, top-left origin.

    Coordinates keep the export's numbers (int or float); ``to_studio_sample`` rounds them.
    """

    label: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Sensor:
    """One axis of a sample: name and units as the acquisition file states them."""

    name: str
    units: str


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One sample of the dataset index; its data is read later by ``load_sample_data``.

    Attributes
    ----------
    id : int
        Stable 1-based id (see ``evalcore.data.index`` for how it is assigned).
    filename : str
        Studio-like sample name: the ``name`` of the info.labels entry, else the file name
        without its last extension (what Studio shows after an upload).
    file : str
        Absolute path of the data file, inside the dataset folder (a plain string: building
        ``pathlib.Path`` objects dominated indexing time for large exports; see ``path``).
    rel_path : str
        The path relative to the dataset folder, POSIX separators.
    category : str
        ``training``, ``testing``, ``validation`` or ``post-processing``.
    label : LabelInfo
        What the sample is labelled with.
    bounding_boxes : tuple of BoundingBox
        Object-detection ground truth (empty when none).
    metadata : dict of str to str or None
        The entry's ``metadata`` (None when the export has none for this file).
    label_source : str
        ``info.labels`` or ``file-name`` (where the label came from).
    """

    id: int
    filename: str
    file: str
    rel_path: str
    category: str
    label: LabelInfo
    bounding_boxes: tuple[BoundingBox, ...] = ()
    metadata: dict[str, str] | None = None
    label_source: str = "info.labels"

    @property
    def path(self) -> Path:
        """``file`` as a ``pathlib.Path``."""
        return Path(self.file)


class RecordTable(Sequence):
    """The records of a dataset, held as columns: a ``SampleRecord`` is built when it is read.

    A test set of 10^5 samples held as objects cost ~1 KB a sample (strings, the object, and the
    heap left fragmented by the label-file parse); here each sample is its characters in two
    joined strings plus a few array slots (~100 B; a file path is its folder, shared, and its
    ``rel_path``), so memory stays flat as the test set grows.
    Records compare equal field by field, so callers see no difference; a slice is a list.
    """

    _SEP = "\x00"

    def __init__(self, records):
        self._values: list = []  # distinct category / label / source values
        self._value_index: dict = {}
        self._boxes: dict = {}
        self._metadata: dict = {}
        self._files: dict = {}  # the file paths that are not their folder + rel_path
        ids, filenames, rels, codes = [], [], [], array("i")
        for k, r in enumerate(records):  # one pass: no list of every record object
            ids.append(r.id)
            filenames.append(r.filename)
            rels.append(r.rel_path)
            folder = r.file[: len(r.file) - len(r.rel_path)] if r.rel_path and r.file.endswith(r.rel_path) else None
            if folder is None:
                self._files[k] = r.file
                folder = ""
            codes.extend((self._code(r.category), self._code(r.label), self._code(r.label_source),
                          self._code(folder)))
            if r.bounding_boxes:
                self._boxes[k] = r.bounding_boxes
            if r.metadata is not None:
                self._metadata[k] = r.metadata
        self._n = len(ids)
        self._ids = np.array(ids, dtype=np.int64)
        self._filenames, self._filename_at = _join(filenames)
        self._rels, self._rel_at = _join(rels)
        self._codes = np.frombuffer(codes, dtype=np.int32).reshape(self._n, 4).copy()

    def _code(self, value) -> int:
        try:
            code = self._value_index.get(value)
        except TypeError:  # an unhashable label (key-value dict): kept as its own value
            code = None
            self._values.append(value)
            return len(self._values) - 1
        if code is None:
            code = self._value_index[value] = len(self._values)
            self._values.append(value)
        return code

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._record(k) for k in range(*i.indices(self._n))]
        k = range(self._n)[i]  # IndexError and negative indices as a list has them
        return self._record(k)

    def __iter__(self):
        return (self._record(k) for k in range(self._n))

    def _record(self, k: int) -> SampleRecord:
        category, label, source, folder = self._codes[k].tolist()
        rel_path = _cut(self._rels, self._rel_at, k)
        return SampleRecord(
            id=int(self._ids[k]), filename=_cut(self._filenames, self._filename_at, k),
            file=self._files.get(k) or self._values[folder] + rel_path, rel_path=rel_path,
            category=self._values[category], label=self._values[label],
            bounding_boxes=self._boxes.get(k, ()), metadata=self._metadata.get(k),
            label_source=self._values[source],
        )

    def __eq__(self, other) -> bool:
        if isinstance(other, RecordTable | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    __hash__ = None


def _join(texts: list) -> tuple[str, np.ndarray]:
    """``texts`` as one string and the offsets of each (``k``: ``[at[k], at[k + 1])``)."""
    at = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=at[1:])
    return "".join(texts), at


def _cut(joined: str, at: np.ndarray, k: int) -> str:
    return joined[int(at[k]) : int(at[k + 1])]


@dataclass(frozen=True)
class DatasetIndex:
    """The samples of one category of a dataset export, in id order.

    Attributes
    ----------
    root : pathlib.Path
        The dataset folder (absolute).
    category : str or None
        The category kept (None: all).
    records : RecordTable (a sequence of SampleRecord)
        The samples, ascending ``id``.
    skipped : tuple of str
        Files found by a folder scan that were not taken as samples (unknown extension),
        relative POSIX paths, so a caller can report them.
    """

    root: Path
    category: str | None
    records: RecordTable
    skipped: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, i: int) -> SampleRecord:
        return self.records[i]

    def by_id(self) -> dict[int, SampleRecord]:
        """A map from sample id to record."""
        return {r.id: r for r in self.records}


@dataclass(frozen=True)
class SampleData:
    """The data of one sample as read from its file.

    Attributes
    ----------
    kind : {"time-series", "audio", "image"}
        ``audio`` is a WAV file (one axis, int16 scale); acquisition JSON/CBOR is ``time-series``.
    file_format : str
        Sniffed from the bytes: ``json``, ``cbor``, ``wav``, or the Pillow format name in
        lower case (``png``, ``jpeg``, ...).
    sha256 : str
        Hex SHA-256 of the file bytes.
    values : float64 array of shape (N, A) or None
        Readings, one row per reading, columns in ``sensors`` order (None for images).
    interval_ms : float
        Time between two readings in ms (0 for images).
    frequency_hz : float
        Readings per second (0 for images). For WAV files the exact sample rate.
    sensors : tuple of Sensor
        Axis names and units (images: one ``image`` sensor with units ``rgba``).
    device_type : str
        ``payload.device_type`` (``EDGE_IMPULSE_UPLOADER`` for WAV and images, as the uploader sets).
    device_name : str or None
        ``payload.device_name`` when present.
    image : uint8 array of shape (H, W, 3) or None
        RGB pixels of an image sample.
    image_mode : str or None
        The image's Pillow mode before conversion to RGB (``RGB``, ``RGBA``, ``L``, ``P``, ...).
    width, height : int
        Image size in pixels (0 for time series).
    protected : dict
        The ``protected`` header of an acquisition file (``ver``, ``alg``, ``iat``...), else empty.
    signature : str or None
        The ``signature`` string; never verified.
    """

    kind: Literal["time-series", "audio", "image"]
    file_format: str
    sha256: str
    values: np.ndarray | None
    interval_ms: float
    frequency_hz: float
    sensors: tuple[Sensor, ...]
    device_type: str
    device_name: str | None = None
    image: np.ndarray | None = None
    image_mode: str | None = None
    width: int = 0
    height: int = 0
    protected: dict = field(default_factory=dict)
    signature: str | None = None

    @property
    def n_values(self) -> int:
        """Number of readings (1 for an image)."""
        return 1 if self.values is None else int(self.values.shape[0])

    @property
    def is_signed(self) -> bool:
        """True when the file carries a signature that is not the all-zero placeholder."""
        return bool(self.signature) and set(self.signature) != {"0"}
