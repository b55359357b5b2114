"""The evaluation report: one self-contained HTML file (inline SVG, no scripts, no network) with
the metrics, the confusion matrix, ROC, precision-recall and calibration charts and the
per-segment table. `render_report` is pure: figures in, text out; the stage writes the file."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

W, H, PAD = 360, 300, 44


@dataclass
class Evaluation:
    """Everything the evaluate stage computed for one model on one dataset."""

    run_id: str
    model_id: str
    task: str
    dataset: str
    metrics: dict[str, float | None]
    segments: list[dict[str, Any]] = field(default_factory=list)  # slice, segment, metric, value
    curves: list[dict[str, Any]] = field(default_factory=list)  # curve, x, y, threshold, n


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4f}"
    return html.escape(str(value))


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
    """An SVG chart of points on [0, 1] x [0, 1]."""

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
    clean = [(x, y) for x, y in points if x is not None and y is not None]
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


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def segment_table(evaluation: Evaluation) -> str:
    rows = [r for r in evaluation.segments if r["slice"] != "all"]
    if not rows:
        return "<p>No slice columns configured ([evaluate] slices in the config).</p>"
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    keep = [m for m in metrics if m not in ("tp", "fp", "fn", "tn")]
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        grouped.setdefault((r["slice"], r["segment"]), {})[r["metric"]] = r["value"]
    return _table(
        ["slice", "segment", *keep],
        [[s, g, *(values.get(m) for m in keep)] for (s, g), values in sorted(grouped.items())],
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1d2330; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d5d9e2; padding: .3rem .6rem; text-align: right; }
th { background: #f0f2f7; } td:first-child, th:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
svg text { font-size: 11px; fill: #333; } svg .title { font-size: 13px; font-weight: 600; }
svg .count { font-size: 14px; font-weight: 600; }
.frame { fill: #fafbfd; stroke: #c9ced8; } .diagonal { stroke: #aaa; stroke-dasharray: 4 4; }
.line { fill: none; stroke: #2f6fdf; stroke-width: 2; } circle { fill: #2f6fdf; }
.meta { color: #5b6475; }
"""


def render_report(evaluation: Evaluation) -> str:
    """The whole report as one HTML document."""
    e = evaluation
    overall = [[k, v] for k, v in e.metrics.items() if k not in ("tp", "fp", "fn", "tn")]
    charts = []
    if e.task == "binary":
        by_curve: dict[str, list[tuple[float, float]]] = {}
        for c in sorted(e.curves, key=lambda c: (c["curve"], c["x"] or 0, c["y"] or 0)):
            by_curve.setdefault(c["curve"], []).append((c["x"], c["y"]))
        auc = _fmt(e.metrics.get("roc_auc"))
        ap = _fmt(e.metrics.get("average_precision"))
        charts = [
            line_chart(
                f"ROC (AUC {auc})",
                by_curve.get("roc", []),
                "false positive rate",
                "true positive rate",
                diagonal=True,
            ),
            line_chart(
                f"Precision-recall (AP {ap})", by_curve.get("pr", []), "recall", "precision"
            ),
            line_chart(
                "Calibration",
                by_curve.get("calibration", []),
                "mean predicted score",
                "fraction positive",
                diagonal=True,
                markers=True,
            ),
            confusion_chart(e.metrics),
        ]
    title = f"Evaluation of {e.model_id}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="meta">run {html.escape(e.run_id)} &middot; task {html.escape(e.task)} &middot;
dataset {html.escape(e.dataset)} &middot; every figure computed by SQL in the warehouse</p>
<h2>Metrics</h2>
{_table(["metric", "value"], overall)}
{'<h2>Charts</h2><div class="charts">' + "".join(charts) + "</div>" if charts else ""}
<h2>Per segment</h2>
{segment_table(e)}
</body></html>
"""
