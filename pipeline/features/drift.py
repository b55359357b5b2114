"""The drift query (sql/monitor/drift.sql) for one model: the scored rows, cleaned by the
model's own SQL, against its frozen statistics and training bins, judged by [monitor]."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.config import MonitorConfig
from pipeline.core.vocabulary import DriftMetric, FeatureType
from pipeline.features.bins import Bins
from pipeline.features.sql import Source, Spec, clean_sql
from pipeline.features.stats import Stats
from pipeline.render.templates import Rendered, Templates

#: the PSI's floor for a bin's share: an empty bin (share 0) would make ln(s / t) infinite.
#: 1e-4, the usual choice: a bin empty on one side adds about its other share times
#: ln(share / 1e-4), so an empty bin that held 10% of training adds about 0.7.
PSI_EPSILON = 1e-4


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)


def drift_context(
    spec: Spec, stats: Stats, bins: Bins | None, monitor: MonitorConfig
) -> dict[str, object]:
    """What drift.sql needs of the model and of [monitor]."""
    frozen = bins.features if bins is not None else {}
    numeric: list[dict[str, object]] = []
    categorical: list[dict[str, object]] = []
    max_bins = 0
    for f in spec.features:
        s = stats[f.column]
        null_base = _float((s.nulls or 0) / s.rows if s.rows else 0.0)
        if f.type == FeatureType.numeric:
            b = frozen.get(f.column)
            cut = b is not None and b.rows > 0
            max_bins = max(max_bins, len(b.shares) if b is not None and cut else 0)
            numeric.append(
                {
                    "column": f.column,
                    "edges": list(b.edges) if b is not None and cut else None,
                    "shares": list(b.shares) if b is not None and cut else None,
                    "mean": _float(s.mean),
                    "std": _float(s.std),
                    "null_base": null_base,
                }
            )
        else:
            known = sorted(c.category for c in s.vocabulary)
            none = dict.fromkeys(("edges", "shares", "mean", "std"))  # one wide row holds all
            categorical.append({"column": f.column, "known": known, "null_base": null_base, **none})
    m = monitor
    thresholds = {
        DriftMetric.null_rate: (m.null_rate_warn, m.null_rate_fail),
        DriftMetric.mean_shift: (m.shift_warn, m.shift_fail),
        DriftMetric.psi: (m.psi_warn, m.psi_fail),
        DriftMetric.unseen_share: (m.unseen_warn, m.unseen_fail),
    }
    return {
        "numeric": numeric,
        "categorical": categorical,
        "max_bins": max_bins,
        "epsilon": PSI_EPSILON,
        "min_rows": m.min_rows,
        "thresholds": {
            str(k): {"warn": _float(w), "fail": _float(f)} for k, (w, f) in thresholds.items()
        },
    }


def drift_sql(
    templates: Templates,
    model_templates: Templates,
    spec: Spec,
    stats: Stats,
    bins: Bins | None,
    sources: list[Source],
    datasets: list[str],
    run_id: str,
    model_id: str,
    monitor: MonitorConfig | None = None,
    rows_filter: Callable[[str], str] | None = None,
) -> Rendered:
    """The drift rows of `datasets`: the raw `sources` cleaned by the model's own clean.sql
    (`model_templates`), so drift is measured on exactly the rows the model scores, by the
    project's sql/monitor/drift.sql (`templates`); `rows_filter` narrows the cleaned rows to
    those being scored (incremental scoring: the rows the model has not scored yet)."""
    clean = clean_sql(model_templates, spec, sources, with_label=False).sql
    return templates.render(
        "monitor/drift.sql",
        relation=f"({clean if rows_filter is None else rows_filter(clean)})",
        datasets=datasets,
        run_id=run_id,
        model_id=model_id,
        **drift_context(spec, stats, bins, monitor or MonitorConfig()),
    )
