"""``evalcore bench``: how fast each model variant of a bundle runs on this machine, and how well.

For every variant (float32, int8, akida) and every learn block the bench reports, on this host's
CPU and with the engine ``evalcore run`` uses (``evalcore.backends.load_backend``):

- **DSP time per window**: the bundle's DSP blocks run by the run's own featurizer
  (``evalcore.pipeline.featurize.SampleFeaturizer``) over the test samples; only the DSP blocks and their
  ``normalizeData`` are timed (``SampleFeaturizer.dsp_ns``), with the cutting of the windows they
  take (chunk by chunk, as a run does), not reading or decoding. DSP works on the windows of a
  sample in chunks, so one window's time is not observable: the
  figure is the total DSP time over all samples divided by their windows (a mean), after one
  untimed sample that loads numba's compiled kernels; the median of up to three passes over the
  samples (fewer when a pass takes over a second). A learn block shows the sum of the DSP
  blocks it reads (a block shared by two learn blocks is computed once and shown on both). DSP
  does not depend on the variant.
- **model latency at batch 1**: ``backend.run(row)`` on one real feature row of the bundle at a
  time (cycling through the test windows), ``warmup`` untimed calls then ``runs`` timed ones with
  ``time.perf_counter_ns``; p50/p90/p99 as MLPerf Tiny and onnxruntime's perf test report them.
  The call includes evalcore's input check and int8 quantisation / dequantisation, as in a run.
- **throughput**: windows per second of ``backend.run`` on ``batch_size`` rows (the run's batch,
  the test windows repeated to fill it), the median of a few passes after one untimed pass.
- **model file size** and **peak memory of the model session**: the process's resident set
  (``/proc/self/status``) around loading the model and its first inference; see
  :func:`session_memory` for the method and its limits. Each variant and block is measured in a
  fresh Python process by default (``isolate``), so the peak is not hidden by an earlier one.
- **accuracy**: ``evalcore.engine.run_bundle`` once per variant with the same settings;
  ``accuracyScore`` (or ``mseScore`` for regression) exactly as ``evalcore run`` writes it.

Percentiles use linear interpolation between the two nearest ranks, numpy's default
(``numpy.percentile(..., method="linear")``, Hyndman and Fan's definition 7); :func:`percentile`
gives the same doubles.

These are host figures, measured on this host's CPU: not an estimate for a device.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from evalcore.errors import BackendUnavailableError, ConfigError, ModelError

__all__ = ["BenchOptions", "BenchReport", "percentile", "latency_summary", "bench_bundle",
           "session_memory", "VARIANTS"]

VARIANTS = ("float32", "int8", "akida")
PERCENTILE_METHOD = "linear interpolation between closest ranks (numpy.percentile's default)"
MEMORY_METHOD = (
    "VmHWM minus VmRSS of /proc/self/status around model load + first inference, after resetting "
    "VmHWM (/proc/self/clear_refs); importing the runtime libraries is measured before it, separately"
)
HOST_LABEL = "measured on this host's CPU with {engines}; not a device estimate"
# Throughput: passes over one batch after an untimed one; stop after this many or this long.
_THROUGHPUT_PASSES = 5
_THROUGHPUT_SECONDS = 1.0
# DSP: timed passes over the samples; stop after this many or once this long.
_DSP_PASSES = 3
_DSP_SECONDS = 1.0
_CHILD_CODE = "import sys; from evalcore.bench import child_main; sys.exit(child_main(sys.argv[1], sys.argv[2]))"


# -- pure functions ---------------------------------------------------------------------------

def percentile(values, q: float) -> float:
    """The ``q``-th percentile of ``values`` as ``numpy.percentile(values, q)`` computes it.

    Linear interpolation between the closest ranks (Hyndman and Fan's definition 7, numpy's
    default ``method="linear"``): the virtual index is ``(n - 1) * q / 100``, and the value
    is interpolated between its floor and ceiling ranks with numpy's own formula, so the result
    is the same double.

    Parameters
    ----------
    values : sequence of numbers
        At least one value; need not be sorted.
    q : float
        Percentile in [0, 100].

    Returns
    -------
    float

    Raises
    ------
    ValueError
        When ``values`` is empty or ``q`` is outside [0, 100].
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    x = sorted(values)
    n = len(x)
    if n == 0:
        raise ValueError("percentile of no values")
    index = (n - 1) * (q / 100)
    lo = min(max(math.floor(index), 0), n - 1)
    hi = min(lo + 1, n - 1)
    gamma = index - lo
    a, b = float(x[lo]), float(x[hi])
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


