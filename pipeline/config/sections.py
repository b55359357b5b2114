"""The sections of pipeline.toml other than [warehouse] and [[features]], one model each."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from pipeline.config.values import (
    ColumnName,
    ConfigPath,
    Identifier,
    Number,
    Scalar,
    TableName,
    dotted,
    number,
    package,
)
from pipeline.core.vocabulary import ContractType, Executor, OnTypeChange, Search, Task

NonNegative = Annotated[float, Field(ge=0), BeforeValidator(number)]


class Section(BaseModel):
    """A section refuses keys it does not know, and is never changed once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TablesConfig(Section):
    labelled: TableName = Field(description="has the label; split into train and holdout")
    unlabelled: TableName | None = Field(default=None, description="scored only")
    output_schema: Identifier = Field(description="every table the pipeline writes goes here")


class ColumnsConfig(Section):
    id: Identifier
    label: Identifier
    task: Task = Task.binary


class SplitConfig(Section):
    holdout_fraction: Number = Field(default=0.2, gt=0, lt=1)
    salt: StrictStr = Field(default="split-v1", description="change it to draw a different split")
    by: ColumnName | None = Field(
        default=None,
        description="the column hashed for the split (default: the id); rows sharing its value "
        "(identical rows, one patient's visits) land on the same side",
    )


class TrainConfig(Section):
    sample_rows: StrictInt | None = Field(
        default=None,
        ge=1,
        description="fit on at most this many rows of the training split, chosen by a hash of "
        "the id (its own salt, independent of the split); unset: every row",
    )
    threads: StrictInt | None = Field(
        default=None,
        ge=1,
        description="threads the fit may use (OpenMP, BLAS, and the estimator's n_jobs when "
        "[model.params] leaves it unset); unset: the cores this process may run on",
    )


class TuneConfig(Section):
    """[tune]: cross-validate candidate parameters on the training split, then train the best."""

    grid: dict[StrictStr, Annotated[list[Any], Field(min_length=1)]] = Field(
        min_length=1,
        description="estimator parameter -> the values to try (over [model.params])",
    )
    search: Search = Field(
        default=Search.grid, description="grid: every combination; random: `candidates` of them"
    )
    candidates: StrictInt | None = Field(
        default=None, ge=1, description="search = random: how many combinations to try"
    )
    seed: StrictInt = Field(default=0, description="search = random: which combinations")
    folds: StrictInt = Field(default=5, ge=2, le=100, description="k, folds by hashed id")
    metric: StrictStr | None = Field(
        default=None,
        description="default: roc_auc (binary), accuracy (multiclass), rmse (regression)",
    )

    @model_validator(mode="after")
    def _candidates_for_random(self) -> TuneConfig:
        if self.search == Search.random and self.candidates is None:
            raise ValueError('search = "random" needs candidates')
        if self.search == Search.grid and self.candidates is not None:
            raise ValueError('candidates applies to search = "random" only')
        return self


def _select_params(params: dict[str, Any], estimator: str) -> dict[str, Any]:
    """[model.params] is either the parameters themselves, or one table per estimator class
    ([model.params.RandomForestClassifier], ...), so switching models changes one line."""
    tables = {k: v for k, v in params.items() if isinstance(v, dict)}
    if not tables:
        return dict(params)
    if len(tables) != len(params):
        raise ValueError("[model.params] mixes plain parameters with per-estimator tables")
    class_name = estimator.rpartition(".")[2]
    return dict(tables.get(estimator, tables.get(class_name, {})))


class ModelConfig(Section):
    estimator: Annotated[StrictStr, AfterValidator(dotted)] = Field(
        description="any scikit-learn estimator by dotted path"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="the estimator's parameters, or one table per estimator class",
    )
    packages: list[Annotated[StrictStr, AfterValidator(package)]] = Field(
        default_factory=list, description="packages the model needs to load"
    )
    signing_key: ConfigPath | None = None

    @model_validator(mode="before")
    @classmethod
    def _chosen_params(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("params"), dict)
            and isinstance(data.get("estimator"), str)
        ):
            data = {**data, "params": _select_params(data["params"], data["estimator"])}
        return data


class ScoringConfig(Section):
    executor: Executor = Executor.auto
    workers: StrictInt = Field(default=0, ge=0, description="0: one per core")
    batch_rows: StrictInt = Field(default=50_000, ge=1)
    scheduler: StrictStr | None = Field(
        default=None, description='Dask scheduler, for executor "dask"'
    )
    on_type_change: OnTypeChange = OnTypeChange.refuse
    model: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")] = Field(
        default="latest",
        description="the model predict and evaluate use and latest_predictions shows: latest "
        "(the newest trained; the view: the newest scored), an alias (pipeline promote) or a "
        "model id",
    )


class EvaluateConfig(Section):
    slices: tuple[ColumnName, ...] = Field(
        default=(), description="raw labelled columns to break the metrics down by"
    )
    threshold: Annotated[float, Field(ge=0, le=1), BeforeValidator(number)] | None = Field(
        default=None,
        description="score >= threshold is positive; unset: the model's label",
    )
    calibration_bins: StrictInt = Field(default=10, ge=1, le=1000)


class ExplainConfig(Section):
    """Permutation importance on the holdout, computed by the evaluate stage."""

    repeats: StrictInt = Field(
        default=5, ge=0, le=100, description="shuffles per feature; 0 turns importance off"
    )
    seed: StrictInt = Field(default=0, ge=0, description="salts the hashed shuffles and sample")
    max_rows: StrictInt = Field(
        default=10_000, ge=1, description="holdout rows used, chosen by a hash of the id"
    )


class MonitorConfig(Section):
    """Drift of every scoring run against the model's training split (table `drift`). A value
    is compared as |value - baseline|: the baseline is the training null rate for
    null_rate, 0 for the others. Over a warn threshold the stage warns; over a fail threshold
    it refuses to write predictions (exit 4) unless `pipeline run --allow-drift`."""

    bins: StrictInt = Field(
        default=10,
        ge=2,
        le=100,
        description="training quantile bins per numeric feature for the PSI (frozen at train)",
    )
    psi_warn: NonNegative | None = 0.1
    psi_fail: NonNegative | None = None
    shift_warn: NonNegative | None = Field(
        default=0.5, description="mean shift, in training standard deviations"
    )
    shift_fail: NonNegative | None = None
    null_rate_warn: NonNegative | None = Field(
        default=0.1, description="change of the null rate from the training split's"
    )
    null_rate_fail: NonNegative | None = None
    unseen_warn: NonNegative | None = Field(
        default=0.05, description="share of non-null categorical values training never had"
    )
    unseen_fail: NonNegative | None = None
    min_rows: StrictInt = Field(
        default=500,
        ge=0,
        description="fewer non-null values than this in a scored dataset: its PSI is recorded "
        "but not judged (status few_rows): an undrifted sample's PSI is about (bins - 1) / n",
    )


class ContractRules(Section):
    type: ContractType | None = None
    not_null: StrictBool = False
    unique: StrictBool = False
    accepted: list[Scalar] | None = Field(default=None, min_length=1)
    min: Number | None = None
    max: Number | None = None
