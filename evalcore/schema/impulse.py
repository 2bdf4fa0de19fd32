# Input API models GetImpulseResponse, Impulse, ImpulseInputBlock,
# ImpulseInputBlockLabelingMethodMultiLabel, ImpulseInputBlockDatasetSubset, ImpulseDspBlock,
# ImpulseDspBlockOrganization, ImpulseDspBlockNamedAxesInner, ImpulseLearnBlock and
# ImpulsePostProcessingBlock of edgeimpulse-api 1.96.3 (GET /v1/api/{projectId}/impulse).
"""The impulse a run reads (``impulse.json``): input, DSP, learn and post-processing blocks.

These are input models: unknown keys are ignored and unknown enum values kept. Fields 1.96.3
requires but a run does not need are optional here (their docstrings say "API: required"), so
older exports and hand-written bundles load; every field a run needs is required.
"""

from __future__ import annotations

from typing import Annotated, Any

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
#: Window sizes, strides, image sizes: a 0 or negative value cannot be run.
PositiveInt = Annotated[StrictInt, Field(gt=0)]
#: Sampling frequency: finite (see `InputModel`) and above 0.
PositiveFloat = Annotated[StrictFloat, Field(gt=0)]


class ImpulseInputBlockLabelingMethodMultiLabel(InputModel):
    """API model ``ImpulseInputBlockLabelingMethodMultiLabel``: window label rule (multi-label)."""

    type: StrictStr
    """Rule name, e.g. ``anywhere-in-window``."""
    labels: list[StrictStr] | None = None
    """Classes that trigger the rule."""
    min_percentage: StrictFloat | None = None
    """Minimum share of the window a label must cover, in percent."""


class ImpulseInputBlockDatasetSubset(InputModel):
    """API model ``ImpulseInputBlockDatasetSubset``: a random subset of the dataset."""

    include_percentage: StrictFloat
    """Share of the data included, 0..100."""
    seed: StrictInt | None = None
    """Random seed (0 when absent)."""


class ImpulseInputBlock(InputModel):
    """API model ``ImpulseInputBlock``: how samples are cut into windows or resized."""

    id: BlockId
    """Block id (>= 1)."""
    type: InputBlockTypeValues | str
    """``time-series``, ``image`` or ``features``."""
    name: StrictStr | None = None
    """Block name (API: required)."""
    title: StrictStr | None = None
    """Block title (API: required)."""
    axes: list[StrictStr] | None = None
    """Selected axes; all axes when absent."""
    window_size_ms: PositiveInt | None = None
    """Window length in ms."""
    window_increase_ms: PositiveInt | None = None
    """Window stride in ms."""
    frequency_hz: PositiveFloat | None = None
    """Sampling frequency of the input in Hz."""
    classification_window_increase_ms: PositiveInt | None = None
    """Window stride in ms when classifying."""
    pad_zeros: StrictBool | None = None
    """Whether short samples are zero-padded."""
    labeling_method_multi_label: ImpulseInputBlockLabelingMethodMultiLabel | None = None
    """Window label rule for multi-label samples."""
    image_width: PositiveInt | None = None
    """Image width after resizing."""
    image_height: PositiveInt | None = None
    """Image height after resizing."""
    resize_mode: ImageInputResizeModeValues | str | None = None
    """How images are fitted to the size."""
    resize_method: StrictStr | None = None
    """Resampling filter, e.g. ``lanczos3``."""
    crop_anchor: StrictStr | None = None
    """Anchor of a crop, e.g. ``middle-center``."""
    created_by: StrictStr | None = None
    """Component that created the block."""
    created_at: AwareDatetime | None = None
    """When the block was created."""
    dataset_subset: ImpulseInputBlockDatasetSubset | None = None
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
    description: StrictStr | None = None
    """Axis description."""
    required: StrictBool | None = None
    """Whether the axis must be set."""
    selected_axis: StrictStr | None = None
    """Axis mapped to this name."""


class ImpulseDspBlock(InputModel):
    """API model ``ImpulseDspBlock``: a processing block and its inputs."""

    id: BlockId
    """Block id (>= 1); also the ``{dspId}`` of its config."""
    type: StrictStr
    """Block kind, e.g. ``spectral-analysis``, ``mfe``, ``image``."""
    name: StrictStr | None = None
    """Block name (API: required)."""
    axes: list[StrictStr]
    """Input axes the block reads."""
    title: StrictStr | None = None
    """Block title (API: required)."""
    values_per_axis: StrictInt | None = None
    """Features per axis, once configured."""
    input: StrictInt | None = None
    """Id of the input block feeding this block."""
    created_by: StrictStr | None = None
    """Component that created the block."""
    created_at: AwareDatetime | None = None
    """When the block was created."""
    implementation_version: StrictInt
    """Implementation version of the block."""
    organization: ImpulseDspBlockOrganization | None = None
    """Owner of a custom block."""
    custom_url: StrictStr | None = None
    """URL of a custom block."""
    named_axes: list[ImpulseDspBlockNamedAxesInner] | None = None
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
    created_by: StrictStr | None = None
    """Component that created the block."""
    created_at: AwareDatetime | None = None
    """When the block was created."""
    training_processor: StrictStr | None = None
    """Processor the block trains on (``cpu`` or ``gpu``)."""


class ImpulsePostProcessingBlock(InputModel):
    """API model ``ImpulsePostProcessingBlock``: e.g. object tracking."""

    id: BlockId
    """Block id (>= 1)."""
    type: PostProcessingBlockTypeValues | str
    """Kind of post-processing."""
    name: StrictStr | None = None
    """Block name (API: required)."""
    title: StrictStr | None = None
    """Block title (API: required)."""
    created_by: StrictStr | None = None
    """Component that created the block."""
    created_at: AwareDatetime | None = None
    """When the block was created."""
    implementation_version: StrictInt | None = None
    """Implementation version (API: required)."""


class Impulse(InputModel):
    """API model ``Impulse``: the blocks of one impulse."""

    id: StrictInt | None = None
    """Impulse id (API: required; older exports lack it)."""
    name: StrictStr | None = None
    """Impulse name (API: required; older exports lack it)."""
    input_blocks: list[ImpulseInputBlock]
    """Input blocks."""
    dsp_blocks: list[ImpulseDspBlock]
    """DSP blocks."""
    learn_blocks: list[ImpulseLearnBlock]
    """Learn blocks."""
    post_processing_blocks: list[ImpulsePostProcessingBlock] = Field(default_factory=list)
    """Post-processing blocks (API: required; older exports lack it)."""
    type: ImpulseTypeValues | str | None = None
    """``default``, ``BYOM`` or ``VLM`` (API: required; older exports lack it)."""
    dataset_version_id: StrictInt | None = None
    """Dataset snapshot of the impulse (experimental)."""


class GetImpulseResponse(InputModel):
    """API model ``GetImpulseResponse``: the envelope of ``GET /v1/api/{projectId}/impulse``."""

    success: StrictBool
    """Whether the request succeeded."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    impulse: Impulse | None = None
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
    # the envelope, even when its ``success`` is missing (then that is the error, not inputBlocks)
    if isinstance(parsed, dict) and ("success" in parsed or "impulse" in parsed) and "inputBlocks" not in parsed:
        response = load_input_body(GetImpulseResponse, parsed, what="impulse response", path=path)
        if response.impulse is None:
            raise BundleError("impulse response has no impulse", path=path, field="impulse")
        return response.impulse
    return load_body(Impulse, parsed, what="impulse", path=path)
