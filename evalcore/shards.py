"""Runs split over processes or machines: each part saves its reduce state, ``merge`` joins them.

A part of a run (``evalcore run --shard I/N --state FILE``, or one chunk of the Dask executor)
evaluates some of the samples and saves a **state**: its accumulators (``to_bytes``, the safe
container of ``evalcore.metrics._base``) and its samples' ``result`` / ``predictions`` texts with
their index (``evalcore.report.pages.SampleSpool``). `merge_states` rebuilds the reduce from the
bundle's metadata (no model is loaded), merges the accumulators and the texts by sample id, and
gives the `RunResult` whose files are the bytes a single run writes.

State layout (version 1), nothing in it is executed or unpickled::

    b"EVCSHARD"  uint32 format version  uint64 header length  header (UTF-8 JSON)  sections

The header names the run (evalcore version, bundle fingerprint, variant, options, label set,
number of records) and the byte range of each section: ``accumulators``, ``positions`` (int64
record positions of the part's samples), ``index`` (int64, 5 per sample), ``results``, ``rows``.
States of different runs refuse to merge, naming the first field that differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import time
from pathlib import Path

import numpy as np

from evalcore.errors import ConfigError, MergeError

__all__ = ["PartRunner", "STATE_MAGIC", "count_samples", "merge_states", "read_state", "shard_positions",
           "state_chunks", "write_state"]

STATE_MAGIC = b"EVCSHARD"
STATE_VERSION = 1
_PREFIX = struct.Struct("<8sIQ")
_MAX_HEADER = 64 << 20
_SECTIONS = ("accumulators", "positions", "index", "results", "rows")
#: Header fields two parts of one run must share (the merge names the first that differs).
_SAME = ("evalcore", "variant", "options", "records", "labels", "fingerprint")


# -- the part's side -------------------------------------------------------------------------------


def shard_positions(n_records: int, shard: tuple[int, int]) -> list[int]:
    """Record positions of shard ``i`` of ``n``: ``i, i+n, i+2n, ...``."""
    i, n = shard
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard takes I/N with 0 <= I < N, got {i}/{n}")
    return list(range(i, n_records, n))


def count_samples(bundle_dir, options) -> int:
    """Number of samples of the run (record positions are ``0 .. count - 1``)."""
    from evalcore.engine import plan_run

    return len(plan_run(bundle_dir, options).records)


class PartRunner:
    """Evaluates parts of one run with the models loaded once (a Dask worker keeps one).

    Parameters
    ----------
    bundle_dir : str or Path
    options : evalcore.options.RunOptions
        ``workers`` and ``quiet`` are ignored: a part runs in this process, quietly.
    """

    def __init__(self, bundle_dir, options):
        import dataclasses

        from evalcore.engine import plan_run
        from evalcore.pipeline.infer import Pipeline

        self.bundle = Path(bundle_dir)
        self.plan = plan_run(bundle_dir, dataclasses.replace(options, workers=0, quiet=True))
        plan = self.plan
        self.pipeline = Pipeline(plan.project, plan.options, plan.plans, plan.records)

    def run(self, positions) -> bytes:
        """The state (bytes) of the samples at ``positions`` (record positions, any order)."""
        from evalcore.report.builder import ReportBuilder

        plan = self.plan
        positions = [int(p) for p in positions]
        if any(not 0 <= p < len(plan.records) for p in positions):
            raise ConfigError(f"record positions must lie in 0..{len(plan.records) - 1}")
        t0 = time.perf_counter()
        builder = ReportBuilder(plan.project, plan.plans, plan.records, plan.options)
        for outcome in self.pipeline.outcomes([plan.records[p] for p in positions], plan.source):
            builder.add(outcome)
        info = {"engines": {str(k): v for k, v in self.pipeline.engines().items()},
                "blocks": self.pipeline.describe(), "seconds": time.perf_counter() - t0}
        try:
            return b"".join(state_chunks(builder, plan, positions, info))
        finally:
            builder.spool.close()

    def close(self) -> None:
        """Release the models (the object is unusable afterwards)."""
        self.pipeline = None


def write_state(path, result, plan, positions) -> None:
    """Save a finished part (``engine.RunResult`` of ``evaluate(positions=...)``) to ``path``, as one
    transaction (temporary file, then rename).
    """
    from evalcore.outputs import OutputTransaction

    info = {"engines": {str(k): v for k, v in result.engines.items()}, "blocks": result.blocks,
            "seconds": result.seconds}
    transaction = OutputTransaction()
    try:
        transaction.stage_chunks(Path(path), state_chunks(result.builder, plan, positions, info))
        transaction.commit()
    except BaseException as err:
        transaction.abort()
        if isinstance(err, OSError):
            raise ConfigError(f"cannot write shard state {path}: {err.strerror or err}") from err
        raise


def state_chunks(builder, plan, positions, info: dict):
    """Yield the bytes of a state: prefix, header, then each section (spool texts streamed)."""
    from evalcore import __version__

    spool = builder.spool
    builder._write_pending()
    spool.finish()
    accumulators = _encode_builder(builder)
    index = np.ascontiguousarray(spool.index(), dtype="<i8").tobytes()
    positions_bytes = np.asarray(positions, dtype="<i8").tobytes()
    sizes = {"accumulators": len(accumulators), "positions": len(positions_bytes), "index": len(index),
             "results": spool.size("results"), "rows": spool.size("rows")}
    sections, offset = {}, 0
    for name in _SECTIONS:
        sections[name] = [offset, sizes[name]]
        offset += sizes[name]
    header = {
        "evalcore": __version__,
        "bundle": str(plan.project.root),
        "fingerprint": bundle_digest(plan.project, plan.options.variant),
        "variant": plan.options.variant,
        "options": _options_key(plan.options),
        "labels": list(builder.labels),
        "records": len(plan.records),
        "samples": len(positions),
        "windows": builder.n_windows,
        "info": info,
        "sections": sections,
    }
    text = json.dumps(header, sort_keys=True, allow_nan=False).encode("utf-8")
    yield _PREFIX.pack(STATE_MAGIC, STATE_VERSION, len(text)) + text
    yield accumulators
    yield positions_bytes
    yield index
    yield from spool.all_of("results")
    yield from spool.all_of("rows")


def _options_key(options) -> dict:
    """The options that change a run's numbers (runtime settings such as threads do not)."""
    return {"category": options.category, "features": options.features,
            "thresholds": {k: options.thresholds[k] for k in sorted(options.thresholds)},
            "compat": dict(sorted(options.compat.items())), "sliceBy": list(options.slice_by)}


