# Input API models DSPConfigResponse, DSPInfo, DSPInfoFeatures, DspPerformance, DSPGroup,
# DSPGroupItem, DSPGroupItemSelectOptionsInner and DSPGroupItemShowIf of edgeimpulse-api 1.96.3 (GET
# /v1/api/{projectId}/dsp/{dspId}).
"""A DSP block's configuration (``dsp/<dspId>.json``): block info and parameter values.

Input models: unknown keys are ignored, unknown enum values kept. Fields 1.96.3 requires but a
run does not need are optional here (docstrings say "API: required").
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from evalcore.errors import BundleError
from evalcore.schema._base import InputModel
from evalcore.schema.enums import DSPNormalizeDataValues
from evalcore.schema.loading import load_input_body

__all__ = [
    "DSPConfigResponse",
    "DSPInfo",
    "DSPInfoFeatures",
    "DspPerformance",
    "DSPGroup",
    "DSPGroupItem",
    "DSPGroupItemSelectOptionsInner",
    "DSPGroupItemShowIf",
    "load_dsp_config",
]


def _as_js_string(value: Any) -> Any:
    # Studio sends parameter values as strings; a hand-written bundle may use JSON numbers or
    # booleans, which become the string JavaScript's String(x) would give ("16", "0.5", "true").
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) in (int, float):
        from evalcore.jsnumber import format_number

        return format_number(value)
    return value


class DSPInfoFeatures(InputModel):
    """API model ``DSPInfoFeatures``: whether and which features were generated."""

    generated: StrictBool
    """Whether features exist."""
    count: StrictInt | None = None
    """Number of feature vectors."""
    labels: list[StrictStr] | None = None
    """Feature names."""
    classes: list[StrictStr] | None = None
    """Classes the features were generated on."""


class DspPerformance(InputModel):
    """API model ``DspPerformance``: on-device cost estimate."""

    latency: StrictInt
    """Latency in ms."""
    ram: StrictInt
    """RAM in bytes."""
    custom_dsp_string: StrictStr | None = None
    """Device-specific latency metric."""


class DSPInfo(InputModel):
    """API model ``DSPInfo``: the block as configured."""

    id: StrictInt
    """DSP block id."""
    name: StrictStr
    """Block name."""
    window_length: StrictInt | None = None
    """Window length in ms (API: required)."""
    type: StrictStr
    """Block kind, e.g. ``spectral-analysis``."""
    classes: list[StrictStr] | None = None
    """Classes in the dataset (API: required)."""
    classes_per_key: dict[str, list[StrictStr]] | None = None
    """Classes per key, for label-map datasets."""
    features: DSPInfoFeatures | None = None
    """Generated features (API: required)."""
    expected_window_count: StrictInt | None = None
    """Windows the dataset would give (API: required)."""
    input_axes: list[StrictStr] | None = None
    """Axes the block depends on (API: required)."""
    performance: DspPerformance | None = None
    """On-device cost estimate."""
    can_calculate_feature_importance: StrictBool | None = None
    """Whether feature importance is supported (API: required)."""
    calculate_feature_importance: StrictBool | None = None
    """Whether feature importance is on (API: required)."""
    can_normalize_data: StrictBool | None = None
    """Whether post-DSP normalisation is supported (API: required)."""
    normalize_data: DSPNormalizeDataValues | str | None = None
    """Normalisation applied to the features after DSP (API: required; ``none`` when absent)."""
    has_auto_tune: StrictBool | None = None
    """Whether autotuning is supported."""
    minimum_version_for_autotune: StrictFloat | None = None
    """Lowest implementation version that autotunes."""
    has_autotuner_results: StrictBool | None = None
    """Whether autotune results exist."""
    uses_state: StrictBool | None = None
    """Whether the block keeps state between windows."""


class DSPGroupItemSelectOptionsInner(InputModel):
    """API model ``DSPGroupItemSelectOptionsInner``: one choice of a select parameter."""

    value: StrictStr | None = None
    """Value set when chosen."""
    selected: StrictBool | None = None
    """Whether it is the current choice."""
    option_label: StrictStr | None = None
    """Text shown for the choice."""
    priority: StrictFloat | None = None
    """Auto-config priority."""
    rom_estimate: StrictFloat | None = None
    """Estimated ROM use."""
    needs_ops: list[StrictStr] | None = None
    """Operators the choice needs."""
    needs_features: list[StrictStr] | None = None
    """Features the choice needs."""


class DSPGroupItemShowIf(InputModel):
    """API model ``DSPGroupItemShowIf``: when a parameter is shown."""

    parameter: StrictStr
    """Parameter the condition reads."""
    operator: StrictStr
    """Comparison operator."""
    value: StrictStr
    """Value compared against."""


class DSPGroupItem(InputModel):
    """API model ``DSPGroupItem``: one parameter of the block."""

    name: StrictStr | None = None
    """Display name (API: required)."""
    value: StrictStr | None = None
    """Current value, as a string."""
    default_value: StrictStr | None = None
    """Default value, as a string (API: required)."""
    type: StrictStr | None = None
    """Parameter type: ``int``, ``float``, ``select``, ``boolean``, ... (API: required)."""
    help: StrictStr | None = None
    """Help text."""
    param: StrictStr
    """Parameter key, as in the block's parameters.json."""
    select_options: list[DSPGroupItemSelectOptionsInner] | None = None
    """Choices of a select parameter."""
    readonly: StrictBool | None = None
    """Whether the value is fixed (API: required)."""
    should_show: StrictBool | None = None
    """Whether the UI shows it (API: required)."""
    show_if: DSPGroupItemShowIf | None = None
    """Condition for showing it."""
    invalid_text: StrictStr | None = None
    """Validation message."""
    section: StrictStr | None = None
    """UI section."""
    multiline: StrictBool | None = None
    """Multi-line text input."""
    required: StrictBool | None = None
    """Whether a value is needed (API: required)."""
    hint: StrictStr | None = None
    """Hint below the input."""
    placeholder: StrictStr | None = None
    """Placeholder text."""
    show_click_to_set: StrictBool | None = None
    """Render as 'click to set' (API: required)."""
    valid: list[dict[str, Any]] | None = None
    """Allowed values."""
    items: dict[str, Any] | None = None
    """Item definition of an array parameter."""
    properties: dict[str, Any] | None = None
    """Property definitions of an object parameter."""
    min_val: StrictFloat | None = None
    """Lowest allowed number."""
    max_val: StrictFloat | None = None
    """Highest allowed number."""

    @field_validator("value", "default_value", mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        return _as_js_string(value)


class DSPGroup(InputModel):
    """API model ``DSPGroup``: a titled group of parameters."""

    group: StrictStr
    """Group title."""
    items: list[DSPGroupItem]
    """Parameters of the group."""


class DSPConfigResponse(InputModel):
    """API model ``DSPConfigResponse``: ``GET /v1/api/{projectId}/dsp/{dspId}``."""

    success: StrictBool | None = None
    """Whether the request succeeded (API: required)."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    dsp: DSPInfo
    """The block."""
    config: list[DSPGroup] | None = None
    """Parameter groups."""
    config_error: StrictStr | None = None
    """Why ``config`` is missing."""

    @model_validator(mode="after")
    def _params_unique(self) -> DSPConfigResponse:
        seen: set[str] = set()
        for group_index, group in enumerate(self.config or ()):
            for item_index, item in enumerate(group.items):
                if item.param in seen:
                    raise ValueError(
                        f"parameter {item.param!r} appears twice "
                        f"(second at config[{group_index}].items[{item_index}])"
                    )
                seen.add(item.param)
        return self

    def parameter_values(self) -> dict[str, str]:
        """Parameter values of the block, ``{param: value}``, as the strings Studio sends.

        A parameter without ``value`` takes its ``defaultValue``; one with neither is left out.

        Returns
        -------
        dict of str to str
            In config order (group by group).

        Raises
        ------
        BundleError
            The response has no ``config`` but a ``configError``.
        """
        if self.config is None and self.config_error is not None:
            raise BundleError(f"dsp config has no parameters: {self.config_error}",
                              field="configError")
        values: dict[str, str] = {}
        for group in self.config or ():
            for item in group.items:
                value = item.value if item.value is not None else item.default_value
                if value is not None:
                    values[item.param] = value
        return values


def load_dsp_config(data: Any, *, path: Any = None) -> DSPConfigResponse:
    """Read a DSP block config (``GET .../dsp/{dspId}``); `BundleError` names the JSON path."""
    return load_input_body(DSPConfigResponse, data, what="dsp config", path=path)
