"""The SQL of k-fold cross-validation without leakage: the training split's rows with a fold
each (sql/tune/folds.sql), and per fold the relations its statistics and feature rows are
made from. Pure rendering: the preprocessing itself is preprocess/fit_stats.sql and
preprocess/features.sql, the templates a normal run uses, over a filtered relation."""

from __future__ import annotations

from pipeline.core.vocabulary import Dataset
from pipeline.features.plan import FeaturePlan
from pipeline.features.sql import Spec, features_sql, fit_stats_sql
from pipeline.render.templates import Rendered, Templates

#: the folds' own salt: independent of the split's ([split] salt) and of the sample's
FOLD_SALT = "cv-folds-v1"
#: the column folds.sql adds to the clean rows
FOLD_COLUMN = "cv_fold"


def folds_sql(
    templates: Templates,
    clean_table: str,
    id_column: str,
    folds: int,
    sample_rows: int | None,
    sample_salt: str,
) -> Rendered:
    """The rows cross-validation works on, each with its fold (0 .. folds - 1)."""
    return templates.render(
        "tune/folds.sql",
        relation=templates.dialect.quote(clean_table),
        id=id_column,
        folds=int(folds),
        salt=FOLD_SALT,
        sample_rows=sample_rows,
        sample_salt=sample_salt,
    )


def fold_part(folds: Rendered, fold: int, validation: bool) -> str:
    """A relation of one fold's validation rows (`cv_fold = fold`) or training part (every
    other fold), for the templates' `relation`."""
    op = "=" if validation else "<>"
    return f"(SELECT * FROM ({folds.sql}) AS f WHERE {FOLD_COLUMN} {op} {int(fold)})"


def fold_stats_sql(
    templates: Templates, spec: Spec, folds: Rendered, fold: int, run_id: str
) -> Rendered:
    """fit_stats.sql over the fold's training part only: its validation rows never shape
    their own imputation, scaling or vocabulary."""
    return fit_stats_sql(templates, spec, fold_part(folds, fold, validation=False), run_id)


def fold_features_sql(
    templates: Templates,
    spec: Spec,
    plans: list[FeaturePlan],
    folds: Rendered,
    fold: int,
    validation: bool,
) -> str:
    """features.sql with the fold's statistics over one part of the fold, in id order."""
    rendered = features_sql(
        templates,
        spec,
        plans,
        fold_part(folds, fold, validation),
        [Dataset.train],
        with_label=True,
    )
    quoted = templates.dialect.quote(spec.id)
    return f"SELECT * FROM ({rendered.sql}) AS x ORDER BY {quoted}"
