"""Tests for the input bodies a run reads: impulse, DSP config, Keras / anomaly / GMM metadata."""

from __future__ import annotations

import copy
import json

import pytest
from pydantic import ValidationError

import evalcore.schema as schema
from evalcore.errors import BundleError
from evalcore.schema import dsp_config, impulse, learn_metadata

# Key order of the 1.96.3 models (``__properties`` of the edgeimpulse-api wheel's model files).
CATALOGUE = {
    "GetImpulseResponse": ["success", "error", "impulse"],
    "Impulse": ["id", "name", "inputBlocks", "dspBlocks", "learnBlocks", "postProcessingBlocks",
                "type", "datasetVersionId"],
    "ImpulseInputBlock": ["id", "type", "name", "title", "axes", "windowSizeMs", "windowIncreaseMs",
                          "frequencyHz", "classificationWindowIncreaseMs", "padZeros",
                          "labelingMethodMultiLabel", "imageWidth", "imageHeight", "resizeMode",
                          "resizeMethod", "cropAnchor", "createdBy", "createdAt", "datasetSubset"],
    "ImpulseInputBlockLabelingMethodMultiLabel": ["type", "labels", "minPercentage"],
    "ImpulseInputBlockDatasetSubset": ["includePercentage", "seed"],
    "ImpulseDspBlock": ["id", "type", "name", "axes", "title", "valuesPerAxis", "input",
                        "createdBy", "createdAt", "implementationVersion", "organization",
                        "customUrl", "namedAxes"],
    "ImpulseDspBlockOrganization": ["id", "dspId"],
    "ImpulseDspBlockNamedAxesInner": ["name", "description", "required", "selectedAxis"],
    "ImpulseLearnBlock": ["id", "type", "name", "dsp", "title", "createdBy", "createdAt",
                          "trainingProcessor"],
    "ImpulsePostProcessingBlock": ["id", "type", "name", "title", "createdBy", "createdAt",
                                   "implementationVersion"],
    "DSPConfigResponse": ["success", "error", "dsp", "config", "configError"],
    "DSPInfo": ["id", "name", "windowLength", "type", "classes", "classesPerKey", "features",
                "expectedWindowCount", "inputAxes", "performance", "canCalculateFeatureImportance",
                "calculateFeatureImportance", "canNormalizeData", "normalizeData", "hasAutoTune",
                "minimumVersionForAutotune", "hasAutotunerResults", "usesState"],
    "DSPInfoFeatures": ["generated", "count", "labels", "classes"],
    "DspPerformance": ["latency", "ram", "customDspString"],
    "DSPGroup": ["group", "items"],
    "DSPGroupItem": ["name", "value", "defaultValue", "type", "help", "param", "selectOptions",
                     "readonly", "shouldShow", "showIf", "invalidText", "section", "multiline",
                     "required", "hint", "placeholder", "showClickToSet", "valid", "items",
                     "properties", "minVal", "maxVal"],
    "DSPGroupItemSelectOptionsInner": ["value", "selected", "optionLabel", "priority",
                                       "romEstimate", "needsOps", "needsFeatures"],
    "DSPGroupItemShowIf": ["parameter", "operator", "value"],
    "KerasModelMetadataResponse": ["success", "error", "created", "layers", "classNames", "labels",
                                   "availableModelTypes", "recommendedModelType",
                                   "modelValidationMetrics", "hasTrainedModel", "mode",
                                   "objectDetectionLastLayer", "imageInputScaling", "thresholds",
                                   "tensorboardGraphs", "kFoldsMetadata"],
    "KerasModelLayer": ["input", "output"],
    "KerasModelLayerInput": ["shape", "name", "type"],
    "KerasModelLayerOutput": ["shape", "name", "type"],
    "KerasModelMetadataMetrics": ["type", "loss", "accuracy", "confusionMatrix", "report",
                                  "onDevicePerformance", "predictions", "visualization",
                                  "isSupportedOnMcu", "mcuSupportError", "profilingJobId",
                                  "profilingJobFailed", "additionalMetrics"],
    "BlockThreshold": ["key", "description", "helpText", "suggestedValue", "suggestedValueText",
                       "value", "dropdownOptions"],
    "BlockThresholdDropdownOptionsInner": ["description", "value"],
    "AdditionalMetric": ["name", "value", "fullPrecisionValue", "tooltipText", "link"],
    "AnomalyModelMetadataResponse": ["success", "error", "created", "scale", "mean", "clusters",
                                     "axes", "defaultMinimumConfidenceRating",
                                     "availableModelTypes", "recommendedModelType",
                                     "modelValidationMetrics", "hasTrainedModel", "thresholds"],
    "AnomalyModelMetadataClustersInner": ["center", "maxError"],
    "AnomalyGmmMetadataResponse": ["success", "error", "means", "covariances", "weights"],
}
#: Fields of the catalogue we do not model (ignored when present; see learn_metadata.py).
NOT_MODELLED = {
    ("KerasModelMetadataResponse", "tensorboardGraphs"),
    ("KerasModelMetadataResponse", "kFoldsMetadata"),
    ("KerasModelMetadataMetrics", "predictions"),
}
#: Fields 1.96.3 requires (the wheel's ``Field(...)``); ours must be a subset.
API_REQUIRED = {
    "GetImpulseResponse": {"success"},
    "Impulse": {"id", "name", "inputBlocks", "dspBlocks", "learnBlocks", "postProcessingBlocks",
                "type"},
    "ImpulseInputBlock": {"id", "type", "name", "title"},
    "ImpulseInputBlockLabelingMethodMultiLabel": {"type"},
    "ImpulseInputBlockDatasetSubset": {"includePercentage"},
    "ImpulseDspBlock": {"id", "type", "name", "axes", "title", "implementationVersion"},
    "ImpulseDspBlockOrganization": {"id", "dspId"},
    "ImpulseDspBlockNamedAxesInner": {"name"},
    "ImpulseLearnBlock": {"id", "type", "name", "dsp", "title"},
    "ImpulsePostProcessingBlock": {"id", "type", "name", "title", "implementationVersion"},
    "DSPConfigResponse": {"success", "dsp"},
    "DSPInfo": {"id", "name", "windowLength", "type", "classes", "features", "expectedWindowCount",
                "inputAxes", "canCalculateFeatureImportance", "calculateFeatureImportance",
                "canNormalizeData", "normalizeData"},
    "DSPInfoFeatures": {"generated"},
    "DspPerformance": {"latency", "ram"},
    "DSPGroup": {"group", "items"},
    "DSPGroupItem": {"name", "defaultValue", "type", "param", "readonly", "shouldShow", "required",
                     "showClickToSet"},
    "DSPGroupItemSelectOptionsInner": set(),
    "DSPGroupItemShowIf": {"parameter", "operator", "value"},
    "KerasModelMetadataResponse": {"success", "created", "layers", "classNames", "labels",
                                   "availableModelTypes", "recommendedModelType",
                                   "modelValidationMetrics", "hasTrainedModel", "mode",
                                   "imageInputScaling", "thresholds"},
    "KerasModelLayer": {"input", "output"},
    "KerasModelLayerInput": {"shape", "name", "type"},
    "KerasModelLayerOutput": {"shape", "name", "type"},
    "KerasModelMetadataMetrics": {"type", "loss", "confusionMatrix", "report",
                                  "onDevicePerformance", "visualization", "isSupportedOnMcu",
                                  "additionalMetrics"},
    "BlockThreshold": {"key", "description", "helpText", "value"},
    "BlockThresholdDropdownOptionsInner": {"description", "value"},
    "AdditionalMetric": {"name", "value", "fullPrecisionValue"},
    "AnomalyModelMetadataResponse": {"success", "created", "scale", "mean", "clusters", "axes",
                                     "defaultMinimumConfidenceRating", "thresholds"},
    "AnomalyModelMetadataClustersInner": {"center", "maxError"},
    "AnomalyGmmMetadataResponse": {"success", "means", "covariances", "weights"},
}


