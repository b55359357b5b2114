"""Everything a run can know is wrong before its first write, checked before it: a stage
found wrong after an earlier one wrote would leave the warehouse half-changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pipeline.core.errors import ConfigError, DataError
from pipeline.core.vocabulary import Executor, FeatureType, Stage, Task, TypeFamily
from pipeline.features.sql import clean_sql
from pipeline.model.trained import TrainedModel
from pipeline.stages.aliases import LATEST
from pipeline.stages.base import RunOptions
from pipeline.stages.common import check_model_fits, model_name, resolve_model_dir
from pipeline.stages.contracts import enforce
from pipeline.stages.estimator import check_estimator_fits_task, make_estimator
from pipeline.stages.names import check_names
from pipeline.stages.project import Project
from pipeline.stages.raw_types import check_types, raw_types, type_changes
from pipeline.stages.spec import Table
from pipeline.stages.tune import check_tune


def check_before_writes(project: Project, options: RunOptions, stages: list[Stage]) -> None:
    """Everything a run of `stages` can know is wrong before its first write: colliding
    names, a training split the task cannot learn from, a models directory train cannot write
    to, a model that does not exist or was made for another task, raw types that changed since
    training. The stages check these again; here they are refused while nothing has changed.
    One read hold for all of them: each query would otherwise open the warehouse file anew."""
    if Stage.train in stages:
        check_estimator(project, options, stages)
        check_tune(project.config)
    check_names(project.config)
    with project.warehouse.reading():
        if Stage.train in stages:
            check_label_classes(project, rebuilt=Stage.preprocess in stages)
            check_models_dir(options.models_dir)
        if Stage.predict in stages or Stage.evaluate in stages:
            check_model_to_score(project, options, trained_now=Stage.train in stages, stages=stages)


def check_estimator(project: Project, options: RunOptions, stages: list[Stage]) -> None:
    """The configured estimator can be made with its parameters, suits the task, and compiles
    to SQL when this run scores in the warehouse: a config error found by a late stage must
    not follow writes by an early one."""
    model = project.config.model
    estimator = make_estimator(model.estimator, model.params, model.packages)
    check_estimator_fits_task(estimator, project.config.task, model.estimator)
    executor = options.executor or project.config.scoring.executor
    if Stage.predict in stages and executor == Executor.warehouse:
        from pipeline.render.compile import check_compilable

        check_compilable(estimator)


def check_label_classes(project: Project, rebuilt: bool) -> None:
    """A classifier needs two label values (binary: exactly two) in the training split. One
    query: over the split clean.sql makes of the raw table when preprocess runs too (features
    are left out, so nothing is cast yet), else over features_train."""
    cfg, wh = project.config, project.warehouse
    label = wh.dialect.quote(cfg.label_column)
    if rebuilt:
        project.check_raw_columns()  # names a missing table or column before SQL reads it
        spec = replace(project.spec, features=())
        labelled = [s for s in project.raw_sources() if s.labelled]
        relation = f"({clean_sql(project.templates, spec, labelled, with_label=True).sql})"
        named = cfg.labelled_table
    else:
        table = project.table(Table.features_train)
        if not wh.table_exists(table):
            return  # train says to run preprocess first
        relation, named = wh.dialect.quote(table), table
    train = "dataset = 'train'"
    row = wh.query_arrow(
        f"SELECT count(*) AS n_all, sum(CASE WHEN {train} THEN 1 ELSE 0 END) AS n, "
        f"count(DISTINCT CASE WHEN {train} THEN {label} END) AS k, "
        f"sum(CASE WHEN {train} AND {label} IS NULL THEN 1 ELSE 0 END) AS nulls "
        f"FROM {relation} AS c"
    ).to_pylist()[0]
    if rebuilt and not row["n"]:
        n_all = int(row["n_all"] or 0)
        raise DataError(
            f"the training split of {cfg.labelled_table} is empty "
            f"({n_all} {'row' if n_all == 1 else 'rows'} went to holdout)"
        )
    if cfg.task == Task.regression or row["nulls"]:
        return  # the contracts name null labels; a regressor needs no classes
    k = int(row["k"])
    if k < 2:  # more than two for binary is the contracts' to name, with the values
        needs = "2" if cfg.task == Task.binary else "at least 2"
        raise DataError(
            f"task {cfg.task!r} needs {needs} values of label {cfg.label_column!r} in the "
            f"training split of {named}, found {k}"
        )


def check_models_dir(models_dir: Path) -> None:
    """Train saves its model last, after every table is written: try the directory first."""
    import tempfile

    if models_dir.exists() and not models_dir.is_dir():
        raise ConfigError(f"models directory {models_dir} is a file, not a directory")
    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=models_dir, prefix=".write-test."):
            pass
    except OSError as exc:
        raise ConfigError(
            f"models directory {models_dir} is not writable: {exc.strerror or exc}"
        ) from exc


def check_model_to_score(
    project: Project, options: RunOptions, trained_now: bool, stages: list[Stage]
) -> None:
    """The model predict/evaluate will use exists, fits this config, and, for predict, reads
    columns of the types it was trained on."""
    if trained_now and options.model_dir is None and model_name(project, options) == LATEST:
        # the model this run trains reads the labelled table as it is now: only the
        # unlabelled table can differ from it
        if Stage.predict in stages and project.warehouse.table_exists(
            project.config.labelled_table
        ):
            trained = raw_types(project, project.config.labelled_table)
            numeric = {f.column for f in project.spec.features if f.type == FeatureType.numeric}
            changed = {c for _, c, _, _ in type_changes(project, project.spec, trained)}
            if any(trained[c].family != TypeFamily.numeric for c in changed & numeric):
                # the labelled table is the odd one (text in a numeric column): the data
                # contract names the rows at fault
                enforce(project, project.spec, project.raw_sources())
            labelled = project.config.labelled_table
            check_types(project, project.spec, trained, f"the model is trained on ({labelled})")
        return
    meta = TrainedModel.read_meta(resolve_model_dir(project, options))
    check_model_fits(project, meta)
    if Stage.predict in stages and meta.raw_types is not None:
        check_types(project, meta.spec, meta.raw_types, f"model {meta.model_id} was trained on")


def unused_options(options: RunOptions, stages: list[Stage]) -> str | None:
    """One warning naming the command-line options none of `stages` uses (`--incremental`
    on a train, say): accepted, they would otherwise do nothing without a word."""
    scoring, model = {Stage.predict}, {Stage.predict, Stage.evaluate}
    given = (
        ("--model", options.model is not None, model),
        ("--model-dir", options.model_dir is not None, model),
        ("--incremental", options.incremental, scoring),
        ("--keep-parts", options.keep_parts, scoring),
        ("--allow-drift", options.allow_drift, scoring),
        ("--executor", options.executor is not None, scoring),
        ("--workers", options.workers is not None, scoring),
        ("--batch-rows", options.batch_rows is not None, scoring),
        ("--scheduler", options.scheduler is not None, scoring),
    )
    by_users: dict[str, list[str]] = {}  # the stages that use them -> the flags, in order
    for flag, on, users in given:
        if on and not users & set(stages):
            by_users.setdefault(", ".join(s for s in Stage if s in users), []).append(flag)
    if not by_users:
        return None
    unused = [f"{', '.join(flags)} (for {users})" for users, flags in by_users.items()]
    n = sum(len(flags) for flags in by_users.values())
    return (
        f"run: {', '.join(unused)} {'does' if n == 1 else 'do'} nothing for the "
        f"stages run ({', '.join(stages)})"
    )
