"""The floors' SQL, written by hand for the example config (Titanic-like columns, the features
and contracts of pipeline.toml): the fewest DuckDB statements that write the same tables as
the preprocess stage, and the evaluate stage's headline metrics. `wh` is the project's
warehouse attached read-only; the floor writes into schema `fl` of a file of its own.

The statistics keep the pipeline's definition (exact limb sums of the values scaled to
[-1, 1], medians as the mean of the two middle values, modes with ties to the smaller value),
since they are what the table holds; they are computed in one wide pass per kind instead of
the pipeline's long (feature, value) rows."""

from __future__ import annotations

NUMERIC = ["Pclass", "Age", "SibSp", "Parch", "Fare"]
CATEGORICAL = {"Sex": ["female", "male"], "Embarked": ["C", "Q", "S"]}
LIMB = 2097152  # 2**21, as fit_stats.sql
LIMBS = 4


def q(name: str) -> str:
    return f'"{name}"'


CONTRACTS = """
WITH a AS (
    SELECT count(*) AS n,
        count(*) FILTER ("PassengerId" IS NULL) AS id_null,
        count("PassengerId") - count(DISTINCT "PassengerId") AS id_repeated,
        count(*) FILTER ("Survived" IS NULL OR "Survived" NOT IN (0, 1)) AS label_bad,
        count(DISTINCT "Survived") > 2 AS label_classes,
        count(*) FILTER ("Pclass" NOT IN (1, 2, 3)) AS pclass_bad,
        count(*) FILTER ("Sex" NOT IN ('male', 'female')) AS sex_bad,
        count(*) FILTER (NOT isfinite("Age") OR "Age" < 0 OR "Age" > 120) AS age_bad,
        count(*) FILTER (NOT isfinite("Fare") OR "Fare" < 0) AS fare_bad,
        count("Pclass") = 0 OR count("Sex") = 0 OR count("Age") = 0 OR count("SibSp") = 0
            OR count("Parch") = 0 OR count("Fare") = 0 OR count("Embarked") = 0 AS all_null
    FROM wh.raw.titanic_train
), b AS (
    SELECT count(*) AS n_test,
        count(*) FILTER ("PassengerId" IS NULL) AS id_null_test,
        count("PassengerId") - count(DISTINCT "PassengerId") AS id_repeated_test,
        count(*) FILTER ("Pclass" NOT IN (1, 2, 3)) AS pclass_bad_test,
        count(*) FILTER ("Sex" NOT IN ('male', 'female')) AS sex_bad_test,
        count(*) FILTER (NOT isfinite("Age") OR "Age" < 0 OR "Age" > 120) AS age_bad_test,
        count(*) FILTER (NOT isfinite("Fare") OR "Fare" < 0) AS fare_bad_test
    FROM wh.raw.titanic_test
)
SELECT * FROM a CROSS JOIN b
"""

_CLEAN_COLUMNS = """
    "PassengerId", {label},
    CAST("Pclass" AS DOUBLE) AS "Pclass", NULLIF(TRIM("Sex"), '') AS "Sex",
    CAST("Age" AS DOUBLE) AS "Age", CAST("SibSp" AS DOUBLE) AS "SibSp",
    CAST("Parch" AS DOUBLE) AS "Parch", CAST("Fare" AS DOUBLE) AS "Fare",
    NULLIF(TRIM("Embarked"), '') AS "Embarked","""

CLEAN = f"""
CREATE OR REPLACE TABLE fl.clean AS
SELECT {_CLEAN_COLUMNS.format(label='"Survived"')}
    CASE WHEN CAST(('0x' || substr(md5('titanic-v1' || CAST("PassengerId" AS VARCHAR)), 1, 8))
                   AS BIGINT) / 4294967296.0 < 0.2 THEN 'holdout' ELSE 'train' END AS dataset
FROM wh.raw.titanic_train
UNION ALL
SELECT {_CLEAN_COLUMNS.format(label='NULL AS "Survived"')} 'test' AS dataset
FROM wh.raw.titanic_test
"""


