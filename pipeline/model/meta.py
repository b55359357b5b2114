"""model.json as a value. The manifest hashes the file, so `to_json` writes exactly the keys
the metadata always had: the provenance keys and raw_types only when known."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.vocabulary import ColumnType, Task, TypeFamily
from pipeline.features.sql import Spec

#: a label, class or positive class: what the label column holds
Label = int | float | str | bool | None


@dataclass(frozen=True)
class RawType:
    """A raw column's type as the warehouse named it (BIGINT) and its family, recorded so
    predict can refuse a column whose family changed since training. A type outside the
    known families is its own family, its lowercased name: a plain str."""

    type: str
    family: TypeFamily | str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "family": str(self.family)}

    @classmethod
    def from_json(cls, d: Mapping[str, str]) -> RawType:
        return cls(type=d["type"], family=_family_named(d["family"]))


def _family_named(name: str) -> TypeFamily | str:
    """The family a name stands for: a `TypeFamily`, or the name itself for a type of its own."""
    try:
        return TypeFamily(name)
    except ValueError:
        return name


#: each raw column's type, by column name
RawTypes = Mapping[str, RawType]


def raw_types_json(types: RawTypes) -> dict[str, dict[str, str]]:
    """model.json's raw_types: {column: {"type": ..., "family": ...}}, in column order."""
    return {column: t.to_json() for column, t in types.items()}


def raw_types_from_json(d: Mapping[str, Mapping[str, str]]) -> dict[str, RawType]:
    return {column: RawType.from_json(t) for column, t in d.items()}


@dataclass(frozen=True)
class Provenance:
    """Where a model came from: the run, the config's hash and the templates' hashes. Recorded
    in model.json; only the template hashes take part in the model id."""

    run_id: str | None = None
    config_hash: str | None = None
    template_hashes: Mapping[str, str] | None = None


@dataclass(frozen=True)
class TrainSample:
    """A model fitted on a sample of the training split ([train] sample_rows): the rows asked
    for and the rows it got, fewer when the split is smaller. Part of the model id."""

    rows: int
    rows_used: int


@dataclass(frozen=True)
class ModelMeta:
    """What a model is: its id, estimator, task, spec and inputs, how it trained, and with
    which libraries and templates."""

    model_id: str
    estimator: str  # the dotted class name
    params: Mapping[str, object]
    task: Task
    spec: Spec
    feature_names: tuple[str, ...]
    label_type: ColumnType
    id_type: ColumnType
    classes: tuple[Label, ...]
    positive_class: Label
    train_metrics: Mapping[str, float | None]
    train_rows: int
    train_fingerprint: str
    libraries: Mapping[str, str]
    python: str
    # provenance: which run, config and templates made the model (absent: not recorded)
    run_id: str | None = None
    config_hash: str | None = None
    template_hashes: Mapping[str, str] | None = None
    #: None: a model saved before raw types were recorded
    raw_types: RawTypes | None = field(default=None)
    #: None: fitted on the whole training split (model.json then has no sample keys)
    sample: TrainSample | None = None

    @property
    def estimator_name(self) -> str:
        """The class name without its module: RandomForestClassifier."""
        return self.estimator.rpartition(".")[2]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "model_id": self.model_id,
            "estimator": self.estimator,
            "params": dict(self.params),
            "task": self.task,
            "spec": self.spec.to_dict(),
            "feature_names": list(self.feature_names),
            "label_type": self.label_type,
            "id_type": self.id_type,
            "classes": list(self.classes),
            "positive_class": self.positive_class,
            "train_metrics": dict(self.train_metrics),
            "train_rows": self.train_rows,
            "train_fingerprint": self.train_fingerprint,
            "libraries": dict(self.libraries),
            "python": self.python,
        }
        optional: dict[str, object] = {
            "run_id": self.run_id,
            "config_hash": self.config_hash,
            "template_hashes": None if self.template_hashes is None else dict(self.template_hashes),
            "raw_types": None if self.raw_types is None else raw_types_json(self.raw_types),
        }
        if self.sample is not None:
            optional["sample_rows"] = self.sample.rows
            optional["sample_rows_used"] = self.sample.rows_used
        out.update({k: v for k, v in optional.items() if v is not None})
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ModelMeta:
        """Raises KeyError, TypeError or ValueError on a model.json this version cannot read."""
        return cls(
            model_id=d["model_id"],
            estimator=d["estimator"],
            params=d["params"],
            task=Task(d["task"]),
            spec=Spec.from_dict(d["spec"]),
            feature_names=tuple(d["feature_names"]),
            label_type=ColumnType(d["label_type"]),
            id_type=ColumnType(d["id_type"]),
            classes=tuple(d["classes"]),
            positive_class=d["positive_class"],
            train_metrics=d["train_metrics"],
            train_rows=d["train_rows"],
            train_fingerprint=d["train_fingerprint"],
            libraries=d["libraries"],
            python=d["python"],
            run_id=d.get("run_id"),
            config_hash=d.get("config_hash"),
            template_hashes=d.get("template_hashes"),
            raw_types=None if d.get("raw_types") is None else raw_types_from_json(d["raw_types"]),
            sample=None
            if d.get("sample_rows") is None
            else TrainSample(d["sample_rows"], d["sample_rows_used"]),
        )
