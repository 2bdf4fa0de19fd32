"""Accumulator states by kind: any accumulator's bytes back into its object, and several at once.

``metrics._base`` defines the container and each accumulator class registers its ``kind`` when
its module is imported; this module imports them all, so `ACCUMULATOR_KINDS` is complete and
`decode_any` can rebuild any state. A shard's state file (``evalcore merge``) uses
`encode_accumulators` / `decode_accumulators`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from evalcore.errors import ConfigError
from evalcore.metrics import accuracy, classifier_scores, ei_coco, fomo_dataset, good_bad, multilabel, regression  # noqa: F401
from evalcore.metrics._base import _REGISTRY, Accumulator, decode_state, encode_state, read_header, state_field

__all__ = ["ACCUMULATOR_KINDS", "BUNDLE_KIND", "decode_accumulators", "decode_any", "encode_accumulators"]

#: kind -> accumulator class, every kind of the package.
ACCUMULATOR_KINDS: dict[str, type] = _REGISTRY


def decode_any(data):
    """Rebuild an accumulator of whatever kind ``data`` holds (:data:`ACCUMULATOR_KINDS`).

    Raises
    ------
    ConfigError
        Unknown kind, or anything :func:`decode_state` rejects.
    """
    header, _ = read_header(data)
    cls = ACCUMULATOR_KINDS.get(header["kind"])
    if cls is None:
        raise ConfigError(f"accumulator state: unknown kind {header['kind']!r} "
                          f"(known: {', '.join(sorted(ACCUMULATOR_KINDS))})")
    return cls.from_bytes(data)


#: kind of the container :func:`encode_accumulators` writes.
BUNDLE_KIND = "accumulators"


def encode_accumulators(accumulators: Mapping[str, Accumulator], meta: Mapping | None = None) -> bytes:
    """Several named accumulators (and JSON ``meta`` values, e.g. sample counts) as one state.

    Each accumulator's ``to_bytes()`` is an ``|u1`` array named after it, in a container of kind
    ``"accumulators"``; :func:`decode_accumulators` reads it back.
    """
    arrays = {name: np.frombuffer(acc.to_bytes(), dtype=np.uint8) for name, acc in accumulators.items()}
    return encode_state(BUNDLE_KIND, 1, {"names": list(arrays), "meta": dict(meta or {})}, arrays)


def decode_accumulators(data) -> tuple[dict, dict]:
    """Read :func:`encode_accumulators` output: ``({name: accumulator}, meta)``.

    Raises
    ------
    ConfigError
        Anything :func:`decode_state` or :func:`decode_any` rejects in the container or an item.
    """
    fields, arrays = decode_state(data, BUNDLE_KIND, 1)
    try:
        names = state_field(fields, "names", "str_list")
        meta = state_field(fields, "meta", "dict")
    except ConfigError as err:
        raise ConfigError(f"accumulator state ({BUNDLE_KIND}): {err}") from None
    if set(fields) != {"names", "meta"} or names != list(arrays):
        raise ConfigError(f"accumulator state ({BUNDLE_KIND}): names do not match the arrays")
    out = {}
    for name in names:
        if arrays[name].dtype != np.uint8 or arrays[name].ndim != 1:
            raise ConfigError(f"accumulator state ({BUNDLE_KIND}): item {name!r} must be |u1 bytes")
        out[name] = decode_any(arrays[name].tobytes())
    return out, meta
