"""What every chart of the report draws along its axes: round tick values whose labels never
overlap, and a long curve thinned to what an SVG can carry. Pure: numbers in, numbers out."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

#: px per character of an 11px tick label (a digit is about 0.6 em; "-" and "." are narrower)
CHAR_W = 6.6
#: px a tick label takes up along a vertical axis (the font size and a little leading)
LINE_H = 13.0
#: px left clear between two neighbouring labels
GAP = 4.0
#: at most this many points of one curve are drawn; the warehouse table keeps every one
MAX_POINTS = 1000


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values within [lo, hi]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / (count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda c: abs(c - raw))
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def tick_label(v: float) -> str:
    """A number as a chart shows it in passing (a bar's tooltip): four significant digits."""
    return f"{v:.4g}"


def tick_labels(ticks: list[float]) -> list[str]:
    """The ticks written alike, with the fewest decimals that tell them apart (12,350 stays
    12350, not 1.235e+04); very large or very small numbers in the short scientific form."""
    top = max(abs(t) for t in ticks)
    if top >= 1e6 or 0 < top < 1e-3:
        return [tick_label(t) for t in ticks]
    for decimals in range(11):  # a few tries at most
        labels = [f"{t:.{decimals}f}" for t in ticks]
        if all(
            abs(float(a) - t) <= 1e-9 * max(top, 1e-12) for a, t in zip(labels, ticks, strict=True)
        ):
            break
    return ["0" if float(a) == 0 else a for a in labels]


def label_width(label: str) -> float:
    """The label's width in px along a horizontal axis (an estimate: no font metrics in SVG)."""
    return len(label) * CHAR_W


def spaced_ticks(
    lo: float,
    hi: float,
    place: Callable[[float], float],
    extent: Callable[[str], float] = label_width,
    count: int = 5,
) -> list[tuple[float, str]]:
    """(pixel, label) of the round ticks over [lo, hi], leaving out any label that would
    overlap the one kept before it. `place` puts a value on the axis in px (either
    direction); `extent` is a label's size along the axis, centred on its tick."""
    values = nice_ticks(lo, hi, count)
    ticks = sorted(zip(map(place, values), tick_labels(values), strict=True))
    kept: list[tuple[float, str]] = []
    end = -math.inf  # where the last kept label ends, in px
    for at, label in ticks:  # a handful of ticks
        half = extent(label) / 2
        if at - half >= end + GAP:
            kept.append((at, label))
            end = at + half
    return kept


def thinned(
    points: Sequence[tuple[float, float]], key: Callable[[float, float], str]
) -> list[tuple[float, float]]:
    """A curve with at most MAX_POINTS points, chosen deterministically so its shape stays:
    first the points drawn on the same spot as the one before them go (`key` is where a point
    is drawn, as the SVG writes it, so this changes nothing visible); if still too many, every
    k-th point and the last. A curve of MAX_POINTS points or fewer comes back as it is."""
    if len(points) <= MAX_POINTS:
        return list(points)
    distinct: list[tuple[float, float]] = []
    last = None
    for x, y in points:  # the points the report reads anyway, once each
        spot = key(x, y)
        if spot != last:
            distinct.append((x, y))
            last = spot
    if distinct[-1] != points[-1]:
        distinct[-1] = points[-1]  # the same spot; keep the curve's true end
    if len(distinct) <= MAX_POINTS:
        return distinct
    k = math.ceil((len(distinct) - 1) / (MAX_POINTS - 2))  # room for the last point too
    kept = distinct[::k]
    if kept[-1] != distinct[-1]:
        kept.append(distinct[-1])
    return kept
