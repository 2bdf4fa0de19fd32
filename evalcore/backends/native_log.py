"""Keep the model runtimes' native INFO lines off stderr when a run is quiet.

LiteRT writes ``INFO: Created TensorFlow Lite XNNPACK delegate for CPU.`` from C++ straight to
file descriptor 2 when its first interpreter is built; no Python logger or environment variable
reaches it. ``evalcore run -q`` promises nothing but errors on stderr, so while a runtime loads a
model, :func:`drop_native_info` points descriptor 2 at a temporary file, then writes back every
line that is not an ``INFO:`` line (warnings and errors still reach the user, in order).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

__all__ = ["drop_native_info"]

_DROPPED_PREFIXES = (b"INFO: ",)


@contextlib.contextmanager
def drop_native_info(enabled: bool = True):
    """Filter native ``INFO:`` lines out of stderr for the duration of the block.

    Parameters
    ----------
    enabled : bool, default True
        False leaves stderr alone (the block runs as is).
    """
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2 (embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().splitlines(keepends=True)
                    if not line.startswith(_DROPPED_PREFIXES)]
            if kept:
                os.write(2, b"".join(kept))