def latency_summary(samples_ns) -> dict:
    """p50/p90/p99, mean, min and max of latencies in nanoseconds, as microseconds."""
    if not samples_ns:
        raise ValueError("no latency samples")
    us = [v / 1000.0 for v in samples_ns]
    return {
        "p50": percentile(us, 50), "p90": percentile(us, 90), "p99": percentile(us, 99),
        "mean": sum(us) / len(us), "min": min(us), "max": max(us), "runs": len(us),
    }


def proc_status_kb() -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of this process in kB (empty when /proc is not there)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(rest.split()[0])
    return out


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def session_memory(load) -> tuple[object, dict]:
    """Call ``load()`` (model load + first inference) and measure the memory it took.

    Method: reset the process's peak resident set (VmHWM, by writing 5 to
    ``/proc/self/clear_refs``), read VmRSS, call ``load``, read VmHWM and VmRSS again.
    ``peakKb`` = peak - RSS before (the most the session added at any moment), ``residentKb``
    = RSS after - RSS before (what it keeps).

    Limits: resident memory only (pages mapped but never touched are not counted, shared library
    pages are counted when touched); VmHWM is sampled by the kernel, so a very short spike can be
    missed by a few pages; memory allocated by threads of the runtime is included; without
    ``clear_refs`` (not Linux, or not permitted) the peak is the process's lifetime peak and is
    reported as ``null`` unless the session raised it; without /proc everything is ``null``.

    Returns
    -------
    (object, dict)
        ``load()``'s value and ``{"peakKb", "residentKb", "method"}``.
    """
    reset = _reset_peak()
    before = proc_status_kb()
    value = load()
    after = proc_status_kb()
    if not before or not after:
        return value, {"peakKb": None, "residentKb": None, "method": "unavailable (no /proc/self/status)"}
    peak = after["VmHWM"] - before["VmRSS"]
    if not reset and after["VmHWM"] <= before["VmHWM"]:
        peak = None  # the lifetime peak came earlier: the session's own peak is not observable
    return value, {"peakKb": peak, "residentKb": after["VmRSS"] - before["VmRSS"],
                   "method": "VmHWM reset" if reset else "VmHWM without reset"}


# -- options and report -------------------------------------------------------------------------

