"""The common model-backend interface and the batching machinery shared by every engine.

A backend is loaded once per model file and then called with float32 feature rows, one row per
window: ``run(features (N, F)) -> [output (N, ...), ...]``. It hides the runtime (onnxruntime,
LiteRT, Akida), the input/output quantisation of int8 models and the batching strategy:

- a model whose batch dimension is dynamic is run in chunks of ``chunk_rows`` rows;
- a model whose batch dimension is fixed at 1 (every Edge Impulse export) is run one window per
  call, unless the engine can make the batch dimension free (``batch_rewrite``, on by default): then
  the first call with two or more rows runs a probe that compares a batched run of the first
  ``PROBE_ROWS`` rows with one-row runs of the original model, byte for byte, and keeps batching
  only when they are identical. A model with a hard-coded batch size inside (a ``Reshape`` to
  ``[1, ...]``) fails the probe or cannot be resized, and falls back to one window per call.

Batched and one-at-a-time runs give identical bytes either way (tests/test_backends_*.py check it
on the real models), so the strategy never changes a result.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from evalcore.errors import ModelError

__all__ = ["Backend", "BaseBackend", "PROBE_ROWS", "DEFAULT_BATCH_SIZE",
           "DEFAULT_MAX_BATCH_ELEMENTS"]

# Rows compared between a batched run and one-row runs before batching a fixed-batch model.
PROBE_ROWS = 8
# Rows per runtime call for batchable models (perf-anchors.md section 3: B=1024 amortises the
# ~6-10 us per-call overhead of tiny models, 170x for an MLP).
DEFAULT_BATCH_SIZE = 1024
# Cap on input elements per call, so image models are not fed 1024 images at once: large batches
# fall out of cache and slow a CNN down (perf-anchors.md section 3, cnn at B=1024; with one thread
# FOMO 96x96 ran fastest at 7 rows per call, 30% slower at 28, benchmarks/bench_backend.py).
# 2**16 elements: 7 rows of 96x96x1, 2 of 96x96x3, 64 of 32x32x1, 1024 of up to 64 features.
DEFAULT_MAX_BATCH_ELEMENTS = 1 << 16


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from a loaded model, whatever runs it.

    Attributes
    ----------
    path : pathlib.Path
        The model file.
    variant : str
        ``"float32"``, ``"int8"`` or ``"akida"``: the Studio model variant the file stands for.
    engine : str
        What actually runs it: ``"onnxruntime"``, ``"tflite"``, ``"akida-software"`` or
        ``"akida-hardware"``.
    engine_version : str
        The runtime's version string.
    input_name : str
        The model's input tensor name.
    input_shape : tuple of int
        Shape of one window's input, without the batch dimension, e.g. ``(33,)`` or ``(96, 96, 1)``.
    n_features : int
        Features per window, ``prod(input_shape)``.
    output_names : tuple of str
        Output tensor names, in the order ``run`` returns them.
    output_shapes : tuple of tuple of int
        Shape of one window's output per output tensor, without the batch dimension.
    """

    path: Path
    variant: str
    engine: str
    engine_version: str
    input_name: str
    input_shape: tuple[int, ...]
    n_features: int
    output_names: tuple[str, ...]
    output_shapes: tuple[tuple[int, ...], ...]

    def check_n_features(self, n_features: int) -> None:
        """Raise ModelError unless the model takes ``n_features`` features per window."""

    def run(self, features: np.ndarray) -> list[np.ndarray]:
        """Run the model on float32 rows (N, F); return float32 outputs, batch dimension first."""

    def describe(self) -> dict:
        """Return what ran, for the run metadata (engine, version, batching, quantisation)."""


