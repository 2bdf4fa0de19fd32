"""BrainChip Akida models (``.fbz``, the ``akida`` variant) through the ``akida`` runtime.

``akida`` is an optional extra (``pip install evalcore[akida]``): its EULA forbids redistribution,
so it is never vendored, and imported only here, when an ``.fbz`` model is loaded.

Which device runs the model (``akida_device``, reference/formats-and-akida.md A7):

- ``software``: the model is left unmapped (``model.map(None)``), so the runtime's software
  backend computes it on the host CPU. Edge Impulse's own profiling runs this way.
- ``hardware``: the first device of ``akida.devices()``; ``model.map(device)`` must put at least
  one layer sequence on it. No device, or a failed mapping, is a ModelError.
- ``auto`` (default): hardware when a device is listed and the model maps onto it, else software.

``engine`` records the path taken (``"akida-hardware"`` / ``"akida-software"``); ``describe()``
adds the akida version, the device, the model's IP version and the writer version stored in the
``.fbz`` header.

Pre- and post-processing mirror Edge Impulse (A2 of formats-and-akida.md; ``process_input`` in
``ei_tensorflow/brainchip/model.py`` and ``classifier/inferencing_engines/akida.h``):

- features are reshaped row-major to the model's 3-D input shape, batch first (N, x, y, c);
- an unsigned input with 4 bits: ``uint8(clip(x * 15, 0, 255) / 16)`` -- truncation, not rounding;
  for features in [0, 1] this is always 0, a quirk of Edge Impulse's code kept on purpose;
- any other unsigned input: ``uint8(clip(x * 255, 0, 255))``, again truncating;
- a signed input (an Akida 2.0 ``InputData`` with 8 bits) needs int8; Edge Impulse's code has no
  rule for it, so the caller must give ``akida_input_scale`` (then ``int8(clip(x * scale, -128,
  127))``, truncating like the unsigned paths); without it loading fails (assumption documented,
  not verified against Studio);
- ``akida_input_scale`` given for an unsigned input replaces 255 (or 15/16) the same way;
- outputs come from ``model.predict`` (float32; an Akida 1.0 last layer without activation
  gives ``(potential - threshold) / act_step``, a 2.0 model needs a trailing ``Dequantizer``);
  an output of shape (1, 1, K) per window is returned as (K,);
- ``akida_softmax`` (default True): softmax over the last axis, as Edge Impulse does for
  classification and FOMO because Akida returns logits; pass False for YOLOv2 (decoded with its own
  softmax) or to get the logits. Computed like ``scipy.special.softmax`` on float32 input:
  ``exp(x - max) / sum(exp(x - max))`` in float32.

Outputs of a batch equal the outputs of one-window runs (formats-and-akida.md A4.7; tested), so
windows are run in chunks of ``batch_size`` rows.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from evalcore.backends._imports import interrupts_held
from evalcore.backends.base import DEFAULT_BATCH_SIZE, BaseBackend, n_elements
from evalcore.errors import BackendUnavailableError, ModelError

__all__ = ["AkidaBackend", "akida_softmax", "fbz_writer_version"]

_VERSION_RE = re.compile(rb"(\d+\.\d+\.\d+)")
# Loads the model in a child interpreter: akida 2.19.3 dies with SIGSEGV on a truncated or zeroed
# .fbz (measured), which would kill the whole evaluation without a message.
_CHECK_SCRIPT = "import sys, akida; akida.Model(sys.argv[1])"


def _import_akida():
    try:
        with interrupts_held():  # an interrupt during the import is not a missing runtime
            import akida
    except ImportError as err:
        raise BackendUnavailableError(
            "the akida runtime is not installed: install it with pip install evalcore[akida] "
            "(BrainChip's proprietary package; python 3.10-3.12 on linux or windows)"
        ) from err
    return akida


def fbz_writer_version(path: Path) -> str | None:
    """Return the akida version string stored in an ``.fbz`` header, or None when absent."""
    with open(path, "rb") as handle:
        match = _VERSION_RE.search(handle.read(64))
    return match.group(1).decode("ascii") if match else None


def akida_softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis in float32, the formula of ``scipy.special.softmax``.

    Parameters
    ----------
    x : float32 array of shape (..., K)

    Returns
    -------
    float32 array of shape (..., K)
    """
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