@dataclass(frozen=True)
class BenchOptions:
    """Settings of one ``evalcore bench``.

    ``variants`` None benches every variant the bundle has (the others are reported absent);
    naming one the bundle lacks is an error. ``isolate`` measures every model in a fresh Python
    process (honest memory peaks; about a second more per model).
    """

    variants: tuple[str, ...] | None = None
    runs: int = 200
    warmup: int = 20
    threads: int = 1
    batch_size: int = 1024
    category: str = "testing"
    isolate: bool = True
    quiet: bool = True

    def __post_init__(self):
        if self.variants is not None:
            bad = [v for v in self.variants if v not in VARIANTS]
            if bad or not self.variants:
                raise ConfigError(f"--variants takes a comma-separated list of {', '.join(VARIANTS)}, "
                                  f"got {','.join(self.variants) or 'nothing'}")
        for name, low in (("runs", 1), ("warmup", 0), ("threads", 1), ("batch_size", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= {low}, got {value!r}")


@dataclass
class BenchReport:
    """What ``bench_bundle`` measured; ``to_dict()`` is the ``--json`` document."""

    bundle: str
    options: BenchOptions
    n_samples: int
    n_windows: int
    variants: list[dict] = field(default_factory=list)
    host: dict = field(default_factory=dict)
    dsp_passes: int = 0

    def engines(self) -> list[str]:
        """Distinct ``engine version`` strings of the measured models, in order of appearance."""
        seen = []
        for v in self.variants:
            for b in v.get("blocks", ()):
                name = b.get("engine")
                if name and name not in seen:
                    seen.append(name)
        return seen

    def label(self) -> str:
        """The honest caption: host figures, which engines, not a device estimate."""
        engines = ", ".join(self.engines()) or "no model runtime"
        return HOST_LABEL.format(engines=engines)

    def to_dict(self) -> dict:
        """The machine-readable report (``--json``)."""
        from evalcore import __version__

        o = self.options
        return {
            "evalcore": __version__,
            "bundle": self.bundle,
            "category": o.category,
            "label": self.label(),
            "host": self.host,
            "settings": {
                "runs": o.runs, "warmup": o.warmup, "threads": o.threads, "batchSize": o.batch_size,
                "isolation": "subprocess per model" if o.isolate else "in-process",
                "percentileMethod": PERCENTILE_METHOD,
                "memoryMethod": MEMORY_METHOD,
                "dspMethod": "total DSP time over all test samples / their windows (a mean), the median "
                             "of up to 3 passes, after one untimed warm-up sample; reading excluded, the "
                             "cutting of windows included (they are cut chunk by chunk as the DSP takes them)",
                "dspPasses": self.dsp_passes,
                "units": {"latency": "microseconds", "dsp": "microseconds per window",
                          "throughput": "windows per second", "memory": "kB", "model": "bytes"},
            },
            "samples": self.n_samples,
            "windows": self.n_windows,
            "variants": self.variants,
        }

    def to_text(self) -> str:
        """The table to choose a variant by, with its caption and one line per absent variant."""
        o = self.options
        head = ["variant", "block", "engine", "model KB", "DSP us/win", "p50 us", "p90 us", "p99 us",
                f"win/s @{o.batch_size}", "peak MB", "accuracy"]
        rows = []
        notes = []
        for v in self.variants:
            if v["status"] != "measured":
                notes.append(f"{v['variant']}: {v['status']} ({v['reason']})")
                continue
            for b in v["blocks"]:
                rows.append(_text_row(v, b))
        lines = [
            f"evalcore bench {self.bundle}: {self.n_samples} {o.category} samples, {self.n_windows} windows; "
            f"{o.runs} runs after {o.warmup} warm-up, {o.threads} thread(s)",
            self.label() + f" ({self.host.get('cpu', '?')}, {self.host.get('cpus', '?')} CPUs)",
            "",
        ]
        lines += _format_table(head, rows)
        lines += [""] + notes if notes else []
        if any(v["variant"] == "akida" and v["status"] == "measured" for v in self.variants):
            lines += [] if notes else [""]
            lines.append("akida: the runtime's software backend on the host CPU (akida-software), not an "
                         "Akida device")
        return "\n".join(lines) + "\n"


def _text_row(variant: dict, block: dict) -> list[str]:
    lat = block.get("latencyUs")
    mem = (block.get("memory") or {}).get("peakKb")
    thr = block.get("throughputWindowsPerS")
    dsp = block.get("dspUsPerWindow")
    acc = variant.get("accuracy") or {}
    return [
        variant["variant"],
        f"{block['id']} {block['name']}",
        block.get("engine") or "metadata (no model)",
        "-" if block.get("modelBytes") is None else f"{block['modelBytes'] / 1024:.1f}",
        "-" if dsp is None else _fmt(dsp),
        "-" if lat is None else _fmt(lat["p50"]),
        "-" if lat is None else _fmt(lat["p90"]),
        "-" if lat is None else _fmt(lat["p99"]),
        "-" if thr is None else f"{thr:,.0f}",
        "-" if mem is None else f"{mem / 1024:.1f}",
        acc.get("text", "-"),
    ]


def _fmt(us: float) -> str:
    """Microseconds with three significant digits (1.23, 12.3, 123, 1234)."""
    if us >= 100:
        return f"{us:.0f}"
    if us >= 10:
        return f"{us:.1f}"
    return f"{us:.2f}"


def _format_table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.rjust(w) if i >= 3 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return out


# -- the runner -----------------------------------------------------------------------------------

def bench_bundle(bundle_dir, options: BenchOptions | None = None, *, log=None) -> BenchReport:
    """Measure every variant of a bundle (see the module docstring for what and how).

    Parameters
    ----------
    bundle_dir : str or Path
        The bundle folder.
    options : BenchOptions, optional
    log : callable, optional
        Called with one progress line at a time (the CLI prints them on stderr).

    Raises
    ------
    ConfigError
        A requested variant is not in the bundle (the message names those it has).
    BackendUnavailableError
        ``akida`` requested but its runtime is not installed.
    BundleError, ModelError
        Bad bundle or model, as ``evalcore run`` reports them.
    """
    from evalcore.bundle import load_project

    options = options or BenchOptions()
    log = log or (lambda _line: None)
    project = load_project(bundle_dir)
    plan = _plan_variants(project, options)
    log(f"DSP: featurizing the {options.category} samples")
    feats = _featurize(project, options)
    report = BenchReport(bundle=str(bundle_dir), options=options, n_samples=feats.n_samples,
                         n_windows=feats.n_windows, host=host_info(), dsp_passes=feats.dsp_passes)
    with tempfile.TemporaryDirectory(prefix="evalcore-bench-") as tmp:
        for variant, reason in plan:
            if reason is not None:
                report.variants.append({"variant": variant, "status": reason[0], "reason": reason[1]})
                continue
            report.variants.append(_bench_variant(bundle_dir, project, variant, feats, options, Path(tmp), log))
    return report


def _plan_variants(project, options: BenchOptions) -> list[tuple[str, tuple[str, str] | None]]:
    """(variant, None) to measure, or (variant, (status, reason)) for one not measured."""
    have = project.available_variants
    requested = options.variants or VARIANTS
    missing = [v for v in requested if v not in have]
    if options.variants is not None and missing:
        raise ConfigError(
            f"--variants {','.join(options.variants)}: the bundle has no {', '.join(missing)} model "
            f"(variants in the bundle: {', '.join(have) or 'none'}) ({project.root / 'learn'})"
        )
    out = []
    for v in requested:
        if v not in have:
            out.append((v, ("absent", "no model file for this variant in the bundle")))
        elif v == "akida" and not _akida_importable():
            if options.variants is not None:
                raise BackendUnavailableError(
                    "--variants akida needs the akida runtime: install it with pip install evalcore[akida]"
                )
            out.append((v, ("skipped", "the akida runtime is not installed (pip install evalcore[akida])")))
        else:
            out.append((v, None))
    return out


def _akida_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("akida") is not None


@dataclass
class _Features:
    rows: dict  # learn block id -> float32 (W, F)
    dsp_us_per_window: dict  # learn block id -> float or None (precomputed features)
    n_samples: int
    n_windows: int
    dsp_passes: int


def _featurize(project, options: BenchOptions) -> _Features:
    """Every test window's feature rows per learn block, and the DSP time per window."""
    import numpy as np

    from evalcore.options import RunOptions
    from evalcore.pipeline.sources import use_precomputed

    run_opts = RunOptions(category=options.category, quiet=True)
    if use_precomputed(project, run_opts):
        from evalcore.pipeline.precomputed import FeatureSource

        source = FeatureSource(project, options.category)
        prepared = [source.prepare(r) for r in source.records(options.category)]
        dsp_ns, n_passes = None, 0
    else:
        from evalcore.data import load_dataset
        from evalcore.errors import BundleError
        from evalcore.pipeline.featurize import SampleFeaturizer

        records = list(load_dataset(project.dataset_dir, category=options.category).records)
        if not records:
            raise BundleError(f"the dataset has no {options.category} samples", path=project.dataset_dir)
        featurizer = SampleFeaturizer(project, run_opts)
        featurizer.prepare(records[0])  # untimed: loads numba's compiled DSP kernels
        prepared, dsp_ns, n_passes = _timed_dsp_passes(featurizer, records)
    n_windows = sum(p.outcome.n_windows for p in prepared)
    rows, dsp = {}, {}
    for lb in project.learn:
        parts = [p.features[lb.id] for p in prepared]
        rows[lb.id] = np.ascontiguousarray(np.concatenate(parts, axis=0), dtype=np.float32)
        if dsp_ns is None or n_windows == 0:
            dsp[lb.id] = None
        else:
            dsp[lb.id] = sum(dsp_ns.get(d, 0) for d in lb.dsp_ids) / n_windows / 1000.0
    return _Features(rows=rows, dsp_us_per_window=dsp, n_samples=len(prepared), n_windows=n_windows,
                     dsp_passes=n_passes)


def _timed_dsp_passes(featurizer, records):
    """Prepare every record, timing the DSP blocks; repeat the pass (up to ``_DSP_PASSES``, while
    the passes so far took under ``_DSP_SECONDS``) and keep each DSP block's median pass total.

    Returns the first pass's prepared samples, {DSP block id: ns}, and the number of passes.
    """
    totals: dict[int, list[int]] = {}
    prepared = None
    started = time.perf_counter()
    n_passes = 0
    while n_passes < _DSP_PASSES and (n_passes == 0 or time.perf_counter() - started < _DSP_SECONDS):
        featurizer.dsp_ns = {}
        done = [featurizer.prepare(r) for r in records]
        if prepared is None:
            prepared = done
        for dsp_id, ns in featurizer.dsp_ns.items():
            totals.setdefault(dsp_id, []).append(ns)
        n_passes += 1
    featurizer.dsp_ns = None
    return prepared, {k: percentile(v, 50) for k, v in totals.items()}, n_passes


def _bench_variant(bundle_dir, project, variant: str, feats: _Features, options: BenchOptions,
                   tmp: Path, log) -> dict:
    blocks = []
    for lb in project.learn:
        entry = {"id": lb.id, "name": lb.name, "kind": lb.kind,
                 "dspUsPerWindow": feats.dsp_us_per_window[lb.id]}
        if lb.needs_model:
            path = lb.models[variant]
            entry["model"] = str(path)
            entry["modelBytes"] = path.stat().st_size
            spec = {"model": str(path), "variant": variant, "threads": options.threads,
                    "batchSize": options.batch_size, "runs": options.runs, "warmup": options.warmup,
                    "quiet": options.quiet}
            where = "a fresh process" if options.isolate else "this process"
            log(f"{variant}: block {lb.id} ({lb.name}, {path.name}) in {where}")
            entry.update(_measure(spec, feats.rows[lb.id], tmp / f"{variant}-{lb.id}", options.isolate))
        else:
            entry.update({"model": None, "modelBytes": None, "engine": None})
        blocks.append(entry)
    log(f"{variant}: accuracy (evalcore run)")
    return {"variant": variant, "status": "measured", "reason": None,
            "accuracy": _accuracy(bundle_dir, variant, options), "blocks": blocks}


def _accuracy(bundle_dir, variant: str, options: BenchOptions) -> dict:
    """The main metric of a normal ``run_bundle`` with this variant (akida: software backend)."""
    from evalcore.engine import run_bundle
    from evalcore.metrics.additional import format_metric_value
    from evalcore.options import RunOptions

    opts = RunOptions(variant=variant, category=options.category, threads=options.threads,
                      batch_rows=options.batch_size, quiet=True,
                      akida_device="software" if variant == "akida" else "auto")
    result = run_bundle(bundle_dir, opts)
    acc = result.builder.accuracy_model()
    percent = result.builder.compat["score-scale"] == "percent"
    if acc.accuracy_score is not None:
        name, value = "accuracyScore", acc.accuracy_score
        text = f"{format_metric_value(value)}%" if percent else f"{value:.4f}"
    elif acc.mse_score is not None:
        name, value = "mseScore", acc.mse_score
        text = f"MSE {value:.4g}"
    else:
        name, value, text = None, None, "-"
    return {"metric": name, "value": value, "scale": "percent" if percent else "fraction", "text": text,
            "seconds": round(result.seconds, 3)}


def _measure(spec: dict, rows, work: Path, isolate: bool) -> dict:
    """Measure one model on ``rows``: in a child process (``isolate``) or here."""
    if not isolate:
        return measure_model(spec, rows)
    import numpy as np

    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "rows.npy", rows, allow_pickle=False)
    (work / "spec.json").write_text(json.dumps(spec))
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])  # this evalcore, whatever is installed
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-c", _CHILD_CODE, str(work / "spec.json"), str(work / "result.json")],
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False)
    result_path = work / "result.json"
    if proc.returncode == 2 and result_path.is_file():
        raise ModelError(json.loads(result_path.read_text())["error"])
    if proc.returncode != 0 or not result_path.is_file():
        raise RuntimeError(f"the bench process for {spec['model']} ({spec['variant']}) failed with exit code "
                           f"{proc.returncode} (its traceback is above)")
    return json.loads(result_path.read_text())


