"""Parameters of the DSP blocks: names, types, Studio defaults and supported versions.

Studio's DSP config (``GET /api/{projectId}/dsp/{dspId}`` -> ``config[].items[]``) gives every
value as a string, and names raw/flatten/spectral-analysis parameters with ``-`` where the Python
blocks use ``_`` (``scale-axes`` -> ``scale_axes``). :func:`params_from_dsp_config` turns such a
mapping into the typed keyword arguments of :func:`evalcore.dsp.generate_features`;
:func:`resolve_params` checks typed keyword arguments the same way and fills Studio's defaults
(from each block's ``parameters.json`` at processing-blocks 9b0ceb2, listed in
``shared/golden/dsp/README.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from evalcore.errors import ConfigError

# name -> (kind, default, allowed values or None); kind is "float", "int", "bool" or "str".
_RAW = {"scale_axes": ("float", 1.0, None)}
_FLATTEN = {
    "scale_axes": ("float", 1.0, None),
    **{name: ("bool", True, None)
       for name in ("average", "minimum", "maximum", "rms", "stdev", "skewness", "kurtosis")},
}
_SPECTRAL = {
    "scale_axes": ("float", 1.0, None),
    "input_decimation_ratio": ("int", 1, (1, 3, 10, 30, 100, 1000)),
    "filter_type": ("str", "none", ("none", "low", "high")),
    "filter_cutoff": ("float", 3.0, None),
    "filter_order": ("int", 6, None),
    "analysis_type": ("str", "FFT", ("FFT", "Wavelet")),
    "fft_length": ("int", 16, None),
    "spectral_peaks_count": ("int", 3, None),
    "spectral_peaks_threshold": ("float", 0.1, None),
    "spectral_power_edges": ("str", "0.1, 0.5, 1.0, 2.0, 5.0", None),
    "do_log": ("bool", True, None),
    "do_fft_overlap": ("bool", True, None),
    "wavelet_level": ("int", 1, None),
    "wavelet": ("str", "db4", None),
    "extra_low_freq": ("bool", False, None),
}
_SPECTROGRAM = {
    "frame_length": ("float", 0.02, None),
    "frame_stride": ("float", 0.01, None),
    "fft_length": ("int", 128, None),
    "show_axes": ("bool", True, None),
    "noise_floor_db": ("float", -52.0, None),
}
_MFE = {
    "frame_length": ("float", 0.02, None),
    "frame_stride": ("float", 0.01, None),
    "num_filters": ("int", 40, None),
    "fft_length": ("int", 256, None),
    "low_frequency": ("float", 0.0, None),
    "high_frequency": ("float", 0.0, None),
    "win_size": ("int", 101, None),
    "noise_floor_db": ("float", -52.0, None),
}
_MFCC = {
    "frame_length": ("float", 0.02, None),
    "frame_stride": ("float", 0.02, None),
    "num_filters": ("int", 32, None),
    "fft_length": ("int", 256, None),
    "num_cepstral": ("int", 13, None),
    "win_size": ("int", 101, None),
    "low_frequency": ("float", 0.0, None),
    "high_frequency": ("float", 0.0, None),
    "pre_cof": ("float", 0.98, None),
    "pre_shift": ("int", 1, None),
}
_IMAGE = {"channels": ("str", "RGB", ("RGB", "Grayscale"))}

PARAMETER_SPECS: dict[str, dict[str, tuple[str, Any, tuple | None]]] = {
    "raw": _RAW,
    "flatten": _FLATTEN,
    "spectral-analysis": _SPECTRAL,
    "spectrogram": _SPECTROGRAM,
    "mfe": _MFE,
    "mfcc": _MFCC,
    "image": _IMAGE,
}
"""Every supported block's parameters: ``name -> (kind, Studio default, allowed values)``."""

SUPPORTED_VERSIONS: dict[str, tuple[int, ...]] = {
    "raw": (1,),
    "flatten": (1,),
    "spectral-analysis": (1, 2, 3, 4),
    "spectrogram": (1, 2, 3, 4),
    "mfe": (1, 2, 3, 4),
    "mfcc": (1, 2, 3, 4),
    "image": (1,),
}
"""Implementation versions of each block (``ImpulseDspBlock.implementationVersion``)."""

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")


