"""ONNX models (float32, int8 with integer or float I/O) through onnxruntime's CPU provider.

Session settings follow perf-anchors.md section 3: graph optimisation level ALL (2.4x on a small
CNN, from the NCHWc layout passes), intra-op threads set explicitly (default 1: threads add
nothing for the tiny models Edge Impulse trains, and an explicit count behaves under taskset),
no thread spinning (idle ORT threads would otherwise burn the CPU that the numba metric kernels
and DSP need), sequential execution, the plain ``session.run`` call (IOBinding saves ~3 us on CPU
and ``run_with_ort_values`` is slower).

int8 models: a QDQ model with float input/output runs as it is. A model with integer I/O gets
its inputs quantised and outputs dequantised (:mod:`evalcore.backends.quant`) with parameters
read, in order of precedence, from

1. the graph: the ``DequantizeLinear`` (or QLinear* operator) that consumes the graph input, and
   the ``QuantizeLinear`` (or QLinear* operator) that produces each graph output;
2. the model's ``metadata_props`` key ``quantization``: JSON ``{tensor name: {"scale": s,
   "zero_point": z}}`` (an evalcore convention; Edge Impulse's ONNX exports have no metadata);
3. the caller's ``quantization=`` option, the same mapping; the keys ``"input"`` and ``"output"``
   stand for the input and for every integer output.

Reading the graph needs the ``onnx`` package (imported lazily); so does making the batch
dimension of a fixed-batch model free (``batch_rewrite``), which is skipped without it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from evalcore.backends._imports import interrupts_held
from evalcore.backends.base import BaseBackend, n_elements, per_window_shape
from evalcore.backends.quant import INTEGER_DTYPES, QuantParams, quantize
from evalcore.errors import BackendUnavailableError, ModelError

__all__ = ["OnnxBackend", "ORT_TYPES"]

# onnxruntime's type strings for the tensor types we accept at the model boundary.
ORT_TYPES = {
    "tensor(float)": np.dtype(np.float32),
    "tensor(int8)": np.dtype(np.int8),
    "tensor(uint8)": np.dtype(np.uint8),
}
# Operators whose first input is the quantised activation with its (scale, zero point) as
# inputs 1 and 2, and where the output's (scale, zero point) sit, per operator.
_QLINEAR_IN = {"DequantizeLinear", "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul",
               "QLinearSoftmax", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearAveragePool",
               "QLinearGlobalAveragePool", "QLinearReduceMean"}
_QLINEAR_OUT = {"QuantizeLinear": (1, 2), "QLinearConv": (6, 7), "QLinearMatMul": (6, 7),
                "QLinearAdd": (6, 7), "QLinearMul": (6, 7), "QLinearSoftmax": (3, 4),
                "QLinearSigmoid": (3, 4), "QLinearLeakyRelu": (3, 4),
                "QLinearAveragePool": (3, 4), "QLinearGlobalAveragePool": (3, 4)}


def _import_ort():
    try:
        with interrupts_held():  # an interrupt during the import is not a missing runtime
            import onnxruntime
    except ImportError as err:
        raise BackendUnavailableError(
            "onnxruntime is not installed: install it with pip install evalcore"
        ) from err
    return onnxruntime


def _session_options(ort, threads: int, *, quiet: bool = False):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # Errors only: ORT's warnings would go to stderr unasked. A rewritten (batch-free) session
    # may fail its probe on purpose (a Reshape with a hard-coded batch); keep that silent too.
    so.log_severity_level = 4 if quiet else 3
    return so


class OnnxBackend(BaseBackend):
    """An ONNX model run by onnxruntime on the CPU.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    variant : str
        ``"float32"`` or ``"int8"`` (recorded; the I/O types decide what is done).
    threads : int, default 1
        ``intra_op_num_threads``.
    quantization : dict, optional
        Fallback (scale, zero point) per integer tensor, see the module docstring.
    batch_size, max_batch_elements, batch_rewrite
        See :class:`evalcore.backends.base.BaseBackend`.
    """

    def __init__(self, path, variant: str, *, threads: int = 1, quantization=None, **batching):
        super().__init__(Path(path), variant, **batching)
        ort = _import_ort()
        self.engine = "onnxruntime"
        self.engine_version = ort.__version__
        self._threads = int(threads)
        self._model_bytes = _read_model(self.path)
        self._session = self._make_session(ort, self._model_bytes)
        self._batched_session = None
        self._read_io(quantization)

    # ------------------------------------------------------------------ load
    def _make_session(self, ort, model_bytes: bytes, *, quiet: bool = False):
        try:
            return ort.InferenceSession(
                model_bytes,
                sess_options=_session_options(ort, self._threads, quiet=quiet),
                providers=["CPUExecutionProvider"],
            )
        except Exception as err:  # noqa: BLE001 - ORT raises its own pybind types
            raise ModelError(f"onnxruntime cannot load the model: {err} ({self.path})") from err

    def _read_io(self, quantization) -> None:
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            names = [i.name for i in inputs]
            raise ModelError(f"model has {len(inputs)} inputs {names}, expected 1 ({self.path})")
        inp = inputs[0]
        self.input_name = inp.name
        self._input_dtype = self._tensor_dtype(inp, "input")
        self.input_shape = per_window_shape(inp.shape, path=self.path, tensor=inp.name,
                                            role="input")
        self.n_features = n_elements(self.input_shape)
        batch = inp.shape[0]
        if isinstance(batch, int) and batch != 1:
            raise ModelError(
                f"model input {inp.name} has a fixed batch dimension of {batch}, expected 1 or "
                f"dynamic ({self.path})"
            )
        self._batch_dynamic = not isinstance(batch, int)
        outputs = self._session.get_outputs()
        self.output_names = tuple(o.name for o in outputs)
        self._output_dtypes = tuple(self._tensor_dtype(o, "output") for o in outputs)
        self.output_shapes = self._output_shapes(outputs)
        integer = [n for n, d in zip((inp.name, *self.output_names),
                                     (self._input_dtype, *self._output_dtypes), strict=False)
                   if d in INTEGER_DTYPES]
        self._quant = self._find_quantization(integer, quantization) if integer else {}

    def _tensor_dtype(self, arg, role: str) -> np.dtype:
        dtype = ORT_TYPES.get(arg.type)
        if dtype is None:
            raise ModelError(
                f"model {role} {arg.name} has type {arg.type}, expected float, int8 or uint8 "
                f"({self.path})"
            )
        return dtype

    def _output_shapes(self, outputs) -> tuple[tuple[int, ...], ...]:
        try:
            return tuple(per_window_shape(o.shape, path=self.path, tensor=o.name, role="output")
                         for o in outputs)
        except ModelError:
            # Some exporters leave output shapes symbolic; one zero window tells the truth.
            probe = np.zeros((1, *self.input_shape), dtype=self._input_dtype)
            got = self._session.run(None, {self.input_name: probe})
            return tuple(tuple(int(d) for d in g.shape[1:]) for g in got)

    def _find_quantization(self, names: list[str], caller) -> dict[str, QuantParams]:
        dtypes = dict(zip((self.input_name, *self.output_names),
                          (self._input_dtype, *self._output_dtypes), strict=False))
        found = _graph_quantization(self._model_bytes, names, dtypes, self.path)
        note = ""
        if found is None:
            found, note = {}, "; the onnx package, needed to read the graph, is not installed"
        meta = self._session.get_modelmeta().custom_metadata_map.get("quantization")
        table = []
        if meta:
            try:
                table.append((json.loads(meta), "model metadata_props"))
            except ValueError as err:
                raise ModelError(
                    f"metadata_props quantization is not valid json: {err} ({self.path})"
                ) from err
        if caller:
            table.append((caller, "caller metadata"))
        for name in names:
            if name in found:
                continue
            alias = "input" if name == self.input_name else "output"
            for mapping, source in table:
                entry = mapping.get(name, mapping.get(alias))
                if entry is not None:
                    found[name] = _params_from_entry(entry, dtypes[name], source, name, self.path)
                    break
            else:
                raise ModelError(
                    f"integer tensor {name} ({dtypes[name].name}) has no scale/zero point in the "
                    f"graph, the model metadata or the caller's quantization option{note} "
                    f"({self.path})"
                )
        return found

    # ------------------------------------------------------------- running
    def _prepare(self, x: np.ndarray) -> np.ndarray:
        params = self._quant.get(self.input_name)
        return quantize(x, params) if params is not None else x

    def _run_one(self, x1: np.ndarray) -> list[np.ndarray]:
        return self._session.run(None, {self.input_name: x1})

    def _open_batched(self) -> bool:
        if self._batch_dynamic:
            self._batched_session = self._session
            return True
        rewritten = _free_batch_dimension(self._model_bytes, self.input_name)
        if rewritten is None:
            return False
        try:
            self._batched_session = self._make_session(_import_ort(), rewritten, quiet=True)
        except ModelError:
            return False
        return True

    def _run_batched(self, x: np.ndarray) -> list[np.ndarray]:
        return self._batched_session.run(None, {self.input_name: x})

    def describe(self) -> dict:
        """Return what ran, including the source of each tensor's quantisation."""
        info = super().describe()
        info["threads"] = self._threads
        info["quantization"] = {name: p.as_dict() for name, p in self._quant.items()}
        return info