def _input_model(name: str):
    for module in (impulse, dsp_config, learn_metadata):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"{name} not found")


def _impulse_body() -> dict:
    return {
        "success": True,
        "impulse": {
            "id": 1, "name": "Impulse #1",
            "inputBlocks": [{
                "id": 2, "type": "time-series", "name": "Time series", "title": "Time series data",
                "windowSizeMs": 2000, "windowIncreaseMs": 80, "frequencyHz": 62.5, "padZeros": True,
                "classificationWindowIncreaseMs": 40, "createdAt": "2024-01-01T00:00:00.000Z",
                "someNewKey": {"x": 1},
            }],
            "dspBlocks": [{
                "id": 3, "type": "spectral-analysis", "name": "Spectral", "axes": ["accX", "accY"],
                "title": "Spectral Analysis", "implementationVersion": 4, "input": 2,
                "namedAxes": [{"name": "signal", "selectedAxis": "accX"}],
            }],
            "learnBlocks": [{"id": 4, "type": "keras", "name": "NN", "dsp": [3],
                             "title": "Classification", "trainingProcessor": "cpu"}],
            "postProcessingBlocks": [],
            "type": "default",
        },
    }


def _dsp_body() -> dict:
    item = {"name": "Scale axes", "value": "1", "defaultValue": "1", "type": "float",
            "param": "scale-axes", "readonly": False, "shouldShow": True, "required": True,
            "showClickToSet": False}
    return {
        "success": True,
        "dsp": {"id": 3, "name": "Spectral", "windowLength": 2000, "type": "spectral-analysis",
                "classes": ["idle"], "features": {"generated": True, "count": 10},
                "expectedWindowCount": 3, "inputAxes": ["accX"],
                "canCalculateFeatureImportance": False, "calculateFeatureImportance": False,
                "canNormalizeData": True, "normalizeData": "normalize-channel-standard-scaler"},
        "config": [
            {"group": "Scaling", "items": [item]},
            {"group": "Filter", "items": [
                {**item, "name": "Type", "param": "filter-type", "value": None,
                 "defaultValue": "low", "type": "select",
                 "selectOptions": [{"value": "low", "selected": True}]},
                {**item, "param": "filter-cutoff", "value": "3.5"},
            ]},
        ],
    }


