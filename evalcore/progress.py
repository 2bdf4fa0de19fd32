"""A small progress bar on stderr for long runs.

Redrawn at most ten times a second, only when stderr is a terminal (a log file gets one line at
the end instead), and silent with ``--quiet``. No dependency: tqdm would be one more install for
one line of output.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts work done out of ``total`` and draws ``label [#####.....] 512/1024 12.3/s``.

    Parameters
    ----------
    total : int
        Units of work expected (samples, windows).
    label : str
        Shown before the bar.
    enabled : bool, default=True
        False draws nothing (``--quiet``).
    stream : file, optional
        Where to draw; default ``sys.stderr``.
    """

    _MIN_REDRAW_S = 0.1

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.is_tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units done and redraw when due."""
        self.done += n
        if not self.is_tty:
            return
        now = time.perf_counter()
        if now - self._last_draw >= self._MIN_REDRAW_S or self.done >= self.total:
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        frac = 1.0 if self.total == 0 else min(self.done / self.total, 1.0)
        filled = int(frac * width)
        rate = self.done / max(now - self._start, 1e-9)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:,.1f}/s")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (terminal) or write one summary line (log file)."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self._start
        if self.is_tty:
            self._draw(time.perf_counter())
            self.stream.write("\n")
        else:
            self.stream.write(f"{self.label}: {self.done}/{self.total} in {elapsed:.2f} s\n")
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
