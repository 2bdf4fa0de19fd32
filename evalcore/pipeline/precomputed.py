"""Precomputed DSP features as the input of a run: every row of ``X`` is one window, no DSP.

Layout (Studio's feature download, one pair per DSP block and category)::

    features/<dspId>/X_<category>.npy   float (W, F): the DSP block's output, one row per window
    features/<dspId>/y_<category>.npy   optional labels, one per row
    features/X_<category>.npy           the same, when the impulse has a single DSP block

``<category>`` is ``testing`` (also accepted: ``test``, ``split_test``), ``training``
(``train``, ``split_train``) or ``validation``. Every DSP block of the impulse needs its file
and all files the same number of rows; a learn block's rows are its DSP blocks' rows side by
side, as in a normal run.

Labels (``y``): integers are 1-based indices into the first classifier's ``classNames`` (Edge
Impulse's ``y`` files count labels from 1; 0 = no label), strings are label names, floats are
regression targets. Each row becomes a sample with one window; its ``Sample`` object says
``deviceType: "EDGE_IMPULSE_FEATURES"``, one sensor ``features``, and ``sha256Hash`` of the
row's bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from evalcore.errors import BundleError
from evalcore.outcome import PreparedSample, SampleOutcome

__all__ = ["CATEGORY_NAMES", "FeatureSource"]

CATEGORY_NAMES = {
    "testing": ("testing", "test", "split_test"),
    "training": ("training", "train", "split_train"),
    "validation": ("validation", "valid", "split_valid"),
}


def _find_pair(folder: Path, category: str):
    from evalcore.data.features import find_feature_files

    if not folder.is_dir():
        return None
    pairs = find_feature_files(folder)
    for name in CATEGORY_NAMES.get(category, (category,)):
        if name in pairs:
            return pairs[name]
    return None


class FeatureSource:
    """Records and prepared windows read from ``features/`` instead of the dataset."""

    def __init__(self, project, category: str):
        from evalcore.bundle import check_inside
        from evalcore.data.features import load_feature_arrays

        self.project = project
        root = project.features_dir
        self.arrays = {}
        for spec in project.dsp.values():
            pair = _find_pair(root / str(spec.id), category)
            if pair is None and len(project.dsp) == 1:
                pair = _find_pair(root, category)
            if pair is None:
                raise BundleError(
                    f"no precomputed {category} features for DSP block {spec.id} "
                    f"(expected features/{spec.id}/X_{category}.npy)",
                    path=root,
                )
            for path in pair:
                if path is not None:
                    check_inside(path, project.root, follow_links=project.follow_links, what="features file")
            self.arrays[spec.id] = load_feature_arrays(*pair)
        counts = {a.x.shape[0] for a in self.arrays.values()}
        if len(counts) != 1:
            raise BundleError(f"precomputed features of the DSP blocks have different row counts: {sorted(counts)}",
                              path=root)
        self.n_rows = counts.pop()
        self.labels = self._labels()

    def _labels(self) -> list:
        first = next(iter(self.arrays.values()))
        y = first.y
        if y is None:
            return [None] * self.n_rows
        if y.ndim == 2:
            y = y[:, 0]
        if y.dtype.kind == "U":
            return [str(v) if v else None for v in y.tolist()]
        if y.dtype.kind in "iu":
            names = self._class_names()
            out = []
            for i, v in enumerate(y.tolist()):
                if v == 0:
                    out.append(None)
                elif 1 <= v <= len(names):
                    out.append(names[v - 1])
                else:
                    raise BundleError(f"label index {v} is outside 1..{len(names)} (classNames)",
                                      path=first.y_path, field=f"y[{i}]")
            return out
        from evalcore.jsnumber import format_number

        return [format_number(float(v)) for v in y.tolist()]

    def _class_names(self) -> tuple:
        for lb in self.project.learn:
            meta = lb.metadata
            names = getattr(meta, "class_names", None) if meta is not None else None
            if lb.kind == "classification" and names:
                return tuple(names)
        return ()

    def records(self, category: str) -> list:
        """One ``SampleRecord`` per row (id = row + 1)."""
        from evalcore.data.records import LabelInfo, SampleRecord

        first = next(iter(self.arrays.values()))
        out = []
        for i, label in enumerate(self.labels):
            info = LabelInfo.single(label) if label is not None else LabelInfo.unlabeled()
            out.append(SampleRecord(id=i + 1, filename=f"{first.name}#{i}", file=str(first.x_path),
                                    rel_path=f"{first.x_path.name}#{i}", category=category, label=info,
                                    label_source="features"))
        return out

    def prepare(self, record):
        """The pipeline's ``PreparedSample`` for one row."""
        from evalcore.data.records import SampleData, Sensor
        from evalcore.data.studio import to_studio_sample
        row = record.id - 1
        by_dsp = {d: np.ascontiguousarray(a.x[row : row + 1], dtype=np.float32) for d, a in self.arrays.items()}
        first = next(iter(by_dsp.values()))
        data = SampleData(
            kind="time-series", file_format="npy", sha256=hashlib.sha256(first.tobytes()).hexdigest(),
            values=first.astype(np.float64).reshape(-1, 1), interval_ms=0.0, frequency_hz=0.0,
            sensors=(Sensor("features", "N/A"),), device_type="EDGE_IMPULSE_FEATURES",
        )
        zero = np.zeros(1, dtype=np.float64)
        outcome = SampleOutcome(
            record=record, sample=to_studio_sample(record, data), start_ms=zero, end_ms=zero.copy(),
            label_ranges=np.zeros((1, 2), dtype=np.int64), expected=[record.label.label], window_interval_ms=0.0,
        )
        features = {}
        for lb in self.project.learn:
            parts = [by_dsp[d] for d in lb.dsp_ids]
            features[lb.id] = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        return PreparedSample(outcome=outcome, features=features)
