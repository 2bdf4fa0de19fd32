# Input API models GetImpulseResponse, Impulse, ImpulseInputBlock, ImpulseInputBlockLabelingMethodMultiLabel,
# ImpulseInputBlockDatasetSubset, ImpulseDspBlock, ImpulseDspBlockOrganization, ImpulseDspBlockNamedAxesInner,
# ImpulseLearnBlock and ImpulsePostProcessingBlock of edgeimpulse-api 1.96.3 (GET /v1/api/{projectId}/impulse).
"""The impulse a run reads (``impulse.json``): input, DSP, learn and post-processing blocks.

These are input models: unknown keys are ignored and unknown enum values kept. Fields 1.96.3
requires but a run does not need are optional here (their docstrings say "API: required"), so
older exports and hand-written bundles load; every field a run needs is required.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import AwareDatetime, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.errors import BundleError
from evalcore.schema._base import InputModel
from evalcore.schema.enums import (
    ImageInputResizeModeValues,
    ImpulseTypeValues,
    InputBlockTypeValues,
    LearnBlockTypeValues,
    PostProcessingBlockTypeValues,
)
from evalcore.schema.loading import load_body, load_input_body, read_json

__all__ = [
    "GetImpulseResponse",
    "Impulse",
    "ImpulseInputBlock",
    "ImpulseInputBlockLabelingMethodMultiLabel",
    "ImpulseInputBlockDatasetSubset",
    "ImpulseDspBlock",
    "ImpulseDspBlockOrganization",
    "ImpulseDspBlockNamedAxesInner",
    "ImpulseLearnBlock",
    "ImpulsePostProcessingBlock",
    "load_impulse",
]

BlockId = Annotated[StrictInt, Field(ge=1)]


class ImpulseInputBlockLabelingMethodMultiLabel(InputModel):
    """API model ``ImpulseInputBlockLabelingMethodMultiLabel``: window label rule (multi-label)."""

    type: StrictStr
    """Rule name, e.g. ``anywhere-in-window``."""
    labels: Optional[list[StrictStr]] = None
    """Classes that trigger the rule."""
    min_percentage: Optional[StrictFloat] = None
    """Minimum share of the window a label must cover, in percent."""


class ImpulseInputBlockDatasetSubset(InputModel):
    """API model ``ImpulseInputBlockDatasetSubset``: a random subset of the dataset."""

    include_percentage: StrictFloat
    """Share of the data included, 0..100."""
    seed: Optional[StrictInt] = None
    """Random seed (0 when absent)."""


class ImpulseInputBlock(InputModel):
    """API model ``ImpulseInputBlock``: how samples are cut into windows or resized."""

    id: BlockId
    """Block id (>= 1)."""
    type: InputBlockTypeValues | str
    """``time-series``, ``image`` or ``features``."""
    name: Optional[StrictStr] = None
    """Block name (API: required)."""
    title: Optional[StrictStr] = None
    """Block title (API: required)."""
    axes: Optional[list[StrictStr]] = None
    """Selected axes; all axes when absent."""
    window_size_ms: Optional[StrictInt] = None
    """Window length in ms."""
    window_increase_ms: Optional[StrictInt] = None
    """Window stride in ms."""
    frequency_hz: Optional[StrictFloat] = None
    """Sampling frequency of the input in Hz."""
    classification_window_increase_ms: Optional[StrictInt] = None
    """Window stride in ms when classifying."""
    pad_zeros: Optional[StrictBool] = None
    """Whether short samples are zero-padded."""
    labeling_method_multi_label: Optional[ImpulseInputBlockLabelingMethodMultiLabel] = None
    """Window label rule for multi-label samples."""
    image_width: Optional[StrictInt] = None
    """Image width after resizing."""
    image_height: Optional[StrictInt] = None
    """Image height after resizing."""
    resize_mode: Optional[ImageInputResizeModeValues | str] = None
    """How images are fitted to the size."""
    resize_method: Optional[StrictStr] = None
    """Resampling filter, e.g. ``lanczos3``."""
    crop_anchor: Optional[StrictStr] = None
    """Anchor of a crop, e.g. ``middle-center``."""
    created_by: Optional[StrictStr] = None
    """Component that created the block."""
    created_at: Optional[AwareDatetime] = None
    """When the block was created."""
    dataset_subset: Optional[ImpulseInputBlockDatasetSubset] = None
    """Subset of the dataset the block uses."""


class ImpulseDspBlockOrganization(InputModel):
    """API model ``ImpulseDspBlockOrganization``: an organisation's custom DSP block."""

    id: StrictInt
    """Organisation id."""
    dsp_id: StrictInt
    """Block id within the organisation."""


class ImpulseDspBlockNamedAxesInner(InputModel):
    """API model ``ImpulseDspBlockNamedAxesInner``: a named input of a DSP block."""

    name: StrictStr
    """Axis name."""
    description: Optional[StrictStr] = None
    """Axis description."""
    required: Optional[StrictBool] = None
    """Whether the axis must be set."""
    selected_axis: Optional[StrictStr] = None
    """Axis mapped to this name."""


