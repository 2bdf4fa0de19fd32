"""Studio DSP config values -> typed block parameters, and the errors for what is not supported."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from evalcore.dsp import (
    PARAMETER_SPECS,
    SUPPORTED_VERSIONS,
    apply_normalize_data,
    generate_features,
    params_from_dsp_config,
)
from evalcore.errors import ConfigError
from tests.conftest import REPO_ROOT


def test_studio_strings_become_typed_values():
    """Without this, Studio's string values ("6", "true", "0.02") would reach the blocks untyped."""
    params = params_from_dsp_config("spectral-analysis", 4, {
        "scale-axes": "0.5", "filter-type": "low", "filter-cutoff": "3", "filter-order": "6",
        "fft-length": "128", "do-log": "false", "do-fft-overlap": "true", "extra-low-freq": "False",
        "spectral-power-edges": "0.1, 0.5, 1.0", "wavelet": "db4",
    })
    assert params["scale_axes"] == 0.5 and type(params["scale_axes"]) is float
    assert params["filter_order"] == 6 and type(params["filter_order"]) is int
    assert params["fft_length"] == 128 and params["do_log"] is False and params["do_fft_overlap"] is True
    assert params["extra_low_freq"] is False and params["filter_type"] == "low"
    assert params["spectral_peaks_count"] == 3  # left out -> Studio default


def test_underscore_names_and_js_number_forms():
    """Without this, MFE/MFCC configs (underscore names) or JS-formatted numbers would be rejected."""
    params = params_from_dsp_config("mfcc", 4, {"frame_length": "0.025", "num_filters": "40", "pre_cof": "1e-1",
                                                "fft_length": "512.0"})
    assert params["frame_length"] == 0.025 and params["num_filters"] == 40
    assert params["pre_cof"] == 0.1 and params["fft_length"] == 512


def test_defaults_are_studio_defaults():
    """Without this, a config that leaves a parameter out would get a value Studio never uses."""
    assert params_from_dsp_config("mfe", 4, {}) == {
        "frame_length": 0.02, "frame_stride": 0.01, "num_filters": 40, "fft_length": 256,
        "low_frequency": 0.0, "high_frequency": 0.0, "win_size": 101, "noise_floor_db": -52.0,
    }
    assert params_from_dsp_config("image", 1, {}) == {"channels": "RGB"}


@pytest.mark.parametrize(("block", "version", "values", "field"), [
    ("mfe", 4, {"num-filter": "40"}, "num-filter"),
    ("flatten", 1, {"rms": "maybe"}, "rms"),
    ("spectral-analysis", 4, {"filter-order": "6.5"}, "filter-order"),
    ("spectral-analysis", 4, {"filter-type": "band"}, "filter-type"),
    ("spectral-analysis", 4, {"input-decimation-ratio": "7"}, "input-decimation-ratio"),
    ("spectrogram", 4, {"fft_length": "nan"}, "fft_length"),
    ("image", 1, {"channels": "CMYK"}, "channels"),
    ("raw", 1, {"scale-axes": "1", "scale_axes": "2"}, "scale_axes"),
])
def test_bad_values_name_block_and_field(block, version, values, field):
    """Without this, a typo in a DSP config would surface as a crash deep in a block, not as a config error.

    The field is named as the config spells it (``num-filter``), not by its Python name.
    """
    with pytest.raises(ConfigError) as info:
        params_from_dsp_config(block, version, values)
    assert block in str(info.value) and field in str(info.value)


@pytest.mark.parametrize(("block", "version"), [("mfe", 5), ("raw", 2), ("mfcc", 0), ("custom-block", 1)])
def test_unknown_block_or_version(block, version):
    """Without this, an impulse with a newer block version would be computed with the wrong algorithm."""
    with pytest.raises(ConfigError, match=block):
        params_from_dsp_config(block, version, {})


def test_every_block_has_specs_and_versions():
    """Without this, a block added to one table but not the other would fail only at run time."""
    assert set(PARAMETER_SPECS) == set(SUPPORTED_VERSIONS)


def test_generate_features_rejects_unknown_keyword():
    """Without this, a misspelt keyword argument would silently fall back to the default."""
    with pytest.raises(ConfigError, match="scale_axis"):
        generate_features("raw", 1, [1.0, 2.0], ["x"], 100, scale_axis=2)


def test_normalize_data():
    """Without this, a block whose features Studio standard-scales would be fed to the model unscaled."""
    features = np.ones((2, 3), dtype=np.float32)
    assert apply_normalize_data(features, "none") is features
    with pytest.raises(ConfigError, match="normalize-channel-standard-scaler"):
        apply_normalize_data(features, "normalize-channel-standard-scaler")
    with pytest.raises(ConfigError, match="normalizeData"):
        apply_normalize_data(features, "zscore")


