"""Point numba's cache at a writable directory before numba is imported; load from it cheaply.

numba caches next to the source (``__pycache__``) by default; when the package directory is
read-only (system site-packages, a Nix store, a CI image) and ``NUMBA_CACHE_DIR`` is unset,
``cache=True`` fails with "no locator available". We then fall back to a per-user cache dir.

``loading_without_refresh``: numba refreshes its whole CPU target before it loads machine code
from the cache (numba 0.68 ``Cache.load_overload``): ~60 modules of lowering implementations
(``numba.np.arraymath`` imports ``scipy.linalg`` to check for BLAS) and every typing template.
Machine code read from the cache needs none of that, only numba's runtime (NRT), so a short
command that only loads cached kernels (``coco-eval``) skips 0.3-0.5 s of imports. A compile
(cache miss) still refreshes everything itself (``compile_extra``).
"""

from __future__ import annotations

import os
import tempfile


def _user_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "evalcore", "numba")


def ensure_cache_dir() -> None:
    """Set ``NUMBA_CACHE_DIR`` when it is unset and this package's directory is not writable."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = os.path.dirname(os.path.abspath(__file__))
    if os.access(here, os.W_OK):
        return
    for candidate in (_user_cache_dir(), _temp_cache_dir()):
        try:
            os.makedirs(candidate, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK) and owned_by_this_user(candidate):
            os.environ["NUMBA_CACHE_DIR"] = candidate
            return


def _temp_cache_dir() -> str:
    """A per-user folder in the shared temporary folder (numba's cache holds pickles and machine
    code: a folder another user made first must not be used).
    """
    suffix = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    return os.path.join(tempfile.gettempdir(), f"evalcore-numba{suffix}")


def owned_by_this_user(path, *, fd=None) -> bool:
    """Whether ``path`` (or the open ``fd``) belongs to this user (or root) and no one else may
    change it (not group- or world-writable). Always True where there are no POSIX owners.
    """
    if not hasattr(os, "getuid"):
        return True
    try:
        info = os.fstat(fd) if fd is not None else os.stat(path)
    except OSError:
        return False
    return info.st_uid in (os.getuid(), 0) and not info.st_mode & 0o022


ensure_cache_dir()


class loading_without_refresh:  # noqa: N801 - used like a function: ``with loading_without_refresh():``
    """While active, a dispatcher loading from the cache initialises only numba's runtime.

    For a single-threaded set-up step (it patches numba's ``Cache`` class for its duration).
    With a numba whose cache class has another shape, it changes nothing.
    """

    def __enter__(self):
        from numba.core import caching
        from numba.core.runtime import rtsys

        self._class = caching.Cache
        self._full = self._class.__dict__.get("load_overload")
        if self._full is None or not hasattr(self._class, "_load_overload") \
                or not hasattr(self._class, "_guard_against_spurious_io_errors"):
            self._full = None
            return self

        def load_overload(cache, sig, target_context):
            rtsys.initialize(target_context)  # what cached machine code needs (refresh() did it)
            with cache._guard_against_spurious_io_errors():
                return cache._load_overload(sig, target_context)

        self._class.load_overload = load_overload
        return self

    def __exit__(self, *exc_info):
        if self._full is not None:
            self._class.load_overload = self._full
        return False
