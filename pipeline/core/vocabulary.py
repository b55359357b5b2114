"""The words a config may use, defined once: the config model, the CLI and the code share them.

A module of its own, free of pydantic and the data libraries, so the CLI can offer these
choices without importing anything heavy.
"""

from __future__ import annotations

from enum import StrEnum as _StrEnum


class StrEnum(_StrEnum):
    """A word of the config: shown as the word itself, also by repr() and `{x!r}` in
    messages (`task 'binary'`, not `task <Task.binary: 'binary'>`)."""

    def __repr__(self) -> str:
        return repr(self.value)


class Task(StrEnum):
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"


class FeatureType(StrEnum):
    numeric = "numeric"
    categorical = "categorical"


class Imputer(StrEnum):
    none = "none"
    median = "median"
    mean = "mean"
    mode = "mode"
    constant = "constant"


class Encoder(StrEnum):
    onehot = "onehot"
    ordinal = "ordinal"
    frequency = "frequency"


class Scaler(StrEnum):
    none = "none"
    standard = "standard"
    minmax = "minmax"


class Executor(StrEnum):
    """How predict scores: on this machine, on a Dask cluster, or as compiled SQL in the
    warehouse."""

    auto = "auto"
    process = "process"
    thread = "thread"
    inprocess = "inprocess"
    dask = "dask"
    warehouse = "warehouse"


class OnTypeChange(StrEnum):
    """What scoring does when a column's type differs from the one the model was trained on."""

    refuse = "refuse"
    cast = "cast"


class ContractType(StrEnum):
    int = "int"
    float = "float"
    string = "string"


class ColumnType(StrEnum):
    """The neutral column types the pipeline writes; each dialect names them its own way."""

    string = "string"
    int = "int"
    float = "float"
    bool = "bool"
    timestamp = "timestamp"


class OutputFormat(StrEnum):
    """How `pipeline sql` and `pipeline compare` print a result."""

    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


class FileFormat(StrEnum):
    """The data files `pipeline ingest` reads."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"


class Encoding(StrEnum):
    """The text encodings `pipeline ingest` reads CSV files in."""

    utf8 = "utf-8"
    latin1 = "latin-1"


class DecimalSeparator(StrEnum):
    """How numbers in a CSV file separate their decimals: `188.4` or `188,4`."""

    point = "."
    comma = ","


class Stage(StrEnum):
    """The stages of a run, in run order (pipeline/stages/spec.py declares what each reads and
    writes); `all` is the CLI's word for every one of them."""

    all = "all"
    preprocess = "preprocess"
    train = "train"
    predict = "predict"
    evaluate = "evaluate"


class Dataset(StrEnum):
    """The row sets of a project: labelled rows split into train and holdout, and the rows to
    score; `input` tags the rows a loaded model is handed directly (TrainedModel.predict)."""

    train = "train"
    holdout = "holdout"
    test = "test"
    input = "input"


class Stat(StrEnum):
    """The statistics fit_stats.sql freezes per feature (stats.json's keys); its `count`
    rows carry a categorical vocabulary."""

    rows = "rows"
    nulls = "nulls"
    min = "min"
    max = "max"
    mean = "mean"
    std = "std"
    median = "median"
    mode = "mode"
    category_count = "count"  # (not `count`: that would hide str.count)


class Bucket(StrEnum):
    """Where a training category went: a column of its own, or the shared rare bucket."""

    kept = "kept"
    rare = "rare"


class TypeFamily(StrEnum):
    """The family of a raw column's warehouse type (model.json's raw_types): a column whose
    type moves within its family scores alike; int, float and decimal are all `numeric`. A
    type of none of these is its own family, its lowercased name (`stages.raw_types`)."""

    numeric = "numeric"
    boolean = "boolean"
    string = "string"
    temporal = "temporal"


class ImportanceKind(StrEnum):
    """How a feature_importance row was measured: the drop of the holdout metric when the
    raw feature is shuffled, or the estimator's own attribute (feature_importances_, |coef_|)."""

    permutation = "permutation"
    model = "model"


class Search(StrEnum):
    """How [tune] picks the candidates it cross-validates from its grid."""

    grid = "grid"  # every combination
    random = "random"  # `candidates` of them, drawn by a seeded hash


class ReadApi(StrEnum):
    """How BigQuery results come back ([warehouse] read_api): the Storage Read API (Arrow
    streams over gRPC) or the REST API (JSON pages); `auto` takes Storage where it can."""

    auto = "auto"
    rest = "rest"
    storage = "storage"


class DriftMetric(StrEnum):
    """What the drift table measures per feature of the scored rows (sql/monitor/drift.sql)."""

    null_rate = "null_rate"
    mean_shift = "mean_shift"
    psi = "psi"
    unseen_share = "unseen_share"


class DriftStatus(StrEnum):
    """A drift row's verdict against the [monitor] thresholds."""

    ok = "ok"
    warn = "warn"
    fail = "fail"
    unmeasured = "unmeasured"
    few_rows = "few_rows"  # a PSI over fewer values than [monitor] min_rows: not judged