def test_input_models_follow_the_catalogue():
    """Without it an input key could be misspelt (silently ignored, as extra keys are)."""
    problems = []
    for name, aliases in CATALOGUE.items():
        model = _input_model(name)
        ours = [f.alias for f in model.model_fields.values()]
        theirs = [a for a in aliases if (name, a) not in NOT_MODELLED]
        if ours != theirs:
            problems.append(f"{name}: {ours} != {theirs}")
        required = {f.alias for f in model.model_fields.values() if f.is_required()}
        if not required <= API_REQUIRED[name]:
            problems.append(f"{name}: requires {required - API_REQUIRED[name]} beyond the API")
        if model.model_config.get("extra") != "ignore":
            problems.append(f"{name}: extra is not 'ignore'")
    assert problems == []


def test_load_impulse_with_and_without_envelope():
    """Without it a bare Impulse object (or the API envelope) would be rejected."""
    body = _impulse_body()
    wrapped = schema.load_impulse(body)
    bare = schema.load_impulse(json.dumps(body["impulse"]))
    assert wrapped == bare
    assert wrapped.input_blocks[0].window_size_ms == 2000
    assert wrapped.input_blocks[0].classification_window_increase_ms == 40
    assert wrapped.dsp_blocks[0].named_axes[0].selected_axis == "accX"
    assert wrapped.learn_blocks[0].dsp == [3]


def test_impulse_tolerates_new_and_old_exports():
    """Without it a newer block type or an older export without id/name/type would fail."""
    body = _impulse_body()["impulse"]
    body["learnBlocks"][0]["type"] = "keras-future"
    body["inputBlocks"][0]["resizeMode"] = "stretch"
    for key in ("id", "name", "type", "postProcessingBlocks"):
        del body[key]
    loaded = schema.load_impulse(body)
    assert loaded.learn_blocks[0].type == "keras-future"
    assert loaded.input_blocks[0].resize_mode == "stretch"
    assert loaded.post_processing_blocks == []


