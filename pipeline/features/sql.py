"""The preprocessing SQL as one unit: clean.sql composed with features.sql over any sources.

Preprocess, batch scoring and `TrainedModel.predict(df)` all call `transform_sql`, so the three
cannot drift apart: the only thing that differs is which tables the rows come from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.config import FeatureConfig
from pipeline.core.vocabulary import Dataset
from pipeline.features.plan import FeaturePlan
from pipeline.render.templates import Rendered, Templates


@dataclass(frozen=True)
class Source:
    """A raw table to read. A labelled one is split into train/holdout by the hashed id;
    `dataset` tags the rows of an unlabelled one."""

    table: str
    labelled: bool
    dataset: Dataset


@dataclass(frozen=True)
class Spec:
    """What the preprocessing SQL needs besides statistics; saved in the model directory."""

    id: str
    label: str
    features: tuple[FeatureConfig, ...]
    holdout_fraction: float
    salt: str
    #: the column hashed for the split; None: the id (absent from specs saved before it existed)
    split_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The spec as model.json keeps it (and the model id hashes it)."""
        return {
            "id": self.id,
            "label": self.label,
            "features": [vars(f) for f in self.features],
            "holdout_fraction": self.holdout_fraction,
            "salt": self.salt,
            # only when set: the dict of a config without it stays as it was
            **({"split_by": self.split_by} if self.split_by else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Spec:
        return cls(
            id=d["id"],
            label=d["label"],
            features=tuple(FeatureConfig(**f) for f in d["features"]),
            holdout_fraction=float(d["holdout_fraction"]),
            salt=d["salt"],
            split_by=d.get("split_by"),
        )


def clean_sql(
    templates: Templates, spec: Spec, sources: list[Source], with_label: bool
) -> Rendered:
    return templates.render(
        "preprocess/clean.sql",
        sources=[vars(s) for s in sources],
        id=spec.id,
        label=spec.label if with_label else None,
        features=[vars(f) for f in spec.features],
        split={
            "holdout_fraction": spec.holdout_fraction,
            "salt": spec.salt,
            "by": spec.split_by,
        },
    )


def fit_stats_sql(templates: Templates, spec: Spec, relation: str, run_id: str) -> Rendered:
    return templates.render(
        "preprocess/fit_stats.sql",
        relation=relation,
        features=[vars(f) for f in spec.features],
        run_id=run_id,
    )


def features_sql(
    templates: Templates,
    spec: Spec,
    plans: list[FeaturePlan],
    relation: str,
    datasets: list[str] | None,
    with_label: bool,
) -> Rendered:
    return templates.render(
        "preprocess/features.sql",
        relation=relation,
        datasets=datasets,
        id=spec.id,
        label=spec.label if with_label else None,
        plans=[p.to_dict() for p in plans],
    )


def transform_sql(
    templates: Templates,
    spec: Spec,
    plans: list[FeaturePlan],
    sources: list[Source],
    datasets: list[str] | None,
    with_label: bool,
) -> tuple[str, dict[str, str]]:
    """Raw rows to model-ready features in one query; returns the SQL and its template hashes."""
    clean = clean_sql(templates, spec, sources, with_label)
    features = features_sql(templates, spec, plans, f"({clean.sql})", datasets, with_label)
    return features.sql, {clean.name: clean.hash, features.name: features.hash}


def unseen_sql(
    templates: Templates,
    spec: Spec,
    plans: list[FeaturePlan],
    sources: list[Source],
    datasets: list[str],
    run_id: str,
    model_id: str,
) -> Rendered:
    """Rows per categorical value the training split never had, per feature and dataset."""
    clean = clean_sql(templates, spec, sources, with_label=False)
    return templates.render(
        "preprocess/unseen.sql",
        relation=f"({clean.sql})",
        datasets=datasets,
        plans=[p.to_dict() for p in plans],
        run_id=run_id,
        model_id=model_id,
    )