def test_import_is_light():
    """Without this, importing evalcore.dsp would pull scipy, PyWavelets and Pillow into every command."""
    code = ("import sys, evalcore.dsp; heavy = [m for m in ('scipy', 'pywt', 'PIL', 'numba') if m in sys.modules];"
            "print(heavy); sys.exit(1 if heavy else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_wavelet_without_pywavelets_names_the_extra(monkeypatch):
    """Without this, a missing optional dependency would surface as a bare ImportError deep in the block."""
    from evalcore.dsp import _api
    from evalcore.dsp._api import _plan
    from evalcore.errors import BackendUnavailableError

    _plan.cache_clear()
    monkeypatch.setattr(_api, "_PREPARED", {})  # generate_features' fast path would skip the plan
    monkeypatch.setitem(sys.modules, "pywt", None)  # makes `import pywt` fail
    window = np.random.default_rng(0).standard_normal(300)
    with pytest.raises(BackendUnavailableError, match="PyWavelets"):
        generate_features("spectral-analysis", 4, window, ["x"], 100, analysis_type="Wavelet")
    _plan.cache_clear()


def test_window_not_whole_readings():
    """Without this, a window cut mid-reading would be reshaped into the wrong axes."""
    with pytest.raises(ConfigError, match="whole readings"):
        generate_features("flatten", 1, np.zeros(7), ["x", "y"], 100)
    with pytest.raises(ConfigError, match="whole readings"):
        generate_features("spectral-analysis", 2, np.zeros(7), ["x", "y"], 100)


@pytest.mark.parametrize("valid, invalid", [({"rms": True}, {"rms": 1}), ({"scale_axes": 1}, {"scale_axes": True})])
def test_fast_path_does_not_accept_an_equal_value_of_another_type(valid, invalid):
    """Without this, `rms=1` would pass once `rms=True` had been seen (True == 1 as a cache key)."""
    window = np.arange(12.0)
    generate_features("flatten", 1, window, ["x", "y"], 100, **valid)
    generate_features("flatten", 1, window, ["x", "y"], 100, **valid)  # now on the fast path
    with pytest.raises(ConfigError):
        generate_features("flatten", 1, window, ["x", "y"], 100, **invalid)


def test_fast_path_returns_fresh_objects_and_converts_integers():
    """Without this, a caller changing one result would change the next, or integer windows would differ."""
    window = np.arange(600) % 7 - 3
    first = generate_features("spectral-analysis", 4, window.astype(np.float64), ["x", "y", "z"], 100)
    expected = {key: (value.copy() if key == "features" else json.loads(json.dumps(value)))
                for key, value in first.items()}
    first["labels"].append("changed")
    first["fft_used"].append(0)
    first["output_config"]["shape"]["width"] = 0
    for window_of_type in (window.astype(np.float64), window, window.astype(np.int16)):
        again = generate_features("spectral-analysis", 4, window_of_type, ["x", "y", "z"], 100)
        assert again["features"].dtype == np.float64
        np.testing.assert_array_equal(again["features"], expected["features"])
        assert {k: v for k, v in again.items() if k != "features"} == \
            {k: v for k, v in expected.items() if k != "features"}


def test_cached_configurations_do_not_leak_across_parameters(monkeypatch):
    """Without this, a plan, fast-path entry or FFT table cached for one parameter set could serve another.

    Spectrogram configurations that differ in one value each (version, noise floor, FFT length,
    frame length and stride, rate, window length) are called in turn, twice, after each was
    computed alone with every cache empty; every call must give its own configuration's features.
    """
    from evalcore.dsp import _api
    from evalcore.dsp._api import _plan
    from evalcore.dsp._spectrogram_kernels import fft_tables

    base = {"frame_length": 0.02, "frame_stride": 0.01, "fft_length": 16, "noise_floor_db": -52.0}
    configs = [(3, 1000, 400, base), (4, 1000, 400, base), (1, 1000, 400, base), (2, 1000, 400, base),
               (3, 1000, 400, {**base, "noise_floor_db": -30.0}), (3, 1000, 400, {**base, "fft_length": 32}),
               (3, 1000, 400, {**base, "frame_length": 0.01}), (3, 1000, 400, {**base, "frame_stride": 0.02}),
               (3, 2000, 400, base), (3, 1000, 300, base), (3, 1000, 400, {**base, "noise_floor_db": -52})]
    window = np.round(8000 * np.sin(np.arange(400) * 0.37) + 50 * np.cos(np.arange(400) * 2.1))

    def clear():
        _plan.cache_clear()
        fft_tables.cache_clear()
        monkeypatch.setattr(_api, "_PREPARED", {})

    expected = []
    for version, rate, n, params in configs:
        clear()
        expected.append(generate_features("spectrogram", version, window[:n], ["audio"], rate, **params))
    assert len({e["features"].tobytes() for e in expected}) == len(configs) - 1  # only the int floor repeats
    clear()
    for _ in range(2):
        for (version, rate, n, params), want in zip(configs, expected):
            got = generate_features("spectrogram", version, window[:n], ["audio"], rate, **params)
            np.testing.assert_array_equal(got["features"], want["features"])
            assert got["output_config"] == want["output_config"] and got["fft_used"] == want["fft_used"]
            batch = _api.compute_features("spectrogram", version, np.stack([window[:n]] * 2), ["audio"], rate, params)
            np.testing.assert_array_equal(batch, np.stack([want["features"].astype(np.float32)] * 2))
