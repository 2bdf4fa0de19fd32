# Input API models DSPConfigResponse, DSPInfo, DSPInfoFeatures, DspPerformance, DSPGroup, DSPGroupItem,
# DSPGroupItemSelectOptionsInner and DSPGroupItemShowIf of edgeimpulse-api 1.96.3
# (GET /v1/api/{projectId}/dsp/{dspId}).
"""A DSP block's configuration (``dsp/<dspId>.json``): block info and parameter values.

Input models: unknown keys are ignored, unknown enum values kept. Fields 1.96.3 requires but a
run does not need are optional here (docstrings say "API: required").
"""

from __future__ import annotations

from typing import Any, Optional

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
        from evalcore.jsonio import format_number

        return format_number(value)
    return value


class DSPInfoFeatures(InputModel):
    """API model ``DSPInfoFeatures``: whether and which features were generated."""

    generated: StrictBool
    """Whether features exist."""
    count: Optional[StrictInt] = None
    """Number of feature vectors."""
    labels: Optional[list[StrictStr]] = None
    """Feature names."""
    classes: Optional[list[StrictStr]] = None
    """Classes the features were generated on."""


class DspPerformance(InputModel):
    """API model ``DspPerformance``: on-device cost estimate."""

    latency: StrictInt
    """Latency in ms."""
    ram: StrictInt
    """RAM in bytes."""
    custom_dsp_string: Optional[StrictStr] = None
    """Device-specific latency metric."""


class DSPInfo(InputModel):
    """API model ``DSPInfo``: the block as configured."""

    id: StrictInt
    """DSP block id."""
    name: StrictStr
    """Block name."""
    window_length: Optional[StrictInt] = None
    """Window length in ms (API: required)."""
    type: StrictStr
    """Block kind, e.g. ``spectral-analysis``."""
    classes: Optional[list[StrictStr]] = None
    """Classes in the dataset (API: required)."""
    classes_per_key: Optional[dict[str, list[StrictStr]]] = None
    """Classes per key, for label-map datasets."""
    features: Optional[DSPInfoFeatures] = None
    """Generated features (API: required)."""
    expected_window_count: Optional[StrictInt] = None
    """Windows the dataset would give (API: required)."""
    input_axes: Optional[list[StrictStr]] = None
    """Axes the block depends on (API: required)."""
    performance: Optional[DspPerformance] = None
    """On-device cost estimate."""
    can_calculate_feature_importance: Optional[StrictBool] = None
    """Whether feature importance is supported (API: required)."""
    calculate_feature_importance: Optional[StrictBool] = None
    """Whether feature importance is on (API: required)."""
    can_normalize_data: Optional[StrictBool] = None
    """Whether post-DSP normalisation is supported (API: required)."""
    normalize_data: Optional[DSPNormalizeDataValues | str] = None
    """Normalisation applied to the features after DSP (API: required; ``none`` when absent)."""
    has_auto_tune: Optional[StrictBool] = None
    """Whether autotuning is supported."""
    minimum_version_for_autotune: Optional[StrictFloat] = None
    """Lowest implementation version that autotunes."""
    has_autotuner_results: Optional[StrictBool] = None
    """Whether autotune results exist."""
    uses_state: Optional[StrictBool] = None
    """Whether the block keeps state between windows."""


class DSPGroupItemSelectOptionsInner(InputModel):
    """API model ``DSPGroupItemSelectOptionsInner``: one choice of a select parameter."""

    value: Optional[StrictStr] = None
    """Value set when chosen."""
    selected: Optional[StrictBool] = None
    """Whether it is the current choice."""
    option_label: Optional[StrictStr] = None
    """Text shown for the choice."""
    priority: Optional[StrictFloat] = None
    """Auto-config priority."""
    rom_estimate: Optional[StrictFloat] = None
    """Estimated ROM use."""
    needs_ops: Optional[list[StrictStr]] = None
    """Operators the choice needs."""
    needs_features: Optional[list[StrictStr]] = None
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

    name: Optional[StrictStr] = None
    """Display name (API: required)."""
    value: Optional[StrictStr] = None
    """Current value, as a string."""
    default_value: Optional[StrictStr] = None
    """Default value, as a string (API: required)."""
    type: Optional[StrictStr] = None
    """Parameter type: ``int``, ``float``, ``select``, ``boolean``, ... (API: required)."""
    help: Optional[StrictStr] = None
    """Help text."""
    param: StrictStr
    """Parameter key, as in the block's parameters.json."""
    select_options: Optional[list[DSPGroupItemSelectOptionsInner]] = None
    """Choices of a select parameter."""
    readonly: Optional[StrictBool] = None
    """Whether the value is fixed (API: required)."""
    should_show: Optional[StrictBool] = None
    """Whether the UI shows it (API: required)."""
    show_if: Optional[DSPGroupItemShowIf] = None
    """Condition for showing it."""
    invalid_text: Optional[StrictStr] = None
    """Validation message."""
    section: Optional[StrictStr] = None
    """UI section."""
    multiline: Optional[StrictBool] = None
    """Multi-line text input."""
    required: Optional[StrictBool] = None
    """Whether a value is needed (API: required)."""
    hint: Optional[StrictStr] = None
    """Hint below the input."""
    placeholder: Optional[StrictStr] = None
    """Placeholder text."""
    show_click_to_set: Optional[StrictBool] = None
    """Render as 'click to set' (API: required)."""
    valid: Optional[list[dict[str, Any]]] = None
    """Allowed values."""
    items: Optional[dict[str, Any]] = None
    """Item definition of an array parameter."""
    properties: Optional[dict[str, Any]] = None
    """Property definitions of an object parameter."""
    min_val: Optional[StrictFloat] = None
    """Lowest allowed number."""
    max_val: Optional[StrictFloat] = None
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

    success: Optional[StrictBool] = None
    """Whether the request succeeded (API: required)."""
    error: Optional[StrictStr] = None
    """Error message when ``success`` is false."""
    dsp: DSPInfo
    """The block."""
    config: Optional[list[DSPGroup]] = None
    """Parameter groups."""
    config_error: Optional[StrictStr] = None
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
