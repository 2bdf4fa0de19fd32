"""Tests for evalcore.data.features: precomputed X_*.npy / y_*.npy DSP output."""

from __future__ import annotations

import numpy as np
import pytest

from evalcore.data.features import find_feature_files, load_feature_arrays
from evalcore.errors import BundleError

SDK_MODELS = "edgeimpulse-python-sdk-sample-data/sample_models"


def test_pairs_x_and_y_by_name(tmp_path):
    """X_<name>.npy must pair with y_<name>.npy; an X without y pairs with None."""
    np.save(tmp_path / "X_testing.npy", np.zeros((2, 3), dtype=np.float32))
    np.save(tmp_path / "y_testing.npy", np.array([1, 2]))
    np.save(tmp_path / "X_training.npy", np.zeros((1, 3), dtype=np.float32))
    pairs = find_feature_files(tmp_path)
    assert pairs == {
        "testing": (tmp_path / "X_testing.npy", tmp_path / "y_testing.npy"),
        "training": (tmp_path / "X_training.npy", None),
    }


def test_load_keeps_float_dtype_and_checks_rows(tmp_path):
    """Float features must load without a dtype change; y rows must equal X rows."""
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "X_t.npy", x)
    np.save(tmp_path / "y_t.npy", np.array(["a", "b", "a", "c"]))
    arrays = load_feature_arrays(tmp_path / "X_t.npy", tmp_path / "y_t.npy", n_features=3)
    assert arrays.name == "t" and arrays.x.dtype == np.float32
    assert np.array_equal(arrays.x, x) and arrays.y.tolist() == ["a", "b", "a", "c"]


def test_integer_features_become_float64(tmp_path):
    """Integer feature files must be converted to float64 so the backends see real numbers."""
    np.save(tmp_path / "X_t.npy", np.array([[1, 2]], dtype=np.int16))
    assert load_feature_arrays(tmp_path / "X_t.npy").x.dtype == np.float64


def test_real_representative_features(real_dir):
    """The SDK's real float32 (3110, 39) feature file must load unchanged."""
    path = real_dir / SDK_MODELS / "accelerometer-representative.npy"
    arrays = load_feature_arrays(path, n_features=39)
    assert arrays.x.shape == (3110, 39) and arrays.x.dtype == np.float32
    assert np.array_equal(arrays.x, np.load(path))


def test_feature_count_mismatch(tmp_path):
    """A feature width other than the model's must be refused before inference."""
    np.save(tmp_path / "X_t.npy", np.zeros((2, 5)))
    with pytest.raises(BundleError, match="expected 4 features per row, got 5"):
        load_feature_arrays(tmp_path / "X_t.npy", n_features=4)


def test_label_rows_mismatch(tmp_path):
    """y with another row count than X must be refused, naming the y file."""
    np.save(tmp_path / "X_t.npy", np.zeros((2, 5)))
    np.save(tmp_path / "y_t.npy", np.zeros(3))
    with pytest.raises(BundleError, match="labels have 3 rows but features have 2") as err:
        load_feature_arrays(tmp_path / "X_t.npy", tmp_path / "y_t.npy")
    assert err.value.path.endswith("y_t.npy")