def check_block(block: str, implementation_version: int) -> None:
    """Raise ConfigError unless ``block`` is known and ``implementation_version`` is one of its versions."""
    if block not in SUPPORTED_VERSIONS:
        raise ConfigError(f"unsupported dsp block {block!r} (supported: {', '.join(SUPPORTED_VERSIONS)})")
    versions = SUPPORTED_VERSIONS[block]
    if isinstance(implementation_version, bool) or implementation_version not in versions:
        raise ConfigError(
            f"unsupported implementationVersion {implementation_version!r} for dsp block {block} "
            f"(supported: {', '.join(map(str, versions))})"
        )


def _coerce(block: str, name: str, kind: str, value: Any) -> Any:
    """Convert one value (typed, or Studio's string) to ``kind`` or raise ConfigError."""
    where = f"(dsp block {block}, field {name})"
    text = value.strip() if isinstance(value, str) else None
    try:
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if text is not None and text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            raise ValueError
        if kind == "str":
            if text is None:
                raise ValueError
            return text
        if isinstance(value, bool):
            raise ValueError
        number = float(text) if text is not None else float(value)
        if not math.isfinite(number):
            raise ValueError
        if kind == "int":
            if number != int(number):
                raise ValueError
            return int(number)
        return number
    except (TypeError, ValueError):
        raise ConfigError(f"invalid value {value!r}, expected {kind} {where}") from None


def resolve_params(block: str, implementation_version: int, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check typed keyword arguments and fill Studio's defaults for missing ones.

    Parameters
    ----------
    block : str
        Block type (``raw``, ``flatten``, ``spectral-analysis``, ``spectrogram``, ``mfe``,
        ``mfcc``, ``image``).
    implementation_version : int
    params : mapping of str to value
        Python names (``scale_axes``); values may be typed or strings.

    Returns
    -------
    dict
        Every parameter of the block, typed (Python ``float``, ``int``, ``bool`` or ``str``).

    Raises
    ------
    ConfigError
        Unknown block, version or parameter, a value of the wrong type or outside its choices.
    """
    check_block(block, implementation_version)
    spec = PARAMETER_SPECS[block]
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise ConfigError(
            f"unknown parameter {unknown[0]!r} (dsp block {block}, field {unknown[0]}; "
            f"known: {', '.join(spec)})"
        )
    resolved = {}
    for name, (kind, default, allowed) in spec.items():
        value = _coerce(block, name, kind, params[name]) if name in params else default
        if allowed is not None and value not in allowed:
            raise ConfigError(
                f"invalid value {value!r}, expected one of {', '.join(map(str, allowed))} "
                f"(dsp block {block}, field {name})"
            )
        resolved[name] = value
    return resolved


def params_from_dsp_config(block: str, implementation_version: int, values: Mapping[str, str]) -> dict[str, Any]:
    """Convert Studio's DSP config values to typed keyword arguments.

    Parameters
    ----------
    block : str
        ``ImpulseDspBlock.type``.
    implementation_version : int
        ``ImpulseDspBlock.implementationVersion``.
    values : mapping of str to str
        ``param -> value`` from ``DSPConfigResponse.config[].items[]``; names may use ``-``
        (``scale-axes``) or ``_``.

    Returns
    -------
    dict
        Typed keyword arguments for :func:`evalcore.dsp.generate_features`, with Studio's default
        for every parameter the config leaves out.

    Raises
    ------
    ConfigError
        Unknown block, version or parameter, or a value that does not parse; the message names the
        block and the field.

    Examples
    --------
    >>> params_from_dsp_config("flatten", 1, {"scale-axes": "0.5", "rms": "false"})["rms"]
    False
    """
    check_block(block, implementation_version)
    spec = PARAMETER_SPECS[block]
    renamed: dict[str, str] = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        try:
            if name in renamed:
                raise ConfigError(f"parameter given twice as {key!r} (dsp block {block}, field {key})")
            _check_config_value(block, key, spec, value)
        except ConfigError as err:
            err.param = key  # the config's own key, so the caller can name the item's JSON path
            raise
        renamed[name] = value
    return resolve_params(block, implementation_version, renamed)


def _check_config_value(block: str, key: str, spec: Mapping[str, tuple], value: Any) -> None:
    """One config item, with errors naming the key as the DSP config spells it (``scale-axes``)."""
    name = key.replace("-", "_")
    if name not in spec:
        raise ConfigError(f"unknown parameter {key!r} (dsp block {block}, field {key}; "
                          f"known: {', '.join(k.replace('_', '-') for k in spec)})")
    kind, _, allowed = spec[name]
    typed = _coerce(block, key, kind, value)
    if allowed is not None and typed not in allowed:
        raise ConfigError(
            f"invalid value {typed!r}, expected one of {', '.join(map(str, allowed))} (dsp block {block}, field {key})"
        )
