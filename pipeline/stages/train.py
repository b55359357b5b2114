"""train: features_train -> a fitted scikit-learn estimator -> one model directory."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import DataError
from pipeline.core.keys import load_key
from pipeline.core.vocabulary import ColumnType, Task
from pipeline.evaluation.metrics import metrics_of_arrays
from pipeline.features.bins import Bins
from pipeline.features.plan import feature_names, plan
from pipeline.features.sql import Spec
from pipeline.features.stats import Stats
from pipeline.model.meta import ModelMeta, Provenance, RawTypes, TrainSample
from pipeline.model.save import SQL_PARTS
from pipeline.model.trained import TrainedModel, column, feature_matrix, predict_arrays
from pipeline.stages.base import RunOptions
from pipeline.stages.common import read_stats
from pipeline.stages.estimator import (
    check_estimator_fits_task,
    check_finite,
    make_estimator,
    name_float32_overflow,
    name_overflow,
)
from pipeline.stages.ledger import StageResult
from pipeline.stages.monitor import training_bins
from pipeline.stages.project import Project
from pipeline.stages.raw_types import raw_types
from pipeline.stages.spec import Table
from pipeline.stages.threads import bounded_threads, fit_n_jobs, fit_threads
from pipeline.stages.tune_folds import cross_validate
from pipeline.stages.tune_record import forget_search, record_search

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.render.templates import Templates

#: the sample's own salt: a hash independent of the split's ([split] salt), so the sample
#: is not tied to which rows went to holdout
SAMPLE_SALT = "train-sample-v1"

LIBRARIES = ("scikit-learn", "numpy", "pandas", "pyarrow", "duckdb", "joblib", "jinja2")


def _check_task(estimator: Any, task: str, y: Any, dotted: str) -> None:
    check_estimator_fits_task(estimator, task, dotted)
    if task == Task.binary:
        import numpy as np

        n = len(np.unique(y))
        if n != 2:
            raise DataError(f"task 'binary' needs 2 label values in the training split, found {n}")


def _neutral_type(arrow_type: pa.DataType) -> ColumnType:
    import pyarrow as pa

    if pa.types.is_integer(arrow_type):
        return ColumnType.int
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return ColumnType.float
    if pa.types.is_boolean(arrow_type):
        return ColumnType.bool
    return ColumnType.string


def fingerprint(X: Any, y: Any) -> str:
    """sha256 of the exact training matrix and labels, in row order."""
    import numpy as np

    h = hashlib.sha256(np.ascontiguousarray(X).tobytes())
    h.update("\x1f".join(map(str, y.tolist())).encode())
    return h.hexdigest()


def sample_sql(templates: Templates, table: str, id_column: str, rows: int) -> str:
    """At most `rows` rows of `table`, those whose hashed id is smallest (ties: the smaller
    id), read in id order. The hash is the split's dialect macro (hash_fraction) with a salt of
    its own, so the sample is independent of the split and depends on nothing but the ids: the
    same rows on DuckDB and BigQuery, whatever the threads."""
    q = templates.dialect.quote
    hashed = templates.adapter.dispatch("hash_fraction")(q(id_column), SAMPLE_SALT)
    return (
        f"SELECT * FROM (SELECT * FROM {q(table)} ORDER BY {hashed}, {q(id_column)} "
        f"LIMIT {int(rows)}) AS sampled ORDER BY {q(id_column)}"
    )


def train_from_data(
    features: pa.Table,
    stats: Stats,
    spec: Spec,
    estimator: str,
    params: dict[str, Any],
    task: str,
    sql_dir: Path,
    config_text: str = "",
    provenance: Provenance | None = None,
    raw_types: RawTypes | None = None,
    packages: tuple[str, ...] = (),
    sample: TrainSample | None = None,
    threads: int | None = None,
    bins: Bins | None = None,
) -> TrainedModel:
    """Fit on feature rows (already in id order); returns the model, not yet saved.

    `raw_types` (each column's type and family in the labelled table) goes to model.json, so
    predict can refuse a column whose type changed; it is not part of the model id. `sample`
    says the rows are a sample of the split ([train] sample_rows); it is part of the id.
    `threads` bounds the fit's threads (default: the cores): it changes how fast, not which
    model, so it is not part of the id. `bins` (drift's training quantile bins, bins.json) are
    part of the id: the same id never holds other bins ([monitor] bins, sql/monitor/)."""
    names = feature_names(plan(spec.features, stats))
    X = feature_matrix(features, names)  # X: (n_rows, n_features)
    if X.shape[0] == 0:
        raise DataError("features_train has no rows: nothing to train on")
    label = column(features, spec.label)
    if label.null_count:
        raise DataError(f"label column {spec.label!r} has {label.null_count} null values in train")
    y = label.to_numpy(zero_copy_only=False)  # y: (n_rows,)
    model = make_estimator(estimator, params, packages)
    _check_task(model, task, y, estimator)
    check_finite(model, X, names, estimator)
    with bounded_threads(model, fit_threads(threads)):
        try:
            model.fit(X, y)
        except ValueError as exc:
            name_float32_overflow(exc, X, names, estimator)
            name_overflow(exc, X, names, estimator)
            raise
    with bounded_threads(model, fit_threads(threads), fitting=False):
        train_pred, train_score = predict_arrays(model, X)  # (n_rows,), (n_rows,) or None
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(model, "classes_", [])]
    positive = classes[1] if task == Task.binary else None
    train_metrics = metrics_of_arrays(sql_dir, task, y, train_pred, train_score, positive)

    fp = fingerprint(X, y)
    identity = {
        "estimator": estimator,
        "params": params,
        "spec": spec.to_dict(),
        "stats": stats.to_json(),
        "fingerprint": fp,
        # the SQL the model carries and replays (a new report or monitoring template elsewhere
        # under sql/ does not make every model new)
        "templates": {
            name: digest
            for name, digest in ((provenance.template_hashes if provenance else None) or {}).items()
            if name.partition("/")[0] in SQL_PARTS
        },
    }
    if sample is not None:  # absent otherwise, so ids of models fitted on every row stay
        identity["sample"] = {"rows": sample.rows, "rows_used": sample.rows_used}
    if bins is not None:
        identity["bins"] = bins.to_json()
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()
    provenance = provenance or Provenance()
    meta = ModelMeta(
        model_id=f"{estimator.rpartition('.')[2].lower()}-{digest[:12]}",
        estimator=estimator,
        params=params,
        task=Task(task),
        spec=spec,
        feature_names=tuple(names),
        label_type=ColumnType(_neutral_type(label.type)),
        id_type=ColumnType(_neutral_type(column(features, spec.id).type)),
        classes=tuple(classes),
        positive_class=positive,
        train_metrics=train_metrics,
        train_rows=int(X.shape[0]),
        train_fingerprint=fp,
        libraries={lib: metadata.version(lib) for lib in LIBRARIES},
        python=platform.python_version(),
        run_id=provenance.run_id,
        config_hash=provenance.config_hash,
        template_hashes=provenance.template_hashes,
        raw_types=raw_types,
        sample=sample,
    )
    return TrainedModel(
        estimator=model, meta=meta, stats=stats, sql_dir=sql_dir, config_text=config_text, bins=bins
    )


def run_train(project: Project, options: RunOptions, result: StageResult) -> None:
    wh, cfg = project.warehouse, project.config
    # first: the folds' rows are out of memory before the training split's are read
    search = cross_validate(project, options.run_id, SAMPLE_SALT) if cfg.tune else None
    with wh.reading():
        table = project.require(Table.features_train)
        rows = cfg.train.sample_rows
        if rows is None:
            features = wh.query_arrow(
                f"SELECT * FROM {wh.dialect.quote(table)} "
                f"ORDER BY {wh.dialect.quote(cfg.id_column)}"
            )
        else:
            features = wh.query_arrow(sample_sql(project.templates, table, cfg.id_column, rows))
        stats = read_stats(project)
        types = raw_types(project, cfg.labelled_table)
        bins = training_bins(project, cfg.monitor.bins)  # frozen for drift
    sample = None if rows is None else TrainSample(rows, features.num_rows)
    template_hashes = project.templates.source_hashes()
    provenance = Provenance(options.run_id, cfg.hash, template_hashes)
    params = cfg.model.params if search is None else {**cfg.model.params, **search.best.params}
    threads = fit_threads(cfg.train.threads)
    model = train_from_data(
        features,
        stats,
        project.spec,
        cfg.model.estimator,
        params,
        cfg.task,
        cfg.sql_dir,
        cfg.path.read_text(),
        provenance,
        types,
        tuple(cfg.model.packages),
        sample,
        threads,
        bins,
    )
    if search is not None:
        record_search(project, search, model, options.run_id, result)
    else:
        forget_search(project, model.model_id)
    path = model.save(options.models_dir, load_key(cfg.model.signing_key))
    result.rows_in = features.num_rows
    result.rows_out = 1
    result.model_id = model.model_id
    result.sql_hashes = template_hashes
    result.details["model_dir"] = str(path)
    result.details.update(threads=threads, n_jobs=fit_n_jobs(model.estimator, threads))
    result.messages.append(
        f"train: {cfg.model.estimator.rpartition('.')[2]} on {features.num_rows} rows x "
        f"{len(model.feature_names)} features -> {path}"
    )
    if sample is not None:
        result.details["sample"] = {"rows": sample.rows, "rows_used": sample.rows_used}
        result.messages.append(_sample_message(sample))


def _sample_message(sample: TrainSample) -> str:
    if sample.rows_used < sample.rows:
        return (
            f"train: the training split has {sample.rows_used} rows, fewer than "
            f"[train] sample_rows = {sample.rows}: trained on all of them"
        )
    return f"train: a sample of {sample.rows} rows of the training split ([train] sample_rows)"
