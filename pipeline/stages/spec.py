"""The stages, declared once: what each reads and what it writes.

The run order, the "run `pipeline run --stage X` first" messages, the tables a run may write
(checked against the names it reads before any write) and the README's table of stages all
derive from `DECLARED`, so none of them can drift from the others.

`python -m pipeline.stages.spec` prints the README's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pipeline.core.vocabulary import Stage


class Table(StrEnum):
    """The tables a run writes under [tables] output_schema, by logical name
    (`Config.table(name)` qualifies one)."""

    clean = "clean"
    feature_stats = "feature_stats"
    features_train = "features_train"
    features_holdout = "features_holdout"
    features_test = "features_test"
    predictions = "predictions"
    unseen_categories = "unseen_categories"
    metrics = "metrics"
    curves = "curves"
    confusion = "confusion"
    #: permutation importance on the holdout and the estimator's own importances
    feature_importance = "feature_importance"
    #: the run ledger: the runner appends one row per stage run, whichever stage it is
    runs = "runs"
    #: a view: the predictions of the model [scoring] model names (pipeline/stages/aliases.py)
    latest_predictions = "latest_predictions"
    #: one row per promotion, appended by `pipeline promote` (no stage writes it)
    model_aliases = "model_aliases"
    #: [tune]'s search: one row per candidate, per model it chose
    cv_results = "cv_results"
    #: predict appends one set of rows per run: each feature's drift from the training split
    drift = "drift"


#: tables holding one set of rows per model (drift: per run): a stage writes those rows to
#: `<table>__staging` first, then replaces that model's (run's) rows with them in one statement
STAGED = frozenset(
    {
        Table.predictions,
        Table.unseen_categories,
        Table.metrics,
        Table.curves,
        Table.confusion,
        Table.feature_importance,
        Table.cv_results,
        Table.drift,
    }
)
STAGING_SUFFIX = "__staging"


@dataclass(frozen=True)
class StageSpec:
    stage: Stage
    does: str  # one line for the README
    reads: tuple[Table, ...] = ()
    writes: tuple[Table, ...] = ()
    reads_raw: bool = False  # the raw input tables named in [tables]
    reads_model: bool = False  # a model directory: --model-dir, else the newest one trained
    writes_model: bool = False
    files: tuple[str, ...] = ()  # what it writes beside the model directory
    # holds the warehouse only around its reads and its writes (`with wh.reading():`, `with
    # wh.writing(), wh.transaction():`), not for its whole run: one that reads, then works
    # for minutes without the warehouse, then writes, lets readers in meanwhile
    holds_own_warehouse: bool = False


# in any order: the run order is derived from what each stage reads and writes
DECLARED: tuple[StageSpec, ...] = (
    StageSpec(
        Stage.preprocess,
        "SQL: clean and split the raw rows, fit statistics on the train split, make features",
        writes=(
            Table.clean,
            Table.feature_stats,
            Table.features_train,
            Table.features_holdout,
            Table.features_test,
        ),
        reads_raw=True,
    ),
    StageSpec(
        Stage.train,
        "Python: fit the estimator on the training features ([tune]: cross-validate first)",
        reads=(Table.features_train, Table.feature_stats, Table.clean),  # clean: folds, bins
        writes=(Table.cv_results,),  # with [tune] only
        reads_raw=True,  # the labelled table's column types, kept in model.json
        writes_model=True,
        holds_own_warehouse=True,  # reads, then fits holding nothing; then its writes
    ),
    StageSpec(
        Stage.predict,
        "the model's own SQL over the raw rows, scored in Python or in the warehouse",
        writes=(
            Table.predictions,
            Table.unseen_categories,
            Table.drift,
            Table.latest_predictions,
        ),
        reads_raw=True,
        reads_model=True,
        files=("runs/<run_id>/predictions/*.jsonl.gz",),  # removed once loaded
        holds_own_warehouse=True,  # reads, scores holding nothing, then one write
    ),
    StageSpec(
        Stage.evaluate,
        "SQL: holdout metrics, overall and per slice, curves, feature importance; an HTML report",
        reads=(Table.predictions, Table.clean, Table.drift),  # drift: the report's section
        writes=(Table.metrics, Table.curves, Table.confusion, Table.feature_importance),
        reads_raw=True,  # the [evaluate] slices columns; the holdout rows to shuffle
        reads_model=True,  # its id and positive class; with [explain] repeats, the estimator
        files=("runs/<run_id>/report.html",),
    ),
)
SPECS: dict[Stage, StageSpec] = {s.stage: s for s in DECLARED}
MODEL = "model"  # the model directory, as a node of the order between stages


def made_by(table: Table) -> Stage:
    """The stage that writes `table`."""
    writers = [s.stage for s in DECLARED if table in s.writes]
    if len(writers) != 1:
        raise ValueError(f"table {table} is written by {writers or 'no stage'}, not by one")
    return writers[0]


def model_made_by() -> Stage:
    (writer,) = [s.stage for s in DECLARED if s.writes_model]
    return writer


def run_first(stage: Stage, flags: str = "") -> str:
    """The advice ending a message about an input that is not there yet; `flags` (such as
    `--model NAME`) are the options that make that stage do it for the same model."""
    return f"run `pipeline run --stage {stage}{' ' + flags if flags else ''}` first"


def run_order() -> tuple[Stage, ...]:
    """Every stage after the stages that make what it reads (a topological order of the
    declaration; among stages free to go, the declared order decides)."""
    made: dict[str, Stage] = {t: s.stage for s in DECLARED for t in s.writes}
    for s in DECLARED:
        if s.writes_model:
            made[MODEL] = s.stage
    after = {
        s.stage: {made[t] for t in (*s.reads, *([MODEL] if s.reads_model else [])) if t in made}
        for s in DECLARED
    }
    order: list[Stage] = []
    while len(order) < len(DECLARED):
        ready = [s for s in after if s not in order and after[s] <= set(order)]
        if not ready:
            raise ValueError(f"the stages {sorted(set(after) - set(order))} read each other")
        order.append(ready[0])
    return tuple(order)


STAGES: tuple[Stage, ...] = run_order()


def staging_table(table: Table) -> str:
    """The table one model's rows of `table` are written to before they replace its rows."""
    if table not in STAGED:
        raise ValueError(f"table {table} is not written through a staging table")
    return f"{table}{STAGING_SUFFIX}"


def features_table(dataset: str) -> Table:
    """features_train, features_holdout or features_test."""
    return Table(f"features_{dataset}")


def written_tables() -> tuple[str, ...]:
    """The logical name of every table a stage writes, staging tables included (the ledger,
    written by the runner, is not one of them)."""
    names: list[str] = []
    for stage in STAGES:
        for table in SPECS[stage].writes:
            names += [table, staging_table(table)] if table in STAGED else [table]
    return tuple(names)


def render_table() -> str:
    """The README's table of stages, in run order (README.md shows this text verbatim)."""

    def listed(items: list[str]) -> str:
        return ", ".join(items) or "-"

    lines = [
        "| stage | does | reads | writes |",
        "| --- | --- | --- | --- |",
    ]
    for stage in STAGES:
        s = SPECS[stage]
        reads = (["raw tables"] if s.reads_raw else []) + [f"`{t}`" for t in s.reads]
        reads += ["the model"] if s.reads_model else []
        writes = [f"`{t}`" for t in s.writes] + (["`models/<model_id>/`"] if s.writes_model else [])
        writes += [f"`{f}`" for f in s.files]
        lines.append(f"| {stage} | {s.does} | {listed(reads)} | {listed(writes)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render_table(), end="")
