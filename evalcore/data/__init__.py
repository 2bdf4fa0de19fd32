"""Readers for Edge Impulse dataset exports: the sample index, one sample's data, precomputed features.

Public entry points:

- ``load_dataset(dataset_dir, *, category="testing") -> DatasetIndex`` (``evalcore.data.index``)
- ``load_sample_data(record) -> SampleData`` (``evalcore.data.samples``)
- ``to_studio_sample(record, data, ...) -> evalcore.schema.Sample`` (``evalcore.data.studio``)
- ``load_feature_arrays`` / ``find_feature_files`` (``evalcore.data.features``)

Every reading error is an ``evalcore.errors.BundleError`` naming the file, the sample and the field.
"""

from evalcore.data.features import (
    FeatureArrays,
    find_feature_files,
    load_feature_arrays,
)
from evalcore.data.index import load_dataset
from evalcore.data.records import (
    BoundingBox,
    DatasetIndex,
    LabelInfo,
    LabelSegment,
    SampleData,
    SampleRecord,
    Sensor,
)
from evalcore.data.samples import load_sample_data
from evalcore.data.studio import to_studio_sample

__all__ = [
    "BoundingBox",
    "DatasetIndex",
    "FeatureArrays",
    "LabelInfo",
    "LabelSegment",
    "SampleData",
    "SampleRecord",
    "Sensor",
    "find_feature_files",
    "load_dataset",
    "load_feature_arrays",
    "load_sample_data",
    "to_studio_sample",
]
