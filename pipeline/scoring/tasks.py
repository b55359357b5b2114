"""One scoring task: a batch of feature rows in, one gzip-compressed JSON Lines part out.

A task is `score_part(batch, part, job)`: it needs nothing from the process it runs in but the
model directory named in `job`, so a process pool, a thread pool, the calling thread or a Dask
client's executor can all run it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.core.errors import ScoringError
from pipeline.scoring.parts import compress_part, part_path
from pipeline.scoring.workers import model_for

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class PartJob:
    """Everything a task needs besides its batch."""

    run_id: str
    model_id: str
    model_dir: str
    id_column: str
    out_dir: str
    scored_by: str = ""  # the predictions table's `scored_by` value
    #: return the part's bytes instead of writing it: for workers that do not share this disk
    ship: bool = False


def score_part(batch: pa.RecordBatch, part: int, job: PartJob) -> tuple[str | bytes, int]:
    """Score one batch into one compressed JSON Lines part; returns (path, rows), or (the
    part's compressed bytes, rows) when the job ships results back to the parent."""
    import pyarrow as pa

    from pipeline.model.trained import column, feature_matrix
    from pipeline.scoring.jsonl import encode_jsonl

    model = model_for(job.model_dir)
    X = feature_matrix(batch, model.feature_names)  # X: (n_rows, n_features)
    labels, score = model.predict_arrays(X)  # (n_rows,), (n_rows,) or None
    n = batch.num_rows
    columns = {
        job.id_column: column(batch, job.id_column),
        "dataset": column(batch, "dataset"),
        "prediction": labels,
        "score": score if score is not None else pa.nulls(n, pa.float64()),
    }
    constants = {"run_id": job.run_id, "model_id": job.model_id, "scored_by": job.scored_by}
    text, _ = encode_jsonl(columns, constants)
    data = compress_part(text)  # compressed where it was scored: fewer bytes shipped too
    if job.ship:
        return data, n
    return write_part(job.out_dir, part, data), n


def write_part(out_dir: str, part: int, data: bytes | memoryview) -> str:
    """Write one part (compressed bytes); a full disk (or any OS refusal) is a ScoringError
    naming the file."""
    path = part_path(out_dir, part)
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise ScoringError(
            f"cannot write the scoring part {path}: {os_reason(exc)}; nothing of the run was "
            "written to the predictions table"
        ) from exc
    return path


def os_reason(exc: OSError) -> str:
    """The OS's reason, as a message fragment ("no space left on device")."""
    return (exc.strerror or str(exc)).lower()