def child_main(spec_path: str, result_path: str) -> int:
    """Entry point of the child process: measure one model, write the result JSON; 0, or 2 on bad input."""
    import numpy as np

    from evalcore.errors import EvalcoreError

    spec = json.loads(Path(spec_path).read_text())
    rows = np.load(Path(spec_path).with_name("rows.npy"), allow_pickle=False)
    try:
        out = measure_model(spec, rows)
    except EvalcoreError as err:
        Path(result_path).write_text(json.dumps({"error": str(err)}))
        return 2
    Path(result_path).write_text(json.dumps(out))
    return 0


def _import_runtime(model: str):
    """Import the model's runtime libraries, so that the session's memory does not count them
    (for ``.onnx`` also the ``onnx`` package, which the backend uses to read int8 models'
    quantisation parameters: about 20 MB that is a library, not the session).
    """
    suffix = Path(model).suffix.lower()
    if suffix == ".onnx":
        from evalcore.backends.ort import _import_ort

        _import_ort()
        try:
            import onnx  # noqa: F401 - imported for its memory, see above
        except ImportError:
            pass
    elif suffix in (".lite", ".tflite"):
        from evalcore.backends.tflite import _import_litert

        _import_litert()
    elif suffix == ".fbz":
        from evalcore.backends.akida import _import_akida

        _import_akida()