def _read_model(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise ModelError(f"cannot read model file: {err.strerror} ({path})") from err


def _params_from_entry(entry, dtype, source: str, name: str, path) -> QuantParams:
    try:
        scale = float(entry["scale"])
        zero_point = int(entry.get("zero_point", 0))
    except (TypeError, KeyError, ValueError) as err:
        raise ModelError(
            f"quantization for tensor {name} from {source} must be {{\"scale\": float, "
            f"\"zero_point\": int}}, got {entry!r} ({path})"
        ) from err
    if not scale > 0:
        raise ModelError(f"quantization scale of tensor {name} must be > 0, got {scale} ({path})")
    return QuantParams(scale, zero_point, dtype, source)


def _graph_quantization(model_bytes: bytes, names: list[str], dtypes,
                        path) -> dict[str, QuantParams] | None:
    """Read (scale, zero point) of integer graph inputs/outputs from adjacent Q/DQ nodes.

    Returns None when the ``onnx`` package is not installed (the graph cannot be read).
    """
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:
        return None
    model = onnx.load_model_from_string(model_bytes)
    graph = model.graph
    consts = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    consts[node.output[0]] = attr.t
    found: dict[str, QuantParams] = {}
    wanted = set(names)
    for node in graph.node:
        pair = None
        if node.op_type in _QLINEAR_IN and node.input and node.input[0] in wanted:
            pair, name, where = (1, 2), node.input[0], f"{node.op_type} after the graph input"
        elif node.op_type in _QLINEAR_OUT and node.output and node.output[0] in wanted:
            pair, name, where = _QLINEAR_OUT[node.op_type], node.output[0], (
                f"{node.op_type} before the graph output")
        if pair is None or name in found:
            continue
        scale_name = node.input[pair[0]] if len(node.input) > pair[0] else ""
        zp_name = node.input[pair[1]] if len(node.input) > pair[1] else ""
        if scale_name not in consts or (zp_name and zp_name not in consts):
            continue
        scale = numpy_helper.to_array(consts[scale_name])
        zero_point = numpy_helper.to_array(consts[zp_name]) if zp_name else np.zeros(1, np.int64)
        if scale.size != 1 or zero_point.size != 1:
            raise ModelError(
                f"tensor {name} is quantised per axis ({scale.size} scales); only per-tensor "
                f"input/output quantisation is supported ({path})"
            )
        found[name] = QuantParams(float(scale.reshape(-1)[0]), int(zero_point.reshape(-1)[0]),
                                  dtypes[name], where)
    return found


def _free_batch_dimension(model_bytes: bytes, input_name: str) -> bytes | None:
    """Return the model with a symbolic batch dimension on its input/outputs, or None."""
    try:
        import onnx
    except ImportError:
        return None
    model = onnx.load_model_from_string(model_bytes)
    graph = model.graph
    # Old IR versions also list initializers as graph inputs; only the real input is touched.
    values = [v for v in graph.input if v.name == input_name] + list(graph.output)
    for value in values:
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 0:
            return None
        dims[0].ClearField("dim_value")
        dims[0].dim_param = "evalcore_batch"
    # Intermediate shapes recorded by the exporter would pin the batch to 1; ORT re-infers them.
    del graph.value_info[:]
    return model.SerializeToString()
