"""COCO bbox evaluation: evalcore against pycocotools and the fast re-implementations.

Builds the synthetic sets of reference/perf-anchors.md section 1.1 deterministically (seed 0):

- ``d5k``: 5,000 images of 640x480, 80 classes, each image drawing 3 classes from a
  Dirichlet-skewed distribution; Poisson(7) GT boxes per image (about 35k, about 1% crowd) with
  log-normal sizes (small, medium and large all populated); exactly 100 detections per image:
  a jittered copy of 85% of the GTs (sometimes with a duplicate), the rest random boxes (70% in
  one of the image's classes, 30% in any class); continuous scores.
- ``ties500``: 500 images the same way, scores rounded to 2 decimals (tie-breaking stress).

Each library runs in a fresh subprocess: ``load`` is reading both JSON files into the library's
structures, ``eval+acc`` is ``evaluate()`` + ``accumulate()``, ``summarize`` the 12 stats. For
evalcore ``eval+acc`` is ``CocoData.evaluate()``, the path ``coco-eval`` runs (the saved machine
code of ``kernels._native`` when it loads, else the numba kernels; evaluation, accumulation and
the 12 stats). evalcore is run twice: with an empty numba cache (``first call`` then includes
JIT compilation) and with the cache that run left (``first call`` is the cached start);
``eval+acc`` is the median of the later, steady calls. Ratios are ``library eval+acc / evalcore
eval+acc`` (> 1: evalcore is faster). The parity column compares
each library's ``stats`` and whole ``precision`` / ``recall`` arrays with pycocotools' bytes.

Usage::

    python benchmarks/bench_coco.py            # d5k + ties500; pycocotools takes ~65 s on d5k
    python benchmarks/bench_coco.py --quick    # ties500 only (about 10 s in all)

The other libraries are the ``bench`` extra (``pip install faster-coco-eval hotcoco
ultrafast-pycocotools``); missing ones are reported as not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LIBS = ("evalcore", "pycocotools", "faster-coco-eval", "hotcoco", "ultrafast-pycocotools")
WIDTH, HEIGHT = 640, 480


# --- data ----------------------------------------------------------------------------------------


def generate(n_images, *, seed=0, n_classes=80, ties=False):
    """The synthetic set as (COCO ground-truth dict, results list)."""
    rng = np.random.default_rng(seed)
    class_p = rng.dirichlet(np.full(n_classes, 0.3))
    images, annotations, results = [], [], []
    for img in range(1, n_images + 1):
        images.append({"id": img, "width": WIDTH, "height": HEIGHT})
        classes = rng.choice(n_classes, 3, replace=False, p=class_p) + 1
        gts = []
        for _ in range(rng.poisson(7)):
            side = float(np.clip(np.exp(rng.normal(np.log(40), 0.9)), 2, 400))
            aspect = float(np.exp(rng.normal(0, 0.35)))
            w = min(side * np.sqrt(aspect), WIDTH - 1)
            h = min(side / np.sqrt(aspect), HEIGHT - 1)
            box = [round(float(rng.uniform(0, WIDTH - w)), 2), round(float(rng.uniform(0, HEIGHT - h)), 2),
                   round(w, 2), round(h, 2)]
            cat = int(rng.choice(classes))
            gts.append((box, cat))
            annotations.append({"id": len(annotations) + 1, "image_id": img, "category_id": cat,
                                "bbox": box, "area": round(box[2] * box[3], 4),
                                "iscrowd": int(rng.random() < 0.01)})
        dets = []
        for box, cat in gts:
            if rng.random() >= 0.85:
                continue
            for copy in range(1 + (rng.random() < 0.2)):
                dets.append((_jitter(rng, box), cat, rng.beta(6, 2) if copy == 0 else rng.beta(3, 3)))
        while len(dets) < 100:
            cat = int(rng.choice(classes)) if rng.random() < 0.7 else int(rng.integers(1, n_classes + 1))
            w, h = float(rng.uniform(4, 200)), float(rng.uniform(4, 200))
            box = [float(rng.uniform(0, WIDTH - w)), float(rng.uniform(0, HEIGHT - h)), w, h]
            dets.append(([round(v, 2) for v in box], cat, rng.beta(2, 6)))
        for box, cat, score in dets[:100]:
            score = round(float(score), 2) if ties else float(score)
            results.append({"image_id": img, "category_id": cat, "bbox": box, "score": score})
    categories = [{"id": k, "name": f"class{k}"} for k in range(1, n_classes + 1)]
    return {"images": images, "annotations": annotations, "categories": categories}, results


def _jitter(rng, box):
    x, y, w, h = box
    w2, h2 = w * float(np.exp(rng.normal(0, 0.08))), h * float(np.exp(rng.normal(0, 0.08)))
    x2, y2 = x + float(rng.normal(0, 0.06 * w)), y + float(rng.normal(0, 0.06 * h))
    return [round(x2, 2), round(y2, 2), round(w2, 2), round(h2, 2)]


def write_set(folder, name, n_images, ties):
    gt_path, dt_path = folder / f"{name}_gt.json", folder / f"{name}_dt.json"
    if not (gt_path.is_file() and dt_path.is_file()):
        gt, dt = generate(n_images, ties=ties)
        gt_path.write_text(json.dumps(gt))
        dt_path.write_text(json.dumps(dt))
    return gt_path, dt_path


# --- workers (one library per fresh process) -----------------------------------------------------


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _worker_evalcore(gt_path, dt_path, repeats):
    sys.path.insert(0, str(ROOT))
    from evalcore.coco_eval import load_coco_files
    from evalcore.metrics.coco import (
        AREA_RANGES,
        IOU_THRESHOLDS,
        RECALL_THRESHOLDS,
        summarize,
    )
    from kernels.coco_accumulate import coco_accumulate
    from kernels.coco_evaluate import coco_evaluate

    data, t_load = _timed(lambda: load_coco_files(gt_path, dt_path))
    max_dets = np.array([1, 10, 100], np.int64)

    def eval_acc():
        dt_area = data.dt_xywh[:, 2] * data.dt_xywh[:, 3]
        table = coco_evaluate(
            data.dt_image, data.dt_category, data.dt_score, data.dt_xywh, dt_area, data.gt_image,
            data.gt_category, data.gt_xywh, data.gt_area, data.gt_is_crowd, data.gt_id_is_zero,
            n_images=data.image_ids.size, n_categories=data.category_ids.size,
            iou_thresholds=IOU_THRESHOLDS, area_ranges=AREA_RANGES, max_det=100)
        return coco_accumulate(table.det_rank, table.score, table.codes, table.has_candidate,
                               table.category_offsets, table.n_positives,
                               recall_thresholds=RECALL_THRESHOLDS, max_dets=max_dets)

    # the public path, as coco-eval runs it (the saved machine code when it loads, else numba):
    # its first call in this fresh process, then steady calls
    result, t_first = _timed(data.evaluate)
    steady = [_timed(data.evaluate)[1] for _ in range(repeats)]
    precision, recall = result.precision, result.recall
    stats, t_sum = _timed(lambda: summarize(precision, recall, IOU_THRESHOLDS, (1, 10, 100)))
    check, _, _ = eval_acc()  # the numba kernels' API must give the same bytes
    assert check.tobytes() == precision.tobytes()
    return {"load": t_load, "first": t_first, "eval_acc": statistics.median(steady),
            "summarize": t_sum}, precision, recall, stats


def _worker_pycoco_like(lib, gt_path, dt_path):
    if lib == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    elif lib == "ultrafast-pycocotools":
        from ultrafast_pycocotools import COCO, COCOeval
    elif lib == "faster-coco-eval":
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    else:
        from hotcoco import COCO, COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        def load():
            gt = COCO(str(gt_path))
            return gt, gt.loadRes(str(dt_path))

        (gt, dt), t_load = _timed(load)
        ev = COCOeval(gt, dt, "bbox")
        _, t_eval = _timed(lambda: (ev.evaluate(), ev.accumulate()))
        _, t_sum = _timed(ev.summarize)
    precision = np.asarray(ev.eval["precision"], dtype=np.float64)
    recall = np.asarray(ev.eval["recall"], dtype=np.float64)
    return ({"load": t_load, "eval_acc": t_eval, "summarize": t_sum}, precision, recall,
            np.asarray(ev.stats, dtype=np.float64))


def _peak_rss_mb():
    """This process's peak RSS; ru_maxrss would carry the parent's peak across fork + exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(args):
    cpu0 = time.process_time()
    try:
        if args.worker == "evalcore":
            times, precision, recall, stats = _worker_evalcore(args.gt, args.dt, args.repeats)
        else:
            times, precision, recall, stats = _worker_pycoco_like(args.worker, args.gt, args.dt)
    except ImportError as err:
        print(json.dumps({"error": f"not installed ({err.name})"}))
        return
    np.savez(args.out, precision=precision, recall=recall, stats=stats)
    times["cpu"] = time.process_time() - cpu0
    times["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(times))


# --- driver --------------------------------------------------------------------------------------


def run_worker(lib, gt_path, dt_path, out, repeats, env=None):
    cmd = [sys.executable, __file__, "--worker", lib, "--gt", str(gt_path), "--dt", str(dt_path),
           "--out", str(out), "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def parity(out, ref):
    if not (out.is_file() and ref.is_file()):
        return "-"
    a, b = np.load(out), np.load(ref)
    same = [a[k].tobytes() == b[k].tobytes() for k in ("stats", "precision", "recall")]
    if all(same):
        return "bit-identical"
    worst = max(float(np.max(np.abs(a[k] - b[k]))) for k in ("stats", "precision", "recall"))
    return f"stats {'equal' if same[0] else 'differ'}, max |diff| {worst:.1e}"


def bench_set(name, gt_path, dt_path, folder, libs, repeats):
    print(f"\n== {name}: {gt_path.name} + {dt_path.name}")
    results = {}
    cache = tempfile.mkdtemp(prefix="evalcore-numba-")
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    for lib in libs:
        out = folder / f"{name}_{lib}.npz"
        if lib == "evalcore":
            cold = run_worker(lib, gt_path, dt_path, out, repeats, env)
            warm = run_worker(lib, gt_path, dt_path, out, repeats, env)
            results[lib] = warm
            if "error" not in cold and "error" not in warm:
                print(f"evalcore JIT: first call {cold['first']:.2f} s with an empty cache "
                      f"(compile ~{cold['first'] - cold['eval_acc']:.2f} s), "
                      f"{warm['first']:.3f} s from the cache, steady {warm['eval_acc']:.3f} s")
        else:
            results[lib] = run_worker(lib, gt_path, dt_path, out, repeats)
    ref = folder / f"{name}_pycocotools.npz"
    ours = results.get("evalcore", {}).get("eval_acc")
    print(f"{'library':<22} {'load s':>8} {'eval+acc s':>11} {'summ. s':>8} {'cpu s':>7} "
          f"{'RSS MB':>7} {'vs evalcore':>12}  parity with pycocotools")
    for lib, r in results.items():
        if "error" in r:
            print(f"{lib:<22} {r['error']}")
            continue
        ratio = f"{r['eval_acc'] / ours:.1f}x" if ours else "-"
        check = "reference" if lib == "pycocotools" else parity(folder / f"{name}_{lib}.npz", ref)
        print(f"{lib:<22} {r['load']:>8.2f} {r['eval_acc']:>11.3f} {r['summarize']:>8.3f} "
              f"{r['cpu']:>7.1f} {r['peak_rss_mb']:>7.0f} {ratio:>12}  {check}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="ties500 only")
    parser.add_argument("--repeats", type=int, default=3, help="steady evalcore calls (median)")
    parser.add_argument("--libs", default=",".join(LIBS), help="comma-separated subset")
    parser.add_argument("--data-dir", default=None, help="keep the generated JSON files here")
    parser.add_argument("--json", default=None, help="also write each set's results as JSON here (run_all.py)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--gt", help=argparse.SUPPRESS)
    parser.add_argument("--dt", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return
    folder = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-coco-"))
    folder.mkdir(parents=True, exist_ok=True)
    libs = [lib for lib in args.libs.split(",") if lib]
    sets = [("ties500", 500, True)] if args.quick else [("d5k", 5000, False), ("ties500", 500, True)]
    by_set = {}
    for name, n_images, ties in sets:
        gt_path, dt_path = write_set(folder, name, n_images, ties)
        by_set[name] = bench_set(name, gt_path, dt_path, folder, libs, args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(by_set, indent=1))


if __name__ == "__main__":
    main()