def measure_model(spec: dict, rows) -> dict:
    """Load one model and measure memory, batch-1 latency and batched throughput on ``rows``.

    ``spec``: ``model`` (path), ``variant``, ``threads``, ``batchSize``, ``runs``, ``warmup``,
    ``quiet``. ``rows``: the bundle's float32 feature rows (W, F) for this learn block.
    """
    import numpy as np

    from evalcore.backends import load_backend
    from evalcore.backends.native_log import drop_native_info

    if rows.shape[0] == 0:
        raise ModelError(f"no test windows to run the model on ({spec['model']})")
    before = proc_status_kb()
    _import_runtime(spec["model"])
    after_import = proc_status_kb()
    opts = {"akida_device": "software"} if spec["variant"] == "akida" else {}

    def load():
        with drop_native_info(spec["quiet"]):
            backend = load_backend(spec["model"], variant=spec["variant"], threads=spec["threads"], **opts)
        backend.check_n_features(rows.shape[1])
        backend.run(rows[:1])
        return backend

    backend, memory = session_memory(load)
    memory["runtimeImportKb"] = (after_import["VmRSS"] - before["VmRSS"]) if before and after_import else None
    n = rows.shape[0]
    for i in range(spec["warmup"]):
        backend.run(rows[i % n : i % n + 1])
    times = []
    clock = time.perf_counter_ns
    for i in range(spec["runs"]):
        x = rows[i % n : i % n + 1]
        t0 = clock()
        backend.run(x)
        times.append(clock() - t0)
    batch = rows if n == spec["batchSize"] else np.ascontiguousarray(np.resize(rows, (spec["batchSize"], rows.shape[1])))
    backend.run(batch)  # untimed: decides the batching mode (probe) and warms the batch path
    passes = []
    started = clock()
    while len(passes) < _THROUGHPUT_PASSES and (not passes or clock() - started < _THROUGHPUT_SECONDS * 1e9):
        t0 = clock()
        backend.run(batch)
        passes.append(clock() - t0)
    median_ns = percentile(passes, 50)
    return {
        "engine": f"{backend.engine} {backend.engine_version}",
        "batchMode": backend.batch_mode,
        "latencyUs": {**latency_summary(times), "warmup": spec["warmup"]},
        "throughputWindowsPerS": spec["batchSize"] / (median_ns / 1e9) if median_ns > 0 else None,
        "throughputPasses": len(passes),
        "memory": memory,
    }


def host_info() -> dict:
    """What the figures were measured on: CPU model, CPU count, OS, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "machine": platform.machine(),
            "system": f"{platform.system()} {platform.release()}", "python": platform.python_version()}
