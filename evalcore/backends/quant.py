"""Affine (scale, zero point) quantisation of model inputs and outputs, as Edge Impulse does it.

Edge Impulse's Python inference code (``ei_tensorflow/inference.py`` ``process_input`` and
``process_output``, see reference/ei-semantics.md Q7) quantises a float32 feature array with
``clip(np.around(x / scale + zero_point))`` to the integer type's range and dequantises an output
with ``(q.astype(float32) - zero_point) * scale``. Both run in float32: the features are a float32
array and scale / zero point are Python scalars, which numpy (value-based casting before 2.0,
NEP 50 "weak" scalars after) folds into float32. ``np.around`` rounds half to even. The C++ SDK
rounds half away from zero instead; we follow the Python code, because Studio's test job runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["QuantParams", "quantize", "dequantize", "INTEGER_DTYPES"]

# The integer tensor types a model input/output may have; anything else is rejected at load.
INTEGER_DTYPES = (np.dtype(np.int8), np.dtype(np.uint8))


@dataclass(frozen=True)
class QuantParams:
    """Per-tensor affine quantisation of one integer model tensor.

    Attributes
    ----------
    scale : float
        Real value of one integer step, > 0.
    zero_point : int
        Integer that represents the real value 0.
    dtype : numpy.dtype
        The tensor's integer type (int8 or uint8).
    source : str
        Where the parameters were read from (for the run metadata), e.g. ``"tensor details"``,
        ``"DequantizeLinear after the graph input"``, ``"caller metadata"``.
    """

    scale: float
    zero_point: int
    dtype: np.dtype
    source: str

    def as_dict(self) -> dict:
        """Return the parameters as plain JSON-able values."""
        return {
            "scale": float(self.scale),
            "zero_point": int(self.zero_point),
            "dtype": np.dtype(self.dtype).name,
            "source": self.source,
        }


def quantize(x: np.ndarray, params: QuantParams) -> np.ndarray:
    """Quantise float features to the tensor's integer type, as Edge Impulse's Python does.

    Parameters
    ----------
    x : float32 array of any shape
        Features.
    params : QuantParams
        The input tensor's quantisation.

    Returns
    -------
    array of ``params.dtype``, same shape as ``x``
        ``clip(round_half_even(x / scale + zero_point), min, max)``, computed in float32.
    """
    info = np.iinfo(params.dtype)
    scaled = x / np.float32(params.scale) + np.float32(params.zero_point)
    return np.clip(np.around(scaled), info.min, info.max).astype(params.dtype)


def dequantize(q: np.ndarray, params: QuantParams) -> np.ndarray:
    """Map integer model outputs back to real values: ``(q - zero_point) * scale`` in float32.

    Parameters
    ----------
    q : int8 or uint8 array of any shape
        Raw model output.
    params : QuantParams
        The output tensor's quantisation.

    Returns
    -------
    float32 array, same shape as ``q``
    """
    return (q.astype(np.float32) - np.float32(params.zero_point)) * np.float32(params.scale)
