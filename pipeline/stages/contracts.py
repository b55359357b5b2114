"""Data contracts: rules on the raw tables, checked in SQL before a stage writes anything.

Some rules follow from the config alone (ids present and unique, labels that the task allows,
numeric features that hold numbers, finite ones, and not only nulls); `[contract.<column>]`
sections add more (type, not_null, unique, accepted values, min, max). A broken rule stops the
stage with a message naming the table, the column, the rule and a few offending ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.config import Config
from pipeline.core.errors import DataError, PipelineError
from pipeline.core.vocabulary import ContractType, FeatureType, Imputer, Task
from pipeline.features.sql import Source, Spec
from pipeline.stages.project import Project

SAMPLE = 5


@dataclass(frozen=True)
class Rule:
    column: str
    kind: str
    values: tuple[Any, ...] = ()
    limit: float | None = None

    def describe(self) -> str:
        if self.kind == "accepted":
            return f"accepted values {list(self.values)}"
        if self.kind in ("min", "max"):
            return f"{self.kind} {self.limit:g}"
        if self.kind == "distinct_at_most":
            return f"at most {self.limit:g} distinct values"
        if self.kind == "not_null" and self.values:  # why the config needs it, not a contract
            return f"not null, as impute is none and {self.values[0]} cannot take missing values"
        return {
            "not_null": "not null",
            "unique": "unique",
            "numeric": "numeric (holds text)",
            "finite": "finite (holds NaN or infinity)",
            "whole": "whole numbers",
            "not_all_null": "not all null",
        }[self.kind]

    def as_context(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "values": list(self.values),
            "limit": self.limit,
        }


@dataclass
class Violation:
    table: str
    rule: Rule
    rows: int
    sample: str | None
    #: how many values the sample is drawn from when they are not the rows (`unique`: the
    #: duplicated values)
    values: int | None = None

    def message(self, id_column: str) -> str:
        what = "values" if self.rule.kind in ("distinct_at_most",) else f"{id_column}"
        more = (self.rows if self.values is None else self.values) > SAMPLE
        shown = f" ({what} {self.sample}{', ...' if more else ''})" if self.sample else ""
        unit = "distinct values" if self.rule.kind == "distinct_at_most" else "rows"
        unit = unit[:-1] if self.rows == 1 else unit
        return (
            f"table {self.table}, column {self.rule.column}: rule '{self.rule.describe()}' "
            f"broken by {self.rows} {unit}{shown}"
        )


@dataclass
class ContractReport:
    checked: dict[str, int] = field(default_factory=dict)  # table -> rules checked
    violations: list[Violation] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "rules": self.checked,
            "violations": [
                {
                    "table": v.table,
                    "column": v.rule.column,
                    "rule": v.rule.describe(),
                    "rows": v.rows,
                    "sample": v.sample,
                }
                for v in self.violations
            ],
        }


def implied_rules(config: Config, spec: Spec, source: Source, present: set[str]) -> list[Rule]:
    """What the config promises of a raw table, whether or not a contract says it."""
    rules = [Rule(spec.id, "not_null"), Rule(spec.id, "unique")]
    if source.labelled:
        rules.append(Rule(spec.label, "not_null"))
        if config.task == Task.binary:
            rules.append(Rule(spec.label, "distinct_at_most", limit=2))
        elif config.task == Task.regression:
            rules += [Rule(spec.label, "numeric"), Rule(spec.label, "finite")]
    no_nan = _estimator_refusing_nan(config)
    for f in spec.features:
        raw = f.source or f.column  # the raw table's name for it
        if raw not in present:
            continue
        if f.type == FeatureType.numeric:
            rules += [Rule(raw, "numeric"), Rule(raw, "finite")]
            if f.impute == Imputer.none and no_nan:  # a null stays NaN in the features
                rules.append(Rule(raw, "not_null", values=(no_nan,)))
        if source.labelled and f.impute in (Imputer.median, Imputer.mean, Imputer.mode):
            rules.append(Rule(raw, "not_all_null"))
    return rules


def _estimator_refusing_nan(config: Config) -> str | None:
    """The estimator's class name if it cannot fit or predict on NaN (scikit-learn's
    input_tags.allow_nan), so a numeric feature left unimputed must hold no nulls; None when it
    can, or when the estimator is not known yet (train names a bad one)."""
    from pipeline.stages.estimator import make_estimator

    try:
        estimator = make_estimator(
            config.model.estimator, config.model.params, config.model.packages
        )
        allow_nan = estimator.__sklearn_tags__().input_tags.allow_nan
    except (PipelineError, AttributeError):
        return None
    return None if allow_nan else config.model.estimator.rpartition(".")[2]


def declared_rules(config: Config, present: set[str]) -> list[Rule]:
    """The [contract.<column>] rules, for the columns this table has."""
    rules: list[Rule] = []
    for column, c in config.contract.items():
        if column not in present:
            continue
        if c.get("not_null"):
            rules.append(Rule(column, "not_null"))
        if c.get("unique"):
            rules.append(Rule(column, "unique"))
        if c.get("type") in (ContractType.int, ContractType.float):
            rules += [Rule(column, "numeric"), Rule(column, "finite")]
        if c.get("type") == ContractType.int:
            rules.append(Rule(column, "whole"))
        if "accepted" in c:
            rules.append(Rule(column, "accepted", values=tuple(c["accepted"])))
        for bound in ("min", "max"):
            if bound in c:
                rules.append(Rule(column, bound, limit=float(c[bound])))
    return rules


def check_table(project: Project, table: str, id_column: str, rules: list[Rule]) -> list[Violation]:
    """Run the rules on one table in one query; fetch a sample only for the broken ones."""
    if not rules:
        return []
    unique = list(dict.fromkeys(rules))
    t, wh = project.templates, project.warehouse
    context = [r.as_context() for r in unique]
    sql = t.render("contracts/check.sql", table=table, id=id_column, rules=context).sql
    counts = wh.query_arrow(sql).to_pylist()[0]
    violations = []
    for i, rule in enumerate(unique):
        n = int(counts[f"rule_{i}"] or 0)
        if n:
            sample_sql = t.render(
                "contracts/sample.sql", table=table, id=id_column, rule=context[i], n=SAMPLE
            ).sql
            sample = wh.query_arrow(sample_sql).to_pylist()[0]["sample"]
            values = counts.get(f"values_{i}")
            violations.append(
                Violation(table, rule, n, sample, None if values is None else int(values))
            )
    return violations


def enforce(project: Project, spec: Spec, sources: list[Source]) -> ContractReport:
    """Check every source; raise DataError naming every broken rule, before any write."""
    report = ContractReport()
    for source in sources:
        present = {c for c, _ in project.warehouse.describe(source.table)}
        rules = implied_rules(project.config, spec, source, present)
        rules += declared_rules(project.config, present)
        report.checked[source.table] = len(set(rules))
        report.violations += check_table(project, source.table, spec.id, rules)
    if report.violations:
        lines = [v.message(spec.id) for v in report.violations]
        raise DataError("data contract broken:\n  " + "\n  ".join(lines))
    return report
