"""Tests for the output models (evalcore.schema) against reference/api-schema.json and the seed.

The reference files are read in place from ``../shared/reference`` and ``../shared/seeds``
(next to the repository); tests that need them skip when they are absent.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, Discriminator, Strict, Tag, ValidationError

import evalcore.schema as schema
from evalcore.errors import BundleError
from evalcore.jsonio import dumps
from evalcore.schema._base import OPEN_ENUM, READ_MODE, REQUIRED_ON_WRITE, UnknownVariant
from tests.conftest import skip_if_shared_missing

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = REPO_ROOT.parent / "shared" / "reference"
SEEDS = REPO_ROOT.parent / "shared" / "seeds"  # under CI a missing seed fails like the folders above
SCHEMA_DIR = REPO_ROOT / "evalcore" / "schema"

#: Fields we keep beyond 1.96.3, so older Studio responses read and write back unchanged.
EXTRA_FIELDS = {("ImpulseLearnBlock", "description")}
#: Required in 1.96.3 but missing from the seed (older API snapshot): required only on writing.
SEED_LACKS = {("ClassifySampleResponseClassification", "thresholds")}
#: JSON.stringify(JSON.parse(seed JSON)) computed with node v20 when this test was written.
SEED_NODE_SHA256 = "147697df04ecee0e2e802d1f7d315a7da660b3f0df7c7fb52e72bccf7dcd83ca"
SEED_NODE_LENGTH = 3162
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture(scope="module")
def api_schema() -> dict:
    """``../shared/reference/api-schema.json``; skipped when absent."""
    path = skip_if_shared_missing(REFERENCE / "api-schema.json")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def seed_json() -> str:
    """Return the seed page's JSON example (the text between the first and last brace line)."""
    path = skip_if_shared_missing(SEEDS / "classify-job-result-api-doc.txt")
    lines = path.read_text().splitlines()
    start = lines.index("{")
    end = len(lines) - 1 - lines[::-1].index("}")
    return "\n".join(lines[start : end + 1])


# --- rendering a pydantic annotation in api-schema.json's type notation ---------------------


def _strip_optional(annotation):
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0]
    return annotation


def _render(annotation, metadata=()) -> str:
    """Type string in api-schema.json notation; ``lax:`` marks a scalar without Strict."""
    annotation = _strip_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        if any(isinstance(m, Discriminator) for m in extra):
            return "oneOf[" + ",".join(sorted(_union_tags(annotation))) + "]"
        return _render(base, tuple(metadata) + tuple(extra))
    if origin is typing.Literal:
        return "enum" + json.dumps(list(typing.get_args(annotation)))
    if origin in (typing.Union, types.UnionType):
        return "oneOf[" + ",".join(_render(a) for a in typing.get_args(annotation)) + "]"
    if origin is list:
        return f"array<{_render(typing.get_args(annotation)[0])}>"
    if origin is dict:
        key, value = typing.get_args(annotation)
        assert key is str
        return f"object<string, {_render(value)}>"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    if annotation is dt.datetime:
        return "string(date-time)"
    names = {int: "integer", float: "number", str: "string", bool: "boolean"}
    if annotation in names:
        strict = any(isinstance(m, Strict) and m.strict for m in metadata)
        return names[annotation] if strict else "lax:" + names[annotation]
    if "AwareDatetime" in (getattr(annotation, "__name__", "") + repr(annotation)):
        return "string(date-time)"
    raise AssertionError(f"cannot render {annotation!r}")


def _union_tags(annotation) -> dict[str, str]:
    """Tag -> member class name of a discriminated union, without the reading-mode fallback."""
    union = typing.get_args(annotation)[0]
    tags = {}
    for member in typing.get_args(union):
        cls, *meta = typing.get_args(member)
        tag = next(m.tag for m in meta if isinstance(m, Tag))
        if not issubclass(cls, UnknownVariant):
            tags[tag] = cls.__name__
    return tags


