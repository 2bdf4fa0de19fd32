"""``evalcore report --html`` on a large result: how long the page takes to write and to open.

Builds a result of ``--samples`` samples by repeating the samples of a run of ``fixtures/motion``
(renamed, so that each is its own sample), then times ``write_report`` and a headless chromium
that loads the page and takes a screenshot (the time until the page's script has run, with the
browser's start-up, which an empty page's run measures alone: the anchor). Prints the page size.

    python benchmarks/bench_report.py --samples 100000
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from evalcore.engine import RunOptions, run_bundle, write_outputs
from evalcore.report_html import write_report

REPO = Path(__file__).resolve().parent.parent


def _big_result(folder: Path, n_samples: int) -> Path:
    small = folder / "motion.json"
    write_outputs(run_bundle(REPO / "fixtures" / "motion", RunOptions(workers=0)), out=small)
    doc = json.loads(small.read_bytes())
    base, rows = doc["result"], doc["predictions"]
    copies = -(-n_samples // len(base))
    result, predictions = [], []
    for k in range(copies):
        for e in base:
            if len(result) == n_samples:
                break
            sid = k * 1000 + e["sampleId"]
            result.append(dict(e, sampleId=sid, sample=dict(e["sample"], id=sid, filename=f"{k}-{e['sample']['filename']}")))
            predictions += [dict(p, sampleId=sid) for p in rows if p["sampleId"] == e["sampleId"]]
    doc["result"], doc["predictions"] = result, predictions
    path = folder / "big.json"
    path.write_text(json.dumps(doc))
    shutil.copy(folder / "motion.run.json", folder / "big.run.json")
    return path


def _chromium_seconds(page: Path, folder: Path) -> float:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    start = time.perf_counter()
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--proxy-server=127.0.0.1:9",
                    f"--user-data-dir={folder / 'profile'}", f"--screenshot={folder / 'shot.png'}",
                    "--window-size=1280,2000", page.as_uri()], capture_output=True, check=True, timeout=600)
    shutil.rmtree(folder / "profile", ignore_errors=True)
    return time.perf_counter() - start


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = _big_result(folder, args.samples)
        print(f"result: {args.samples} samples, {big.stat().st_size / 1e6:.1f} MB")
        start = time.perf_counter()
        write_report(big, folder / "big.html")
        print(f"write_report: {time.perf_counter() - start:.2f} s, page {(folder / 'big.html').stat().st_size / 1e6:.2f} MB")
        (folder / "empty.html").write_text("<!DOCTYPE html><html><body></body></html>")
        empty = _chromium_seconds(folder / "empty.html", folder)
        full = _chromium_seconds(folder / "big.html", folder)
        print(f"chromium open + screenshot: {full:.2f} s (an empty page: {empty:.2f} s)")


if __name__ == "__main__":
    main()
