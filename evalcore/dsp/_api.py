"""Entry points of the DSP package: per-window ``generate_features`` and batched ``compute_features``.

Both validate a configuration into a :class:`~evalcore.dsp._plan.BlockPlan` once (cached per
configuration) and run it; ``generate_features`` runs a batch of one window (or the plan's
``run_one``, equal to it), so a window's features are the same whichever entry point computes
them. ``generate_features`` is called once per window in Edge Impulse's convention, so it also
keeps a table of the configurations it has validated (``_PREPARED``): a repeated call skips the
parameter parsing, the checks and the plan lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from evalcore.dsp import flatten, image, mfcc, mfe, raw, spectral, spectrogram
from evalcore.dsp._plan import BlockPlan
from evalcore.dsp.params import resolve_params
from evalcore.errors import ConfigError

_MODULES = {
    "raw": raw,
    "flatten": flatten,
    "spectral-analysis": spectral,
    "spectrogram": spectrogram,
    "mfe": mfe,
    "mfcc": mfcc,
    "image": image,
}

# Input values per internal batch (4 MB of float64): keeps the frame-based blocks' intermediates
# (about 100 kB per window for 1 s of 16 kHz audio) near the CPU caches, i.e. 32 audio windows or
# ~870 windows of 2 s x 3 axes at 100 Hz. Results do not depend on it: rows are independent.
_CHUNK_VALUES = 1 << 19

NORMALIZE_DATA_MODES = ("none", "normalize-channel-standard-scaler")


@lru_cache(maxsize=128)
def _plan(block: str, version: int, n_values: int, n_axes: int, sampling_freq: float,
          frozen_params: tuple, param_types: tuple, image_size: tuple[int, int] | None) -> BlockPlan:
    # param_types only keys the cache: `True` and `1` are equal, but only one of them is valid.
    params = resolve_params(block, version, dict(frozen_params))
    if block == "image":
        return image.make_plan(version, n_values, n_axes, sampling_freq, params, *image_size)
    if not sampling_freq > 0:
        raise ConfigError(
            f"sampling frequency must be positive, got {sampling_freq} (dsp block {block}, field frequencyHz)"
        )
    return _MODULES[block].make_plan(version, n_values, n_axes, sampling_freq, params)


def get_plan(block: str, implementation_version: int, n_values: int, n_axes: int, sampling_freq: float,
             params: Mapping[str, Any], image_size: tuple[int, int] | None = None) -> BlockPlan:
    """Validate a block configuration for windows of ``n_values`` values (cached).

    Parameters
    ----------
    block : str
    implementation_version : int
    n_values : int
        Values per window, all axes interleaved.
    n_axes : int
    sampling_freq : float
        Hz (ignored for images).
    params : mapping
        Keyword arguments of the block (typed or Studio strings); missing ones take Studio's default.
    image_size : (int, int), optional
        ``(width, height)`` for the image block.

    Returns
    -------
    BlockPlan

    Raises
    ------
    ConfigError
        Anything the block rejects; the message names the block and the field.
    """
    if block not in _MODULES:
        resolve_params(block, implementation_version, params)  # raises the unknown-block error
    if block == "image" and image_size is None:
        raise ConfigError("the image block needs the image width and height (dsp block image, field raw_data)")
    try:
        frozen = tuple(params.items())  # insertion order: another order only misses the cache
        types = tuple(map(type, params.values()))
        hash(frozen)
    except TypeError:
        raise ConfigError(f"parameter values must be numbers, booleans or strings (dsp block {block})") from None
    try:
        rate_hz = float(sampling_freq)
    except (TypeError, ValueError):
        raise ConfigError(f"sampling frequency must be a number, got {sampling_freq!r} (dsp block {block})") from None
    return _plan(block, implementation_version, int(n_values), int(n_axes), rate_hz, frozen, types, image_size)


def _image_size(block: str, data: np.ndarray) -> tuple[int, int] | None:
    if block != "image":
        return None
    if data.shape[-1] < 3:
        raise ConfigError("image data must start with width and height (dsp block image, field raw_data)")
    first = data.reshape(-1, data.shape[-1])[:, :2]
    if np.any(first != first[0]) or np.any(first[0] != np.floor(first[0])):
        raise ConfigError("image windows must share one integer width and height (dsp block image, field raw_data)")
    return int(first[0, 0]), int(first[0, 1])


def generate_features(block: str, implementation_version: int, raw_data: Sequence[float] | np.ndarray,
                      axes: Sequence[str], sampling_freq: float, **params: Any) -> dict[str, Any]:
    """Compute one window's features, with Edge Impulse's calling convention and return value.

    Parameters
    ----------
    block : str
        ``raw``, ``flatten``, ``spectral-analysis``, ``spectrogram``, ``mfe``, ``mfcc`` or ``image``.
    implementation_version : int
        ``ImpulseDspBlock.implementationVersion``.
    raw_data : array-like of shape (N * A,)
        The window, readings interleaved per sample (``x0, y0, z0, x1, ...``). For ``image``:
        ``[width, height, 0xRRGGBB, ...]`` as integers.
    axes : sequence of str
        Axis names; only the count matters.
    sampling_freq : float
        Hz (ignored for ``image``).
    **params
        The block's parameters, Python names (``scale_axes``); missing ones take Studio's default.

    Returns
    -------
    dict
        ``features`` (float64 array of shape (F,)), ``graphs`` (empty), ``fft_used``,
        ``output_config`` and, for flatten and spectral-analysis, ``labels`` (one axis' worth).

    Raises
    ------
    ConfigError
        Unknown block, version or parameter, or a configuration the block rejects.

    Examples
    --------
    >>> generate_features("flatten", 1, [1.0, 2.0, 3.0], ["x"], 100, minimum=False, maximum=False,
    ...                   rms=False, stdev=False, skewness=False, kurtosis=False)["features"]
    array([2.])
    """
    try:
        # The fast path: a configuration this process has already validated for windows of this
        # shape. Parameter types are part of the key: `True == 1`, but only one of them is valid.
        prepared = _PREPARED.get(_prepared_key(block, implementation_version, raw_data, axes, sampling_freq, params))
    except (TypeError, AttributeError):  # unhashable, or not an array
        prepared = None
    if prepared is None:  # (outside the except clause, so its errors do not chain to this one)
        return _generate_checked(block, implementation_version, raw_data, axes, sampling_freq, params)
    run_one, labels, fft_used, config_type, shape = prepared
    out: dict[str, Any] = {
        "features": run_one(raw_data if raw_data.dtype is _FLOAT64 else raw_data.astype(np.float64)),
        "graphs": [],
    }
    if labels is not None:
        out["labels"] = list(labels)
    out["fft_used"] = list(fft_used)
    out["output_config"] = {"type": config_type, "shape": dict(shape)}
    return out


# Configurations generate_features has validated: the key its fast path builds -> (run_one,
# labels, fft_used, output type, output shape). Cleared when full (a process sees a handful).
_PREPARED: dict[tuple, tuple] = {}
_MAX_PREPARED = 128
_FLOAT64 = np.dtype(np.float64)


def _prepared_key(block: str, implementation_version: int, raw_data: np.ndarray, axes: Sequence[str],
                  sampling_freq: float, params: dict[str, Any]) -> tuple:
    """Key of ``_PREPARED``: everything a plan depends on, parameter types included.

    Raises AttributeError when ``raw_data`` is not an array, TypeError when a value is unhashable
    (``_PREPARED.get``) or ``axes`` has no length.
    """
    return (block, implementation_version, type(implementation_version), raw_data.shape, len(axes), sampling_freq,
            *params.items(), *map(type, params.values()))


def _generate_checked(block: str, implementation_version: int, raw_data: Any, axes: Sequence[str],
                      sampling_freq: float, params: dict[str, Any]) -> dict[str, Any]:
    """:func:`generate_features` with every check; remembers the configuration for the fast path."""
    data = np.asarray(raw_data)
    if data.ndim != 1:
        raise ConfigError(
            f"raw_data must be one-dimensional, got shape {data.shape} (dsp block {block}, field raw_data)"
        )
    size = _image_size(block, data)
    plan = get_plan(block, implementation_version, data.size, len(axes), sampling_freq, params, size)
    if plan.run_one is not None:
        run_one = plan.run_one
    else:
        def run_one(window: np.ndarray, run=plan.run) -> np.ndarray:
            return np.asarray(run(window[None, :])[0], dtype=np.float64)
    window = data if block == "image" else data.astype(np.float64, copy=False)
    out: dict[str, Any] = {"features": run_one(window), "graphs": []}
    if plan.labels is not None:
        out["labels"] = list(plan.labels)
    out["fft_used"] = list(plan.fft_used)
    out["output_config"] = _copy_config(plan.output_config)
    # Images read their width and height from each window, so they never take the fast path.
    if block != "image" and isinstance(raw_data, np.ndarray) and set(plan.output_config) == {"type", "shape"}:
        if len(_PREPARED) >= _MAX_PREPARED:
            _PREPARED.clear()
        labels = None if plan.labels is None else tuple(plan.labels)
        _PREPARED[_prepared_key(block, implementation_version, raw_data, axes, sampling_freq, params)] = (
            run_one, labels, tuple(plan.fft_used), plan.output_config["type"], dict(plan.output_config["shape"]))
    return out


def _copy_config(config: dict) -> dict:
    return {key: dict(value) if isinstance(value, dict) else value for key, value in config.items()}


def compute_features(block: str, implementation_version: int, windows: np.ndarray, axes: Sequence[str],
                     sampling_freq: float, params: Mapping[str, Any]) -> np.ndarray:
    """Compute the features of many windows at once.

    Parameters
    ----------
    block, implementation_version, axes, sampling_freq
        As for :func:`generate_features`.
    windows : float64 array of shape (W, N * A)
        One window per row, in ``raw_data`` layout (for ``image``: ``[width, height, pixels...]``
        with integral values; int64 is accepted too).
    params : mapping
        Keyword arguments of the block, e.g. from :func:`~evalcore.dsp.params.params_from_dsp_config`.

    Returns
    -------
    float32 array of shape (W, F)
        Row ``i`` equals ``generate_features(..., windows[i], ...)["features"]`` cast to float32,
        bit for bit.

    Raises
    ------
    ConfigError
        As for :func:`generate_features`, or ``windows`` not two-dimensional.
    """
    windows = np.asarray(windows)
    if windows.ndim != 2:
        raise ConfigError(f"windows must be two-dimensional (W, values), got shape {windows.shape} (dsp block {block})")
    if block != "image":
        windows = windows.astype(np.float64, copy=False)
    if block == "image" and len(windows) == 0:
        # No window to read the size from; the feature count depends only on the pixel count.
        size = (max(1, windows.shape[1] - 2), 1)
    else:
        size = _image_size(block, windows)
    plan = get_plan(block, implementation_version, windows.shape[1], len(axes), sampling_freq, params, size)
    out = np.empty((len(windows), plan.n_features), dtype=np.float32)
    n_chunk = max(1, _CHUNK_VALUES // max(1, windows.shape[1]))
    for start in range(0, len(windows), n_chunk):
        chunk = windows[start:start + n_chunk]
        out[start:start + len(chunk)] = plan.run(chunk)
    return out


def apply_normalize_data(features: np.ndarray, normalize_data: str) -> np.ndarray:
    """Apply ``DSPInfo.normalizeData`` to DSP features.

    Parameters
    ----------
    features : array of shape (W, F)
    normalize_data : str
        ``none`` returns ``features`` unchanged.

    Returns
    -------
    array of shape (W, F)

    Raises
    ------
    ConfigError
        For ``normalize-channel-standard-scaler``: its definition (which statistics, fitted on
        which data, per which channel) is not public, and the fitted statistics are not part of
        any export we read, so we refuse rather than guess. Also for any other value.
    """
    if normalize_data == "none":
        return features
    if normalize_data == "normalize-channel-standard-scaler":
        raise ConfigError(
            "normalizeData 'normalize-channel-standard-scaler' is not supported: its definition and "
            "fitted statistics are not public (field dsp.normalizeData)"
        )
    raise ConfigError(
        f"invalid value {normalize_data!r}, expected one of {', '.join(NORMALIZE_DATA_MODES)} (field dsp.normalizeData)"
    )