def _expected_render(field: dict, api: dict) -> str:
    kind = field["type"]
    if "enum" in field:
        return "enum" + json.dumps(field["enum"])

    def convert(text: str) -> str:
        match = re.fullmatch(r"array<(.*)>", text)
        if match:
            return f"array<{convert(match.group(1))}>"
        match = re.fullmatch(r"object<string, (.*)>", text)
        if match:
            return f"object<string, {convert(match.group(1))}>"
        if text in api["enums"]:
            return "enum" + json.dumps(api["enums"][text])
        model = api["models"].get(text)
        if model is not None and model["kind"] == "oneOf":
            if model["discriminator"]:
                return "oneOf[" + ",".join(sorted(model["discriminator"]["mapping"])) + "]"
            return "oneOf[" + ",".join(model["oneOf"]) + "]"
        return text

    return convert(kind)


def _spec_objects(api: dict):
    return [(name, m) for name, m in api["models"].items() if m["kind"] == "object"]


# --- the model tree against api-schema.json ------------------------------------------------


def test_every_spec_model_exists(api_schema):
    """Without it a model of the 1.96.3 tree could be missing from evalcore.schema."""
    missing = [name for name in api_schema["models"] if not hasattr(schema, name)]
    assert missing == []


def test_field_names_order_and_required(api_schema):
    """Without it a key could be misspelt, reordered or wrongly optional in our output."""
    problems = []
    for name, spec in _spec_objects(api_schema):
        model = getattr(schema, name)
        fields = {f.alias: (py, f) for py, f in model.model_fields.items()}
        ours = [alias for alias in fields if (name, alias) not in EXTRA_FIELDS]
        theirs = [f["alias"] for f in spec["fields"]]
        if ours != theirs:
            problems.append(f"{name}: order {ours} != {theirs}")
            continue
        for field in spec["fields"]:
            py_name, info = fields[field["alias"]]
            on_write = any(m is REQUIRED_ON_WRITE for m in info.metadata)
            required = info.is_required() or on_write
            if required != field["required"]:
                problems.append(f"{name}.{field['alias']}: required {required}")
            if not info.is_required() and info.default is not None:
                problems.append(f"{name}.{field['alias']}: optional default {info.default!r}")
            if "minimum" in field and not any(
                getattr(m, "ge", None) == field["minimum"] for m in info.metadata
            ):
                problems.append(f"{name}.{field['alias']}: no minimum {field['minimum']}")
    assert problems == []


def test_required_on_write_fields_are_the_documented_ones(api_schema):
    """Without it reading mode could tolerate a missing field no Studio generation omits."""
    expected = {
        (name, f["alias"])
        for name, spec in _spec_objects(api_schema)
        for f in spec["fields"]
        if f["required"] and f.get("absent_in_docs_snapshot")
    } | SEED_LACKS
    ours = {
        (name, info.alias)
        for name, _ in _spec_objects(api_schema)
        for info in getattr(schema, name).model_fields.values()
        if any(m is REQUIRED_ON_WRITE for m in info.metadata)
    }
    assert ours == expected


def test_field_types_and_enums(api_schema):
    """Without it a field could take a wrong JSON type (string vs number) or enum value set."""
    problems = []
    for name, spec in _spec_objects(api_schema):
        fields = {f.alias: f for f in getattr(schema, name).model_fields.values()}
        for field in spec["fields"]:
            info = fields[field["alias"]]
            got = _render(info.annotation, info.metadata)
            want = _expected_render(field, api_schema)
            if got != want:
                problems.append(f"{name}.{field['alias']}: {got} != {want}")
            is_tag = field["alias"] == "type" and "enum" in field and len(field["enum"]) == 1
            if got.startswith("enum") and not is_tag and OPEN_ENUM not in _all_metadata(info):
                problems.append(f"{name}.{field['alias']}: enum not open in reading mode")
    assert problems == []


def _all_metadata(info) -> list:
    found = list(info.metadata)
    stack = [info.annotation]
    while stack:
        annotation = stack.pop()
        if typing.get_origin(annotation) is typing.Annotated:
            found.extend(typing.get_args(annotation)[1:])
        stack.extend(typing.get_args(annotation))
    return found


