"""Point numba's cache at a writable directory before numba is imported.

numba caches next to the source (``__pycache__``) by default; when the package directory is
read-only (system site-packages, a Nix store, a CI image) and ``NUMBA_CACHE_DIR`` is unset,
``cache=True`` fails with "no locator available". We then fall back to a per-user cache dir.
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
    for candidate in (_user_cache_dir(), os.path.join(tempfile.gettempdir(), "evalcore-numba")):
        try:
            os.makedirs(candidate, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            os.environ["NUMBA_CACHE_DIR"] = candidate
            return


ensure_cache_dir()
