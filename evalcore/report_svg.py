"""Inline SVG figures for ``evalcore report --html``: heat map, line charts, scatter, boxes, PR curves.

Plain SVG strings written here, not a plotting library: the page must open offline from one file,
a few dozen small figures need no more than rectangles, polylines and text, and no dependency
(matplotlib, plotly) has to be installed or kept in step. Every string that comes from a result
(labels, file names) goes through ``esc``; numbers are formatted here, so nothing else reaches the
markup.
"""

from __future__ import annotations

import math
from html import escape

#: Line colours (colour-blind friendly order, Okabe-Ito), reused cyclically.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000")


def esc(text: object) -> str:
    """``text`` as safe HTML/SVG text or attribute value (quotes escaped too)."""
    return escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _svg(width: float, height: float, body: list[str], *, fig_id: str | None = None, label: str = "") -> str:
    ident = f' id="{esc(fig_id)}"' if fig_id else ""
    return (f'<svg class="fig"{ident} xmlns="http://www.w3.org/2000/svg" width="{num(width)}" '
            f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" role="img" '
            f'aria-label="{esc(label)}">' + "".join(body) + "</svg>")


def _text(x: float, y: float, text: object, *, size: int = 11, anchor: str = "start", fill: str = "#222",
          weight: str = "normal", rotate: float | None = None) -> str:
    transform = f' transform="rotate({num(rotate)} {num(x)} {num(y)})"' if rotate is not None else ""
    return (f'<text x="{num(x)}" y="{num(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}"{transform}>{esc(text)}</text>')


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell_colour(share: float, diagonal: bool) -> str:
    """Green for the diagonal, red off it; the darker the larger the row share (0-1)."""
    share = min(max(share, 0.0), 1.0)
    if share == 0:
        return "#f7f7f7"
    base = (26, 150, 65) if diagonal else (215, 48, 39)
    mix = 0.15 + 0.85 * share
    r, g, b = (round(255 + (c - 255) * mix) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(labels: list[str], columns: list[str], counts: list[list[float]], *, fig_id: str | None = None) -> str:
    """Confusion matrix: rows actual, columns predicted; each cell its count and row percentage."""
    cell = 64 if len(columns) <= 8 else 48 if len(columns) <= 16 else 34
    left = 14 + 7 * min(max((len(x) for x in labels), default=4), 22)
    top = 30 + 7 * min(max((len(x) for x in columns), default=4), 22)
    width = left + cell * len(columns) + 10
    height = top + cell * len(labels) + 10
    body = [_text(left + cell * len(columns) / 2, 12, "predicted →", size=11, anchor="middle", fill="#555"),
            _text(10, top - 6, "expected ↓", size=11, fill="#555")]
    for j, name in enumerate(columns):
        x = left + cell * j + cell / 2
        body.append(_text(x, top - 6, _short(name, 22), size=11, anchor="start", rotate=-45))
    for i, name in enumerate(labels):
        y = top + cell * i
        body.append(_text(left - 6, y + cell / 2 + 4, _short(name, 22), size=11, anchor="end"))
        row = counts[i]
        total = sum(row)
        for j, value in enumerate(row):
            share = value / total if total else 0.0
            share = share if math.isfinite(share) else 0.0
            x = left + cell * j
            fill = _cell_colour(share, labels[i] == columns[j])
            body.append(f'<rect x="{num(x)}" y="{num(y)}" width="{cell - 1}" height="{cell - 1}" fill="{fill}">'
                        f'<title>{esc(labels[i])} → {esc(columns[j])}: {esc(count_text(value))} '
                        f'({share * 100:.1f}% of the row)</title></rect>')
            ink = "#fff" if share > 0.55 else "#222"
            body.append(_text(x + cell / 2, y + cell / 2 - (2 if cell >= 48 else -3), count_text(value),
                              size=12 if cell >= 48 else 10, anchor="middle", fill=ink, weight="bold"))
            if cell >= 48:
                body.append(_text(x + cell / 2, y + cell / 2 + 13, f"{share * 100:.0f}%", size=10,
                                  anchor="middle", fill=ink))
    return _svg(width, height, body, fig_id=fig_id, label="confusion matrix")


def count_text(value: float) -> str:
    """A matrix entry: an integer as it is, anything else with two decimals."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"  # nan, inf as such


def _ticks(lo: float, hi: float, n: int = 5) -> tuple[list[float], int]:
    """Round tick values between lo and hi, and the decimals they need."""
    if hi <= lo:
        return [lo], 2
    raw = (hi - lo) / n
    step = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    first = math.ceil(lo / step) * step
    out = []
    k = 0
    while first + k * step <= hi + step * 1e-9 and k < 50:
        out.append(first + k * step)
        k += 1
    return out, decimals


def _tick_text(value: float, decimals: int) -> str:
    text = f"{value:.{min(decimals, 8)}f}"
    return "0" if float(text) == 0 else text


class Axes:
    """A plot area with linear x and y scales, its frame, ticks and axis titles."""

    def __init__(self, width: float, height: float, xr: tuple[float, float], yr: tuple[float, float],
                 *, xlabel: str = "", ylabel: str = "", left: float = 48, bottom: float = 32):
        self.width, self.height = width, height
        self.left, self.right, self.top, self.bottom = left, 10, 10, bottom
        x0, x1 = xr
        y0, y1 = yr
        if x1 <= x0:
            x0, x1 = x0 - 0.5, x0 + 0.5
        if y1 <= y0:
            y0, y1 = y0 - 0.5, y0 + 0.5
        self.xr, self.yr = (x0, x1), (y0, y1)
        self.body: list[str] = []
        self._frame(xlabel, ylabel)

    def x(self, v: float) -> float:
        """The pixel column of data value ``v``."""
        x0, x1 = self.xr
        return self.left + (v - x0) / (x1 - x0) * (self.width - self.left - self.right)

    def y(self, v: float) -> float:
        """The pixel row of data value ``v``."""
        y0, y1 = self.yr
        return self.height - self.bottom - (v - y0) / (y1 - y0) * (self.height - self.top - self.bottom)

    def _frame(self, xlabel: str, ylabel: str) -> None:
        b = self.body
        b.append(f'<rect x="{num(self.left)}" y="{num(self.top)}" width="{num(self.width - self.left - self.right)}" '
                 f'height="{num(self.height - self.top - self.bottom)}" fill="#fff" stroke="#bbb"/>')
        ticks, decimals = _ticks(*self.xr)
        for t in ticks:
            b.append(f'<line x1="{num(self.x(t))}" x2="{num(self.x(t))}" y1="{num(self.top)}" '
                     f'y2="{num(self.height - self.bottom)}" stroke="#eee"/>')
            b.append(_text(self.x(t), self.height - self.bottom + 12, _tick_text(t, decimals), size=9,
                           anchor="middle"))
        ticks, decimals = _ticks(*self.yr)
        for t in ticks:
            b.append(f'<line x1="{num(self.left)}" x2="{num(self.width - self.right)}" y1="{num(self.y(t))}" '
                     f'y2="{num(self.y(t))}" stroke="#eee"/>')
            b.append(_text(self.left - 4, self.y(t) + 3, _tick_text(t, decimals), size=9, anchor="end"))
        if xlabel:
            b.append(_text((self.left + self.width - self.right) / 2, self.height - 4, xlabel, size=10,
                           anchor="middle", fill="#555"))
        if ylabel:
            b.append(_text(11, (self.top + self.height - self.bottom) / 2, ylabel, size=10, anchor="middle",
                           fill="#555", rotate=-90))

    def line(self, xs: list[float], ys: list[float], colour: str, *, dash: bool = False, title: str = "") -> None:
        """A polyline (one point is drawn as a dot)."""
        pts = " ".join(f"{num(self.x(a))},{num(self.y(b))}" for a, b in zip(xs, ys))
        tip = f"<title>{esc(title)}</title>" if title else ""
        if len(xs) == 1:
            self.body.append(f'<circle cx="{num(self.x(xs[0]))}" cy="{num(self.y(ys[0]))}" r="3" fill="{colour}">'
                             f'{tip}</circle>')
            return
        style = ' stroke-dasharray="5 4"' if dash else ""
        self.body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"{style}>'
                         f'{tip}</polyline>')

    def hline(self, v: float, colour: str, title: str) -> None:
        """A dashed horizontal line (a threshold) when ``v`` is inside the y range."""
        if self.yr[0] <= v <= self.yr[1]:
            self.body.append(f'<line x1="{num(self.left)}" x2="{num(self.width - self.right)}" y1="{num(self.y(v))}" '
                             f'y2="{num(self.y(v))}" stroke="{colour}" stroke-dasharray="3 3">'
                             f'<title>{esc(title)}</title></line>')

    def band(self, x0: float, x1: float, colour: str, title: str) -> None:
        """A translucent vertical band from x0 to x1 (e.g. a misclassified window), clipped to the axes."""
        x0, x1 = max(x0, self.xr[0]), min(x1, self.xr[1])
        self.body.append(f'<rect x="{num(self.x(x0))}" y="{num(self.top)}" width="{num(max(self.x(x1) - self.x(x0), 2))}" '
                         f'height="{num(self.height - self.top - self.bottom)}" fill="{colour}" opacity="0.12">'
                         f'<title>{esc(title)}</title></rect>')

    def dot(self, x: float, y: float, colour: str, r: float = 2.2) -> None:
        """A point."""
        self.body.append(f'<circle cx="{num(self.x(x))}" cy="{num(self.y(y))}" r="{num(r)}" fill="{colour}" '
                         'fill-opacity="0.7"/>')

    def svg(self, *, fig_id: str | None = None, label: str = "") -> str:
        """The finished figure."""
        return _svg(self.width, self.height, self.body, fig_id=fig_id, label=label)


def legend(names: list[str], colours: list[str]) -> str:
    """An HTML legend (swatch + name) to put under a chart."""
    items = "".join(f'<span class="key"><i style="background:{c}"></i>{esc(n)}</span>' for n, c in zip(names, colours))
    return f'<div class="legend">{items}</div>'


def image_boxes(width: int, height: int, *, image_uri: str | None, truth: list[dict], predicted: list[dict],
                grid: list[list[float]] | None = None, grid_max: float | None = None, scale: float = 1.0,
                fig_id: str | None = None) -> str:
    """An image (or a grey frame) with ground-truth boxes (green) and predictions (orange, with scores).

    ``truth`` boxes are in image pixels (``x, y, width, height``); ``predicted`` ones are fractions
    of the image (as Studio's prediction rows hold them). ``grid`` is a visual-anomaly score grid
    drawn as translucent cells, red where a cell reaches ``grid_max``.
    """
    w, h = width * scale, height * scale
    body = []
    if image_uri:
        body.append(f'<image href="{esc(image_uri)}" x="0" y="0" width="{num(w)}" height="{num(h)}" '
                    'preserveAspectRatio="none"/>')
    else:
        body.append(f'<rect x="0" y="0" width="{num(w)}" height="{num(h)}" fill="#e8e8e8"/>')
    if grid:
        rows, cols = len(grid), max(len(r) for r in grid)
        top = grid_max if grid_max else max(max(r) for r in grid) or 1.0
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                share = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
                body.append(f'<rect x="{num(j * w / cols)}" y="{num(i * h / rows)}" width="{num(w / cols)}" '
                            f'height="{num(h / rows)}" fill="#d7301f" fill-opacity="{share * 0.6:.2f}">'
                            f'<title>score {value:.4g}</title></rect>')
    for box in truth:
        body.append(_box(box["x"] * scale, box["y"] * scale, box["width"] * scale, box["height"] * scale,
                         "#1a9641", str(box.get("label", ""))))
    for box in predicted:
        tag = f'{box.get("label", "")} {box["score"]:.2f}' if isinstance(box.get("score"), (int, float)) else str(
            box.get("label", ""))
        body.append(_box(box["x"] * w, box["y"] * h, box["width"] * w, box["height"] * h, "#e66101", tag, below=True))
    body.append(f'<rect x="0" y="0" width="{num(w)}" height="{num(h)}" fill="none" stroke="#999"/>')
    return _svg(w, h, body, fig_id=fig_id, label="sample image with boxes")


def _box(x: float, y: float, w: float, h: float, colour: str, tag: str, *, below: bool = False) -> str:
    ty = y + h + 11 if below else y - 3
    return (f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(w, 2))}" height="{num(max(h, 2))}" fill="none" '
            f'stroke="{colour}" stroke-width="2"><title>{esc(tag)}</title></rect>'
            + _text(x, ty, _short(tag, 24), size=10, fill=colour, weight="bold"))