class ImpulseDspBlock(InputModel):
    """API model ``ImpulseDspBlock``: a processing block and its inputs."""

    id: BlockId
    """Block id (>= 1); also the ``{dspId}`` of its config."""
    type: StrictStr
    """Block kind, e.g. ``spectral-analysis``, ``mfe``, ``image``."""
    name: Optional[StrictStr] = None
    """Block name (API: required)."""
    axes: list[StrictStr]
    """Input axes the block reads."""
    title: Optional[StrictStr] = None
    """Block title (API: required)."""
    values_per_axis: Optional[StrictInt] = None
    """Features per axis, once configured."""
    input: Optional[StrictInt] = None
    """Id of the input block feeding this block."""
    created_by: Optional[StrictStr] = None
    """Component that created the block."""
    created_at: Optional[AwareDatetime] = None
    """When the block was created."""
    implementation_version: StrictInt
    """Implementation version of the block."""
    organization: Optional[ImpulseDspBlockOrganization] = None
    """Owner of a custom block."""
    custom_url: Optional[StrictStr] = None
    """URL of a custom block."""
    named_axes: Optional[list[ImpulseDspBlockNamedAxesInner]] = None
    """Named inputs of the block."""


class ImpulseLearnBlock(InputModel):
    """API model ``ImpulseLearnBlock`` as read from the impulse (input form).

    The output form, with unknown keys rejected, is `evalcore.schema.ImpulseLearnBlock`.
    """

    id: BlockId
    """Block id (>= 1); also the ``{learnId}`` of its metadata."""
    type: LearnBlockTypeValues | str
    """Kind of learn block."""
    name: StrictStr
    """Block name."""
    dsp: list[StrictInt]
    """Ids of the DSP blocks feeding the block, in feature order."""
    title: StrictStr
    """Block title."""
    created_by: Optional[StrictStr] = None
    """Component that created the block."""
    created_at: Optional[AwareDatetime] = None
    """When the block was created."""
    training_processor: Optional[StrictStr] = None
    """Processor the block trains on (``cpu`` or ``gpu``)."""


class ImpulsePostProcessingBlock(InputModel):
    """API model ``ImpulsePostProcessingBlock``: e.g. object tracking."""

    id: BlockId
    """Block id (>= 1)."""
    type: PostProcessingBlockTypeValues | str
    """Kind of post-processing."""
    name: Optional[StrictStr] = None
    """Block name (API: required)."""
    title: Optional[StrictStr] = None
    """Block title (API: required)."""
    created_by: Optional[StrictStr] = None
    """Component that created the block."""
    created_at: Optional[AwareDatetime] = None
    """When the block was created."""
    implementation_version: Optional[StrictInt] = None
    """Implementation version (API: required)."""


class Impulse(InputModel):
    """API model ``Impulse``: the blocks of one impulse."""

    id: Optional[StrictInt] = None
    """Impulse id (API: required; older exports lack it)."""
    name: Optional[StrictStr] = None
    """Impulse name (API: required; older exports lack it)."""
    input_blocks: list[ImpulseInputBlock]
    """Input blocks."""
    dsp_blocks: list[ImpulseDspBlock]
    """DSP blocks."""
    learn_blocks: list[ImpulseLearnBlock]
    """Learn blocks."""
    post_processing_blocks: list[ImpulsePostProcessingBlock] = Field(default_factory=list)
    """Post-processing blocks (API: required; older exports lack it)."""
    type: Optional[ImpulseTypeValues | str] = None
    """``default``, ``BYOM`` or ``VLM`` (API: required; older exports lack it)."""
    dataset_version_id: Optional[StrictInt] = None
    """Dataset snapshot of the impulse (experimental)."""


class GetImpulseResponse(InputModel):
    """API model ``GetImpulseResponse``: the envelope of ``GET /v1/api/{projectId}/impulse``."""

    success: StrictBool
    """Whether the request succeeded."""
    error: Optional[StrictStr] = None
    """Error message when ``success`` is false."""
    impulse: Optional[Impulse] = None
    """The impulse (absent when the project has none)."""


def load_impulse(data: Any, *, path: Any = None) -> Impulse:
    """Read an impulse, with or without the ``GetImpulseResponse`` envelope.

    Parameters
    ----------
    data : bytes, str, os.PathLike or dict
        ``{"success": true, "impulse": {...}}`` as Studio returns it, or the bare ``Impulse``.
    path : str or os.PathLike, optional
        File name for error messages.

    Returns
    -------
    Impulse

    Raises
    ------
    BundleError
        Invalid JSON or fields (``field`` is the JSON path), ``success`` false, or no impulse.
    """
    parsed, path = read_json(data, what="impulse", path=path)
    if isinstance(parsed, dict) and "success" in parsed and "inputBlocks" not in parsed:
        response = load_input_body(GetImpulseResponse, parsed, what="impulse response", path=path)
        if response.impulse is None:
            raise BundleError("impulse response has no impulse", path=path, field="impulse")
        return response.impulse
    return load_body(Impulse, parsed, what="impulse", path=path)
