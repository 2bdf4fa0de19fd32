"""Error types of evalcore: one root, subclasses that also inherit the matching built-in.

Messages are lowercase, without a trailing period, and say what was got and what is allowed.
The CLI maps ``EvalcoreError`` to exit code 2 (bad input); any other exception is a bug (exit 1).
"""

from __future__ import annotations

import functools

__all__ = [
    "EvalcoreError",
    "ConfigError",
    "MergeError",
    "BundleError",
    "ModelError",
    "BackendUnavailableError",
    "WorkerDiedError",
]


class EvalcoreError(Exception):
    """Root of every error evalcore raises on purpose."""


class ConfigError(EvalcoreError, ValueError):
    """A command-line or configuration value is invalid."""


class MergeError(ConfigError):
    """Two accumulators (or shard states) cannot be merged; the message names the first field
    that differs, e.g. ``cannot merge: n_classes differs (4 vs 5)``.
    """


class BundleError(EvalcoreError, ValueError):
    """A bundle file is missing, unreadable or invalid.

    Parameters
    ----------
    message : str
        What is wrong, lowercase, no trailing period.
    path : str or os.PathLike, optional
        The file concerned.
    sample : str, optional
        The sample (file name or id) concerned.
    field : str, optional
        The field (JSON path, column, tensor name) concerned.
    """

    def __init__(self, message: str, *, path=None, sample=None, field=None):
        self.message = message
        self.path = None if path is None else str(path)
        self.sample = sample
        self.field = field
        super().__init__(self._render())

    def __reduce__(self):
        # keeps path/sample/field when the error crosses a process boundary (``--workers``)
        rebuild = functools.partial(type(self), self.message, path=self.path, sample=self.sample, field=self.field)
        return rebuild, ()

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.sample is not None:
            where.append(f"sample {self.sample}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{self.message} ({', '.join(where)})" if where else self.message


class ModelError(EvalcoreError, ValueError):
    """A model file cannot be loaded or its inputs/outputs do not fit the impulse."""


class BackendUnavailableError(EvalcoreError, ImportError):
    """An optional runtime is not installed; the message names the extra to install."""


class WorkerDiedError(EvalcoreError, RuntimeError):
    """A ``--workers`` process died (killed for memory, a crash in a native reader library, or a
    spawned worker that could not start); the message names the samples it was reading.
    """
