"""Build the sample index of an Edge Impulse dataset export: ``load_dataset``.

Where labels come from (first rule that applies):

1. ``<dataset>/info.labels`` (JSON or NDJSON): its entries are the samples, paths relative to
   the dataset folder. Nothing else is scanned.
2. Otherwise each folder is read on its own: the dataset folder itself (files lying directly in
   it, e.g. the flat ``object_detection/`` export) and the category folders ``testing/``,
   ``training/``, ``validation/``. A folder with its own ``info.labels`` uses it (paths
   relative to that folder). A folder without one is scanned: every non-hidden file whose
   extension is a sample extension (``.json .cbor .wav .jpg .jpeg .png .bmp``) is a sample
   labelled with its file-name prefix before the first ``.`` (``idle.0.cbor`` -> ``idle``), the
   edge-impulse uploader's "infer" rule. Other files are listed in ``DatasetIndex.skipped``;
   file contents are sniffed at load time, so a ``.jpg`` holding PNG bytes is fine.
3. Bounding boxes: a ``bounding_boxes.labels`` in the file's folder that lists the file's base
   name wins over the entry's ``boundingBoxes`` (the uploader's precedence).

Category: the entry's ``category``; ``split`` entries take the category of their top folder
(``training/``, ``testing/``, ``validation/``) and are refused elsewhere. Scanned files take
their folder's name; files directly in the dataset folder take ``root_category`` (default
``testing``: the job evaluates the test set).

Sample ids (``SampleRecord.id``) are 1-based positions in the canonical order of the whole
export, before the category filter, so a sample keeps its id whichever category is asked for:
the order of the root ``info.labels`` entries; without one, folders in the order root,
``testing``, ``training``, ``validation``, and within a folder its ``info.labels`` order or
else file names sorted by code point (``idle.10`` before ``idle.2``).

``filename`` (Studio's sample name) is the entry's ``name`` when given, else the file name
without its last extension (``idle.0.cbor`` -> ``idle.0``), which is the name Studio shows
after an upload.

Safety: a listed path must be relative and stay inside its base folder after normalisation
(``..`` that escapes is refused). The same rule holds after symbolic links are resolved: a
sample, a label file or a category folder that links outside the dataset folder is refused
unless ``follow_links=True``. A listed file that does not exist, or is not a regular file (a
FIFO, a device), is an error at index time; data is read lazily.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from evalcore.data.labels_files import (
    InfoEntry,
    read_bounding_boxes_labels,
    read_info_labels,
)
from evalcore.data.records import BoundingBox, DatasetIndex, LabelInfo, RecordTable, SampleRecord
from evalcore.errors import BundleError, ConfigError

__all__ = ["CATEGORY_FOLDERS", "SAMPLE_EXTENSIONS", "load_dataset"]

SAMPLE_EXTENSIONS = (".json", ".cbor", ".wav", ".jpg", ".jpeg", ".png", ".bmp")
CATEGORY_FOLDERS = ("testing", "training", "validation")
CATEGORIES = ("training", "testing", "validation", "post-processing")
INFO_LABELS = "info.labels"
BOXES_LABELS = "bounding_boxes.labels"


def _strip_last_extension(name: str) -> str:
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


class LinkFence:
    """Refuses paths whose real location (symbolic links resolved) leaves a folder.

    ``os.path.realpath`` costs ~70 us a file; real folders are cached per fence, so a file that
    is not itself a link costs one ``lstat``.

    Parameters
    ----------
    folder : str
        The folder every path must stay in (itself possibly reached through a link).
    """

    def __init__(self, folder: str) -> None:
        self.real = os.path.realpath(folder)
        self._prefix = self.real.rstrip(os.sep) + os.sep
        self._real_dirs: dict[str, str] = {}
        self._holds: dict[str, bool] = {}

    def holds_folder(self, folder: str) -> bool:
        """Whether ``folder`` resolves to the fence's folder or inside it (cached per folder):
        then every file in it that is not itself a link passes `check`.
        """
        held = self._holds.get(folder)
        if held is None:
            real = self._real_dirs.get(folder)
            if real is None:
                real = self._real_dirs[folder] = os.path.realpath(folder)
            held = self._holds[folder] = real == self.real or real.startswith(self._prefix)
        return held

    def check(self, path: str, *, sample: str | None = None, field: str | None = None,
              is_link: bool | None = None) -> None:
        """Raise `BundleError` when ``path`` resolves outside the folder.

        ``is_link``: whether ``path`` itself is a link, when the caller already knows (saves an
        ``lstat``).
        """
        parent, name = os.path.split(path)
        real_parent = self._real_dirs.get(parent)
        if real_parent is None:
            real_parent = self._real_dirs[parent] = os.path.realpath(parent)
        if is_link is None:
            is_link = os.path.islink(path)
        real = os.path.realpath(path) if is_link else os.path.join(real_parent, name)
        if real != self.real and not real.startswith(self._prefix):
            raise BundleError(
                f"symbolic link leads outside the dataset folder, to {real} (pass --follow-links to allow links)",
                path=path, sample=sample, field=field,
            )


def check_link_inside(path: str, fence: LinkFence | None, *, sample: str | None = None, field: str | None = None) -> None:
    """``fence.check(path)``; no fence (``follow_links=True``) accepts any link."""
    if fence is not None:
        fence.check(path, sample=sample, field=field)


def _resolve_listed(base: str, rel: str, root: str, labels_path: Path, confine: LinkFence | None) -> tuple[str, str]:
    """Absolute and root-relative POSIX path of a listed file, refusing paths that escape ``base``.

    String operations only (no pathlib objects): this runs once per entry of exports with
    tens of thousands of files.
    """
    _refuse_absolute(rel, labels_path)
    full = os.path.normpath(os.path.join(base, rel))
    if not full.startswith(base.rstrip(os.sep) + os.sep):
        raise BundleError(f"path escapes the dataset folder: {rel!r}", path=labels_path, sample=rel, field="path")
    _check_listed_file(full, rel, labels_path, confine, None)
    rel_root = full[len(root.rstrip(os.sep)) + 1 :]
    return full, rel_root if os.sep == "/" else rel_root.replace(os.sep, "/")


def _refuse_absolute(rel: str, labels_path: Path) -> None:
    if rel[:1] in ("/", "\\") or (len(rel) > 1 and rel[1] == ":" and rel[0].isalpha()):
        raise BundleError(f"path must be relative to the dataset folder, got {rel!r}", path=labels_path, sample=rel, field="path")


def _check_listed_file(full: str, rel: str, labels_path: Path, confine: LinkFence | None, folder: str | None) -> None:
    """One ``lstat``: the listed file is there, a regular file, and (``confine``) not a link
    out of the dataset folder. ``folder``: the file's folder when the caller has it (the link
    fence then checks only files that are links, or lie in a folder that is not held).
    """
    try:  # one lstat per entry: is it there, a link, a regular file
        mode = os.lstat(full).st_mode
        is_link = stat.S_ISLNK(mode)
        if confine is not None and (folder is None or is_link or not confine.holds_folder(folder)):
            confine.check(full, sample=rel, field="path", is_link=is_link)
        if is_link:
            mode = os.stat(full).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise BundleError(f"file listed in {INFO_LABELS} not found: {rel!r}", path=labels_path, sample=rel, field="path") from None
    if not stat.S_ISREG(mode):  # a FIFO would block the reader, a device never ends
        raise BundleError(f"file listed in {INFO_LABELS} is not a regular file: {rel!r}", path=labels_path, sample=rel, field="path")


def _is_plain(rel: str) -> bool:
    """True when joining ``rel`` to a normalised folder needs no normalisation: POSIX, relative,
    no empty, ``.`` or ``..`` part (no part starts with a dot), no trailing separator.
    """
    return (os.sep == "/" and not rel.startswith("/") and "//" not in rel and not rel.endswith("/")
            and not rel.startswith(".") and "/." not in rel)


def _category_of_split(rel_root: str, labels_path: Path, rel: str) -> str:
    top = rel_root.split("/", 1)[0]
    if top in CATEGORY_FOLDERS:
        return top
    raise BundleError(
        "category 'split' needs the file to lie in training/, testing/ or validation/",
        path=labels_path,
        sample=rel,
        field="category",
    )


class _BoxCache:
    """``bounding_boxes.labels`` per folder, read once."""

    def __init__(self, confine: LinkFence | None) -> None:
        self._by_folder: dict[str, dict[str, tuple[BoundingBox, ...]] | None] = {}
        self._confine = confine

    def lookup(self, full_path: str) -> tuple[BoundingBox, ...] | None:
        return self.lookup_in(*os.path.split(full_path))

    def lookup_in(self, folder: str, base_name: str) -> tuple[BoundingBox, ...] | None:
        """`lookup` of ``folder/base_name`` when the caller has split the path."""
        if folder not in self._by_folder:
            candidate = Path(folder) / BOXES_LABELS
            if candidate.is_file():
                check_link_inside(str(candidate), self._confine)
            self._by_folder[folder] = read_bounding_boxes_labels(candidate) if candidate.is_file() else None
        boxes = self._by_folder[folder]
        return None if boxes is None else boxes.get(base_name)


def _from_entries(entries: list[InfoEntry], base: str, root: str, labels_path: Path, boxes: _BoxCache,
                  confine: LinkFence | None) -> list[dict]:
    items, seen = [], set()
    # a plain relative path (nearly every entry) is joined by concatenation, and its folder and
    # name are cut once; any other goes through `_resolve_listed` (normalisation, escape check)
    plain_base = base != "/" and os.path.normpath(base) == base
    base_prefix, root_cut = base + "/", len(root.rstrip(os.sep)) + 1
    for entry in entries:
        rel = entry.path
        if plain_base and _is_plain(rel):
            _refuse_absolute(rel, labels_path)
            full = base_prefix + rel
            folder, _, name = full.rpartition("/")
            _check_listed_file(full, rel, labels_path, confine, folder)
            rel_root = full[root_cut:]
        else:
            full, rel_root = _resolve_listed(base, rel, root, labels_path, confine)
            folder, name = os.path.split(full)
        if full in seen:
            raise BundleError(f"file listed twice: {entry.path!r}", path=labels_path, sample=entry.path, field="path")
        seen.add(full)
        category = entry.category if entry.category != "split" else _category_of_split(rel_root, labels_path, entry.path)
        from_file = boxes.lookup_in(folder, name)
        items.append(
            {
                "filename": entry.name if entry.name else _strip_last_extension(name),
                "file": full,
                "rel_path": rel_root,
                "category": category,
                "label": entry.label,
                "bounding_boxes": from_file if from_file is not None else (entry.bounding_boxes or ()),
                "metadata": entry.metadata,
                "label_source": INFO_LABELS,
            }
        )
    return items


def _scan_folder(folder: str, category: str, root: str, boxes: _BoxCache, skipped: list[str],
                 confine: LinkFence | None) -> list[dict]:
    names = sorted(e.name for e in os.scandir(folder) if not e.is_dir() and not e.name.startswith("."))
    prefix = "" if folder == root else os.path.relpath(folder, root).replace(os.sep, "/") + "/"
    items = []
    for name in names:
        rel_root = prefix + name
        if name in (INFO_LABELS, BOXES_LABELS) or os.path.splitext(name)[1].lower() not in SAMPLE_EXTENSIONS:
            if not name.endswith(".labels"):
                skipped.append(rel_root)
            continue
        full = os.path.join(folder, name)
        check_link_inside(full, confine, sample=rel_root)
        if not os.path.isfile(full):  # a FIFO would block the reader, a device never ends
            raise BundleError("sample file is not a regular file", path=full, sample=rel_root)
        found = boxes.lookup(full)
        items.append(
            {
                "filename": _strip_last_extension(name),
                "file": full,
                "rel_path": rel_root,
                "category": category,
                "label": LabelInfo.single(name.split(".", 1)[0]),
                "bounding_boxes": found or (),
                "metadata": None,
                "label_source": "file-name",
            }
        )
    return items


def _collect(root: str, root_category: str, skipped: list[str], confine: LinkFence | None) -> list[dict]:
    boxes = _BoxCache(confine)
    root_labels = Path(root) / INFO_LABELS
    if root_labels.is_file():
        check_link_inside(str(root_labels), confine)
        return _from_entries(read_info_labels(root_labels), root, root, root_labels, boxes, confine)
    items = _scan_folder(root, root_category, root, boxes, skipped, confine)
    for name in CATEGORY_FOLDERS:
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        check_link_inside(folder, confine)
        folder_labels = Path(folder) / INFO_LABELS
        if folder_labels.is_file():
            check_link_inside(str(folder_labels), confine)
            items += _from_entries(read_info_labels(folder_labels), folder, root, folder_labels, boxes, confine)
        else:
            items += _scan_folder(folder, name, root, boxes, skipped, confine)
    return items


def load_dataset(dataset_dir, *, category: str | None = "testing", root_category: str = "testing",
                 follow_links: bool = False) -> DatasetIndex:
    """Index the samples of an Edge Impulse dataset export.

    Parameters
    ----------
    dataset_dir : str or os.PathLike
        The export folder (holding ``info.labels`` and/or ``training/`` ``testing/``).
    category : str or None, default "testing"
        Keep only samples of this category; None keeps all.
    root_category : str, default "testing"
        Category of files lying directly in ``dataset_dir`` when no ``info.labels`` names one.
    follow_links : bool, default False
        Accept files and folders whose symbolic links lead outside ``dataset_dir``.

    Returns
    -------
    DatasetIndex
        Records in ascending id order (ids are assigned before filtering; see module docs).

    Raises
    ------
    ConfigError
        ``category`` or ``root_category`` is not a known category.
    BundleError
        The folder is missing, a label file is invalid, a listed file is missing, not a regular
        file or escapes the folder (also through a link), or no sample has the requested category.
    """
    for name, value in (("category", category), ("root_category", root_category)):
        if value is not None and value not in CATEGORIES:
            raise ConfigError(f"{name} must be one of {', '.join(CATEGORIES)}, got {value!r}")
    root = os.path.abspath(os.fspath(dataset_dir))
    if not os.path.isdir(root):
        raise BundleError("dataset folder not found", path=root)
    skipped: list[str] = []
    items = _collect(root, root_category, skipped, None if follow_links else LinkFence(root))
    records = RecordTable(
        SampleRecord(id=i, **item) for i, item in enumerate(items, start=1) if category is None or item["category"] == category
    )
    del items
    if not records:
        what = "no samples" if category is None else f"no samples in category {category!r}"
        raise BundleError(what, path=root, field="category")
    return DatasetIndex(root=Path(root), category=category, records=records, skipped=tuple(skipped))
