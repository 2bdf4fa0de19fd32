"""kernels.cmvn: the two sliding-window normalisation passes against the naive speechpy loop."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.cmvn import sliding_mean_centre, sliding_std_scale
from tests.naive import naive_sliding_normalize


@pytest.mark.parametrize("win_size", [1, 5, 31])
def test_cmvn_passes_match_naive(win_size):
    """Without it a change to the kernels' sum order would shift MFE/MFCC features by an ulp."""
    rng = np.random.default_rng(win_size)
    values = rng.standard_normal((2, 23, 7)) * 5 + 1
    pad = (win_size - 1) // 2
    rows = np.pad(np.arange(values.shape[1]), pad, mode="symmetric").astype(np.int64)
    centred = sliding_mean_centre(values, rows, win_size)
    scaled = sliding_std_scale(centred, rows, win_size)
    for w in range(values.shape[0]):
        assert centred[w].tobytes() == naive_sliding_normalize(values[w], win_size, False).tobytes()
        assert scaled[w].tobytes() == naive_sliding_normalize(values[w], win_size, True).tobytes()
