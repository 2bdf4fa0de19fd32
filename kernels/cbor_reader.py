"""``read_values`` of a CBOR acquisition file, from whichever form of the kernel this process has.

The kernel (``kernels.cbor_values``) exists in two forms with the same machine code: numba's
(``import numba`` and its cache: ~1 s of CPU the first time in a process) and the saved C entry
point (``CBOR``, saved by ``kernels._native``: ~0.05 s, no numba). A run's parent process loads numba anyway
(for its metrics), so it uses numba's; a worker process only needs this one kernel, so it loads
the saved code (``load_native``) and never imports numba. ``values_reader`` picks, and never
loads anything itself: a process that has neither form decodes with cbor2.

Both forms write into a caller's buffer (``_scratch``): a file of n bytes holds at most n numbers
(every number takes at least one byte), and the numbers read are copied out at their exact size.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from kernels import _native

__all__ = ["CBOR", "load_native", "native_read_values", "read_values", "values_reader"]

#: The saved entry point: status, file bytes, n, out, capacity, result (rows, columns, start, end).
CBOR = _native.NativeSet(
    "cbor", "evalcore-cbor-native.bin", ("_native.py", "cbor_values.py"),
    {"cbor_read_values": ("*i64", "*u8", "i64", "*f64", "i64", "*i64")}, "kernels.cbor_values")

#: Files up to this many bytes reuse the thread's buffer (8 bytes a byte: 8 MiB at most); a
#: larger one gets a buffer of its own, whose untouched pages the system never commits.
_SCRATCH_MAX_BYTES = 1 << 20

_local = threading.local()


def _scratch(n_bytes: int) -> np.ndarray:
    """A float64 buffer that holds the numbers of a file of ``n_bytes`` bytes."""
    if n_bytes > _SCRATCH_MAX_BYTES:
        return np.empty(n_bytes, dtype=np.float64)
    buf = getattr(_local, "buf", None)
    if buf is None or buf.size < n_bytes:
        buf = _local.buf = np.empty(max(n_bytes, 1 << 14), dtype=np.float64)
        _local.buf_address = buf.ctypes.data  # kept: ``.ctypes`` costs ~1 µs a call, per file
    return buf


def _taken(out: np.ndarray, rows, columns, start, end):
    """``(values, start, end)`` from a kernel's answer, or None when it did not take the file."""
    if rows < 0:
        return None
    rows, columns = int(rows), int(columns)
    values = out[: rows * max(columns, 1)].copy()
    return (values.reshape(rows, columns) if columns else values), int(start), int(end)


def read_values(raw: bytes):
    """``(values, start, end)`` of the file's ``payload.values``, or None when not taken: the
    kernel through numba (imports it).

    ``values`` is float64, shape (rows, columns), or (rows,) for a flat list of numbers;
    ``raw[start:end]`` are the bytes of the values array.
    """
    from kernels.cbor_values import PAYLOAD_KEY, VALUES_KEY, read_into

    out = _scratch(len(raw))
    return _taken(out, *read_into(np.frombuffer(raw, dtype=np.uint8), PAYLOAD_KEY, VALUES_KEY, out))


def native_read_values(raw: bytes):
    """`read_values` through the saved C entry point (the same bits; ``load_native`` first)."""
    slots = getattr(_local, "slots", None)
    if slots is None:  # status, then rows, columns, start, end; their addresses
        slots = _local.slots = np.zeros(5, dtype=np.int64)
        _local.slot_addresses = slots.ctypes.data, slots.ctypes.data + slots.itemsize
    status_at, result_at = _local.slot_addresses
    slots[0] = -1
    out = _scratch(len(raw))
    out_at = _local.buf_address if out is getattr(_local, "buf", None) else out.ctypes.data
    _native.loaded(CBOR).functions["cbor_read_values"](status_at, raw, len(raw), out_at, out.size, result_at)
    status, rows, columns, start, end = slots.tolist()
    if status != 0:  # pragma: no cover - the entry never fails (it allocates nothing)
        raise RuntimeError("the CBOR values kernel failed")
    return _taken(out, rows, columns, start, end)


def load_native() -> bool:
    """Load the saved C entry point (no numba import); False when there is no valid saved code."""
    return _native.load(CBOR) is not None


def values_reader():
    """The ``read_values`` this process has loaded: the saved code's, else numba's once numba is
    imported, else None (decode with cbor2).
    """
    if _native.loaded(CBOR) is not None:
        return native_read_values
    return read_values if "numba" in sys.modules else None