class AkidaBackend(BaseBackend):
    """An ``.fbz`` model run by the akida runtime, on an Akida device or in software.

    Parameters
    ----------
    path : path-like
        The ``.fbz`` file.
    variant : str
        ``"akida"``.
    akida_device : {"auto", "hardware", "software"}, default "auto"
        See the module docstring.
    akida_softmax : bool, default True
        Apply softmax to the outputs (classification, FOMO).
    akida_input_scale : float, optional
        Replace Edge Impulse's input scaling (255, or 15 then /16 for 4-bit inputs); required
        for signed inputs.
    akida_check_file : bool, default True
        First load the file in a child process (about 0.5 s), so that a corrupt file that
        crashes the runtime becomes a ModelError instead of killing this process.
    batch_size : int, default 1024
        Windows per ``predict`` call.
    """

    def __init__(self, path, variant: str = "akida", *, akida_device: str = "auto",
                 akida_softmax: bool = True, akida_input_scale: float | None = None,
                 akida_check_file: bool = True, batch_size: int = DEFAULT_BATCH_SIZE):
        super().__init__(Path(path), variant, batch_size=batch_size,
                         max_batch_elements=1 << 62, batch_rewrite=False)
        self._akida = _import_akida()
        self.engine_version = self._akida.__version__
        self._softmax = bool(akida_softmax)
        self._input_scale = akida_input_scale
        if akida_check_file:
            self._check_file()
        self._model = self._load_model()
        self._device_name = "software"
        self.engine = self._place(akida_device)
        self._read_io()
        # The runtime batches natively and outputs are batch-independent (A4.7).
        self._batch_dynamic = True

    # ------------------------------------------------------------------ load
    def _check_file(self) -> None:
        try:
            proc = subprocess.run([sys.executable, "-c", _CHECK_SCRIPT, str(self.path)],
                                  capture_output=True, text=True, timeout=300, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ModelError(f"cannot check the akida model in a child process: {err} "
                             f"({self.path})") from err
        if proc.returncode < 0:
            raise ModelError(
                f"the akida runtime crashed (signal {-proc.returncode}) reading the model: the "
                f"file is probably truncated or corrupt ({self.path})"
            )
        # A Python exception in the child is reported with its message by the load that follows.

    def _load_model(self):
        try:
            return self._akida.Model(str(self.path))
        except Exception as err:  # noqa: BLE001 - the runtime raises RuntimeError/ValueError
            # Surfaces "A model created with Akida X is not supported by Akida Y" verbatim.
            raise ModelError(f"akida cannot load the model: {err} ({self.path})") from err

    def _place(self, device_choice: str) -> str:
        akida = self._akida
        devices = list(akida.devices()) if device_choice != "software" else []
        if device_choice == "hardware" and not devices:
            raise ModelError(
                f"akida_device is hardware but akida.devices() lists no akida device ({self.path})"
            )
        if devices:
            device = devices[0]
            reason = None
            try:
                self._model.map(device)
                on_hardware = any(seq.backend == akida.BackendType.Hardware
                                  for seq in self._model.sequences)
                if not on_hardware:
                    reason = "no layer sequence was mapped to the device"
            except Exception as err:  # noqa: BLE001 - mapping errors are RuntimeError/ValueError
                reason = str(err)
            if reason is None:
                self._device_name = str(getattr(device, "desc", None) or device)
                return "akida-hardware"
            if device_choice == "hardware":
                raise ModelError(
                    f"akida_device is hardware but the model does not map onto {device}: {reason} "
                    f"({self.path})"
                )
            self._unmap()
        return "akida-software"

    def _unmap(self) -> None:
        try:
            self._model.map(None)
        except Exception as err:  # noqa: BLE001
            raise ModelError(f"akida cannot unmap the model: {err} ({self.path})") from err

    def _read_io(self) -> None:
        model = self._model
        first, last = model.layers[0], model.layers[-1]
        self.input_name = first.name
        self.input_shape = tuple(int(d) for d in model.input_shape)
        if len(self.input_shape) != 3:
            raise ModelError(
                f"akida model input has shape {list(self.input_shape)}, expected 3-d (x, y, c) "
                f"({self.path})"
            )
        self.n_features = n_elements(self.input_shape)
        self._input_bits = int(first.input_bits)
        self._input_signed = _input_signed(first)
        if self._input_signed and self._input_scale is None:
            raise ModelError(
                f"akida model input {first.name} is signed ({self._input_bits} bits): edge "
                f"impulse defines no scaling for it, set akida_input_scale ({self.path})"
            )
        self._check_predict(last)
        shape = tuple(int(d) for d in model.output_shape)
        self._squeeze = len(shape) == 3 and shape[0] == 1 and shape[1] == 1
        self.output_names = (last.name,)
        self.output_shapes = (shape[2:] if self._squeeze else shape,)

    def _check_predict(self, last) -> None:
        akida = self._akida
        kind = last.parameters.layer_type
        if self._model.ip_version == akida.IpVersion.v1:
            if _param(last.parameters, "activation", 0):
                raise ModelError(
                    f"akida 1.0 model ends in layer {last.name} with an activation: predict() "
                    f"needs a last layer without activation ({self.path})"
                )
        elif kind != akida.LayerType.Dequantizer:
            raise ModelError(
                f"akida 2.0 model ends in layer {last.name} ({kind.name}), not a Dequantizer: "
                f"predict() cannot return float outputs ({self.path})"
            )

    # ------------------------------------------------------------- running
    def _prepare(self, x: np.ndarray) -> np.ndarray:
        if self._input_signed:
            info = np.iinfo(np.int8)
            return np.clip(x * np.float32(self._input_scale), info.min, info.max).astype(np.int8)
        if self._input_scale is not None:
            return np.clip(x * np.float32(self._input_scale), 0, 255).astype(np.uint8)
        if self._input_bits == 4:
            # Edge Impulse's 4-bit rule ("recommended by BrainChip team"): zero for x in [0, 1).
            return (np.clip(x * np.float32(15), 0, 255) / np.float32(16)).astype(np.uint8)
        return np.clip(x * np.float32(255), 0, 255).astype(np.uint8)

    def _predict(self, x: np.ndarray) -> list[np.ndarray]:
        try:
            return [self._model.predict(x)]
        except Exception as err:  # noqa: BLE001 - shape, dtype and device errors
            raise ModelError(f"akida predict failed: {err} ({self.path})") from err

    def _run_one(self, x1: np.ndarray) -> list[np.ndarray]:
        return self._predict(x1)

    def _open_batched(self) -> bool:
        return True

    def _run_batched(self, x: np.ndarray) -> list[np.ndarray]:
        return self._predict(x)

    def _finish(self, raw: list[np.ndarray]) -> list[np.ndarray]:
        out = np.asarray(raw[0], dtype=np.float32)
        out = out.reshape((out.shape[0], *self.output_shapes[0]))
        return [akida_softmax(out) if self._softmax else out]

    def describe(self) -> dict:
        """Return what ran: path taken, device, akida version, IP and writer versions."""
        info = super().describe()
        info.update({
            "device": self._device_name,
            "ip_version": self._model.ip_version.name,
            "model_writer_version": fbz_writer_version(self.path),
            "input_bits": self._input_bits,
            "input_signed": self._input_signed,
            "softmax": self._softmax,
            # say it where the result is read, until a run on a real device has been checked
            "hardware_path_checked": HARDWARE_PATH_CHECKED,
        })
        return info


#: How far the ``akida-hardware`` path has been checked: the tests map and run models on stand-in
#: devices (objects shaped like ``akida.devices()``' entries); no run on a physical Akida device
#: (AKD1000/AKD1500 PCIe or a neuromorphic SoC) has been compared with the software backend yet.
HARDWARE_PATH_CHECKED = "stand-in devices only, never on a physical Akida device"


def _param(params, name: str, default):
    """Read a layer parameter; akida's LayerParams raises ValueError for absent keys."""
    try:
        return getattr(params, name)
    except (AttributeError, ValueError):
        return default


def _input_signed(layer) -> bool:
    """Whether the first layer takes signed integers (an Akida 2.0 InputData above 4 bits)."""
    return bool(_param(layer.parameters, "input_signed", 0))
