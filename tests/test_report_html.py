"""``evalcore report --html``: the page renders in a real browser, offline, and is safe to open.

The browser tests run Debian's ``chromium`` headless with the network blocked (a proxy on a
closed port, no QUIC, no background networking) and its log on stderr, take a screenshot, and
read the one console line the page's script logs when it ran (``status`` ``ok`` unless a script
error happened, and the figures' positions; any "Uncaught" error fails the test): the pixels
where the main figure is must not be blank. Without chromium they skip (CI installs it
and fails on skips). Results come from ``fixture_outputs`` (``run_bundle`` + ``write_outputs``).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from evalcore.cli import main
from evalcore.report_html import load_view, render_report, write_report

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (Debian's package; .ci/run installs it)")
WINDOW = (1280, 2000)


def _chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={profile}",
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
           f"--window-size={WINDOW[0]},{WINDOW[1]}", *extra, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def _render(page: Path, tmp_path: Path) -> tuple[dict, np.ndarray]:
    """(what the script logged, the screenshot as an RGB array) of ``page`` in headless chromium."""
    from PIL import Image

    shot = tmp_path / "shot.png"
    run = _chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--enable-logging=stderr", "--v=0")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "evalcore-report-error" in line], console
    logged = [m.group(1) for line in console for m in [re.search(r'"evalcore-report (\{.*\})", source:', line)] if m]
    assert len(logged) == 1, console or run.stderr[-2000:]
    return json.loads(logged[0]), np.asarray(Image.open(shot).convert("RGB"))


def _check_drew(attrs: dict, pixels: np.ndarray, figure: str) -> None:
    """The script ran without error and ``figure`` is on screen, with colours (not blank)."""
    assert attrs["status"] == "ok", attrs
    figures = attrs["figures"]
    assert figure in figures, figures
    x, y, w, h = figures[figure]
    assert w > 50 and h > 50 and y + h <= WINDOW[1], (figure, figures[figure])
    crop = pixels[y:y + h, x:x + w].reshape(-1, 3).astype(int)
    not_white = (crop < 235).any(axis=1)
    assert not_white.mean() > 0.01, f"{figure} looks blank: {not_white.mean():.3f} of its pixels drawn"
    colours = {tuple(c // 32) for c in crop[not_white][:: max(1, not_white.sum() // 5000)]}
    assert len(colours) >= 3, f"{figure} has {len(colours)} colours only"


@pytest.fixture(scope="module")
def results(fixture_outputs):
    """Result paths of the fixture runs the page is tested on."""
    return {name: fixture_outputs(bundle, variant) / "result.json" for name, (bundle, variant) in {
        "classification": ("motion", "float32"), "int8": ("motion", "int8"), "regression": ("regression", "float32"),
        "visual-anomaly": ("visual-anomaly", "float32"), "fomo": ("fomo", "float32"),
        "yolov5": ("yolov5", "float32")}.items()}


CASES = {  # name -> (the result, its bundle or None, the figure that must be drawn, --compare with)
    "classification": ("classification", None, "matrix", "int8"),
    "regression": ("regression", None, "scatter", None),
    "anomaly-kmeans": ("classification", None, "worst", None),
    "visual-anomaly": ("visual-anomaly", "visual-anomaly", "matrix", None),
    "fomo": ("fomo", "fomo", "worst", None),
    "yolov5": ("yolov5", "yolov5", "pr", None),
}


@needs_chromium
@pytest.mark.parametrize("case", list(CASES))
def test_page_renders_offline_in_chromium(case, results, tmp_path):
    """Without it a page could break (a script error, an empty figure) and only a user would see it."""
    name, bundle, figure, other = CASES[case]
    out = tmp_path / "report.html"
    args = [str(results[name]), "--html", str(out)]
    if bundle:
        args += ["--bundle", str(REPO / "fixtures" / bundle)]
    if other:
        args += ["--compare", str(results[other])]
    assert main(["report", *args]) == 0
    attrs, pixels = _render(out, tmp_path)
    _check_drew(attrs, pixels, figure)
    if other:
        assert {"matrix-a", "matrix-b"} <= set(attrs["figures"])


@needs_chromium
def test_hostile_label_is_text_not_markup(results, tmp_path):
    """Without it a label or file name could run script in the reader's browser."""
    doc = json.loads(results["classification"].read_text())
    evil = "<script>alert(1)</script>"
    quote = "\"'><img src=x onerror=alert(2)>"
    doc = json.loads(json.dumps(doc).replace('"idle"', json.dumps(evil)).replace('"wave.2"', json.dumps(quote)))
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "evil.html"
    assert main(["report", str(path), "--html", str(out)]) == 0
    page = out.read_text()
    assert evil not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    attrs, pixels = _render(out, tmp_path)
    _check_drew(attrs, pixels, "matrix")
    dom = _chromium(out, tmp_path / "profile-text", "--dump-dom").stdout
    assert evil not in dom and '<img src="x"' not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # as text, also where the script wrote it