@pytest.mark.parametrize(
    "body, message, field",
    [
        ({"success": False, "error": "no access"}, "reports a failure: no access", "success"),
        ({"success": True}, "has no impulse", "impulse"),
        ({"success": True, "impulse": {"inputBlocks": [], "dspBlocks": [], "learnBlocks": [
            {"id": 0, "type": "keras", "name": "n", "dsp": [], "title": "t"}]}},
         "greater than or equal to 1", "impulse.learnBlocks[0].id"),
        ({"inputBlocks": [], "dspBlocks": [{"id": 3, "type": "mfe", "axes": ["a", 3],
                                            "implementationVersion": 1}], "learnBlocks": []},
         "valid string", "dspBlocks[0].axes[1]"),
        ({"inputBlocks": [], "dspBlocks": [], "learnBlocks": [{"id": 4, "type": "keras",
                                                               "name": "n", "title": "t"}]},
         "missing required field", "learnBlocks[0].dsp"),
    ],
)
def test_impulse_errors_name_file_and_field(body, message, field):
    """Without it a bad impulse.json would fail without saying which field is wrong."""
    with pytest.raises(BundleError) as info:
        schema.load_impulse(body, path="impulse.json")
    assert message in info.value.message
    assert (info.value.path, info.value.field) == ("impulse.json", field)


def test_dsp_parameter_values():
    """Without it DSP blocks would get missing defaults or non-string values."""
    config = schema.load_dsp_config(_dsp_body())
    assert config.parameter_values() == {"scale-axes": "1", "filter-type": "low",
                                         "filter-cutoff": "3.5"}
    assert config.dsp.normalize_data == "normalize-channel-standard-scaler"
    assert list(config.parameter_values()) == ["scale-axes", "filter-type", "filter-cutoff"]


def test_dsp_values_written_as_json_numbers_become_js_strings():
    """Without it a hand-written 16 would become '16.0' or True 'True' instead of Studio's form."""
    body = _dsp_body()
    items = body["config"][0]["items"]
    items[0]["value"] = 16
    items.append({"param": "log", "value": True, "defaultValue": False})
    items.append({"param": "eps", "value": 1e-7, "defaultValue": "0"})
    values = schema.load_dsp_config(body).parameter_values()
    assert (values["scale-axes"], values["log"], values["eps"]) == ("16", "true", "1e-7")


def test_dsp_config_errors():
    """Without it a duplicated parameter or a failed config would be used silently."""
    body = _dsp_body()
    body["config"][1]["items"][1]["param"] = "scale-axes"
    with pytest.raises(BundleError, match="'scale-axes' appears twice"):
        schema.load_dsp_config(body, path="dsp/3.json")
    body = _dsp_body()
    del body["config"]
    body["configError"] = "block not configured"
    with pytest.raises(BundleError, match="block not configured"):
        schema.load_dsp_config(body).parameter_values()
    with pytest.raises(BundleError, match="reports a failure: boom"):
        schema.load_dsp_config({"success": False, "error": "boom"})


def _keras_body() -> dict:
    threshold = {"key": "min_score", "description": "Score", "helpText": "h", "value": 0.5,
                 "suggestedValue": 0.5}
    return {
        "success": True, "created": "2024-05-01T12:00:00.000Z",
        "layers": [{"input": {"shape": 39, "name": "x_input:0", "type": "<dtype: 'float32'>"},
                    "output": {"shape": 4, "name": "y_pred/Softmax:0",
                               "type": "<dtype: 'float32'>"}}],
        "classNames": ["idle", "snake", "updown", "wave"], "labels": ["idle", "snake"],
        "availableModelTypes": ["int8", "float32"], "recommendedModelType": "int8",
        "modelValidationMetrics": [{
            "type": "int8", "loss": 0.1, "accuracy": 0.98, "confusionMatrix": [[1, 0], [0, 1]],
            "report": {"idle": {"precision": 1}}, "onDevicePerformance": [{"mcu": "x"}],
            "predictions": [{"sampleId": 1}], "visualization": "featureExplorer",
            "isSupportedOnMcu": True, "additionalMetrics": [{"name": "f1", "value": "0.9",
                                                            "fullPrecisionValue": 0.9}],
        }],
        "hasTrainedModel": True, "mode": "classification", "imageInputScaling": "0..1",
        "thresholds": [threshold, {**threshold, "key": "layout", "value": "grid"}],
        "tensorboardGraphs": [], "kFoldsMetadata": {"folds": []},
    }