def bundle_digest(project, variant: str) -> str:
    """SHA-256 over what decides a run's numbers: the impulse, DSP and learn files, the variant's
    model files and the dataset's label files (not the sample data: too large to hash per part).
    """
    digest = hashlib.sha256()
    root = Path(project.root)
    files = [root / "impulse.json", *sorted((root / "dsp").glob("*.json"))]
    for lb in project.learn:
        gmm = None if lb.metadata_path is None else Path(lb.metadata_path).parent / "gmm.json"
        for path in (lb.metadata_path, lb.models.get(variant), gmm):
            if path is not None:
                files.append(Path(path))
    dataset = getattr(project, "dataset_dir", None)
    if dataset is not None:
        files += [p for p in (Path(dataset) / "info.labels", Path(dataset) / "bounding_boxes.labels") if p.is_file()]
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root) if root in path.parents else path.name).encode())
            with open(path, "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


# -- the builder's accumulators, named -------------------------------------------------------------


def _accumulator_sets(builder):
    """(name, set) of the whole run and of each ``--slice-by`` value."""
    yield "whole", builder
    if builder.slices is not None:
        for key in builder.slices.keys:
            for value, found in builder.slices.groups[key].items():
                yield f"slice\x1f{key}\x1f{value}", found


def _parts(found) -> dict:
    parts = {}
    if found.accuracy is not None:
        parts["accuracy"] = found.accuracy
    for lb_id, acc in found.metrics.items():
        if acc is not None:
            parts[f"metrics\x1f{lb_id}"] = acc
    detector = found.detector
    if detector is not None:
        parts["detector\x1fcounts"] = detector.counts
        for name in ("fomo", "coco"):
            if getattr(detector, name) is not None:
                parts[f"detector\x1f{name}"] = getattr(detector, name)
    return parts


def _encode_builder(builder) -> bytes:
    from evalcore.metrics.states import encode_accumulators

    named, counts = {}, {}
    for set_name, found in _accumulator_sets(builder):
        for part, acc in _parts(found).items():
            named[f"{set_name}\x1e{part}"] = acc
        if set_name != "whole":
            counts[set_name] = [found.n_samples, found.n_windows]
    return encode_accumulators(named, meta={"slices": counts})


def _merge_into(builder, data: bytes, where: str) -> None:
    """Merge a state's accumulators into ``builder``'s (same structure, built from the same plan)."""
    from evalcore.metrics.states import decode_accumulators

    try:
        named, meta = decode_accumulators(data)
    except ConfigError as err:
        raise ConfigError(f"{where}: {err}") from None
    grouped: dict[str, dict] = {}
    for name, acc in named.items():
        set_name, _, part = name.partition("\x1e")
        grouped.setdefault(set_name, {})[part] = acc
    counts = meta.get("slices", {}) if isinstance(meta, dict) else {}
    for set_name in set(grouped) | set(counts):
        if set_name == "whole":
            target = builder
        else:
            _, key, value = set_name.split("\x1f", 2)
            if builder.slices is None or key not in builder.slices.groups:
                raise MergeError(f"cannot merge {where}: slice key {key!r} is not one of this run's")
            group = builder.slices.groups[key]
            target = group.get(value) or group.setdefault(value, builder.slices.new_set())
            n_samples, n_windows = counts.get(set_name, [0, 0])
            target.n_samples += int(n_samples)
            target.n_windows += int(n_windows)
        mine = _parts(target)
        theirs = grouped.get(set_name, {})
        if set(mine) != set(theirs):
            raise MergeError(f"cannot merge {where}: accumulators differ ({sorted(mine)} vs {sorted(theirs)})")
        for part, acc in theirs.items():
            try:
                mine[part].merge(acc)
            except MergeError as err:
                raise MergeError(f"{where}: {err}") from None


# -- the merge's side ------------------------------------------------------------------------------


class _State:
    """A state's header and its sections, read from a file or from bytes (no copy of the texts)."""

    def __init__(self, source, name: str):
        self.name = name
        if isinstance(source, bytes | bytearray | memoryview):
            self._data, self._fd, size = memoryview(source), None, len(source)
        else:
            try:  # non-blocking: opening a FIFO must not wait for a writer; a state is read by offset
                self._fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
                info = os.fstat(self._fd)
            except OSError as err:
                raise ConfigError(f"cannot read shard state {name}: {err.strerror or err}") from err
            self._data = None
            if not stat.S_ISREG(info.st_mode):
                self.close()
                kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
                raise ConfigError(f"cannot read shard state {name}: {kind}")
            size = info.st_size
        try:
            self._parse(size, name)
        except BaseException:
            self.close()
            raise

    def _parse(self, size: int, name: str) -> None:
        prefix = self._read(0, _PREFIX.size) if size >= _PREFIX.size else b""
        if len(prefix) != _PREFIX.size:
            raise ConfigError(f"{name}: not an evalcore shard state (too short)")
        magic, version, header_len = _PREFIX.unpack(prefix)
        if magic != STATE_MAGIC:
            raise ConfigError(f"{name}: not an evalcore shard state (bad magic)")
        if version != STATE_VERSION:
            raise ConfigError(f"{name}: shard state format {version} is not {STATE_VERSION} (another evalcore)")
        if header_len > min(_MAX_HEADER, size - _PREFIX.size):
            raise ConfigError(f"{name}: shard state header of {header_len} bytes does not fit the file")
        try:
            header = json.loads(self._read(_PREFIX.size, header_len))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            raise ConfigError(f"{name}: shard state header is not JSON: {err}") from None
        self.header = _check_header(header, name)
        self._base = _PREFIX.size + header_len
        end = max(start + length for start, length in self.header["sections"].values())
        if self._base + end != size:
            raise ConfigError(f"{name}: shard state is {size} bytes, its header says {self._base + end}")
        n = self.header["samples"]
        if self.section_size("positions") != 8 * n or self.section_size("index") != 40 * n:
            raise ConfigError(f"{name}: shard state sections do not match its {n} samples")
        self.positions = np.frombuffer(self.section("positions"), dtype="<i8").astype(np.int64)
        index = np.frombuffer(self.section("index"), dtype="<i8").reshape(n, 5).astype(np.int64)
        sizes = {"results": self.section_size("results"), "rows": self.section_size("rows")}
        if n and ((index[:, 1:] < 0).any() or (index[:, 1] + index[:, 2] > sizes["results"]).any()
                  or (index[:, 3] + index[:, 4] > sizes["rows"]).any()):
            raise ConfigError(f"{name}: shard state index points outside its texts")
        self._index = index
        self.ids_sorted = bool(n < 2 or (np.diff(index[:, 0]) >= 0).all())

    def _read(self, start: int, length: int) -> bytes:
        if self._data is not None:
            return bytes(self._data[start : start + length])
        return os.pread(self._fd, length, start)

    def section_size(self, name: str) -> int:
        return int(self.header["sections"][name][1])

    def section(self, name: str) -> bytes:
        start, length = self.header["sections"][name]
        return self._read(self._base + start, length)

    # the SampleSpool reading interface (SampleSpool.merged reads these)
    def __len__(self) -> int:
        return self.header["samples"]

    def index(self) -> np.ndarray:
        return self._index

    def copy_range(self, which: str, start: int, length: int):
        base = self._base + self.header["sections"][which][0]
        step = 1 << 20
        for offset in range(start, start + length, step):
            yield self._read(base + offset, min(step, start + length - offset))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _check_header(header, name: str) -> dict:
    if not isinstance(header, dict):
        raise ConfigError(f"{name}: shard state header must be an object")
    need = {"evalcore": str, "bundle": str, "fingerprint": str, "variant": str, "options": dict, "labels": list,
            "records": int, "samples": int, "windows": int, "info": dict, "sections": dict}
    for field, kind in need.items():
        if not isinstance(header.get(field), kind) or isinstance(header.get(field), bool):
            raise ConfigError(f"{name}: shard state field {field!r} is missing or not a {kind.__name__}")
    if header["samples"] < 0 or header["records"] < 0 or header["windows"] < 0:
        raise ConfigError(f"{name}: shard state counts must not be negative")
    sections = header["sections"]
    for section in _SECTIONS:
        value = sections.get(section)
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
            raise ConfigError(f"{name}: shard state section {section!r} is missing or malformed")
    return header


def read_state(source, name: str | None = None) -> dict:
    """The header of a state file (or bytes), checked: what ``evalcore merge`` would read."""
    state = _State(source, name or str(source))
    try:
        return state.header
    finally:
        state.close()


def merge_states(sources, *, bundle=None, names=None, spool_dir=None):
    """Merge the states of every part of one run into its `engine.RunResult`.

    Parameters
    ----------
    sources : sequence of bytes or path
        One state per part; together they must hold every sample of the run exactly once.
    bundle : str or Path, optional
        The bundle folder (default: the one the parts ran on, as their states name it). Its
        metadata rebuilds the reduce; no model is loaded. Its fingerprint must match the states'.
    names : sequence of str, optional
        How errors name each source (default: the paths, or ``state 1``, ``state 2``...).

    Raises
    ------
    ConfigError, MergeError
        A bad state, states of different runs (the first field that differs is named), a
        sample in two states or missing from all of them.
    """
    from evalcore.engine import RunResult, options_info, plan_run
    from evalcore.options import RunOptions
    from evalcore.report.builder import ReportBuilder
    from evalcore.report.pages import SampleSpool

    sources = list(sources)
    if not sources:
        raise ConfigError("merge needs at least one shard state")
    if names is None:
        names = [str(s) if not isinstance(s, bytes | bytearray | memoryview) else f"state {k + 1}"
                 for k, s in enumerate(sources)]
    states = []
    try:
        for source, name in zip(sources, names):
            states.append(_State(source, name))
        first = states[0]
        for other in states[1:]:
            for field in _SAME:
                if other.header[field] != first.header[field]:
                    raise MergeError(f"cannot merge {other.name} with {first.name}: {field} differs "
                                     f"({_show(other.header[field])} vs {_show(first.header[field])})")
        _check_coverage(states)
        header = first.header
        opts = header["options"]
        options = RunOptions(variant=header["variant"], category=opts["category"], features=opts["features"],
                             thresholds=dict(opts["thresholds"]), compat=dict(opts["compat"]),
                             slice_by=tuple(opts["sliceBy"]))
        plan = plan_run(bundle or header["bundle"], options)
        fingerprint = bundle_digest(plan.project, plan.options.variant)
        if fingerprint != header["fingerprint"]:
            raise MergeError(f"cannot merge: the bundle {plan.project.root} is not the one the shards ran on "
                             "(its impulse, metadata, model or label files differ)")
        if len(plan.records) != header["records"]:
            raise MergeError(f"cannot merge: the bundle has {len(plan.records)} samples, the shards "
                             f"{header['records']}")
        builder = ReportBuilder(plan.project, plan.plans, plan.records, plan.options, spool_dir=spool_dir)
        if list(builder.labels) != header["labels"]:
            raise MergeError(f"cannot merge: labels differ ({list(builder.labels)} vs {header['labels']})")
        for state in states:
            _merge_into(builder, state.section("accumulators"), state.name)
            builder.n_windows += state.header["windows"]
        builder.spool.close()
        builder.spool = SampleSpool.merged(states, spool_dir)
    finally:
        for state in states:
            state.close()
    info = header["info"]
    return RunResult(
        builder=builder, n_samples=builder.n_samples, n_windows=builder.n_windows,
        seconds=sum(float(s.header["info"].get("seconds", 0.0)) for s in states),
        engines={int(k) if k.isdigit() else k: v for k, v in info.get("engines", {}).items()},
        variant=header["variant"], blocks=info.get("blocks", {}),
        options={**options_info(plan.options, 0), "shards": len(states)},
    )


def _check_coverage(states) -> None:
    """Every record position in exactly one state."""
    n = states[0].header["records"]
    owner = np.full(n, -1, dtype=np.int64)
    for k, state in enumerate(states):
        positions = state.positions
        if positions.size and (positions.min() < 0 or positions.max() >= n):
            raise ConfigError(f"{state.name}: sample positions outside 0..{n - 1}")
        taken = owner[positions]
        if (taken >= 0).any() or np.unique(positions).size != positions.size:
            p = int(positions[taken >= 0][0]) if (taken >= 0).any() else int(positions[0])
            other = states[int(taken[taken >= 0][0])].name if (taken >= 0).any() else state.name
            raise MergeError(f"cannot merge: sample position {p} is in both {other} and {state.name}")
        owner[positions] = k
    missing = np.flatnonzero(owner < 0)
    if missing.size:
        raise MergeError(f"cannot merge: {missing.size} of {n} samples are in no state (first position "
                         f"{int(missing[0])}); give every shard's state")


def _show(value) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
