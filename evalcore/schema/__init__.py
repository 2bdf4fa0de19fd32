# Package of the edgeimpulse-api 1.96.3 models evalcore reads and writes.
"""pydantic v2 models of the Edge Impulse Studio API bodies evalcore reads and writes.

Output (``StudioModel``, unknown keys rejected; names are the API's):
``ClassifyJobResponse``, ``ClassifyJobResponsePage``, ``GetSampleDspResponse`` and every model
nested in them. Read Studio's own responses with `load_classify_job_response` /
`load_classify_job_response_page` (reading mode: see `evalcore.schema._base`).

Input (``InputModel``, unknown keys ignored): the impulse (`load_impulse`), DSP configs
(`load_dsp_config`) and learn-block metadata (`load_learn_metadata`, `load_keras_metadata`,
`load_anomaly_metadata`, `load_anomaly_gmm_metadata`). Input-side models whose API name
clashes with an output model (``ImpulseLearnBlock``, ``BlockThreshold``, ...) are reached
through their modules (`evalcore.schema.impulse`, `evalcore.schema.learn_metadata`).

Names are resolved lazily (PEP 562), so ``import evalcore.schema`` does not import pydantic.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evalcore.schema._base": (
        "API_VERSION", "ReadMode", "READ_MODE", "StudioModel", "InputModel", "UnknownVariant",
    ),
    "evalcore.schema.classify_job": (
        "ClassifyJobResponse", "ClassifyJobResponsePage", "ClassifyJobResponseAllOfAccuracy",
        "ClassifyJobResponseAllOfAccuracyTotalSummary",
        "ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock", "AdditionalMetric",
        "ModelResult", "ModelPrediction",
    ),
    "evalcore.schema.classification": (
        "ClassifySampleResponseClassification", "ImpulseLearnBlock", "AnomalyResult",
        "BlockThreshold", "BlockThresholdDropdownOptionsInner", "BlockThresholdValue",
        "ClassifySampleResponseClassificationDetails", "StructuredClassifyResult",
        "BoundingBoxWithScore",
    ),
    "evalcore.schema.sample": (
        "Sample", "BoundingBox", "SampleDatastream", "SampleDatastreamImageDimensions", "Sensor",
        "StructuredLabel", "SampleKeyValueLabels", "SampleLabelMapLabels", "SampleLastUpdatedBy",
        "LastUpdatedByUser", "LastUpdatedByProjectApiKey", "LastUpdatedByOAuthClient",
        "LastUpdatedByDatasetVersionRestore", "LastUpdatedByDatasetVersionRestoreActor",
    ),
    "evalcore.schema.raw_sample": ("GetSampleDspResponse", "RawSamplePayload"),
    "evalcore.schema.loading": (
        "load_classify_job_response", "load_classify_job_response_page",
        "load_get_sample_dsp_response", "load_body",
    ),
    "evalcore.schema.impulse": ("GetImpulseResponse", "Impulse", "load_impulse"),
    "evalcore.schema.dsp_config": ("DSPConfigResponse", "load_dsp_config"),
    "evalcore.schema.learn_metadata": (
        "KerasModelMetadataResponse", "AnomalyModelMetadataResponse", "AnomalyGmmMetadataResponse",
        "load_keras_metadata", "load_anomaly_metadata", "load_anomaly_gmm_metadata",
        "load_learn_metadata",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'evalcore.schema' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
