"""What more than one stage reads: the frozen statistics and the model to score (the raw tables'
column types a model was trained on are in `raw_types`). Stages never import each other; they
share this."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.errors import ConfigError, MissingInputError
from pipeline.core.keys import load_key
from pipeline.features.stats import Stats, stats_from_rows
from pipeline.model.meta import ModelMeta
from pipeline.model.trained import TrainedModel
from pipeline.stages.aliases import LATEST, is_model_id, model_id_named
from pipeline.stages.base import RunOptions
from pipeline.stages.ledger import trained_in_run
from pipeline.stages.project import Project
from pipeline.stages.spec import Table, model_made_by, run_first


def read_stats(project: Project) -> Stats:
    """The frozen statistics of the latest preprocess run, from the warehouse."""
    table = project.require(Table.feature_stats)
    sql = f"SELECT feature, stat, category, value FROM {project.warehouse.dialect.quote(table)}"
    return stats_from_rows(project.warehouse.query_arrow(sql).to_pylist())


def check_model_fits(project: Project, meta: ModelMeta) -> None:
    """A model trained for another task, id or label would be scored into nonsense (or fail
    on a data contract it was never meant for): say so first."""
    cfg = project.config
    pairs = (
        ("task", meta.task, cfg.task, "[columns] task"),
        ("id column", meta.spec.id, cfg.id_column, "[columns] id"),
        ("label column", meta.spec.label, cfg.label_column, "[columns] label"),
    )
    for what, trained, now, key in pairs:
        if trained is not None and str(trained) != now:
            raise ConfigError(
                f"model {meta.model_id} was trained for {what} {trained!r} but "
                f"{cfg.path.name} says {now!r} ({key}): score it with its own config, or "
                "train a model for this one"
            )


def model_name(project: Project, options: RunOptions) -> str:
    """The model asked for: --model, else [scoring] model (default `latest`)."""
    return options.model or project.config.scoring.model


def model_flags(options: RunOptions) -> str:
    """The options that named the model on the command line (for advice to run another
    stage on the same model); empty when the config named it."""
    if options.model is not None:
        return f"--model {options.model}"
    return "" if options.model_dir is None else f"--model-dir {options.model_dir}"


def model_label(project: Project, options: RunOptions, model_id: str) -> str:
    """`model <id>`, and the alias that named it: what predict's and evaluate's lines say."""
    name = None if options.model_dir is not None else model_name(project, options)
    if name is None or name == LATEST or is_model_id(name):
        return f"model {model_id}"
    return f"model {model_id} (alias {name})"


def not_trained_now(project: Project, options: RunOptions, model_id: str, stage: str) -> str | None:
    """A warning when this run trained a model but `model_id` is another one (an alias or a
    model id names it): a whole run with [scoring] model = an alias scores the old model."""
    name = None if options.model_dir is not None else model_name(project, options)
    if name == LATEST:  # the newest trained: this run's model, if it trained one
        return None
    trained = trained_in_run(project, options.run_id)
    if trained is None or trained == model_id:
        return None
    hint = (
        f": `pipeline promote {trained} --alias {name}` makes {name} point at it"
        if name is not None and not is_model_id(name)
        else ""
    )
    return (
        f"{stage}: used {model_label(project, options, model_id)}, not model {trained} "
        f"trained in this run{hint}"
    )


def resolve_model_dir(project: Project, options: RunOptions) -> Path:
    """The model directory named on the command line (--model-dir), else the model --model or
    [scoring] model names: an alias, a model id, or `latest`, the newest one trained in this
    warehouse. --model and --model-dir together are refused."""
    model_dir = options.model_dir
    if model_dir is not None and options.model is not None:
        raise ConfigError("--model and --model-dir name a model each: give one of them")
    if model_dir is None:
        model_dir = options.models_dir / model_id_named(project, model_name(project, options))
    if not Path(model_dir).is_dir():
        raise MissingInputError(
            f"model directory {model_dir} not found: {run_first(model_made_by())}"
        )
    return Path(model_dir)


def resolve_model(project: Project, options: RunOptions) -> TrainedModel:
    key = load_key(project.config.model.signing_key)
    return TrainedModel.load(resolve_model_dir(project, options), key)
