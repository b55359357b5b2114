"""A vectorized JSON Lines writer on Arrow compute kernels.

Why not DuckDB's COPY ... (FORMAT JSON)? Scoring workers are forked from a process that may hold
an open DuckDB database; a worker that never calls into DuckDB cannot wait on a lock copied mid-
use. Arrow's kernels are as fast as DuckDB's writer on the same rows, and its float-to-string
cast gives the shortest representation that round-trips, so a double read back from the file
is bit-for-bit the double the model produced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _json_values(column: pa.Array) -> pa.Array:
    """Each value as the text of a JSON value; nulls (and float NaN) as null."""
    t = column.type
    if pa.types.is_floating(t):
        column = pc.cast(column, pa.float64())
        if pc.any(pc.is_inf(column)).as_py():
            raise ValueError("JSON has no infinity: a non-finite value cannot be written")
        column = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
        text = pc.cast(column, pa.string())
    elif pa.types.is_integer(t):
        text = pc.cast(column, pa.string())
    elif pa.types.is_boolean(t):
        text = pc.if_else(column, "true", "false")
    else:
        # strings: escape each distinct value once with json.dumps, then gather
        encoded = pc.cast(column, pa.string()).dictionary_encode()
        quoted = pa.array([json.dumps(v) for v in encoded.dictionary.to_pylist()], pa.string())
        text = pc.take(quoted, encoded.indices)
    # large_string: 64-bit offsets, so a part file may pass 2 GiB
    return pc.cast(pc.fill_null(text, "null"), pa.large_string())


def encode_jsonl(
    columns: Mapping[str, Any], constants: Mapping[str, Any]
) -> tuple[memoryview, int]:
    """One JSON object per row: `constants` (same for every row) first, then `columns` (Arrow
    or numpy arrays of equal length). Returns a view of the text (no copy) and the row count."""
    arrays = {
        k: v if isinstance(v, pa.Array | pa.ChunkedArray) else pa.array(v)
        for k, v in columns.items()
    }
    n = len(next(iter(arrays.values()))) if arrays else 0
    if not n:
        return memoryview(b""), 0
    pieces: list[Any] = []
    prefix = "{" + "".join(f"{json.dumps(k)}:{json.dumps(v)}," for k, v in constants.items())
    for i, (name, array) in enumerate(arrays.items()):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        pieces.append(
            pa.scalar((prefix if i == 0 else ",") + json.dumps(name) + ":", pa.large_string())
        )
        pieces.append(_json_values(array))
    pieces.append(pa.scalar("}\n", pa.large_string()))
    separator = pa.scalar("", pa.large_string())
    lines = pc.binary_join_element_wise(*pieces, separator)  # (n_rows,) strings
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    start, stop = offsets[lines.offset], offsets[lines.offset + n]
    return memoryview(lines.buffers()[2])[start:stop], n
