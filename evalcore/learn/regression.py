"""Regression decoding: the model's single output per window -> value, error, good/bad.

Dimension letters: W windows.

Compatibility notes
-------------------
- A window is good when ``|predicted - expected| <= threshold`` (inclusive). Source: the API
  says that for regression ``minimumConfidenceRating`` "is the absolute error (which can be
  larger than 1)" and ``BlockThreshold.suggestedValue`` calls it "a max. absolute error"; a
  maximum is reached inclusively. Equality is untested against Studio; option
  ``inclusive=False`` switches to ``<``.
- The expected value is the window's label parsed as a number (Studio labels regression
  samples with the target value); the engine parses it and reports an unparsable label.
- The result's ``value`` key (``classifications[].result[i]["value"]``) is the first output
  element of the window, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalcore.errors import ConfigError

__all__ = ["RegressionDecoded", "decode_regression"]


@dataclass(frozen=True)
class RegressionDecoded:
    """Decoded regression windows.

    Attributes
    ----------
    value : float64 array of shape (W,)
        Predicted value.
    error : float64 array of shape (W,)
        ``value - expected`` (NaN where no expected value was given).
    is_good : bool array of shape (W,)
        ``|error| <= threshold`` (or ``<`` when exclusive); False where the error is NaN.
    """

    value: np.ndarray
    error: np.ndarray
    is_good: np.ndarray


def decode_regression(
    outputs: np.ndarray,
    expected: np.ndarray,
    threshold: float,
    *,
    inclusive: bool = True,
) -> RegressionDecoded:
    """Value, error and good/bad per window.

    Parameters
    ----------
    outputs : float array of shape (W,) or (W, 1)
        Model output per window (dequantised for int8 models).
    expected : float array of shape (W,)
        Expected value per window.
    threshold : float
        Maximum absolute error of a good window.
    inclusive : bool, default True
        ``|error| <= threshold`` is good (False: ``<``).

    Returns
    -------
    RegressionDecoded

    Raises
    ------
    ConfigError
        When the output is not one value per window or the lengths differ.
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        outputs = outputs[:, 0]
    if outputs.ndim != 1:
        raise ConfigError(f"regression output must be one value per window, got shape {outputs.shape}")
    value = outputs.astype(np.float64)
    expected = np.asarray(expected, dtype=np.float64).reshape(-1)
    if expected.shape[0] != value.shape[0]:
        raise ConfigError(
            f"regression output has {value.shape[0]} windows but {expected.shape[0]} expected values"
        )
    error = value - expected
    magnitude = np.abs(error)
    is_good = magnitude <= threshold if inclusive else magnitude < threshold
    return RegressionDecoded(value=value, error=error, is_good=is_good)
