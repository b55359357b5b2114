"""The report's charts: inline SVG drawn from figures the warehouse computed (binary: ROC,
precision-recall, calibration and the confusion counts; multiclass: the K x K confusion
matrix; regression: predicted against actual and the residuals). Pure: figures in, SVG out."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from pipeline.evaluation.axis import LINE_H, spaced_ticks, thinned, tick_label

W, H, PAD = 360, 300, 44


def _scale(v: float, lo: float, hi: float, size: int, flip: bool = False) -> float:
    t = 0.0 if hi == lo else (v - lo) / (hi - lo)
    return PAD + (1 - t if flip else t) * (size - 2 * PAD)


def line_chart(
    title: str,
    points: list[tuple[float, float]],
    x_label: str,
    y_label: str,
    diagonal: bool = False,
    markers: bool = False,
) -> str:
    """An SVG chart of points on [0, 1] x [0, 1]; a long curve is thinned (axis.thinned)."""

    def px(x: float, y: float) -> str:
        return f"{_scale(x, 0, 1, W):.1f},{_scale(y, 0, 1, H, flip=True):.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{W / 2}" y="18" text-anchor="middle" class="title">{html.escape(title)}</text>',
        f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" class="frame"/>',
    ]
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = _scale(t, 0, 1, W), _scale(t, 0, 1, H, flip=True)
        parts.append(f'<text x="{x:.1f}" y="{H - PAD + 14}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{PAD - 6}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(
        f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{html.escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="12" y="{H / 2}" text-anchor="middle" transform="rotate(-90 12 {H / 2})">'
        f"{html.escape(y_label)}</text>"
    )
    if diagonal:
        parts.append(f'<polyline points="{px(0, 0)} {px(1, 1)}" class="diagonal"/>')
    clean = thinned([(x, y) for x, y in points if x is not None and y is not None], px)
    if clean:
        parts.append(f'<polyline points="{" ".join(px(x, y) for x, y in clean)}" class="line"/>')
        if markers:
            parts.extend(
                f'<circle cx="{px(x, y).split(",")[0]}" cy="{px(x, y).split(",")[1]}" r="3.5"/>'
                for x, y in clean
            )
    else:
        parts.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no points</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def confusion_chart(metrics: dict[str, float | None]) -> str:
    """A 2 x 2 heat map of the confusion counts (rows: actual, columns: predicted)."""
    cells = [("tn", 0, 0), ("fp", 0, 1), ("fn", 1, 0), ("tp", 1, 1)]
    top = max((metrics.get(k) or 0.0) for k, _, _ in cells) or 1.0
    size, off = 110, 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{off + 2 * size + 20}" '
        f'height="{off + 2 * size + 20}" role="img" aria-label="confusion matrix">',
        f'<text x="{off + size}" y="18" text-anchor="middle" class="title">Confusion matrix</text>',
        f'<text x="{off + size}" y="{off - 26}" text-anchor="middle">predicted</text>',
        f'<text x="{off / 2 - 10}" y="{off + size}" text-anchor="middle" '
        f'transform="rotate(-90 {off / 2 - 10} {off + size})">actual</text>',
    ]
    for i, name in enumerate(("negative", "positive")):
        at = off + i * size + size / 2
        parts.append(f'<text x="{at}" y="{off - 8}" text-anchor="middle">{name}</text>')
        parts.append(f'<text x="{off - 8}" y="{at}" text-anchor="end">{name[:3]}</text>')
    for key, row, col in cells:
        value = metrics.get(key) or 0.0
        shade = int(245 - 170 * value / top)
        x, y = off + col * size, off + row * size
        parts.append(
            f'<rect x="{x}" y="{y}" width="{size}" height="{size}" '
            f'fill="rgb({shade},{shade + 5 if shade < 250 else 250},255)" stroke="#fff"/>'
        )
        parts.append(
            f'<text x="{x + size / 2}" y="{y + size / 2 + 6}" text-anchor="middle" '
            f'class="count">{key.upper()} {value:,.0f}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _axes(
    title: str,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    x_label: str,
    y_label: str,
    label: str,
) -> tuple[list[str], Callable[[float, float], tuple[float, float]]]:
    """The frame, ticks and labels of a chart over the given ranges; returns the SVG parts and
    the function placing a data point in pixels."""
    (x0, x1), (y0, y1) = x_range, y_range

    def at(x: float, y: float) -> tuple[float, float]:
        return _scale(x, x0, x1, W), _scale(y, y0, y1, H, flip=True)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
        f'aria-label="{html.escape(label)}">',
        f'<text x="{W / 2}" y="18" text-anchor="middle" class="title">{html.escape(title)}</text>',
        f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" class="frame"/>',
    ]
    for px, text in spaced_ticks(x0, x1, lambda t: at(t, y0)[0]):
        parts.append(f'<text x="{px:.1f}" y="{H - PAD + 14}" text-anchor="middle">{text}</text>')
    for py, text in spaced_ticks(y0, y1, lambda t: at(x0, t)[1], lambda _: LINE_H):
        parts.append(f'<text x="{PAD - 6}" y="{py + 4:.1f}" text-anchor="end">{text}</text>')
    parts.append(
        f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{html.escape(x_label)}</text>'
    )
    parts.append(
        f'<text x="12" y="{H / 2}" text-anchor="middle" transform="rotate(-90 12 {H / 2})">'
        f"{html.escape(y_label)}</text>"
    )
    return parts, at


def _padded(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.04 or abs(hi) * 0.1 or 1.0
    return lo - margin, hi + margin


def scatter_chart(title: str, points: list[tuple[float, float]], x_label: str, y_label: str) -> str:
    """Predicted against actual on one scale for both axes, with the diagonal of a perfect
    model: points above it are over-predicted."""
    clean = [(x, y) for x, y in points if x is not None and y is not None]
    if not clean:
        return f"<p>{html.escape(title)}: no points.</p>"
    span = _padded([v for p in clean for v in p])
    parts, at = _axes(title, span, span, x_label, y_label, "predicted against actual")
    (ax, ay), (bx, by) = at(span[0], span[0]), at(span[1], span[1])
    parts.append(
        f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" class="diagonal"/>'
    )
    for x, y in clean:
        cx, cy = at(x, y)
        parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="2.2" class="dot"/>')
    parts.append("</svg>")
    return "\n".join(parts)


def histogram_chart(title: str, bins: list[tuple[float, float, float]], x_label: str) -> str:
    """Bars of (lower edge, upper edge, rows), with a line at zero."""
    if not bins:
        return f"<p>{html.escape(title)}: no rows.</p>"
    lo, hi = min(b[0] for b in bins), max(b[1] for b in bins)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    top = max(b[2] for b in bins)
    parts, at = _axes(title, (lo, hi), (0, top * 1.05), x_label, "rows", "residuals")
    for left, right, n in bins:
        (x0, y0), (x1, _) = at(left, n), at(right if right > left else hi, 0)
        width = max(x1 - x0 - 1, 1.0)
        height = at(lo, 0)[1] - y0
        parts.append(
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'class="bar"><title>{tick_label(left)} to {tick_label(right)}: {n:,.0f} rows'
            "</title></rect>"
        )
    if lo < 0 < hi:
        (zx, zy0), (_, zy1) = at(0, 0), at(0, top * 1.05)
        parts.append(
            f'<line x1="{zx:.1f}" y1="{zy0:.1f}" x2="{zx:.1f}" y2="{zy1:.1f}" class="diagonal"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _class_order(labels: set[str]) -> list[str]:
    """Classes in their natural order: numerically when every label is a number."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


