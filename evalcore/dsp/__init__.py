"""Edge Impulse's DSP (processing) blocks, re-implemented with numpy and scipy.

One module per block (``raw``, ``flatten``, ``spectral``, ``spectrogram``, ``mfe``, ``mfcc``,
``image``), matching Edge Impulse's public processing-blocks at commit 9b0ceb2 within the
tolerances of ``shared/golden/dsp/README.md``. Written from that README's description and the
golden data, not from Edge Impulse's code.

Public entry points:

- :func:`generate_features` -- one window, Edge Impulse's calling convention and return dict;
- :func:`compute_features` -- many windows at once, float32 (W, F), bit-equal to the former;
- :func:`params_from_dsp_config` -- Studio's DSP config strings to typed keyword arguments;
- :func:`image_features`, :func:`resize_image` -- the image block and the input block's resize;
- :func:`apply_normalize_data` -- ``DSPInfo.normalizeData``.
"""

from evalcore.dsp._api import (
    NORMALIZE_DATA_MODES,
    apply_normalize_data,
    compute_features,
    generate_features,
    get_plan,
)
from evalcore.dsp.image import image_features, resize_image
from evalcore.dsp.params import PARAMETER_SPECS, SUPPORTED_VERSIONS, params_from_dsp_config

__all__ = [
    "NORMALIZE_DATA_MODES",
    "PARAMETER_SPECS",
    "SUPPORTED_VERSIONS",
    "apply_normalize_data",
    "compute_features",
    "generate_features",
    "get_plan",
    "image_features",
    "params_from_dsp_config",
    "resize_image",
]