def test_keras_metadata():
    """Without it class names, thresholds (number or string) or the head type could be lost."""
    meta = schema.load_learn_metadata(_keras_body(), kind="classification")
    assert isinstance(meta, schema.KerasModelMetadataResponse)
    assert meta.class_names == ["idle", "snake", "updown", "wave"]
    assert [t.value for t in meta.thresholds] == [0.5, "grid"]
    assert meta.model_validation_metrics[0].additional_metrics[0].full_precision_value == 0.9
    minimal = schema.load_keras_metadata({"classNames": ["a"], "mode": "object-detection",
                                          "objectDetectionLastLayer": "yolo-future"})
    assert minimal.object_detection_last_layer == "yolo-future"
    assert minimal.thresholds is None


def test_keras_metadata_errors():
    """Without it metadata without class names would load and break decoding later."""
    body = _keras_body()
    del body["classNames"]
    with pytest.raises(BundleError) as info:
        schema.load_keras_metadata(body, path="learn/4/metadata.json")
    assert info.value.field == "classNames"
    body = _keras_body()
    body["thresholds"][0]["value"] = [0.5]
    with pytest.raises(BundleError) as info:
        schema.load_keras_metadata(body)
    assert info.value.field == "thresholds[0].value"


def test_anomaly_and_gmm_metadata():
    """Without it K-means clusters / scaler or GMM parameters could be mis-read."""
    body = {"success": True, "created": "2024-05-01T12:00:00.000Z", "scale": [2, 0.5],
            "mean": [0.1, -1], "clusters": [{"center": [0.5, 1], "maxError": 0.25}],
            "axes": [0, 3], "defaultMinimumConfidenceRating": 0.3,
            "thresholds": [{"key": "min_anomaly_score", "description": "d", "helpText": "h",
                            "value": 0.3}]}
    meta = schema.load_learn_metadata(body, kind="anomaly-kmeans")
    assert isinstance(meta, schema.AnomalyModelMetadataResponse)
    assert (meta.scale, meta.mean, meta.axes) == ([2.0, 0.5], [0.1, -1.0], [0, 3])
    assert meta.clusters[0].max_error == 0.25
    assert isinstance(schema.load_learn_metadata(body, kind="anomaly-gmm"),
                      schema.AnomalyModelMetadataResponse)
    gmm = schema.load_anomaly_gmm_metadata(
        {"success": True, "means": [[0, 1]], "covariances": [[[1, 0], [0, 1]]], "weights": [1]})
    assert gmm.covariances == [[[1.0, 0.0], [0.0, 1.0]]]
    bad = {"means": [[0, 1]], "covariances": [[[1, 0], [0, "x"]]], "weights": [1]}
    with pytest.raises(BundleError) as info:
        schema.load_anomaly_gmm_metadata(bad, path="gmm.json")
    assert info.value.field == "covariances[0][1][1]"
    with pytest.raises(BundleError, match="reports a failure: not trained"):
        schema.load_anomaly_gmm_metadata({"success": False, "error": "not trained"})


def test_input_models_are_frozen_and_convert_to_output():
    """Without it a loaded config could be mutated, or not carried into the output learn block."""
    block = schema.load_impulse(_impulse_body()).learn_blocks[0]
    with pytest.raises(ValidationError):
        block.name = "other"
    out = schema.ImpulseLearnBlock.model_validate(block.model_dump(exclude_none=True))
    assert out.model_dump(by_alias=True, exclude_none=True) == {
        "id": 4, "type": "keras", "name": "NN", "dsp": [3], "title": "Classification",
        "trainingProcessor": "cpu"}


def test_inputs_from_files(tmp_path):
    """Without it a path would be taken as JSON text or the file name lost from errors."""
    path = tmp_path / "impulse.json"
    path.write_text(json.dumps(_impulse_body()))
    assert schema.load_impulse(path).id == 1
    broken = copy.deepcopy(_dsp_body())
    broken["dsp"]["id"] = "3"
    bad = tmp_path / "3.json"
    bad.write_text(json.dumps(broken))
    with pytest.raises(BundleError) as info:
        schema.load_dsp_config(bad)
    assert (info.value.path, info.value.field) == (str(bad), "dsp.id")
    with pytest.raises(BundleError, match="cannot read"):
        schema.load_dsp_config(tmp_path / "absent.json")
