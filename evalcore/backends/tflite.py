"""TensorFlow Lite models (float32, int8 with integer I/O) through the LiteRT interpreter.

``ai_edge_litert.interpreter.Interpreter`` is TensorFlow Lite's interpreter without TensorFlow
(extra ``tflite``). Integer inputs and outputs are quantised / dequantised with the per-tensor
(scale, zero point) of the tensor details, as Edge Impulse's ``process_input`` /
``process_output`` do (:mod:`evalcore.backends.quant`); the caller's ``quantization=`` option is a
fallback for a tensor that has none.

Batching: Edge Impulse exports have a batch dimension fixed at 1 in both shape and shape
signature. A second interpreter is resized to the chunk's row count (``resize_tensor_input`` +
``allocate_tensors``, about one invoke's cost); models with a hard-coded batch inside (a RESHAPE to
``[1, ...]``) refuse the resize and run one window per invoke. See :mod:`evalcore.backends.base`
for the probe that guards batching.

Kernels: by default LiteRT applies its XNNPACK delegate. Its int8 kernels requantise differently
from the built-in ones (``xnnpack=False``): up to 21 output steps of 1/256 apart on
``gestures-i8.lite``, while float32 models differ by ~1e-6. Which set Studio's test job runs is
not known; compare both against a Studio result before relying on int8 parity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evalcore.backends._imports import interrupts_held
from evalcore.backends.base import BaseBackend, n_elements, per_window_shape
from evalcore.backends.quant import INTEGER_DTYPES, QuantParams, quantize
from evalcore.errors import BackendUnavailableError, ModelError

__all__ = ["TfliteBackend"]

_ACCEPTED = (np.dtype(np.float32), *INTEGER_DTYPES)


def _import_litert():
    try:
        with interrupts_held():  # an interrupt during the import is not a missing runtime
            from ai_edge_litert import interpreter as litert
    except ImportError as err:
        raise BackendUnavailableError(
            "the TensorFlow Lite runtime (ai-edge-litert) is not installed: install it with "
            "pip install evalcore[tflite]"
        ) from err
    return litert


def _litert_version() -> str:
    try:
        from importlib.metadata import version

        return version("ai-edge-litert")
    except Exception:  # noqa: BLE001 - metadata is informative only
        return "unknown"


class TfliteBackend(BaseBackend):
    """A ``.lite`` / ``.tflite`` model run by the LiteRT interpreter.

    Parameters
    ----------
    path : path-like
        The model file.
    variant : str
        ``"float32"`` or ``"int8"`` (recorded; the tensor types decide what is done).
    threads : int, default 1
        ``num_threads`` of the interpreter.
    xnnpack : bool, default True
        Keep LiteRT's default XNNPACK delegate (as TensorFlow's interpreter, which Edge Impulse's
        Python uses, does). False runs the built-in kernels only.
    quantization : dict, optional
        Fallback (scale, zero point) per integer tensor without them in the file; keys are tensor
        names or ``"input"`` / ``"output"``.
    batch_size, max_batch_elements, batch_rewrite
        See :class:`evalcore.backends.base.BaseBackend`.
    """

    def __init__(self, path, variant: str, *, threads: int = 1, xnnpack: bool = True,
                 quantization=None, **batching):
        super().__init__(Path(path), variant, **batching)
        self._litert = _import_litert()
        self.engine = "tflite"
        self.engine_version = _litert_version()
        self._threads = int(threads)
        self._xnnpack = bool(xnnpack)
        self._interp = self._make_interpreter()
        self._batched = None
        self._batched_rows = 0
        self._read_io(quantization or {})

    def _make_interpreter(self):
        resolver = self._litert.OpResolverType
        kind = resolver.AUTO if self._xnnpack else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        if not self.path.is_file():
            raise ModelError(f"model file not found ({self.path})")
        try:
            interp = self._litert.Interpreter(
                model_path=str(self.path), num_threads=self._threads,
                experimental_op_resolver_type=kind,
            )
            interp.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ModelError(f"tflite cannot load the model: {err} ({self.path})") from err
        return interp

    def _read_io(self, quantization: dict) -> None:
        inputs = self._interp.get_input_details()
        if len(inputs) != 1:
            names = [d["name"] for d in inputs]
            raise ModelError(f"model has {len(inputs)} inputs {names}, expected 1 ({self.path})")
        inp = inputs[0]
        self.input_name = inp["name"]
        self._input_index = inp["index"]
        self._input_dtype = self._check_dtype(inp, "input")
        self.input_shape = per_window_shape(inp["shape"].tolist(), path=self.path,
                                            tensor=self.input_name, role="input")
        self.n_features = n_elements(self.input_shape)
        self._batch_dynamic = int(inp["shape_signature"][0]) == -1
        outputs = self._interp.get_output_details()
        self.output_names = tuple(d["name"] for d in outputs)
        self._output_indices = tuple(d["index"] for d in outputs)
        self.output_shapes = tuple(
            per_window_shape(d["shape"].tolist(), path=self.path, tensor=d["name"], role="output")
            for d in outputs
        )
        self._quant = {}
        for role, detail in [("input", inp)] + [("output", d) for d in outputs]:
            dtype = self._check_dtype(detail, role)
            if dtype in INTEGER_DTYPES:
                self._quant[detail["name"]] = self._tensor_quant(detail, dtype, role, quantization)

    def _check_dtype(self, detail, role: str) -> np.dtype:
        dtype = np.dtype(detail["dtype"])
        if dtype not in _ACCEPTED:
            raise ModelError(
                f"model {role} {detail['name']} has type {dtype.name}, expected float32, int8 or "
                f"uint8 ({self.path})"
            )
        return dtype

    def _tensor_quant(self, detail, dtype, role: str, caller: dict) -> QuantParams:
        name = detail["name"]
        scales = detail["quantization_parameters"]["scales"]
        zero_points = detail["quantization_parameters"]["zero_points"]
        if len(scales) > 1:
            raise ModelError(
                f"model {role} {name} is quantised per axis ({len(scales)} scales); only "
                f"per-tensor input/output quantisation is supported ({self.path})"
            )
        if len(scales) == 1 and scales[0] > 0:
            return QuantParams(float(scales[0]), int(zero_points[0]), dtype, "tensor details")
        entry = caller.get(name, caller.get(role))
        if entry is None:
            raise ModelError(
                f"integer tensor {name} ({dtype.name}) has no scale/zero point in the model or "
                f"the caller's quantization option ({self.path})"
            )
        try:
            return QuantParams(float(entry["scale"]), int(entry.get("zero_point", 0)), dtype,
                               "caller metadata")
        except (TypeError, KeyError, ValueError) as err:
            raise ModelError(
                f"quantization for tensor {name} must be {{\"scale\": float, "
                f"\"zero_point\": int}}, got {entry!r} ({self.path})"
            ) from err

    # ------------------------------------------------------------- running
    def _prepare(self, x: np.ndarray) -> np.ndarray:
        params = self._quant.get(self.input_name)
        return quantize(x, params) if params is not None else x

    @staticmethod
    def _invoke(interp, input_index: int, output_indices, x: np.ndarray) -> list[np.ndarray]:
        interp.set_tensor(input_index, x)
        interp.invoke()
        return [interp.get_tensor(i) for i in output_indices]

    def _run_one(self, x1: np.ndarray) -> list[np.ndarray]:
        return self._invoke(self._interp, self._input_index, self._output_indices, x1)

    def _open_batched(self) -> bool:
        try:
            self._batched = self._make_interpreter()
            self._resize(2)
        except Exception:  # noqa: BLE001 - a failed resize means the model cannot batch
            self._batched = None
            return False
        return True

    def _resize(self, n_rows: int) -> None:
        self._batched.resize_tensor_input(self._input_index, [n_rows, *self.input_shape],
                                          strict=False)
        self._batched.allocate_tensors()
        self._batched_rows = n_rows

    def _run_batched(self, x: np.ndarray) -> list[np.ndarray]:
        if x.shape[0] != self._batched_rows:
            self._resize(x.shape[0])
        return self._invoke(self._batched, self._input_index, self._output_indices, x)

    def describe(self) -> dict:
        """Return what ran, including each integer tensor's quantisation."""
        info = super().describe()
        info["threads"] = self._threads
        info["xnnpack"] = self._xnnpack
        info["quantization"] = {name: p.as_dict() for name, p in self._quant.items()}
        return info
