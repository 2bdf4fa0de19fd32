"""Numerical kernels: numpy arrays in, numpy arrays out, numba ``@njit(cache=True)`` inside.

No import of evalcore or pydantic, no I/O, no printing. Import a submodule
(``kernels.confusion``, ``kernels.besdev_ap``, ...) to use its kernels; importing ``kernels`` alone
compiles nothing.
"""

from kernels import _cache  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