def test_unions_match_spec_discriminators(api_schema):
    """Without it a lastUpdatedBy / labelMap variant could be routed to the wrong model."""
    unions = {name: spec for name, spec in api_schema["models"].items() if spec["kind"] == "oneOf"}
    assert unions, "the spec lists no oneOf model: the loop below would check nothing"
    for name, spec in unions.items():
        union = getattr(schema, name)
        if spec["discriminator"] is None:
            assert _render(union) == "oneOf[" + ",".join(spec["oneOf"]) + "]"
        else:
            assert spec["discriminator"]["propertyName"] == "type"
            assert _union_tags(union) == spec["discriminator"]["mapping"]


def test_no_models_beyond_the_spec(api_schema):
    """Without it an unreviewed output model could slip into the package's public names."""
    ours = {
        name
        for name in schema.__all__
        if isinstance(getattr(schema, name), type)
        and issubclass(getattr(schema, name), schema.StudioModel)
    }
    assert ours - set(api_schema["models"]) == {"StudioModel", "UnknownVariant"}


def test_model_files_name_api_models_and_document_fields():
    """Without it a model file could lose its version header or a field its docstring."""
    problems = []
    files = sorted(SCHEMA_DIR.glob("*.py"))
    assert files, f"no model files in {SCHEMA_DIR}"
    for path in files:
        source = path.read_text()
        if path.name != "__init__.py" and "1.96.3" not in source.splitlines()[0] + source[:400]:
            problems.append(f"{path.name}: no edgeimpulse-api 1.96.3 header comment")
        if not source.startswith("#"):
            problems.append(f"{path.name}: does not open with a comment")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.ClassDef):
                continue
            body = node.body
            for index, statement in enumerate(body):
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    if "ClassVar" in ast.unparse(statement.annotation):
                        continue
                    following = body[index + 1] if index + 1 < len(body) else None
                    is_doc = isinstance(following, ast.Expr) and isinstance(
                        getattr(following, "value", None), ast.Constant
                    )
                    if not is_doc:
                        problems.append(f"{path.name}: {node.name}.{statement.target.id}")
    assert problems == []


# --- a response built in code ---------------------------------------------------------------


def _hand_made_response() -> schema.ClassifyJobResponse:
    utc = dt.timezone.utc
    when = dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=utc)
    sensors = [schema.Sensor(index=0, name="image", units="rgba")]
    sample = schema.Sample(
        id=7, filename="cup.01", signature_validate=False, created=when, last_modified=when,
        category="testing", coldstorage_filename="files/cup.01.jpg", label="cup",
        interval_ms=0.0, frequency=0.0, original_interval_ms=0.0, original_frequency=0.0,
        device_type="camera", sensors=sensors, values_count=1, added=when,
        bounding_boxes=[schema.BoundingBox(label="cup", x=10, y=20, width=30, height=40)],
        bounding_boxes_type="object_detection", chart_type="image", is_disabled=False,
        is_processing=False, processing_error=False, is_cropped=False, project_id=1,
        sha256_hash="0" * 64,
        datastreams=[schema.SampleDatastream(
            index=0, chart_type="image", interval_ms=0.0, frequency_hz=0.0, sensors=sensors,
            values_count=1, total_length_ms=0.0)],
    )
    block = schema.ImpulseLearnBlock(id=3, type="keras-object-detection", name="od", dsp=[2],
                                     title="Object detection")
    classification = schema.ClassifySampleResponseClassification(
        learn_block=block, result=[{"cup": 0.875}], minimum_confidence_rating=0.5,
        structured_result=[schema.StructuredClassifyResult(
            boxes=[[0.1, 0.2, 0.3, 0.4]], labels=["cup"], scores=[0.875], m_ap=1.0, f1=1.0,
            precision=1.0, recall=1.0)],
        details=[schema.ClassifySampleResponseClassificationDetails(
            boxes=[[0.1, 0.2, 0.3, 0.4]], labels=[0], scores=[0.875], m_ap=1.0)],
        object_detection_last_layer="mobilenet-ssd",
        expected_labels=[schema.StructuredLabel(start_index=0, end_index=0, label="cup")],
        thresholds=[schema.BlockThreshold(key="min_score", description="Score", help_text="h",
                                          value=0.5)],
        interval_ms=0.0, frequency_hz=0.0, result_count=1,
    )
    summary = schema.ClassifyJobResponseAllOfAccuracyTotalSummary
    return schema.ClassifyJobResponse(
        success=True,
        result=[schema.ModelResult(sample_id=7, sample=sample, classifications=[classification])],
        predictions=[schema.ModelPrediction(
            sample_id=7, start_ms=0, end_ms=0, label="cup", prediction="cup", f1_score=1.0,
            bounding_boxes=[schema.BoundingBoxWithScore(label="cup", x=0.1, y=0.2, width=0.3,
                                                        height=0.4, score=0.875)])],
        accuracy=schema.ClassifyJobResponseAllOfAccuracy(
            total_summary=summary(good=1, bad=0),
            summary_per_class={"F1 score": summary(good=1, bad=0)},
            confusion_matrix_values={"cup": {"cup": 100.0}}, all_labels=["cup"]),
        additional_metrics_by_learn_block=[schema.ClassifyJobResponseAllOfAdditionalMetricsByLearnBlock(
            learn_block_id=3, learn_block_name="od", additional_metrics=[schema.AdditionalMetric(
                name="mAP", value="1.00", full_precision_value=1.0)])],
        available_variants=["float32", "int8"],
    )


