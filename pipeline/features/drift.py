"""The drift query (sql/monitor/drift.sql) for one model: the scored rows, cleaned by the
model's own SQL, against its frozen statistics and training bins, judged by [monitor]."""

from __future__ import annotations

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


def _repr(value: float | None) -> str | None:
    """A number as drift.sql takes it: its repr, parsed to the same double by both engines."""
    return None if value is None else repr(float(value))


def drift_context(
    spec: Spec, stats: Stats, bins: Bins | None, monitor: MonitorConfig
) -> dict[str, object]:
    """What drift.sql needs of the model and of [monitor]."""
    frozen = bins.features if bins is not None else {}
    numeric, categorical = [], []
    for f in spec.features:
        s = stats[f.column]
        null_base = _repr((s.nulls or 0) / s.rows if s.rows else 0.0)
        if f.type == FeatureType.numeric:
            b = frozen.get(f.column)
            cut = b is not None and b.rows > 0
            numeric.append(
                {
                    "column": f.column,
                    "edges": [repr(e) for e in b.edges] if b is not None and cut else None,
                    "shares": [repr(x) for x in b.shares] if b is not None and cut else None,
                    "mean": _repr(s.mean),
                    "std": _repr(s.std),
                    "null_base": null_base,
                }
            )
        else:
            known = sorted(c.category for c in s.vocabulary)
            categorical.append({"column": f.column, "known": known, "null_base": null_base})
    m = monitor
    thresholds = {
        DriftMetric.null_rate: (m.null_rate_warn, m.null_rate_fail),
        DriftMetric.mean_shift: (m.shift_warn, m.shift_fail),
        DriftMetric.psi: (m.psi_warn, m.psi_fail),
        DriftMetric.unseen_share: (m.unseen_warn, m.unseen_fail),
    }
    cut_bins = [len(f["shares"] or ()) for f in numeric]
    return {
        "numeric": numeric,
        "categorical": categorical,
        "max_bins": max(cut_bins, default=0),
        "epsilon": repr(PSI_EPSILON),
        "thresholds": {
            str(k): {"warn": _repr(w), "fail": _repr(f)} for k, (w, f) in thresholds.items()
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
) -> Rendered:
    """The drift rows of `datasets`: the raw `sources` cleaned by the model's own clean.sql
    (`model_templates`), so drift is measured on exactly the rows the model scores, by the
    project's sql/monitor/drift.sql (`templates`)."""
    clean = clean_sql(model_templates, spec, sources, with_label=False)
    return templates.render(
        "monitor/drift.sql",
        relation=f"({clean.sql})",
        datasets=datasets,
        run_id=run_id,
        model_id=model_id,
        **drift_context(spec, stats, bins, monitor or MonitorConfig()),
    )
