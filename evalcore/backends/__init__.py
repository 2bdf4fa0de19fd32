"""Model backends: one interface over onnxruntime, LiteRT (TensorFlow Lite) and Akida.

``load_backend(path, variant=..., threads=..., **opts)`` picks the engine by file extension and
returns a :class:`Backend`; runtimes are imported only when a model of their kind is loaded.
"""

from evalcore.backends.base import Backend
from evalcore.backends.factory import load_backend

__all__ = ["Backend", "load_backend"]
