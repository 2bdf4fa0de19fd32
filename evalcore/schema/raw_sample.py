# API models GetSampleDspResponse and RawSamplePayload of edgeimpulse-api 1.96.3.
"""A window of raw sample values: ``GET .../classify/v2/{sampleId}/raw-data/{windowIndex}``."""

from __future__ import annotations

from pydantic import Field, StrictBool, StrictFloat, StrictInt, StrictStr

from evalcore.schema._base import StudioModel
from evalcore.schema.sample import Sample, Sensor

__all__ = ["GetSampleDspResponse", "RawSamplePayload"]


class RawSamplePayload(StudioModel):
    """API model ``RawSamplePayload``: raw values of a window.

    Notes
    -----
    Studio spells ``device_name`` and ``device_type`` in snake case next to camelCase keys.
    """

    device_name: StrictStr | None = Field(None, alias="device_name")
    """Device id."""
    device_type: StrictStr = Field(alias="device_type")
    """Device model."""
    sensors: list[Sensor]
    """Axes."""
    values: list[list[StrictFloat]]
    """Readings, one array of axis values per time step."""
    crop_start: StrictInt | None = None
    """First index after cropping."""
    crop_end: StrictInt | None = None
    """Last index after cropping."""
    interval_ms: StrictFloat
    """Time between two readings in ms."""
    frequency_hz: StrictFloat
    """Readings per second."""


class GetSampleDspResponse(StudioModel):
    """API model ``GetSampleDspResponse``: a sample and the raw values of one of its windows."""

    success: StrictBool
    """Whether the request succeeded."""
    error: StrictStr | None = None
    """Error message when ``success`` is false."""
    sample: Sample
    """The sample."""
    payload: RawSamplePayload
    """The window's raw values."""
    total_payload_length: StrictInt
    """Total number of values of the payload."""