def _check_typed(value, kind: str, api: dict, where: str, problems: list) -> None:
    """Check a parsed JSON value against an api-schema.json type string (recursively)."""
    match = re.fullmatch(r"array<(.*)>", kind)
    if match:
        if not isinstance(value, list):
            problems.append(f"{where}: not an array")
            return
        for i, item in enumerate(value):
            _check_typed(item, match.group(1), api, f"{where}[{i}]", problems)
        return
    match = re.fullmatch(r"object<string, (.*)>", kind)
    if match:
        if not isinstance(value, dict):
            problems.append(f"{where}: not an object")
            return
        for key, item in value.items():
            _check_typed(item, match.group(1), api, f"{where}[{key!r}]", problems)
        return
    scalar = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "string(date-time)": lambda v: isinstance(v, str) and ISO_MS_Z.match(v) is not None,
    }
    if kind in scalar:
        if not scalar[kind](value):
            problems.append(f"{where}: {value!r} is not {kind}")
        return
    if kind in api["enums"]:
        if value not in api["enums"][kind]:
            problems.append(f"{where}: {value!r} not in {kind}")
        return
    model = api["models"][kind]
    if model["kind"] == "oneOf":
        if model["discriminator"]:
            kind = model["discriminator"]["mapping"][value["type"]]
            _check_typed(value, kind, api, where, problems)
        elif not any(not _sub_problems(value, k, api) for k in model["oneOf"]):
            problems.append(f"{where}: {value!r} matches no member of {kind}")
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: not an object")
        return
    known = {f["alias"]: f for f in model["fields"]}
    for key in value:
        if key not in known and (kind, key) not in EXTRA_FIELDS:
            problems.append(f"{where}.{key}: not in {kind}")
    for alias, field in known.items():
        if alias not in value:
            if field["required"]:
                problems.append(f"{where}.{alias}: required but missing")
            continue
        if value[alias] is None:
            problems.append(f"{where}.{alias}: null")
        elif "enum" in field and value[alias] not in field["enum"]:
            problems.append(f"{where}.{alias}: {value[alias]!r} not in {field['enum']}")
        else:
            _check_typed(value[alias], field["type"], api, f"{where}.{alias}", problems)


def _sub_problems(value, kind, api) -> list:
    problems: list = []
    _check_typed(value, kind, api, "", problems)
    return problems


def test_hand_made_response_has_every_required_field_typed(api_schema):
    """Without it hand-built output could lack a required field or type one wrongly vs the spec."""
    parsed = json.loads(dumps(_hand_made_response()))
    problems: list = []
    _check_typed(parsed, "ClassifyJobResponse", api_schema, "$", problems)
    assert problems == []
    assert parsed["result"][0]["sample"]["created"] == "2024-05-01T12:00:00.123Z"
    assert parsed["predictions"][0]["startMs"] == 0
    assert "error" not in parsed and "noResultsBecauseThresholdsChanged" not in parsed