class BaseBackend:
    """Shared implementation: feature checks, chunking, the batch probe, output assembly.

    Subclasses set the attributes of :class:`Backend` in ``__init__`` and implement
    ``_prepare`` (features -> model input dtype), ``_run_one`` (one row through the model as
    loaded), ``_open_batched`` (make a batched runner; False when impossible), ``_run_batched``
    and ``_finish`` (raw outputs -> float32). ``_batch_dynamic`` says the model file itself
    declares a free batch dimension, so no probe is needed.
    """

    path: Path
    variant: str
    engine: str
    engine_version: str
    input_name: str
    input_shape: tuple[int, ...]
    n_features: int
    output_names: tuple[str, ...]
    output_shapes: tuple[tuple[int, ...], ...]

    def __init__(
        self,
        path: Path,
        variant: str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_elements: int = DEFAULT_MAX_BATCH_ELEMENTS,
        batch_rewrite: bool = True,
    ) -> None:
        self.path = Path(path)
        self.variant = variant
        self._batch_size = int(batch_size)
        self._max_batch_elements = int(max_batch_elements)
        self._batch_rewrite = bool(batch_rewrite)
        self._batch_dynamic = False
        # None until the first call with >= 2 rows decides: "batched" or "single".
        self._batch_mode: str | None = None

    # ----------------------------------------------------------------- public
    @property
    def chunk_rows(self) -> int:
        """Rows per runtime call when batching: ``batch_size`` capped by the element budget."""
        by_elements = self._max_batch_elements // max(self.n_features, 1)
        return max(1, min(self._batch_size, by_elements))

    @property
    def batch_mode(self) -> str:
        """``"batched"``, ``"single"`` (one window per call), ``"undecided"`` before a run."""
        return self._batch_mode or "undecided"

    def check_n_features(self, n_features: int) -> None:
        """Raise ModelError unless the model takes ``n_features`` features per window.

        Parameters
        ----------
        n_features : int
            Features per window that the impulse's DSP blocks produce.

        Raises
        ------
        ModelError
            Naming the model file, the input tensor and both numbers.
        """
        if int(n_features) != self.n_features:
            raise ModelError(
                f"model input {self.input_name} takes {self.n_features} features per window "
                f"(shape {list(self.input_shape)}), the impulse produces {int(n_features)} "
                f"({self.path})"
            )

    def run(self, features: np.ndarray) -> list[np.ndarray]:
        """Run the model on windows of features.

        Parameters
        ----------
        features : float32 array of shape (N, F)
            One row per window, ``F == n_features``; reshaped row-major to the model input.

        Returns
        -------
        list of float32 arrays, one per output, each of shape (N, *output_shape)
            Dequantised when the model's outputs are integer.

        Raises
        ------
        ModelError
            When the array is not float32 (N, F) with the model's F.
        """
        x = self._check_features(features)
        n = x.shape[0]
        if n == 0:
            return [np.zeros((0, *shape), dtype=np.float32) for shape in self.output_shapes]
        x = self._prepare(x).reshape((n, *self.input_shape))
        if self._batch_mode is None and n >= 2:
            self._batch_mode = self._decide_batch_mode(x)
        if self._batch_mode == "batched":
            raw = self._run_chunks(x)
        else:
            raw = self._run_rows_one_by_one(x)
        return self._finish(raw)

    def describe(self) -> dict:
        """Return what ran, as plain JSON-able values, for the run metadata."""
        return {
            "path": str(self.path),
            "variant": self.variant,
            "engine": self.engine,
            "engine_version": self.engine_version,
            "input_name": self.input_name,
            "input_shape": list(self.input_shape),
            "output_names": list(self.output_names),
            "output_shapes": [list(s) for s in self.output_shapes],
            "batch_mode": self.batch_mode,
            "chunk_rows": self.chunk_rows if self._batch_mode == "batched" else 1,
        }

    # ------------------------------------------------------------- internals
    def _check_features(self, features: np.ndarray) -> np.ndarray:
        if not isinstance(features, np.ndarray) or features.dtype != np.float32:
            got = getattr(features, "dtype", type(features).__name__)
            raise ModelError(f"features must be a float32 array, got {got} ({self.path})")
        if features.ndim != 2 or features.shape[1] != self.n_features:
            raise ModelError(
                f"features must have shape (N, {self.n_features}) for model input "
                f"{self.input_name}, got {features.shape} ({self.path})"
            )
        return np.ascontiguousarray(features)

    def _decide_batch_mode(self, x: np.ndarray) -> str:
        if self._batch_dynamic:
            return "batched" if self._open_batched() else "single"
        if not self._batch_rewrite or not self._open_batched():
            return "single"
        k = min(x.shape[0], PROBE_ROWS)
        expected = self._run_rows_one_by_one(x[:k])
        try:
            got = self._run_batched(x[:k])
        except Exception:  # noqa: BLE001 - any runtime failure means "cannot batch this model"
            return "single"
        same = len(got) == len(expected) and all(
            g.shape == e.shape and g.dtype == e.dtype and np.array_equal(g, e)
            for g, e in zip(got, expected, strict=True)
        )
        return "batched" if same else "single"

    def _run_chunks(self, x: np.ndarray) -> list[np.ndarray]:
        step = self.chunk_rows
        parts = [self._run_batched(x[i : i + step]) for i in range(0, x.shape[0], step)]
        by_output = zip(*parts, strict=True)  # every chunk returns every output
        return [np.concatenate(p, axis=0) if len(p) > 1 else p[0] for p in by_output]

    def _run_rows_one_by_one(self, x: np.ndarray) -> list[np.ndarray]:
        parts = [self._run_one(x[i : i + 1]) for i in range(x.shape[0])]
        return [np.concatenate(p, axis=0) for p in zip(*parts, strict=True)]

    # ------------------------------------------------------ engine hooks
    def _prepare(self, x: np.ndarray) -> np.ndarray:
        """Map float32 features (N, F) to the model input dtype (quantise if integer)."""
        raise NotImplementedError

    def _run_one(self, x1: np.ndarray) -> list[np.ndarray]:
        """Run one row (1, *input_shape) through the model as loaded; raw outputs, batch first."""
        raise NotImplementedError

    def _open_batched(self) -> bool:
        """Make a runner that accepts any row count; False when the model cannot batch."""
        raise NotImplementedError

    def _run_batched(self, x: np.ndarray) -> list[np.ndarray]:
        """Run (n, *input_shape) rows at once; raw outputs, batch first."""
        raise NotImplementedError

    def _finish(self, raw: list[np.ndarray]) -> list[np.ndarray]:
        """Turn raw outputs into float32: dequantise each integer output with its own parameters
        (``self._quant``, tensor name -> QuantParams, set by engines with integer I/O).
        """
        from evalcore.backends.quant import dequantize

        quant = getattr(self, "_quant", {})
        out = []
        for name, arr in zip(self.output_names, raw, strict=False):
            params = quant.get(name)
            out.append(dequantize(arr, params) if params is not None else np.asarray(arr, dtype=np.float32))
        return out


def per_window_shape(dims, *, path, tensor: str, role: str) -> tuple[int, ...]:
    """Return a tensor's shape without its batch dimension, all dimensions concrete.

    Parameters
    ----------
    dims : sequence of int, str or None
        The runtime's shape; the first entry is the batch dimension.
    path, tensor, role : str
        For the error message (``role`` is "input" or "output").

    Raises
    ------
    ModelError
        When the tensor has no batch dimension or a non-batch dimension is not a positive int.
    """
    dims = list(dims)
    if len(dims) < 2:
        raise ModelError(
            f"model {role} {tensor} has shape {dims}, expected a batch dimension and at least one "
            f"more ({path})"
        )
    rest = dims[1:]
    if not all(isinstance(d, (int, np.integer)) and d > 0 for d in rest):
        raise ModelError(
            f"model {role} {tensor} has shape {dims}: only the batch dimension may be dynamic "
            f"({path})"
        )
    return tuple(int(d) for d in rest)


def n_elements(shape: tuple[int, ...]) -> int:
    """Return the number of elements of one window of a tensor."""
    return int(math.prod(shape))
