"""Plain names for raw columns: generated tables and BigQuery need letters, digits and _, and
none of the names the pipeline writes itself (`dataset`, `score`...)."""

from __future__ import annotations

import re

from pipeline.core.identifiers import is_identifier, plain_name
from pipeline.stages.names import DATASET_COLUMN, PREDICTION_KEYS

#: the key column made for a table without an id
AUTO_ID = "row_key"
#: the keyed view's hash of the row's values alone: identical rows share it (the split's `by`)
ROW_HASH = "row_hash"
#: columns the pipeline writes: a raw column of that name is renamed (in the view or by `name`)
WRITTEN = {DATASET_COLUMN, *PREDICTION_KEYS}
#: why a column of consecutive integers is left out
ROW_NUMBERS = "row numbers"


def needs_name(column: str) -> bool:
    """A raw name a generated table cannot carry as it is: not plain, a name the pipeline
    writes (`dataset`, `score`...), or one like the columns it generates (`x__missing`)."""
    return not is_identifier(column) or column.lower() in WRITTEN or "__" in column


def own_name(column: str, taken: set[str]) -> str:
    """`plain_name`, with `dataset` -> `dataset_` and `a__b` -> `a_b`."""
    base = re.sub("_{2,}", "_", column)
    if base.lower() in WRITTEN and f"{base}_".lower() not in {t.lower() for t in taken}:
        taken.add(f"{base}_")
        return f"{base}_"
    return plain_name(base, taken)
