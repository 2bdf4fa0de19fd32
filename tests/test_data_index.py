"""Tests for evalcore.data.index.load_dataset on real exports and small built layouts."""

from __future__ import annotations

import json

import pytest

from evalcore.data import load_dataset
from evalcore.data.records import BoundingBox, LabelInfo
from evalcore.errors import ConfigError

SDK = "edgeimpulse-python-sdk-sample-data/sample_data"


def _write_info(folder, files, version=1):
    doc = {"files": files} if version is None else {"version": version, "files": files}
    (folder / "info.labels").write_text(json.dumps(doc))


def _touch(path, content=b"{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def test_real_image_export_testing_category(real_dir):
    """The image export's testing set must be the 3 testing entries with ids 1..3 in info.labels order."""
    index = load_dataset(real_dir / SDK / "dataset")
    assert [r.id for r in index] == [1, 2, 3]
    assert [r.filename for r in index] == ["0_0.png.28kmrth3", "16_12.png.28kmss20", "14_8.png.28kmtpkc"]
    assert [r.label.label for r in index] == ["background", "capacitor", "diode"]
    assert all(r.path.is_file() and r.path.is_absolute() for r in index)
    assert index[0].rel_path == "testing/background.0_0.png.28kmrth3.ingestion-56f58bdc98-dh5w7.jpg"


def test_ids_do_not_depend_on_the_category_asked(real_dir):
    """Training samples must keep the ids they have in the full index (positions 4..6)."""
    full = load_dataset(real_dir / SDK / "dataset", category=None)
    training = load_dataset(real_dir / SDK / "dataset", category="training")
    assert [r.id for r in training] == [4, 5, 6]
    assert [full.by_id()[r.id] for r in training] == list(training.records)


def test_real_gestures_without_info_labels(real_dir):
    """Without info.labels the label is the file-name prefix, ids follow sorted names, odd extensions are skipped."""
    index = load_dataset(real_dir / SDK / "gestures")
    names = [r.filename for r in index]
    assert names[:5] == ["idle.0", "idle.1", "idle.2", "idle.3", "shake.0"]
    assert [r.id for r in index] == list(range(1, 16))
    assert {r.label.label for r in index} == {"idle", "shake", "snake", "updown", "wave"}
    assert all(r.label_source == "file-name" and r.category == "testing" for r in index)
    assert index.skipped == ("testing/idle.0.wrong",)
    training = load_dataset(real_dir / SDK / "gestures", category="training")
    assert training[0].id == 16
    assert [r.filename for r in training][:3] == ["idle.0", "idle.1", "idle.10"]


def test_real_flat_object_detection_folder(real_dir):
    """A flat folder with bounding_boxes.labels must give its images as testing samples with their boxes."""
    index = load_dataset(real_dir / SDK / "object_detection")
    assert len(index) == 2
    assert index[0].bounding_boxes[0] == BoundingBox("dog", 69, 155, 102, 137)
    assert len(index[1].bounding_boxes) == 3
    assert load_dataset(real_dir / SDK / "object_detection", category="training", root_category="training")[0].id == 1


def test_real_coffee_multi_label(real_dir):
    """The coffee export must give 3 multi-label testing samples with their info.labels names."""
    index = load_dataset(real_dir / SDK / "coffee")
    assert [r.filename for r in index] == [
        "coffeemachine_multilabel_4", "coffeemachine_multilabel_3", "coffeemachine_multilabel_1"]
    assert all(r.label.kind == "multi-label" for r in index)


def test_per_folder_info_labels(tmp_path):
    """A category folder's own info.labels (paths relative to it) must be used, ids in folder order."""
    _touch(tmp_path / "testing" / "x.1.json")
    _touch(tmp_path / "training" / "y.1.json")
    _write_info(tmp_path / "testing", [{"path": "x.1.json", "category": "testing", "label": {"type": "label", "label": "five"}}])
    index = load_dataset(tmp_path, category=None)
    assert [(r.id, r.rel_path, r.label.label, r.label_source) for r in index] == [
        (1, "testing/x.1.json", "five", "info.labels"),
        (2, "training/y.1.json", "y", "file-name"),
    ]


def test_bounding_boxes_file_wins_over_info_labels(tmp_path):
    """As in the uploader, a folder's bounding_boxes.labels entry must win over the info.labels boxes."""
    _touch(tmp_path / "testing" / "a.jpg")
    _touch(tmp_path / "testing" / "b.jpg")
    box = {"label": "dog", "x": 1, "y": 2, "width": 3, "height": 4}
    _write_info(tmp_path, [
        {"path": "testing/a.jpg", "category": "testing", "label": {"type": "label", "label": "a"},
         "boundingBoxes": [dict(box, label="cat")]},
        {"path": "testing/b.jpg", "category": "testing", "label": {"type": "label", "label": "b"},
         "boundingBoxes": [dict(box, label="cat")]},
    ])
    (tmp_path / "testing" / "bounding_boxes.labels").write_text(
        json.dumps({"version": 1, "type": "bounding-box-labels", "boundingBoxes": {"a.jpg": [box]}}))
    index = load_dataset(tmp_path)
    assert index[0].bounding_boxes == (BoundingBox("dog", 1, 2, 3, 4),)
    assert index[1].bounding_boxes == (BoundingBox("cat", 1, 2, 3, 4),)


def test_split_category_takes_the_folder(tmp_path):
    """Entries with category 'split' must take the category of their top folder."""
    _touch(tmp_path / "training" / "a.json")
    _write_info(tmp_path, [{"path": "training/a.json", "category": "split", "label": {"type": "unlabeled"}}])
    index = load_dataset(tmp_path, category="training")
    assert index[0].category == "training"
    assert index[0].label == LabelInfo.unlabeled()


def test_name_missing_uses_file_name_without_extension(tmp_path):
    """Without a name, filename must be the file name minus its last extension (Studio's upload name)."""
    _touch(tmp_path / "testing" / "idle.rec1.cbor")
    _write_info(tmp_path, [{"path": "testing/idle.rec1.cbor", "category": "testing", "label": {"type": "label", "label": "idle"}}])
    assert load_dataset(tmp_path)[0].filename == "idle.rec1"


def test_normalised_path_inside_folder_is_accepted(tmp_path):
    """A path with a harmless '..' that stays inside the folder must resolve to the file."""
    _touch(tmp_path / "testing" / "a.json")
    _write_info(tmp_path, [{"path": "training/../testing/a.json", "category": "testing", "label": {"type": "unlabeled"}}])
    assert load_dataset(tmp_path)[0].rel_path == "testing/a.json"


def test_unknown_category_argument():
    """An unknown category argument is a configuration error, not an empty result."""
    with pytest.raises(ConfigError, match="category must be one of"):
        load_dataset(".", category="test")


def _listed_error(tmp_path, entries):
    from evalcore.errors import BundleError

    _write_info(tmp_path / "data", [{"category": "testing", "label": {"type": "unlabeled"}, **e} for e in entries])
    with pytest.raises(BundleError) as err:
        load_dataset(tmp_path / "data")
    return err.value


def test_plain_and_normalised_paths_are_held_to_the_same_checks(tmp_path):
    """Without it the concatenation taken for plain paths (most entries of an export) could let
    through what the normalising path refuses: a second name for one file, a link out of the
    folder (the file itself or its folder), a Windows absolute path."""
    import os

    data = tmp_path / "data"
    _touch(data / "testing" / "a.json")
    _touch(data / "testing" / "b.json")
    _touch(tmp_path / "outside" / "c.json")
    os.symlink(tmp_path / "outside" / "c.json", data / "testing" / "out.json")
    os.symlink(tmp_path / "outside", data / "elsewhere")
    os.symlink(data / "testing" / "b.json", data / "testing" / "in.json")
    os.mkfifo(data / "testing" / "pipe.json")
    entries = [{"path": p} for p in ("testing/a.json", "./testing/b.json", "testing//in.json")]
    _write_info(data, [{"category": "testing", "label": {"type": "unlabeled"}, **e} for e in entries])
    index = load_dataset(data)
    assert [r.rel_path for r in index] == ["testing/a.json", "testing/b.json", "testing/in.json"]
    assert [r.file for r in index] == [str(data / "testing" / n) for n in ("a.json", "b.json", "in.json")]
    assert [r.filename for r in index] == ["a", "b", "in"]
    cases = {
        ("testing/a.json", "testing/./a.json"): "file listed twice",
        ("testing/./a.json", "testing/a.json"): "file listed twice",
        ("testing/out.json",): "symbolic link leads outside",
        ("elsewhere/c.json",): "symbolic link leads outside",
        ("testing/pipe.json",): "not a regular file",
        ("testing/gone.json",): "not found",
        ("testing/a.json/x",): "not found",
        ("C:testing/a.json",): "must be relative",
        ("\\testing/a.json",): "must be relative",
        ("testing/../../outside/c.json",): "escapes the dataset folder",
    }
    for paths, message in cases.items():
        err = _listed_error(tmp_path, [{"path": p} for p in paths])
        assert message in err.message and err.sample == paths[-1] and err.field == "path", (paths, err)
    _write_info(data, [{"category": "testing", "label": {"type": "unlabeled"}, "path": p}
                       for p in ("testing/out.json", "elsewhere/c.json")])
    assert [r.rel_path for r in load_dataset(data, follow_links=True)] == ["testing/out.json", "elsewhere/c.json"]
