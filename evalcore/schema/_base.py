# Shared base classes and field types for the edgeimpulse-api 1.96.3 models in this package.
"""Base classes, the reading mode, and shared field types of the Studio API models.

There are two bases:

- `StudioModel` for the bodies evalcore writes and compares (``ClassifyJobResponse`` and
  everything nested in it). It forbids unknown keys and is strict by default.
- `InputModel` for the bodies a run reads (impulse, DSP config, learn-block metadata). It ignores
  unknown keys, because exports gain fields, and it always keeps unknown enum values.

Reading mode
------------
A `StudioModel` is validated in one of two modes:

- **Writing** (the default: plain construction or ``model_validate`` without a context). Enum
  fields accept only the values edgeimpulse-api 1.96.3 lists, and every field 1.96.3 requires
  must be present.
- **Reading** (``model_validate(..., context=READ_MODE)``, which the ``load_*`` functions use):
  a Studio response from another Studio generation must be read, and written back unchanged.
  Three things are then tolerated:

  1. an enum value 1.96.3 does not know (a newer Studio) is kept as a plain ``str``;
  2. a union member with an unknown ``type`` tag is kept as an opaque object with its keys in
     their original order;
  3. the fields marked `REQUIRED_ON_WRITE` may be missing: these are required in 1.96.3 but
     absent from the older API snapshot shown on docs.edgeimpulse.com (the seed document).

  Missing fields stay missing (``None``) and are omitted when written, so reading and writing
  gives the same JSON. Unknown keys are still rejected unless ``ReadMode(unknown_keys="ignore")``
  is used, in which case they are dropped (and the round trip is no longer exact). A JSON
  ``null`` for an optional key is read as absent (the spec never declares ``null``), so it is
  not written back; ``null`` for a required key is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    WrapValidator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

__all__ = [
    "API_VERSION",
    "ReadMode",
    "READ_MODE",
    "is_reading",
    "StudioModel",
    "InputModel",
    "OPEN_ENUM",
    "REQUIRED_ON_WRITE",
    "required_on_write",
    "UnknownVariant",
    "tagged_union",
]

API_VERSION = "1.96.3"
"""The edgeimpulse-api release the models mirror."""

_UNKNOWN_TAG = "__unknown__"


@dataclass(frozen=True)
class ReadMode:
    """Validation context that marks a body as read from Studio (see the module docstring).

    Parameters
    ----------
    unknown_keys : {"error", "ignore"}, default="error"
        What to do with a key edgeimpulse-api 1.96.3 does not define: reject it (the JSON path
        is reported) or drop it.
    """

    unknown_keys: Literal["error", "ignore"] = "error"
    """Reject (``"error"``) or drop (``"ignore"``) keys 1.96.3 does not define."""


READ_MODE = ReadMode()
"""The default reading context: tolerant enums and older generations, unknown keys rejected."""


def is_reading(info: ValidationInfo) -> bool:
    """Whether a validator runs in reading mode (its context is a `ReadMode`)."""
    return isinstance(info.context, ReadMode)


_STUDIO_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,
    extra="forbid",
    frozen=True,
    defer_build=True,
)


class StudioModel(BaseModel):
    """Base of the models evalcore writes: camelCase keys, unknown keys rejected, immutable."""

    model_config = _STUDIO_CONFIG

    _known_keys_cache: ClassVar[dict[type, frozenset[str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _drop_unknown_keys(cls, data: Any, info: ValidationInfo) -> Any:
        # Only ReadMode(unknown_keys="ignore") does anything; every other call returns at once.
        ctx = info.context
        if type(ctx) is not ReadMode or ctx.unknown_keys != "ignore" or type(data) is not dict:
            return data
        known = cls._known_keys_cache.get(cls)
        if known is None:
            fields = cls.model_fields
            known = frozenset(fields) | frozenset(f.alias for f in fields.values() if f.alias)
            cls._known_keys_cache[cls] = known
        if all(key in known for key in data):
            return data
        return {key: value for key, value in data.items() if key in known}


class InputModel(BaseModel):
    """Base of the models a run reads: camelCase keys, unknown keys ignored, immutable.

    Numbers must be finite: Python's ``json`` reads ``NaN`` and ``Infinity``, and a NaN
    threshold, K-means centre or sampling frequency would give wrong numbers or a crash later.
    """

    model_config = ConfigDict(
        allow_inf_nan=False,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="ignore",
        frozen=True,
        defer_build=True,
        protected_namespaces=(),
    )


def _keep_unknown_enum_when_reading(value: Any, handler: Any, info: ValidationInfo) -> Any:
    try:
        return handler(value)
    except ValidationError:
        if type(value) is str and is_reading(info):
            return value
        raise


OPEN_ENUM = WrapValidator(_keep_unknown_enum_when_reading)
"""Metadata for ``Annotated[Literal[...], OPEN_ENUM]``: strict when writing, keeps unknown
strings when reading."""


def _required_unless_reading(value: Any, info: ValidationInfo) -> Any:
    if value is None and not is_reading(info):
        raise PydanticCustomError(
            "missing_on_write", "field required by edgeimpulse-api 1.96.3 is missing"
        )
    return value


REQUIRED_ON_WRITE = AfterValidator(_required_unless_reading)
"""Metadata for ``Annotated[Optional[T], REQUIRED_ON_WRITE]``: required in 1.96.3, but may be
missing in a response read from an older Studio. Use with `required_on_write` as the default."""


def required_on_write() -> Any:
    """Field default for a `REQUIRED_ON_WRITE` field (``None``, validated so the check runs)."""
    return Field(None, validate_default=True)


class UnknownVariant(StudioModel):
    """A union member whose ``type`` tag the 1.96.3 union does not list; reading mode only.

    All keys are kept as extra attributes in their original order, so the object is written back
    unchanged.
    """

    model_config = ConfigDict(extra="allow")

    known_tags: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _only_when_reading(self, info: ValidationInfo) -> UnknownVariant:
        tag = (self.__pydantic_extra__ or {}).get("type")
        allowed = ", ".join(repr(t) for t in self.known_tags)
        if not is_reading(info):
            raise ValueError(f"type must be one of {allowed}, got {tag!r}")
        if type(tag) is not str:
            raise ValueError(f"type must be a string (one of {allowed}), got {tag!r}")
        return self


def tagged_union(name: str, variants: dict[str, type[StudioModel]]) -> Any:
    """Build a discriminated union on the ``type`` key with a reading-mode fallback.

    Parameters
    ----------
    name : str
        The API name of the union (names the fallback class).
    variants : dict of str to StudioModel subclass
        ``type`` tag -> member model, as in the spec's discriminator mapping.

    Returns
    -------
    typing.Annotated
        ``Annotated[Union[...], Discriminator(...)]``; unknown tags go to an `UnknownVariant`
        subclass, which is accepted only in reading mode.
    """
    known = tuple(variants)
    fallback = type(f"Unknown{name}", (UnknownVariant,), {"known_tags": known})

    def _tag_of(value: Any) -> str:
        tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return tag if tag in variants else _UNKNOWN_TAG

    members = tuple(Annotated[cls, Tag(tag)] for tag, cls in variants.items())
    members += (Annotated[fallback, Tag(_UNKNOWN_TAG)],)
    # Union over a tuple built at run time: the X | Y spelling cannot express it.
    return Annotated[Union[members], Discriminator(_tag_of)]  # noqa: UP007