def test_scores_shown_as_percentages_on_either_scale(results, tmp_path):
    """Without it a fraction-scale result (Studio's or --compat score-scale=fraction) would read 0.88%."""
    doc = json.loads(results["classification"].read_text())
    acc = doc["accuracy"]
    fraction = json.loads(json.dumps(doc))
    for key in ("accuracyScore", "balancedAccuracyScore", "anomalyAccuracyScore", "noAnomalyAccuracyScore"):
        fraction["accuracy"][key] = acc[key] / 100
    (tmp_path / "f.json").write_text(json.dumps(fraction))
    expected = f"{acc['accuracyScore']:.2f}%"
    for path in (results["classification"], tmp_path / "f.json"):
        view = load_view(path)
        assert expected in render_report(view)
    assert load_view(tmp_path / "f.json").scale == "fraction"


def test_matrix_counts_and_row_shares_match_the_result(results):
    """Without it the heat map could show other numbers than the result's matrix."""
    doc = json.loads(results["classification"].read_text())
    page = render_report(load_view(results["classification"]))
    matrix = doc["accuracy"]["confusionMatrixValues"]
    for actual, row in matrix.items():
        total = sum(row.values())
        for predicted, count in row.items():
            tip = f"{actual} → {predicted}: {count} ({count / total * 100:.1f}% of the row)"
            assert html.escape(tip, quote=True) in page, tip


def test_large_result_is_summarised(results, tmp_path):
    """Without it 100k samples would put 100k drawings in one page."""
    doc = json.loads(results["classification"].read_text())
    copies = 100
    doc["result"] = [dict(e, sampleId=k * 1000 + e["sampleId"], sample=dict(e["sample"], filename=f"{k}-{e['sample']['filename']}"))
                     for k in range(copies) for e in doc["result"]]
    doc["predictions"] = [dict(p, sampleId=k * 1000 + p["sampleId"]) for k in range(copies) for p in doc["predictions"]]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "big.html"
    write_report(path, out, worst=5)
    page = out.read_text()
    assert page.count('class="sample"') == 5
    assert f"(of {copies * 10} samples" in page
    rows = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>', page).group(1))
    assert len(rows) == copies * 10 and rows[0][3] >= rows[-1][3]


def test_bad_input_exits_2(tmp_path, capsys):
    """Without it a wrong file would end in a traceback (exit 1) instead of a message."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["report", str(bad), "--html", str(tmp_path / "o.html")]) == 2
    assert "bad.json" in capsys.readouterr().err
    bad.write_text("{}")
    assert main(["report", str(bad), "--html", str(tmp_path / "o.html")]) == 2
    assert not (tmp_path / "o.html").exists()
    assert main(["report", str(bad), "--html", str(tmp_path / "missing" / "o.html")]) == 2


def test_detection_without_bundle_says_the_curve_needs_it(results):
    """Without it a missing precision-recall curve would go unexplained."""
    page = render_report(load_view(results["yolov5"]))
    assert "Precision-recall curves need COCO" in page and 'id="pr"' not in page


def test_wrong_types_anywhere_never_crash(results, tmp_path):
    """Without it a result with an odd field (a string for a list, NaN) would end in a traceback."""
    import random

    from evalcore.errors import EvalcoreError

    def paths(o, p=()):
        yield p
        items = o.items() if isinstance(o, dict) else enumerate(o[:2]) if isinstance(o, list) else ()
        for k, v in items:
            yield from paths(v, (*p, k))

    rng = random.Random(7)
    for name in ("classification", "regression", "visual-anomaly", "yolov5"):
        doc = json.loads(results[name].read_text())
        where = list(paths(doc))[1:]
        for _ in range(60):
            bad = json.loads(json.dumps(doc))
            *head, last = rng.choice(where)
            node = bad
            for k in head:
                node = node[k]
            node[last] = rng.choice(["x", None, [], {}, 5, True, [1], {"a": 1}, float("nan"), float("inf")])
            path = tmp_path / "odd.json"
            path.write_text(json.dumps(bad))
            try:
                page = render_report(load_view(path))
            except EvalcoreError:
                continue
            assert page.endswith("</html>\n")
