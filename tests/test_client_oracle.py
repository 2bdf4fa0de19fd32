"""Edge Impulse's official Python client (``edgeimpulse-api`` 1.96.3) as an oracle of our output.

Every fixture bundle's ``result.json`` and pages (``conftest.fixture_outputs``: bytes as
``evalcore run`` writes them) are read twice with the client's own models,
``ClassifyJobResponse`` and ``ClassifyJobResponsePage``:

- with the client's deserialiser (``from_json``, what its ``ApiClient`` calls on a response),
  which keeps only the fields the client knows;
- with pydantic validation (``parse_obj``), which also checks required fields, types and enums.

Each model's ``to_dict()`` (the client's camelCase key names) must give back the parsed bytes
field by field: a key the client does not know, a missing required key, a string where it wants
a number or a value outside an enum fails here.

The client's bug, worked around here and only here (``client_models`` in conftest.py): ``BlockThresholdValue``
(``oneOf: number | string``, the ``value`` of each ``thresholds`` entry) decides which schema a
value matches by assigning it to one typed field per schema and counting the assignments that do
not raise; but the generated model sets ``validate_assignment = False``, so no assignment ever
raises and every value "matches" both: ``from_json`` raises "Multiple matches found ...". Its
``to_dict`` then calls ``to_dict()`` on the matched value, which a float or a str does not have,
and pydantic validation refuses a bare number for the wrapper model ("value is not a valid
dict"). Our output is not changed to please it.
"""

from __future__ import annotations

import json

import pytest
from edgeimpulse_api.models import BlockThresholdValue

from tests._helpers import client_differences

pytestmark = pytest.mark.oracle


def _wrap_threshold_values(data: dict) -> dict:
    """A copy of a response for pydantic validation: each ``thresholds[].value`` as the wrapper
    model's fields (``{"actual_instance": value}``), the form the generated model validates.

    ``to_dict()`` of the validated model must give back the unwrapped value, which the comparison
    with the original bytes checks.
    """
    data = json.loads(json.dumps(data))
    for result in data.get("result", []):
        for classification in result.get("classifications", []):
            for threshold in classification.get("thresholds", []):
                threshold["value"] = {"actual_instance": threshold["value"]}
    return data


def _check_with_client(model_class, raw: bytes, where: str) -> None:
    """``raw`` parsed by the client's deserialiser and by its validation gives back every field."""
    want = json.loads(raw)
    parsed = model_class.from_json(raw.decode("utf-8"))
    assert isinstance(parsed, model_class)
    problems = client_differences(parsed.to_dict(), want)
    assert not problems, f"{where}, client deserialiser:\n" + "\n".join(problems)
    validated = model_class.parse_obj(_wrap_threshold_values(want))
    problems = client_differences(validated.to_dict(), want)
    assert not problems, f"{where}, client validation:\n" + "\n".join(problems)


def test_full_output_parses_into_the_client_model(client_models, fixture_outputs, bundle_variant):
    """Without it a field Studio's API does not have (or lacks a required one, or has another type)
    could be written while our own pydantic schema agrees with itself."""
    response_class, _ = client_models
    folder = fixture_outputs(*bundle_variant)
    _check_with_client(response_class, (folder / "result.json").read_bytes(), f"{bundle_variant} result.json")


def test_every_page_parses_into_the_client_page_model(client_models, fixture_outputs, bundle_variant):
    """Without it ``--page-size`` output (``totalCount``, the page's predictions) would have no
    check against the client's ``ClassifyJobResponsePage``."""
    _, page_class = client_models
    folder = fixture_outputs(*bundle_variant)
    n_samples = len(json.loads((folder / "result.json").read_bytes())["result"])
    page_folders = sorted(folder.glob("pages-*"))
    assert len(page_folders) >= 2
    for page_folder in page_folders:
        page_size = int(page_folder.name[len("pages-"):])
        pages = sorted(page_folder.glob("page-*.json"), key=lambda p: int(p.stem[len("page-"):]))
        assert len(pages) == -(-n_samples // page_size), f"page size {page_size}: {len(pages)} pages"
        for page in pages:
            _check_with_client(page_class, page.read_bytes(), f"{bundle_variant} {page_folder.name}/{page.name}")


def test_threshold_workaround_is_still_needed():
    """Without it the workaround would outlive a fixed client: drop ``client_models``' patches when
    this fails."""
    with pytest.raises(ValueError, match="Multiple matches"):
        BlockThresholdValue.from_json("0.5")
    with pytest.raises(ValueError, match="Multiple matches"):
        BlockThresholdValue.from_json('"low"')


def test_threshold_workaround_matches_one_schema_only(client_models):
    """Without it the patched model could accept anything, and the thresholds would go unchecked."""
    assert BlockThresholdValue.from_json("0.5").to_dict() == 0.5
    assert BlockThresholdValue.from_json("3").to_dict() == 3.0
    assert BlockThresholdValue.from_json('"low"').to_dict() == "low"
    for bad in ("null", "[0.5]", '{"a": 1}'):
        with pytest.raises(ValueError, match="No match"):
            BlockThresholdValue.from_json(bad)
    with pytest.raises(ValueError):
        BlockThresholdValue.parse_obj({"actual_instance": [0.5]})


def test_the_oracle_catches_an_unknown_key_and_a_wrong_type(client_models, fixture_outputs):
    """Without it a comparison that can never fail (e.g. the client echoing every key) would pass."""
    response_class, _ = client_models
    data = json.loads((fixture_outputs("motion", "float32") / "result.json").read_bytes())
    data["result"][0]["sampleNmae"] = 1
    with pytest.raises(AssertionError, match=r"\$\.result\[0\]\.sampleNmae: missing from the client's model"):
        _check_with_client(response_class, json.dumps(data).encode(), "unknown key")
    del data["result"][0]["sampleNmae"]
    data["result"][0]["sampleId"] = "17"
    with pytest.raises(ValueError, match="sampleId"):
        _check_with_client(response_class, json.dumps(data).encode(), "wrong type")
    data["result"][0]["sampleId"] = 17
    del data["accuracy"]
    with pytest.raises(ValueError, match="accuracy"):
        _check_with_client(response_class, json.dumps(data).encode(), "missing key")