def test_writing_mode_rejects_unknown_enums_and_missing_fields():
    """Without it report code could emit an enum value or omit a field 1.96.3 requires."""
    response = _hand_made_response()
    data = response.model_dump(by_alias=True, exclude_none=True)
    bad_enum = copy.deepcopy(data)
    bad_enum["availableVariants"] = ["fp16"]
    with pytest.raises(ValidationError, match="literal_error|Input should be"):
        schema.ClassifyJobResponse.model_validate(bad_enum)
    missing = copy.deepcopy(data)
    del missing["result"][0]["classifications"][0]["resultCount"]
    with pytest.raises(ValidationError) as info:
        schema.ClassifyJobResponse.model_validate(missing)
    assert info.value.errors()[0]["type"] == "missing_on_write"
    assert schema.ClassifyJobResponse.model_validate(missing, context=READ_MODE) is not None


def test_models_are_frozen_and_forbid_unknown_keys():
    """Without it a typo'd key or a later mutation could silently change the output."""
    metric = schema.AdditionalMetric(name="a", value="1", full_precision_value=1.0)
    with pytest.raises(ValidationError):
        metric.name = "b"
    with pytest.raises(ValidationError, match="extra"):
        schema.AdditionalMetric(name="a", value="1", full_precision_value=1.0, colour="red")
    with pytest.raises(ValidationError):
        schema.AdditionalMetric(name="a", value="1", full_precision_value=True)
    with pytest.raises(ValidationError):
        schema.ClassifyJobResponseAllOfAccuracyTotalSummary(good=1.0, bad=0)


