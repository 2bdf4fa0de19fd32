# Enums of edgeimpulse-api 1.96.3: KerasModelVariantEnum, ObjectDetectionLastLayer, LearnBlockType,
# ExperimentalImpulseSpecificGpuTrainingProcessor, RawDataCategory, ProjectLabelingMethod, the
# inline string enums of Sample / SampleDatastream / ClassifyJobResponse, and the enums of the input
# bodies (InputBlockType, ImpulseType, ImageInputResizeMode, PostProcessingBlockType,
# DSPNormalizeData, KerasModelTypeEnum, KerasModelMode, ImageInputScaling).
"""Enum types of the Studio API, as ``Literal`` types.

Each enum comes in two spellings:

- ``<Name>Values``: the bare ``Literal`` of the values 1.96.3 lists.
- ``<Name>``: for output models, ``Annotated[<Name>Values, OPEN_ENUM]``: only listed values when
  writing, any string when reading a Studio response (see `evalcore.schema._base`).

Input models use ``<Name>Values | str``: they always keep values a newer Studio adds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from evalcore.schema._base import OPEN_ENUM

KerasModelVariantEnumValues = Literal["int8", "float32", "akida"]
KerasModelVariantEnum = Annotated[KerasModelVariantEnumValues, OPEN_ENUM]

ObjectDetectionLastLayerValues = Literal[
    "mobilenet-ssd",
    "fomo",
    "yolov2-akida",
    "yolov5",
    "yolov5v5-drpai",
    "yolox",
    "yolov7",
    "yolo-pro",
    "tao-retinanet",
    "tao-ssd",
    "tao-yolov3",
    "tao-yolov4",
    "yolov11",
    "yolov11-abs",
    "paddleocr-detector",
    "qc-face-det-lite",
    "qc-yolox",
]
ObjectDetectionLastLayer = Annotated[ObjectDetectionLastLayerValues, OPEN_ENUM]

LearnBlockTypeValues = Literal[
    "anomaly",
    "anomaly-gmm",
    "keras",
    "keras-transfer-image",
    "keras-transfer-kws",
    "keras-object-detection",
    "keras-regression",
    "keras-akida",
    "keras-akida-transfer-image",
    "keras-akida-object-detection",
    "keras-visual-anomaly",
    "keras-freeform",
    "keras-anomaly",
    "vlm",
]
LearnBlockType = Annotated[LearnBlockTypeValues, OPEN_ENUM]

ExperimentalImpulseSpecificGpuTrainingProcessorValues = Literal["cpu", "gpu"]
ExperimentalImpulseSpecificGpuTrainingProcessor = Annotated[
    ExperimentalImpulseSpecificGpuTrainingProcessorValues, OPEN_ENUM
]

RawDataCategoryValues = Literal["training", "testing", "validation", "post-processing"]
RawDataCategory = Annotated[RawDataCategoryValues, OPEN_ENUM]

ProjectLabelingMethodValues = Literal["single_label", "object_detection", "label_map"]
ProjectLabelingMethod = Annotated[ProjectLabelingMethodValues, OPEN_ENUM]

# Inline string enums (the spec declares them on the field, without a name of their own).
BoundingBoxesTypeValues = Literal["object_detection", "constrained_object_detection"]
BoundingBoxesType = Annotated[BoundingBoxesTypeValues, OPEN_ENUM]

ChartTypeValues = Literal["chart", "image", "video", "table"]
ChartType = Annotated[ChartTypeValues, OPEN_ENUM]

NoResultsBecauseThresholdsChangedValues = Literal[
    "can_regenerate_model_summary", "should_rerun_full_job"
]
NoResultsBecauseThresholdsChanged = Annotated[NoResultsBecauseThresholdsChangedValues, OPEN_ENUM]

# Enums of the input bodies (always open: ``<Name>Values | str`` at the field).
InputBlockTypeValues = Literal["time-series", "image", "features"]
ImpulseTypeValues = Literal["default", "BYOM", "VLM"]
ImageInputResizeModeValues = Literal["squash", "fit-short", "fit-long", "crop"]
PostProcessingBlockTypeValues = Literal["object-tracking", "sort-object-tracking"]
DSPNormalizeDataValues = Literal["none", "normalize-channel-standard-scaler"]
KerasModelTypeEnumValues = Literal["int8", "float32", "akida", "requiresRetrain"]
KerasModelModeValues = Literal[
    "classification",
    "regression",
    "object-detection",
    "visual-anomaly",
    "anomaly-gmm",
    "freeform",
    "anomaly",
]
ImageInputScalingValues = Literal[
    "0..1", "-1..1", "-128..127", "0..255", "torch", "bgr-subtract-imagenet-mean"
]
