"""evalcore: Edge Impulse Model testing, offline.

The package stays import-light: heavy modules (numba, onnxruntime, scipy) are imported by the
functions that need them, so ``evalcore --help`` starts fast.
"""

__version__ = "0.1.0"