def test_import_is_lazy_and_models_deferred():
    """Without it importing evalcore.schema would pull pydantic and build every schema at once."""
    code = (
        "import sys, evalcore.schema as s; a = 'pydantic' in sys.modules; "
        "m = s.ClassifyJobResponse; print(a, m.__pydantic_complete__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO_ROOT, check=True).stdout.split()
    assert out == ["False", "False"]
    for name in schema.__all__:
        assert getattr(schema, name) is not None


# --- reading Studio responses and writing them back -----------------------------------------


def _every_field_response() -> dict:
    """Build a ClassifyJobResponse body (JavaScript-canonical numbers) using every field."""
    sensor = {"index": 0, "name": "accX", "units": "m/s2"}
    dims = {"width": 96, "height": 96}
    label_map = {"type": "key-values", "labels": {"machine": "on", "speed": "fast"}}
    box = {"label": "cup", "x": 0.125, "y": 0.25, "width": 0.5, "height": 0.0625, "score": 0.9}
    when = "2025-03-26T13:04:26.798Z"
    sample = {
        "id": 2, "filename": "idle01.d8Ae", "signatureValidate": True, "signatureMethod": "HS256",
        "signatureKey": "key", "created": when, "lastModified": "2025-03-26T13:04:27.000Z",
        "category": "testing", "coldstorageFilename": "files/idle01", "label": "idle",
        "intervalMs": 16, "frequency": 62.5, "originalIntervalMs": 16, "originalFrequency": 62.5,
        "deviceName": "dev-1", "deviceType": "DISCO-L475VG-IOT01A", "sensors": [sensor],
        "valuesCount": 125, "totalLengthMs": 2000, "added": "2025-03-26T13:04:28.001Z",
        "boundingBoxes": [{"label": "cup", "x": 1, "y": 2, "width": 3, "height": 4}],
        "boundingBoxesType": "constrained_object_detection", "chartType": "chart",
        "thumbnailVideo": "t.mp4", "thumbnailVideoFull": "tf.mp4", "isDisabled": False,
        "isProcessing": False, "processingJobId": 12, "processingError": False,
        "processingErrorString": "", "isCropped": True,
        # Array-index keys first, ascending: the order every JavaScript object has.
        "metadata": {"2": "two", "10": "ten", "site": "Zürich \u2028 \"q\""},
        "projectId": 1, "projectOwnerName": "Owner", "projectName": "Gestures",
        "projectLabelingMethod": "label_map", "sha256Hash": "ab" * 32,
        "structuredLabels": [{"startIndex": 0, "endIndex": 61, "label": "idle",
                              "labelMap": label_map}],
        "structuredLabelsList": ["idle"], "createdBySyntheticDataJobId": 5, "imageDimensions": dims,
        "videoUrl": "v.mp4", "videoUrlFull": "vf.mp4", "labelMap": label_map,
        "lastUpdatedBy": {
            "type": "datasetVersionRestore", "datasetVersionId": 4, "groupKey": "g",
            "actor": {"type": "oauthClient", "oauthClientId": "c", "userId": 9},
        },
        "datastreams": [{
            "index": 0, "chartType": "chart", "intervalMs": 16, "frequencyHz": 62.5,
            "sensors": [sensor], "valuesCount": 125, "imageDimensions": dims, "totalLengthMs": 2000,
        }],
    }
    classification = {
        "learnBlock": {
            "id": 3, "type": "keras-visual-anomaly", "name": "NN", "dsp": [2], "title": "NN",
            "description": "older API field", "createdBy": "createImpulse", "createdAt": when,
            "trainingProcessor": "gpu",
        },
        "result": [{"idle": 0.0002, "wave": 0.9998, "anomaly": -0.42}],
        "anomalyResult": [{"boxes": [box], "scores": [[1.5, 1e-7], [2e21, 0]], "meanScore": 0.5,
                           "maxScore": 2e21}],
        "structuredResult": [{"boxes": [[1, 2, 3, 4]], "labels": ["cup"], "scores": [0.9],
                              "mAP": 0.5, "f1": 0.25, "precision": 1, "recall": 0.125,
                              "debugInfoJson": "{\"a\": 1}"}],
        "minimumConfidenceRating": 0.6,
        "details": [{"boxes": [[1, 2, 3, 4]], "labels": [1], "scores": [0.9], "mAP": 0.5,
                     "f1": 0.25}],
        "objectDetectionLastLayer": "qc-yolox",
        "expectedLabels": [{"startIndex": 0, "endIndex": 61, "label": "idle"}],
        "expectedAnomalyOutcome": [{"startIndex": 0, "endIndex": 61, "label": "no anomaly"}],
        "thresholds": [
            {"key": "min_score", "description": "d", "helpText": "h", "suggestedValue": 0.5,
             "suggestedValueText": "s", "value": 0.6,
             "dropdownOptions": [{"description": "x", "value": "y"}]},
            {"key": "mode", "description": "d", "helpText": "h", "value": "fast"},
        ],
        "isMultiLabel": False, "intervalMs": 80, "frequencyHz": 12.5,
        "labelMapResult": [{"machine": "on"}],
        "labelMapScores": [{"machine": {"on": 0.75, "off": 0.25}}],
        "resultCount": 1,
    }
    prediction = {
        "sampleId": 2, "startMs": 0, "endMs": 2000, "label": "idle", "prediction": "idle",
        "predictionCorrect": True, "expectedAnomalyOutcome": "no anomaly", "f1Score": 1,
        "anomalyScores": [[0.5]], "boundingBoxes": [box], "labelMapPredictions": {"machine": "on"},
    }
    summary = {"good": 1, "bad": 0}
    return {
        "success": True, "error": "",
        "result": [{"sampleId": 2, "sample": sample, "classifications": [classification]}],
        "predictions": [prediction],
        "accuracy": {
            "totalSummary": dict(summary), "summaryPerClass": {"idle": dict(summary)},
            "confusionMatrixValues": {"idle": {"idle": 100, "wave": 0}},
            "allLabels": ["idle", "wave"],
            "accuracyScore": 1, "balancedAccuracyScore": 1, "anomalyAccuracyScore": 0.5,
            "noAnomalyAccuracyScore": 0.5, "mseScore": 1e-7,
        },
        "additionalMetricsByLearnBlock": [{
            "learnBlockId": 3, "learnBlockName": "NN",
            "additionalMetrics": [{"name": "mAP", "value": "0.50", "fullPrecisionValue": 0.5,
                                   "tooltipText": "t", "link": "https://x"}],
        }],
        "availableVariants": ["int8", "float32", "akida"],
        "noResultsBecauseThresholdsChanged": "should_rerun_full_job",
    }


def _page_with_other_variants() -> dict:
    """Build a ClassifyJobResponsePage whose samples use the other lastUpdatedBy variants."""
    full = _every_field_response()
    results = []
    for index, updater in enumerate([
        {"type": "user", "id": 1},
        {"type": "projectApiKey", "id": 2},
        {"type": "oauthClient", "oauthClientId": "c"},
        {"type": "datasetVersionRestore", "datasetVersionId": 4, "groupKey": "g",
         "actor": {"type": "projectApiKey", "id": 3}},
    ]):
        result = copy.deepcopy(full["result"][0])
        result["sampleId"] = result["sample"]["id"] = index
        result["sample"]["lastUpdatedBy"] = updater
        results.append(result)
    return {"success": True, "error": "", "result": results, "predictions": full["predictions"],
            "totalCount": 4}


def _sample_window_response() -> dict:
    """Build a GetSampleDspResponse body using every field (snake-case device keys included)."""
    return {
        "success": True, "error": "", "sample": _every_field_response()["result"][0]["sample"],
        "payload": {
            "device_name": "dev-1", "device_type": "phone",
            "sensors": [{"index": 0, "name": "accX", "units": "m/s2"}],
            "values": [[1.5], [-0.25], [1e-7]], "cropStart": 0, "cropEnd": 2,
            "intervalMs": 16, "frequencyHz": 62.5,
        },
        "totalPayloadLength": 3,
    }


def test_seed_round_trip_matches_node(seed_json):
    """Without it the seed (older API) would not read and write back as JSON.stringify's bytes."""
    response = schema.load_classify_job_response(seed_json)
    written = dumps(response)
    expected_plain = dumps(json.loads(seed_json))
    assert written == expected_plain
    digest = hashlib.sha256(written).hexdigest()
    assert (len(written), digest) == (SEED_NODE_LENGTH, SEED_NODE_SHA256)


def test_seed_is_an_older_generation(seed_json):
    """Without it the seed could silently be treated as a valid 1.96.3 body on writing."""
    with pytest.raises(ValidationError) as info:
        schema.ClassifyJobResponse.model_validate_json(seed_json)
    missing = {e["loc"][-1] for e in info.value.errors() if e["type"] == "missing_on_write"}
    assert missing == {"thresholds", "interval_ms", "frequency_hz", "result_count", "datastreams",
                       "index"}


def _fields_used(value, kind, api, seen: set) -> None:
    match = re.fullmatch(r"(array|object)<(?:string, )?(.*)>", kind)
    if match:
        items = value if isinstance(value, list) else list(value.values())
        for item in items:
            _fields_used(item, match.group(2), api, seen)
        return
    model = api["models"].get(kind)
    if model is None:
        return
    if model["kind"] == "oneOf":
        if model["discriminator"]:
            _fields_used(value, model["discriminator"]["mapping"][value["type"]], api, seen)
        return
    for field in model["fields"]:
        if field["alias"] in value:
            seen.add((kind, field["alias"]))
            _fields_used(value[field["alias"]], field["type"], api, seen)


def test_hand_made_bodies_cover_every_field(api_schema):
    """Without it the round-trip tests below could skip fields and miss a serialisation bug."""
    seen: set = set()
    _fields_used(_every_field_response(), "ClassifyJobResponse", api_schema, seen)
    _fields_used(_page_with_other_variants(), "ClassifyJobResponsePage", api_schema, seen)
    _fields_used(_sample_window_response(), "GetSampleDspResponse", api_schema, seen)
    every = {(name, f["alias"]) for name, spec in _spec_objects(api_schema) for f in spec["fields"]}
    assert every - seen == set()


@pytest.mark.parametrize(
    "loader, build",
    [
        ("load_classify_job_response", _every_field_response),
        ("load_classify_job_response_page", _page_with_other_variants),
        ("load_get_sample_dsp_response", _sample_window_response),
    ],
)
def test_round_trip_with_every_field(loader, build, api_schema):
    """Without it a field could be dropped, renamed, reordered or reformatted on a round trip."""
    body = build()
    written = dumps(getattr(schema, loader)(json.dumps(body).encode()))
    assert written == dumps(body)
    assert json.loads(written) == body
    again = getattr(schema, loader)(body)  # dict input, same result
    assert dumps(again) == written


def test_reading_keeps_unknown_enum_values_and_variants():
    """Without it a newer Studio's enum values or union members would fail or change on a trip."""
    body = _every_field_response()
    result = body["result"][0]
    result["sample"].update(category="holdout", chartType="audio", boundingBoxesType="polygon",
                            projectLabelingMethod="multi")
    result["sample"]["lastUpdatedBy"] = {"robotId": 5, "type": "robot", "name": "r2"}
    result["sample"]["labelMap"] = {"type": "key-lists", "labels": {"a": ["b"]}}
    result["sample"]["datastreams"][0]["chartType"] = "audio"
    block = result["classifications"][0]
    block["learnBlock"].update(type="keras-future", trainingProcessor="tpu")
    block["objectDetectionLastLayer"] = "yolov99"
    body.update(availableVariants=["int4"], noResultsBecauseThresholdsChanged="later")
    response = schema.load_classify_job_response(body)
    assert dumps(response) == dumps(body)
    assert type(response.result[0].sample.last_updated_by).__name__ == "UnknownSampleLastUpdatedBy"
    with pytest.raises(ValidationError, match="'robot'"):
        schema.ClassifyJobResponse.model_validate(body)


def test_unknown_keys_error_or_ignore():
    """Without it a misspelt or newer key could be silently dropped (or make reading impossible)."""
    body = _every_field_response()
    body["result"][0]["classifications"][0]["thresholds"][1]["colour"] = "red"
    body["accuracy"]["rows"] = []
    with pytest.raises(BundleError) as info:
        schema.load_classify_job_response(body, path="studio.json")
    assert info.value.field == "result[0].classifications[0].thresholds[1].colour"
    assert info.value.path == "studio.json"
    assert str(info.value) == (
        "invalid classify job response: unknown field (not in edgeimpulse-api 1.96.3) "
        "(and 1 more invalid field) "
        "(studio.json, field result[0].classifications[0].thresholds[1].colour)"
    )
    kept = schema.load_classify_job_response(body, unknown_keys="ignore")
    assert dumps(kept) == dumps(_every_field_response())


@pytest.mark.parametrize(
    "edit, field, message",
    [
        (lambda b: b["result"][0]["classifications"][0]["thresholds"][0].update(value=True),
         "result[0].classifications[0].thresholds[0].value", "input should be a valid number"),
        (lambda b: b["result"][0]["sample"].pop("filename"),
         "result[0].sample.filename", "missing required field"),
        (lambda b: b["accuracy"]["summaryPerClass"]["idle"].update(good=1.5),
         "accuracy.summaryPerClass.idle.good", "input should be a valid integer"),
        (lambda b: b["result"][0]["sample"]["lastUpdatedBy"]["actor"].update(userId="9"),
         "result[0].sample.lastUpdatedBy.actor.userId", "input should be a valid integer"),
        (lambda b: b["result"][0]["sample"].update(created="yesterday"),
         "result[0].sample.created", "input should be a valid datetime"),
        (lambda b: b["accuracy"]["confusionMatrixValues"].update({"F1 score": {"a": "1"}}),
         'accuracy.confusionMatrixValues["F1 score"].a', "input should be a valid number"),
    ],
)
def test_bad_fields_name_their_json_path(edit, field, message):
    """Without it a bad Studio response would fail with a pydantic dump instead of the field."""
    body = _every_field_response()
    edit(body)
    for data in (body, json.dumps(body)):
        with pytest.raises(BundleError) as info:
            schema.load_classify_job_response(data)
        assert info.value.field == field
        assert message in info.value.message


def test_invalid_json_and_nulls():
    """Without it broken JSON would raise a bare exception, and null would be kept as a value."""
    with pytest.raises(BundleError, match="not valid json"):
        schema.load_classify_job_response(b'{"success": tru')
    body = _every_field_response()
    body["error"] = None  # JSON null for an optional key: read as absent, omitted on writing
    assert b'"error"' not in dumps(schema.load_classify_job_response(body))
    body["success"] = None
    with pytest.raises(BundleError, match="valid boolean"):
        schema.load_classify_job_response(body)


def test_load_from_path(tmp_path):
    """Without it a file path would be taken as JSON text or the file name lost from errors."""
    path = tmp_path / "classify-result.json"
    path.write_bytes(dumps(_every_field_response()))
    assert dumps(schema.load_classify_job_response(path)) == path.read_bytes()
    path.write_text("{}")
    with pytest.raises(BundleError) as info:
        schema.load_classify_job_response(path)
    assert info.value.path == str(path)