MAX_CLASSES = 30


def class_confusion_chart(rows: list[dict[str, Any]]) -> str:
    """A K x K heat map (rows: actual, columns: predicted) of the counts, shaded by the share
    of the actual class, so a weak class stands out however few rows it has."""
    classes = _class_order({r["actual"] for r in rows} | {r["predicted"] for r in rows})
    if len(classes) > MAX_CLASSES:
        return (
            f"<p>{len(classes)} classes: too many to draw a confusion matrix; the counts are "
            "in the confusion table of the output schema.</p>"
        )
    counts = {(r["actual"], r["predicted"]): int(r["n"]) for r in rows}
    totals = {c: sum(n for (a, _), n in counts.items() if a == c) for c in classes}
    size = max(22, min(64, 400 // max(len(classes), 1)))
    off = 80
    side = off + len(classes) * size + 16
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{max(side, 260)}" height="{side + 18}" '
        'role="img" '
        f'aria-label="confusion matrix" class="confusion">',
        f'<text x="{side / 2}" y="18" text-anchor="middle" class="title">Confusion matrix</text>',
        f'<text x="{off + len(classes) * size / 2}" y="{off - 30}" text-anchor="middle">'
        "predicted</text>",
        f'<text x="14" y="{off + len(classes) * size / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {off + len(classes) * size / 2})">actual</text>',
    ]
    for i, c in enumerate(classes):
        at = off + i * size + size / 2
        name = html.escape(c if len(c) <= 10 else c[:9] + "…")
        parts.append(f'<text x="{at}" y="{off - 8}" text-anchor="middle">{name}</text>')
        parts.append(f'<text x="{off - 6}" y="{at + 4}" text-anchor="end">{name}</text>')
    font = 13 if size >= 40 else 9
    for i, actual in enumerate(classes):
        for j, predicted in enumerate(classes):
            n = counts.get((actual, predicted), 0)
            share = n / totals[actual] if totals[actual] else 0.0
            shade = int(245 - 175 * share)
            x, y = off + j * size, off + i * size
            ink = "#fff" if share > 0.6 else "#1d2330"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{size}" height="{size}" '
                f'fill="rgb({shade},{min(shade + 5, 250)},255)" stroke="#fff">'
                f"<title>actual {html.escape(actual)}, predicted {html.escape(predicted)}: "
                f"{n:,} rows ({share:.1%} of actual)</title></rect>"
            )
            parts.append(
                f'<text x="{x + size / 2}" y="{y + size / 2 + font / 3}" text-anchor="middle" '
                f'style="font-size:{font}px;fill:{ink}" class="cell">{n:,}</text>'
            )
    parts.append(f'<text x="{off}" y="{side + 8}">rows; shade: share of the actual class</text>')
    parts.append("</svg>")
    return "\n".join(parts)