def stats_sql() -> str:
    """One statement: a wide pass for counts, ranges and medians, a second for the limb sums,
    one GROUP BY per feature for the modes and category counts; then the long rows."""
    agg = ", ".join(
        f"count({q(f)}) AS n_{f}, min({q(f)}) AS lo_{f}, max({q(f)}) AS hi_{f}, "
        f"quantile_disc({q(f)}, 0.5) AS lm_{f}, -quantile_disc(-{q(f)}, 0.5) AS um_{f}"
        for f in NUMERIC
    )
    agg += "".join(f", count({q(c)}) AS n_{c}" for c in CATEGORICAL)
    frame = ", ".join(
        f"lo_{f} / 2 + hi_{f} / 2 AS c_{f}, hi_{f} / 2 - lo_{f} / 2 AS h_{f}" for f in NUMERIC
    )
    y = ", ".join(
        f"CASE WHEN t.{q(f)} IS NULL THEN NULL WHEN h_{f} = 0 THEN 0 "
        f"ELSE (t.{q(f)} - c_{f}) / h_{f} END AS y_{f}"
        for f in NUMERIC
    )
    levels = [
        "l0 AS (SELECT "
        + ", ".join(
            f"CASE WHEN y_{f} < 0 THEN -1 ELSE 1 END AS s_{f}, abs(y_{f}) * {LIMB} AS v_{f}, "
            f"(y_{f} * y_{f}) * {LIMB} AS w_{f}"
            for f in NUMERIC
        )
        + " FROM y)"
    ]
    kept: list[str] = [f"s_{f}" for f in NUMERIC]
    for k in range(1, LIMBS + 1):
        cols = ", ".join(
            f"CAST(floor(v_{f}) AS BIGINT) AS a{k}_{f}, CAST(floor(w_{f}) AS BIGINT) AS b{k}_{f}, "
            f"(v_{f} - floor(v_{f})) * {LIMB} AS v_{f}, (w_{f} - floor(w_{f})) * {LIMB} AS w_{f}"
            for f in NUMERIC
        )
        levels.append(f"l{k} AS (SELECT {', '.join(kept)}, {cols} FROM l{k - 1})")
        kept += [f"a{k}_{f}" for f in NUMERIC] + [f"b{k}_{f}" for f in NUMERIC]
    sums = ", ".join(
        f"sum(s_{f} * a{k}_{f}) AS sy{k}_{f}, sum(b{k}_{f}) AS syy{k}_{f}"
        for f in NUMERIC
        for k in range(1, LIMBS + 1)
    )
    modes = ", ".join(
        f"(SELECT {q(f)} FROM train WHERE {q(f)} IS NOT NULL GROUP BY {q(f)} "
        f"ORDER BY count(*) DESC, {q(f)} LIMIT 1) AS mode_{f}"
        for f in NUMERIC
    )
    cats = " UNION ALL ".join(
        f"SELECT '{c}' AS feature, {q(c)} AS category, count(*) AS n FROM train "
        f"WHERE {q(c)} IS NOT NULL GROUP BY {q(c)}"
        for c in CATEGORICAL
    )
    rows = []
    for f in NUMERIC:
        pairs = [("rows", "n"), ("nulls", f"n - n_{f}"), ("min", f"lo_{f}"), ("max", f"hi_{f}")]
        pairs += [("center", f"c_{f}"), ("half", f"h_{f}")]
        for k in range(1, LIMBS + 1):
            pairs += [(f"sum_y_{k}", f"sy{k}_{f}"), (f"sum_yy_{k}", f"syy{k}_{f}")]
        pairs += [("mode", f"mode_{f}"), ("median", f"lm_{f} / 2 + um_{f} / 2")]
        rows += [f"('{f}', '{stat}', NULL, CAST({v} AS DOUBLE))" for stat, v in pairs]
    for c in CATEGORICAL:
        rows += [
            f"('{c}', 'rows', NULL, CAST(n AS DOUBLE))",
            f"('{c}', 'nulls', NULL, CAST(n - n_{c} AS DOUBLE))",
        ]
    return f"""
CREATE OR REPLACE TABLE fl.feature_stats AS
WITH train AS (SELECT * FROM fl.clean WHERE dataset = 'train'),
frame AS (SELECT *, {frame} FROM (SELECT count(*) AS n, {agg} FROM train)),
y AS (SELECT {y} FROM train AS t CROSS JOIN frame),
{", ".join(levels)},
one AS (SELECT * FROM frame CROSS JOIN (SELECT {sums} FROM l{LIMBS}) CROSS JOIN (SELECT {modes})),
cat_counts AS ({cats})
SELECT 'floor' AS run_id, v.* FROM one,
    (VALUES {", ".join(rows)}) AS v(feature, stat, category, value)
UNION ALL
SELECT 'floor', feature, 'count', category, CAST(n AS DOUBLE) FROM cat_counts
UNION ALL
SELECT 'floor', feature, 'mode', category, CAST(n AS DOUBLE) FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY feature ORDER BY n DESC, category) AS r
    FROM cat_counts) WHERE r = 1
"""


