"""The training quantile bins of the numeric features, frozen with the model (bins.json) so
that every scoring run can measure the population stability index against the training split.

The edges and the rows per bin are SQL (sql/monitor/bin_edges.sql, bin_counts.sql) over the
training split's cleaned values, before imputation: exact ranks, not approximate quantiles,
so the same on DuckDB and BigQuery. Not part of the model id: they are a function of the same
training rows the id already hashes (through the exact statistics and the fingerprint), and
they change no prediction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.config import FeatureConfig
from pipeline.core.vocabulary import FeatureType
from pipeline.render.templates import Rendered, Templates

#: the model directory's file
BINS_FILE = "bins.json"


@dataclass(frozen=True)
class FeatureBins:
    """One numeric feature's bins: bin i holds edges[i-1] < x <= edges[i] (the first has no
    lower edge, the last no upper one), so len(shares) == len(edges) + 1; `rows` is the
    number of non-null training values the shares are of (0: no bins at all)."""

    edges: tuple[float, ...]
    shares: tuple[float, ...]
    rows: int

    def to_json(self) -> dict[str, object]:
        return {"edges": list(self.edges), "rows": self.rows, "shares": list(self.shares)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FeatureBins:
        return cls(tuple(d["edges"]), tuple(d["shares"]), int(d["rows"]))


@dataclass(frozen=True)
class Bins:
    """Every numeric feature's bins, by feature column; `bins` is how many were asked for
    ([monitor] bins at training time)."""

    bins: int
    features: Mapping[str, FeatureBins]

    def to_json(self) -> dict[str, object]:
        return {
            "bins": self.bins,
            "features": {column: b.to_json() for column, b in self.features.items()},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Bins:
        features = {c: FeatureBins.from_json(b) for c, b in d["features"].items()}
        return cls(int(d["bins"]), features)


def numeric_columns(features: Iterable[FeatureConfig]) -> list[str]:
    return [f.column for f in features if f.type == FeatureType.numeric]


def bin_edges_sql(templates: Templates, columns: list[str], relation: str, bins: int) -> Rendered:
    """(feature, edge) rows: each numeric feature's distinct edges, ascending."""
    return templates.render("monitor/bin_edges.sql", relation=relation, columns=columns, bins=bins)


def bin_counts_sql(
    templates: Templates, edges: Mapping[str, list[float]], relation: str
) -> Rendered:
    """(feature, bin, n) rows: training values per bin, cut by the same expression the drift
    query cuts scored rows with."""
    features = [{"column": c, "edges": list(es)} for c, es in edges.items()]
    return templates.render("monitor/bin_counts.sql", relation=relation, features=features)


def edges_from_rows(columns: list[str], rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Each column's edges (empty for a column whose training values are all equal) from
    bin_edges.sql's rows."""
    edges: dict[str, list[float]] = {c: [] for c in columns}
    for row in rows:  # rows: at most bins - 1 per feature
        edges[row["feature"]].append(float(row["edge"]))
    return {c: sorted(es) for c, es in edges.items()}


def bins_from_rows(bins: int, edges: Mapping[str, list[float]], rows: list[dict[str, Any]]) -> Bins:
    """The frozen bins from the edges and bin_counts.sql's rows; a feature with no training
    value gets no edges, no shares and 0 rows."""
    counts: dict[str, dict[int, int]] = {c: {} for c in edges}
    for row in rows:  # rows: one per (feature, bin) with training values
        counts[row["feature"]][int(row["bin"])] = int(row["n"])
    features = {}
    for column, es in edges.items():
        total = sum(counts[column].values())
        shares = (
            tuple(counts[column].get(i, 0) / total for i in range(len(es) + 1)) if total else ()
        )
        features[column] = FeatureBins(tuple(es), shares, total)
    return Bins(bins, features)
