"""Naive references: slow, clearly correct plain-Python loops written from each kernel's spec.

Every kernel in ``kernels/`` has a ``naive_<kernel>`` here; tests compare the two on random
inputs and on named edge cases. Keep each family in its own section.
"""

from __future__ import annotations

import math  # noqa: F401

import numpy as np  # noqa: F401

# --- confusion / ranking (kernels.confusion, kernels.ranking) -------------------------------

# --- anomaly (kernels.anomaly) ---------------------------------------------------------------

# --- boxes / COCO (kernels.boxes) ------------------------------------------------------------

# --- centroids / FOMO (kernels.centroids) ----------------------------------------------------