def _stat(feature: str, stat: str, column: str = "value") -> str:
    return (
        f"(SELECT {column} FROM fl.feature_stats WHERE feature = '{feature}' AND stat = '{stat}')"
    )


def features_sql(dataset: str) -> str:
    cols = ['"PassengerId"'] + ([] if dataset == "test" else ['"Survived"'])
    for f in ["Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]:
        if f in CATEGORICAL:
            value = f"COALESCE({q(f)}, {_stat(f, 'mode', 'category')})"
            kept = CATEGORICAL[f]
            cols += [f"CAST({value} = '{k}' AS DOUBLE) AS {q(f + '__' + k)}" for k in kept]
            listed = ", ".join(f"'{k}'" for k in kept)
            cols.append(
                f"CAST({value} IS NULL OR {value} NOT IN ({listed}) AS DOUBLE) "
                f"AS {q(f + '__unknown')}"
            )
            continue
        if f == "Age":
            cols.append('CAST("Age" IS NULL AS DOUBLE) AS "Age__missing"')
        cols.append(f"COALESCE({q(f)}, {_stat(f, 'median')}) AS {q(f)}")
    return (
        f"CREATE OR REPLACE TABLE fl.features_{dataset} AS SELECT {', '.join(cols)}, dataset "
        f"FROM fl.clean WHERE dataset = '{dataset}'"
    )


def preprocess_script() -> list[str]:
    """The statements after the contracts, in order."""
    return [CLEAN, stats_sql()] + [features_sql(d) for d in ("train", "holdout", "test")]


def metrics_sql(model_id: str) -> str:
    """The holdout's headline metrics overall and per slice (Pclass, Sex), in one statement:
    rows, accuracy, precision, recall, f1, roc_auc (rank sum, ties averaged), log_loss."""
    return f"""
WITH s AS (
    SELECT p.score, p.prediction, l."Survived" AS y, CAST(l."Pclass" AS VARCHAR) AS pclass,
           l."Sex" AS sex
    FROM wh.pipeline.predictions AS p JOIN wh.raw.titanic_train AS l USING ("PassengerId")
    WHERE p.dataset = 'holdout' AND p.model_id = '{model_id}'
), long AS (
    SELECT 'all' AS slice, 'all' AS segment, score, prediction, y FROM s
    UNION ALL SELECT 'Pclass', pclass, score, prediction, y FROM s
    UNION ALL SELECT 'Sex', sex, score, prediction, y FROM s
), ranked AS (
    SELECT *, rank() OVER w + (count(*) OVER (PARTITION BY slice, segment, score) - 1) / 2.0
              AS r
    FROM long WINDOW w AS (PARTITION BY slice, segment ORDER BY score)
), m AS (
    SELECT slice, segment, count(*) AS n, avg(CAST(prediction = y AS DOUBLE)) AS accuracy,
        count(*) FILTER (prediction = 1 AND y = 1) AS tp,
        count(*) FILTER (prediction = 1) AS pp, count(*) FILTER (y = 1) AS n1,
        sum(r) FILTER (y = 1) AS rank_sum,
        -avg(CASE WHEN y = 1 THEN ln(greatest(score, 1e-15))
                  ELSE ln(greatest(1 - score, 1e-15)) END) AS log_loss
    FROM ranked GROUP BY slice, segment
)
SELECT slice, segment, n AS rows, accuracy, tp / nullif(pp, 0) AS precision,
       tp / nullif(n1, 0) AS recall, 2.0 * tp / nullif(pp + n1, 0) AS f1,
       (rank_sum - n1 * (n1 + 1) / 2.0) / nullif(n1 * (n - n1), 0) AS roc_auc, log_loss
FROM m ORDER BY slice, segment
"""
