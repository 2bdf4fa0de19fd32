"""Precomputed DSP features as ``.npy`` files (an alternative input that skips the DSP).

Studio lets one download a DSP block's output as NumPy files: features ``X_<name>.npy``
(one row per window) and labels ``y_<name>.npy``. ``find_feature_files`` pairs them by
``<name>`` in one folder; ``load_feature_arrays`` loads and validates one pair.

Rules:

- ``np.load(..., allow_pickle=False)``: object arrays are refused, nothing is unpickled.
- ``X`` must be a 2-D array (W, F) of a real numeric dtype with only finite values; floating
  arrays keep their dtype (no copy), integer arrays become float64.
- ``y`` (optional) must have the same first dimension W and be 1-D or 2-D, numeric or strings;
  it is returned as loaded (its meaning, index vs one-hot vs label string, is the caller's).
- ``n_features`` (optional) checks F against what the model expects.
"""

from __future__ import annotations

import math
import os
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evalcore.errors import BundleError

__all__ = ["FeatureArrays", "find_feature_files", "load_feature_arrays"]


@dataclass(frozen=True)
class FeatureArrays:
    """One DSP block's precomputed output.

    Attributes
    ----------
    name : str
        The ``<name>`` of ``X_<name>.npy``.
    x : float array of shape (W, F)
        One feature row per window.
    y : array of shape (W,) or (W, K), or None
        The labels file as stored.
    x_path, y_path : pathlib.Path, pathlib.Path or None
        Where they came from.
    """

    name: str
    x: np.ndarray
    y: np.ndarray | None
    x_path: Path
    y_path: Path | None


def find_feature_files(features_dir) -> dict[str, tuple[Path, Path | None]]:
    """Pair ``X_<name>.npy`` with ``y_<name>.npy`` (or ``Y_<name>.npy``) in a folder.

    Returns
    -------
    dict of str to (pathlib.Path, pathlib.Path or None)
        ``name -> (x_path, y_path)``, names sorted.

    Raises
    ------
    BundleError
        The folder does not exist, or a name has both ``y_`` and ``Y_`` files.
    """
    folder = Path(features_dir)
    if not folder.is_dir():
        raise BundleError("features folder not found", path=folder)
    names = sorted(os.listdir(folder))
    pairs: dict[str, tuple[Path, Path | None]] = {}
    for fname in names:
        if fname.startswith("X_") and fname.endswith(".npy"):
            name = fname[2:-4]
            ys = [folder / f"{p}_{name}.npy" for p in ("y", "Y") if f"{p}_{name}.npy" in names]
            if len(ys) > 1:
                raise BundleError(f"both y_{name}.npy and Y_{name}.npy exist", path=folder, field=name)
            pairs[name] = (folder / fname, ys[0] if ys else None)
    return pairs


class _NotNpy(Exception):
    """The file does not start with the npy magic bytes."""


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


def _check_header(path: Path) -> None:
    """Read the ``.npy`` header and check it before ``np.load`` allocates anything.

    Bytes that do not start with the npy magic (random data, a raw pickle) are not a ``.npy``
    file; an object dtype would need unpickling; a declared shape larger than the file's data is
    a truncated or forged header (``np.load`` would first allocate it: terabytes for 1e11 rows).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(_NPY_MAGIC))
            if head[:4] == _ZIP_MAGIC:
                return  # an .npz archive: np.load reads its table of contents; refused below
            if head != _NPY_MAGIC:
                raise _NotNpy
            fh.seek(0)
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                # a 4-byte header length: check it against the file before numpy reads that much
                header_len = int.from_bytes(fh.read(4), "little")
                if header_len > os.fstat(fh.fileno()).st_size - 12:
                    raise EOFError(f"header length {header_len} is past the end of the file")
                fh.seek(8)
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            data_bytes = os.fstat(fh.fileno()).st_size - fh.tell()
    except _NotNpy:
        raise BundleError("cannot load npy file: not a valid .npy file (no npy magic bytes)", path=path) from None
    except FileNotFoundError as err:
        raise BundleError("features file not found", path=path) from err
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as err:  # numpy tokenizes the header
        raise BundleError(f"cannot load npy file: invalid header: {str(err).lower().rstrip('.')}", path=path) from err
    if dtype.hasobject:
        raise BundleError("cannot load npy file: object arrays are refused (nothing is unpickled)", path=path)
    declared = dtype.itemsize * math.prod(shape)
    if declared > data_bytes:
        raise BundleError(
            f"cannot load npy file: the header declares shape {shape} of {dtype} ({declared} bytes) "
            f"but the file holds {data_bytes} bytes of data",
            path=path,
        )


def _load(path: Path) -> np.ndarray:
    if path.exists() and not path.is_file():
        raise BundleError("features file is not a regular file", path=path)
    _check_header(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError as err:
        raise BundleError("features file not found", path=path) from err
    except (ValueError, OSError, EOFError) as err:
        raise BundleError(f"cannot load npy file: {str(err).lower().rstrip('.')}", path=path) from err
    if not isinstance(arr, np.ndarray):
        raise BundleError("expected a single .npy array, got an .npz archive", path=path)
    return arr


def load_feature_arrays(x_path, y_path=None, *, n_features: int | None = None) -> FeatureArrays:
    """Load and validate one ``X``/``y`` pair.

    Parameters
    ----------
    x_path : str or os.PathLike
        ``X_<name>.npy``.
    y_path : str or os.PathLike, optional
        ``y_<name>.npy``.
    n_features : int, optional
        Expected number of features per row.

    Returns
    -------
    FeatureArrays

    Raises
    ------
    BundleError
        Unreadable file, object array, wrong dtype, wrong number of dimensions, non-finite
        features, a feature count other than ``n_features``, or ``y`` rows that do not match.
    """
    x_path = Path(x_path)
    x = _load(x_path)
    if x.dtype.kind not in "iuf":
        raise BundleError(f"features must be real numbers, got dtype {x.dtype}", path=x_path, field="X")
    if x.ndim != 2:
        raise BundleError(f"features must be 2-d (windows, features), got shape {x.shape}", path=x_path, field="X")
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    finite = np.isfinite(x)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise BundleError(f"features must be finite, got {x[row, col]!r}", path=x_path, field=f"X[{row}][{col}]")
    if n_features is not None and x.shape[1] != n_features:
        raise BundleError(f"expected {n_features} features per row, got {x.shape[1]}", path=x_path, field="X")
    y = None
    if y_path is not None:
        y_path = Path(y_path)
        y = _load(y_path)
        if y.dtype.kind not in "iufU" or y.ndim not in (1, 2):
            raise BundleError(f"labels must be a 1-d or 2-d numeric or string array, got {y.dtype} {y.shape}", path=y_path, field="y")
        if y.shape[0] != x.shape[0]:
            raise BundleError(f"labels have {y.shape[0]} rows but features have {x.shape[0]}", path=y_path, field="y")
    name = x_path.name[2:-4] if x_path.name.startswith(("X_", "x_")) and x_path.suffix == ".npy" else x_path.stem
    return FeatureArrays(name=name, x=x, y=y, x_path=x_path, y_path=y_path)
